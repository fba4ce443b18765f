//! The syscall boundary: the few calls pidone makes that neither std nor nix
//! wraps the way PID 1 needs. Every `unsafe` block of the run mode lives here.
//!
//! Signal masks go to the kernel as raw 64-bit sets through the raw syscalls:
//! libc wrappers filter the signals they reserve for themselves (musl hides
//! 32-34 from `sigprocmask`'s old mask), and pidone must hand the child exactly
//! the mask it inherited.

use crate::signals::SigSet;
use nix::errno::Errno;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// What [`read_regular`] found at a path.
pub enum Found {
    /// A regular file's first bytes: all of it when at most `cap` bytes,
    /// otherwise `cap + 1` bytes (so the caller can tell it is larger).
    Regular(Vec<u8>),
    /// Something else (a directory, FIFO, socket or device), left unread.
    Other(std::fs::Metadata),
}

/// Read the small regular file at `path`, the one way pidone reads every file
/// it is given: opened without blocking (a FIFO cannot stall PID 1) and
/// without becoming the controlling terminal, checked with fstat to be a
/// regular file, then read to at most `cap + 1` bytes.
pub fn read_regular(path: &std::path::Path, cap: usize) -> std::io::Result<Found> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Found::Other(meta));
    }
    let limit = cap.saturating_add(1);
    read_up_to(&file, usize::try_from(meta.len()).unwrap_or(limit), limit).map(Found::Regular)
}

/// Read `file` to its end, but at most `cap` bytes (reading `cap` bytes tells
/// the caller the file may be larger); `hint` is the expected size. Every file
/// pidone reads goes through this one loop: std's `read_to_end` is a copy per
/// reader type (`File`, `Take<File>`) and costs three times the bytes.
pub fn read_up_to(mut file: &std::fs::File, hint: usize, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(hint.min(cap));
    let mut chunk = [0u8; 4096];
    while out.len() < cap {
        let want = chunk.len().min(cap - out.len());
        match file.read(chunk.get_mut(..want).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The C library's text for an errno value ("No such file or directory"),
/// written into `buf`.
pub fn strerror(code: i32, buf: &mut [u8; 128]) -> &str {
    // SAFETY: the buffer is live for the call and its length is passed, so
    // strerror_r writes at most that many bytes, NUL included.
    unsafe { libc::strerror_r(code, buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    std::str::from_utf8(buf.get(..end).unwrap_or_default()).unwrap_or("unknown error")
}

/// Change the calling thread's signal mask; returns the previous mask.
pub fn sigprocmask(how: libc::c_int, set: Option<SigSet>) -> Result<SigSet, Errno> {
    let new = set.map(|s| s.0);
    let mut old: u64 = 0;
    let new_ptr = new.as_ref().map_or(std::ptr::null(), |v| v as *const u64);
    // SAFETY: both pointers refer to live 8-byte buffers (or null for "no change"),
    // and 8 is the kernel's sigset size on every supported target.
    let rc = unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how, new_ptr, &mut old as *mut u64, 8usize) };
    if rc < 0 { Err(Errno::last()) } else { Ok(SigSet(old)) }
}

/// A close-on-exec, blocking signalfd for `set`.
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    let mask = set.0;
    // SAFETY: the mask pointer refers to a live u64; -1 asks for a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_signalfd4, -1, &mask as *const u64, 8usize, libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Read pending signal numbers from a signalfd into `out` (blocks if none).
/// Returns how many were read.
pub fn read_signals(fd: RawFd, out: &mut [i32; 32]) -> Result<usize, Errno> {
    const SZ: usize = std::mem::size_of::<libc::signalfd_siginfo>();
    let mut buf = [0u8; SZ * 32];
    let n = loop {
        // SAFETY: buf is a live, writable buffer of the length passed.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            break n as usize;
        }
        let e = Errno::last();
        if e != Errno::EINTR {
            return Err(e);
        }
    };
    let mut count = 0;
    let filled = buf.get(..n).unwrap_or(&[]);
    for (chunk, slot) in filled.chunks_exact(SZ).zip(out.iter_mut()) {
        // ssi_signo is the first field of struct signalfd_siginfo.
        let Some(Ok(signo)) = chunk.get(..4).map(<[u8; 4]>::try_from) else { continue };
        *slot = u32::from_ne_bytes(signo) as i32;
        count += 1;
    }
    Ok(count)
}

/// Close every descriptor from `first` to `last` inclusive.
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    if first > last {
        return Ok(());
    }
    // SAFETY: close_range only closes descriptors; the caller keeps none of them.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// Close every descriptor above 2 but `keep`, with a /proc fallback for kernels
/// older than 5.9.
pub fn close_fds_except(keep: RawFd) {
    let keep = keep as u32;
    let ok = close_range(3, keep.saturating_sub(1)).is_ok() && close_range(keep + 1, u32::MAX).is_ok();
    if ok {
        return;
    }
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return };
    let fds: Vec<RawFd> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &RawFd| fd > 2 && fd as u32 != keep)
        .collect();
    for fd in fds {
        // SAFETY: closing a descriptor number; the directory stream's own fd may be
        // among them, which only makes this close fail with EBADF.
        unsafe { libc::close(fd) };
    }
}

