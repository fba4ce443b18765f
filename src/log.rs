//! The logger: the only place that writes pidone's own messages to stderr.
//!
//! Lines are `pidone: LEVEL: message`, or one JSON object a line with
//! `--log-format json`. stdout is never used: it belongs to the app and to results.

use std::io::Write;
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
        let mut s = String::with_capacity(msg.len() + 48);
        s.push_str("{\"prog\":\"pidone\",\"level\":\"");
        s.push_str(level.name());
        s.push_str("\",\"msg\":");
        json_string(&mut s, msg);
        s.push_str("}\n");
        s
    } else {
        format!("pidone: {}: {}\n", level.name(), Printable(msg))
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
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
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
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
