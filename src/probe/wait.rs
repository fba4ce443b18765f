//! `pidone wait` and run mode's `--wait`: every target under one deadline.
//!
//! Each round tries every pending target once, in turn, each attempt bounded by
//! min(interval, time left) but never below [`FLOOR`]. Between rounds the loop
//! sleeps in `poll` on the signalfd until the next round, the next progress
//! line (every 5 s) or the deadline, so a signal ends the wait at once; during
//! an attempt a signal waits at most for that attempt's bound. No threads: one
//! loop tries the targets and reads the signals.

use super::check::{HttpCheck, attempt};
use super::failure::Failure;
use super::target::{self, ProbeTarget};
use crate::error::{Result, errno_text};
use crate::log::{self, Shown};
use crate::signals;
use crate::sys::{self, Signal};
use crate::time::later;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The shortest time one attempt gets, however little of the wait is left.
pub const FLOOR: Duration = Duration::from_millis(250);
/// How often the still-pending targets are named at `warn`.
pub const PROGRESS: Duration = Duration::from_secs(5);

/// How a wait ended, when not with every target answered.
#[derive(Debug)]
pub enum End {
    /// The deadline passed; the failure names what is pending and why.
    Timeout(Failure),
    /// This signal arrived.
    Signal(Signal),
    /// The signalfd could not be read.
    Failed(Failure),
}

/// Signals that end a wait: every signal whose default action terminates the
/// process. Child status, continue, urgent data, window size and the stop
/// signals do not.
pub fn ends_wait(sig: Signal) -> bool {
    !matches!(
        sig,
        Signal::CHLD | Signal::CONT | Signal::TSTP | Signal::TTIN | Signal::TTOU | Signal::URG | Signal::WINCH
    )
}

