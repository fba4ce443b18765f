//! Finding the processes left at shutdown, from /proc, and watching those
//! pidone cannot wait() for.
//!
//! As PID 1 every process of the namespace is pidone's to stop; as a subreaper,
//! only its descendants. When /proc is missing or belongs to another PID
//! namespace, pidone falls back to signals that need no list: `kill(-1)` as
//! PID 1, the child's process group otherwise.
//!
//! As PID 1, processes pidone did not start (`docker exec`, `nsenter`) are not
//! its children: [`Watch`] holds a pidfd for each, which polls readable when
//! the process exits, so the loop wakes up for it without a timer.

use crate::error::errno_text;
use crate::log;
use crate::signals::Name;
use crate::sys::{self, Errno, Pid, Recipient, Signal};
use std::os::fd::{AsRawFd, OwnedFd};

/// Cap on one /proc/PID/stat read (a real one is well under 2 KiB).
const STAT_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    /// The controlling terminal (`tty_nr`), 0 for none.
    pub tty: i32,
    pub zombie: bool,
}

/// Parse the fields pidone needs from a /proc/PID/stat line. The command name
/// sits in parentheses and may itself contain spaces and parentheses.
pub fn parse_stat(line: &str) -> Option<Proc> {
    // The pid ends at the first " (" (two bytes: a plain scan, not str's substring searcher).
    let open = line.as_bytes().windows(2).position(|w| w == b" (")?;
    let close = line.rfind(')')?;
    let pid = line.get(..open)?.trim_ascii().parse().ok()?;
    let mut rest = line.get(close + 1..)?.split_ascii_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
    let _session = rest.next()?;
    let tty = rest.next()?.parse().ok()?;
    Some(Proc { pid, ppid, pgrp, tty, zombie: state == "Z" || state == "X" })
}

fn own_pid() -> i32 {
    Pid::own().raw()
}

/// The process whose stat file is at `path`; `None` when it cannot be read
/// (a process may exit between readdir and read) or parsed.
fn read_stat(path: &str) -> Option<Proc> {
    let Ok(sys::Found::Regular(stat)) = sys::read_regular(std::path::Path::new(path), STAT_MAX) else {
        return None;
    };
    std::str::from_utf8(&stat).ok().and_then(parse_stat)
}

/// Every process /proc shows, or `None` when /proc cannot be trusted: missing,
/// unreadable, or mounted for another PID namespace than pidone's.
pub fn scan() -> Option<Vec<Proc>> {
    // /proc/self is pidone under the pid it has in the /proc's namespace,
    // and that is its own pid only in a /proc of its own PID namespace.
    if read_stat("/proc/self/stat")?.pid != own_pid() {
        return None;
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Some(p) = read_stat(&format!("/proc/{name}/stat")) {
            out.push(p);
        }
    }
    Some(out)
}

/// The live processes pidone must stop: all but itself as PID 1, else its
/// descendants. `skip_pgrp` leaves out one process group.
pub fn targets(procs: &[Proc], me: i32, pid1: bool, skip_pgrp: Option<i32>) -> Vec<Proc> {
    let keep = |p: &Proc| !p.zombie && p.pid != me && Some(p.pgrp) != skip_pgrp;
    let mut out = Vec::new();
    if pid1 {
        for p in procs.iter().filter(|p| keep(p)) {
            out.push(*p);
        }
        return out;
    }
    // Descendants of `me`: walk the parent links breadth-first over a copy
    // sorted by parent, so that 20,000 processes cost n log n, not n².
    let mut by_parent = procs.to_vec();
    by_parent.sort_unstable_by_key(|p| p.ppid);
    let mut queue = vec![me];
    while let Some(parent) = queue.pop() {
        let start = by_parent.partition_point(|p| p.ppid < parent);
        for p in by_parent.get(start..).unwrap_or_default() {
            if p.ppid != parent {
                break;
            }
            if p.pid == parent {
                continue;
            }
            queue.push(p.pid);
            if keep(p) {
                out.push(*p);
            }
        }
    }
    out
}

/// What [`signal_leftovers`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signalled {
    /// How many processes are left, and how many of them were signalled now
    /// (`None`: /proc could not tell).
    pub left: Option<usize>,
    pub sent: Option<usize>,
    /// How many refused the signal with EPERM (a root `docker exec` process
    /// after pidone dropped its privileges), and the first of them.
    pub denied: usize,
    pub first_denied: Option<i32>,
}

/// Whether a leftover also gets SIGHUP: it holds a controlling terminal that
/// is not pidone's own, as an interactive `docker exec -it` shell does (it
/// ignores SIGTERM, and a closing terminal would send it SIGHUP). The app's
/// own processes, on pidone's terminal if any, are left to their SIGTERM.
pub fn gets_hup(p: &Proc, own_tty: i32) -> bool {
    p.tty != 0 && p.tty != own_tty
}

