//! pidone: a tiny static init and entrypoint for containers.
#![deny(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]
//!
//! `main.rs` hands argv to [`main`]. From there the flow goes one way:
//! `cli` turns argv and `PIDONE_*` into `config` (plain data); a mode driver
//! in `cmd` runs the mode over the domain modules, `env` (env files and
//! secrets), `user` (privilege drop), `probe` (health checks and waits),
//! `exec` and `supervise` (spawn, signal loop, shutdown); and this file turns
//! how the mode ended into the exit code. `signals`, `log`, `error` and `sys`
//! (raw syscalls) serve them all.

pub mod cli;
mod cmd;
pub mod config;
pub mod env;
pub mod error;
pub mod exec;
pub mod fuzzing;
#[cfg(feature = "tlsf")]
#[allow(unsafe_code)]
mod heap;
pub mod log;
pub mod notices;
pub mod number;
pub mod probe;
pub mod signals;
pub mod supervise;
#[allow(unsafe_code)]
pub mod sys;
#[cfg(test)]
mod test_rng;
#[cfg(test)]
mod test_support;
pub mod time;
pub mod user;
pub mod version;

use cmd::probe::Health;
use cmd::wait::Outcome;
use config::Mode;
use std::ffi::OsString;

/// How a mode ended, before it becomes an exit code.
enum Ended {
    /// Run mode: the command's code, as the supervisor reports it. Env mode
    /// (printed), `--help` and `--version`: 0.
    Code(i32),
    Probe(Health),
    Wait(Outcome),
}

/// Run pidone with `args` (without argv\[0\]); returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    // Before anything can write: a write to a closed pipe or past the file
    // size limit is an error return for pidone, never a signal (the reasons
    // are at `signals::raised_by_writes`); `inherited` is what the command
    // gets back.
    let inherited = sys::ignore(signals::raised_by_writes());
    let probe_mode = args.first().is_some_and(|a| a == "probe");
    if let Err(e) = user::refuse_setid() {
        return exit_code(probe_mode, Err(e));
    }
    // Run and env modes read the whole environment once, indexed, and look
    // the PIDONE_* variables up in it; a probe takes no option from PIDONE_*
    // variables and only needs a few getenv calls of its own (PORT,
    // PIDONE_PROBE_PORT, and PIDONE_USER for the drop when started as root).
    let base = if probe_mode { env::Environment::default() } else { env::Environment::from_process() };
    let vars = |name: &str| base.get(name).map(std::ffi::OsStr::to_os_string);
    // The log options are known (and set) before any other line: a usage
    // error or a warning comes out in the format asked for.
    let (log_opts, parsed) = cli::parse_logged(args, &vars);
    log::configure(log_opts.level, log_opts.format);
    if !matches!(parsed, Ok(Mode::Help(_) | Mode::Version | Mode::License)) {
        for (name, _) in base.iter() {
            if let Some(warning) = cli::unknown_variable(name) {
                log::warning!("{warning}");
            }
        }
    }
    let ended = parsed.and_then(|mode| match mode {
        Mode::Help(text) => print(&text),
        Mode::Version => print(version::version_line()),
        Mode::License => print(notices::license_text()),
        Mode::Run(opts) => cmd::run::main(*opts, base, inherited).map(Ended::Code),
        Mode::Env(opts) => cmd::env::main(opts, base, inherited).map(|()| Ended::Code(0)),
        Mode::Probe(opts) => cmd::probe::main(opts).map(Ended::Probe),
        Mode::Wait(opts) => cmd::wait::main(opts).map(Ended::Wait),
    });
    exit_code(probe_mode, ended)
}

/// Every exit code pidone gives, in one place (an error is logged here too):
/// - run and env: the command's own code (run: 128+N when signal N killed it,
///   0 for a `--success-code`); an error's own code: 125 for usage,
///   configuration, environment, user and `--wait` failures, 126 when the
///   command cannot be executed, 127 when it is not found, 128+N when signal N
///   ended `--wait`.
/// - probe: 0 when healthy, 1 otherwise, errors included: Docker reserves 2
///   for HEALTHCHECK, so a probe only ever says 0 or 1.
/// - wait: 0 when every target answered, 1 on timeout, 125 on a usage error,
///   128+N when signal N ended the wait.
fn exit_code(probe_mode: bool, ended: error::Result<Ended>) -> i32 {
    match ended {
        Ok(Ended::Code(code)) => code,
        Ok(Ended::Probe(Health::Healthy) | Ended::Wait(Outcome::Ready)) => 0,
        Ok(Ended::Probe(Health::Unhealthy) | Ended::Wait(Outcome::TimedOut)) => 1,
        Ok(Ended::Wait(Outcome::Signal(sig))) => 128 + sig.raw(),
        Err(e) => {
            log::error!("{e}");
            if probe_mode { 1 } else { e.code() }
        }
    }
}

/// `--help`, `--version` and `-l`: the text on stdout, exit 0.
fn print(text: &str) -> error::Result<Ended> {
    let _ = sys::write_all(sys::Stream::Out, text.as_bytes());
    Ok(Ended::Code(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use error::Error;

    #[test]
    fn exit_codes_by_mode() {
        let usage = || Err(Error::config("bad"));
        assert_eq!(exit_code(false, Ok(Ended::Code(7))), 7);
        assert_eq!(exit_code(false, usage()), 125);
        assert_eq!(exit_code(false, Err(Error::new(127, "not found"))), 127);
        // A probe says 0 or 1, whatever went wrong.
        assert_eq!(exit_code(true, Ok(Ended::Probe(Health::Healthy))), 0);
        assert_eq!(exit_code(true, Ok(Ended::Probe(Health::Unhealthy))), 1);
        assert_eq!(exit_code(true, usage()), 1);
        assert_eq!(exit_code(true, Err(Error::new(127, "x"))), 1);
        assert_eq!(exit_code(false, Ok(Ended::Wait(Outcome::Ready))), 0);
        assert_eq!(exit_code(false, Ok(Ended::Wait(Outcome::TimedOut))), 1);
        assert_eq!(exit_code(false, Ok(Ended::Wait(Outcome::Signal(sys::Signal::TERM)))), 143);
    }
}
