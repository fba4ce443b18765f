//! `pidone wait` and run mode's `--wait`: every target under one deadline.
//!
//! Each round tries every pending target once, in turn, each attempt bounded by
//! min(interval, time left) but never below [`FLOOR`]. Between rounds the loop
//! sleeps in `poll` on the signalfd until the next round, the next progress
//! line (every 5 s) or the deadline, so a signal ends the wait at once; during
//! an attempt a signal waits at most for that attempt's bound. No threads: a
//! wait thread would cost more bytes than the whole HTTP client.

use super::target::{self, Target};
use super::{Spec, attempt};
use crate::error::{Result, errno_text};
use crate::log::{self, Shown};
use crate::signals;
use crate::sys;
use crate::time::later;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The shortest time one attempt gets, however little of the wait is left.
pub const FLOOR: Duration = Duration::from_millis(250);
/// How often the still-pending targets are named at `warn`.
pub const PROGRESS: Duration = Duration::from_secs(5);

/// How a wait ended, when not with every target answered.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The deadline passed; the message names what is pending and why.
    Timeout(String),
    /// Signal N arrived.
    Signal(i32),
    /// The signalfd could not be read.
    Failed(String),
}

/// Signals that end a wait: every signal whose default action terminates the
/// process. Child status, continue, urgent data, window size and the stop
/// signals do not.
pub fn ends_wait(sig: i32) -> bool {
    !matches!(sig, signals::SIGCHLD | 18 | 20 | 21 | 22 | 23 | 28)
}

/// `tcp://db:5432 (connection refused), http://api/ (not tried yet)`.
fn pending_list(pending: &[(&Target, Option<String>)]) -> String {
    let mut out = String::new();
    for (t, last) in pending {
        let sep = if out.is_empty() { "" } else { ", " };
        out.extend([sep, &t.shown, " (", last.as_deref().unwrap_or("not tried yet"), ")"]);
    }
    out
}

/// Sleep up to `d`, or less when a signal arrives; a signal that ends the wait
/// is returned as `End::Signal`.
fn sleep_watching(signals: Option<BorrowedFd<'_>>, d: Duration) -> std::result::Result<(), End> {
    let Some(fd) = signals else {
        std::thread::sleep(d);
        return Ok(());
    };
    // Round up, so the loop never spins on a sub-millisecond remainder (in u64:
    // dividing the u128 of `as_micros` links the u128 division routines).
    let ms = d.as_secs().saturating_mul(1000).saturating_add(u64::from(d.subsec_micros().div_ceil(1000)));
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    let failed = |e| End::Failed(format!("reading signals: {}", errno_text(e)));
    if !sys::poll_readable(fd.as_raw_fd(), ms).map_err(failed)? {
        return Ok(());
    }
    let sigs = sys::read_signals(fd.as_raw_fd()).map_err(failed)?;
    for sig in sigs.iter().map(sys::Signal::raw) {
        if ends_wait(sig) {
            return Err(End::Signal(sig));
        }
        log::debug!("{} ignored during the wait", signals::Name(sig));
    }
    Ok(())
}

/// Parse every target first: a bad one is a usage error, never retried.
pub fn parse_all(raw: &[String]) -> Result<Vec<Target>> {
    // A plain loop: a `collect::<Result<_>>` chain is a 1 KB adapter of its own.
    let mut out = Vec::with_capacity(raw.len());
    for t in raw {
        out.push(target::parse_wait(t)?);
    }
    Ok(out)
}

/// Wait for every target; `signals` is a signalfd to watch.
pub fn wait_all(
    targets: &[Target],
    timeout: Duration,
    interval: Duration,
    signals: Option<BorrowedFd<'_>>,
) -> std::result::Result<(), End> {
    let start = Instant::now();
    let deadline = later(start, timeout);
    let spec = Spec::plain();
    // The targets still to answer, each with why its last attempt failed.
    let mut pending: Vec<(&Target, Option<String>)> = targets.iter().map(|t| (t, None)).collect();
    let mut next_progress = later(start, PROGRESS);
    loop {
        let round = Instant::now();
        let mut i = 0;
        while let Some((t, last)) = pending.get_mut(i) {
            sleep_watching(signals, Duration::ZERO)?;
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match attempt(t, &spec, interval.min(deadline - now).max(FLOOR)) {
                Ok(()) => {
                    log::info!("{} answered after {}", t.shown, Shown(start.elapsed()));
                    pending.remove(i);
                }
                Err(e) => {
                    log::debug!("{}: {e}", t.shown);
                    *last = Some(e);
                    i += 1;
                }
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        loop {
            let now = Instant::now();
            if now >= deadline {
                let what = pending_list(&pending);
                return Err(End::Timeout(format!("timed out after {} waiting for {what}", Shown(timeout))));
            }
            if now >= next_progress {
                let left = deadline - now;
                log::warning!("still waiting for {} ({} left)", pending_list(&pending), Shown(left));
                next_progress = later(now, PROGRESS);
            }
            let next_round = later(round, interval);
            if now >= next_round {
                break;
            }
            sleep_watching(signals, next_round.min(next_progress).min(deadline) - now)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_signals_end_a_wait() {
        for sig in [1, 2, 3, 10, 12, 13, 14, 15, 34, 64] {
            assert!(ends_wait(sig), "{sig}");
        }
        for sig in [17, 18, 20, 21, 22, 23, 28] {
            assert!(!ends_wait(sig), "{sig}");
        }
    }

    #[test]
    fn files_and_timeouts() {
        let dir = std::env::temp_dir().join(format!("pidone-wait-unit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let f = dir.join("ready");
        let targets = parse_all(&[format!("file://{}", f.display())]).unwrap();
        let t0 = Instant::now();
        let r = wait_all(&targets, Duration::from_millis(300), Duration::from_millis(50), None);
        let e = r.unwrap_err();
        assert!(matches!(&e, End::Timeout(m) if m.contains("ready")), "{e:?}");
        assert!(t0.elapsed() < Duration::from_millis(600));
        std::fs::write(&f, "").unwrap();
        assert_eq!(wait_all(&targets, Duration::from_secs(2), Duration::from_millis(50), None), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
