//! The command-line grammar of every mode, merged with `PIDONE_*` variables.
//!
//! One table ([`SPECS`]) lists every option once, with the modes that take
//! it; the same table drives the environment variables (`--wait-timeout` ↔
//! `PIDONE_WAIT_TIMEOUT`), the parser and the error messages. Every value
//! lands in the options of the mode being parsed ([`Settings`]).
//! Variables are applied first and the command line second, so the command
//! line wins; a repeatable option given on the command line replaces the list
//! from its variable.

use crate::error::{Error, Result};
use crate::log::{Format, Level};
use crate::signals::SignalMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// What one invocation asks for.
#[derive(Debug)]
pub enum Mode {
    Run(Run),
    Env(EnvCmd),
    Probe(Probe),
    Wait(Wait),
    /// Print this help text on stdout and exit 0.
    Help(&'static str),
    Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// Stop signals (after `--map`) to the process group, others to the child.
    Auto,
    Group,
    Child,
}

/// A path option that may start with `?` to mark it optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub optional: bool,
}

impl Source {
    pub fn parse(s: &str) -> Result<Source> {
        let (optional, path) = match s.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if path.is_empty() {
            return Err(Error::config("empty path"));
        }
        Ok(Source { path: PathBuf::from(path), optional })
    }
}

/// Logging options, shared by every mode.
#[derive(Debug, Clone, Copy)]
pub struct LogOpts {
    pub level: Level,
    pub format: Format,
}

impl Default for LogOpts {
    fn default() -> Self {
        LogOpts { level: Level::Warn, format: Format::Text }
    }
}

/// Contract section 3: where the child's environment comes from.
#[derive(Debug, Clone, Default)]
pub struct EnvOpts {
    pub files: Vec<Source>,
    pub override_existing: bool,
    pub secrets_dirs: Vec<Source>,
    pub file_env: Vec<String>,
}

/// Contract section 4: who the command runs as.
#[derive(Debug, Clone, Default)]
pub struct UserOpts {
    pub user: Option<String>,
    pub allow_root: bool,
    pub allow_new_privs: bool,
}

/// Contract section 6: dependencies to wait for.
#[derive(Debug, Clone)]
pub struct WaitOpts {
    pub targets: Vec<String>,
    pub timeout: Duration,
    pub interval: Duration,
}

impl Default for WaitOpts {
    fn default() -> Self {
        WaitOpts { targets: Vec::new(), timeout: Duration::from_secs(30), interval: Duration::from_secs(1) }
    }
}

/// `pidone [OPTIONS] [--] COMMAND [ARG...]`
#[derive(Debug, Clone)]
pub struct Run {
    pub log: LogOpts,
    /// `--grace`; `None`: no deadline after a stop signal (contract section 2).
    pub grace: Option<Duration>,
    pub stop_delay: Duration,
    pub forward: Forward,
    pub map: SignalMap,
    pub success_codes: Vec<u8>,
    pub env: EnvOpts,
    pub user: UserOpts,
    pub wait: WaitOpts,
    pub command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFormat {
    Dotenv,
    Shell,
    Json,
}

/// `pidone env [OPTIONS] [--] [COMMAND [ARG...]]`
#[derive(Debug, Clone)]
pub struct EnvCmd {
    pub log: LogOpts,
    pub env: EnvOpts,
    pub user: UserOpts,
    pub format: EnvFormat,
    pub check: bool,
    pub command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
}

/// `pidone probe [OPTIONS] [TARGET]`
#[derive(Debug, Clone)]
pub struct Probe {
    pub log: LogOpts,
    pub target: Option<String>,
    pub port: Option<u16>,
    pub unix: Option<PathBuf>,
    /// The raw `--expect` list (`200-399`, `200,204,300-399`), checked by the probe.
    pub expect: String,
    pub body_contains: Option<String>,
    pub headers: Vec<String>,
    pub method: Method,
    pub timeout: Duration,
}

/// `pidone wait [OPTIONS] TARGET...`
#[derive(Debug, Clone)]
pub struct Wait {
    pub log: LogOpts,
    pub wait: WaitOpts,
}

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A boolean: `--x`, `--x=BOOL`, `PIDONE_X=BOOL`.
    Flag,
    /// One value; the last one given wins.
    Value,
    /// Repeatable; the variable holds a comma-separated list.
    List,
}

