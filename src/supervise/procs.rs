//! Finding the processes left at shutdown, from /proc.
//!
//! As PID 1 every process of the namespace is pidone's to stop; as a subreaper,
//! only its descendants. When /proc is missing or belongs to another PID
//! namespace, pidone falls back to signals that need no list: `kill(-1)` as
//! PID 1, the child's process group otherwise.

use crate::error::errno_text;
use crate::log;
use crate::signals::Name;
use crate::sys::{self, Pid, Recipient, Signal};

/// Cap on one /proc/PID/stat read (a real one is well under 2 KiB).
const STAT_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub zombie: bool,
}

/// Parse the fields pidone needs from a /proc/PID/stat line. The command name
/// sits in parentheses and may itself contain spaces and parentheses.
pub fn parse_stat(line: &str) -> Option<Proc> {
    let open = line.find(" (")?;
    let close = line.rfind(')')?;
    let pid = line.get(..open)?.trim().parse().ok()?;
    let mut rest = line.get(close + 1..)?.split_ascii_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
    Some(Proc { pid, ppid, pgrp, zombie: state == "Z" || state == "X" })
}

fn own_pid() -> i32 {
    Pid::own().raw()
}

/// Every process /proc shows, or `None` when /proc cannot be trusted: missing,
/// unreadable, or mounted for another PID namespace than pidone's.
pub fn scan() -> Option<Vec<Proc>> {
    let own = std::fs::read_link("/proc/self").ok()?;
    if own.to_str()?.parse::<i32>().ok()? != own_pid() {
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
        // A process may exit between readdir and read: skip it.
        let Ok(stat) =
            std::fs::File::open(format!("/proc/{name}/stat")).and_then(|f| crate::sys::read_up_to(&f, 0, STAT_MAX))
        else {
            continue;
        };
        if let Some(p) = std::str::from_utf8(&stat).ok().and_then(parse_stat) {
            out.push(p);
        }
    }
    Some(out)
}

/// The live processes pidone must stop: all but itself as PID 1, else its
/// descendants. `skip_pgrp` leaves out one process group.
pub fn targets(procs: &[Proc], me: i32, pid1: bool, skip_pgrp: Option<i32>) -> Vec<i32> {
    let keep = |p: &Proc| !p.zombie && p.pid != me && Some(p.pgrp) != skip_pgrp;
    let mut out = Vec::new();
    if pid1 {
        for p in procs.iter().filter(|p| keep(p)) {
            out.push(p.pid);
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
                out.push(p.pid);
            }
        }
    }
    out
}

/// Send `sig` once to every remaining process (but those of `skip_pgrp`).
/// Returns how many were signalled, when /proc could tell.
pub fn signal_leftovers(sig: Signal, pid1: bool, child_pgrp: Pid, skip_pgrp: Option<Pid>) -> Option<usize> {
    let Some(procs) = scan() else {
        log::debug!("/proc unusable: sending {} without a process list", Name(sig.raw()));
        send_logged(if pid1 { Recipient::Everyone } else { Recipient::Group(child_pgrp) }, sig);
        return None;
    };
    let list = targets(&procs, own_pid(), pid1, skip_pgrp.map(Pid::raw));
    for pid in list.iter().copied().filter_map(Pid::new) {
        send_logged(Recipient::Process(pid), sig);
    }
    Some(list.len())
}

/// [`sys::kill`], logging a failure (a process may be gone already).
fn send_logged(to: Recipient, sig: Signal) {
    if let Err(e) = sys::kill(to, sig) {
        log::debug!("kill({to}, {}) failed: {}", Name(sig.raw()), errno_text(e));
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
    signal_leftovers(Signal::KILL, false, child_pgrp, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let p = parse_stat("42 (a b) c)) S 7 42 1 0 -1").unwrap();
        assert_eq!(p, Proc { pid: 42, ppid: 7, pgrp: 42, zombie: false });
        assert!(parse_stat("9 (x) Z 1 9 9").unwrap().zombie);
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
    }

    fn p(pid: i32, ppid: i32, pgrp: i32) -> Proc {
        Proc { pid, ppid, pgrp, zombie: false }
    }

    #[test]
    fn pid1_targets_everyone_but_itself_zombies_and_the_skipped_group() {
        let mut procs = vec![p(1, 0, 1), p(5, 1, 5), p(6, 5, 5), p(9, 1, 9), p(12, 9, 12)];
        procs.push(Proc { pid: 13, ppid: 1, pgrp: 13, zombie: true });
        let mut t = targets(&procs, 1, true, Some(5));
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
        let mut t = targets(&procs, 100, false, None);
        t.sort();
        assert_eq!(t, vec![200, 201, 300]);
        let mut t = targets(&procs, 100, false, Some(200));
        t.sort();
        assert_eq!(t, vec![300], "a descendant of a skipped group member is still found");
    }
}
