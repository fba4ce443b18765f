//! The command-line grammar of every mode, merged with `PIDONE_*` variables,
//! into the plain options of [`crate::config`]. Nothing but `lib.rs` (and the
//! fuzz entry points) calls this module.
//!
//! One table ([`OPTIONS`]) lists every option once: its name and short form,
//! whether `PIDONE_<NAME>` sets it, the modes that take it, where its value
//! goes and its help line. The parser, the variables, the error messages and
//! the options part of `--help` all come from that table, so adding an option
//! touches one row (and its test).
//! Variables are applied first and the command line second, so the command
//! line wins; a repeatable option given on the command line replaces the list
//! from its variable. A bad value does not stop the parse: the first error is
//! reported once everything is read, so the log options are known (and used
//! for that error) wherever they stand. [`PEERS`] adds tini's and dumb-init's
//! spellings in run mode.

use crate::config::{EnvCmd, EnvFormat, Forward, Method, Mode, Probe, Run, Source, Wait};
use crate::config::{EnvOpts, LogOpts, Origin, Sourced, UserOpts, WaitOpts};
use crate::error::{Error, Result};
use crate::log::{Format, Level};
use crate::number::decimal;
use crate::signals::SignalMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// The four modes, as the first word of the command line selects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    Run,
    Env,
    Probe,
    Wait,
}

/// What kind of value an option takes.
#[derive(Clone, Copy)]
enum Takes {
    /// A boolean: `--x`, `--x=BOOL`, `PIDONE_X=BOOL`.
    Flag,
    /// One value; the last one given wins.
    Value,
    /// Repeatable; the variable holds a comma-separated list. The function
    /// forgets the values so far (the command line replaces the variable's).
    List(fn(&mut Settings)),
}

/// The part of `--help` an option is listed in: a `@name` line of the
/// templates in src/help/.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Supervision,
    Environment,
    Privileges,
    Dependencies,
    Logging,
    Output,
    Probe,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Supervision,
        Section::Environment,
        Section::Privileges,
        Section::Dependencies,
        Section::Logging,
        Section::Output,
        Section::Probe,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Supervision => "supervision",
            Section::Environment => "environment",
            Section::Privileges => "privileges",
            Section::Dependencies => "dependencies",
            Section::Logging => "logging",
            Section::Output => "output",
            Section::Probe => "probe",
        }
    }
}

/// One option: one row of [`OPTIONS`].
struct OptRow {
    /// `--long`.
    long: &'static str,
    /// The one-letter form, if any (`-H`).
    short: Option<u8>,
    /// The value's name in `--help` (`DURATION`); empty for a flag.
    arg: &'static str,
    takes: Takes,
    /// Whether `PIDONE_<LONG>` sets it too.
    var: bool,
    modes: &'static [Sub],
    section: Section,
    /// Its line in `--help` (wrapped there to the terminal width).
    help: &'static str,
    /// Store one value (`1` for a bare flag) in the options being built.
    set: fn(&mut Settings, &str) -> Result<()>,
}

const RUN: &[Sub] = &[Sub::Run];
const ENV: &[Sub] = &[Sub::Env];
const PROBE: &[Sub] = &[Sub::Probe];
const RUN_ENV: &[Sub] = &[Sub::Run, Sub::Env];
const RUN_WAIT: &[Sub] = &[Sub::Run, Sub::Wait];
const ALL: &[Sub] = &[Sub::Run, Sub::Env, Sub::Probe, Sub::Wait];

/// Store a parsed value.
fn put<T>(slot: &mut T, value: Result<T>) -> Result<()> {
    *slot = value?;
    Ok(())
}

/// Append a parsed value to a list.
fn push<T>(list: &mut Vec<T>, value: Result<T>) -> Result<()> {
    list.push(value?);
    Ok(())
}

