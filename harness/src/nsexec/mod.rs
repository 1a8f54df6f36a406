//! Programs run inside a node: `exec` steps, background daemons and the netfilter tools.
//!
//! A user's command gets fresh PID, mount, UTS and IPC namespaces and enters the node's
//! network namespace. PID 1 of its PID namespace is not the command but a tiny init of
//! netspec's (a forked copy of this process that runs only raw syscalls): it holds
//! PR_SET_PDEATHSIG, never changes its credentials (a credential change clears that
//! signal), forks the command as PID 2, reaps orphans, and exits with the command. When
//! the init ends, at the command's exit, at its time bound, at teardown or because
//! netspec died, the kernel kills everything in the PID namespace: nothing the command
//! started can outlive the node, whatever it does with its uid.
//!
//! The mounts are private. `/sys` and `/proc` are detached (the host's are gone from
//! the namespace, so unmounting ours reveals an empty directory, not the host's
//! processes) and mounted afresh for the node and the PID namespace; `/run/netns` is
//! hidden under an empty tmpfs; the hostname is the node's name.
//!
//! Output is read until the stream closes, but never past the step's bound: a stream
//! that another process keeps open after the command ended is reported as held open.

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::Netns;

mod child;
mod output;

use child::{clone_child, ChildPlan, HideRun, STAGES};
use output::Reader;

/// The PATH a program sees, the same on every machine.
pub(crate) const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How much of each output stream is kept; the rest is read and counted. A stream cut
/// here cannot be judged (see `Captured::cut`).
pub(crate) const KEEP_BYTES: usize = 8 * 1024 * 1024;

/// How long output may stay open after the command ended: only a process outside the
/// command's PID namespace (which died with it) can still hold it.
const AFTER_EXIT: Duration = Duration::from_millis(500);

/// What to run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
    /// Only the node's network namespace: no PID or mount namespace of its own. For
    /// netspec's own tool runs (nft, iptables-restore), which start no children and read
    /// no /sys, and are 1 ms cheaper this way. User commands are always isolated.
    pub net_only: bool,
    /// Descriptors the command's init holds at 5, 6, ... for as long as the command
    /// runs, reachable from inside as `/proc/1/fd/5`, ...: how a CNI plugin is handed
    /// the container's namespace and the run's private folder without a path on the host.
    pub held_fds: Vec<RawFd>,
    /// Cover all of /run (not only /run/netns) with an empty tmpfs: for plugins, which
    /// must not reach the host's D-Bus, lock files or runtime state.
    pub hide_run: bool,
}

impl Program {
    pub(crate) fn new(argv: &[&str]) -> Program {
        Program {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            ..Program::default()
        }
    }
}

