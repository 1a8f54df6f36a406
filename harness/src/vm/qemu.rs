//! Starting QEMU and watching it: the console streams to stdout, init's reports come on
//! a second serial port, and every wait has a bound. QEMU dies with netspec
//! (PR_SET_PDEATHSIG), and the boot image lives in a memfd, so nothing is left behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::initramfs::Share;
use super::{Accel, VmError, VmOptions};

const QEMU: &str = "qemu-system-x86_64";

/// How long a KVM boot may take before netspec gives up on KVM and uses TCG: a
/// kernel that KVM cannot run here stays in its decompressor, silently.
const KVM_PROBE: Duration = Duration::from_secs(20);

/// What init says on its own serial port.
#[derive(Debug, PartialEq, Eq)]
enum Report {
    Started,
    Exit(i32),
    Error(String),
}

fn parse_report(line: &str) -> Option<Report> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line == "started" {
        Some(Report::Started)
    } else if let Some(code) = line.strip_prefix("exit ") {
        code.parse().ok().map(Report::Exit)
    } else {
        line.strip_prefix("error: ")
            .map(|why| Report::Error(why.to_string()))
    }
}

/// Boots and runs to the command's end; the command's exit code.
pub(super) fn boot(
    opts: &VmOptions,
    image: &Path,
    initrd: &[u8],
    shares: &[Share],
) -> Result<i32, VmError> {
    let accel = match opts.accel {
        Accel::Tcg => Accel::Tcg,
        Accel::Kvm => match kvm_unusable() {
            Some(why) => return Err(VmError::NoKvm(why)),
            None => Accel::Kvm,
        },
        Accel::Auto => match kvm_unusable() {
            Some(why) => {
                eprintln!("netspec vm: {why}: using TCG (software emulation)");
                Accel::Tcg
            }
            None => Accel::Kvm,
        },
    };
    if accel == Accel::Kvm && opts.accel == Accel::Auto {
        let mut probe = opts.clone();
        probe.boot_timeout = opts.boot_timeout.min(KVM_PROBE);
        match attempt(&probe, Accel::Kvm, image, initrd, shares) {
            Err(VmError::Timeout { what: BOOT, .. }) => {
                eprintln!(
                    "netspec vm: the kernel did not boot under KVM within {:?}: using TCG",
                    probe.boot_timeout
                );
            }
            other => return other,
        }
        return attempt(opts, Accel::Tcg, image, initrd, shares);
    }
    attempt(opts, accel, image, initrd, shares)
}

const BOOT: &str = "the boot (to the command's start)";

/// Why KVM cannot run an ordinary kernel here, if it cannot.
fn kvm_unusable() -> Option<String> {
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        return Some(format!("KVM is not usable here (/dev/kvm: {e})"));
    }
    // Without vmx or svm, /dev/kvm is a paravirtual flavour (PVM) that runs only
    // kernels built for it: an ordinary kernel would hang in its decompressor.
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let hardware = cpu
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
    (!hardware).then(|| {
        "KVM is not usable here (the CPU shows no vmx or svm flag: /dev/kvm runs only special guests)"
            .to_string()
    })
}

fn attempt(
    opts: &VmOptions,
    accel: Accel,
    image: &Path,
    initrd: &[u8],
    shares: &[Share],
) -> Result<i32, VmError> {
    let (mut child, [ctl_read, out_read, err_read]) = spawn(opts, accel, image, initrd, shares)?;
    let started = Instant::now();
    // The kernel's console (QEMU's stdout) and QEMU's own complaints are kept for the
    // error message; the command's streams go to ours as they come.
    let console = Arc::new(Mutex::new(Tail::default()));
    let streams = [
        stream(
            child.stdout.take().expect("piped"),
            Some(console.clone()),
            Sink::None,
        ),
        stream(
            child.stderr.take().expect("piped"),
            Some(console.clone()),
            Sink::Stderr,
        ),
        stream(std::fs::File::from(out_read), None, Sink::Stdout),
        stream(std::fs::File::from(err_read), None, Sink::Stderr),
    ];
    let (tx, rx) = mpsc::channel();
    let reports = std::thread::spawn(move || {
        for line in BufReader::new(std::fs::File::from(ctl_read)).lines() {
            let Ok(line) = line else { break };
            if let Some(r) = parse_report(&line) {
                if tx.send(r).is_err() {
                    break;
                }
            }
        }
    });
    let result = watch(&rx, opts, started);
    let _ = child.kill();
    let status = child.wait();
    for s in streams {
        let _ = s.join();
    }
    let _ = reports.join();
    let tail = console.lock().map(|t| t.text()).unwrap_or_default();
    result.map_err(|f| f.into_error(tail, status.ok()))
}