/// Every option of every mode. Variables are applied in this order.
const OPTIONS: [OptRow; 28] = [
    OptRow {
        long: "grace",
        short: None,
        arg: "DURATION",
        takes: Takes::Value,
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "time every process gets to exit after a stop signal (or after COMMAND exits on its own), \
               before SIGKILL [default: none after a stop signal (the runtime's stop timeout decides), 10s after \
               COMMAND's own exit]",
        set: |s, v| put(&mut s.run.supervise.grace, parse_duration(v).map(Some)),
    },
    OptRow {
        long: "stop-delay",
        short: None,
        arg: "DURATION",
        takes: Takes::Value,
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "hold the first stop signal this long before forwarding it; a second one forwards at once \
               [default: 0]",
        set: |s, v| put(&mut s.run.supervise.stop_delay, parse_duration(v)),
    },
    OptRow {
        long: "forward",
        short: None,
        arg: "MODE",
        takes: Takes::Value,
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "auto, group or child: auto sends TERM, INT and QUIT to COMMAND's process group and every other \
               signal to COMMAND only; group and child: every signal [default: auto]",
        set: |s, v| put(&mut s.run.supervise.forward, parse_forward(v)),
    },
    OptRow {
        long: "map",
        short: Some(b'r'),
        arg: "FROM:TO",
        takes: Takes::List(|s| s.run.supervise.map = SignalMap::default()),
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "forward signal FROM as TO; TO=0 drops it (repeatable)",
        set: |s, v| s.run.supervise.map.add(v),
    },
    OptRow {
        long: "success-code",
        short: Some(b'e'),
        arg: "N",
        takes: Takes::List(|s| s.run.supervise.success_codes.clear()),
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "treat COMMAND's exit code N as 0 (repeatable)",
        set: |s, v| push(&mut s.run.supervise.success_codes, parse_exit_code(v)),
    },
    OptRow {
        long: "parent-death",
        short: Some(b'p'),
        arg: "SIG",
        takes: Takes::Value,
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "ask the kernel for SIG when pidone's parent dies (when pidone is not PID 1)",
        set: |s, v| put(&mut s.run.parent_death_signal, crate::signals::parse(v).map(Some)),
    },
    OptRow {
        long: "warn-reaped",
        short: Some(b'w'),
        arg: "",
        takes: Takes::Flag,
        var: true,
        modes: RUN,
        section: Section::Supervision,
        help: "log every reaped process other than COMMAND at warn",
        set: |s, v| put(&mut s.run.supervise.warn_reaped, parse_bool(v)),
    },
    OptRow {
        long: "wait",
        short: None,
        arg: "TARGET",
        takes: Takes::List(|s| s.run.wait.targets.clear()),
        var: true,
        modes: RUN,
        section: Section::Dependencies,
        help: "wait for tcp://host:port, http://... or file:///path before starting COMMAND (repeatable)",
        set: |s, v| {
            s.run.wait.from = s.origin;
            push(&mut s.run.wait.targets, Ok(v.to_string()))
        },
    },
    OptRow {
        long: "wait-timeout",
        short: None,
        arg: "DURATION",
        takes: Takes::Value,
        var: true,
        modes: RUN_WAIT,
        section: Section::Dependencies,
        help: "give up after this long [default: 30s]",
        set: |s, v| put(&mut s.wait().timeout, parse_duration(v)),
    },
    OptRow {
        long: "wait-interval",
        short: None,
        arg: "DURATION",
        takes: Takes::Value,
        var: true,
        modes: RUN_WAIT,
        section: Section::Dependencies,
        help: "retry this often [default: 1s]",
        set: |s, v| put(&mut s.wait().interval, parse_interval(v)),
    },
    OptRow {
        long: "env-file",
        short: None,
        arg: "[?]PATH",
        takes: Takes::List(|s| s.env().files.clear()),
        var: true,
        modes: RUN_ENV,
        section: Section::Environment,
        help: "load a .env file; ?PATH may be missing (repeatable)",
        set: |s, v| push(&mut s.env().files, parse_source(v)),
    },
    OptRow {
        long: "env-override",
        short: None,
        arg: "",
        takes: Takes::Flag,
        var: true,
        modes: RUN_ENV,
        section: Section::Environment,
        help: "let env files override pidone's own environment",
        set: |s, v| put(&mut s.env().override_existing, parse_bool(v)),
    },
    OptRow {
        long: "secrets-dir",
        short: None,
        arg: "[?]DIR",
        takes: Takes::List(|s| s.env().secrets_dirs.clear()),
        var: true,
        modes: RUN_ENV,
        section: Section::Environment,
        help: "one variable per file in DIR (repeatable)",
        set: |s, v| push(&mut s.env().secrets_dirs, parse_source(v)),
    },
    OptRow {
        long: "file-env",
        short: None,
        arg: "NAME",
        takes: Takes::List(|s| s.env().file_env.clear()),
        var: true,
        modes: RUN_ENV,
        section: Section::Environment,
        help: "set NAME from the file named by NAME_FILE (repeatable)",
        set: |s, v| push(&mut s.env().file_env, parse_variable_name(v)),
    },
    OptRow {
        long: "user",
        short: None,
        arg: "USER[:GROUP]",
        takes: Takes::Value,
        var: true,
        modes: RUN_ENV,
        section: Section::Privileges,
        help: "run COMMAND as this user (names or numeric ids)",
        set: |s, v| {
            let from = s.origin;
            put(&mut s.user().user, Ok(Some(Sourced { value: v.to_string(), from })))
        },
    },
    OptRow {
        long: "allow-root",
        short: None,
        arg: "",
        takes: Takes::Flag,
        var: true,
        modes: RUN_ENV,
        section: Section::Privileges,
        help: "allow COMMAND to run as uid 0",
        set: |s, v| put(&mut s.user().allow_root, parse_bool(v)),
    },
    OptRow {
        long: "allow-new-privs",
        short: None,
        arg: "",
        takes: Takes::Flag,
        var: true,
        modes: RUN_ENV,
        section: Section::Privileges,
        help: "do not set no_new_privs",
        set: |s, v| put(&mut s.user().allow_new_privs, parse_bool(v)),
    },
    OptRow {
        long: "log-level",
        short: None,
        arg: "LEVEL",
        takes: Takes::Value,
        var: true,
        modes: ALL,
        section: Section::Logging,
        help: "error, warn, info, debug [default: warn]",
        set: |s, v| put(&mut s.log().level, parse_level(v)),
    },
    OptRow {
        long: "log-format",
        short: None,
        arg: "FORMAT",
        takes: Takes::Value,
        var: true,
        modes: ALL,
        section: Section::Logging,
        help: "text or json [default: text]",
        set: |s, v| put(&mut s.log().format, parse_log_format(v)),
    },
    OptRow {
        long: "format",
        short: None,
        arg: "FORMAT",
        takes: Takes::Value,
        var: false,
        modes: ENV,
        section: Section::Output,
        help: "dotenv, shell or json [default: dotenv]",
        set: |s, v| put(&mut s.env.format, parse_env_format(v)),
    },
    OptRow {
        long: "check",
        short: None,
        arg: "",
        takes: Takes::Flag,
        var: false,
        modes: ENV,
        section: Section::Output,
        help: "print only the names loaded; validate everything",
        set: |s, v| put(&mut s.env.check, parse_bool(v)),
    },
    OptRow {
        long: "port",
        short: None,
        arg: "PORT",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "port for /path targets [default: $PIDONE_PROBE_PORT, else $PORT, else 8000]",
        set: |s, v| put(&mut s.probe.port, parse_port(v).map(Some)),
    },
    OptRow {
        long: "unix",
        short: None,
        arg: "SOCKET",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "send the HTTP request over a Unix socket",
        set: |s, v| put(&mut s.probe.unix, Ok(Some(PathBuf::from(v)))),
    },
    OptRow {
        long: "expect",
        short: None,
        arg: "LIST",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "healthy status codes [default: 200-399]",
        set: |s, v| put(&mut s.probe.expect, Ok(v.to_string())),
    },
    OptRow {
        long: "body-contains",
        short: None,
        arg: "TEXT",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "the first 64 KiB of the body must contain TEXT",
        set: |s, v| put(&mut s.probe.body_contains, Ok(Some(v.to_string()))),
    },
    OptRow {
        long: "header",
        short: Some(b'H'),
        arg: "'N: V'",
        takes: Takes::List(|s| s.probe.headers.clear()),
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "add a request header (repeatable)",
        set: |s, v| push(&mut s.probe.headers, Ok(v.to_string())),
    },
    OptRow {
        long: "method",
        short: None,
        arg: "GET|HEAD",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "[default: GET]",
        set: |s, v| put(&mut s.probe.method, parse_method(v)),
    },
    OptRow {
        long: "timeout",
        short: None,
        arg: "DURATION",
        takes: Takes::Value,
        var: false,
        modes: PROBE,
        section: Section::Probe,
        help: "bound on the whole check [default: 2s]",
        set: |s, v| put(&mut s.probe.timeout, parse_duration(v)),
    },
];

/// A peer's spelling of a pidone option (contract section 1), taken in run
/// mode only, so that `["/tini", "-g", "--"]` becomes `["/init", "-g", "--"]`.
/// tini's `-e`, `-p`, `-w` and dumb-init's `-r` are the short forms of their
/// rows in [`OPTIONS`]; `-s` (a no-op: pidone is a subreaper whenever it is
/// not PID 1), `-l` (the license notices) and `-vvv` are read by the tokenizer.
struct Peer {
    short: Option<u8>,
    long: Option<&'static str>,
    /// The row of [`OPTIONS`] it sets.
    row: &'static str,
    /// The value the spelling implies (`-g` is `--forward group`), if any.
    value: Option<&'static str>,
}

const PEERS: [Peer; 3] = [
    // tini -g: signals to the child's process group.
    Peer { short: Some(b'g'), long: None, row: "forward", value: Some("group") },
    // dumb-init -c / --single-child: signals to the child only.
    Peer { short: Some(b'c'), long: Some("single-child"), row: "forward", value: Some("child") },
    // dumb-init -r / --rewrite S:R.
    Peer { short: None, long: Some("rewrite"), row: "map", value: None },
];

