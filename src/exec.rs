//! Turning a command line and an environment into an `execve`, with the
//! search and error rules of `execvp` and the 126/127 exit codes of the contract.
//!
//! Everything is allocated before the fork: the child only walks prepared
//! arrays, so nothing between fork and exec can fail half-way.

use crate::env::Environment;
use crate::error::{EXIT_NOEXEC, EXIT_NOTFOUND, Error, Result, errno_text};
use crate::sys::{self, CStrArray, Errno};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;

/// 127 when the command (or its interpreter) was not found, else 126.
pub fn exit_code(e: Errno) -> i32 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => EXIT_NOTFOUND,
        _ => EXIT_NOEXEC,
    }
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The shell that runs a file the kernel cannot execute (no `#!`), as in execvp.
const SHELL: &CStr = c"/bin/sh";

/// A command ready to exec: argv, envp and the paths to try, in order.
pub struct Program {
    /// The command name as the user wrote it, for messages.
    pub name: String,
    candidates: Vec<Candidate>,
    argv: CStrArray,
    envp: CStrArray,
}

/// One path to try, and the shell's argv should the kernel refuse that file
/// with ENOEXEC: `/bin/sh PATH ARGS...`.
struct Candidate {
    path: Rc<CStr>,
    script_argv: CStrArray,
}

impl Candidate {
    /// `path`, and `/bin/sh PATH ARGS...` for it (`args`: the command's
    /// arguments after its name).
    fn new(path: Rc<CStr>, shell: &Rc<CStr>, args: &[Rc<CStr>]) -> Candidate {
        let mut script = Vec::with_capacity(args.len().saturating_add(2));
        script.push(shell.clone());
        script.push(path.clone());
        script.extend_from_slice(args);
        Candidate { path, script_argv: CStrArray::new(script) }
    }
}

fn cstring(s: &OsStr, what: &str) -> Result<Rc<CStr>> {
    CString::new(s.as_bytes()).map(Rc::from).map_err(|_| Error::config(format!("{what} contains a NUL byte")))
}

/// The most execve copies onto a new program's stack (argument and
/// environment strings with their NULs, plus one pointer each), as Linux
/// computes it since 4.13 (fs/exec.c): a quarter of the stack limit
/// (RLIMIT_STACK), at most three quarters of the kernel's 8 MiB default
/// (_STK_LIM), at least 32 pages (ARG_MAX, 128 KiB). `stack` is the soft
/// RLIMIT_STACK, `None` when unlimited.
pub fn exec_limit(stack: Option<u64>) -> u64 {
    const STK_LIM: u64 = 8 << 20;
    const ARG_MAX: u64 = 32 * 4096;
    (stack.unwrap_or(u64::MAX) / 4).clamp(ARG_MAX, STK_LIM / 4 * 3)
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
        let envp = CStrArray::new(env.to_envp());
        let shell: Rc<CStr> = Rc::from(SHELL);
        let args = argv.get(1..).unwrap_or_default();
        let mut candidates = Vec::new();
        if first.as_bytes().contains(&b'/') {
            candidates.push(Candidate::new(cstring(first, "the command")?, &shell, args));
        } else if !first.is_empty() {
            let path = env.get("PATH").map_or(DEFAULT_PATH.as_bytes(), OsStr::as_bytes);
            for dir in path.split(|&b| b == b':') {
                let dir = if dir.is_empty() { &b"."[..] } else { dir };
                // A directory holding a NUL byte cannot be searched: skip it.
                if let Ok(full) = CString::new([dir, b"/", first.as_bytes()].concat()) {
                    candidates.push(Candidate::new(Rc::from(full), &shell, args));
                }
            }
        }
        let program = Program { name, candidates, argv: CStrArray::new(argv), envp };
        program.check_size(exec_limit(sys::stack_limit()))?;
        Ok(program)
    }

    /// Refuse, before any fork, a command line and environment that execve
    /// would refuse with E2BIG (the longest path to try counts too: the
    /// kernel copies the file name onto the stack as well).
    fn check_size(&self, limit: u64) -> Result<()> {
        let path = self.candidates.iter().map(|c| c.path.to_bytes().len().saturating_add(1)).max().unwrap_or(0);
        let size = self.argv.exec_size().saturating_add(self.envp.exec_size()).saturating_add(path);
        if u64::try_from(size).map_or(true, |size| size > limit) {
            return Err(Error::config(format!(
                "cannot run '{}': its arguments and environment take {size} bytes, more than the {limit} bytes \
                 Linux passes to a program (a quarter of RLIMIT_STACK, between 128 KiB and 6 MiB)",
                self.name
            )));
        }
        Ok(())
    }

    /// Replace the process image. Returns only on failure, with the errno that
    /// explains it (EACCES wins over ENOENT, as in execvp). A file the kernel
    /// refuses with ENOEXEC (no `#!`) is run by `/bin/sh`, as execvp does;
    /// when that fails too, ENOEXEC is the answer.
    ///
    /// Safe to call between fork and exec: it allocates nothing.
    pub fn exec(&self) -> Errno {
        let mut result = Errno::ENOENT;
        let mut denied = false;
        for candidate in &self.candidates {
            let e = sys::execve(&candidate.path, &self.argv, &self.envp);
            match e {
                Errno::ENOEXEC => {
                    sys::execve(SHELL, &candidate.script_argv, &self.envp);
                    return Errno::ENOEXEC;
                }
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
        let c: Vec<_> = p.candidates.iter().map(|c| c.path.to_str().unwrap().to_string()).collect();
        assert_eq!(c, vec!["/a/ls", "./ls", "/b/ls"]);
        let p = Program::prepare(&[OsString::from("./x")], &env("/a")).unwrap();
        assert_eq!(p.candidates.len(), 1);
        let p = Program::prepare(&[OsString::from("s"), OsString::from("a1")], &env("/a:/b")).unwrap();
        let script: Vec<_> = p.candidates[1].script_argv.strings().iter().map(|c| c.to_str().unwrap()).collect();
        assert_eq!(script, ["/bin/sh", "/b/s", "a1"], "a file without #! runs as /bin/sh PATH ARGS");
    }

    #[test]
    fn exec_limit_follows_the_kernels_rule() {
        assert_eq!(exec_limit(Some(8 << 20)), 2 << 20, "a quarter of the default 8 MiB stack");
        assert_eq!(exec_limit(None), 6 << 20, "unlimited: three quarters of _STK_LIM");
        assert_eq!(exec_limit(Some(100 << 20)), 6 << 20);
        assert_eq!(exec_limit(Some(4096)), 128 << 10, "never below 32 pages");
        assert_eq!(exec_limit(Some(0)), 128 << 10);
    }

    #[test]
    fn oversized_command_lines_are_refused_before_any_fork() {
        let p = Program::prepare(&[OsString::from("/bin/x"), OsString::from("a".repeat(100))], &env("/")).unwrap();
        // argv: "/bin/x\0" + 100 a's + NUL + 2 pointers; envp: "PATH=/\0" + 1 pointer; the path again.
        let size = 7 + 101 + 16 + 7 + 8 + 7;
        assert!(p.check_size(size).is_ok());
        let e = p.check_size(size - 1).unwrap_err();
        assert_eq!(e.code(), 125);
        let msg = e.to_string();
        assert!(msg.contains(&format!("{size} bytes")) && msg.contains(&format!("{} bytes", size - 1)), "{msg}");
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
