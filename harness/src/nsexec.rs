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

/// What the child failed at, written to the error pipe as one byte plus errno.
const STAGES: [&str; 9] = [
    "enter the node's network namespace",
    "make its mounts private",
    "mount /sys for the node",
    "mount /proc",
    "hide /run/netns",
    "execute the program",
    "set the node's hostname",
    "set up its file descriptors",
    "start it under netspec's init",
];

/// Where the init keeps the error pipe and the status pipe, after stdin, stdout, stderr.
const ERR_FD: RawFd = 3;
const STATUS_FD: RawFd = 4;

/// Everything the child needs, prepared before `clone`: the child must not allocate.
struct ChildPlan {
    path: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
    netns: RawFd,
    net_only: bool,
    hide_run_netns: bool,
    hostname: CString,
    /// stdin, stdout, stderr, the error pipe, the status pipe (the init writes the
    /// command's wait status there).
    fds: [RawFd; 5],
    /// The stack the init starts the command on (the init may not allocate); empty for
    /// netspec's own tools, which need no init.
    stack: Vec<u8>,
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
    let (status_r, status_w) = pipe()?;
    let plan = ChildPlan {
        path: cstring(&path.to_string_lossy(), "the program path")?,
        argv,
        env,
        netns: ns.raw_fd(),
        net_only: p.net_only,
        hide_run_netns: Path::new("/run/netns").is_dir(),
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
    // No signal handler of ours may run in the child: signals stay blocked from before
    // the clone until the child has reset every handler.
    // SAFETY: sigset_t is plain data; the masks are valid for the calls.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    let pid = if plan.net_only {
        clone_tool(plan, &argv, &envp)
    } else {
        clone_init(plan, &argv, &envp)
    };
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    pid
}