/// An option a word names: its place in [`OPTIONS`], its row, and the value
/// its spelling implies.
type Found = (usize, &'static OptRow, Option<&'static str>);

/// What the command line asks for, once its options are read.
enum Parsed {
    /// The positional words start here (the first non-option word, or after `--`).
    Words(usize),
    /// `-h` / `--help`.
    Help,
    /// `-l`: the license notices.
    License,
}

/// Keep the first error of a parse that goes on.
fn record(first: &mut Option<Error>, r: Result<()>) {
    if let Err(e) = r {
        first.get_or_insert(e);
    }
}

/// The environment variable that sets `--long`.
pub fn env_name(long: &'static str) -> String {
    Origin::Variable(long).to_string()
}

/// The variables pidone reads outside the option table (`probe` reads its port).
const OTHER_VARIABLES: [&str; 1] = ["PIDONE_PROBE_PORT"];

/// The warning for `name` when it is a `PIDONE_*` name no mode reads (a typo
/// is not an error), naming the closest variable pidone knows when one is close:
/// within two edits, or one name the other's prefix (`PIDONE_GRACE_PERIOD`).
pub fn unknown_variable(name: &std::ffi::OsStr) -> Option<String> {
    let name = name.to_string_lossy();
    if !name.starts_with("PIDONE_") {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    // Ranked by fewer edits first, then the longer shared prefix.
    let mut closest: Option<((usize, usize), String)> = None;
    let variables = OPTIONS.iter().filter(|row| row.var).map(|row| env_name(row.long));
    for known in variables.chain(OTHER_VARIABLES.map(String::from)) {
        if known == name {
            return None;
        }
        let prefix = upper.strip_prefix(known.as_str()).is_some_and(|rest| rest.starts_with('_'))
            || (known.starts_with(upper.as_str()) && upper.len() > 7);
        let edits = if upper.len() <= known.len() + 2 { edit_distance(upper.as_bytes(), known.as_bytes()) } else { 3 };
        if edits <= 2 || prefix {
            let candidate = ((edits, usize::MAX - known.len()), known);
            if closest.as_ref().is_none_or(|best| candidate < *best) {
                closest = Some(candidate);
            }
        }
    }
    Some(match closest {
        Some((_, k)) => format!("{name} is not a pidone variable and is ignored (did you mean {k}?)"),
        None => format!("{name} is not a pidone variable and is ignored"),
    })
}

/// The Levenshtein distance between `a` and `b`, keeping one row of the table:
/// `row[j]` is the distance between the part of `a` read so far and `b[..j]`.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        // The cells up-left and left of the one being computed.
        let (mut diagonal, mut left) = (i, i + 1);
        if let Some(first) = row.first_mut() {
            *first = left;
        }
        for (above, &cb) in row.iter_mut().skip(1).zip(b) {
            let here = (diagonal + usize::from(ca != cb)).min(*above + 1).min(left + 1);
            (diagonal, left) = (*above, here);
            *above = here;
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The error for a value that is not one of the accepted ones.
fn invalid(what: &str, value: &str, accepted: &str) -> Error {
    Error::config(format!("invalid {what} '{value}' ({accepted})"))
}

/// Parse a duration: `500ms`, `3s`, `1m`, `1m30s`, `1.5s`, `0.25m`, `2h`; a
/// bare number (`8`, `1.5`) is seconds. Units descend and appear once each.
/// The value must be a whole number of milliseconds (`1.0005s` is refused,
/// never rounded) and at most [`crate::time::MAX`] (one year).
pub fn parse_duration(s: &str) -> Result<Duration> {
    duration(s.trim_ascii()).map_err(|why| invalid("duration", s, why))
}

/// The units a duration takes, largest first, in milliseconds.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)];
const DURATION_SYNTAX: &str = "examples: 500ms, 1.5s, 1m30s";
const DURATION_ORDER: &str = "units descend and appear once each: 1m30s, not 30s1m";
const DURATION_FINE: &str = "the smallest step is 1ms";
const DURATION_LONG: &str = "at most 1 year (8760h)";

fn duration(t: &str) -> std::result::Result<Duration, &'static str> {
    let ms = if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        part_ms(t, 1000)?
    } else {
        let mut total = 0u64;
        let (mut rest, mut units) = (t, UNITS.iter());
        while !rest.is_empty() {
            let (num, tail) = rest.split_at(rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count());
            let (unit, tail) = tail.split_at(tail.bytes().take_while(u8::is_ascii_alphabetic).count());
            // `units` only has the units smaller than the last one used.
            let Some((_, scale)) = units.find(|(name, _)| *name == unit) else {
                return Err(if UNITS.iter().any(|(name, _)| *name == unit) { DURATION_ORDER } else { DURATION_SYNTAX });
            };
            total = total.checked_add(part_ms(num, *scale)?).ok_or(DURATION_LONG)?;
            rest = tail;
        }
        total
    };
    let d = Duration::from_millis(ms);
    if d > crate::time::MAX { Err(DURATION_LONG) } else { Ok(d) }
}

/// `INT[.FRACTION]` times `scale` milliseconds, exactly.
fn part_ms(num: &str, scale: u64) -> std::result::Result<u64, &'static str> {
    let (int, frac) = match num.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (num, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(DURATION_SYNTAX);
    }
    let whole = decimal(int).and_then(|n| n.checked_mul(scale)).ok_or(DURATION_LONG)?;
    let frac = frac.unwrap_or_default().trim_end_matches('0');
    if frac.is_empty() {
        return Ok(whole);
    }
    // FRACTION / 10^len, in milliseconds: exact, or finer than the smallest step.
    let fine = || DURATION_FINE;
    let numerator = decimal(frac).map(u128::from).ok_or_else(fine)? * u128::from(scale);
    let denominator = u32::try_from(frac.len()).ok().and_then(|n| 10u128.checked_pow(n)).ok_or_else(fine)?;
    if numerator % denominator != 0 {
        return Err(DURATION_FINE);
    }
    u64::try_from(numerator / denominator).ok().and_then(|f| whole.checked_add(f)).ok_or(DURATION_LONG)
}

/// Parse a boolean variable or `--flag=VALUE`: 1/true/yes/on, 0/false/no/off.
pub fn parse_bool(s: &str) -> Result<bool> {
    match s.trim_ascii().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid("boolean", s, "use 1/true/yes/on or 0/false/no/off")),
    }
}

fn parse_exit_code(s: &str) -> Result<u8> {
    decimal(s.trim_ascii()).and_then(|n| u8::try_from(n).ok()).ok_or_else(|| invalid("exit code", s, "0-255"))
}