/// Every option, by name; [`Settings::set`] says where its value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Grace,
    StopDelay,
    Forward,
    Map,
    SuccessCode,
    Wait,
    WaitTimeout,
    WaitInterval,
    EnvFile,
    EnvOverride,
    SecretsDir,
    FileEnv,
    User,
    AllowRoot,
    AllowNewPrivs,
    LogLevel,
    LogFormat,
    Format,
    Check,
    Port,
    Unix,
    Expect,
    BodyContains,
    Header,
    Method,
    Timeout,
}

/// Mode bits of [`Spec::modes`]: which modes take an option, and [`VAR`]
/// when `PIDONE_<LONG>` sets it too.
const RUN: u8 = 1;
const ENV: u8 = 2;
const PROBE: u8 = 4;
const WAIT: u8 = 8;
const VAR: u8 = 16;

/// One option.
struct Spec {
    long: &'static str,
    /// The one-letter form, if any (`-H`).
    short: Option<u8>,
    kind: Kind,
    modes: u8,
    opt: Opt,
}

const fn spec(long: &'static str, kind: Kind, modes: u8, opt: Opt) -> Spec {
    Spec { long, short: None, kind, modes, opt }
}

/// Every option of every mode. Variables are applied in this order.
const SPECS: [Spec; 26] = [
    spec("grace", Kind::Value, RUN | VAR, Opt::Grace),
    spec("stop-delay", Kind::Value, RUN | VAR, Opt::StopDelay),
    spec("forward", Kind::Value, RUN | VAR, Opt::Forward),
    spec("map", Kind::List, RUN | VAR, Opt::Map),
    spec("success-code", Kind::List, RUN | VAR, Opt::SuccessCode),
    spec("wait", Kind::List, RUN | VAR, Opt::Wait),
    spec("wait-timeout", Kind::Value, RUN | WAIT | VAR, Opt::WaitTimeout),
    spec("wait-interval", Kind::Value, RUN | WAIT | VAR, Opt::WaitInterval),
    spec("env-file", Kind::List, RUN | ENV | VAR, Opt::EnvFile),
    spec("env-override", Kind::Flag, RUN | ENV | VAR, Opt::EnvOverride),
    spec("secrets-dir", Kind::List, RUN | ENV | VAR, Opt::SecretsDir),
    spec("file-env", Kind::List, RUN | ENV | VAR, Opt::FileEnv),
    spec("user", Kind::Value, RUN | ENV | VAR, Opt::User),
    spec("allow-root", Kind::Flag, RUN | ENV | VAR, Opt::AllowRoot),
    spec("allow-new-privs", Kind::Flag, RUN | ENV | VAR, Opt::AllowNewPrivs),
    spec("log-level", Kind::Value, RUN | ENV | PROBE | WAIT | VAR, Opt::LogLevel),
    spec("log-format", Kind::Value, RUN | ENV | PROBE | WAIT | VAR, Opt::LogFormat),
    spec("format", Kind::Value, ENV, Opt::Format),
    spec("check", Kind::Flag, ENV, Opt::Check),
    spec("port", Kind::Value, PROBE, Opt::Port),
    spec("unix", Kind::Value, PROBE, Opt::Unix),
    spec("expect", Kind::Value, PROBE, Opt::Expect),
    spec("body-contains", Kind::Value, PROBE, Opt::BodyContains),
    Spec { long: "header", short: Some(b'H'), kind: Kind::List, modes: PROBE, opt: Opt::Header },
    spec("method", Kind::Value, PROBE, Opt::Method),
    spec("timeout", Kind::Value, PROBE, Opt::Timeout),
];

/// The environment variable that sets `--long`.
pub fn env_name(long: &str) -> String {
    let mut s = String::from("PIDONE_");
    s.extend(long.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }));
    s
}

/// The error for a value that is not one of the accepted ones.
fn invalid(what: &str, value: &str, accepted: &str) -> Error {
    Error::config(format!("invalid {what} '{value}' ({accepted})"))
}

