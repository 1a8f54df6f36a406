//! Taps read continuously, on a thread of their own, for observations that span steps
//! (`watch:` and `capture:`). A socket read only between steps holds what its buffer
//! holds and drops the rest; read as the frames come, it keeps up with any rate the
//! machine can deliver, and whatever it still drops is counted (PACKET_STATISTICS) and
//! reported, never silently left out.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::capture::{self, Frame, Tap};
use crate::scenario::IfRef;

/// What takes the frames as they are read.
pub(crate) trait Sink: Send + 'static {
    fn frame(&mut self, f: Frame);
}

struct Inner<S> {
    taps: Vec<Tap>,
    sink: S,
    /// Frames each tap's kernel buffer dropped, in the order of `taps`.
    lost: Vec<u64>,
    error: Option<io::Error>,
}

impl<S: Sink> Inner<S> {
    /// Reads what every tap holds now into the sink, and counts their losses.
    fn read(&mut self) {
        let mut frames = Vec::new();
        for (t, lost) in self.taps.iter().zip(self.lost.iter_mut()) {
            let r = capture::read_all(t, &mut frames).and_then(|()| t.lost());
            match r {
                Ok(n) => *lost += n,
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        }
        frames.sort_by_key(|f| f.when);
        for f in frames {
            self.sink.frame(f);
        }
    }

    fn losses(&self) -> Vec<(IfRef, u64)> {
        self.taps
            .iter()
            .zip(&self.lost)
            .map(|(t, n)| (t.at().clone(), *n))
            .collect()
    }
}

/// Taps and their sink, read by a thread until `finish`.
pub(crate) struct Stream<S> {
    inner: Arc<Mutex<Inner<S>>>,
    /// Dropping it wakes the thread, which then ends.
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Sink> Stream<S> {
    pub(crate) fn start(taps: Vec<Tap>, sink: S) -> io::Result<Stream<S>> {
        let lost = vec![0; taps.len()];
        let fds: Vec<libc::c_int> = taps.iter().map(Tap::raw_fd).collect();
        let inner = Arc::new(Mutex::new(Inner {
            taps,
            sink,
            lost,
            error: None,
        }));
        let (stop_r, stop_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let shared = inner.clone();
        let thread = std::thread::Builder::new()
            .name("netspec-stream".into())
            .spawn(move || read_loop(&shared, &fds, &stop_r))?;
        Ok(Stream {
            inner,
            stop: Some(stop_w),
            thread: Some(thread),
        })
    }

    /// Reads what the kernel has queued by now, then lends the sink, with each tap's
    /// losses so far, to `f`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut S, &[(IfRef, u64)]) -> R) -> io::Result<R> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.read();
        if let Some(e) = inner.error.take() {
            return Err(e);
        }
        let losses = inner.losses();
        Ok(f(&mut inner.sink, &losses))
    }

    /// Stops the thread, reads the rest and closes the taps, then lends the sink and
    /// the losses to `f`, as `with` does.
    pub(crate) fn finish<R>(
        mut self,
        f: impl FnOnce(&mut S, &[(IfRef, u64)]) -> R,
    ) -> io::Result<R> {
        self.stop_thread();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.read();
        capture::close(std::mem::take(&mut inner.taps));
        if let Some(e) = inner.error.take() {
            return Err(e);
        }
        let losses: Vec<(IfRef, u64)> = inner.losses();
        Ok(f(&mut inner.sink, &losses))
    }

    fn stop_thread(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<S> Drop for Stream<S> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Ok(mut inner) = self.inner.lock() {
            capture::close(std::mem::take(&mut inner.taps));
        }
    }
}

/// The thread: waits until a tap is readable (or it is told to stop), then reads them
/// all under the lock, so that `with` sees every frame read before it.
fn read_loop<S: Sink>(inner: &Mutex<Inner<S>>, fds: &[libc::c_int], stop: &OwnedFd) {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .chain(std::iter::once(&stop.as_raw_fd()))
        .map(|fd| libc::pollfd {
            fd: *fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: pfds is a live array of pollfd of its length.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if pfds.last().is_some_and(|p| p.revents != 0) {
            return;
        }
        inner.lock().unwrap_or_else(|e| e.into_inner()).read();
    }
}