/// A path option that may start with `?` to mark it optional.
pub fn parse_source(s: &str) -> Result<Source> {
    let (optional, path) = match s.strip_prefix('?') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if path.is_empty() {
        return Err(Error::config("empty path"));
    }
    Ok(Source { path: PathBuf::from(path), optional })
}

fn parse_interval(v: &str) -> Result<Duration> {
    let interval = parse_duration(v)?;
    if interval.is_zero() {
        return Err(Error::config("the interval must be above zero"));
    }
    Ok(interval)
}

fn parse_variable_name(v: &str) -> Result<String> {
    if !crate::env::valid_name(v) {
        return Err(invalid("variable name", v, "a name is [A-Za-z_][A-Za-z0-9_]*"));
    }
    Ok(v.to_string())
}

/// A TCP port: decimal digits only, 1-65535, by the rule of a port in a
/// probe target.
fn parse_port(v: &str) -> Result<u16> {
    crate::probe::target::number(v, 1..=65535).ok_or_else(|| invalid("port", v, "1-65535"))
}

// Every enumerated value is compared ignoring ASCII case (contract section 1),
// on the command line and in variables alike.

fn parse_level(v: &str) -> Result<Level> {
    Level::parse(v).ok_or_else(|| invalid("log level", v, "error, warn, info, debug"))
}

fn parse_forward(v: &str) -> Result<Forward> {
    match v.to_ascii_lowercase().as_str() {
        "auto" => Ok(Forward::Auto),
        "group" => Ok(Forward::Group),
        "child" => Ok(Forward::Child),
        _ => Err(invalid("value", v, "auto, group, child")),
    }
}

fn parse_log_format(v: &str) -> Result<Format> {
    match v.to_ascii_lowercase().as_str() {
        "text" => Ok(Format::Text),
        "json" => Ok(Format::Json),
        _ => Err(invalid("log format", v, "text, json")),
    }
}

fn parse_env_format(v: &str) -> Result<EnvFormat> {
    match v.to_ascii_lowercase().as_str() {
        "dotenv" => Ok(EnvFormat::Dotenv),
        "shell" => Ok(EnvFormat::Shell),
        "json" => Ok(EnvFormat::Json),
        _ => Err(invalid("format", v, "dotenv, shell, json")),
    }
}

fn parse_method(v: &str) -> Result<Method> {
    match v.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::Get),
        "HEAD" => Ok(Method::Head),
        _ => Err(invalid("method", v, "GET, HEAD")),
    }
}

/// The options of every mode at their defaults. The mode being parsed gets
/// the options it shares with others ([`Settings::log`] and the like) and
/// is the one [`Settings::into_mode`] hands out.
struct Settings {
    sub: Sub,
    /// Where the value being set comes from (for the values checked after parsing).
    origin: Origin,
    run: Run,
    env: EnvCmd,
    probe: Probe,
    wait: Wait,
}

impl Settings {
    fn new(sub: Sub) -> Settings {
        Settings {
            sub,
            origin: Origin::Option(""),
            run: Run::default(),
            env: EnvCmd::default(),
            probe: Probe::default(),
            wait: Wait::default(),
        }
    }

    fn log(&mut self) -> &mut LogOpts {
        match self.sub {
            Sub::Run => &mut self.run.log,
            Sub::Env => &mut self.env.log,
            Sub::Probe => &mut self.probe.log,
            Sub::Wait => &mut self.wait.log,
        }
    }

    fn env(&mut self) -> &mut EnvOpts {
        if self.sub == Sub::Env { &mut self.env.env } else { &mut self.run.env }
    }

    fn user(&mut self) -> &mut UserOpts {
        if self.sub == Sub::Env { &mut self.env.user } else { &mut self.run.user }
    }

    fn wait(&mut self) -> &mut WaitOpts {
        if self.sub == Sub::Wait { &mut self.wait.wait } else { &mut self.run.wait }
    }

    /// The rows of the options this mode takes, with their place in [`OPTIONS`].
    fn rows(&self) -> impl Iterator<Item = (usize, &'static OptRow)> + use<> {
        let sub = self.sub;
        OPTIONS.iter().enumerate().filter(move |(_, row)| row.modes.contains(&sub))
    }