/// Parse a duration: `500ms`, `3s`, `1m`, `1m30s`, `2h`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    duration(s.trim()).ok_or_else(|| invalid("duration", s, "examples: 500ms, 3s, 1m30s"))
}

fn duration(t: &str) -> Option<Duration> {
    if let Some(secs) = number(t) {
        return Some(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let (num, tail) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
        let (unit, tail) = tail.split_at(tail.bytes().take_while(u8::is_ascii_alphabetic).count());
        let n = number(num)?;
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = tail;
    }
    (!t.is_empty()).then_some(total)
}

/// A number of decimal digits only (no sign, no blanks); `None` when empty or too large.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// Parse a boolean variable or `--flag=VALUE`: 1/true/yes/on, 0/false/no/off.
pub fn parse_bool(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid("boolean", s, "use 1/true/yes/on or 0/false/no/off")),
    }
}

fn parse_exit_code(s: &str) -> Result<u8> {
    number(s.trim()).and_then(|n| u8::try_from(n).ok()).ok_or_else(|| invalid("exit code", s, "0-255"))
}

/// The options of every mode at their defaults. The mode being parsed gets
/// the options it shares with others ([`Settings::log`] and the like) and
/// is the one [`Settings::into_mode`] hands out.
struct Settings {
    mode: u8,
    run: Run,
    env: EnvCmd,
    probe: Probe,
    wait: Wait,
}

impl Settings {
    fn new(mode: u8) -> Settings {
        let log = LogOpts::default();
        Settings {
            mode,
            run: Run {
                log,
                grace: None,
                stop_delay: Duration::ZERO,
                forward: Forward::Auto,
                map: SignalMap::default(),
                success_codes: Vec::new(),
                env: EnvOpts::default(),
                user: UserOpts::default(),
                wait: WaitOpts::default(),
                command: Vec::new(),
            },
            env: EnvCmd {
                log,
                env: EnvOpts::default(),
                user: UserOpts::default(),
                format: EnvFormat::Dotenv,
                check: false,
                command: Vec::new(),
            },
            probe: Probe {
                log,
                target: None,
                port: None,
                unix: None,
                expect: "200-399".into(),
                body_contains: None,
                headers: Vec::new(),
                method: Method::Get,
                timeout: Duration::from_secs(2),
            },
            wait: Wait { log, wait: WaitOpts::default() },
        }
    }

    fn log(&mut self) -> &mut LogOpts {
        match self.mode {
            ENV => &mut self.env.log,
            PROBE => &mut self.probe.log,
            WAIT => &mut self.wait.log,
            _ => &mut self.run.log,
        }
    }

    fn env(&mut self) -> &mut EnvOpts {
        if self.mode == ENV { &mut self.env.env } else { &mut self.run.env }
    }

    fn user(&mut self) -> &mut UserOpts {
        if self.mode == ENV { &mut self.env.user } else { &mut self.run.user }
    }

    fn wait(&mut self) -> &mut WaitOpts {
        if self.mode == WAIT { &mut self.wait.wait } else { &mut self.run.wait }
    }

