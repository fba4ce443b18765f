//! The logger: the only place that writes pidone's own messages to stderr.
//!
//! Lines are `pidone: LEVEL: message`, or one JSON object a line with
//! `--log-format json`. stdout is never used: it belongs to the app and to results.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Error,
            1 => Level::Warn,
            2 => Level::Info,
            _ => Level::Debug,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Warn as u8);
static JSON: AtomicU8 = AtomicU8::new(0);

pub fn configure(level: Level, format: Format) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    JSON.store(u8::from(format == Format::Json), Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level <= Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// Write one log line. Errors writing to stderr are ignored: there is nowhere
/// else to report them, and PID 1 must not die of a closed stderr.
pub fn write(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let line = if JSON.load(Ordering::Relaxed) != 0 {
        // The wall clock, as aggregators expect a log time (before 1970: 1970).
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut s = String::with_capacity(msg.len() + 80);
        s.push_str("{\"time\":\"");
        rfc3339(&mut s, now);
        s.push_str("\",\"level\":\"");
        s.push_str(level.name());
        s.push_str("\",\"msg\":");
        json_string(&mut s, msg);
        s.push_str(",\"prog\":\"pidone\"}\n");
        s
    } else {
        format!("pidone: {}: {}\n", level.name(), Printable(msg))
    };
    let _ = crate::sys::write_all(crate::sys::Stream::Err, line.as_bytes());
}

/// Append `since_epoch` as RFC 3339 UTC with milliseconds:
/// `2026-12-02T08:15:30.123Z`. The date is Howard Hinnant's `civil_from_days`
/// in unsigned integers: no table, no overflow for any `Duration`.
pub fn rfc3339(out: &mut String, since_epoch: std::time::Duration) {
    let secs = since_epoch.as_secs();
    let (days, in_day) = (secs / 86_400, secs % 86_400);
    // Days since 0000-03-01, in 400-year eras of 146,097 days; the year starts in March.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 { march_month + 3 } else { march_month - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    let (h, m, s, ms) = (in_day / 3600, in_day / 60 % 60, in_day % 60, since_epoch.subsec_millis());
    let _ =
        std::fmt::Write::write_fmt(out, format_args!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z"));
}

/// A duration as messages show it: `2s`, `1.5s`, `250ms`.
pub struct Shown(pub std::time::Duration);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Milliseconds in a u64 last 585 million years.
        let ms = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if ms < 1000 {
            return write!(f, "{ms}ms");
        }
        // The milliseconds without trailing zeros.
        let (s, mut frac, mut width) = (ms / 1000, ms % 1000, 3);
        while width > 0 && frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        if width == 0 { write!(f, "{s}s") } else { write!(f, "{s}.{frac:0width$}s") }
    }
}

/// Text as messages show it: control characters escaped (`\n`, `\t`, `\x1b`,
/// `\x9b`), so that a message stays one line and no escape sequence reaches
/// a terminal. Every text log line goes through it (JSON lines escape the same
/// characters their own way), so a value echoed in any message is safe; the
/// probe's result line uses it too. A backslash is left as it is, so showing
/// text twice changes nothing.
pub struct Printable<'a>(pub &'a str);

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                // The C0 and C1 controls and DEL: all below 0x100.
                c if c.is_control() => write!(f, "\\x{:02x}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Append `s` to `out` as a JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Also C1 controls (0x80-0x9f): some terminals read 0x9b as ESC [.
            c if c.is_control() => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Format and write one line. Kept out of line: a log call site only checks
/// the level and passes its arguments; the formatting happens here, once.
#[inline(never)]
pub fn write_fmt(level: Level, args: std::fmt::Arguments<'_>) {
    write(level, &std::fmt::format(args));
}

macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write_fmt($level, format_args!($($arg)*));
        }
    };
}
pub(crate) use log_at;

macro_rules! error { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Error, $($arg)*) }; }
macro_rules! warning { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Warn, $($arg)*) }; }
macro_rules! info { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Info, $($arg)*) }; }
macro_rules! debug { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Debug, $($arg)*) }; }
pub(crate) use {debug, error, info, warning};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_controls_and_quotes() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn printable_escapes_every_control_character_once() {
        let shown = Printable("a\nb\r\tc\u{1b}[31md\u{7f}\u{9b}e\\n\u{2028}é").to_string();
        assert_eq!(shown, "a\\nb\\r\\tc\\x1b[31md\\x7f\\x9be\\n\u{2028}é");
        assert_eq!(Printable(&shown).to_string(), shown, "showing twice changes nothing");
        let mut json = String::new();
        json_string(&mut json, "\u{9b}\u{1b}");
        assert_eq!(json, "\"\\u009b\\u001b\"");
    }

    #[test]
    fn rfc3339_utc_milliseconds() {
        let show = |secs: u64, ms: u64| {
            let mut s = String::new();
            rfc3339(&mut s, std::time::Duration::from_secs(secs) + std::time::Duration::from_millis(ms));
            s
        };
        assert_eq!(show(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(show(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(show(1_709_164_800, 0), "2024-02-29T00:00:00.000Z");
        assert_eq!(show(1_796_199_330, 123), "2026-12-02T08:15:30.123Z");
        assert_eq!(show(4_102_444_800, 999), "2100-01-01T00:00:00.999Z");
        assert_eq!(show(253_402_300_799, 0), "9999-12-31T23:59:59.000Z");
        // Every day of four centuries round-trips through the month lengths.
        let (mut y, mut m, mut d) = (1970u64, 1u64, 1u64);
        for day in 0..146_097u64 {
            assert_eq!(show(day * 86_400 + 86_399, 7), format!("{y:04}-{m:02}-{d:02}T23:59:59.007Z"));
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(m - 1) as usize];
            (y, m, d) = if d < len {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        let mut s = String::new();
        rfc3339(&mut s, std::time::Duration::MAX);
        assert!(s.ends_with(".999Z"), "{s}");
    }

    #[test]
    fn durations_read_naturally() {
        let show = |ms| Shown(std::time::Duration::from_millis(ms)).to_string();
        assert_eq!(show(2000), "2s");
        assert_eq!(show(500), "500ms");
        assert_eq!(show(1500), "1.5s");
        assert_eq!(show(1250), "1.25s");
        assert_eq!(show(90_000), "90s");
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("INFO"), Some(Level::Info));
        assert_eq!(Level::parse("nope"), None);
        assert!(Level::Error < Level::Debug);
    }
}
