//! `capture:`: the frames of a whole run at the interfaces a scenario names, recorded
//! from before the first step to after the last, and written as pcapng into the report
//! folder. A scenario without `capture:` opens no socket for it.
//!
//! The taps are read continuously (see `probe::stream`), and what they keep is bounded:
//! past `MAX_BYTES` of frames, the rest are counted, not kept. Frames the kernel dropped
//! and frames past the bound are both written into the file (each interface's
//! statistics block) and said in the run's report: a capture never looks whole when it
//! is not.

use std::io;
use std::path::{Path, PathBuf};

use crate::observe;
use crate::pcapng::{self, Losses};
use crate::probe::capture::Frame;
use crate::probe::stream::{Sink, Stream};
use crate::report;
use crate::sandbox::Sandbox;
use crate::scenario::{IfRef, Scenario};

/// Room for frames that come faster than the thread reads them: 8 MiB per interface.
const BUFFER: i32 = 8 << 20;
/// The most frame bytes a capture keeps, which bounds both memory and the file.
pub(crate) const MAX_BYTES: usize = 64 << 20;

struct Frames {
    interfaces: Vec<IfRef>,
    kept: Vec<Frame>,
    bytes: usize,
    /// Per interface, frames past `MAX_BYTES`, read but not kept.
    not_kept: Vec<u64>,
}

impl Sink for Frames {
    fn frame(&mut self, f: Frame) {
        if self.bytes + f.bytes.len() > MAX_BYTES {
            if let Some(i) = self.interfaces.iter().position(|r| *r == f.at) {
                self.not_kept[i] += 1;
            }
            return;
        }
        self.bytes += f.bytes.len();
        self.kept.push(f);
    }
}

pub(crate) struct Recording {
    stream: Stream<Frames>,
}

/// A written capture: its path, and what it lacks, if anything.
pub(crate) struct Written {
    pub path: Option<PathBuf>,
    pub incomplete: Option<String>,
}

impl Recording {
    /// Opens the taps, when the scenario asks for a capture.
    pub(crate) fn start(sb: &Sandbox, sc: &Scenario) -> io::Result<Option<Recording>> {
        if sc.capture.is_empty() {
            return Ok(None);
        }
        let taps = observe::open_with_buffer(sb, sc.capture.clone(), Some(BUFFER))?;
        let frames = Frames {
            interfaces: sc.capture.clone(),
            kept: Vec::new(),
            bytes: 0,
            not_kept: vec![0; sc.capture.len()],
        };
        Ok(Some(Recording {
            stream: Stream::start(taps, frames)?,
        }))
    }

    /// Reads the rest, closes the taps and writes `capture.pcapng`.
    pub(crate) fn finish(self, reports: Option<&Path>, scenario: &str) -> io::Result<Written> {
        let (bytes, incomplete) = self.stream.finish(|f, dropped| {
            let losses: Vec<Losses> = f
                .interfaces
                .iter()
                .zip(&f.not_kept)
                .map(|(at, not_kept)| Losses {
                    dropped: dropped.iter().find(|(r, _)| r == at).map_or(0, |(_, n)| *n),
                    not_kept: *not_kept,
                })
                .collect();
            f.kept.sort_by_key(|x| x.when);
            let bytes = pcapng::write(scenario, &f.interfaces, &f.kept, &losses);
            (bytes, describe(&f.interfaces, &losses))
        })?;
        let path = match reports {
            Some(dir) => Some(report::write_file(dir, scenario, "capture.pcapng", &bytes)?),
            None => None,
        };
        Ok(Written { path, incomplete })
    }
}

/// "the kernel dropped 12 frames at a:eth0; 40 frames at a:eth0 were past the 64 MiB
/// bound", or None for a whole capture.
fn describe(interfaces: &[IfRef], losses: &[Losses]) -> Option<String> {
    let mut parts = Vec::new();
    for (at, l) in interfaces.iter().zip(losses) {
        if l.dropped > 0 {
            parts.push(format!(
                "the kernel dropped {} frames at {at} before they were read",
                l.dropped
            ));
        }
        if l.not_kept > 0 {
            parts.push(format!(
                "{} frames at {at} came after the capture reached its bound of {} MiB and were not kept",
                l.not_kept,
                MAX_BYTES >> 20
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_keeps_at_most_its_bound_and_counts_the_rest() {
        let at = IfRef {
            node: "a".into(),
            ifname: "eth0".into(),
        };
        let mut f = Frames {
            interfaces: vec![at.clone()],
            kept: Vec::new(),
            bytes: 0,
            not_kept: vec![0],
        };
        let frame = |n: usize| Frame {
            at: at.clone(),
            when: std::time::Duration::ZERO,
            outgoing: false,
            bytes: vec![0; n],
        };
        f.frame(frame(MAX_BYTES - 10));
        f.frame(frame(64));
        f.frame(frame(10));
        assert_eq!(f.kept.len(), 2);
        assert_eq!(f.not_kept, [1]);
        let losses = [Losses {
            dropped: 3,
            not_kept: 1,
        }];
        let note = describe(&f.interfaces, &losses).unwrap();
        assert!(
            note.contains("the kernel dropped 3 frames at a:eth0"),
            "{note}"
        );
        assert!(
            note.contains("1 frames at a:eth0 came after the capture reached its bound of 64 MiB"),
            "{note}"
        );
        assert_eq!(describe(&f.interfaces, &[Losses::default()]), None);
    }
}
