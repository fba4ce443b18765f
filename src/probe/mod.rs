//! Contract sections 5 and 6: `pidone probe`, `pidone wait` and `--wait`.
//! (They arrive with their own issue.)

use crate::cli::{Probe, Wait, WaitOpts};
use crate::error::{Error, Result};
use std::os::fd::BorrowedFd;

/// `pidone probe`: exit 0 when healthy, 1 otherwise.
pub fn main(opts: Probe) -> i32 {
    let _ = opts;
    println!("unhealthy: probe is not built yet");
    1
}

/// `pidone wait`: 0 when every target answered, 1 on timeout.
pub fn wait_main(opts: Wait) -> i32 {
    let _ = opts;
    1
}

/// Run mode's `--wait`: returns once every target answered; a timeout is a
/// 125 error, a signal read from `signals` ends the wait with 128+N.
pub fn wait_for(opts: &WaitOpts, signals: Option<BorrowedFd<'_>>) -> Result<()> {
    let _ = signals;
    if opts.targets.is_empty() { Ok(()) } else { Err(Error::config("--wait is not built yet")) }
}
