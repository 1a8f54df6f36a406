//! Programs run inside a node: `exec` steps, background daemons and the netfilter tools.
//!
//! A program is cloned straight into a fresh PID namespace and a fresh mount namespace,
//! then enters the node's network namespace. It is PID 1 of its PID namespace, so when
//! it ends (at its timeout, at teardown, or through PR_SET_PDEATHSIG when netspec itself
//! dies) the kernel kills everything it started: no orphan survives. Its mounts are
//! private: `/sys` is mounted afresh for the node, so `ip` and `ethtool` see the node's
//! interfaces and not the host's; `/proc` shows its own PID namespace; `/run/netns` is
//! hidden under an empty tmpfs. The child runs only raw syscalls between `clone` and
//! `execve`, because the parent has other threads.

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::Netns;

/// The PATH a program sees, the same on every machine.
pub(crate) const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How much of each output stream is kept; the rest is read and counted.
const KEEP_BYTES: usize = 64 * 1024;

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
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// For reports: at most `max` characters, with what was left out counted.
    pub(crate) fn shown(&self, max: usize) -> String {
        let text = self.text();
        let mut out: String = text.chars().take(max).collect();
        let kept = out.len() as u64;
        if kept < self.total {
            out.push_str(&format!("… ({} more bytes)", self.total - kept));
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
    started: Instant,
    readers: Option<[JoinHandle<Captured>; 2]>,
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

/// What the child failed at, written to the error pipe as one byte plus errno.
const STAGES: [&str; 6] = [
    "enter the node's network namespace",
    "make its mounts private",
    "mount /sys for the node",
    "mount /proc",
    "hide /run/netns",
    "execute the program",
];

/// Everything the child needs, prepared before `clone`: the child must not allocate.
struct ChildPlan {
    path: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
    netns: RawFd,
    net_only: bool,
    hide_run_netns: bool,
    fds: [RawFd; 3],
    err: RawFd,
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
        env.push(cstring(&format!("{k}={v}"), "an environment variable")?);
    }
    Ok((argv, env))
}

/// Starts `p` in the node whose namespace is `ns`.
pub(crate) fn start(ns: &Netns, node: &str, p: &Program) -> io::Result<Running> {
    let name = p
        .argv
        .first()
        .ok_or_else(|| io::Error::other("empty command"))?;
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
    let plan = ChildPlan {
        path: cstring(&path.to_string_lossy(), "the program path")?,
        argv,
        env,
        netns: ns.raw_fd(),
        net_only: p.net_only,
        hide_run_netns: Path::new("/run/netns").is_dir(),
        fds: [in_r.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()],
        err: fail_w.as_raw_fd(),
    };
    let pid = clone_child(&plan)?;
    let started = Instant::now();
    drop((in_r, out_w, err_w, fail_w));
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
        started,
        readers: None,
        writer: None,
        reaped: None,
    };
    // EOF on the error pipe: execve succeeded (the pipe is close-on-exec).
    let mut report = Vec::new();
    std::fs::File::from(fail_r).read_to_end(&mut report)?;
    if let Some(e) = child_failure(&report, name) {
        running.kill();
        return Err(e);
    }
    running.readers = Some([reader(out_r)?, reader(err_r)?]);
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

fn clone_child(plan: &ChildPlan) -> io::Result<libc::pid_t> {
    let argv: Vec<*const libc::c_char> = plan
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = plan
        .env
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mut stack = vec![0u8; 128 * 1024];
    use nix::sched::CloneFlags;
    // CLONE_VM | CLONE_VFORK, as posix_spawn does: the child borrows our memory instead
    // of copying our page tables (which costs more the bigger the process), and we wait
    // until it has called execve or exited, so the stack it runs on stays alive.
    let mut flags = CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK;
    if !plan.net_only {
        flags |= CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    }
    let cb = Box::new(|| -> isize {
        // SAFETY: raw syscalls on prepared, NUL-terminated data; no allocation.
        unsafe { child(plan, &argv, &envp) }
    });
    // No signal handler of ours may run in the child, which shares our memory: signals
    // stay blocked from before the clone until the child has reset every handler.
    // SAFETY: sigset_t is plain data; the masks are valid for the calls.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    // SAFETY: the child runs `child`, which only makes syscalls and then execs or exits.
    let pid = unsafe { nix::sched::clone(cb, &mut stack, flags, Some(libc::SIGCHLD)) };
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    Ok(pid.map_err(io::Error::from)?.as_raw())
}

/// In the child: every signal back to its default (Rust ignores SIGPIPE, and an ignored
/// signal stays ignored across execve), then nothing blocked.
unsafe fn default_signals() {
    // The kernel's own struct: glibc's `signal` refuses the two signals it reserves.
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: libc::sighandler_t,
        mask: u64,
    }
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=64 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &dfl as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            );
        }
    }
    let mut none: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut none);
    libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
}

