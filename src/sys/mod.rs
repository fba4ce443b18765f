//! The syscall boundary: the calls pidone makes that neither std nor nix
//! wraps the way PID 1 needs, each behind a typed, safe function. Every
//! `unsafe` block of pidone lives in this folder, but for the argv walk in
//! `main.rs` and the allocator in `heap.rs`; the crate denies `unsafe_code`
//! everywhere else.
//!
//! One file per kind of call: `signal` (masks, signalfd, kill), `process`
//! (fork, exec, wait, process groups, limits), `cred` (ids, groups,
//! capabilities), `fs` (bounded reads, descriptors, poll), `net` (a bounded
//! Unix-socket connect) and `random`. This layer
//! imports nothing from the rest of pidone: errors leave it as `Errno`.

mod cred;
mod fs;
mod net;
mod process;
mod random;
mod signal;

pub use cred::*;
pub use fs::*;
pub use net::*;
pub use process::*;
pub use random::*;
pub use signal::*;

pub use nix::errno::Errno;

/// The C library's text for an errno value ("No such file or directory"),
/// written into `buf`.
pub fn strerror(code: i32, buf: &mut [u8; 128]) -> &str {
    // SAFETY: the buffer is live for the call and its length is passed, so
    // strerror_r writes at most that many bytes, NUL included.
    unsafe { libc::strerror_r(code, buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    std::str::from_utf8(buf.get(..end).unwrap_or_default()).unwrap_or("unknown error")
}

/// prctl(2) with one integer argument (the rest zero, as the kernel requires
/// for the options pidone uses); returns prctl's non-negative result.
pub fn prctl(op: libc::c_int, arg: libc::c_ulong) -> Result<libc::c_int, Errno> {
    let zero: libc::c_ulong = 0;
    // SAFETY: every prctl option pidone uses takes integer arguments only.
    let rc = unsafe { libc::prctl(op, arg, zero, zero, zero) };
    if rc < 0 { Err(Errno::last()) } else { Ok(rc) }
}

/// Ask the kernel to send `sig` to pidone when its parent dies (tini's `-p`).
pub fn set_parent_death_signal(sig: Signal) -> Result<(), Errno> {
    prctl(libc::PR_SET_PDEATHSIG, libc::c_ulong::from(sig.raw().unsigned_abs())).map(|_| ())
}

/// Register as child subreaper so orphans of the tree are re-parented to us.
pub fn set_child_subreaper() -> Result<(), Errno> {
    prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map(|_| ())
}