    /// Set one option from its text (`1` for a bare flag).
    fn set(&mut self, opt: Opt, v: &str) -> Result<()> {
        match opt {
            Opt::Grace => self.run.grace = Some(parse_duration(v)?),
            Opt::StopDelay => self.run.stop_delay = parse_duration(v)?,
            Opt::Forward => {
                self.run.forward = match v {
                    "auto" => Forward::Auto,
                    "group" => Forward::Group,
                    "child" => Forward::Child,
                    _ => return Err(invalid("value", v, "auto, group, child")),
                }
            }
            Opt::Map => self.run.map.add(v)?,
            Opt::SuccessCode => self.run.success_codes.push(parse_exit_code(v)?),
            Opt::Wait => self.run.wait.targets.push(v.to_string()),
            Opt::WaitTimeout => self.wait().timeout = parse_duration(v)?,
            Opt::WaitInterval => {
                let interval = parse_duration(v)?;
                if interval.is_zero() {
                    return Err(Error::config("the interval must be above zero"));
                }
                self.wait().interval = interval;
            }
            Opt::EnvFile => self.env().files.push(Source::parse(v)?),
            Opt::EnvOverride => self.env().override_existing = parse_bool(v)?,
            Opt::SecretsDir => self.env().secrets_dirs.push(Source::parse(v)?),
            Opt::FileEnv if !crate::env::valid_name(v) => {
                return Err(invalid("variable name", v, "a name is [A-Za-z_][A-Za-z0-9_]*"));
            }
            Opt::FileEnv => self.env().file_env.push(v.to_string()),
            Opt::User => self.user().user = Some(v.to_string()),
            Opt::AllowRoot => self.user().allow_root = parse_bool(v)?,
            Opt::AllowNewPrivs => self.user().allow_new_privs = parse_bool(v)?,
            Opt::LogLevel => {
                self.log().level = Level::parse(v).ok_or_else(|| invalid("log level", v, "error, warn, info, debug"))?
            }
            Opt::LogFormat => {
                self.log().format = match v {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    _ => return Err(invalid("log format", v, "text, json")),
                }
            }
            Opt::Format => {
                self.env.format = match v {
                    "dotenv" => EnvFormat::Dotenv,
                    "shell" => EnvFormat::Shell,
                    "json" => EnvFormat::Json,
                    _ => return Err(invalid("format", v, "dotenv, shell, json")),
                }
            }
            Opt::Check => self.env.check = parse_bool(v)?,
            Opt::Port => {
                self.probe.port = Some(v.parse().ok().filter(|&p| p != 0).ok_or_else(|| invalid("port", v, "1-65535"))?)
            }
            Opt::Unix => self.probe.unix = Some(PathBuf::from(v)),
            Opt::Expect => self.probe.expect = v.to_string(),
            Opt::BodyContains => self.probe.body_contains = Some(v.to_string()),
            Opt::Header => self.probe.headers.push(v.to_string()),
            Opt::Method => {
                self.probe.method = match v.to_ascii_uppercase().as_str() {
                    "GET" => Method::Get,
                    "HEAD" => Method::Head,
                    _ => return Err(invalid("method", v, "GET, HEAD")),
                }
            }
            Opt::Timeout => self.probe.timeout = parse_duration(v)?,
        }
        Ok(())
    }

    /// Forget a list option's values (the command line replaces the variable's).
    fn clear(&mut self, opt: Opt) {
        match opt {
            Opt::Map => self.run.map = SignalMap::default(),
            Opt::SuccessCode => self.run.success_codes.clear(),
            Opt::Wait => self.run.wait.targets.clear(),
            Opt::EnvFile => self.env().files.clear(),
            Opt::SecretsDir => self.env().secrets_dirs.clear(),
            Opt::FileEnv => self.env().file_env.clear(),
            Opt::Header => self.probe.headers.clear(),
            _ => {}
        }
    }

