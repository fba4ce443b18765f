//! The typed options of every mode, as plain data with their defaults.
//!
//! `cli` fills these in from argv and `PIDONE_*`; the mode drivers (`cmd`)
//! and the domain modules read them. Nothing here parses or checks a value.

use crate::log::{Format, Level};
use crate::signals::SignalMap;
use crate::sys::Signal;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What one invocation asks for. Run mode's options are boxed: they are the
/// largest by far, and every move of a `Mode` would copy them on PID 1's stack.
#[derive(Debug)]
pub enum Mode {
    Run(Box<Run>),
    Env(EnvCmd),
    Probe(Probe),
    Wait(Wait),
    /// Print this help text on stdout and exit 0.
    Help(String),
    Version,
    /// Print the license notices (tini's `-l`).
    License,
}

/// Where signals go in run mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// The stop signals (after `--map`) to the child's process group, every
    /// other signal to the child only.
    Auto,
    /// The child's process group.
    Group,
    /// The child only.
    Child,
}

/// Where a value came from, for the messages about it (contract section 1:
/// an error about a value from a variable names the variable): an option on
/// the command line (`--user`) or its variable (`PIDONE_USER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--LONG`.
    Option(&'static str),
    /// `PIDONE_<LONG>`, upper case, `-` as `_`.
    Variable(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Origin::Option(long) => write!(f, "--{long}"),
            Origin::Variable(long) => {
                f.write_str("PIDONE_")?;
                long.chars().try_for_each(|c| {
                    std::fmt::Write::write_char(f, if c == '-' { '_' } else { c.to_ascii_uppercase() })
                })
            }
        }
    }
}

/// A value that is checked after parsing (by the privilege drop, the wait),
/// with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub from: Origin,
}

/// A path that may be missing when `optional` (given as `?PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub optional: bool,
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

/// Contract section 2: how the process tree is supervised and stopped.
#[derive(Debug, Clone)]
pub struct SuperviseOpts {
    /// `--grace`; `None`: no deadline of pidone's own after a stop signal
    /// (the runtime's stop timeout decides), 10 s after the child's own exit.
    pub grace: Option<Duration>,
    /// `--stop-delay`: how long the first stop signal is held.
    pub stop_delay: Duration,
    pub forward: Forward,
    pub map: SignalMap,
    /// Exit codes of the command that pidone reports as 0.
    pub success_codes: Vec<u8>,
    /// Log every reaped process other than the main child at `warn` (tini's `-w`).
    pub warn_reaped: bool,
}

impl Default for SuperviseOpts {
    fn default() -> Self {
        SuperviseOpts {
            grace: None,
            stop_delay: Duration::ZERO,
            forward: Forward::Auto,
            map: SignalMap::default(),
            success_codes: Vec::new(),
            warn_reaped: false,
        }
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
    pub user: Option<Sourced<String>>,
    pub allow_root: bool,
    pub allow_new_privs: bool,
}

/// Contract section 6: dependencies to wait for.
#[derive(Debug, Clone)]
pub struct WaitOpts {
    pub targets: Vec<String>,
    /// Where run mode's `targets` came from: `--wait` or `PIDONE_WAIT`.
    pub from: Origin,
    pub timeout: Duration,
    pub interval: Duration,
}

impl Default for WaitOpts {
    fn default() -> Self {
        WaitOpts {
            targets: Vec::new(),
            from: Origin::Option("wait"),
            timeout: Duration::from_secs(30),
            interval: Duration::from_secs(1),
        }
    }
}

/// `pidone [OPTIONS] [--] COMMAND [ARG...]`
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub log: LogOpts,
    /// The signal pidone asks for when its parent dies (tini's `-p`).
    pub parent_death_signal: Option<Signal>,
    pub supervise: SuperviseOpts,
    pub env: EnvOpts,
    pub user: UserOpts,
    pub wait: WaitOpts,
    pub command: Vec<OsString>,
}

/// How `pidone env` prints what it loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvFormat {
    #[default]
    Dotenv,
    Shell,
    Json,
}

/// `pidone env [OPTIONS] [--] [COMMAND [ARG...]]`
#[derive(Debug, Clone, Default)]
pub struct EnvCmd {
    pub log: LogOpts,
    pub env: EnvOpts,
    pub user: UserOpts,
    pub format: EnvFormat,
    /// Print only the names loaded.
    pub check: bool,
    pub command: Vec<OsString>,
}

/// The HTTP method of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Get,
    Head,
}

/// The `--expect` list every probe starts with.
pub const DEFAULT_EXPECT: &str = "200-399";

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

impl Default for Probe {
    fn default() -> Self {
        Probe {
            log: LogOpts::default(),
            target: None,
            port: None,
            unix: None,
            expect: DEFAULT_EXPECT.into(),
            body_contains: None,
            headers: Vec::new(),
            method: Method::Get,
            timeout: Duration::from_secs(2),
        }
    }
}

/// `pidone wait [OPTIONS] TARGET...`
#[derive(Debug, Clone, Default)]
pub struct Wait {
    pub log: LogOpts,
    pub wait: WaitOpts,
}
