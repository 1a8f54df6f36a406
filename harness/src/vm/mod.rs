//! Running a command under another kernel: QEMU boots the chosen kernel with an
//! initramfs netspec builds, the guest mounts the machine's root read-only (9p, tmpfs
//! overlays) and the project writable, runs the command, and reports its exit code.
//! `netspec vm` and `NETSPEC_KERNEL` (the test harness) both come here.

mod cpio;
mod initramfs;
mod qemu;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use initramfs::Share;

/// Set inside the guest (to the kernel's path), so that a test harness started there
/// does not boot a VM again, and so that netspec knows the whole kernel is the test's.
pub const IN_VM: &str = "NETSPEC_IN_VM";

/// Set by the user: run the scenario suite under this kernel (an image, or a folder
/// prepared by tools/kernel-from-packages).
pub const KERNEL_VAR: &str = "NETSPEC_KERNEL";

/// The kernel parameter netspec's VM boots with: it tells a process that the whole
/// kernel belongs to the test (so loading a module is allowed), which an environment
/// variable could not prove.
const MARK: &str = "netspec.vm=1";

/// Whether this process runs in a VM that `netspec vm` booted.
pub fn inside() -> bool {
    std::fs::read_to_string("/proc/cmdline").is_ok_and(|c| c.split_whitespace().any(|p| p == MARK))
}

/// With `NETSPEC_KERNEL` set (and not already inside the VM), runs this same process,
/// with its arguments, under that kernel, and exits with its exit code (3 when the VM
/// could not run it). Otherwise returns: the caller runs here.
pub fn rerun_under_chosen_kernel() {
    let Some(kernel) = std::env::var_os(KERNEL_VAR).filter(|k| !k.is_empty()) else {
        return;
    };
    if std::env::var_os(IN_VM).is_some() {
        return;
    }
    let code = std::env::current_exe()
        .map_err(|e| VmError::Io("find this program's path", e))
        .and_then(|me| {
            let args: Vec<OsString> = std::env::args_os().skip(1).collect();
            run(&VmOptions::new(&kernel), &me, &args)
        })
        .unwrap_or_else(|e| {
            eprintln!("error: {KERNEL_VAR}={}: {e}", Path::new(&kernel).display());
            3
        });
    std::process::exit(code);
}

/// How to accelerate the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// KVM where it can run an ordinary kernel, else TCG (and say so).
    Auto,
    Kvm,
    /// QEMU's software emulation: slower, works everywhere.
    Tcg,
}

/// What `netspec vm` was asked for.
#[derive(Debug, Clone)]
pub struct VmOptions {
    /// A kernel image, or a folder holding `boot/vmlinuz-*` and `lib/modules/*`.
    pub kernel: PathBuf,
    /// The kernel's module folder (`lib/modules/VERSION`); found in a prepared folder.
    pub modules: Option<PathBuf>,
    pub accel: Accel,
    pub cpus: u32,
    pub memory_mib: u32,
    /// From QEMU's start to the command's start.
    pub boot_timeout: Duration,
    /// From QEMU's start to the command's end.
    pub timeout: Duration,
    /// More kernel parameters.
    pub append: Vec<String>,
}

impl VmOptions {
    /// The defaults for a kernel, as `netspec vm` and `NETSPEC_KERNEL` use them.
    pub fn new(kernel: impl Into<PathBuf>) -> Self {
        VmOptions {
            kernel: kernel.into(),
            modules: None,
            accel: Accel::Auto,
            cpus: 2,
            memory_mib: 2048,
            boot_timeout: Duration::from_secs(120),
            timeout: Duration::from_secs(3600),
            append: Vec::new(),
        }
    }
}

/// Why the command did not run to its end in the VM.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error(
        "no kernel at {0}: give an image (vmlinuz) or a folder made by tools/kernel-from-packages"
    )]
    NoKernel(PathBuf),
    #[error("{dir}: {why}")]
    Kernel { dir: PathBuf, why: String },
    #[error("the kernel's modules at {dir}: {why}")]
    Modules { dir: PathBuf, why: String },
    #[error("cannot use /bin/busybox for the boot image: {0} (install busybox-static)")]
    Busybox(String),
    #[error(
        "cannot share {0} with the VM: its path must be absolute, in UTF-8, without a newline"
    )]
    Path(PathBuf),
    #[error(
        "run netspec vm from a project folder, not from /: the VM gets the current folder writable"
    )]
    CwdIsRoot,
    #[error("failed to start {program}: {why} (install qemu-system-x86)")]
    Qemu { program: String, why: String },
    #[error("KVM was asked for, but {0}")]
    NoKvm(String),
    #[error("the guest stopped: {why}{}", console_tail(.console))]
    Guest { why: String, console: String },
    #[error("{what} did not happen within {bound:?}: netspec stopped QEMU{}", console_tail(.console))]
    Timeout {
        what: &'static str,
        bound: Duration,
        console: String,
    },
    #[error("failed to {0}: {1}")]
    Io(&'static str, std::io::Error),
}

fn console_tail(console: &str) -> String {
    if console.trim().is_empty() {
        String::new()
    } else {
        format!("\nthe console's last lines:\n{}", console.trim_end())
    }
}

