//! The limit on configured durations, and deadline arithmetic that cannot overflow.
//!
//! The parser refuses durations above [`MAX`], and no deadline is computed
//! with a plain `Instant + Duration`: the probe and the wait go through
//! [`later`], which saturates; the shutdown machine uses `checked_add` and
//! treats a deadline the clock cannot hold as none. Nothing can panic.

use std::time::{Duration, Instant};

/// The longest duration any option takes: one year (365 days).
pub const MAX: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `now + d`, or the latest instant the clock can represent when that overflows.
pub fn later(now: Instant, d: Duration) -> Instant {
    let mut d = d;
    loop {
        if let Some(t) = now.checked_add(d) {
            return t;
        }
        // Halving reaches zero, and `now + 0` always exists.
        d /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_saturates() {
        let now = Instant::now();
        assert_eq!(later(now, Duration::from_secs(3)), now + Duration::from_secs(3));
        assert_eq!(later(now, MAX), now + MAX, "a year ahead is representable");
        assert!(later(now, Duration::MAX) > later(now, MAX));
    }
}
