//! The one deadline of a check: every resolve, connect, write and read of it
//! is bounded by the time this leaves.

use super::failure::{Failure, Step};
use crate::error::io_text;
use std::io;
use std::time::{Duration, Instant};

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
        Deadline { start, end: start + total, total }
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