/// Boots the kernel, runs `program args` in the current folder inside it with this
/// process's environment, streams the console to stdout, and returns the command's
/// exit code.
pub fn run(opts: &VmOptions, program: &Path, args: &[OsString]) -> Result<i32, VmError> {
    let (image, modules) = locate(opts)?;
    let cwd = std::env::current_dir().map_err(|e| VmError::Io("read the current folder", e))?;
    if cwd == Path::new("/") {
        return Err(VmError::CwdIsRoot);
    }
    let mut shares = vec![];
    if let Some(m) = &modules {
        shares.push(Share {
            tag: "modules",
            host: m.clone(),
            guest: None,
            writable: false,
        });
    }
    shares.push(Share {
        tag: "project",
        host: cwd.clone(),
        guest: Some(cwd.clone()),
        writable: true,
    });
    let target = absolute(&crate::target_dir(), &cwd);
    if !target.starts_with(&cwd) && target.is_dir() {
        shares.push(Share {
            tag: "target",
            host: target.clone(),
            guest: Some(target),
            writable: true,
        });
    }
    let command = command_script(&cwd, program, args, &image);
    let initrd = initramfs::build(modules.as_deref(), &shares, &command)?;
    qemu::boot(opts, &image, &initrd, &shares)
}

fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The image and the module folder, from a file and --modules, or a prepared folder.
fn locate(opts: &VmOptions) -> Result<(PathBuf, Option<PathBuf>), VmError> {
    let k = &opts.kernel;
    if k.is_file() {
        return Ok((k.clone(), opts.modules.clone()));
    }
    if !k.is_dir() {
        return Err(VmError::NoKernel(k.clone()));
    }
    let only = |sub: &str, keep: &dyn Fn(&Path) -> bool| -> Result<PathBuf, VmError> {
        let found: Vec<PathBuf> = std::fs::read_dir(k.join(sub))
            .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| keep(p)).collect())
            .unwrap_or_default();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(VmError::Kernel {
                dir: k.clone(),
                why: format!("nothing in {sub}/"),
            }),
            _ => Err(VmError::Kernel {
                dir: k.clone(),
                why: format!("more than one kernel in {sub}/: give the image and --modules"),
            }),
        }
    };
    // The uncompressed vmlinux boots in PVH mode, seconds faster under TCG than
    // the vmlinuz that decompresses itself; tools/kernel-from-packages makes it.
    let named = |prefix: &'static [u8]| {
        move |p: &Path| {
            p.file_name()
                .is_some_and(|n| n.as_bytes().starts_with(prefix))
        }
    };
    let image = only("boot", &named(b"vmlinux-")).or_else(|_| only("boot", &named(b"vmlinuz-")))?;
    let modules = match &opts.modules {
        Some(m) => m.clone(),
        None => only("lib/modules", &|p| p.is_dir())
            .or_else(|_| only("usr/lib/modules", &|p| p.is_dir()))?,
    };
    Ok((image, Some(modules)))
}

/// The guest's script: this environment, the folder, then the command, quoted for sh.
fn command_script(cwd: &Path, program: &Path, args: &[OsString], kernel: &Path) -> Vec<u8> {
    let mut s = Vec::new();
    for (k, v) in std::env::vars_os() {
        let name = k.as_bytes();
        let shell_name = !name.is_empty()
            && !name[0].is_ascii_digit()
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !shell_name || k == KERNEL_VAR || k == IN_VM {
            continue;
        }
        s.extend_from_slice(b"export ");
        s.extend_from_slice(name);
        s.push(b'=');
        quote(&mut s, v.as_bytes());
        s.push(b'\n');
    }
    // The guest writes to a serial console, a terminal: colour only if ours is one.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        s.extend_from_slice(b"export NO_COLOR=1\n");
    }
    s.extend_from_slice(format!("export {IN_VM}=").as_bytes());
    quote(&mut s, kernel.as_os_str().as_bytes());
    s.extend_from_slice(b"\ncd ");
    quote(&mut s, cwd.as_os_str().as_bytes());
    s.extend_from_slice(b" || exit 125\n");
    quote(&mut s, program.as_os_str().as_bytes());
    for a in args {
        s.push(b' ');
        quote(&mut s, a.as_bytes());
    }
    s.push(b'\n');
    s
}

/// Single quotes, with each `'` written as `'\''`.
fn quote(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'\'');
    for &b in text {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_dollars_and_newlines() {
        let mut out = Vec::new();
        quote(&mut out, b"it's $HOME\n`x`");
        assert_eq!(out, b"'it'\\''s $HOME\n`x`'");
    }

    #[test]
    fn the_script_runs_the_program_in_the_folder_and_marks_the_guest() {
        let s = command_script(
            Path::new("/work/p"),
            Path::new("/usr/bin/netspec"),
            &["run".into(), "a b.yaml".into()],
            Path::new("/k/vmlinuz"),
        );
        let s = String::from_utf8(s).unwrap();
        assert!(s.contains("export NETSPEC_IN_VM='/k/vmlinuz'\n"), "{s}");
        assert!(s.ends_with("cd '/work/p' || exit 125\n'/usr/bin/netspec' 'run' 'a b.yaml'\n"));
        assert!(!s.contains("export NETSPEC_KERNEL="));
    }

    #[test]
    fn a_missing_kernel_or_an_empty_folder_is_named() {
        let mut o = VmOptions::new("/nonexistent/vmlinuz");
        assert!(matches!(locate(&o), Err(VmError::NoKernel(_))));
        o.kernel = std::env::temp_dir();
        let err = locate(&o).unwrap_err().to_string();
        assert!(err.contains("nothing in boot/"), "{err}");
    }
}
