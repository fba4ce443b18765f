//! Run mode's supervision: the signal loop over the child pidone spawned.
//!
//! `cmd::run` sets the stage (signals blocked, environment, privileges,
//! dependencies), [`spawn`]s the command and hands the child to a
//! [`Supervisor`]. The loop blocks in `read(signalfd)` with no timeout while
//! idle; only a pending deadline (the grace, the stop delay) or, while draining
//! as PID 1, processes pidone did not start (watched by pidfds) turn that into
//! a `poll`. What to do on each event is decided by the pure [`Shutdown`]
//! machine.

mod procs;
mod shutdown;
mod spawn;

pub use procs::parse_stat;
pub use shutdown::{Action, Event, Route, Rules, Shutdown};
pub use spawn::spawn;

use crate::config::SuperviseOpts;
use crate::error::errno_text;
use crate::log::{self, Shown};
use crate::signals::Name;
use crate::sys::{self, Errno, Pid, PollSet, Recipient, Signal};
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The running command and what pidone does with its signals and its exit.
pub struct Supervisor {
    sfd: OwnedFd,
    child: Pid,
    /// The main child was reaped: pidone drains what is left.
    main_gone: bool,
    pid1: bool,
    warn_reaped: bool,
    success_codes: Vec<u8>,
    machine: Shutdown,
    /// As PID 1 while draining: the processes pidone did not start.
    watch: procs::Watch,
}

/// How often a drain rescans /proc for processes it could not get a pidfd
/// for (only then, and only while draining: an idle pidone never wakes up).
const RESCAN: Duration = Duration::from_millis(100);

