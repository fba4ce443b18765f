//! The privilege drop itself, in the calling process, and its verification.
//!
//! Order (CERT POS36-C, setpriv's `--inh-caps=-all --bounding-set=-all --nnp`):
//! a check that pidone runs one thread (the id calls change only the calling
//! thread), then the bounding set, ambient and inheritable capabilities while still privileged,
//! no_new_privs, then setgroups, setresgid, setresuid, then the permitted and
//! effective sets cleared outright (in case securebits kept them). Then every
//! result is checked (POS37-C): the ids, the groups, no_new_privs, no
//! capability in any set, and that uid 0 cannot be regained.

use crate::error::{Error, Result, errno_text};
use crate::log;
use crate::sys::{self, CapData, Errno, RootRegain, capget, capset, prctl};
use std::fmt;

/// The credentials to switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, sorted and deduplicated.
    pub groups: Vec<u32>,
}

/// Capability numbers are below 64 on every kernel; past the kernel's last
/// one PR_CAPBSET_READ fails with EINVAL.
const CAP_MAX: u32 = 63;

/// Whether `cap` is in the bounding set; `None` once the kernel does not know it.
fn in_bounding_set(cap: u32) -> Option<bool> {
    match prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap)) {
        Ok(v) => Some(v == 1),
        Err(_) => None,
    }
}

/// `cannot drop privileges: STEP: ERRNO[HINT]`
fn fail(step: &dyn fmt::Display, e: Errno, hint: &str) -> Error {
    Error::config(format!("cannot drop privileges: {step}: {}{hint}", errno_text(e)))
}

fn clear_bounding_set() -> Result<()> {
    for cap in 0..=CAP_MAX {
        match in_bounding_set(cap) {
            None => break,
            Some(false) => {}
            Some(true) => {
                prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap)).map_err(|e| {
                    fail(&format_args!("dropping capability {cap} from the bounding set"), e, CAP_SETPCAP)
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
        Err(e) => return Err(fail(&"clearing the ambient capabilities", e, "")),
    }
    let mut caps = capget().map_err(|e| fail(&"capget", e, ""))?;
    for d in &mut caps {
        d.inheritable = 0;
    }
    capset(&caps).map_err(|e| fail(&"clearing the inheritable capabilities", e, ""))
}

const CAP_SETPCAP: &str = " (is CAP_SETPCAP missing?)";
const CAP_SETGID: &str = " (is CAP_SETGID missing?)";
const CAP_SETUID: &str = " (is CAP_SETUID missing?)";

/// How many threads /proc/self/status says the process has (`Threads:`).
fn threads_in_status(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| crate::number::decimal(n.trim_ascii()))
}

/// What the guard decides, given /proc/self/status (`None`: unreadable) and
/// the number of entries in /proc/self/task (`None`: unreadable).
#[derive(Debug, PartialEq, Eq)]
enum Threads {
    One,
    Many(u64),
    Unknown,
}

fn count_threads(status: Option<&str>, task_entries: Option<u64>) -> Threads {
    match status.and_then(threads_in_status).or(task_entries) {
        Some(1) => Threads::One,
        Some(n) => Threads::Many(n),
        None => Threads::Unknown,
    }
}

/// The drop's raw setgroups/setresgid/setresuid change the calling thread
/// only: with a second thread, that thread would keep root. Refuse then.
///
/// Without /proc (neither the status file nor the task directory can be
/// read) pidone proceeds with a debug line: it starts no thread of its own
/// (no std::thread, and musl starts none behind its back), and a static
/// binary takes no preloaded library, so the count is a guard against a
/// future change, not against the environment; refusing would break every
/// container started without /proc for no gain.
fn single_threaded() -> Result<()> {
    let status = match sys::read_regular(std::path::Path::new("/proc/self/status"), 64 * 1024) {
        Ok(sys::Found::Regular(bytes)) => String::from_utf8(bytes).ok(),
        _ => None,
    };
    let tasks = || std::fs::read_dir("/proc/self/task").ok().map(|d| d.count() as u64);
    let task_entries = if status.as_deref().and_then(threads_in_status).is_some() { None } else { tasks() };
    match count_threads(status.as_deref(), task_entries) {
        Threads::One => Ok(()),
        Threads::Many(n) => Err(Error::config(format!(
            "cannot drop privileges: pidone runs {n} threads, and the credential calls would change only one of them"
        ))),
        Threads::Unknown => {
            log::debug!("/proc/self/status and /proc/self/task are unreadable: assuming pidone's single thread");
            Ok(())
        }
    }
}

/// Switch the calling process to `to`. Without `keep_caps` (the target is not
/// root) every capability is dropped first; with `no_new_privs` execve can
/// never grant privileges again (setuid bits and file capabilities are ignored).
pub fn switch(to: &Creds, no_new_privs: bool) -> Result<()> {
    single_threaded()?;
    let root = to.uid == 0;
    if !root {
        clear_bounding_set()?;
        clear_ambient_and_inheritable()?;
    }
    if no_new_privs {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|e| fail(&"setting no_new_privs", e, ""))?;
    }
    sys::setgroups(&to.groups).map_err(|e| fail(&"setgroups", e, CAP_SETGID))?;
    sys::setresgid(to.gid).map_err(|e| fail(&"setresgid", e, CAP_SETGID))?;
    sys::setresuid(to.uid).map_err(|e| fail(&"setresuid", e, CAP_SETUID))?;
    if !root {
        // The kernel clears these when every uid leaves 0, unless securebits
        // say otherwise; clear them explicitly (dropping is always allowed).
        capset(&[CapData::default(); 2]).map_err(|e| fail(&"clearing the capabilities", e, ""))?;
    }
    verify(to, no_new_privs)
}

