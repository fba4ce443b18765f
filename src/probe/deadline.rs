//! The one deadline of a check: every resolve, connect, write and read of it
//! is bounded by the time this leaves.

use super::failure::{Failure, Step};
use crate::error::io_text;
use std::io;
use std::time::{Duration, Instant};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// The one deadline of a check.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub start: Instant,
    pub end: Instant,
    pub total: Duration,
}

impl Deadline {
    pub fn new(total: Duration) -> Deadline {
        let start = Instant::now();
        // A bound beyond what an Instant can hold ends a year from now.
        let end = start.checked_add(total).or_else(|| start.checked_add(YEAR)).unwrap_or(start);
        Deadline { start, end, total }
    }

    /// Time left; None once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        let left = self.end.saturating_duration_since(Instant::now());
        // Socket timeouts of zero mean "none": a deadline this close has passed.
        (left >= Duration::from_micros(100)).then_some(left)
    }

    /// Time left, or the timeout failure of `step` once none is left.
    pub fn left(&self, step: Step) -> Result<Duration, Failure> {
        self.remaining().ok_or_else(|| self.timeout(step))
    }

    pub fn timeout(&self, step: Step) -> Failure {
        Failure::TimedOut { total: self.total, step }
    }

    /// An I/O error during `step` as a failure; a timeout names the bound.
    pub fn io_failure(&self, e: &io::Error, step: Step) -> Failure {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => self.timeout(step),
            io::ErrorKind::ConnectionRefused => Failure::Refused,
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Failure::ClosedBy(step),
            _ => Failure::Os(io_text(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_bounds_do_not_overflow() {
        let dl = Deadline::new(Duration::MAX);
        assert!(dl.remaining().is_some_and(|left| left > Duration::from_secs(3600)));
        assert!(dl.timeout(Step::Connecting).to_string().starts_with("timed out after "));
        assert!(Deadline::new(Duration::ZERO).remaining().is_none());
    }
}