/// Wait until `fd` is readable or `timeout_ms` passes. Returns true if readable.
pub fn poll_readable(fd: RawFd, timeout_ms: i32) -> Result<bool, Errno> {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: pfd is a live pollfd and the count is 1.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match rc {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let e = Errno::last();
            if e == Errno::EINTR { Ok(false) } else { Err(e) }
        }
    }
}

/// prctl(2) with one integer argument (the rest zero, as the kernel requires
/// for the options pidone uses); returns prctl's non-negative result.
pub fn prctl(op: libc::c_int, arg: libc::c_ulong) -> Result<libc::c_int, Errno> {
    let zero: libc::c_ulong = 0;
    // SAFETY: every prctl option pidone uses takes integer arguments only.
    let rc = unsafe { libc::prctl(op, arg, zero, zero, zero) };
    if rc < 0 { Err(Errno::last()) } else { Ok(rc) }
}

/// Register as child subreaper so orphans of the tree are re-parented to us.
pub fn set_child_subreaper() -> Result<(), Errno> {
    prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map(|_| ())
}

/// Reap one child. `Ok(Some((pid, code)))` for a child that ended, with code
/// = exit status or 128+signal; `Ok(None)` when children remain but none has
/// ended (only with `nohang`); `Err(ECHILD)` when there are no children.
///
/// Raw waitpid, because nix refuses statuses of children killed by a
/// real-time signal, and PID 1 must reap those too.
pub fn wait_any(nohang: bool) -> Result<Option<(i32, i32)>, Errno> {
    let mut status: libc::c_int = 0;
    let flags = if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: status points to a live c_int.
        let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
        if pid > 0 {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                continue;
            };
            return Ok(Some((pid, code)));
        }
        if pid == 0 {
            return Ok(None);
        }
        match Errno::last() {
            Errno::EINTR => continue,
            e => return Err(e),
        }
    }
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

/// setgroups(2) as a raw syscall on the calling thread: pidone is
/// single-threaded when it drops privileges, so musl's broadcast of credential
/// calls to every thread (__synccall) is not needed.
pub fn setgroups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: the kernel reads groups.len() gids from a live slice.
    let rc = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// The credential syscall `nr` (setresuid, setresgid, or setuid, which reads
/// only the first) with `id` for every id, raw as [`setgroups`]: a call that
/// succeeds changes this thread only.
pub fn set_ids(nr: libc::c_long, id: u32) -> Result<(), Errno> {
    // SAFETY: integer-only syscall.
    let rc = unsafe { libc::syscall(nr, id, id, id) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// getgroups(2): the calling thread's supplementary groups.
pub fn getgroups() -> Result<Vec<u32>, Errno> {
    // SAFETY: a zero size asks for the count only; nothing is written.
    let n = unsafe { libc::syscall(libc::SYS_getgroups, 0, std::ptr::null_mut::<u32>()) };
    let mut out = vec![0u32; usize::try_from(n).map_err(|_| Errno::last())?];
    // SAFETY: out has room for out.len() gids.
    let n = unsafe { libc::syscall(libc::SYS_getgroups, out.len(), out.as_mut_ptr()) };
    out.truncate(usize::try_from(n).map_err(|_| Errno::last())?);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Sockets, for the probe (probe/net.rs).

/// Connect a new close-on-exec Unix stream socket to `path`, waiting at most
/// `timeout`. Linux completes a Unix connect at once, or sleeps in it while
/// the listener's accept queue is full (there is no asynchronous Unix connect
/// to poll: a non-blocking one fails with EAGAIN). SO_SNDTIMEO, set before the
/// connect, bounds that sleep; when it runs out the connect fails with EAGAIN
/// (`WouldBlock`).
pub fn connect_unix(path: &std::path::Path, timeout: std::time::Duration) -> std::io::Result<UnixStream> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data, for which all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: integer-only syscall.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // A zero timeval means "no timeout": never less than 1 µs.
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros().max(u32::from(timeout.is_zero()))),
    };
    let tv_len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: tv is a live timeval and its size is passed.
    let rc = unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, (&tv as *const libc::timeval).cast(), tv_len)
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: addr is a live sockaddr_un and len does not exceed its size.
    let rc = unsafe { libc::connect(fd, (&addr as *const libc::sockaddr_un).cast(), len) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(UnixStream::from(sock))
}
