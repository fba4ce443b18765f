//! pidone: a tiny static init and entrypoint for containers.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]
//!
//! `main.rs` hands argv to [`main`]; everything else is one module per concern:
//! `cli` (grammar), `supervise` (run mode: spawn, signal loop, shutdown),
//! `env` (env files and secrets), `user` (privilege drop), `probe` (health
//! checks and waits), `signals`, `exec`, `log`, and `sys` (raw syscalls).

pub mod cli;
pub mod env;
pub mod error;
pub mod exec;
pub mod fuzzing;
#[cfg(feature = "tlsf")]
mod heap;
pub mod log;
pub mod notices;
pub mod probe;
pub mod signals;
pub mod supervise;
pub mod sys;
#[cfg(test)]
mod test_rng;
pub mod user;
pub mod version;

use std::ffi::OsString;
use std::io::Write;

/// Run pidone with `args` (without argv\[0\]); returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let probe_mode = args.first().is_some_and(|a| a == "probe");
    // Run and env modes read the whole environment once, indexed, and look
    // the PIDONE_* variables up in it; a probe reads no PIDONE_* variables
    // and only needs a few getenv calls of its own.
    let base = if probe_mode { env::Environment::default() } else { env::Environment::from_process() };
    let vars = |name: &str| base.get(name).map(std::ffi::OsStr::to_os_string);
    let mode = match cli::parse(args, &vars) {
        Ok(mode) => mode,
        Err(e) => {
            log::error!("{e}");
            // Docker reserves 2 for HEALTHCHECK: a probe only ever says 0 or 1.
            return if probe_mode { 1 } else { e.code };
        }
    };
    let result = match mode {
        cli::Mode::Help(text) => print(text),
        cli::Mode::Version => print(version::version_line()),
        cli::Mode::Run(opts) => {
            log::configure(opts.log.level, opts.log.format);
            supervise::run(opts, base)
        }
        cli::Mode::Env(opts) => {
            log::configure(opts.log.level, opts.log.format);
            env::command(opts, base)
        }
        cli::Mode::Probe(opts) => {
            log::configure(opts.log.level, opts.log.format);
            Ok(probe::main(opts))
        }
        cli::Mode::Wait(opts) => {
            log::configure(opts.log.level, opts.log.format);
            Ok(probe::wait_main(opts))
        }
    };
    result.unwrap_or_else(|e| {
        log::error!("{e}");
        e.code
    })
}

/// `--help` and `--version`: the text on stdout, exit 0.
fn print(text: &str) -> error::Result<i32> {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}
