//! The limit on configured durations, deadline arithmetic that cannot
//! overflow, and the one conversion of a wait to poll(2)'s milliseconds.
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

/// `d` as a poll(2) timeout: milliseconds rounded up, so a wait never ends
/// early and a loop never spins on a sub-millisecond remainder; at most
/// `i32::MAX`.
pub fn poll_ms(d: Duration) -> i32 {
    let ms = d.as_secs().saturating_mul(1000).saturating_add(u64::from(d.subsec_nanos().div_ceil(1_000_000)));
    i32::try_from(ms).unwrap_or(i32::MAX)
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

    #[test]
    fn poll_ms_rounds_up_and_caps() {
        assert_eq!(poll_ms(Duration::ZERO), 0);
        assert_eq!(poll_ms(Duration::from_nanos(1)), 1);
        assert_eq!(poll_ms(Duration::from_millis(250)), 250);
        assert_eq!(poll_ms(Duration::from_nanos(1_000_500)), 2);
        assert_eq!(poll_ms(Duration::from_secs(3) + Duration::from_micros(1)), 3001);
        assert_eq!(poll_ms(MAX), i32::MAX);
        assert_eq!(poll_ms(Duration::MAX), i32::MAX);
    }
}