/// Ids for messages: `1,2,3`.
pub struct Ids<'a>(pub &'a [u32]);

impl fmt::Display for Ids<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

fn unverified(what: fmt::Arguments<'_>) -> Error {
    Error::config(format!("privilege drop verification failed: {what}"))
}

fn check(ok: bool, what: fmt::Arguments<'_>) -> Result<()> {
    if ok { Ok(()) } else { Err(unverified(what)) }
}

/// The real, effective and saved ids must all be `want`.
fn same_ids(kind: &str, got: [u32; 3], want: u32) -> Result<()> {
    check(got == [want; 3], format_args!("{kind} are {}, expected {want}", Ids(&got)))
}

fn verify(to: &Creds, no_new_privs: bool) -> Result<()> {
    let err = |what: &str, e: Errno| unverified(format_args!("{what}: {}", errno_text(e)));
    let u = nix::unistd::getresuid().map_err(|e| err("getresuid", e))?;
    same_ids("uids", [u.real.as_raw(), u.effective.as_raw(), u.saved.as_raw()], to.uid)?;
    let g = nix::unistd::getresgid().map_err(|e| err("getresgid", e))?;
    same_ids("gids", [g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw()], to.gid)?;
    let mut groups = sys::getgroups().map_err(|e| err("getgroups", e))?;
    groups.sort_unstable();
    groups.dedup();
    // `to.groups` is sorted and deduplicated: any difference fails.
    check(groups == to.groups, format_args!("groups are {}, expected {}", Ids(&groups), Ids(&to.groups)))?;
    if no_new_privs {
        let nnp = prctl(libc::PR_GET_NO_NEW_PRIVS, 0).map_err(|e| err("reading no_new_privs", e))?;
        check(nnp == 1, format_args!("no_new_privs is not set"))?;
    }
    if to.uid == 0 {
        return Ok(());
    }
    check(!sys::regains_root(RootRegain::Setresuid), format_args!("setresuid(0, 0, 0) succeeded"))?;
    check(!sys::regains_root(RootRegain::Setuid), format_args!("setuid(0) succeeded"))?;
    if to.gid != 0 {
        check(!sys::regains_root(RootRegain::Setresgid), format_args!("setresgid(0, 0, 0) succeeded"))?;
    }
    let caps = capget().map_err(|e| err("capget", e))?;
    check(
        caps == [CapData::default(); 2],
        format_args!("capabilities remain in the effective, permitted or inheritable set"),
    )?;
    let mut left = Vec::new();
    for cap in 0..=CAP_MAX {
        if in_bounding_set(cap) == Some(true) {
            left.push(cap);
        }
    }
    check(left.is_empty(), format_args!("capabilities {} remain in the bounding set", Ids(&left)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_guard_reads_status_then_the_task_dir() {
        let status = "Name:\tpidone\nUmask:\t0022\nThreads:\t1\nSigQ:\t0/1\n";
        assert_eq!(count_threads(Some(status), None), Threads::One);
        assert_eq!(count_threads(Some(&status.replace("Threads:\t1", "Threads:\t3")), Some(1)), Threads::Many(3));
        // No Threads: line (or garbage): the task directory decides.
        assert_eq!(count_threads(Some("Name:\tx\nThreads:\tmany\n"), Some(2)), Threads::Many(2));
        assert_eq!(count_threads(None, Some(1)), Threads::One);
        assert_eq!(count_threads(None, None), Threads::Unknown);
        assert_eq!(count_threads(Some(""), None), Threads::Unknown);
    }

    #[test]
    fn this_test_process_is_not_single_threaded_and_is_refused() {
        // The test harness runs tests on threads of their own: the guard must see them.
        let keep = std::thread::spawn(|| std::thread::park_timeout(std::time::Duration::from_secs(5)));
        let e = single_threaded().unwrap_err();
        assert_eq!(e.code(), 125);
        assert!(e.to_string().contains("threads"), "{e}");
        keep.thread().unpark();
        keep.join().unwrap();
    }
}
