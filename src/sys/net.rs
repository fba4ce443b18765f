//! Sockets: a Unix-socket connect bounded by a timeout, for the probe.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

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
    // The field types differ between targets (32-bit on armv7 in the libc
    // crate): as i32s (68 years at most), they convert into every one.
    let secs = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
    let micros = i32::try_from(timeout.subsec_micros().max(u32::from(timeout.is_zero()))).unwrap_or(0);
    let tv = libc::timeval { tv_sec: secs.into(), tv_usec: micros.into() };
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
