//! The one reader of unsigned decimal numbers in text pidone is given: option
//! values, ports and status codes, user ids, signal numbers, resolv.conf's
//! ndots, /proc/self/status and /proc/self/fd. (The fields of /proc/PID/stat
//! are signed; `supervise::procs` reads them with std's parser.)

/// `s` as a number written in decimal digits only: no sign, no blanks, not
/// empty; `None` otherwise, or when it does not fit in a `u64`. Callers
/// narrow it with `try_from` to the type and range they take.
pub fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_only_without_overflow() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("0042"), Some(42));
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        for s in ["", "+1", "-1", " 1", "1 ", "1.0", "1e3", "18446744073709551616", "٣"] {
            assert_eq!(decimal(s), None, "{s:?}");
        }
    }
}
