//! Contract section 3: the child's environment, built once before privileges
//! are dropped. (Env files, secrets and NAME_FILE arrive with their own issue;
//! for now the environment is pidone's own.)

use crate::cli::EnvOpts;
use crate::error::Result;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Whether `s` is a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// An ordered set of variables; the last `set` of a name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
}

impl Environment {
    /// pidone's own environment (step 1 of the contract).
    pub fn from_process() -> Self {
        Environment { vars: std::env::vars_os().collect() }
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_os_str())
    }

    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        let (name, value) = (name.into(), value.into());
        match self.vars.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.retain(|(k, _)| k != name);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// `NAME=value` strings for execve. Entries that cannot be passed (a NUL
    /// byte, which std never yields from the process environment) are left out.
    pub fn to_envp(&self) -> Vec<CString> {
        self.vars
            .iter()
            .filter_map(|(k, v)| {
                let mut s = Vec::with_capacity(k.len() + v.len() + 1);
                s.extend_from_slice(k.as_bytes());
                s.push(b'=');
                s.extend_from_slice(v.as_bytes());
                CString::new(s).ok()
            })
            .collect()
    }
}

/// Build the child's environment from `opts`.
pub fn build(opts: &EnvOpts) -> Result<Environment> {
    let _ = opts;
    Ok(Environment::from_process())
}

/// `pidone env`: build the environment, then exec the command or print it.
pub fn command(opts: crate::cli::EnvCmd) -> Result<i32> {
    let _ = opts;
    Err(crate::error::Error::config("pidone env is not built yet"))
}
