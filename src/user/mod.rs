//! Contract section 4: who the command runs as. (The privilege drop arrives
//! with its own issue; for now pidone runs the command with its own ids.)

use crate::cli::UserOpts;
use crate::env::Environment;
use crate::error::Result;

/// Resolve `opts`, enforce the non-root rule and drop privileges in the
/// calling process. `env` gets HOME for the target user.
pub fn apply(opts: &UserOpts, env: &mut Environment) -> Result<()> {
    let _ = (opts, env);
    Ok(())
}
