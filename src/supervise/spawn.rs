//! Starting the child: fork, a process group of its own, the terminal's
//! foreground, the signal mask pidone inherited, then exec.
//!
//! A close-on-exec pipe tells the parent whether exec worked: it reads EOF when
//! the exec succeeded, or the errno when it did not, so "not found" is reported
//! by pidone itself with the contract's 126/127.

use crate::error::{Result, cannot};
use crate::exec::Program;
use crate::sys::{self, Errno, Forked, Pid, SigSet};
use nix::unistd::pipe2;
use std::os::fd::RawFd;

/// Fork and exec `program`; returns the child's pid once it has exec'd.
///
/// `mask` is the signal mask pidone inherited, restored in the child before
/// exec, and `defaults` the signals pidone ignores for itself that had their
/// default action when it started: the child gets that back. `tty`, when
/// given, is a terminal whose foreground group becomes the child's.
pub fn spawn(program: &Program, mask: SigSet, defaults: SigSet, tty: Option<RawFd>) -> Result<Pid> {
    let (rd, wr) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| cannot("create a pipe", e))?;
    match sys::fork() {
        Err(e) => Err(cannot("fork", e)),
        Ok(Forked::Child) => {
            // Only async-signal-safe calls from here on, on memory prepared
            // before the fork; the child exits right here if exec fails.
            drop(rd);
            let me = Pid::own();
            let _ = sys::setpgid(me, me);
            if let Some(fd) = tty {
                // SIGTTOU is still blocked here, so this works from the background.
                let _ = sys::tcsetpgrp(fd, me);
            }
            sys::set_default(defaults);
            let _ = sys::set_signal_mask(mask);
            let err = program.exec();
            // One write: a pipe takes up to PIPE_BUF bytes at once, nothing
            // else writes to this one, and pidone installs no signal handler
            // that could interrupt the call.
            let _ = nix::unistd::write(&wr, &(err as i32).to_ne_bytes());
            sys::exit_now(crate::exec::exit_code(err))
        }
        Ok(Forked::Parent(child)) => {
            drop(wr);
            // Also set the group from this side, so it exists before any signal
            // pidone forwards; EACCES once the child has exec'd is fine.
            let _ = sys::setpgid(child, child);
            let mut buf = [0u8; 4];
            let n = loop {
                match nix::unistd::read(&rd, &mut buf) {
                    Ok(n) => break n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break 0,
                }
            };
            if n < buf.len() {
                return Ok(child);
            }
            let errno = Errno::from_raw(i32::from_ne_bytes(buf));
            // The child exits right after writing: reap it so no zombie is left.
            let _ = sys::wait_for(child);
            Err(program.failure(errno))
        }
    }
}
