//! The privilege drop itself, in the calling process, and its verification.
//!
//! Order (CERT POS36-C, setpriv's `--inh-caps=-all --bounding-set=-all --nnp`):
//! bounding set, ambient and inheritable capabilities while still privileged,
//! no_new_privs, then setgroups, setresgid, setresuid, then the permitted and
//! effective sets cleared outright (in case securebits kept them). Then every
//! result is checked (POS37-C): the ids, the groups, no_new_privs, no
//! capability in any set, and that uid 0 cannot be regained.

use crate::error::{Error, Result, errno_text};
use crate::sys::prctl;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

/// The credentials to switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, deduplicated.
    pub groups: Vec<u32>,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn capget() -> std::result::Result<[CapData; 2], Errno> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: hdr and data are live, writable, and laid out as the kernel's
    // v3 __user_cap_header_struct and two __user_cap_data_structs.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(data) }
}

fn capset(data: &[CapData; 2]) -> std::result::Result<(), Errno> {
    let mut hdr = CapHeader { version: CAP_VERSION_3, pid: 0 };
    // SAFETY: as in capget; the kernel only reads `data`.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if rc < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// The highest capability number the kernel knows.
fn last_cap() -> u32 {
    std::fs::File::open("/proc/sys/kernel/cap_last_cap")
        .and_then(|f| crate::sys::read_up_to(&f, 0, 64))
        .ok()
        .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<u32>().ok())
        .map_or(63, |n| n.min(63))
}

/// Whether `cap` is in the bounding set; `None` once the kernel does not know it.
fn in_bounding_set(cap: u32) -> Option<bool> {
    match prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap)) {
        Ok(v) => Some(v == 1),
        Err(_) => None,
    }
}

fn fail(step: &str, e: Errno, hint: &str) -> Error {
    Error::config(format!("cannot drop privileges: {step}: {}{hint}", errno_text(e)))
}

fn clear_bounding_set(last: u32) -> Result<()> {
    for cap in 0..=last {
        match in_bounding_set(cap) {
            None => break,
            Some(false) => {}
            Some(true) => {
                prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap)).map_err(|e| {
                    fail(&format!("dropping capability {cap} from the bounding set"), e, " (is CAP_SETPCAP missing?)")
                })?;
            }
        }
    }
    Ok(())
}

fn clear_ambient_and_inheritable() -> Result<()> {
    match prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong) {
        // Kernels before 4.3 have no ambient set: nothing to clear.
        Ok(_) | Err(Errno::EINVAL) => {}
        Err(e) => return Err(fail("clearing the ambient capabilities", e, "")),
    }
    let mut caps = capget().map_err(|e| fail("capget", e, ""))?;
    for d in &mut caps {
        d.inheritable = 0;
    }
    capset(&caps).map_err(|e| fail("clearing the inheritable capabilities", e, ""))
}

/// Switch the calling process to `to`. Without `keep_caps` (the target is not
/// root) every capability is dropped first; with `no_new_privs` execve can
/// never grant privileges again (setuid bits and file capabilities are ignored).
pub fn switch(to: &Creds, no_new_privs: bool) -> Result<()> {
    let root = to.uid == 0;
    let last = last_cap();
    if !root {
        clear_bounding_set(last)?;
        clear_ambient_and_inheritable()?;
    }
    if no_new_privs {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|e| fail("setting no_new_privs", e, ""))?;
    }
    let groups: Vec<Gid> = to.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    nix::unistd::setgroups(&groups).map_err(|e| fail("setgroups", e, " (is CAP_SETGID missing?)"))?;
    let gid = Gid::from_raw(to.gid);
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| fail("setresgid", e, " (is CAP_SETGID missing?)"))?;
    let uid = Uid::from_raw(to.uid);
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| fail("setresuid", e, " (is CAP_SETUID missing?)"))?;
    if !root {
        // The kernel clears these when every uid leaves 0, unless securebits
        // say otherwise; clear them explicitly (dropping is always allowed).
        capset(&[CapData::default(); 2]).map_err(|e| fail("clearing the capabilities", e, ""))?;
    }
    verify(to, no_new_privs, last)
}

/// `1,2,3`
pub fn list(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::config(format!("privilege drop verification failed: {}", what()))) }
}

/// A raw credential syscall with three id arguments; true when it succeeded.
/// Raw, so a success (which must not happen) changes this thread only and is
/// reported rather than applied process-wide by libc.
fn raw_id_call(nr: libc::c_long, a: u32, b: u32, c: u32) -> bool {
    // SAFETY: integer-only syscall; no memory is passed.
    unsafe { libc::syscall(nr, a, b, c) == 0 }
}

fn verify(to: &Creds, no_new_privs: bool, last: u32) -> Result<()> {
    let err =
        |what: &str, e: Errno| Error::config(format!("privilege drop verification failed: {what}: {}", errno_text(e)));
    let u = nix::unistd::getresuid().map_err(|e| err("getresuid", e))?;
    let got = [u.real.as_raw(), u.effective.as_raw(), u.saved.as_raw()];
    check(got == [to.uid; 3], || format!("uids are {}, expected {}", list(&got), to.uid))?;
    let g = nix::unistd::getresgid().map_err(|e| err("getresgid", e))?;
    let got = [g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw()];
    check(got == [to.gid; 3], || format!("gids are {}, expected {}", list(&got), to.gid))?;
    let mut groups: Vec<u32> =
        nix::unistd::getgroups().map_err(|e| err("getgroups", e))?.iter().map(|g| g.as_raw()).collect();
    let mut want = to.groups.clone();
    groups.sort_unstable();
    groups.dedup();
    want.sort_unstable();
    check(groups == want, || format!("groups are {}, expected {}", list(&groups), list(&want)))?;
    if no_new_privs {
        let nnp = prctl(libc::PR_GET_NO_NEW_PRIVS, 0).map_err(|e| err("reading no_new_privs", e))?;
        check(nnp == 1, || "no_new_privs is not set".into())?;
    }
    if to.uid == 0 {
        return Ok(());
    }
    check(!raw_id_call(libc::SYS_setresuid, 0, 0, 0), || "setresuid(0, 0, 0) succeeded".into())?;
    check(!raw_id_call(libc::SYS_setuid, 0, 0, 0), || "setuid(0) succeeded".into())?;
    if to.gid != 0 {
        check(!raw_id_call(libc::SYS_setresgid, 0, 0, 0), || "setresgid(0, 0, 0) succeeded".into())?;
    }
    let caps = capget().map_err(|e| err("capget", e))?;
    check(caps == [CapData::default(); 2], || {
        "capabilities remain in the effective, permitted or inheritable set".into()
    })?;
    let left: Vec<u32> = (0..=last).filter(|&c| in_bounding_set(c) == Some(true)).collect();
    check(left.is_empty(), || format!("capabilities {} remain in the bounding set", list(&left)))
}
