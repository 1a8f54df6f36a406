//! `netspec run --pause-on-failure`: at a failing step, before anything is torn down,
//! the namespaces are pinned (under reap's names, so a run killed while paused leaves
//! nothing that `netspec reap` cannot remove), the way in is printed, and the run waits
//! for Enter, the end of its input, or SIGINT/SIGTERM/SIGHUP; then it unpins them and
//! tears down as always.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use crate::keep;
use crate::sandbox::Sandbox;

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Pins, prints the way in, waits, unpins. What went wrong, if anything, as notes.
pub(crate) fn pause(sb: &Sandbox, failed: &str) -> Vec<String> {
    let pins = match keep::pin_prefixed(sb, &keep::run_prefix()) {
        Ok(p) => p,
        Err(e) => {
            return vec![format!(
                "--pause-on-failure: the namespaces could not be pinned: {e}"
            )]
        }
    };
    crate::say::line(&format!("paused at: {failed}"));
    crate::say::line("enter a node with one of:");
    for (node, name) in &pins {
        crate::say::line(&format!(
            "  netspec shell {name}    # node {node} (or: ip netns exec {name} bash)"
        ));
    }
    crate::say::line("press Enter (or Ctrl-C) to tear it down and go on");
    wait();
    let paths: Vec<_> = pins
        .iter()
        .map(|(_, name)| std::path::Path::new("/run/netns").join(name))
        .collect();
    match keep::unpin_all(&paths) {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!(
            "--pause-on-failure: a pin could not be removed: {e} (`netspec reap` removes it)"
        )],
    }
}

/// Until a line or the end of stdin, or one of `SIGNALS`, whose handlers are ours only
/// meanwhile.
fn wait() {
    SIGNALLED.store(false, Ordering::SeqCst);
    let ours = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    let old: Vec<_> = SIGNALS
        .iter()
        .map(|s| unsafe { sigaction(*s, &ours) }.ok())
        .collect();
    loop {
        if SIGNALLED.load(Ordering::SeqCst) {
            break;
        }
        let mut pfd = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 200) };
        if r > 0 {
            // A line, or the end of the input (no one to wait for): go on either way.
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            break;
        }
        if r < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    for (s, o) in SIGNALS.iter().zip(old) {
        if let Some(o) = o {
            // SAFETY: restores the disposition that was there before.
            unsafe {
                let _ = sigaction(*s, &o);
            }
        }
    }
}
