//! `pidone env` (contract section 3): build the environment, then exec the
//! command in place (no supervision), or print what was loaded.

use crate::config::EnvCmd;
use crate::env::{self, Environment};
use crate::error::{Error, Result, io_text};
use crate::sys::{self, SigSet};

/// Print what was loaded (returns once printed), or exec the command (returns
/// only its failure). `defaults`: the signals pidone ignores for itself that
/// the command gets back at SIG_DFL.
pub fn main(opts: EnvCmd, base: Environment, defaults: SigSet) -> Result<()> {
    if opts.check && !opts.command.is_empty() {
        return Err(Error::config("--check only prints names: it takes no COMMAND"));
    }
    let loader = env::load(&opts.env, base)?;
    if opts.command.is_empty() {
        let out = if opts.check { env::names(&loader) } else { env::render(&loader, opts.format)? };
        return sys::write_all(sys::Stream::Out, &out)
            .map_err(|e| Error::config(format!("cannot write to stdout: {}", io_text(&e))));
    }
    let program = super::prepare(loader.finish()?, &opts.user, &opts.command)?;
    sys::set_default(defaults);
    let errno = program.exec();
    // Not exec'd: pidone goes on to log the failure, and ignores them again.
    sys::ignore(defaults);
    Err(program.failure(errno))
}
