//! Signals as users write and read them (names, numbers), the `--map` table,
//! and the sets pidone blocks and ignores.
//!
//! Numbers follow the Linux kernel (`sys::Signal`, the same on every supported
//! target). Real-time signals are named from RTMIN = 34 to RTMAX = 64, as glibc
//! programs see them, whatever libc pidone itself is linked with (musl calls 35
//! its SIGRTMIN).

use crate::error::{Error, Result};
use crate::number::decimal;
use crate::sys::{SigSet, Signal};
use std::fmt;

/// The first real-time signal as glibc numbers it.
const RTMIN: i32 = 34;
/// The last real-time signal: the highest the kernel knows.
const RTMAX: i32 = 64;

const NAMES: [(&str, Signal); 33] = [
    ("HUP", Signal::HUP),
    ("INT", Signal::INT),
    ("QUIT", Signal::QUIT),
    ("ILL", Signal::ILL),
    ("TRAP", Signal::TRAP),
    ("ABRT", Signal::ABRT),
    ("IOT", Signal::ABRT),
    ("BUS", Signal::BUS),
    ("FPE", Signal::FPE),
    ("KILL", Signal::KILL),
    ("USR1", Signal::USR1),
    ("SEGV", Signal::SEGV),
    ("USR2", Signal::USR2),
    ("PIPE", Signal::PIPE),
    ("ALRM", Signal::ALRM),
    ("TERM", Signal::TERM),
    ("STKFLT", Signal::STKFLT),
    ("CHLD", Signal::CHLD),
    ("CONT", Signal::CONT),
    ("STOP", Signal::STOP),
    ("TSTP", Signal::TSTP),
    ("TTIN", Signal::TTIN),
    ("TTOU", Signal::TTOU),
    ("URG", Signal::URG),
    ("XCPU", Signal::XCPU),
    ("XFSZ", Signal::XFSZ),
    ("VTALRM", Signal::VTALRM),
    ("PROF", Signal::PROF),
    ("WINCH", Signal::WINCH),
    ("IO", Signal::IO),
    ("POLL", Signal::IO),
    ("PWR", Signal::PWR),
    ("SYS", Signal::SYS),
];

/// The synchronous fault signals: ILL, TRAP, ABRT, BUS, FPE, SEGV, SYS. The
/// kernel raises them in the thread that faulted; pidone never forwards them.
pub const FAULTS: [Signal; 7] =
    [Signal::ILL, Signal::TRAP, Signal::ABRT, Signal::BUS, Signal::FPE, Signal::SEGV, Signal::SYS];

/// The signals pidone blocks and reads from its signalfd: everything but the
/// synchronous faults, which must keep their default action so a bug in pidone
/// dumps core instead of spinning, and SIGKILL/SIGSTOP, which cannot be blocked.
pub fn supervised() -> SigSet {
    FAULTS.into_iter().chain([Signal::KILL, Signal::STOP]).fold(SigSet::ALL, SigSet::without)
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
    [Signal::PIPE, Signal::XFSZ].into_iter().fold(SigSet::EMPTY, SigSet::with)
}

/// A signal as messages show it: `SIGTERM`, `SIGRTMIN+3`, or `signal N`.
#[derive(Debug, Clone, Copy)]
pub struct Name(pub Signal);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((name, _)) = NAMES.iter().find(|&&(_, sig)| sig == self.0) {
            return write!(f, "SIG{name}");
        }
        let n = self.0.raw();
        match n - RTMIN {
            0 => f.write_str("SIGRTMIN"),
            k if k > 0 => write!(f, "SIGRTMIN+{k}"),
            _ => write!(f, "signal {n}"),
        }
    }
}

/// Parse a signal: `TERM`, `SIGterm`, `15`, `RTMIN+2`, `RTMAX-1`.
pub fn parse(s: &str) -> Result<Signal> {
    let t = s.trim_ascii();
    let sig = match decimal(t) {
        Some(n) => i32::try_from(n).ok().and_then(Signal::new),
        None => by_name(strip_prefix_ci(t, "SIG").unwrap_or(t)),
    };
    sig.ok_or_else(|| Error::config(format!("invalid signal '{s}'")))
}

/// Parse the TO of a `--map` rule: a signal as [`parse`] takes it, or `0`
/// (`None`: drop the signal).
pub fn parse_map_to(s: &str) -> Result<Option<Signal>> {
    let t = s.trim_ascii();
    if decimal(t) == Some(0) { Ok(None) } else { parse(s).map(Some) }
}

/// `s` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { s.get(prefix.len()..) } else { None }
}