    /// Apply the `PIDONE_*` variables from `vars` of every option of the mode that has one.
    fn apply_vars(&mut self, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<()> {
        // A bad value does not stop the others (the log options among them).
        let mut first = None;
        for (_, row) in self.rows().filter(|(_, row)| row.var) {
            let name = env_name(row.long);
            let Some(raw) = vars(&name) else { continue };
            self.origin = Origin::Variable(row.long);
            let res = match (raw.to_str(), row.takes) {
                (None, _) => Err(Error::config("value is not valid UTF-8")),
                (Some(list), Takes::List(_)) => list
                    .split(',')
                    .map(str::trim_ascii)
                    .filter(|s| !s.is_empty())
                    .try_for_each(|item| (row.set)(self, item)),
                (Some(val), _) => (row.set)(self, val),
            };
            record(&mut first, res.map_err(|e| e.context(&name)));
        }
        first.map_or(Ok(()), Err)
    }

    /// The row a `--long` name or a `-x` letter names, in this mode.
    fn find(&self, long: Option<&[u8]>, short: Option<u8>) -> Option<Found> {
        let named = |l: Option<&str>, s: Option<u8>| {
            (long.is_some() && long == l.map(str::as_bytes)) || (short.is_some() && short == s)
        };
        if let Some((place, row)) = self.rows().find(|(_, row)| named(Some(row.long), row.short)) {
            return Some((place, row, None));
        }
        let peer = PEERS.iter().find(|peer| self.sub == Sub::Run && named(peer.long, peer.short))?;
        self.rows().find(|(_, row)| row.long == peer.row).map(|(place, row)| (place, row, peer.value))
    }

    /// Set the option `found` from `attached` (`--opt=V`, `-oV`), else the
    /// value its spelling implies, `1` for a flag, or the next word.
    fn apply(
        &mut self,
        found: Found,
        attached: Option<&[u8]>,
        args: &[OsString],
        at: &mut usize,
        given: &mut [bool],
    ) -> Result<()> {
        let (place, row, implied) = found;
        let value = match (implied, attached) {
            (Some(_), Some(_)) => return Err(Error::config("takes no value")),
            (Some(v), None) => v.as_bytes(),
            (None, Some(v)) => v,
            (None, None) if matches!(row.takes, Takes::Flag) => b"1",
            (None, None) => {
                let v = args.get(*at).ok_or_else(|| Error::config("missing value"))?;
                *at += 1;
                v.as_bytes()
            }
        };
        self.origin = Origin::Option(row.long);
        if let (Takes::List(clear), Some(seen @ false)) = (row.takes, given.get_mut(place)) {
            *seen = true;
            clear(self);
        }
        let value = std::str::from_utf8(value).map_err(|_| Error::config("value is not valid UTF-8"))?;
        (row.set)(self, value)
    }

    /// Parse the mode's options in `args` from `at` on. A bad value does not
    /// stop the parse: the rest is read (so the log options are known however
    /// the line goes on), and the first error is returned.
    fn parse_args(&mut self, args: &[OsString], mut at: usize) -> Result<Parsed> {
        let (mut verbosity, mut quiet) = (0u8, false);
        // The list options given on the command line so far, by place in OPTIONS.
        let mut given = [false; OPTIONS.len()];
        let mut first = None;
        let unknown = |shown: &str| Error::config(format!("unknown option '{shown}' (see pidone --help)"));
        let words = loop {
            let Some(arg) = args.get(at) else { break at };
            at += 1;
            let word = arg.as_bytes();
            if word == b"--" {
                break at;
            } else if let Some(long) = word.strip_prefix(b"--") {
                // `--name` or `--name=value`.
                let (name, attached) = match long.iter().position(|&c| c == b'=') {
                    Some(eq) => (long.get(..eq).unwrap_or_default(), long.get(eq + 1..)),
                    None => (long, None),
                };
                if name == b"help" {
                    return Ok(Parsed::Help);
                }
                let shown = format!("--{}", String::from_utf8_lossy(name));
                let set = match self.find(Some(name), None) {
                    Some(found) => self.apply(found, attached, args, &mut at, &mut given),
                    None => Err(unknown(&shown)),
                };
                record(&mut first, set.map_err(|e| e.context(&shown)));
            } else if let Some(shorts @ [_, ..]) = word.strip_prefix(b"-") {
                // Flags (`-vq`, `-gw`), then at most one option with its value: `-H V`, `-HV`, `-H=V`.
                let mut rest = shorts;
                while let [c, tail @ ..] = rest {
                    // The letter as typed (a character is at most 4 bytes).
                    let letter = rest.get(..rest.len().min(4)).unwrap_or_default();
                    let shown = format!("-{}", String::from_utf8_lossy(letter).chars().next().unwrap_or_default());
                    rest = tail;
                    let found = match c {
                        b'h' => return Ok(Parsed::Help),
                        b'l' if self.sub == Sub::Run => return Ok(Parsed::License),
                        b'v' => {
                            verbosity = verbosity.saturating_add(1);
                            None
                        }
                        b'q' => {
                            quiet = true;
                            None
                        }
                        // tini's -s: pidone is a subreaper whenever it is not PID 1.
                        b's' if self.sub == Sub::Run => None,
                        _ => match self.find(None, Some(*c)) {
                            Some(found) => Some(found),
                            None => {
                                record(&mut first, Err(unknown(&shown)));
                                break;
                            }
                        },
                    };
                    let flag =
                        found.is_none_or(|(_, row, implied)| implied.is_some() || matches!(row.takes, Takes::Flag));
                    if flag && rest.first() == Some(&b'=') {
                        record(&mut first, Err(Error::config(format!("{shown}: takes no value"))));
                        break;
                    }
                    let Some(found) = found else { continue };
                    let attached = (!flag && !rest.is_empty()).then(|| rest.strip_prefix(b"=").unwrap_or(rest));
                    let set = self.apply(found, attached, args, &mut at, &mut given);
                    record(&mut first, set.map_err(|e| e.context(&shown)));
                    if !flag {
                        break;
                    }
                }
            } else {
                break at - 1;
            }
        };
        let log = self.log();
        if quiet {
            log.level = Level::Error;
        } else if verbosity >= 2 {
            log.level = Level::Debug;
        } else if verbosity == 1 && log.level < Level::Info {
            log.level = Level::Info;
        }
        first.map_or(Ok(Parsed::Words(words)), Err)
    }

    /// The mode's own settings, with its positional `words`.
    fn into_mode(mut self, words: Vec<OsString>) -> Result<Mode> {
        let text = |w: &OsString| w.to_string_lossy().into_owned();
        Ok(match self.sub {
            Sub::Probe if words.len() > 1 => return Err(Error::config("probe takes one TARGET")),
            Sub::Probe => {
                self.probe.target = words.first().map(text);
                Mode::Probe(self.probe)
            }
            Sub::Wait if words.is_empty() => {
                return Err(Error::config("no TARGET given (usage: pidone wait [OPTIONS] TARGET...)"));
            }
            Sub::Wait => {
                self.wait.wait.targets = words.iter().map(text).collect();
                Mode::Wait(self.wait)
            }
            Sub::Env => {
                self.env.command = words;
                Mode::Env(self.env)
            }
            Sub::Run if words.is_empty() => {
                return Err(Error::config(
                    "no command given (usage: pidone [OPTIONS] [--] COMMAND [ARG...]; see pidone --help)",
                ));
            }
            Sub::Run => {
                self.run.command = words;
                Mode::Run(Box::new(self.run))
            }
        })
    }
}

/// The help text of a mode: its template from src/help/, with each `@section`
/// line replaced by the options of that section the mode takes.
fn help(sub: Sub) -> String {
    let template = match sub {
        Sub::Run => include_str!("help/run.txt"),
        Sub::Env => include_str!("help/env.txt"),
        Sub::Probe => include_str!("help/probe.txt"),
        Sub::Wait => include_str!("help/wait.txt"),
    };
    let mut out = String::with_capacity(2048);
    for line in template.lines() {
        let Some(section) = line.strip_prefix('@').and_then(|n| Section::ALL.into_iter().find(|s| s.name() == n))
        else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let rows = || OPTIONS.iter().filter(move |row| row.section == section && row.modes.contains(&sub));
        // The section's help texts line up two columns after its longest label.
        let column = rows().map(|row| label(row).len() + 2).fold(HELP_COLUMN, usize::max);
        for row in rows() {
            help_row(&mut out, row, column);
        }
    }
    out
}

/// Where options' help texts start (at least), and the widest a help line gets.
const HELP_COLUMN: usize = 26;
const HELP_WIDTH: usize = 80;

/// `  -H, --header 'N: V'`
fn label(row: &OptRow) -> String {
    let mut out = String::from("  ");
    if let Some(c) = row.short {
        out.extend(['-', char::from(c), ',', ' ']);
    }
    out.extend(["--", row.long]);
    if !row.arg.is_empty() {
        out.extend([" ", row.arg]);
    }
    out
}

/// `  -H, --header 'N: V'      add a request header (repeatable)`, the text
/// starting at `column` and wrapped at [`HELP_WIDTH`].
fn help_row(out: &mut String, row: &OptRow, column: usize) {
    let label = label(row);
    out.push_str(&label);
    let mut at = label.len();
    for word in row.help.split(' ') {
        if at > column && at + 1 + word.len() > HELP_WIDTH {
            out.push('\n');
            at = 0;
        }
        let pad = column.saturating_sub(at).max(1);
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(word);
        at += pad + word.len();
    }
    out.push('\n');
}

/// Parse a whole command line (without argv\[0\]) and the process environment.
/// A subcommand is recognised only as the first word; a probe reads no variables.
pub fn parse(args: Vec<OsString>, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Mode> {
    parse_logged(args, vars).1
}

/// [`parse`], and the log options as far as they were read, also when the
/// parse failed: a usage error is then logged at the level and in the format
/// the same command line (or `PIDONE_LOG_*`) asked for.
pub fn parse_logged(mut args: Vec<OsString>, vars: &dyn Fn(&str) -> Option<OsString>) -> (LogOpts, Result<Mode>) {
    let sub = match args.first().and_then(|a| a.to_str()) {
        Some("--version" | "-V") if args.len() == 1 => return (LogOpts::default(), Ok(Mode::Version)),
        Some("probe") => Sub::Probe,
        Some("wait") => Sub::Wait,
        Some("env") => Sub::Env,
        _ => Sub::Run,
    };
    let mut settings = Settings::new(sub);
    let from_vars = if sub == Sub::Probe { Ok(()) } else { settings.apply_vars(vars) };
    let parsed = settings.parse_args(&args, usize::from(sub != Sub::Run));
    let log = *settings.log();
    let mode = from_vars.and(parsed).and_then(|parsed| match parsed {
        Parsed::Help => Ok(Mode::Help(help(sub))),
        Parsed::License => Ok(Mode::License),
        Parsed::Words(at) => settings.into_mode(args.split_off(at)),
    });
    (log, mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Signal;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn no_vars(_: &str) -> Option<OsString> {
        None
    }

    fn run(v: &[&str], vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Run> {
        match parse(args(v), vars)? {
            Mode::Run(r) => Ok(*r),
            other => panic!("not run mode: {other:?}"),
        }
    }

    #[test]
    fn durations() {
        for (s, ms) in
            [("500ms", 500), ("3s", 3000), ("1m", 60_000), ("1m30s", 90_000), ("0", 0), ("8", 8000), ("1h", 3_600_000)]
        {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        for s in ["", "abc", "1x", "s", "-1s", "1 s", "ms", "99999999999999999999"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }

    #[test]
    fn values_are_trimmed_of_ascii_whitespace_only() {
        assert_eq!(parse_duration(" \t3s\r\n").ok(), Some(Duration::from_secs(3)));
        assert!(parse_duration("\u{a0}3s").is_err(), "a no-break space is part of the value");
        assert!(parse_bool(" yes ").is_ok_and(|b| b));
        assert!(parse_bool("yes\u{2003}").is_err());
        assert_eq!(parse_exit_code("\t7 ").ok(), Some(7));
        assert!(parse_exit_code("7\u{3000}").is_err());
    }

    #[test]
    fn durations_take_fractions_in_descending_units_up_to_a_year() {
        for (s, ms) in [
            ("1.5s", 1500),
            ("1.5", 1500),
            ("0.25m", 15_000),
            ("2h", 7_200_000),
            ("1h1m1s1ms", 3_661_001),
            ("1.0s", 1000),
            ("0.001s", 1),
            ("1.5m30s", 120_000),
            ("8760h", 31_536_000_000),
            ("0.0001m", 6),
        ] {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        let why = |s: &str| parse_duration(s).unwrap_err().to_string();
        for s in ["30s1m", "1s1s", "1ms1s", "1m1h", "500ms1ms"] {
            assert!(why(s).contains("units descend"), "{s}: {}", why(s));
        }
        for s in ["1.0005s", "0.0001s", "1.00000000000000000000001s"] {
            assert!(why(s).contains("1ms"), "{s}: {}", why(s));
        }
        for s in ["18446744073709551615", "9999999999999999999", "99999999999s", "8761h", "8760.001h", "525601m"] {
            assert!(why(s).contains("at most 1 year"), "{s}: {}", why(s));
        }
        for s in [".5s", "1.s", "1..5s", "1.5.5s", "1.5ms.", "s1", "1s ", "1e3s", "+1s"] {
            assert!(parse_duration(s).is_ok() == (s == "1s "), "{s}");
        }
        let e = run(&["--grace", "18446744073709551615", "true"], &no_vars).unwrap_err();
        assert_eq!(e.code(), 125);
        let vars = |n: &str| (n == "PIDONE_GRACE").then(|| OsString::from("9999999999999999999"));
        assert!(run(&["true"], &vars).unwrap_err().to_string().starts_with("PIDONE_GRACE: "));
    }

    #[test]
    fn enumerated_values_ignore_case_in_options_and_variables() {
        let r = run(&["--forward", "Group", "--log-format", "JSON", "--log-level", "Info", "true"], &no_vars).unwrap();
        assert_eq!((r.supervise.forward, r.log.format, r.log.level), (Forward::Group, Format::Json, Level::Info));
        let vars = |n: &str| match n {
            "PIDONE_FORWARD" => Some(OsString::from("CHILD")),
            "PIDONE_LOG_FORMAT" => Some(OsString::from("Json")),
            "PIDONE_LOG_LEVEL" => Some(OsString::from("DEBUG")),
            "PIDONE_ALLOW_ROOT" => Some(OsString::from("TRUE")),
            _ => None,
        };
        let r = run(&["true"], &vars).unwrap();
        assert_eq!((r.supervise.forward, r.log.format, r.log.level), (Forward::Child, Format::Json, Level::Debug));
        assert!(r.user.allow_root);
        match parse(args(&["env", "--format", "Shell"]), &no_vars) {
            Ok(Mode::Env(e)) => assert_eq!(e.format, EnvFormat::Shell),
            other => panic!("{other:?}"),
        }
        match parse(args(&["probe", "--method", "head", "/"]), &no_vars) {
            Ok(Mode::Probe(p)) => assert_eq!(p.method, Method::Head),
            other => panic!("{other:?}"),
        }
        let e = run(&["--forward", "all", "true"], &no_vars).unwrap_err().to_string();
        assert_eq!(e, "--forward: invalid value 'all' (auto, group, child)");
    }

    #[test]
    fn booleans_are_strict() {
        for s in ["1", "true", "YES", "on"] {
            assert_eq!(parse_bool(s), Ok(true));
        }
        for s in ["0", "false", "No", "off"] {
            assert_eq!(parse_bool(s), Ok(false));
        }
        for s in ["", "2", "y", "enable"] {
            assert!(parse_bool(s).is_err(), "{s}");
        }
    }

    #[test]
    fn ports_are_digits_only() {
        let port = |p: &str| match parse(args(&["probe", "--port", p]), &no_vars) {
            Ok(Mode::Probe(probe)) => Ok(probe.port),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.code()),
        };
        assert_eq!(port("80"), Ok(Some(80)));
        assert_eq!(port("65535"), Ok(Some(65535)));
        for bad in ["+80", "-80", " 80", "80 ", "0", "65536", "", "0x50", "99999999999999999999"] {
            assert_eq!(port(bad), Err(125), "{bad:?}");
        }
    }

    #[test]
    fn every_option_is_in_its_modes_help() {
        let modes = [(Sub::Run, "--help"), (Sub::Env, "env"), (Sub::Probe, "probe"), (Sub::Wait, "wait")];
        for (sub, first) in modes {
            let words: &[&str] = if sub == Sub::Run { &["--help"] } else { &[first, "--help"] };
            let Ok(Mode::Help(text)) = parse(args(words), &no_vars) else { panic!("{first}: no help") };
            assert_eq!(text, help(sub));
            for row in OPTIONS.iter().filter(|row| row.modes.contains(&sub)) {
                assert!(text.contains(&format!("--{} ", row.long)), "{first}: --{} missing", row.long);
                if sub == Sub::Run || row.section != Section::Logging {
                    assert!(text.contains(row.help.split(' ').next().unwrap_or("")), "{first}: --{}", row.long);
                }
            }
            for line in text.lines() {
                let generated = line.starts_with("  -") || line.starts_with(&" ".repeat(HELP_COLUMN));
                assert!(!generated || line.chars().count() <= HELP_WIDTH, "{first}: too wide: {line}");
                assert!(!line.starts_with('@'), "{first}: unknown section {line}");
            }
        }
        let run = help(Sub::Run);
        assert!(run.contains("  --grace DURATION        time every process gets"), "{run}");
        assert!(run.contains("\n                          (or after COMMAND exits"), "{run}");
        assert!(help(Sub::Probe).contains("  -H, --header 'N: V'     add a request header (repeatable)\n"));
        assert!(help(Sub::Wait).contains("  --wait-timeout DURATION   give up after this long [default: 30s]\n"));
        assert!(help(Sub::Wait).contains("  --wait-interval DURATION  retry this often [default: 1s]\n"));
    }

    #[test]
    fn every_mode_takes_its_options_and_no_others() {
        // Each row's name is unique within a mode, and a row's variable is
        // refused by the modes that do not take it.
        for sub in [Sub::Run, Sub::Env, Sub::Probe, Sub::Wait] {
            let rows: Vec<_> = OPTIONS.iter().filter(|r| r.modes.contains(&sub)).collect();
            for (i, a) in rows.iter().enumerate() {
                assert!(rows.iter().skip(i + 1).all(|b| b.long != a.long && (a.short.is_none() || b.short != a.short)));
            }
        }
        let vars = |n: &str| (n == "PIDONE_GRACE").then(|| OsString::from("soon"));
        assert!(matches!(parse(args(&["wait", "tcp://a:1"]), &vars), Ok(Mode::Wait(_))), "wait ignores PIDONE_GRACE");
        assert!(parse(args(&["true"]), &vars).is_err());
        assert!(parse(args(&["wait", "--grace", "1s", "tcp://a:1"]), &no_vars).is_err());
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_name("wait-timeout"), "PIDONE_WAIT_TIMEOUT");
        assert_eq!(env_name("grace"), "PIDONE_GRACE");
    }

    #[test]
    fn options_stop_at_dashdash_and_first_word() {
        let r = run(&["--grace", "3s", "--", "sh", "-c", "exit 3"], &no_vars).unwrap();
        assert_eq!(r.supervise.grace, Some(Duration::from_secs(3)));
        assert_eq!(r.command, args(&["sh", "-c", "exit 3"]));
        let r = run(&["--grace=1s", "sh", "--grace", "2s"], &no_vars).unwrap();
        assert_eq!(r.supervise.grace, Some(Duration::from_secs(1)));
        assert_eq!(r.command, args(&["sh", "--grace", "2s"]));
        let r = run(&["--", "--", "true"], &no_vars).unwrap();
        assert_eq!(r.command, args(&["--", "true"]));
        let r = run(&["--", "probe"], &no_vars).unwrap();
        assert_eq!(r.command, args(&["probe"]), "a subcommand is only recognised first");
    }

    #[test]
    fn command_line_wins_over_variables_and_replaces_lists() {
        let vars = |n: &str| match n {
            "PIDONE_GRACE" => Some(OsString::from("3s")),
            "PIDONE_SUCCESS_CODE" => Some(OsString::from("143, 137")),
            "PIDONE_FORWARD" => Some(OsString::from("child")),
            _ => None,
        };
        let r = run(&["true"], &vars).unwrap();
        assert_eq!(r.supervise.grace, Some(Duration::from_secs(3)));
        assert_eq!(r.supervise.success_codes, vec![143, 137]);
        assert_eq!(r.supervise.forward, Forward::Child);
        let r = run(&["--grace", "1s", "--success-code", "3", "--success-code=4", "true"], &vars).unwrap();
        assert_eq!(r.supervise.forward, Forward::Child, "a variable not overridden stays");
        assert_eq!(r.supervise.grace, Some(Duration::from_secs(1)));
        assert_eq!(r.supervise.success_codes, vec![3, 4]);
    }

    #[test]
    fn shutdown_defaults_and_stop_delay() {
        let r = run(&["true"], &no_vars).unwrap().supervise;
        assert_eq!((r.grace, r.stop_delay, r.forward), (None, Duration::ZERO, Forward::Auto));
        let vars = |n: &str| (n == "PIDONE_STOP_DELAY").then(|| OsString::from("5s"));
        let r = run(&["--forward", "group", "true"], &vars).unwrap().supervise;
        assert_eq!((r.stop_delay, r.forward), (Duration::from_secs(5), Forward::Group));
        let r = run(&["--stop-delay=250ms", "--forward=auto", "true"], &vars).unwrap().supervise;
        assert_eq!((r.stop_delay, r.forward), (Duration::from_millis(250), Forward::Auto));
        assert!(
            run(&["--stop-delay", "soon", "true"], &no_vars).unwrap_err().to_string().starts_with("--stop-delay: ")
        );
    }

    #[test]
    fn bad_values_name_the_option_or_variable() {
        let e = run(&["--grace", "soon", "true"], &no_vars).unwrap_err();
        assert_eq!(e.code(), 125);
        assert!(e.to_string().starts_with("--grace: "), "{e}");
        let vars = |n: &str| (n == "PIDONE_ALLOW_ROOT").then(|| OsString::from("maybe"));
        let e = run(&["true"], &vars).unwrap_err();
        assert!(e.to_string().starts_with("PIDONE_ALLOW_ROOT: "), "{e}");
        for bad in [
            &["--nope", "true"][..],
            &["--map", "TERM", "true"],
            &["--success-code", "256", "true"],
            &["--forward", "all", "true"],
            &[],
            &["--grace"],
        ] {
            let e = run(bad, &no_vars).unwrap_err();
            assert_eq!(e.code(), 125, "{bad:?}");
        }
    }

    #[test]
    fn values_checked_later_remember_their_origin() {
        let vars = |n: &str| match n {
            "PIDONE_USER" => Some(OsString::from("app")),
            "PIDONE_WAIT" => Some(OsString::from("tcp://db:5432")),
            _ => None,
        };
        let r = run(&["true"], &vars).unwrap();
        let user = r.user.user.unwrap();
        assert_eq!((user.value.as_str(), user.from.to_string()), ("app", "PIDONE_USER".to_string()));
        assert_eq!(r.wait.from.to_string(), "PIDONE_WAIT");
        let r = run(&["--user", "web", "--wait", "tcp://a:1", "true"], &vars).unwrap();
        assert_eq!(r.user.user.unwrap().from.to_string(), "--user");
        assert_eq!((r.wait.from.to_string(), r.wait.targets), ("--wait".to_string(), vec!["tcp://a:1".to_string()]));
        assert_eq!(Origin::Variable("wait-timeout").to_string(), "PIDONE_WAIT_TIMEOUT");
    }

    #[test]
    fn unknown_variables_get_a_warning_with_the_closest_name() {
        let warn = |names: &[&str]| -> Vec<String> {
            names.iter().filter_map(|name| unknown_variable(std::ffi::OsStr::new(name))).collect()
        };
        assert_eq!(
            warn(&["PIDONE_GRACE", "PIDONE_PROBE_PORT", "PIDONE_USER", "PIDONE_TIMEOUT", "PATH", "PIDONEX"]),
            vec!["PIDONE_TIMEOUT is not a pidone variable and is ignored"]
        );
        let w = warn(&["PIDONE_GRACE_PERIOD", "PIDONE_GARCE", "PIDONE_Grace", "PIDONE_LOGLEVEL", "PIDONE_WAIT_TIME"]);
        let meant: Vec<_> = w.iter().map(|w| w.split("did you mean ").nth(1).unwrap_or("-")).collect();
        assert_eq!(
            meant,
            ["PIDONE_GRACE?)", "PIDONE_GRACE?)", "PIDONE_GRACE?)", "PIDONE_LOG_LEVEL?)", "PIDONE_WAIT_TIMEOUT?)"]
        );
        assert_eq!(
            warn(&["PIDONE_NOTHING_LIKE_IT"]),
            ["PIDONE_NOTHING_LIKE_IT is not a pidone variable and is ignored"]
        );
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"", b"ab"), 2);
        assert_eq!(edit_distance(b"ab", b""), 2);
        assert_eq!(edit_distance(b"PIDONE_GARCE", b"PIDONE_GRACE"), 2);
        assert_eq!(edit_distance(b"flaw", b"lawn"), 2);
    }

    #[test]
    fn peer_flags_map_onto_pidone_options() {
        let vars = |n: &str| (n == "PIDONE_FORWARD").then(|| OsString::from("child"));
        let r = run(&["-g", "true"], &vars).unwrap();
        assert_eq!(r.supervise.forward, Forward::Group);
        for c in [&["-c", "true"][..], &["--single-child", "true"], &["-g", "-c", "true"]] {
            assert_eq!(run(c, &no_vars).unwrap().supervise.forward, Forward::Child, "{c:?}");
        }
        let r =
            run(&["-sgwvvv", "-e", "143", "-e137", "-p", "TERM", "-r", "15:3", "--rewrite=HUP:0", "true"], &no_vars)
                .unwrap();
        assert_eq!(r.supervise.forward, Forward::Group);
        assert!(r.supervise.warn_reaped);
        assert_eq!(r.log.level, Level::Debug);
        assert_eq!(r.supervise.success_codes, vec![143, 137]);
        assert_eq!(r.parent_death_signal, Some(Signal::TERM));
        let map = &r.supervise.map;
        assert_eq!(map.get(Signal::TERM), Some(Signal::QUIT));
        assert_eq!(map.get(Signal::HUP), None);
        assert_eq!(map.get(Signal::INT), Some(Signal::INT));
        assert_eq!(run(&["-pHUP", "-r=10:12", "true"], &no_vars).unwrap().parent_death_signal, Some(Signal::HUP));
        assert!(matches!(parse(args(&["-l"]), &no_vars), Ok(Mode::License)));
        assert!(matches!(parse(args(&["-vl"]), &no_vars), Ok(Mode::License)));
        for bad in [
            &["-g=1", "true"][..],
            &["--single-child=yes", "true"],
            &["-v=", "true"],
            &["-w=no", "true"],
            &["-p", "0", "true"],
            &["-r", "SEGV:TERM", "true"],
            &["-e", "256", "true"],
            &["-x", "true"],
        ] {
            assert_eq!(run(bad, &no_vars).unwrap_err().code(), 125, "{bad:?}");
        }
        // Run mode only: the other modes do not take them.
        for bad in
            [&["probe", "-g", "/"][..], &["wait", "-s", "file:///tmp"], &["env", "-l"], &["env", "--rewrite", "1:2"]]
        {
            assert!(parse(args(bad), &no_vars).is_err(), "{bad:?}");
        }
        // No peer spelling hides an option of the run mode.
        for peer in &PEERS {
            let found = Settings::new(Sub::Run).find(peer.long.map(str::as_bytes), peer.short).map(|f| f.1.long);
            assert_eq!(found, Some(peer.row));
            assert!(OPTIONS.iter().all(|row| row.short.is_none() || row.short != peer.short));
            assert!(OPTIONS.iter().all(|row| Some(row.long) != peer.long));
        }
        assert!(OPTIONS.iter().all(|row| !matches!(row.short, Some(b'h' | b'v' | b'q' | b's' | b'l'))));
    }

    #[test]
    fn verbosity_and_flags() {
        let r = run(&["-vv", "--allow-root", "true"], &no_vars).unwrap();
        assert_eq!(r.log.level, Level::Debug);
        assert!(r.user.allow_root);
        let r = run(&["-q", "--allow-root=no", "true"], &no_vars).unwrap();
        assert_eq!(r.log.level, Level::Error);
        assert!(!r.user.allow_root);
        let r = run(&["-v", "true"], &no_vars).unwrap();
        assert_eq!(r.log.level, Level::Info);
    }

    #[test]
    fn subcommands_and_help() {
        assert!(matches!(parse(args(&["--version"]), &no_vars), Ok(Mode::Version)));
        assert!(matches!(parse(args(&["--help"]), &no_vars), Ok(Mode::Help(_))));
        assert!(matches!(parse(args(&["probe", "--help"]), &no_vars), Ok(Mode::Help(_))));
        match parse(args(&["probe", "--port", "9000", "-H", "X-A: 1", "/health"]), &no_vars) {
            Ok(Mode::Probe(p)) => {
                assert_eq!(p.port, Some(9000));
                assert_eq!(p.headers, vec!["X-A: 1".to_string()]);
                assert_eq!(p.target.as_deref(), Some("/health"));
            }
            other => panic!("{other:?}"),
        }
        match parse(args(&["env", "--env-file", "?a.env", "--", "printenv"]), &no_vars) {
            Ok(Mode::Env(e)) => {
                assert_eq!(e.env.files, vec![Source { path: "a.env".into(), optional: true }]);
                assert_eq!(e.command, args(&["printenv"]));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(args(&["wait"]), &no_vars).is_err());
    }
}
