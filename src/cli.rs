//! The command-line grammar of every mode, merged with `PIDONE_*` variables.
//!
//! Each mode lists its options once ([`Spec`]); the same table drives the
//! environment variables (`--wait-timeout` ↔ `PIDONE_WAIT_TIMEOUT`), the parser
//! and the error messages. Variables are applied first and the command line
//! second, so the command line wins; a repeatable option given on the command
//! line replaces the list from its variable.

use crate::error::{Error, Result};
use crate::log::{Format, Level};
use crate::signals::SignalMap;
use std::ffi::OsString;
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
    pub grace: Duration,
    pub forward: Forward,
    pub map: SignalMap,
    pub success_codes: Vec<u8>,
    pub env: EnvOpts,
    pub user: UserOpts,
    pub wait: WaitOpts,
    pub command: Vec<OsString>,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            log: LogOpts::default(),
            grace: Duration::from_secs(8),
            forward: Forward::Group,
            map: SignalMap::default(),
            success_codes: Vec::new(),
            env: EnvOpts::default(),
            user: UserOpts::default(),
            wait: WaitOpts::default(),
            command: Vec::new(),
        }
    }
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

/// One option of one mode.
struct Spec {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
    /// Whether `PIDONE_<LONG>` sets it.
    env: bool,
}

const fn opt(long: &'static str, kind: Kind) -> Spec {
    Spec { long, short: None, kind, env: true }
}

const LOG_SPECS: [Spec; 2] = [opt("log-level", Kind::Value), opt("log-format", Kind::Value)];
const ENV_SPECS: [Spec; 4] = [
    opt("env-file", Kind::List),
    opt("env-override", Kind::Flag),
    opt("secrets-dir", Kind::List),
    opt("file-env", Kind::List),
];
const USER_SPECS: [Spec; 3] =
    [opt("user", Kind::Value), opt("allow-root", Kind::Flag), opt("allow-new-privs", Kind::Flag)];
const WAIT_SPECS: [Spec; 2] = [opt("wait-timeout", Kind::Value), opt("wait-interval", Kind::Value)];
const RUN_SPECS: [Spec; 5] = [
    opt("grace", Kind::Value),
    opt("forward", Kind::Value),
    opt("map", Kind::List),
    opt("success-code", Kind::List),
    opt("wait", Kind::List),
];
const ENVCMD_SPECS: [Spec; 2] = [
    Spec { long: "format", short: None, kind: Kind::Value, env: false },
    Spec { long: "check", short: None, kind: Kind::Flag, env: false },
];
const PROBE_SPECS: [Spec; 7] = [
    Spec { long: "port", short: None, kind: Kind::Value, env: false },
    Spec { long: "unix", short: None, kind: Kind::Value, env: false },
    Spec { long: "expect", short: None, kind: Kind::Value, env: false },
    Spec { long: "body-contains", short: None, kind: Kind::Value, env: false },
    Spec { long: "header", short: Some('H'), kind: Kind::List, env: false },
    Spec { long: "method", short: None, kind: Kind::Value, env: false },
    Spec { long: "timeout", short: None, kind: Kind::Value, env: false },
];

/// The environment variable that sets `--long`.
pub fn env_name(long: &str) -> String {
    let mut s = String::from("PIDONE_");
    s.extend(long.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }));
    s
}

/// Parse a duration: `500ms`, `3s`, `1m`, `1m30s`, `2h`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || Error::config(format!("invalid duration '{s}' (examples: 500ms, 3s, 1m30s)"));
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().map(Duration::from_secs).map_err(|_| bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let (num, tail) = rest.split_at(digits);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(bad)?),
            "h" => Duration::from_secs(n.checked_mul(3600).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        total = total.checked_add(part).ok_or_else(bad)?;
        rest = tail;
    }
    Ok(total)
}

/// Parse a boolean variable or `--flag=VALUE`: 1/true/yes/on, 0/false/no/off.
pub fn parse_bool(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("invalid boolean '{s}' (use 1/true/yes/on or 0/false/no/off)"))),
    }
}

fn parse_exit_code(s: &str) -> Result<u8> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::config(format!("invalid exit code '{s}' (0-255)")));
    }
    t.parse::<u8>().map_err(|_| Error::config(format!("invalid exit code '{s}' (0-255)")))
}

/// A mode's options: the table and how each value lands in the struct.
trait Options {
    fn specs(&self) -> Vec<&'static Spec>;
    /// Set one option. `value` is `None` only for a bare flag.
    fn set(&mut self, long: &str, value: Option<&str>) -> Result<()>;
    /// Forget a list option's values (the command line replaces the variable's).
    fn clear(&mut self, long: &str);
    /// Count `-v` / `-q`.
    fn log(&mut self) -> &mut LogOpts;
}

