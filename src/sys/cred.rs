//! Credentials: ids, supplementary groups, capabilities.
//!
//! The id calls are raw syscalls on the calling thread: pidone is
//! single-threaded when it drops privileges (the drop checks it), so musl's
//! broadcast of credential calls to every thread (__synccall) is not needed.
//! A call that succeeds changes this thread only.

use nix::errno::Errno;

/// The id calls' numbers. On 32-bit Arm the plain numbers are the old calls
/// with 16-bit ids (a uid above 65535 would be cut short, and setgroups would
/// read the list as 16-bit gids); the `*32` calls take whole ids, as musl's
/// own wrappers use them. The other targets have only 32-bit-id calls.
#[cfg(target_arch = "arm")]
mod nr {
    pub use libc::{
        SYS_getgroups32 as GETGROUPS, SYS_setgroups32 as SETGROUPS, SYS_setresgid32 as SETRESGID,
        SYS_setresuid32 as SETRESUID, SYS_setuid32 as SETUID,
    };
}
#[cfg(not(target_arch = "arm"))]
mod nr {
    pub use libc::{
        SYS_getgroups as GETGROUPS, SYS_setgroups as SETGROUPS, SYS_setresgid as SETRESGID, SYS_setresuid as SETRESUID,
        SYS_setuid as SETUID,
    };
}

fn check(rc: libc::c_long) -> Result<(), Errno> {
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// setgroups(2): the calling thread's supplementary groups become `groups`.
pub fn setgroups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: the kernel reads groups.len() gids from a live slice.
    check(unsafe { libc::syscall(nr::SETGROUPS, groups.len(), groups.as_ptr()) })
}

/// setresgid(gid, gid, gid): real, effective and saved gid.
pub fn setresgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: integer-only syscall.
    check(unsafe { libc::syscall(nr::SETRESGID, gid, gid, gid) })
}

/// setresuid(uid, uid, uid): real, effective and saved uid.
pub fn setresuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: integer-only syscall.
    check(unsafe { libc::syscall(nr::SETRESUID, uid, uid, uid) })
}

/// setuid(2), which for an unprivileged caller sets the effective uid only.
fn setuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: integer-only syscall.
    check(unsafe { libc::syscall(nr::SETUID, uid) })
}

/// A way back to root that a completed privilege drop must have closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootRegain {
    /// setresuid(0, 0, 0)
    Setresuid,
    /// setuid(0)
    Setuid,
    /// setresgid(0, 0, 0)
    Setresgid,
}

/// Try `way` back to uid or gid 0; true when it worked (which must never
/// happen after a drop). Raw like the drop itself, so a success is reported,
/// not applied process-wide.
pub fn regains_root(way: RootRegain) -> bool {
    match way {
        RootRegain::Setresuid => setresuid(0).is_ok(),
        RootRegain::Setuid => setuid(0).is_ok(),
        RootRegain::Setresgid => setresgid(0).is_ok(),
    }
}

/// getgroups(2): the calling thread's supplementary groups.
pub fn getgroups() -> Result<Vec<u32>, Errno> {
    // SAFETY: a zero size asks for the count only; nothing is written.
    let n = unsafe { libc::syscall(nr::GETGROUPS, 0, std::ptr::null_mut::<u32>()) };
    let mut out = vec![0u32; usize::try_from(n).map_err(|_| Errno::last())?];
    // SAFETY: out has room for out.len() gids.
    let n = unsafe { libc::syscall(nr::GETGROUPS, out.len(), out.as_mut_ptr()) };
    out.truncate(usize::try_from(n).map_err(|_| Errno::last())?);
    Ok(out)
}

const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// One half of the kernel's v3 capability sets (capabilities 0-31, then 32-63).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

/// The calling thread's capability sets, in the kernel's v3 layout.
pub type Caps = [CapData; 2];

/// capget(2) for the calling thread.
pub fn capget() -> Result<Caps, Errno> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: hdr and data are live, writable, and laid out as the kernel's
    // v3 __user_cap_header_struct and two __user_cap_data_structs.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) })?;
    Ok(data)
}

/// capset(2) for the calling thread.
pub fn capset(data: &Caps) -> Result<(), Errno> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    // SAFETY: as in capget; the kernel only reads `data`.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) })
}
