//! Starting the child: fork, a process group of its own, the terminal's
//! foreground, the signal mask pidone inherited, then exec.
//!
//! A close-on-exec pipe tells the parent whether exec worked: it reads EOF when
//! the exec succeeded, or the errno when it did not, so "not found" is reported
//! by pidone itself with the contract's 126/127.

use crate::error::Result;
use crate::exec::Program;
use crate::signals::SigSet;
use crate::sys;
use nix::errno::Errno;
use nix::unistd::{ForkResult, fork, pipe2};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::RawFd;

/// Fork and exec `program`; returns the child's pid once it has exec'd.
///
/// `mask` is the signal mask pidone inherited, restored in the child before
/// exec. `tty`, when given, is a terminal whose foreground group becomes the
/// child's.
pub fn spawn(program: &Program, mask: SigSet, tty: Option<RawFd>) -> Result<i32> {
    let (rd, wr) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| super::cannot("create a pipe", e))?;
    // SAFETY: pidone is single-threaded, and the child only calls
    // async-signal-safe functions on memory prepared before the fork.
    match unsafe { fork() } {
        Err(e) => Err(super::cannot("fork", e)),
        Ok(ForkResult::Child) => {
            drop(rd);
            // SAFETY: plain syscalls on integers; the child has its own copy of
            // everything and exits right here if exec fails.
            unsafe {
                libc::setpgid(0, 0);
                if let Some(fd) = tty {
                    // SIGTTOU is still blocked here, so this works from the background.
                    libc::tcsetpgrp(fd, libc::getpid());
                }
            }
            let _ = sys::sigprocmask(libc::SIG_SETMASK, Some(mask));
            let err = program.exec();
            let mut wr = File::from(wr);
            let _ = wr.write_all(&(err as i32).to_ne_bytes());
            let code = crate::exec::exit_code(err);
            // SAFETY: _exit ends the child without running the parent's atexit
            // handlers or flushing its buffers.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(wr);
            let pid = child.as_raw();
            // Also set the group from this side, so it exists before any signal
            // pidone forwards; EACCES once the child has exec'd is fine.
            // SAFETY: setpgid on integers.
            unsafe { libc::setpgid(pid, pid) };
            let mut buf = [0u8; 4];
            let mut rd = File::from(rd);
            let n = loop {
                match rd.read(&mut buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break 0,
                }
            };
            if n < buf.len() {
                return Ok(pid);
            }
            let errno = Errno::from_raw(i32::from_ne_bytes(buf));
            // The child exits right after writing: reap it so no zombie is left.
            // SAFETY: waitpid on the child's pid with a null status pointer.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            Err(program.failure(errno))
        }
    }
}