/// `tcp://db:5432 (connection refused), http://api/ (not tried yet)`.
fn pending_list(pending: &[(&ProbeTarget, Option<Failure>)]) -> String {
    let mut out = String::new();
    for (t, last) in pending {
        let sep = if out.is_empty() { "" } else { ", " };
        let last = last.as_ref().map_or_else(|| "not tried yet".to_string(), Failure::to_string);
        out.extend([sep, &t.shown, " (", &last, ")"]);
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
    let ms = crate::time::poll_ms(d);
    let failed = |e| End::Failed(Failure::Signals(errno_text(e)));
    if !sys::poll_readable(fd.as_raw_fd(), ms).map_err(failed)? {
        return Ok(());
    }
    let sigs = sys::read_signals(fd.as_raw_fd()).map_err(failed)?;
    for sig in sigs.from_others() {
        if ends_wait(sig) {
            return Err(End::Signal(sig));
        }
        log::debug!("{} ignored during the wait", signals::Name(sig));
    }
    Ok(())
}

/// Parse every target first: a bad one is a usage error, never retried.
pub fn parse_all(raw: &[String]) -> Result<Vec<ProbeTarget>> {
    let mut out = Vec::with_capacity(raw.len());
    for t in raw {
        out.push(target::parse_wait(t)?);
    }
    Ok(out)
}

/// Wait for every target; `signals` is a signalfd to watch. A `timeout` of
/// zero means no limit; with one, every target is still tried at least once
/// before the timeout can end the wait.
pub fn wait_all(
    targets: &[ProbeTarget],
    timeout: Duration,
    interval: Duration,
    signals: Option<BorrowedFd<'_>>,
) -> std::result::Result<(), End> {
    let start = Instant::now();
    // None: no limit (a zero timeout, or one beyond what an Instant holds).
    let deadline = if timeout.is_zero() { None } else { start.checked_add(timeout) };
    let passed = |now: Instant| deadline.is_some_and(|d| now >= d);
    let spec = HttpCheck::plain();
    // The targets still to answer, each with why its last attempt failed
    // (None: not tried yet).
    let mut pending: Vec<(&ProbeTarget, Option<Failure>)> = targets.iter().map(|t| (t, None)).collect();
    let mut next_progress = later(start, PROGRESS);
    loop {
        let round = Instant::now();
        let mut i = 0;
        while let Some((t, last)) = pending.get_mut(i) {
            sleep_watching(signals, Duration::ZERO)?;
            let now = Instant::now();
            if passed(now) && last.is_some() {
                i += 1;
                continue;
            }
            let left = deadline.map_or(interval, |d| d.saturating_duration_since(now));
            match attempt(t, &spec, interval.min(left).max(FLOOR)) {
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
            if passed(now) {
                let pending = pending_list(&pending);
                return Err(End::Timeout(Failure::WaitTimedOut { total: timeout, pending }));
            }
            if now >= next_progress {
                match deadline {
                    Some(d) => log::warning!(
                        "still waiting for {} ({} left)",
                        pending_list(&pending),
                        Shown(d.saturating_duration_since(now))
                    ),
                    None => log::warning!("still waiting for {} (no time limit)", pending_list(&pending)),
                }
                next_progress = later(now, PROGRESS);
            }
            let Some(next_round) = round.checked_add(interval).filter(|&r| r > now) else { break };
            let wake = deadline.map_or(next_round.min(next_progress), |d| next_round.min(next_progress).min(d));
            sleep_watching(signals, wake.saturating_duration_since(now))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    #[test]
    fn which_signals_end_a_wait() {
        for sig in [1, 2, 3, 10, 12, 13, 14, 15, 34, 64] {
            assert!(ends_wait(Signal::new(sig).unwrap()), "{sig}");
        }
        for sig in [17, 18, 20, 21, 22, 23, 28] {
            assert!(!ends_wait(Signal::new(sig).unwrap()), "{sig}");
        }
    }

    #[test]
    fn files_and_timeouts() {
        let dir = TempDir::new("files");
        let f = dir.join("ready");
        let targets = parse_all(&[format!("file://{}", f.display())]).unwrap();
        let t0 = Instant::now();
        let r = wait_all(&targets, Duration::from_millis(300), Duration::from_millis(50), None);
        let e = r.unwrap_err();
        assert!(matches!(&e, End::Timeout(m) if m.to_string().contains("ready")), "{e:?}");
        assert!(t0.elapsed() < Duration::from_millis(600));
        std::fs::write(&f, "").unwrap();
        assert!(wait_all(&targets, Duration::from_secs(2), Duration::from_millis(50), None).is_ok());
    }

    #[test]
    fn every_target_is_tried_once_and_zero_means_no_limit() {
        let dir = TempDir::new("once");
        let (ready, missing) = (dir.join("ready"), dir.join("missing"));
        std::fs::write(&ready, "").unwrap();
        let targets = parse_all(&[format!("file://{}", ready.display())]).unwrap();
        // A timeout that has passed before the first attempt still lets every target be tried.
        assert!(wait_all(&targets, Duration::from_nanos(1), Duration::from_millis(50), None).is_ok());
        let both = parse_all(&[format!("file://{}", missing.display()), format!("file://{}", ready.display())]);
        let e = wait_all(&both.unwrap(), Duration::from_nanos(1), Duration::from_millis(50), None).unwrap_err();
        let End::Timeout(why) = e else { panic!("{e:?}") };
        let why = why.to_string();
        assert!(why.contains("missing (") && !why.contains("ready") && !why.contains("not tried"), "{why}");
        // Zero: no limit; the file appears after 300 ms.
        let targets = parse_all(&[format!("file://{}", missing.display())]).unwrap();
        let m = missing.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(m, "").unwrap();
        });
        let t0 = Instant::now();
        assert!(wait_all(&targets, Duration::ZERO, Duration::from_millis(50), None).is_ok());
        assert!(t0.elapsed() >= Duration::from_millis(250), "{:?}", t0.elapsed());
        t.join().unwrap();
    }
}
