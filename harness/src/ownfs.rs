//! Writing only where netspec made or verified the directories: every step below a
//! root is opened relative to the directory before it, with O_NOFOLLOW, so a symlink
//! swapped in anywhere is refused, never followed (the report folders, and the files in
//! them).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// A directory held open, with the path it was reached by (for messages).
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn c(name: &str) -> io::Result<CString> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a plain file name"),
        ));
    }
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a name"))
}

fn last_error_with(path: &Path) -> io::Error {
    let e = io::Error::last_os_error();
    let why = match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => "is not a directory netspec made (a symlink?)",
        _ => return io::Error::new(e.kind(), format!("{}: {e}", path.display())),
    };
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} {why}", path.display()),
    )
}

impl Dir {
    /// Opens `root`, creating it if missing. Its parent is the caller's choice (the
    /// cargo target directory) and is taken as it is; `root` itself must be a real
    /// directory, not a symlink.
    pub(crate) fn root(root: &Path) -> io::Result<Dir> {
        let parent = match root.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent)?;
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| io::Error::other(format!("{} has no usable name", root.display())))?;
        let p = CString::new(parent.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::other("a NUL in a path"))?;
        // SAFETY: a NUL-terminated path; the fd is owned on success.
        let fd = unsafe { libc::open(p.as_ptr(), libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(last_error_with(parent));
        }
        // SAFETY: a fresh fd.
        let parent = Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: parent.to_path_buf(),
        };
        parent.sub(name, true)
    }

    /// The directory `name` in this one; created if missing and `create`. None of it is
    /// followed if it is a symlink.
    pub(crate) fn sub(&self, name: &str, create: bool) -> io::Result<Dir> {
        let n = c(name)?;
        let path = self.path.join(name);
        if create {
            // SAFETY: a valid dirfd and a NUL-terminated name.
            let r = unsafe { libc::mkdirat(self.fd.as_raw_fd(), n.as_ptr(), 0o755) };
            if r < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return Err(last_error_with(&path));
            }
        }
        // SAFETY: as above; the fd is owned on success.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                n.as_ptr(),
                libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(last_error_with(&path));
        }
        Ok(Dir {
            // SAFETY: a fresh fd.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path,
        })
    }

    /// Each `/`-separated segment of `rel` in turn, as `sub` does.
    pub(crate) fn descend(&self, rel: &str, create: bool) -> io::Result<Dir> {
        let mut d = self.sub(rel.split('/').next().unwrap_or(""), create)?;
        for seg in rel.split('/').skip(1) {
            d = d.sub(seg, create)?;
        }
        Ok(d)
    }

    /// Writes `name` atomically: a fresh file (O_EXCL, O_NOFOLLOW) renamed over the old
    /// one, so a symlink there is replaced, never written through.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
        use std::io::Write;
        let target = c(name)?;
        let tmp = c(&format!(".{name}.{}", std::process::id()))?;
        // SAFETY: a valid dirfd and NUL-terminated names.
        unsafe { libc::unlinkat(self.fd.as_raw_fd(), tmp.as_ptr(), 0) };
        // SAFETY: as above; the fd is owned on success.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o644,
            )
        };
        if fd < 0 {
            return Err(last_error_with(&self.path.join(name)));
        }
        // SAFETY: a fresh fd.
        let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.write_all(bytes)?;
        drop(file);
        // SAFETY: a valid dirfd and NUL-terminated names.
        let r = unsafe {
            libc::renameat(
                self.fd.as_raw_fd(),
                tmp.as_ptr(),
                self.fd.as_raw_fd(),
                target.as_ptr(),
            )
        };
        if r < 0 {
            return Err(last_error_with(&self.path.join(name)));
        }
        Ok(self.path.join(name))
    }

    /// Removes `name` if it is a regular file (not a symlink, not a directory).
    pub(crate) fn remove_file(&self, name: &str) -> io::Result<()> {
        let n = c(name)?;
        // SAFETY: plain data; all-zero is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid dirfd, a NUL-terminated name and a live stat buffer.
        let r = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                n.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r < 0 || st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Ok(());
        }
        // SAFETY: as above.
        if unsafe { libc::unlinkat(self.fd.as_raw_fd(), n.as_ptr(), 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("netspec-ownfs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_symlinked_root_or_folder_is_never_followed() {
        let d = scratch("dirs");
        let elsewhere = d.join("elsewhere");
        std::fs::create_dir_all(elsewhere.join("seed")).unwrap();
        std::fs::write(elsewhere.join("seed/failure.txt"), "theirs").unwrap();
        // The root itself a symlink: refused.
        std::os::unix::fs::symlink(&elsewhere, d.join("netspec")).unwrap();
        let e = Dir::root(&d.join("netspec")).err().expect("must refuse");
        assert!(
            e.to_string().contains("is not a directory netspec made"),
            "{e}"
        );
        // A real root with a symlinked scenario folder: refused, for writing and removing.
        std::fs::remove_file(d.join("netspec")).unwrap();
        let root = Dir::root(&d.join("netspec")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("seed"), d.join("netspec/seed")).unwrap();
        assert!(root.descend("seed", true).is_err());
        assert!(root.descend("seed", false).is_err());
        assert_eq!(
            std::fs::read_to_string(elsewhere.join("seed/failure.txt")).unwrap(),
            "theirs"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_is_replaced_never_written_through_and_only_files_are_removed() {
        let d = scratch("files");
        let victim = d.join("victim");
        std::fs::write(&victim, "theirs").unwrap();
        let root = Dir::root(&d.join("r")).unwrap();
        std::os::unix::fs::symlink(&victim, d.join("r/failure.txt")).unwrap();
        root.remove_file("failure.txt").unwrap();
        assert!(
            d.join("r/failure.txt").symlink_metadata().is_ok(),
            "a symlink is not removed"
        );
        root.write("failure.txt", b"ours").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "theirs");
        assert_eq!(
            std::fs::read_to_string(d.join("r/failure.txt")).unwrap(),
            "ours"
        );
        root.remove_file("failure.txt").unwrap();
        assert!(d.join("r/failure.txt").symlink_metadata().is_err());
        assert!(root.write("../x", b"").is_err(), "a name is never a path");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