fn set_log(log: &mut LogOpts, long: &str, v: &str) -> Result<bool> {
    match long {
        "log-level" => {
            log.level = Level::parse(v)
                .ok_or_else(|| Error::config(format!("invalid log level '{v}' (error, warn, info, debug)")))?
        }
        "log-format" => {
            log.format = match v {
                "text" => Format::Text,
                "json" => Format::Json,
                _ => return Err(Error::config(format!("invalid log format '{v}' (text, json)"))),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn flag(v: Option<&str>) -> Result<bool> {
    v.map_or(Ok(true), parse_bool)
}

fn need(v: Option<&str>) -> Result<&str> {
    v.ok_or_else(|| Error::config("missing value"))
}

fn set_env(env: &mut EnvOpts, long: &str, v: Option<&str>) -> Result<bool> {
    match long {
        "env-file" => env.files.push(Source::parse(need(v)?)?),
        "env-override" => env.override_existing = flag(v)?,
        "secrets-dir" => env.secrets_dirs.push(Source::parse(need(v)?)?),
        "file-env" => {
            let name = need(v)?;
            if !crate::env::valid_name(name) {
                return Err(Error::config(format!("invalid variable name '{name}'")));
            }
            env.file_env.push(name.to_string());
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn clear_env(env: &mut EnvOpts, long: &str) {
    match long {
        "env-file" => env.files.clear(),
        "secrets-dir" => env.secrets_dirs.clear(),
        "file-env" => env.file_env.clear(),
        _ => {}
    }
}

fn set_user(user: &mut UserOpts, long: &str, v: Option<&str>) -> Result<bool> {
    match long {
        "user" => user.user = Some(need(v)?.to_string()),
        "allow-root" => user.allow_root = flag(v)?,
        "allow-new-privs" => user.allow_new_privs = flag(v)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn set_wait(wait: &mut WaitOpts, long: &str, v: Option<&str>) -> Result<bool> {
    match long {
        "wait" => wait.targets.push(need(v)?.to_string()),
        "wait-timeout" => wait.timeout = parse_duration(need(v)?)?,
        "wait-interval" => {
            let d = parse_duration(need(v)?)?;
            if d.is_zero() {
                return Err(Error::config("the interval must be above zero"));
            }
            wait.interval = d;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn all<const N: usize>(specs: &'static [Spec; N]) -> impl Iterator<Item = &'static Spec> {
    specs.iter()
}

impl Options for Run {
    fn specs(&self) -> Vec<&'static Spec> {
        all(&RUN_SPECS)
            .chain(all(&WAIT_SPECS))
            .chain(all(&ENV_SPECS))
            .chain(all(&USER_SPECS))
            .chain(all(&LOG_SPECS))
            .collect()
    }

    fn set(&mut self, long: &str, v: Option<&str>) -> Result<()> {
        match long {
            "grace" => self.grace = parse_duration(need(v)?)?,
            "forward" => {
                self.forward = match need(v)? {
                    "group" => Forward::Group,
                    "child" => Forward::Child,
                    other => return Err(Error::config(format!("invalid value '{other}' (group, child)"))),
                }
            }
            "map" => self.map.add(need(v)?)?,
            "success-code" => self.success_codes.push(parse_exit_code(need(v)?)?),
            _ => {
                let v2 = v;
                let done = set_wait(&mut self.wait, long, v2)?
                    || set_env(&mut self.env, long, v2)?
                    || set_user(&mut self.user, long, v2)?
                    || set_log(&mut self.log, long, need(v2)?)?;
                if !done {
                    return Err(Error::config("unknown option"));
                }
            }
        }
        Ok(())
    }

    fn clear(&mut self, long: &str) {
        match long {
            "map" => self.map = SignalMap::default(),
            "success-code" => self.success_codes.clear(),
            "wait" => self.wait.targets.clear(),
            _ => clear_env(&mut self.env, long),
        }
    }

    fn log(&mut self) -> &mut LogOpts {
        &mut self.log
    }
}

impl Options for EnvCmd {
    fn specs(&self) -> Vec<&'static Spec> {
        all(&ENVCMD_SPECS).chain(all(&ENV_SPECS)).chain(all(&USER_SPECS)).chain(all(&LOG_SPECS)).collect()
    }

    fn set(&mut self, long: &str, v: Option<&str>) -> Result<()> {
        match long {
            "format" => {
                self.format = match need(v)? {
                    "dotenv" => EnvFormat::Dotenv,
                    "shell" => EnvFormat::Shell,
                    "json" => EnvFormat::Json,
                    other => return Err(Error::config(format!("invalid format '{other}' (dotenv, shell, json)"))),
                }
            }
            "check" => self.check = flag(v)?,
            _ => {
                let done = set_env(&mut self.env, long, v)?
                    || set_user(&mut self.user, long, v)?
                    || set_log(&mut self.log, long, need(v)?)?;
                if !done {
                    return Err(Error::config("unknown option"));
                }
            }
        }
        Ok(())
    }

    fn clear(&mut self, long: &str) {
        clear_env(&mut self.env, long);
    }

    fn log(&mut self) -> &mut LogOpts {
        &mut self.log
    }
}

impl Options for Probe {
    fn specs(&self) -> Vec<&'static Spec> {
        all(&PROBE_SPECS).chain(all(&LOG_SPECS)).collect()
    }

    fn set(&mut self, long: &str, v: Option<&str>) -> Result<()> {
        let v = need(v)?;
        match long {
            "port" => {
                self.port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|&p| p != 0)
                        .ok_or_else(|| Error::config(format!("invalid port '{v}' (1-65535)")))?,
                )
            }
            "unix" => self.unix = Some(PathBuf::from(v)),
            "expect" => self.expect = v.to_string(),
            "body-contains" => self.body_contains = Some(v.to_string()),
            "header" => self.headers.push(v.to_string()),
            "method" => {
                self.method = match v.to_ascii_uppercase().as_str() {
                    "GET" => Method::Get,
                    "HEAD" => Method::Head,
                    _ => return Err(Error::config(format!("invalid method '{v}' (GET, HEAD)"))),
                }
            }
            "timeout" => self.timeout = parse_duration(v)?,
            _ => {
                if !set_log(&mut self.log, long, v)? {
                    return Err(Error::config("unknown option"));
                }
            }
        }
        Ok(())
    }

    fn clear(&mut self, long: &str) {
        if long == "header" {
            self.headers.clear();
        }
    }

    fn log(&mut self) -> &mut LogOpts {
        &mut self.log
    }
}

impl Options for Wait {
    fn specs(&self) -> Vec<&'static Spec> {
        all(&WAIT_SPECS).chain(all(&LOG_SPECS)).collect()
    }

    fn set(&mut self, long: &str, v: Option<&str>) -> Result<()> {
        if set_wait(&mut self.wait, long, v)? || set_log(&mut self.log, long, need(v)?)? {
            Ok(())
        } else {
            Err(Error::config("unknown option"))
        }
    }

    fn clear(&mut self, _long: &str) {}

    fn log(&mut self) -> &mut LogOpts {
        &mut self.log
    }
}

/// Apply `PIDONE_*` variables from `vars` for every option that has one.
fn apply_env(o: &mut dyn Options, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<()> {
    for spec in o.specs() {
        if !spec.env {
            continue;
        }
        let name = env_name(spec.long);
        let Some(raw) = vars(&name) else { continue };
        let val = raw.to_str().ok_or_else(|| Error::config(format!("{name}: value is not valid UTF-8")))?;
        let res = match spec.kind {
            Kind::Flag => parse_bool(val).and_then(|b| o.set(spec.long, Some(if b { "1" } else { "0" }))),
            Kind::Value => o.set(spec.long, Some(val)),
            Kind::List => val
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .try_for_each(|item| o.set(spec.long, Some(item))),
        };
        res.map_err(|e| e.context(&name))?;
    }
    Ok(())
}

/// Parse one mode's options from `args` (after the subcommand word). Returns the
/// positional words: everything from the first non-option or after `--`.
fn parse_opts(
    o: &mut dyn Options,
    args: Vec<OsString>,
    help: &'static str,
) -> Result<std::result::Result<Vec<OsString>, &'static str>> {
    use lexopt::prelude::*;
    let specs = o.specs();
    let mut seen_lists: Vec<&'static str> = Vec::new();
    let mut p = lexopt::Parser::from_args(args);
    let mut verbosity: i32 = 0;
    let mut quiet = false;
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(Error::config(e.to_string())),
        };
        let (spec, shown) = match arg {
            Short('h') | Long("help") => return Ok(Err(help)),
            Short('v') => {
                verbosity += 1;
                continue;
            }
            Short('q') => {
                quiet = true;
                continue;
            }
            Long(name) => {
                let shown = format!("--{name}");
                (specs.iter().find(|s| s.long == name).copied(), shown)
            }
            Short(c) => (specs.iter().find(|s| s.short == Some(c)).copied(), format!("-{c}")),
            Value(v) => {
                let mut rest = vec![v];
                rest.extend(p.raw_args().map_err(|e| Error::config(e.to_string()))?);
                apply_verbosity(o.log(), verbosity, quiet);
                return Ok(Ok(rest));
            }
        };
        let Some(spec) = spec else {
            return Err(Error::config(format!("unknown option '{shown}' (see pidone --help)")));
        };
        let value = match spec.kind {
            Kind::Flag => p
                .optional_value()
                .map(|v| v.string())
                .transpose()
                .map_err(|e| Error::config(e.to_string()).context(&shown))?,
            Kind::Value | Kind::List => Some(
                p.value()
                    .map_err(|_| Error::config("missing value").context(&shown))?
                    .string()
                    .map_err(|_| Error::config("value is not valid UTF-8").context(&shown))?,
            ),
        };
        if spec.kind == Kind::List && !seen_lists.contains(&spec.long) {
            seen_lists.push(spec.long);
            o.clear(spec.long);
        }
        o.set(spec.long, value.as_deref()).map_err(|e| e.context(&shown))?;
    }
    apply_verbosity(o.log(), verbosity, quiet);
    Ok(Ok(Vec::new()))
}

fn apply_verbosity(log: &mut LogOpts, verbosity: i32, quiet: bool) {
    if quiet {
        log.level = Level::Error;
    } else if verbosity >= 2 {
        log.level = Level::Debug;
    } else if verbosity == 1 && log.level < Level::Info {
        log.level = Level::Info;
    }
}

pub const RUN_HELP: &str = include_str!("help/run.txt");
pub const ENV_HELP: &str = include_str!("help/env.txt");
pub const PROBE_HELP: &str = include_str!("help/probe.txt");
pub const WAIT_HELP: &str = include_str!("help/wait.txt");

/// Parse a whole command line (without argv\[0\]) and the process environment.
pub fn parse(args: Vec<OsString>, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Mode> {
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("").to_string();
    match first.as_str() {
        "--version" | "-V" if args.len() == 1 => return Ok(Mode::Version),
        "probe" | "wait" | "env" => {}
        _ => return parse_run(args, vars),
    }
    let rest: Vec<OsString> = args.into_iter().skip(1).collect();
    match first.as_str() {
        "probe" => {
            let mut o = Probe {
                log: LogOpts::default(),
                target: None,
                port: None,
                unix: None,
                expect: "200-399".into(),
                body_contains: None,
                headers: Vec::new(),
                method: Method::Get,
                timeout: Duration::from_secs(2),
            };
            let pos = match parse_opts(&mut o, rest, PROBE_HELP)? {
                Ok(p) => p,
                Err(help) => return Ok(Mode::Help(help)),
            };
            if pos.len() > 1 {
                return Err(Error::config("probe takes one TARGET"));
            }
            o.target = pos.into_iter().next().map(|t| t.to_string_lossy().into_owned());
            Ok(Mode::Probe(o))
        }
        "wait" => {
            let mut o = Wait { log: LogOpts::default(), wait: WaitOpts::default() };
            apply_env(&mut o, vars)?;
            let pos = match parse_opts(&mut o, rest, WAIT_HELP)? {
                Ok(p) => p,
                Err(help) => return Ok(Mode::Help(help)),
            };
            if pos.is_empty() {
                return Err(Error::config("no TARGET given (usage: pidone wait [OPTIONS] TARGET...)"));
            }
            o.wait.targets = pos.into_iter().map(|t| t.to_string_lossy().into_owned()).collect();
            Ok(Mode::Wait(o))
        }
        _ => {
            let mut o = EnvCmd {
                log: LogOpts::default(),
                env: EnvOpts::default(),
                user: UserOpts::default(),
                format: EnvFormat::Dotenv,
                check: false,
                command: Vec::new(),
            };
            apply_env(&mut o, vars)?;
            let pos = match parse_opts(&mut o, rest, ENV_HELP)? {
                Ok(p) => p,
                Err(help) => return Ok(Mode::Help(help)),
            };
            o.command = pos;
            Ok(Mode::Env(o))
        }
    }
}

fn parse_run(args: Vec<OsString>, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Mode> {
    let mut o = Run::default();
    apply_env(&mut o, vars)?;
    let pos = match parse_opts(&mut o, args, RUN_HELP)? {
        Ok(p) => p,
        Err(help) => return Ok(Mode::Help(help)),
    };
    if pos.is_empty() {
        return Err(Error::config(
            "no command given (usage: pidone [OPTIONS] [--] COMMAND [ARG...]; see pidone --help)",
        ));
    }
    o.command = pos;
    Ok(Mode::Run(o))
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
        assert_eq!(r.grace, Duration::from_secs(3));
        assert_eq!(r.command, args(&["sh", "-c", "exit 3"]));
        let r = run(&["--grace=1s", "sh", "--grace", "2s"], &no_vars).unwrap();
        assert_eq!(r.grace, Duration::from_secs(1));
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
        assert_eq!(r.grace, Duration::from_secs(3));
        assert_eq!(r.success_codes, vec![143, 137]);
        assert_eq!(r.forward, Forward::Child);
        let r = run(&["--grace", "1s", "--success-code", "3", "--success-code=4", "true"], &vars).unwrap();
        assert_eq!(r.grace, Duration::from_secs(1));
        assert_eq!(r.success_codes, vec![3, 4]);
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