    /// Apply the `PIDONE_*` variables from `vars` of every option of the mode that has one.
    fn apply_vars(&mut self, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<()> {
        let mode = self.mode;
        for spec in SPECS.iter().filter(|s| s.modes & mode != 0 && s.modes & VAR != 0) {
            let name = env_name(spec.long);
            let Some(raw) = vars(&name) else { continue };
            let res = match raw.to_str() {
                None => Err(Error::config("value is not valid UTF-8")),
                Some(list) if spec.kind == Kind::List => list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .try_for_each(|item| self.set(spec.opt, item)),
                Some(val) => self.set(spec.opt, val),
            };
            res.map_err(|e| e.context(&name))?;
        }
        Ok(())
    }

    /// Parse the mode's options in `args` from `at` on. Returns where the
    /// positional words start (at the first non-option word, or after `--`),
    /// or `None` for `-h` / `--help`.
    fn parse_args(&mut self, args: &[OsString], mut at: usize) -> Result<Option<usize>> {
        let (mut verbosity, mut quiet) = (0, false);
        // The list options given so far, as bits by `Opt`.
        let mut given: u32 = 0;
        let words = loop {
            let Some(arg) = args.get(at) else { break at };
            at += 1;
            let word = arg.as_bytes();
            let (spec, shown, attached) = if word == b"--" {
                break at;
            } else if let Some(long) = word.strip_prefix(b"--") {
                // `--name` or `--name=value`.
                let (name, attached) = match long.iter().position(|&c| c == b'=') {
                    Some(eq) => (long.get(..eq).unwrap_or_default(), long.get(eq + 1..)),
                    None => (long, None),
                };
                if name == b"help" {
                    return Ok(None);
                }
                let spec = SPECS.iter().find(|s| s.modes & self.mode != 0 && s.long.as_bytes() == name);
                (spec, format!("--{}", String::from_utf8_lossy(name)), attached)
            } else if let Some(shorts @ [_, ..]) = word.strip_prefix(b"-") {
                // `-vq`, then at most one option with its value: `-H V`, `-HV`, `-H=V`.
                let (mut rest, mut prev) = (shorts, None);
                let found = loop {
                    let [c, tail @ ..] = rest else { break None };
                    match (c, prev) {
                        (b'h', _) => return Ok(None),
                        (b'v', _) => verbosity += 1,
                        (b'q', _) => quiet = true,
                        (b'=', Some(flag)) => {
                            return Err(Error::config(format!("-{}: takes no value", char::from(flag))));
                        }
                        _ => {
                            let spec = SPECS.iter().find(|s| s.modes & self.mode != 0 && s.short == Some(*c));
                            let shown = String::from_utf8_lossy(rest).chars().next().unwrap_or_default();
                            let attached = (!tail.is_empty()).then(|| tail.strip_prefix(b"=").unwrap_or(tail));
                            break Some((spec, format!("-{shown}"), attached));
                        }
                    }
                    (rest, prev) = (tail, Some(*c));
                };
                let Some(found) = found else { continue };
                found
            } else {
                break at - 1;
            };
            let spec = spec.ok_or_else(|| Error::config(format!("unknown option '{shown}' (see pidone --help)")))?;
            let value = match (attached, spec.kind) {
                (Some(v), _) => Some(v),
                (None, Kind::Flag) => Some(&b"1"[..]),
                (None, _) => args.get(at).map(|v| {
                    at += 1;
                    v.as_bytes()
                }),
            };
            let bit = 1 << spec.opt as u32;
            if spec.kind == Kind::List && given & bit == 0 {
                given |= bit;
                self.clear(spec.opt);
            }
            value
                .ok_or_else(|| Error::config("missing value"))
                .and_then(|v| std::str::from_utf8(v).map_err(|_| Error::config("value is not valid UTF-8")))
                .and_then(|v| self.set(spec.opt, v))
                .map_err(|e| e.context(&shown))?;
        };
        let log = self.log();
        if quiet {
            log.level = Level::Error;
        } else if verbosity >= 2 {
            log.level = Level::Debug;
        } else if verbosity == 1 && log.level < Level::Info {
            log.level = Level::Info;
        }
        Ok(Some(words))
    }

    /// The mode's own settings, with its positional `words`.
    fn into_mode(mut self, words: Vec<OsString>) -> Result<Mode> {
        let text = |w: &OsString| w.to_string_lossy().into_owned();
        Ok(match self.mode {
            PROBE if words.len() > 1 => return Err(Error::config("probe takes one TARGET")),
            PROBE => {
                self.probe.target = words.first().map(text);
                Mode::Probe(self.probe)
            }
            WAIT if words.is_empty() => {
                return Err(Error::config("no TARGET given (usage: pidone wait [OPTIONS] TARGET...)"));
            }
            WAIT => {
                self.wait.wait.targets = words.iter().map(text).collect();
                Mode::Wait(self.wait)
            }
            ENV => {
                self.env.command = words;
                Mode::Env(self.env)
            }
            _ if words.is_empty() => {
                return Err(Error::config(
                    "no command given (usage: pidone [OPTIONS] [--] COMMAND [ARG...]; see pidone --help)",
                ));
            }
            _ => {
                self.run.command = words;
                Mode::Run(self.run)
            }
        })
    }
}

pub const RUN_HELP: &str = include_str!("help/run.txt");
pub const ENV_HELP: &str = include_str!("help/env.txt");
pub const PROBE_HELP: &str = include_str!("help/probe.txt");
pub const WAIT_HELP: &str = include_str!("help/wait.txt");

/// Parse a whole command line (without argv\[0\]) and the process environment.
/// A subcommand is recognised only as the first word; a probe reads no variables.
pub fn parse(mut args: Vec<OsString>, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Mode> {
    let (mode, help) = match args.first().and_then(|a| a.to_str()) {
        Some("--version" | "-V") if args.len() == 1 => return Ok(Mode::Version),
        Some("probe") => (PROBE, PROBE_HELP),
        Some("wait") => (WAIT, WAIT_HELP),
        Some("env") => (ENV, ENV_HELP),
        _ => (RUN, RUN_HELP),
    };
    let mut settings = Settings::new(mode);
    if mode != PROBE {
        settings.apply_vars(vars)?;
    }
    let Some(words) = settings.parse_args(&args, usize::from(mode != RUN))? else {
        return Ok(Mode::Help(help));
    };
    let words = args.split_off(words);
    settings.into_mode(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn no_vars(_: &str) -> Option<OsString> {
        None
    }

    fn run(v: &[&str], vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Run> {
        match parse(args(v), vars)? {
            Mode::Run(r) => Ok(r),
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
        for s in ["", "abc", "1x", "s", "-1s", "1.5s", "1 s", "ms", "99999999999999999999"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
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
    fn env_var_names() {
        assert_eq!(env_name("wait-timeout"), "PIDONE_WAIT_TIMEOUT");
        assert_eq!(env_name("grace"), "PIDONE_GRACE");
    }

    #[test]
    fn options_stop_at_dashdash_and_first_word() {
        let r = run(&["--grace", "3s", "--", "sh", "-c", "exit 3"], &no_vars).unwrap();
        assert_eq!(r.grace, Some(Duration::from_secs(3)));
        assert_eq!(r.command, args(&["sh", "-c", "exit 3"]));
        let r = run(&["--grace=1s", "sh", "--grace", "2s"], &no_vars).unwrap();
        assert_eq!(r.grace, Some(Duration::from_secs(1)));
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
        assert_eq!(r.grace, Some(Duration::from_secs(3)));
        assert_eq!(r.success_codes, vec![143, 137]);
        assert_eq!(r.forward, Forward::Child);
        let r = run(&["--grace", "1s", "--success-code", "3", "--success-code=4", "true"], &vars).unwrap();
        assert_eq!(r.grace, Some(Duration::from_secs(1)));
        assert_eq!(r.success_codes, vec![3, 4]);
    }

    #[test]
    fn shutdown_defaults_and_stop_delay() {
        let r = run(&["true"], &no_vars).unwrap();
        assert_eq!((r.grace, r.stop_delay, r.forward), (None, Duration::ZERO, Forward::Auto));
        let vars = |n: &str| (n == "PIDONE_STOP_DELAY").then(|| OsString::from("5s"));
        let r = run(&["--forward", "group", "true"], &vars).unwrap();
        assert_eq!((r.stop_delay, r.forward), (Duration::from_secs(5), Forward::Group));
        let r = run(&["--stop-delay=250ms", "--forward=auto", "true"], &vars).unwrap();
        assert_eq!((r.stop_delay, r.forward), (Duration::from_millis(250), Forward::Auto));
        assert!(run(&["--stop-delay", "soon", "true"], &no_vars).unwrap_err().msg.starts_with("--stop-delay: "));
    }

    #[test]
    fn bad_values_name_the_option_or_variable() {
        let e = run(&["--grace", "soon", "true"], &no_vars).unwrap_err();
        assert_eq!(e.code, 125);
        assert!(e.msg.starts_with("--grace: "), "{}", e.msg);
        let vars = |n: &str| (n == "PIDONE_ALLOW_ROOT").then(|| OsString::from("maybe"));
        let e = run(&["true"], &vars).unwrap_err();
        assert!(e.msg.starts_with("PIDONE_ALLOW_ROOT: "), "{}", e.msg);
        for bad in [
            &["--nope", "true"][..],
            &["--map", "TERM", "true"],
            &["--success-code", "256", "true"],
            &["--forward", "all", "true"],
            &[],
            &["--grace"],
        ] {
            let e = run(bad, &no_vars).unwrap_err();
            assert_eq!(e.code, 125, "{bad:?}");
        }
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
