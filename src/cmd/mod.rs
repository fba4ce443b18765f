//! The mode drivers: each mode's pipeline, written once. A driver calls the
//! domain modules in one direction,
//! config → environment → credentials → (wait) → spawn → supervise,
//! and returns how the mode ended; `lib.rs` turns that into the exit code.

pub mod env;
pub mod probe;
pub mod run;
pub mod wait;

use crate::config::UserOpts;
use crate::error::Result;
use crate::exec::Program;
use crate::user;
use std::ffi::OsString;

/// The steps run mode and `pidone env COMMAND` share once the environment is
/// built: drop privileges, give the environment the user's HOME, and plan the
/// exec of `command` with it.
fn prepare(mut environment: crate::env::Environment, user: &UserOpts, command: &[OsString]) -> Result<Program> {
    let applied = user::apply(user)?;
    if let Some(home) = applied.home_for(environment.get("HOME")) {
        environment.set("HOME", home);
    }
    Program::prepare(command, &environment)
}