/// A name without `SIG`, in any case: `TERM`, `RTMIN`, `RTMIN+2`, `RTMAX-1`.
fn by_name(body: &str) -> Option<Signal> {
    if let Some(&(_, sig)) = NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(body)) {
        return Some(sig);
    }
    let (base, sign, rest) = if let Some(rest) = strip_prefix_ci(body, "RTMIN") {
        (RTMIN, '+', rest)
    } else {
        (RTMAX, '-', strip_prefix_ci(body, "RTMAX")?)
    };
    let off: i32 =
        if rest.is_empty() { 0 } else { decimal(rest.strip_prefix(sign)?).and_then(|n| i32::try_from(n).ok())? };
    let n = if sign == '+' { base.checked_add(off)? } else { base - off };
    if (RTMIN..=RTMAX).contains(&n) { Signal::new(n) } else { None }
}

/// The `--map FROM:TO` table: what pidone forwards when it receives a signal.
/// TO = 0 drops the signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalMap {
    /// By signal number (slot 0 unused): the signal to forward, `None` to drop.
    to: [Option<Signal>; 65],
}

/// `sig`'s slot in [`SignalMap`]'s table.
fn slot(sig: Signal) -> usize {
    usize::try_from(sig.raw()).unwrap_or(0)
}

impl Default for SignalMap {
    fn default() -> Self {
        let mut to = [None; 65];
        for sig in Signal::all() {
            if let Some(t) = to.get_mut(slot(sig)) {
                *t = Some(sig);
            }
        }
        SignalMap { to }
    }
}

impl SignalMap {
    /// Add one `FROM:TO` rule.
    pub fn add(&mut self, rule: &str) -> Result<()> {
        let (from, to) =
            rule.split_once(':').ok_or_else(|| Error::config(format!("invalid map '{rule}': expected FROM:TO")))?;
        let from = parse(from)?;
        let to = parse_map_to(to)?;
        // FROM must be a signal pidone forwards (contract section 2).
        let why = match from {
            Signal::KILL | Signal::STOP => Some("it cannot be caught, so pidone never receives it"),
            Signal::CHLD => Some("pidone reaps children on it and never receives it to forward"),
            f if FAULTS.contains(&f) => {
                Some("a synchronous fault, raised only in the process that faulted, so pidone never receives it")
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(Error::config(format!("cannot map {}: {why}", Name(from))));
        }
        if let Some(t) = self.to.get_mut(slot(from)) {
            *t = to;
        }
        Ok(())
    }

    /// What to forward for a received signal; `None` means drop it.
    pub fn get(&self, sig: Signal) -> Option<Signal> {
        self.to.get(slot(sig)).map_or(Some(sig), |&to| to)
    }
}

/// Termination signals start the shutdown grace period.
pub fn is_termination(sig: Signal) -> bool {
    matches!(sig, Signal::TERM | Signal::INT | Signal::QUIT)
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
            assert_eq!(parse(s).map(Signal::raw), Ok(n), "{s}");
        }
        for s in ["", "0", "65", "-1", "FOO", "RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "1e3", "SIG"] {
            assert!(parse(s).is_err(), "{s}");
        }
        assert_eq!(parse_map_to("0"), Ok(None));
        assert_eq!(parse_map_to(" 00 "), Ok(None));
        assert_eq!(parse_map_to("quit"), Ok(Some(Signal::QUIT)));
    }

    #[test]
    fn map_rewrites_and_drops() {
        let mut m = SignalMap::default();
        m.add("TERM:QUIT").unwrap();
        m.add("28:0").unwrap();
        m.add("usr1:RTMIN+1").unwrap();
        assert_eq!(m.get(Signal::TERM), Some(Signal::QUIT));
        assert_eq!(m.get(Signal::WINCH), None);
        assert_eq!(m.get(Signal::USR1), Signal::new(35));
        assert_eq!(m.get(Signal::INT), Some(Signal::INT));
        assert!(m.add("TERM").is_err());
        assert!(m.add("KILL:TERM").is_err());
        for from in ["SEGV", "ill", "SIGTRAP", "ABRT", "IOT", "BUS", "FPE", "SYS", "11", "KILL", "STOP", "CHLD"] {
            let e = m.add(&format!("{from}:TERM")).unwrap_err().to_string();
            assert!(e.starts_with("cannot map SIG") && e.contains("never receives"), "{from}: {e}");
        }
        assert_eq!(m.get(Signal::SEGV), Some(Signal::SEGV), "a refused rule changes nothing");
        assert!(m.add("TERM:99").is_err());
    }

    #[test]
    fn names_round_trip() {
        for sig in Signal::all() {
            if (32..RTMIN).contains(&sig.raw()) {
                continue;
            }
            let n = Name(sig).to_string();
            assert_eq!(parse(&n), Ok(sig), "{n}");
        }
        assert_eq!(Name(Signal::new(33).unwrap()).to_string(), "signal 33", "not named by glibc");
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
