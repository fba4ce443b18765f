//! Turning a command line and an environment into an `execve`, with the
//! search and error rules of `execvp` and the 126/127 exit codes of the contract.
//!
//! Everything is allocated before the fork: the child only walks prepared
//! pointers, so nothing between fork and exec can fail half-way.

use crate::env::Environment;
use crate::error::{EXIT_NOEXEC, EXIT_NOTFOUND, Error, Result, errno_text};
use nix::errno::Errno;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// 127 when the command (or its interpreter) was not found, else 126.
pub fn exit_code(e: Errno) -> i32 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => EXIT_NOTFOUND,
        _ => EXIT_NOEXEC,
    }
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A command ready to exec: argv, envp and the paths to try, in order.
pub struct Program {
    /// The command name as the user wrote it, for messages.
    pub name: String,
    candidates: Vec<CString>,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
}

fn cstring(s: &OsStr, what: &str) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| Error::config(format!("{what} contains a NUL byte")))
}

fn null_terminated(v: &[CString]) -> Vec<*const libc::c_char> {
    let mut out = Vec::with_capacity(v.len() + 1);
    for c in v {
        out.push(c.as_ptr());
    }
    out.push(std::ptr::null());
    out
}

impl Program {
    pub fn prepare(command: &[OsString], env: &Environment) -> Result<Program> {
        let Some(first) = command.first() else {
            return Err(Error::config("no command given"));
        };
        let name = first.to_string_lossy().into_owned();
        let mut argv = Vec::with_capacity(command.len());
        for arg in command {
            argv.push(cstring(arg, "an argument")?);
        }
        let envp = env.to_envp();
        let mut candidates = Vec::new();
        if first.as_bytes().contains(&b'/') {
            candidates.push(cstring(first, "the command")?);
        } else if !first.is_empty() {
            let path = env.get("PATH").map_or(DEFAULT_PATH.as_bytes(), OsStr::as_bytes);
            for dir in path.split(|&b| b == b':') {
                let dir = if dir.is_empty() { &b"."[..] } else { dir };
                // A directory holding a NUL byte cannot be searched: skip it.
                if let Ok(full) = CString::new([dir, b"/", first.as_bytes()].concat()) {
                    candidates.push(full);
                }
            }
        }
        let argv_ptrs = null_terminated(&argv);
        let envp_ptrs = null_terminated(&envp);
        Ok(Program { name, candidates, _argv: argv, argv_ptrs, _envp: envp, envp_ptrs })
    }

    /// Replace the process image. Returns only on failure, with the errno that
    /// explains it (EACCES wins over ENOENT, as in execvp).
    ///
    /// Safe to call between fork and exec: it allocates nothing.
    pub fn exec(&self) -> Errno {
        let mut result = Errno::ENOENT;
        let mut denied = false;
        for path in &self.candidates {
            // SAFETY: path, argv and envp are NUL-terminated strings and
            // null-terminated pointer arrays owned by `self`, alive for the call.
            unsafe { libc::execve(path.as_ptr(), self.argv_ptrs.as_ptr(), self.envp_ptrs.as_ptr()) };
            let e = Errno::last();
            match e {
                Errno::EACCES => denied = true,
                Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => {}
                other => return other,
            }
            result = e;
        }
        if denied { Errno::EACCES } else { result }
    }

    /// The error pidone reports when `exec` failed with `e`.
    pub fn failure(&self, e: Errno) -> Error {
        let code = exit_code(e);
        let not_found = code == EXIT_NOTFOUND;
        let direct = self.name.contains('/');
        let msg = if e == Errno::ENOENT && direct && std::path::Path::new(&self.name).exists() {
            // execve says ENOENT for a script whose #! interpreter is missing.
            format!("cannot run '{}': its interpreter was not found ({})", self.name, errno_text(e))
        } else if not_found && !direct {
            format!("'{}' not found in PATH", self.name)
        } else {
            format!("cannot run '{}': {}", self.name, errno_text(e))
        };
        Error::new(code, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(path: &str) -> Environment {
        let mut e = Environment::default();
        e.set("PATH", path);
        e
    }

    #[test]
    fn search_path_candidates_follow_path() {
        let p = Program::prepare(&[OsString::from("ls")], &env("/a::/b")).unwrap();
        let c: Vec<_> = p.candidates.iter().map(|c| c.to_str().unwrap().to_string()).collect();
        assert_eq!(c, vec!["/a/ls", "./ls", "/b/ls"]);
        let p = Program::prepare(&[OsString::from("./x")], &env("/a")).unwrap();
        assert_eq!(p.candidates.len(), 1);
    }

    #[test]
    fn nul_in_argument_is_a_config_error() {
        let e = Program::prepare(&[OsString::from("a"), OsString::from("b\0c")], &env("/")).err().unwrap();
        assert_eq!(e.code(), 125);
    }

    #[test]
    fn failures_map_to_126_and_127() {
        let p = Program::prepare(&[OsString::from("nope-xyz")], &env("/nonexistent")).unwrap();
        assert_eq!(p.exec(), Errno::ENOENT);
        assert_eq!(p.failure(Errno::ENOENT).code(), 127);
        let p = Program::prepare(&[OsString::from("/etc")], &env("/")).unwrap();
        assert_eq!(p.exec(), Errno::EACCES);
        assert_eq!(p.failure(Errno::EACCES).code(), 126);
    }
}