/// One output stream: its first bytes and how many there were.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captured {
    pub bytes: Vec<u8>,
    pub total: u64,
    /// Still open when netspec stopped reading: another process holds it.
    pub held_open: bool,
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Whether bytes were read but not kept, so the text is not the whole stream.
    pub(crate) fn cut(&self) -> bool {
        (self.bytes.len() as u64) < self.total
    }

    /// For reports and terminals: at most `max` characters, control bytes escaped (an
    /// ESC from a command must not drive the reader's terminal), what was left out counted.
    pub(crate) fn shown(&self, max: usize) -> String {
        let text = self.text();
        let mut out = String::new();
        let mut kept = 0u64;
        for c in text.chars().take(max) {
            kept += c.len_utf8() as u64;
            if c.is_control() && c != '\n' && c != '\t' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        if kept < self.total {
            out.push_str(&format!("… ({} more bytes)", self.total - kept));
        }
        if self.held_open {
            out.push_str(" [still held open by another process]");
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Exited(i32),
    Signaled(i32),
    /// Killed by netspec at its time bound.
    TimedOut,
    /// Killed by netspec at teardown, still running: what a background command should be.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit {c}"),
            Status::Signaled(s) => write!(f, "killed by signal {s}"),
            Status::TimedOut => f.write_str("timed out (killed)"),
            Status::Stopped => f.write_str("stopped at teardown"),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Finished {
    pub status: Status,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

/// A started program. Drop kills it, so none outlives its owner.
#[derive(Debug)]
pub(crate) struct Running {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    /// Where the init writes the command's wait status (user commands only).
    status: Option<OwnedFd>,
    started: Instant,
    readers: Option<[Reader; 2]>,
    writer: Option<JoinHandle<()>>,
    reaped: Option<Status>,
}

/// Finds `name` in `PATH` (or takes it as a path when it has a `/`).
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    use std::os::unix::fs::PermissionsExt;
    PATH.split(':').map(|d| Path::new(d).join(name)).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn cstring(s: &str, what: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} contains a NUL byte"),
        )
    })
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh fds that we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The argv and the environment as C strings: PATH and NETSPEC_NODE, then the user's.
fn c_strings(p: &Program, node: &str) -> io::Result<(Vec<CString>, Vec<CString>)> {
    let argv = p
        .argv
        .iter()
        .map(|a| cstring(a, "an argument"))
        .collect::<io::Result<Vec<_>>>()?;
    let mut env = vec![
        cstring(&format!("PATH={PATH}"), "PATH")?,
        cstring(&format!("NETSPEC_NODE={node}"), "the node name")?,
    ];
    for (k, v) in &p.env {
        env.push(cstring(
            &format!("{k}={v}"),
            &format!("the value of environment variable {k}"),
        )?);
    }
    Ok((argv, env))
}

/// The node's name as a hostname: at most 64 bytes, as the kernel takes.
fn hostname(node: &str) -> CString {
    let mut name: Vec<u8> = node.bytes().filter(|b| *b != 0).take(64).collect();
    if name.is_empty() {
        name = b"netspec".to_vec();
    }
    CString::new(name).unwrap_or_default()
}

/// Held descriptors and a covered /run need the command's own init and mounts.
fn check_isolation(p: &Program) -> io::Result<()> {
    if p.net_only && (!p.held_fds.is_empty() || p.hide_run) {
        return Err(io::Error::other(
            "held descriptors and a hidden /run need the command's own init",
        ));
    }
    if p.held_fds.len() > child::MAX_HELD {
        return Err(io::Error::other("too many held descriptors"));
    }
    Ok(())
}

fn hidden_run(p: &Program) -> HideRun {
    if p.hide_run {
        HideRun::All
    } else if Path::new("/run/netns").is_dir() {
        HideRun::Netns
    } else {
        HideRun::Nothing
    }
}

/// Starts `p` in the node whose namespace is `ns`.
pub(crate) fn start(ns: &Netns, node: &str, p: &Program) -> io::Result<Running> {
    let name = p
        .argv
        .first()
        .ok_or_else(|| io::Error::other("empty command"))?;
    check_isolation(p)?;
    let path = find_program(name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("program `{name}` not found in {PATH}"),
        )
    })?;
    let (argv, env) = c_strings(p, node)?;
    let (in_r, in_w) = pipe()?;
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (fail_r, fail_w) = pipe()?;
    let (status_r, status_w) = pipe()?;
    let plan = ChildPlan {
        path: cstring(&path.to_string_lossy(), "the program path")?,
        argv,
        env,
        netns: ns.raw_fd(),
        net_only: p.net_only,
        hide_run: hidden_run(p),
        held: p.held_fds.clone(),
        hostname: hostname(node),
        fds: [
            in_r.as_raw_fd(),
            out_w.as_raw_fd(),
            err_w.as_raw_fd(),
            fail_w.as_raw_fd(),
            status_w.as_raw_fd(),
        ],
        stack: if p.net_only {
            Vec::new()
        } else {
            vec![0u8; 64 * 1024]
        },
    };
    let pid = clone_child(&plan)?;
    let started = Instant::now();
    drop((in_r, out_w, err_w, fail_w, status_w));
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        let e = io::Error::last_os_error();
        kill_and_reap(pid);
        return Err(e);
    }
    // SAFETY: a fresh fd from pidfd_open.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) };
    let mut running = Running {
        pid,
        pidfd,
        status: (!p.net_only).then_some(status_r),
        started,
        readers: None,
        writer: None,
        reaped: None,
    };
    // EOF on the error pipe: execve succeeded (the pipe is close-on-exec, and the init
    // closed its copy).
    let mut report = Vec::new();
    std::fs::File::from(fail_r).read_to_end(&mut report)?;
    if let Some(e) = child_failure(&report, name) {
        running.kill();
        return Err(e);
    }
    running.readers = Some([Reader::start(out_r)?, Reader::start(err_r)?]);
    let mut stdin = std::fs::File::from(in_w);
    running.writer = match p.stdin.clone() {
        Some(bytes) => Some(
            std::thread::Builder::new()
                .name("netspec-stdin".into())
                .spawn(move || {
                    // A program that exits without reading its input is its own business.
                    let _ = stdin.write_all(&bytes);
                })?,
        ),
        None => None,
    };
    Ok(running)
}

