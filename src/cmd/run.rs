//! Run mode: pidone as init (contract section 2).
//!
//! The order is fixed: block signals (so none is lost), build the environment,
//! drop privileges, wait for dependencies, spawn, then supervise.

use crate::config::{Run, WaitOpts};
use crate::env::{self, Environment};
use crate::error::{Error, Result, cannot, errno_text};
use crate::log::{self, Shown};
use crate::probe::{self, End};
use crate::signals;
use crate::supervise::{self, Supervisor};
use crate::sys::{self, SigSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// Supervise `opts.command`; returns the exit code pidone must exit with.
/// `base` is pidone's own environment, read once at start-up; `defaults` the
/// signals pidone ignores for itself that the child gets back at SIG_DFL.
pub fn main(opts: Run, base: Environment, defaults: SigSet) -> Result<i32> {
    // Block first: a signal sent while pidone starts stays pending and is
    // forwarded once the child runs.
    let inherited = sys::block_signals(signals::supervised()).map_err(|e| cannot("block signals", e))?;
    let sfd = sys::signalfd(signals::supervised()).map_err(|e| cannot("create a signalfd", e))?;
    if let Some(sig) = opts.parent_death_signal {
        // After blocking: the signal, when it comes, is read and forwarded like any other.
        sys::set_parent_death_signal(sig).map_err(|e| cannot("set the parent-death signal", e))?;
    }
    let pid1 = std::process::id() == 1;
    if !pid1 {
        // Orphans of the tree must come back to pidone to be reaped and drained.
        if let Err(e) = sys::set_child_subreaper() {
            log::warning!(
                "not PID 1 and cannot become a child subreaper ({}): orphans will not be reaped",
                errno_text(e)
            );
        }
    }

    let environment = env::build(&opts.env, base)?;
    let program = super::prepare(environment, &opts.user, &opts.command)?;
    wait_for(&opts.wait, Some(sfd.as_fd()))?;

    let tty = sys::foreground_tty();
    let child = supervise::spawn(&program, inherited, defaults, tty)?;
    log::info!("started '{}' as pid {child}", program.name);
    drop(program);

    // Hold nothing the container might want back: no directory, no descriptor
    // beyond 0-2 but the signalfd (the child has its own copies).
    if let Err(e) = nix::unistd::chdir("/") {
        log::debug!("cannot change directory to /: {}", errno_text(e));
    }
    sys::close_fds_except(sfd.as_raw_fd());

    Ok(Supervisor::new(sfd, child, pid1, opts.supervise).supervise())
}

/// `--wait`: returns once every target answered; a timeout is a 125 error, a
/// signal read from `signals` ends the wait with 128+N.
fn wait_for(opts: &WaitOpts, signals: Option<BorrowedFd<'_>>) -> Result<()> {
    if opts.targets.is_empty() {
        return Ok(());
    }
    let targets = probe::parse_all(&opts.targets).map_err(|e| e.context(opts.from))?;
    if opts.timeout.is_zero() {
        log::info!("waiting with no time limit for {} target(s)", targets.len());
    } else {
        log::info!("waiting up to {} for {} target(s)", Shown(opts.timeout), targets.len());
    }
    match probe::wait_all(&targets, opts.timeout, opts.interval, signals) {
        Ok(()) => Ok(()),
        Err(End::Timeout(msg)) => Err(Error::config(format!("{}: {msg}; the command was not started", opts.from))),
        Err(End::Signal(sig)) => Err(Error::new(
            128 + sig.raw(),
            format!("{}: {} received while waiting; the command was not started", opts.from, signals::Name(sig)),
        )),
        Err(End::Failed(msg)) => Err(Error::config(format!("{}: {msg}", opts.from))),
    }
}