/// netspec's own tools (nft, iptables-restore): CLONE_VM | CLONE_VFORK, as posix_spawn
/// does. The child borrows our memory instead of copying our page tables, and we wait
/// until it has called execve or exited, so the stack it runs on stays alive.
fn clone_tool(
    plan: &ChildPlan,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Result<libc::pid_t> {
    use nix::sched::CloneFlags;
    let mut stack = vec![0u8; 128 * 1024];
    let cb = Box::new(|| -> isize {
        // SAFETY: raw syscalls on prepared, NUL-terminated data; no allocation.
        unsafe { tool_child(plan, argv, envp) }
    });
    let flags = CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK;
    // SAFETY: the child runs `tool_child`, which only makes syscalls and then execs or exits.
    let pid = unsafe { nix::sched::clone(cb, &mut stack, flags, Some(libc::SIGCHLD)) };
    Ok(pid.map_err(io::Error::from)?.as_raw())
}

/// A user's command: the init is a forked copy of this process (it must outlive this
/// call, so it cannot borrow our memory), PID 1 of fresh PID, mount, UTS and IPC
/// namespaces.
fn clone_init(
    plan: &ChildPlan,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Result<libc::pid_t> {
    let flags = libc::CLONE_NEWPID
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::SIGCHLD;
    // SAFETY: a fork-like clone (no new stack: the child runs on a copy of this one).
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match r {
        // SAFETY: in the child, which only makes raw syscalls and never returns.
        0 => unsafe { init(plan, argv, envp) },
        r if r < 0 => Err(io::Error::last_os_error()),
        pid => Ok(pid as libc::pid_t),
    }
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

/// In a tool's child, between clone and execve.
unsafe fn tool_child(
    plan: &ChildPlan,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> isize {
    default_signals();
    if libc::setns(plan.netns, libc::CLONE_NEWNET) != 0 {
        give_up(plan.fds[3], 0);
    }
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    for (i, fd) in plan.fds[..3].iter().enumerate() {
        if libc::dup2(*fd, i as i32) < 0 {
            give_up(plan.fds[3], 7);
        }
    }
    libc::execve(plan.path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    give_up(plan.fds[3], 5)
}

/// In the init, PID 1 of the command's namespaces: sets them up, forks the command as
/// PID 2, reaps whatever it orphans, and exits with it, which ends them all.
unsafe fn init(plan: &ChildPlan, argv: &[*const libc::c_char], envp: &[*const libc::c_char]) -> ! {
    default_signals();
    // First: from here on, netspec's death kills the init, and with it the namespace.
    // The init never changes its credentials, so nothing clears this.
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    if libc::setns(plan.netns, libc::CLONE_NEWNET) != 0 {
        give_up(plan.fds[3], 0);
    }
    if !settle_fds(&plan.fds) {
        give_up(plan.fds[3], 7);
    }
    if let Some(stage) = mount_node_view(plan) {
        give_up(ERR_FD, stage);
    }
    let name = plan.hostname.as_bytes();
    if libc::sethostname(name.as_ptr().cast(), name.len()) != 0 {
        give_up(ERR_FD, 6);
    }
    // The command borrows the init's memory until it calls execve (CLONE_VM |
    // CLONE_VFORK, on a stack of its own that the parent allocated before the fork): a
    // second copy of netspec's page tables would double the cost of every command.
    let exec = Exec {
        path: plan.path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
    };
    let stack = plan.stack.as_ptr().add(plan.stack.len()) as *mut libc::c_void;
    let cmd = libc::clone(
        exec_command,
        stack,
        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
        &exec as *const Exec as *mut libc::c_void,
    );
    if cmd < 0 {
        give_up(ERR_FD, 8);
    }
    let cmd = libc::c_long::from(cmd);
    // The init keeps nothing of the command's: its output ends when the command's does.
    for fd in [0, 1, 2, ERR_FD] {
        libc::close(fd);
    }
    loop {
        let mut status: libc::c_int = 0;
        let r = libc::wait4(-1, &mut status, 0, std::ptr::null_mut());
        if r as libc::c_long == cmd {
            let bytes = status.to_ne_bytes();
            libc::write(STATUS_FD, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(0);
        }
    }
}

/// What the command's child needs to call execve.
struct Exec {
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
}

/// The command's child, on its own stack in the init's memory: execve, or say why not.
extern "C" fn exec_command(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the init's `Exec`, alive while the init waits (CLONE_VFORK); the
    // pointers are to NUL-terminated data prepared before the fork.
    unsafe {
        let e = &*(arg as *const Exec);
        libc::execve(e.path, e.argv, e.envp);
        give_up(ERR_FD, 5)
    }
}

/// In the init: stdin, stdout, stderr, the error pipe and the status pipe at 0 to 4,
/// every other descriptor of netspec's closed (sockets, namespaces, other commands'
/// pipes), the two pipes close-on-exec.
unsafe fn settle_fds(fds: &[RawFd; 5]) -> bool {
    let mut high = [0; 5];
    for (h, fd) in high.iter_mut().zip(fds) {
        *h = libc::fcntl(*fd, libc::F_DUPFD, 10);
        if *h < 0 {
            return false;
        }
    }
    for (i, h) in high.iter().enumerate() {
        if libc::dup2(*h, i as RawFd) < 0 {
            return false;
        }
    }
    libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32) == 0
        && libc::fcntl(ERR_FD, libc::F_SETFD, libc::FD_CLOEXEC) == 0
        && libc::fcntl(STATUS_FD, libc::F_SETFD, libc::FD_CLOEXEC) == 0
}

/// In the init: private mounts; the host's /sys and /proc detached, not just covered,
/// so that unmounting the node's own reveals nothing; /run/netns hidden. Returns the
/// stage that failed.
unsafe fn mount_node_view(plan: &ChildPlan) -> Option<u8> {
    let null = std::ptr::null::<libc::c_char>();
    if libc::mount(
        null,
        c"/".as_ptr(),
        null,
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    ) != 0
    {
        return Some(1);
    }
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    for (stage, fs, dir) in [(2, c"sysfs", c"/sys"), (3, c"proc", c"/proc")] {
        // Fails where the mount is locked (in a user namespace of netspec's, whose
        // owner cannot reach the host's namespaces anyway) or absent: then covered only.
        libc::umount2(dir.as_ptr(), libc::MNT_DETACH);
        if libc::mount(
            fs.as_ptr(),
            dir.as_ptr(),
            fs.as_ptr(),
            flags,
            std::ptr::null(),
        ) != 0
        {
            return Some(stage);
        }
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
        return Some(4);
    }
    None
}

/// In the child: tells the parent which stage failed, with errno, and exits.
unsafe fn give_up(err_fd: RawFd, stage: u8) -> ! {
    let e = (*libc::__errno_location()).to_ne_bytes();
    let msg = [stage, e[0], e[1], e[2], e[3]];
    libc::write(err_fd, msg.as_ptr().cast(), msg.len());
    libc::_exit(127)
}

/// Reads one output stream on its own thread until it closes, or until told to stop.
#[derive(Debug)]
struct Reader {
    done: std::sync::mpsc::Receiver<Captured>,
    /// Dropping it wakes the thread, which then drains what is there and returns.
    stop: OwnedFd,
}

impl Reader {
    fn start(fd: OwnedFd) -> io::Result<Reader> {
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
    fn collect(self, until: Instant) -> Captured {
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