/// Send `sig` once to every remaining process (but those of `skip_pgrp`),
/// then SIGHUP to one that holds a terminal of its own ([`gets_hup`]) and
/// SIGCONT, so a stopped process can run its handler.
pub fn signal_leftovers(sig: Signal, pid1: bool, child_pgrp: Pid, skip_pgrp: Option<Pid>) -> Signalled {
    let Some(procs) = scan() else {
        log::debug!("/proc unusable: sending {} without a process list", Name(sig));
        let target = if pid1 { Recipient::Everyone } else { Recipient::Group(child_pgrp) };
        send_logged(target, sig);
        send_logged(target, Signal::CONT);
        return Signalled { left: None, sent: None, denied: 0, first_denied: None };
    };
    let me = own_pid();
    let own_tty = procs.iter().find(|p| p.pid == me).map_or(0, |p| p.tty);
    let left = if skip_pgrp.is_some() { targets(&procs, me, pid1, None).len() } else { 0 };
    let list = targets(&procs, me, pid1, skip_pgrp.map(Pid::raw));
    let mut out = Signalled { left: Some(left.max(list.len())), sent: Some(list.len()), denied: 0, first_denied: None };
    for p in &list {
        let Some(pid) = Pid::new(p.pid) else { continue };
        let to = Recipient::Process(pid);
        match sys::kill(to, sig) {
            Err(Errno::EPERM) => {
                out.denied += 1;
                out.first_denied.get_or_insert(p.pid);
                continue;
            }
            Err(e) => log::debug!("kill({to}, {}) failed: {}", Name(sig), errno_text(e)),
            Ok(()) => {}
        }
        if gets_hup(p, own_tty) {
            send_logged(to, Signal::HUP);
        }
        send_logged(to, Signal::CONT);
    }
    out
}

/// [`sys::kill`], logging a failure (a process may be gone already).
fn send_logged(to: Recipient, sig: Signal) {
    if let Err(e) = sys::kill(to, sig) {
        log::debug!("kill({to}, {}) failed: {}", Name(sig), errno_text(e));
    }
}

/// SIGKILL everything that is left. As PID 1 one `kill(-1)` reaches the whole
/// namespace; otherwise the child's group and every descendant.
pub fn kill_all(pid1: bool, child_pgrp: Pid) -> Option<usize> {
    if pid1 {
        let n = scan().map(|p| targets(&p, own_pid(), true, None).len());
        let _ = sys::kill(Recipient::Everyone, Signal::KILL);
        return n;
    }
    let _ = sys::kill(Recipient::Group(child_pgrp), Signal::KILL);
    let procs = scan()?;
    let list = targets(&procs, own_pid(), false, None);
    for pid in list.iter().filter_map(|p| Pid::new(p.pid)) {
        send_logged(Recipient::Process(pid), Signal::KILL);
    }
    Some(list.len())
}
/// More pidfds than this and pidone rescans /proc instead (see [`Watch`]).
const MAX_PIDFDS: usize = 128;

/// Descriptors a watch leaves free under RLIMIT_NOFILE: 0-2, the signalfd,
/// the two a /proc scan holds (the directory and one stat file), and a margin.
const KEEP_FREE: u64 = 8;

/// How many pidfds fit under RLIMIT_NOFILE with room left for a /proc scan.
fn pidfd_room() -> usize {
    let room = sys::open_files_limit().map_or(0, |n| n.saturating_sub(KEEP_FREE));
    usize::try_from(room).unwrap_or(usize::MAX).min(MAX_PIDFDS)
}

/// Whether the process of `pidfd` has exited (its pidfd polls readable).
fn exited(pidfd: &OwnedFd) -> bool {
    sys::poll_readable(pidfd.as_raw_fd(), 0).unwrap_or(true)
}

/// The processes pidone waits for but cannot wait() for, each by a pidfd.
/// Where a pidfd cannot be had (kernel before 5.3, too many processes for
/// [`MAX_PIDFDS`] or for RLIMIT_NOFILE), the watch is `blind`: the loop then rescans /proc on a
/// short timer while it drains.
#[derive(Debug, Default)]
pub struct Watch {
    fds: Vec<(i32, OwnedFd)>,
    blind: bool,
}

impl Watch {
    /// Stop watching the processes that exited (their pidfds poll readable;
    /// their pids may be reused).
    pub fn prune(&mut self) {
        self.fds.retain(|(_, fd)| !exited(fd));
    }