/// What the child wrote to the error pipe before it gave up, as an error.
fn child_failure(report: &[u8], name: &str) -> Option<io::Error> {
    let [stage, a, b, c, d, ..] = *report else {
        return None;
    };
    let errno = io::Error::from_raw_os_error(i32::from_ne_bytes([a, b, c, d]));
    let stage = STAGES.get(stage as usize).unwrap_or(&"start");
    Some(io::Error::new(
        errno.kind(),
        format!("could not {stage} for `{name}`: {errno}"),
    ))
}

fn kill_and_reap(pid: libc::pid_t) -> Status {
    // SAFETY: pid is our unreaped child, so the number cannot have been reused.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    reap(pid)
}

fn reap(pid: libc::pid_t) -> Status {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Status::Signaled(libc::SIGKILL);
        }
    }
    decode(status)
}

fn decode(status: i32) -> Status {
    if libc::WIFEXITED(status) {
        Status::Exited(libc::WEXITSTATUS(status))
    } else {
        Status::Signaled(libc::WTERMSIG(status))
    }
}

impl Running {
    /// Whether it has ended, without waiting.
    pub(crate) fn has_exited(&self) -> bool {
        self.wait_readable(Duration::ZERO)
    }

    fn wait_readable(&self, d: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Rounded up: a poll of 0 ms before the deadline would spin.
        let ms = d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        r > 0
    }

