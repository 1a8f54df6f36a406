//! Anonymous network namespaces held by an fd.
//!
//! A namespace is created by `unshare(CLONE_NEWNET)` on a short-lived thread of our own
//! and kept alive only by the fd we open from `/proc/thread-self/ns/net` (and by the
//! sockets created inside it). Nothing is mounted or pinned, so when the process dies,
//! however it dies, the kernel frees the namespace: nothing can leak.
//!
//! `setns` only ever happens on threads spawned here, never on a tokio or libtest
//! thread, because those are reused.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::thread::JoinHandle;

use nix::sched::{setns, unshare, CloneFlags};

#[derive(Debug)]
pub(crate) struct Netns {
    fd: OwnedFd,
    inode: u64,
}

impl Netns {
    /// Starts creating a fresh namespace on a thread of its own, and runs `init` inside
    /// it on that same thread (the node's first sockets and sysctls cost no second
    /// thread). Join the handle for the namespace; several can be created at once.
    pub(crate) fn spawn_create<T: Send + 'static>(
        init: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<JoinHandle<io::Result<(Netns, T)>>> {
        thread().spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            let file = File::open("/proc/thread-self/ns/net")?;
            let inode = file.metadata()?.ino();
            let value = init()?;
            Ok((
                Netns {
                    fd: file.into(),
                    inode,
                },
                value,
            ))
        })
    }

    /// Runs `f` on a fresh thread that has entered this namespace.
    pub(crate) fn run_in<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let fd = self.fd.try_clone()?;
        spawn_scoped(move || {
            setns(fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            f()
        })
    }

    /// Closes the namespace fd, reporting the kernel's answer (a drop would ignore it).
    pub(crate) fn close(self) -> io::Result<()> {
        use std::os::fd::IntoRawFd;
        let fd = self.fd.into_raw_fd();
        // SAFETY: we own fd and close it exactly once.
        if unsafe { libc::close(fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The namespace's inode number, which identifies it (as `ls -l /proc/*/ns/net` shows).
    pub(crate) fn inode(&self) -> u64 {
        self.inode
    }
}

fn thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("netspec-netns".into())
        .stack_size(256 * 1024)
}

fn spawn_scoped<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    thread()
        .spawn(f)?
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
}
