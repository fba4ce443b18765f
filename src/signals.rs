//! Signal numbers: parsing names, the `--map` table, and sets as kernel bitmasks.
//!
//! Numbers follow the Linux kernel (the same on x86_64 and aarch64). Real-time
//! signals are named from RTMIN = 34 to RTMAX = 64, as glibc programs see them,
//! whatever libc pidone itself is linked with (musl calls 35 its SIGRTMIN).

use crate::error::{Error, Result};
use crate::sys::{SigSet, Signal};
use std::fmt;

/// The highest signal number the kernel knows on the supported targets.
pub const MAX: i32 = 64;
/// The first real-time signal as glibc numbers it.
pub const RTMIN: i32 = 34;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGKILL: i32 = 9;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGXFSZ: i32 = 25;

const NAMES: [(&str, i32); 33] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// The synchronous fault signals: ILL, TRAP, ABRT, BUS, FPE, SEGV, SYS. The
/// kernel raises them in the thread that faulted; pidone never forwards them.
pub const FAULTS: [i32; 7] = [4, 5, 6, 7, 8, 11, 31];

/// The signals pidone blocks and reads from its signalfd: everything but the
/// synchronous faults, which must keep their default action so a bug in pidone
/// dumps core instead of spinning, and SIGKILL/SIGSTOP, which cannot be blocked.
pub fn supervised() -> SigSet {
    FAULTS.into_iter().chain([SIGKILL, SIGSTOP]).filter_map(Signal::new).fold(SigSet::ALL, SigSet::without)
}

/// The signals a failing write raises against the writer: SIGPIPE (a pipe or
/// socket nobody reads: the runtime's log reader went away, `pidone wait … |
/// head -1`) and SIGXFSZ (a file past RLIMIT_FSIZE). A lost log line must
/// never end pidone, reach the app, or make pidone spin, in any mode. Two
/// layers, because no one of them covers every mode:
///
/// - From its first instruction pidone ignores both (`lib::main`), so a
///   failing write is only an error return (EPIPE, EFBIG): `probe` still
///   exits 0 or 1 when stdout or stderr is closed, `pidone env` reports a
///   closed stdout as an error instead of dying of it, and a warning while
///   the options are parsed cannot kill pidone. The command gets back the
///   disposition pidone inherited (the child of run mode after the fork, the
///   program `pidone env` execs before the exec), as contract section 2 asks.
/// - Run mode and `wait` block every supervised signal, these two included,
///   so that one another process sends is still forwarded (or ends the
///   wait). A blocked signal is queued even while ignored, so the ones
///   pidone's own writes raise also reach the signalfd; the sender tells
///   them apart (`sys::Signals::from_others`) and they are dropped without a
///   log line (that line would raise the next one).
///
/// Unblocking them instead would leave them out of the signalfd at once, but
/// a SIGPIPE another process sends would then be lost rather than forwarded.
pub fn raised_by_writes() -> SigSet {
    [SIGPIPE, SIGXFSZ].into_iter().filter_map(Signal::new).fold(SigSet::EMPTY, SigSet::with)
}

/// A signal as messages show it: `SIGTERM`, `SIGRTMIN+3`, or `signal N`.
#[derive(Debug, Clone, Copy)]
pub struct Name(pub i32);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sig = self.0;
        if let Some((n, _)) = NAMES.iter().find(|(_, v)| *v == sig) {
            return write!(f, "SIG{n}");
        }
        match sig - RTMIN {
            0 => f.write_str("SIGRTMIN"),
            k if (RTMIN..=MAX).contains(&sig) => write!(f, "SIGRTMIN+{k}"),
            _ => write!(f, "signal {sig}"),
        }
    }
}

/// Parse a signal: `TERM`, `SIGterm`, `15`, `RTMIN+2`, `RTMAX-1`. `allow_zero`
/// accepts `0` (used as "drop" on the right of `--map`).
pub fn parse(s: &str, allow_zero: bool) -> Result<i32> {
    let t = s.trim_ascii();
    let n = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().ok().filter(|&n| (n == 0 && allow_zero) || (1..=MAX).contains(&n))
    } else {
        by_name(strip_prefix_ci(t, "SIG").unwrap_or(t))
    };
    n.ok_or_else(|| Error::config(format!("invalid signal '{s}'")))
}

/// `s` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { s.get(prefix.len()..) } else { None }
}