impl Supervisor {
    /// Supervise `child`, spawned by pidone; `sfd` is the signalfd of every
    /// supervised signal, `pid1` whether pidone is the namespace's init.
    pub fn new(sfd: OwnedFd, child: Pid, pid1: bool, opts: SuperviseOpts) -> Supervisor {
        let rules = Rules { grace: opts.grace, stop_delay: opts.stop_delay, map: opts.map, forward: opts.forward };
        Supervisor {
            sfd,
            child,
            main_gone: false,
            pid1,
            warn_reaped: opts.warn_reaped,
            success_codes: opts.success_codes,
            machine: Shutdown::new(rules),
            watch: procs::Watch::default(),
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
            if !self.wait_for_signals() {
                // Woken by the deadline, the rescan timer or a watched exit.
                if let Some(code) = self.handle(Event::Deadline) {
                    return code;
                }
                self.watch.prune();
                if let Some(code) = self.reap(true) {
                    return code;
                }
                continue;
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
            for sig in sigs.from_others() {
                let done = if sig == Signal::CHLD { self.reap(true) } else { self.handle(Event::Signal(sig)) };
                if let Some(code) = done {
                    return code;
                }
            }
        }
    }

    /// Wait until a signal is pending (true) or something else needs a look
    /// (false): the machine's deadline, a watched process's exit, or the
    /// rescan timer. With none of those, the signalfd read blocks on its own.
    fn wait_for_signals(&mut self) -> bool {
        let now = Instant::now();
        let rescan = self.watch.blind().then(|| crate::time::later(now, RESCAN));
        let wake = match (self.machine.deadline(), rescan) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if wake.is_none() && self.watch.is_empty() {
            return true;
        }
        if wake.is_some_and(|w| w <= now) {
            return false;
        }
        let timeout = wake.map_or(-1, |w| crate::time::poll_ms(w.saturating_duration_since(now)));
        let mut set = PollSet::readable(std::iter::once(self.sfd.as_raw_fd()).chain(self.watch.fds()));
        match set.poll(timeout) {
            Ok(0) => false,
            // A watched process exited: look at it first, then the signals.
            Ok(_) => set.ready(0) && (1..set.len()).all(|i| !set.ready(i)),
            // Should never happen: read the signalfd, which blocks, rather than spin.
            Err(e) => {
                log::warning!("poll: {}", errno_text(e));
                true
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
                        self.main_gone = true;
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
            Some(code) => {
                let others_left = !none_left || self.strangers_left();
                self.handle(Event::MainExited { code, others_left })
            }
            None if self.main_gone && none_left && !self.strangers_left() => self.handle(Event::NoneLeft),
            None => None,
        }
    }

    /// As PID 1 with no child left: whether the namespace still holds
    /// processes pidone did not start, which it then watches by pidfd. A
    /// subreaper has only descendants, and they are all waited for.
    fn strangers_left(&mut self) -> bool {
        if !self.pid1 {
            return false;
        }
        let Some(list) = procs::scan() else {
            log::debug!("/proc unusable: cannot see processes pidone did not start");
            self.watch.clear();
            return false;
        };
        let others = procs::targets(&list, Pid::own().raw(), true, None);
        self.watch.refresh(&others);
        !others.is_empty()
    }

    fn handle(&mut self, event: Event) -> Option<i32> {
        let was_stopping = self.machine.stopping();
        let actions = self.machine.step(event, Instant::now());
        if !was_stopping && self.machine.stopping() {
            let what = Started(event);
            match self.machine.window() {
                Some(grace) => log::info!("{what}: grace period of {} started", Shown(grace)),
                None => {
                    log::info!("{what}: no deadline of pidone's own (no --grace): the runtime's stop timeout applies")
                }
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
            Action::Forward { sig, to } => self.forward(sig, to),
            Action::Hold { sig, delay } => {
                log::info!(
                    "{} received: holding it for {} (--stop-delay) before forwarding it",
                    Name(sig),
                    Shown(delay)
                );
            }
            Action::SignalLeftovers { sig, skip_child_group } => {
                let skip = skip_child_group.then_some(self.child);
                let done = procs::signal_leftovers(sig, self.pid1, self.child, skip);
                let now = Instant::now();
                let (left, sent) = (remaining(done.left), Count(done.sent));
                match self.machine.deadline() {
                    Some(d) => log::info!(
                        "main process gone: waiting up to {} for {left} ({} sent now to {sent} of them)",
                        Shown(d.saturating_duration_since(now)),
                        Name(sig),
                    ),
                    None => log::info!(
                        "main process gone: waiting with no deadline for {left} ({} sent now to {sent} of them)",
                        Name(sig),
                    ),
                }
                if let Some(pid) = done.first_denied {
                    log::warning!(
                        "cannot send {} to {} (pid {pid} among them): {}; waiting for them all the same",
                        Name(sig),
                        processes(Some(done.denied)),
                        errno_text(Errno::EPERM)
                    );
                }
            }
            Action::KillAll => {
                let n = procs::kill_all(self.pid1, self.child);
                let grace = self.machine.window().unwrap_or_default();
                log::warning!("grace period of {} is over: sent SIGKILL to {}", Shown(grace), remaining(n));
            }
            Action::Exit(code) => {
                let code = if u8::try_from(code).is_ok_and(|c| self.success_codes.contains(&c)) { 0 } else { code };
                log::info!("exiting with code {code}");
                return Some(code);
            }
        }
        None
    }

    fn forward(&mut self, sig: Signal, to: Route) {
        let (target, what) = match to {
            Route::Group => (Recipient::Group(self.child), "process group"),
            Route::Child => (Recipient::Process(self.child), "pid"),
        };
        match sys::kill(target, sig) {
            Ok(()) => log::info!("forwarded {} to {what} {}", Name(sig), self.child),
            Err(Errno::ESRCH) => log::debug!("{} not forwarded: {what} {} is gone", Name(sig), self.child),
            Err(e) => log::warning!("cannot forward {} to {what} {}: {}", Name(sig), self.child, errno_text(e)),
        }
    }
}

/// What started the stop: `SIGTERM received`, or the end of the stop delay.
struct Started(Event);

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Event::Signal(sig) => write!(f, "{} received", Name(sig)),
            _ => f.write_str("stop delay over"),
        }
    }
}

/// A number of processes for messages: `1 process`, `2 processes`, or
/// `all processes` when /proc could not tell; with `what`, `1 remaining
/// process` and so on.
struct Processes {
    count: Option<usize>,
    what: &'static str,
}

/// `1 process`, `2 processes`, `all processes`.
fn processes(count: Option<usize>) -> Processes {
    Processes { count, what: "" }
}

/// `1 remaining process`, `2 remaining processes`, `all remaining processes`.
fn remaining(count: Option<usize>) -> Processes {
    Processes { count, what: "remaining " }
}

impl fmt::Display for Processes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.what;
        match self.count {
            Some(1) => write!(f, "1 {what}process"),
            Some(n) => write!(f, "{n} {what}processes"),
            None => write!(f, "all {what}processes"),
        }
    }
}

/// A bare count, `all` when /proc could not tell.
struct Count(Option<usize>);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("all"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_counts_are_pluralised() {
        assert_eq!(processes(Some(1)).to_string(), "1 process");
        assert_eq!(processes(Some(0)).to_string(), "0 processes");
        assert_eq!(processes(Some(2)).to_string(), "2 processes");
        assert_eq!(processes(None).to_string(), "all processes");
        assert_eq!(remaining(Some(1)).to_string(), "1 remaining process");
        assert_eq!(remaining(Some(3)).to_string(), "3 remaining processes");
        assert_eq!(remaining(None).to_string(), "all remaining processes");
        assert_eq!(Count(Some(2)).to_string(), "2");
        assert_eq!(Count(None).to_string(), "all");
    }
}
