//! Files and descriptors: the one bounded reader, closing inherited
//! descriptors, waiting for one to become readable.

use nix::errno::Errno;
use std::os::fd::RawFd;

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
    use nix::fcntl::OFlag;
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let file = std::fs::File::from(nix::fcntl::open(path, flags, nix::sys::stat::Mode::empty())?);
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Found::Other(meta));
    }
    let limit = cap.saturating_add(1);
    read_up_to(&file, usize::try_from(meta.len()).unwrap_or(limit), limit).map(Found::Regular)
}

/// Read `file` to its end, but at most `cap` bytes (reading `cap` bytes tells
/// the caller the file may be larger); `hint` is the expected size. Every file
/// pidone reads goes through this one loop.
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

/// The standard streams pidone writes: its output (`--help`, `pidone env`,
/// `probe`'s line) and its log.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

/// Write all of `bytes` to `stream` at once, unbuffered, going on after a
/// signal or a short write. A closed stream (EBADF) takes the bytes without an
/// error, as std's `stdout()` and `stderr()` do.
pub fn write_all(stream: Stream, mut bytes: &[u8]) -> std::io::Result<()> {
    let fd = match stream {
        Stream::Out => libc::STDOUT_FILENO,
        Stream::Err => libc::STDERR_FILENO,
    };
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length; a closed or bad
        // descriptor is an error return.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(n) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(_) => match Errno::last() {
                Errno::EINTR => {}
                Errno::EBADF => return Ok(()),
                e => return Err(e.into()),
            },
        }
    }
    Ok(())
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
    let ok = close_range(3, keep.saturating_sub(1)).is_ok() && close_range(keep.saturating_add(1), u32::MAX).is_ok();
    if ok {
        return;
    }
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return };
    let fds: Vec<RawFd> = dir
        .filter_map(|e| crate::number::decimal(e.ok()?.file_name().to_str()?).and_then(|n| RawFd::try_from(n).ok()))
        .filter(|&fd: &RawFd| fd > 2 && fd as u32 != keep)
        .collect();
    for fd in fds {
        // SAFETY: closing a descriptor number; the directory stream's own fd may be
        // among them, which only makes this close fail with EBADF.
        unsafe { libc::close(fd) };
    }
}

/// A set of descriptors to wait on for readability with one poll(2).
pub struct PollSet {
    fds: Vec<libc::pollfd>,
}

impl PollSet {
    /// Watch every descriptor of `fds` for POLLIN (a pidfd polls readable
    /// once its process has exited).
    pub fn readable(fds: impl Iterator<Item = RawFd>) -> PollSet {
        let mut set = PollSet { fds: Vec::new() };
        for fd in fds {
            set.fds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
        }
        set
    }

    pub fn len(&self) -> usize {
        self.fds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }

    /// Whether the `i`th descriptor was ready at the last [`PollSet::poll`].
    pub fn ready(&self, i: usize) -> bool {
        self.fds.get(i).is_some_and(|p| p.revents != 0)
    }

    /// Wait at most `timeout_ms` (negative: no limit); returns how many
    /// descriptors are ready: 0 on timeout and on EINTR.
    pub fn poll(&mut self, timeout_ms: i32) -> Result<usize, Errno> {
        for p in &mut self.fds {
            p.revents = 0;
        }
        let count = libc::nfds_t::try_from(self.fds.len()).unwrap_or(libc::nfds_t::MAX);
        // SAFETY: the pointer and count describe a live, writable Vec of pollfd.
        let rc = unsafe { libc::poll(self.fds.as_mut_ptr(), count, timeout_ms) };
        match usize::try_from(rc) {
            Ok(n) => Ok(n),
            Err(_) => match Errno::last() {
                Errno::EINTR => Ok(0),
                e => Err(e),
            },
        }
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