    /// Waits until it exits or `until` passes; then it is killed. Its output is read
    /// until it closes, but never past `until`.
    pub(crate) fn wait(mut self, until: Instant) -> Finished {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if self.wait_readable(left) {
                self.reaped = Some(self.exit_status());
                break;
            }
            if Instant::now() >= until {
                kill_and_reap(self.pid);
                self.reaped = Some(Status::TimedOut);
                break;
            }
        }
        self.finish(until.min(Instant::now() + AFTER_EXIT))
    }

    /// Kills it (and so its whole PID namespace) and collects what it wrote.
    pub(crate) fn stop(mut self) -> Finished {
        self.kill();
        self.finish(Instant::now() + AFTER_EXIT)
    }

    fn kill(&mut self) {
        if self.reaped.is_none() {
            let status = if self.has_exited() {
                self.exit_status()
            } else {
                kill_and_reap(self.pid);
                Status::Stopped
            };
            self.reaped = Some(status);
        }
    }

    /// Reaps what ended: for a user command, the init, which passed on the command's
    /// own wait status.
    fn exit_status(&mut self) -> Status {
        let init = reap(self.pid);
        let Some(fd) = self.status.take() else {
            return init;
        };
        let mut raw = [0u8; 4];
        match std::fs::File::from(fd).read(&mut raw) {
            Ok(4) => decode(i32::from_ne_bytes(raw)),
            _ => init,
        }
    }

    fn finish(&mut self, output_until: Instant) -> Finished {
        let [out, err] = match self.readers.take() {
            Some([o, e]) => [o.collect(output_until), e.collect(output_until)],
            None => Default::default(),
        };
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        Finished {
            status: self.reaped.unwrap_or(Status::TimedOut),
            stdout: out,
            stderr: err,
            elapsed: self.started.elapsed(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `p` in the node to the end, within `timeout`.
pub(crate) fn run(ns: &Netns, node: &str, p: &Program, timeout: Duration) -> io::Result<Finished> {
    let until = Instant::now() + timeout;
    Ok(start(ns, node, p)?.wait(until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(bytes: &[u8], total: u64) -> Captured {
        Captured {
            bytes: bytes.to_vec(),
            total,
            held_open: false,
        }
    }

    #[test]
    fn shown_output_escapes_control_bytes_and_counts_what_it_leaves_out() {
        let c = captured(b"ok\x1b[2J\tdone\n", 12);
        assert_eq!(c.shown(100), "ok\\u{1b}[2J\tdone\n");
        let long = captured(b"abcdef", 6);
        assert_eq!(long.shown(3), "abc… (3 more bytes)");
        let mut held = captured(b"x", 1);
        held.held_open = true;
        assert!(held
            .shown(10)
            .ends_with("[still held open by another process]"));
    }

    #[test]
    fn a_stream_is_cut_only_when_bytes_were_read_but_not_kept() {
        assert!(!captured(b"abc", 3).cut());
        assert!(captured(b"abc", 4).cut());
        assert!(!captured(b"", 0).cut());
    }

    #[test]
    fn the_hostname_is_the_node_name_without_nul_and_at_most_64_bytes() {
        assert_eq!(hostname("web").to_bytes(), b"web");
        assert_eq!(hostname("a\0b").to_bytes(), b"ab");
        assert_eq!(hostname(&"n".repeat(100)).to_bytes().len(), 64);
        assert_eq!(hostname("\0").to_bytes(), b"netspec");
    }

    #[test]
    fn the_environment_is_path_and_node_first_and_a_nul_is_refused() {
        let mut p = Program::new(&["sh", "-c", "true"]);
        p.env = vec![("A".into(), "1".into())];
        let (argv, env) = c_strings(&p, "n1").unwrap();
        assert_eq!(argv.len(), 3);
        let env: Vec<_> = env
            .iter()
            .map(|e| e.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            env,
            vec![
                format!("PATH={PATH}"),
                "NETSPEC_NODE=n1".into(),
                "A=1".into()
            ]
        );
        p.env = vec![("B".into(), "x\0y".into())];
        let e = c_strings(&p, "n1").unwrap_err();
        assert!(e.to_string().contains("environment variable B"), "{e}");
    }

    #[test]
    fn the_childs_report_names_the_stage_and_the_errno() {
        let mut report = vec![5u8];
        report.extend_from_slice(&libc::ENOENT.to_ne_bytes());
        let e = child_failure(&report, "nosuch").unwrap();
        assert!(
            e.to_string()
                .starts_with("could not execute the program for `nosuch`"),
            "{e}"
        );
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(
            child_failure(&[1, 2], "x").is_none(),
            "a short report is no report"
        );
        let mut odd = vec![200u8];
        odd.extend_from_slice(&libc::EPERM.to_ne_bytes());
        assert!(child_failure(&odd, "x")
            .unwrap()
            .to_string()
            .starts_with("could not start"));
    }

    #[test]
    fn a_wait_status_is_an_exit_code_or_a_signal() {
        assert_eq!(decode(3 << 8), Status::Exited(3));
        assert_eq!(decode(libc::SIGKILL), Status::Signaled(libc::SIGKILL));
        assert_eq!(Status::Exited(0).to_string(), "exit 0");
        assert_eq!(Status::Signaled(9).to_string(), "killed by signal 9");
    }

    #[test]
    fn a_program_is_found_on_path_or_taken_as_a_path() {
        assert!(find_program("sh").is_some());
        assert_eq!(find_program("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(find_program("no-such-program-netspec").is_none());
    }
}
