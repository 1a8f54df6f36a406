//! A command's output streams, each read on its own thread until it closes or the
//! step's bound says stop.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use super::{pipe, Captured, KEEP_BYTES};

/// Reads one output stream on its own thread until it closes, or until told to stop.
#[derive(Debug)]
pub(super) struct Reader {
    done: std::sync::mpsc::Receiver<Captured>,
    /// Dropping it wakes the thread, which then drains what is there and returns.
    stop: OwnedFd,
}

impl Reader {
    pub(super) fn start(fd: OwnedFd) -> io::Result<Reader> {
        let (stop_r, stop_w) = pipe()?;
        let (tx, done) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("netspec-output".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = tx.send(read_stream(fd, &stop_r));
            })?;
        Ok(Reader { done, stop: stop_w })
    }

    /// What was read by `until`; a stream still open then is marked held open.
    pub(super) fn collect(self, until: Instant) -> Captured {
        let left = until.saturating_duration_since(Instant::now());
        if let Ok(c) = self.done.recv_timeout(left) {
            return c;
        }
        drop(self.stop);
        self.done.recv().unwrap_or_default()
    }
}

fn read_stream(fd: OwnedFd, stop: &OwnedFd) -> Captured {
    let mut out = Captured::default();
    let raw = fd.as_raw_fd();
    let mut f = std::fs::File::from(fd);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut pfds = [
            libc::pollfd {
                fd: raw,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), 2, -1) };
        if r < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        // Told to stop while a writer still holds the stream (no hang-up yet).
        if pfds[1].revents != 0 && pfds[0].revents & libc::POLLHUP == 0 {
            out.held_open = true;
            break;
        }
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = KEEP_BYTES.saturating_sub(out.bytes.len());
                out.bytes.extend_from_slice(&buf[..n.min(room)]);
                out.total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}