/// In the child, between clone and execve.
unsafe fn child(
    plan: &ChildPlan,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> isize {
    let fail = |stage: u8| give_up(plan, stage);
    default_signals();
    let null = std::ptr::null::<libc::c_char>();
    if libc::setns(plan.netns, libc::CLONE_NEWNET) != 0 {
        return fail(0);
    }
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    if plan.net_only {
        return exec_now(plan, argv, envp);
    }
    if libc::mount(
        null,
        c"/".as_ptr(),
        null,
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    ) != 0
    {
        return fail(1);
    }
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    if libc::mount(
        c"sysfs".as_ptr(),
        c"/sys".as_ptr(),
        c"sysfs".as_ptr(),
        flags,
        std::ptr::null(),
    ) != 0
    {
        return fail(2);
    }
    if libc::mount(
        c"proc".as_ptr(),
        c"/proc".as_ptr(),
        c"proc".as_ptr(),
        flags,
        std::ptr::null(),
    ) != 0
    {
        return fail(3);
    }
    if plan.hide_run_netns
        && libc::mount(
            c"tmpfs".as_ptr(),
            c"/run/netns".as_ptr(),
            c"tmpfs".as_ptr(),
            flags,
            c"size=4k,mode=0755".as_ptr().cast(),
        ) != 0
    {
        return fail(4);
    }
    exec_now(plan, argv, envp)
}

/// In the child: tells the parent which stage failed, with errno, and exits.
unsafe fn give_up(plan: &ChildPlan, stage: u8) -> isize {
    let e = (*libc::__errno_location()).to_ne_bytes();
    let msg = [stage, e[0], e[1], e[2], e[3]];
    libc::write(plan.err, msg.as_ptr().cast(), msg.len());
    libc::_exit(127)
}

/// In the child: standard streams, then execve.
unsafe fn exec_now(
    plan: &ChildPlan,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> isize {
    let fail = |stage: u8| give_up(plan, stage);
    for (i, fd) in plan.fds.iter().enumerate() {
        if libc::dup2(*fd, i as i32) < 0 {
            return fail(5);
        }
    }
    libc::execve(plan.path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    fail(5)
}

fn reader(fd: OwnedFd) -> io::Result<JoinHandle<Captured>> {
    std::thread::Builder::new()
        .name("netspec-output".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut f = std::fs::File::from(fd);
            let mut out = Captured::default();
            let mut buf = [0u8; 8192];
            loop {
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
        })
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

    /// Waits until it exits or `until` passes; then it is killed.
    pub(crate) fn wait(mut self, until: Instant) -> Finished {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if self.wait_readable(left) {
                self.reaped = Some(reap(self.pid));
                break;
            }
            if Instant::now() >= until {
                kill_and_reap(self.pid);
                self.reaped = Some(Status::TimedOut);
                break;
            }
        }
        self.finish()
    }

    /// Kills it (and so its whole PID namespace) and collects what it wrote.
    pub(crate) fn stop(mut self) -> Finished {
        self.kill();
        self.finish()
    }

    fn kill(&mut self) {
        if self.reaped.is_none() {
            let status = if self.has_exited() {
                reap(self.pid)
            } else {
                kill_and_reap(self.pid);
                Status::Stopped
            };
            self.reaped = Some(status);
        }
    }

    fn finish(&mut self) -> Finished {
        let [out, err] = match self.readers.take() {
            Some([o, e]) => [o.join().unwrap_or_default(), e.join().unwrap_or_default()],
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
