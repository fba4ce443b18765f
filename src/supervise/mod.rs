//! Run mode's supervision: the signal loop over the child pidone spawned.
//!
//! `cmd::run` sets the stage (signals blocked, environment, privileges,
//! dependencies), [`spawn`]s the command and hands the child to a
//! [`Supervisor`]. The loop blocks in `read(signalfd)` with no timeout while
//! idle; only a pending grace deadline turns that into a `poll` with the time
//! left. What to do on each event is decided by the pure [`Shutdown`] machine.

mod procs;
mod shutdown;
mod spawn;

pub use procs::parse_stat;
pub use shutdown::{Action, Event, Shutdown};
pub use spawn::spawn;

use crate::config::{Forward, SuperviseOpts};
// `cannot` is for spawn.rs (`super::cannot`).
use crate::error::{cannot, errno_text};
use crate::log::{self, Shown};
use crate::signals::{self, Name};
use crate::sys::{self, Errno, Pid, Recipient, Signal};
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The running command and what pidone does with its signals and its exit.
pub struct Supervisor {
    sfd: OwnedFd,
    child: Pid,
    main_alive: bool,
    pid1: bool,
    group: bool,
    warn_reaped: bool,
    grace: Duration,
    success_codes: Vec<u8>,
    machine: Shutdown,
}

/// Milliseconds until `deadline`, rounded up so pidone never wakes early.
fn ms_until(deadline: Instant, now: Instant) -> i32 {
    let d = deadline.saturating_duration_since(now);
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

impl Supervisor {
    /// Supervise `child`, spawned by pidone; `sfd` is the signalfd of every
    /// supervised signal, `pid1` whether pidone is the namespace's init.
    pub fn new(sfd: OwnedFd, child: Pid, pid1: bool, opts: SuperviseOpts) -> Supervisor {
        let group = opts.forward == Forward::Group;
        Supervisor {
            sfd,
            child,
            main_alive: true,
            pid1,
            group,
            warn_reaped: opts.warn_reaped,
            grace: opts.grace,
            success_codes: opts.success_codes,
            machine: Shutdown::new(opts.grace, opts.map, group),
        }
    }

    /// Run the loop until the shutdown machine says exit; returns the code
    /// pidone must exit with.
    pub fn supervise(&mut self) -> i32 {
        // Read the clock once now: the first call makes musl look up the
        // vDSO, and that (page faults included) must not happen on the path
        // from a stop signal to its forwarding.
        let _ = Instant::now();
        loop {
            if let Some(deadline) = self.machine.deadline() {
                let now = Instant::now();
                let ready =
                    now < deadline && sys::poll_readable(self.sfd.as_raw_fd(), ms_until(deadline, now)).unwrap_or(true);
                if !ready {
                    if let Some(code) = self.handle(Event::Deadline) {
                        return code;
                    }
                    continue;
                }
            }
            let sigs = match sys::read_signals(self.sfd.as_raw_fd()) {
                Ok(sigs) => sigs,
                Err(e) => {
                    // Should never happen; degrade to blocking reaping rather than spin.
                    log::error!("cannot read signals: {}", errno_text(e));
                    if let Some(code) = self.reap(false) {
                        return code;
                    }
                    continue;
                }
            };
            for sig in sigs.iter().map(Signal::raw) {
                let done = if sig == signals::SIGCHLD { self.reap(true) } else { self.handle(Event::Signal(sig)) };
                if let Some(code) = done {
                    return code;
                }
            }
        }
    }

    /// Reap every child that has ended (signals coalesce: one SIGCHLD can
    /// stand for many exits), then tell the state machine what changed.
    fn reap(&mut self, nohang: bool) -> Option<i32> {
        let mut main_code = None;
        let mut none_left = false;
        let mut nohang = nohang;
        loop {
            match sys::wait_any(nohang) {
                Ok(Some((pid, status))) => {
                    let code = status.code();
                    if pid == self.child {
                        main_code = Some(code);
                        self.main_alive = false;
                        log::info!("main process {pid} exited with code {code}");
                    } else if self.warn_reaped {
                        log::warning!("reaped pid {pid} (code {code}), not the main process");
                    } else {
                        log::debug!("reaped pid {pid} (code {code})");
                    }
                    nohang = true;
                }
                Ok(None) => break,
                Err(Errno::ECHILD) => {
                    none_left = true;
                    break;
                }
                Err(e) => {
                    log::warning!("waitpid: {}", errno_text(e));
                    break;
                }
            }
        }
        match main_code {
            Some(code) => self.handle(Event::MainExited { code, others_left: !none_left }),
            None if none_left => self.handle(Event::NoneLeft),
            None => None,
        }
    }

    fn handle(&mut self, event: Event) -> Option<i32> {
        let had_deadline = self.machine.deadline().is_some();
        let actions = self.machine.step(event, Instant::now());
        if let (false, Event::Signal(sig)) = (had_deadline, event) {
            if self.machine.deadline().is_some() {
                log::info!("{} received: grace period of {} started", Name(sig), Shown(self.grace));
            }
        }
        for action in actions {
            if let Some(code) = self.act(action) {
                return Some(code);
            }
        }
        None
    }

    fn act(&mut self, action: Action) -> Option<i32> {
        match action {
            Action::Forward(sig) => self.forward(sig),
            Action::SignalLeftovers { sig, skip_child_group } => {
                let skip = skip_child_group.then_some(self.child);
                let n = Signal::new(sig).and_then(|sig| procs::signal_leftovers(sig, self.pid1, self.child, skip));
                log::info!(
                    "main process gone: waiting up to {} for the rest of the tree ({} sent to {} processes not yet \
                     signalled)",
                    Shown(self.grace),
                    Name(sig),
                    Count(n)
                );
            }
            Action::KillAll => {
                let n = procs::kill_all(self.pid1, self.child);
                log::warning!(
                    "grace period of {} is over: sent SIGKILL to {} remaining processes",
                    Shown(self.grace),
                    Count(n)
                );
            }
            Action::Exit(code) => {
                let code = if u8::try_from(code).is_ok_and(|c| self.success_codes.contains(&c)) { 0 } else { code };
                log::info!("exiting with code {code}");
                return Some(code);
            }
        }
        None
    }

    fn forward(&mut self, sig: i32) {
        // In child mode the pid may be reused once the child is reaped.
        if !self.group && !self.main_alive {
            return;
        }
        let Some(signal) = Signal::new(sig) else { return };
        let (to, what) = if self.group {
            (Recipient::Group(self.child), "process group")
        } else {
            (Recipient::Process(self.child), "pid")
        };
        match sys::kill(to, signal) {
            Ok(()) => log::info!("forwarded {} to {what} {}", Name(sig), self.child),
            Err(Errno::ESRCH) => log::debug!("{} not forwarded: {what} {} is gone", Name(sig), self.child),
            Err(e) => log::warning!("cannot forward {} to {what} {}: {}", Name(sig), self.child, errno_text(e)),
        }
    }
}

/// A process count for messages, `all` when /proc could not tell.
struct Count(Option<usize>);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("all"),
        }
    }
}
