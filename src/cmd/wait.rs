//! `pidone wait` (contract section 6): block until every target answers.

use crate::config::Wait;
use crate::error::{Error, Result, errno_text};
use crate::log;
use crate::probe::{self, End};
use crate::signals;
use crate::sys::{self, Signal};
use crate::user;
use std::os::fd::AsFd;

/// How a wait ended, when it ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every target answered.
    Ready,
    /// The deadline passed first (the reason is logged).
    TimedOut,
    /// This signal ended the wait.
    Signal(Signal),
}

/// Wait for `opts.wait.targets`; an error is a usage error (a bad target) or
/// a failure to watch signals.
pub fn main(opts: Wait) -> Result<Outcome> {
    let targets = probe::parse_all(&opts.wait.targets).map_err(|e| e.context("wait"))?;
    user::drop_for_checks(std::env::var("PIDONE_USER").ok().as_deref()).map_err(|e| e.context("wait"))?;
    // Signals are read, not handled: block them and watch a signalfd.
    let sfd = sys::block_signals(signals::supervised())
        .and_then(|_| sys::signalfd(signals::supervised()))
        .map_err(|e| Error::config(format!("wait: cannot watch signals: {}", errno_text(e))))?;
    match probe::wait_all(&targets, opts.wait.timeout, opts.wait.interval, Some(sfd.as_fd())) {
        Ok(()) => {
            log::info!("every target answered");
            Ok(Outcome::Ready)
        }
        Err(End::Timeout(msg)) => {
            log::error!("wait: {msg}");
            Ok(Outcome::TimedOut)
        }
        Err(End::Signal(sig)) => {
            log::info!("wait: {} received; giving up", signals::Name(sig));
            Ok(Outcome::Signal(sig))
        }
        Err(End::Failed(msg)) => Err(Error::config(format!("wait: {msg}"))),
    }
}