/// A name without `SIG`, in any case: `TERM`, `RTMIN`, `RTMIN+2`, `RTMAX-1`.
fn by_name(body: &str) -> Option<i32> {
    if let Some((_, n)) = NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(body)) {
        return Some(*n);
    }
    let (base, sign, rest) = if let Some(rest) = strip_prefix_ci(body, "RTMIN") {
        (RTMIN, '+', rest)
    } else {
        (MAX, '-', strip_prefix_ci(body, "RTMAX")?)
    };
    let off: i32 = if rest.is_empty() {
        0
    } else {
        let digits = rest.strip_prefix(sign)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()?
    };
    let n = if sign == '+' { base.checked_add(off)? } else { base - off };
    (RTMIN..=MAX).contains(&n).then_some(n)
}

/// The `--map FROM:TO` table: what pidone forwards when it receives a signal.
/// TO = 0 drops the signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalMap {
    to: [u8; (MAX + 1) as usize],
}

impl Default for SignalMap {
    fn default() -> Self {
        let mut to = [0u8; (MAX + 1) as usize];
        for (i, slot) in to.iter_mut().enumerate() {
            *slot = i as u8;
        }
        SignalMap { to }
    }
}

impl SignalMap {
    /// Add one `FROM:TO` rule.
    pub fn add(&mut self, rule: &str) -> Result<()> {
        let (from, to) =
            rule.split_once(':').ok_or_else(|| Error::config(format!("invalid map '{rule}': expected FROM:TO")))?;
        let from = parse(from, false)?;
        let to = parse(to, true)?;
        // FROM must be a signal pidone forwards (contract section 2).
        let why = match from {
            SIGKILL | SIGSTOP => Some("it cannot be caught, so pidone never receives it"),
            SIGCHLD => Some("pidone reaps children on it and never receives it to forward"),
            f if FAULTS.contains(&f) => {
                Some("a synchronous fault, raised only in the process that faulted, so pidone never receives it")
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(Error::config(format!("cannot map {}: {why}", Name(from))));
        }
        if let Some(slot) = self.to.get_mut(from as usize) {
            *slot = to as u8;
        }
        Ok(())
    }

    /// What to forward for a received signal; 0 means drop it.
    pub fn get(&self, sig: i32) -> i32 {
        self.to.get(sig as usize).map_or(sig, |&t| i32::from(t))
    }
}

/// Termination signals start the shutdown grace period.
pub fn is_termination(sig: i32) -> bool {
    matches!(sig, SIGTERM | SIGINT | SIGQUIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_numbers_and_realtime() {
        for (s, n) in [
            ("TERM", 15),
            ("sigterm", 15),
            ("SIGQUIT", 3),
            ("hup", 1),
            ("9", 9),
            ("64", 64),
            ("RTMIN", 34),
            ("rtmin+2", 36),
            ("SIGRTMAX", 64),
            ("RTMAX-1", 63),
            ("winch", 28),
        ] {
            assert_eq!(parse(s, false), Ok(n), "{s}");
        }
        for s in ["", "0", "65", "-1", "FOO", "RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "1e3", "SIG"] {
            assert!(parse(s, false).is_err(), "{s}");
        }
        assert_eq!(parse("0", true), Ok(0));
    }

    #[test]
    fn map_rewrites_and_drops() {
        let mut m = SignalMap::default();
        m.add("TERM:QUIT").unwrap();
        m.add("28:0").unwrap();
        m.add("usr1:RTMIN+1").unwrap();
        assert_eq!(m.get(15), 3);
        assert_eq!(m.get(28), 0);
        assert_eq!(m.get(10), 35);
        assert_eq!(m.get(2), 2);
        assert!(m.add("TERM").is_err());
        assert!(m.add("KILL:TERM").is_err());
        for from in ["SEGV", "ill", "SIGTRAP", "ABRT", "IOT", "BUS", "FPE", "SYS", "11", "KILL", "STOP", "CHLD"] {
            let e = m.add(&format!("{from}:TERM")).unwrap_err().to_string();
            assert!(e.starts_with("cannot map SIG") && e.contains("never receives"), "{from}: {e}");
        }
        assert_eq!(m.get(11), 11, "a refused rule changes nothing");
        assert!(m.add("TERM:99").is_err());
    }

    #[test]
    fn names_round_trip() {
        for sig in 1..=MAX {
            if (32..RTMIN).contains(&sig) {
                continue;
            }
            let n = Name(sig).to_string();
            assert_eq!(parse(&n, false), Ok(sig), "{n}");
        }
    }

    #[test]
    fn supervised_set_excludes_faults_and_unblockables() {
        let s = supervised();
        for sig in [4, 5, 6, 7, 8, 9, 11, 19, 31] {
            assert!(!s.contains(Signal::new(sig).unwrap()), "{sig}");
        }
        for sig in [1, 2, 3, 10, 15, 17, 28, 34, 64] {
            assert!(s.contains(Signal::new(sig).unwrap()), "{sig}");
        }
    }
}