/// QEMU, started, and the read ends of its three serial ports after the console:
/// init's reports, the command's stdout and its stderr.
fn spawn(
    opts: &VmOptions,
    accel: Accel,
    image: &Path,
    initrd: &[u8],
    shares: &[Share],
) -> Result<(Child, [OwnedFd; 3]), VmError> {
    let initrd_fd = memfd(initrd)?;
    let pipe = || {
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| VmError::Io("make a pipe", e.into()))
    };
    // ttyS1: init's reports; ttyS2 and ttyS3: the command's stdout and stderr.
    let (ctl_read, ctl_write) = pipe()?;
    let (out_read, out_write) = pipe()?;
    let (err_read, err_write) = pipe()?;
    let mut cmd = Command::new(QEMU);
    cmd.args(qemu_args(opts, accel, image, shares))
        .arg("-initrd")
        .arg(format!("/dev/fd/{}", initrd_fd.as_raw_fd()));
    for (id, fd) in [
        ("ctl", &ctl_write),
        ("out", &out_write),
        ("err", &err_write),
    ] {
        cmd.arg("-chardev")
            .arg(format!("file,id={id},path=/dev/fd/{}", fd.as_raw_fd()))
            .args(["-serial", &format!("chardev:{id}")]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let keep = [
        initrd_fd.as_raw_fd(),
        ctl_write.as_raw_fd(),
        out_write.as_raw_fd(),
        err_write.as_raw_fd(),
    ];
    // SAFETY: between fork and exec this calls only async-signal-safe functions.
    unsafe {
        cmd.pre_exec(move || {
            for fd in keep {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // QEMU dies with netspec, however netspec ends.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| VmError::Qemu {
        program: QEMU.into(),
        why: e.to_string(),
    })?;
    drop((ctl_write, out_write, err_write, initrd_fd));
    Ok((child, [ctl_read, out_read, err_read]))
}

/// Why the watch ended without an exit code.
enum Stop {
    Timeout(&'static str, Duration),
    Said(String),
    Ended,
}

impl Stop {
    fn into_error(self, console: String, status: Option<std::process::ExitStatus>) -> VmError {
        match self {
            Stop::Timeout(what, bound) => VmError::Timeout {
                what,
                bound,
                console,
            },
            Stop::Said(why) => VmError::Guest { why, console },
            Stop::Ended => VmError::Guest {
                why: format!(
                    "QEMU ended ({}) before the command finished: the kernel panicked, or could not boot",
                    status.map_or("status unknown".into(), |s| s.to_string())
                ),
                console,
            },
        }
    }
}

fn watch(rx: &mpsc::Receiver<Report>, opts: &VmOptions, started: Instant) -> Result<i32, Stop> {
    let mut running = false;
    loop {
        let (what, bound) = if running {
            ("the command's end", opts.timeout)
        } else {
            (BOOT, opts.boot_timeout)
        };
        let left = bound.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(Report::Started) => running = true,
            Ok(Report::Exit(code)) => return Ok(code),
            Ok(Report::Error(why)) => return Err(Stop::Said(why)),
            Err(RecvTimeoutError::Timeout) => return Err(Stop::Timeout(what, bound)),
            Err(RecvTimeoutError::Disconnected) => return Err(Stop::Ended),
        }
    }
}

fn qemu_args(opts: &VmOptions, accel: Accel, image: &Path, shares: &[Share]) -> Vec<String> {
    let (accel, cpu) = match accel {
        Accel::Kvm => ("kvm", "host"),
        _ => ("tcg", "max"),
    };
    let mut append = format!("console=ttyS0 quiet panic=-1 rdinit=/init {}", super::MARK);
    for a in &opts.append {
        append.push(' ');
        append.push_str(a);
    }
    let mut args: Vec<String> = [
        "-accel",
        accel,
        "-cpu",
        cpu,
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
        "-chardev",
        "stdio,id=con,signal=off",
        "-serial",
        "chardev:con",
    ]
    .map(String::from)
    .to_vec();
    args.extend([
        "-m".into(),
        opts.memory_mib.to_string(),
        "-smp".into(),
        opts.cpus.to_string(),
        "-kernel".into(),
        image.display().to_string(),
        "-append".into(),
        append,
    ]);
    args.extend(virtfs("root", Path::new("/"), false));
    for s in shares {
        args.extend(virtfs(s.tag, &s.host, s.writable));
    }
    args
}

fn virtfs(tag: &str, host: &Path, writable: bool) -> [String; 2] {
    // QEMU's option syntax doubles a comma inside a value.
    let path = host.display().to_string().replace(',', ",,");
    let ro = if writable { "" } else { ",readonly=on" };
    [
        "-virtfs".into(),
        format!("local,path={path},mount_tag={tag},security_model=none,multidevs=remap{ro}"),
    ]
}

/// The boot image in an anonymous file QEMU reads as /dev/fd/N: nothing on disk.
fn memfd(bytes: &[u8]) -> Result<OwnedFd, VmError> {
    // SAFETY: a NUL-terminated name and no flags; the fd is owned from here.
    let fd = unsafe { libc::memfd_create(c"netspec-initramfs".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(VmError::Io(
            "make the boot image's memfd",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: memfd_create returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    std::fs::File::from(
        fd.try_clone()
            .map_err(|e| VmError::Io("dup the memfd", e))?,
    )
    .write_all(bytes)
    .map_err(|e| VmError::Io("write the boot image", e))?;
    Ok(fd)
}

/// The console's last lines, for an error message.
#[derive(Debug, Default)]
struct Tail(Vec<u8>);

impl Tail {
    const KEEP: usize = 4096;

    fn push(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        if self.0.len() > 2 * Self::KEEP {
            self.0.drain(..self.0.len() - Self::KEEP);
        }
    }

    fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.0);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

#[derive(Debug, Clone, Copy)]
enum Sink {
    None,
    Stdout,
    Stderr,
}

/// Copies a stream to ours as it comes, and keeps its tail when asked. The kernel's
/// console loses its carriage returns (the guest's command streams are raw).
fn stream(
    mut from: impl Read + Send + 'static,
    tail: Option<Arc<Mutex<Tail>>>,
    to: Sink,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(tail) = &tail {
                let text: Vec<u8> = buf[..n].iter().copied().filter(|&b| b != b'\r').collect();
                if let Ok(mut t) = tail.lock() {
                    t.push(&text);
                }
            }
            let _ = match to {
                Sink::None => Ok(()),
                Sink::Stdout => std::io::stdout().lock().write_all(&buf[..n]),
                Sink::Stderr => std::io::stderr().lock().write_all(&buf[..n]),
            };
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_reports_are_read_and_anything_else_is_ignored() {
        assert_eq!(parse_report("started\r\n"), Some(Report::Started));
        assert_eq!(parse_report("exit 77"), Some(Report::Exit(77)));
        assert_eq!(
            parse_report("error: cannot mount"),
            Some(Report::Error("cannot mount".into()))
        );
        assert_eq!(parse_report("exit x"), None);
        assert_eq!(parse_report("[    0.1] hello"), None);
    }

    #[test]
    fn a_share_with_a_comma_is_escaped_and_read_only_by_default() {
        let [flag, value] = virtfs("root", Path::new("/a,b"), false);
        assert_eq!(flag, "-virtfs");
        assert_eq!(
            value,
            "local,path=/a,,b,mount_tag=root,security_model=none,multidevs=remap,readonly=on"
        );
    }

    #[test]
    fn the_tail_keeps_the_last_twenty_lines() {
        let mut t = Tail::default();
        for i in 0..5000 {
            t.push(format!("line {i}\n").as_bytes());
        }
        let text = t.text();
        assert_eq!(text.lines().count(), 20);
        assert!(text.ends_with("line 4999"));
    }
}
