//! The run's private folder: a tmpfs mounted nowhere, held by one descriptor
//! (`fsopen`/`fsmount`). It is not on any path of the machine, nothing has to remove
//! it, and a netspec killed by SIGKILL leaves nothing behind: the kernel frees the
//! tmpfs when the last descriptor closes. Programs reach it through `/proc/<pid>/fd/N`
//! of a process that holds it (see `nsexec::Program::held_fds`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;
const MOUNT_ATTR_NOEXEC: libc::c_uint = 0x8;

/// The tmpfs's bound: IPAM leases and a runtime's state are a few kilobytes.
const SIZE: &std::ffi::CStr = c"16m";

#[derive(Debug)]
pub(crate) struct Scratch {
    root: OwnedFd,
}

fn fd_or_error(r: libc::c_long, what: &str) -> io::Result<OwnedFd> {
    if r < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    // SAFETY: the syscall returned a fresh descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

impl Scratch {
    /// A fresh, empty tmpfs, mode 0700, no devices, setuid or executables.
    pub(crate) fn new() -> io::Result<Scratch> {
        // SAFETY: the fs* syscalls take C strings and flags and return descriptors.
        let fs = fd_or_error(
            unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) },
            "fsopen(tmpfs)",
        )?;
        for (key, value) in [(c"size", SIZE), (c"mode", c"0700")] {
            // SAFETY: as above; key and value are NUL-terminated.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_fsconfig,
                    fs.as_raw_fd(),
                    FSCONFIG_SET_STRING,
                    key.as_ptr(),
                    value.as_ptr(),
                    0,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                return Err(io::Error::new(e.kind(), format!("configure a tmpfs: {e}")));
            }
        }
        // SAFETY: as above.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_char>(),
                0,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("create a tmpfs: {e}")));
        }
        let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        // SAFETY: as above.
        let root = fd_or_error(
            unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) },
            "fsmount",
        )?;
        Ok(Scratch { root })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.root.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_folder_is_reached_only_through_its_descriptor() {
        if let Some(why) = crate::privileges::missing_privileges() {
            panic!("needs root to mount a tmpfs: {why}");
        }
        let s = Scratch::new().unwrap();
        let dir = format!("/proc/self/fd/{}", s.raw_fd());
        std::fs::create_dir(format!("{dir}/ipam")).unwrap();
        std::fs::write(format!("{dir}/ipam/lease"), "10.0.0.2").unwrap();
        assert_eq!(
            std::fs::read_to_string(format!("{dir}/ipam/lease")).unwrap(),
            "10.0.0.2"
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mounts.contains("ipam"),
            "the tmpfs is mounted nowhere: {mounts}"
        );
    }
}
