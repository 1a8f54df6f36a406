//! `capture:`: the frames of a whole run at the interfaces a scenario names, recorded
//! from before the first step to after the last, and written as pcapng into the report
//! folder. A scenario without `capture:` opens no socket for it.

use std::io;
use std::path::{Path, PathBuf};

use crate::observe;
use crate::pcapng;
use crate::probe::capture::{self, Frame, Tap};
use crate::report;
use crate::sandbox::Sandbox;
use crate::scenario::{IfRef, Scenario};

/// Room for a step's frames between two reads: 8 MiB per interface.
const BUFFER: i32 = 8 << 20;

pub(crate) struct Recording {
    interfaces: Vec<IfRef>,
    taps: Vec<Tap>,
    frames: Vec<Frame>,
}

impl Recording {
    /// Opens the taps, when the scenario asks for a capture.
    pub(crate) fn start(sb: &Sandbox, sc: &Scenario) -> io::Result<Option<Recording>> {
        if sc.capture.is_empty() {
            return Ok(None);
        }
        let taps = observe::open_with_buffer(sb, sc.capture.clone(), Some(BUFFER))?;
        Ok(Some(Recording {
            interfaces: sc.capture.clone(),
            taps,
            frames: Vec::new(),
        }))
    }

    /// Reads what the taps hold (after each step).
    pub(crate) fn collect(&mut self) -> io::Result<()> {
        capture::read_now(&self.taps, &mut self.frames)
    }

    /// Reads the rest, closes the taps and writes `capture.pcapng`; its path.
    pub(crate) fn finish(
        mut self,
        reports: Option<&Path>,
        scenario: &str,
    ) -> io::Result<Option<PathBuf>> {
        let read = self.collect();
        capture::close(std::mem::take(&mut self.taps));
        read?;
        let Some(dir) = reports else {
            return Ok(None);
        };
        self.frames.sort_by_key(|f| f.when);
        let bytes = pcapng::write(scenario, &self.interfaces, &self.frames);
        report::write_file(dir, scenario, "capture.pcapng", &bytes).map(Some)
    }
}