    /// Watch exactly the processes `procs`.
    pub fn refresh(&mut self, procs: &[Proc]) {
        // Keep the pidfds of the listed processes that have not exited.
        self.fds.retain(|(pid, fd)| procs.iter().any(|p| p.pid == *pid) && !exited(fd));
        self.blind = false;
        let room = pidfd_room();
        for &Proc { pid, .. } in procs {
            if self.fds.iter().any(|(p, _)| *p == pid) {
                continue;
            }
            if self.fds.len() >= room {
                self.blind = true;
                continue;
            }
            let Some(typed) = Pid::new(pid) else { continue };
            match sys::pidfd_open(typed) {
                Ok(fd) => self.fds.push((pid, fd)),
                // Gone between the scan and now.
                Err(Errno::ESRCH) => {}
                Err(e) => {
                    log::debug!("pidfd_open({pid}): {}: rescanning /proc instead", errno_text(e));
                    self.blind = true;
                    if matches!(e, Errno::EMFILE | Errno::ENFILE) {
                        // Out of descriptors: give two back, or the next /proc
                        // scan (a directory and a stat file) could not run.
                        self.fds.truncate(self.fds.len().saturating_sub(2));
                        break;
                    }
                }
            }
        }
    }

    /// Stop watching (nothing left, or /proc cannot tell).
    pub fn clear(&mut self) {
        self.fds.clear();
        self.blind = false;
    }

    /// The pidfds to poll.
    pub fn fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.fds.iter().map(|(_, fd)| fd.as_raw_fd())
    }

    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }

    /// Some process is watched without a pidfd: rescan /proc now and then.
    pub fn blind(&self) -> bool {
        self.blind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let p = parse_stat("42 (a b) c)) S 7 42 1 34816 -1").unwrap();
        assert_eq!(p, Proc { pid: 42, ppid: 7, pgrp: 42, tty: 34816, zombie: false });
        assert!(parse_stat("9 (x) Z 1 9 9 0").unwrap().zombie);
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
        assert_eq!(parse_stat("1 (x) S 0 1 1"), None, "no tty_nr");
    }

    fn p(pid: i32, ppid: i32, pgrp: i32) -> Proc {
        Proc { pid, ppid, pgrp, tty: 0, zombie: false }
    }

    fn pids(procs: &[Proc]) -> Vec<i32> {
        procs.iter().map(|p| p.pid).collect()
    }

    #[test]
    fn sighup_goes_to_leftovers_on_a_terminal_other_than_pidones() {
        let on = |tty| Proc { tty, ..p(7, 0, 7) };
        assert!(gets_hup(&on(34817), 0), "docker exec -it into a container without a tty");
        assert!(gets_hup(&on(34817), 34816), "docker exec -it into a docker run -it container");
        assert!(!gets_hup(&on(34816), 34816), "the app's own processes on pidone's terminal");
        assert!(!gets_hup(&on(0), 34816), "no terminal");
        assert!(!gets_hup(&on(0), 0));
    }

    #[test]
    fn watch_holds_a_pidfd_per_live_process_and_drops_exited_ones() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        let mut w = Watch::default();
        w.refresh(&[p(pid, 1, pid)]);
        if w.blind() {
            // No pidfds on this kernel: the /proc rescan covers it.
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        assert_eq!(w.fds().count(), 1);
        let fd = w.fds().next().unwrap();
        assert!(!sys::poll_readable(fd, 0).unwrap(), "a live process polls idle");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(sys::poll_readable(fd, 1000).unwrap(), "an exited one polls readable");
        w.refresh(&[p(pid, 1, pid)]);
        assert!(w.is_empty(), "an exited process is dropped even if its pid shows again");
        w.refresh(&[p(i32::MAX, 1, i32::MAX)]);
        assert!(w.is_empty() && !w.blind(), "a pid that does not exist is skipped");
    }

    #[test]
    fn pid1_targets_everyone_but_itself_zombies_and_the_skipped_group() {
        let mut procs = vec![p(1, 0, 1), p(5, 1, 5), p(6, 5, 5), p(9, 1, 9), p(12, 9, 12)];
        procs.push(Proc { pid: 13, ppid: 1, pgrp: 13, tty: 0, zombie: true });
        let mut t = pids(&targets(&procs, 1, true, Some(5)));
        t.sort();
        assert_eq!(t, vec![9, 12]);
    }

    #[test]
    fn subreaper_targets_only_descendants() {
        let procs = vec![
            p(100, 1, 100),
            p(200, 100, 200),
            p(201, 200, 200),
            p(300, 201, 300),
            p(400, 1, 400),
            p(401, 400, 400),
        ];
        let mut t = pids(&targets(&procs, 100, false, None));
        t.sort();
        assert_eq!(t, vec![200, 201, 300]);
        let mut t = pids(&targets(&procs, 100, false, Some(200)));
        t.sort();
        assert_eq!(t, vec![300], "a descendant of a skipped group member is still found");
    }
}
