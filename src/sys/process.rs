//! Processes: fork, exec, wait, kill, process groups, the terminal's
//! foreground group, resource limits, pidfds.

use super::signal::Signal;
use nix::errno::Errno;
use std::ffi::{CStr, c_char};
use std::fmt;
use std::os::fd::RawFd;
use std::rc::Rc;

/// A process id (always positive). Process groups are named by their
/// leader's pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pid(i32);

impl Pid {
    /// `n` as a pid, or `None` when it is not positive.
    pub fn new(n: i32) -> Option<Pid> {
        (n > 0).then_some(Pid(n))
    }

    pub fn raw(self) -> i32 {
        self.0
    }

    /// The calling process (async-signal-safe).
    pub fn own() -> Pid {
        // SAFETY: getpid has no arguments and cannot fail.
        Pid(unsafe { libc::getpid() })
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which side of a fork the caller is on.
pub enum Forked {
    /// The new process. Until it execs or calls [`exit_now`], it may only
    /// call async-signal-safe functions (every wrapper of this module that
    /// says so, and writes to a descriptor): no allocation, no lock, no log
    /// line. Everything it needs must be prepared before the fork.
    Child,
    /// The caller, with the child's pid.
    Parent(Pid),
}

/// fork(2). See [`Forked::Child`] for what the child may do.
pub fn fork() -> Result<Forked, Errno> {
    // SAFETY: pidone is single-threaded whenever it forks (it starts no
    // thread; the privilege drop checks it), so the child inherits no lock
    // held by another thread; the child side is restricted to
    // async-signal-safe calls, as documented on `Forked::Child`.
    let pid = unsafe { libc::fork() };
    match pid {
        0 => Ok(Forked::Child),
        n => Pid::new(n).map(Forked::Parent).ok_or_else(Errno::last),
    }
}

/// End the calling process at once with `code`, without running exit
/// handlers or flushing buffers (async-signal-safe: the end of a failed child).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process; it touches no memory of the caller.
    unsafe { libc::_exit(code) }
}

/// setpgid(2): move `pid` into the process group `pgid` (async-signal-safe).
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: setpgid takes two integers and touches no memory.
    let rc = unsafe { libc::setpgid(pid.raw(), pgid.raw()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// tcsetpgrp(3): make `pgid` the foreground group of the terminal on `fd`
/// (async-signal-safe).
pub fn tcsetpgrp(fd: RawFd, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: tcsetpgrp takes two integers and touches no memory.
    let rc = unsafe { libc::tcsetpgrp(fd, pgid.raw()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// The first of stdin, stdout, stderr that is a terminal whose foreground
/// process group is pidone's own: the terminal pidone may hand to the child.
/// None when pidone runs in the background, so it never steals a terminal.
pub fn foreground_tty() -> Option<RawFd> {
    // SAFETY: getpgrp has no arguments and cannot fail.
    let own = unsafe { libc::getpgrp() };
    // SAFETY: isatty and tcgetpgrp only inspect the descriptor.
    (0..=2).find(|&fd| unsafe { libc::isatty(fd) == 1 && libc::tcgetpgrp(fd) == own })
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(u8),
    Killed(Signal),
}

impl Status {
    /// The shell's code for it: the exit status, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            Status::Exited(code) => i32::from(code),
            Status::Killed(sig) => 128 + sig.raw(),
        }
    }
}

/// waitpid(2) for `pid` (-1: any child) until one ends; `Ok(None)` when
/// `nohang` and none has ended yet. Stops and continues are not endings.
///
/// Raw waitpid, because nix refuses statuses of children killed by a
/// real-time signal, and PID 1 must reap those too.
fn wait(pid: libc::pid_t, nohang: bool) -> Result<Option<(Pid, Status)>, Errno> {
    let mut status: libc::c_int = 0;
    let flags = if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: status points to a live c_int.
        let got = unsafe { libc::waitpid(pid, &mut status, flags) };
        if let Some(got) = Pid::new(got) {
            let ended = if libc::WIFEXITED(status) {
                u8::try_from(libc::WEXITSTATUS(status)).ok().map(Status::Exited)
            } else if libc::WIFSIGNALED(status) {
                Signal::new(libc::WTERMSIG(status)).map(Status::Killed)
            } else {
                None
            };
            match ended {
                Some(status) => return Ok(Some((got, status))),
                None => continue,
            }
        }
        if got == 0 {
            return Ok(None);
        }
        match Errno::last() {
            Errno::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// Reap one child. `Ok(Some((pid, status)))` for a child that ended;
/// `Ok(None)` when children remain but none has ended (only with `nohang`);
/// `Err(ECHILD)` when there are no children.
pub fn wait_any(nohang: bool) -> Result<Option<(Pid, Status)>, Errno> {
    wait(-1, nohang)
}

/// Wait for the child `pid` to end and reap it.
pub fn wait_for(pid: Pid) -> Result<Status, Errno> {
    wait(pid.raw(), false)?.map(|(_, status)| status).ok_or(Errno::ECHILD)
}

/// NUL-terminated strings and the null-terminated pointer array execve reads
/// them through, built together so the pointers never outlive the strings.
/// Strings are shared (`Rc`), so several arrays over the same arguments cost
/// one pointer each.
pub struct CStrArray {
    strings: Vec<Rc<CStr>>,
    ptrs: Vec<*const c_char>,
}

impl CStrArray {
    pub fn new(strings: Vec<Rc<CStr>>) -> CStrArray {
        let mut ptrs = Vec::with_capacity(strings.len().saturating_add(1));
        for s in &strings {
            ptrs.push(s.as_ptr());
        }
        ptrs.push(std::ptr::null());
        CStrArray { strings, ptrs }
    }

    pub fn strings(&self) -> &[Rc<CStr>] {
        &self.strings
    }

    /// What execve copies of this array onto the new program's stack: every
    /// string with its NUL, and one pointer per string.
    pub fn exec_size(&self) -> usize {
        let ptr = std::mem::size_of::<*const c_char>();
        self.strings.iter().fold(0usize, |sum, s| sum.saturating_add(s.to_bytes().len()).saturating_add(1 + ptr))
    }
}

/// execve(2): replace the process image. Returns only on failure, with the
/// errno (async-signal-safe: it allocates nothing).
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> Errno {
    // SAFETY: path is NUL-terminated, and argv and envp are null-terminated
    // arrays of pointers to NUL-terminated strings the arrays own, all alive
    // for the call.
    unsafe { libc::execve(path.as_ptr(), argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) };
    Errno::last()
}

/// The soft RLIMIT_STACK in bytes; `None` when unlimited or unreadable.
pub fn stack_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is a live, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut lim) };
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur)
}

/// The soft RLIMIT_NOFILE (how many descriptors pidone may hold); `None`
/// when unreadable.
pub fn open_files_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is a live, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some(lim.rlim_cur)
}

/// A close-on-exec pidfd for `pid`: it polls readable once the process has
/// exited, which lets PID 1 watch processes it cannot wait() for. ENOSYS
/// before Linux 5.3.
pub fn pidfd_open(pid: Pid) -> Result<std::os::fd::OwnedFd, Errno> {
    use std::os::fd::FromRawFd;
    // SAFETY: integer-only syscall; it returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.raw(), 0u32) };
    let fd = std::os::fd::RawFd::try_from(fd).map_err(|_| Errno::EBADF)?;
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Who a signal goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// One process.
    Process(Pid),
    /// Every member of a process group: kill(-pgid).
    Group(Pid),
    /// Every process the caller may signal but itself: kill(-1).
    Everyone,
}

/// As kill(2) writes it: `5`, `-5` for a group, `-1` for everyone.
impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::Process(pid) => write!(f, "{pid}"),
            Recipient::Group(pgid) => write!(f, "-{pgid}"),
            Recipient::Everyone => f.write_str("-1"),
        }
    }
}

/// kill(2): send `sig` (real-time ones included) to `to`.
pub fn kill(to: Recipient, sig: Signal) -> Result<(), Errno> {
    let target = match to {
        Recipient::Process(pid) => pid.raw(),
        Recipient::Group(pgid) => -pgid.raw(),
        Recipient::Everyone => -1,
    };
    // SAFETY: kill(2) takes two integers and touches no memory.
    let rc = unsafe { libc::kill(target, sig.raw()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}
