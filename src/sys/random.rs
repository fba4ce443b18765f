//! Random bytes from the kernel.

use nix::errno::Errno;

/// Fill `buf` from getrandom(2) (blocking only until the kernel's pool is
/// initialised, once per boot). A short read is an error.
pub fn getrandom(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: getrandom writes at most `buf.len()` bytes into the live buffer it is given.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    match usize::try_from(n) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => Err(Errno::EAGAIN),
        Err(_) => Err(Errno::last()),
    }
}
