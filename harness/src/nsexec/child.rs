//! The child side: everything between `clone` and `execve`, in raw syscalls only (the
//! child shares or copies a multi-threaded parent and must not allocate or lock):
//! netspec's init as PID 1 of the command's PID namespace, and the plain child that
//! starts netspec's own tools.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// What the child failed at, written to the error pipe as one byte plus errno.
pub(super) const STAGES: [&str; 9] = [
    "enter the node's network namespace",
    "make its mounts private",
    "mount /sys for the node",
    "mount /proc",
    "hide /run",
    "execute the program",
    "set the node's hostname",
    "set up its file descriptors",
    "start it under netspec's init",
];

/// What of /run a command sees covered by an empty tmpfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HideRun {
    Nothing,
    Netns,
    All,
}

/// The most descriptors a command's init holds for it.
pub(super) const MAX_HELD: usize = 4;

/// Where the init keeps the error pipe and the status pipe, after stdin, stdout, stderr.
const ERR_FD: RawFd = 3;
const STATUS_FD: RawFd = 4;

/// Everything the child needs, prepared before `clone`: the child must not allocate.
pub(super) struct ChildPlan {
    pub(super) path: CString,
    pub(super) argv: Vec<CString>,
    pub(super) env: Vec<CString>,
    pub(super) netns: RawFd,
    pub(super) net_only: bool,
    pub(super) hide_run: HideRun,
    /// Descriptors the init keeps at 5, 6, ... (close-on-exec: the command reaches
    /// them through /proc/1/fd).
    pub(super) held: Vec<RawFd>,
    pub(super) hostname: CString,
    /// stdin, stdout, stderr, the error pipe, the status pipe (the init writes the
    /// command's wait status there).
    pub(super) fds: [RawFd; 5],
    /// The stack the init starts the command on (the init may not allocate); empty for
    /// netspec's own tools, which need no init.
    pub(super) stack: Vec<u8>,
}

pub(super) fn clone_child(plan: &ChildPlan) -> io::Result<libc::pid_t> {
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
    if !settle_fds(&plan.fds, &plan.held) {
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
/// the held descriptors after them, every other descriptor of netspec's closed
/// (sockets, namespaces, other commands' pipes), all but 0 to 2 close-on-exec.
unsafe fn settle_fds(fds: &[RawFd; 5], held: &[RawFd]) -> bool {
    let mut high = [0; 5 + MAX_HELD];
    let n = 5 + held.len().min(MAX_HELD);
    for (h, fd) in high.iter_mut().zip(fds.iter().chain(held)) {
        *h = libc::fcntl(*fd, libc::F_DUPFD, 16);
        if *h < 0 {
            return false;
        }
    }
    for (i, h) in high[..n].iter().enumerate() {
        if libc::dup2(*h, i as RawFd) < 0 {
            return false;
        }
    }
    if libc::syscall(libc::SYS_close_range, n as u32, u32::MAX, 0u32) != 0 {
        return false;
    }
    (3..n as RawFd).all(|fd| libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) == 0)
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
    let covered = match plan.hide_run {
        HideRun::Nothing => return None,
        HideRun::Netns => c"/run/netns",
        HideRun::All => c"/run",
    };
    if libc::mount(
        c"tmpfs".as_ptr(),
        covered.as_ptr(),
        c"tmpfs".as_ptr(),
        flags,
        c"size=1m,mode=0755".as_ptr().cast(),
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
