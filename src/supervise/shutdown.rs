//! The shutdown rules of contract section 2 as a pure state machine.
//!
//! The event loop turns syscalls into [`Event`]s and carries out the
//! [`Action`]s that [`Shutdown::step`] returns; every rule is unit-tested here
//! without a process in sight.

use crate::signals::{self, SignalMap};
use crate::time::later;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// pidone received this signal.
    Signal(i32),
    /// The main child was reaped with this exit code (0-255, 128+N for signals);
    /// `others_left` tells whether pidone still has children to wait for.
    MainExited { code: i32, others_left: bool },
    /// waitpid reported that pidone has no child left at all.
    NoneLeft,
    /// The pending deadline ([`Shutdown::deadline`]) has passed.
    Deadline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Forward this (already mapped) signal to the child or its group.
    Forward(i32),
    /// Send this signal once to every remaining process that was not already
    /// sent the termination signal (`skip_child_group`: the child's group was).
    SignalLeftovers { sig: i32, skip_child_group: bool },
    /// SIGKILL every remaining process.
    KillAll,
    /// Exit pidone with this code.
    Exit(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The main child runs; no termination signal yet.
    Running,
    /// A termination signal was forwarded; the main child still runs.
    Stopping,
    /// The main child is gone; waiting for the rest of the tree.
    Draining,
    /// SIGKILL was sent; waiting for the kernel to finish the job.
    Killing,
}

/// How long pidone waits for SIGKILLed processes to be reaped before it exits
/// anyway (a process stuck in uninterruptible sleep cannot be waited for).
pub const KILL_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Shutdown {
    grace: Duration,
    map: SignalMap,
    group: bool,
    phase: Phase,
    deadline: Option<Instant>,
    /// The child (or its group) was forwarded a termination signal.
    term_forwarded: bool,
    code: Option<i32>,
}

impl Shutdown {
    pub fn new(grace: Duration, map: SignalMap, group: bool) -> Self {
        Shutdown { grace, map, group, phase: Phase::Running, deadline: None, term_forwarded: false, code: None }
    }

    /// When the loop must wake up without a signal; `None` while idle.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn step(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Signal(sig) => self.on_signal(sig, now),
            Event::MainExited { code, others_left } => self.on_main_exit(code, others_left, now),
            Event::NoneLeft => self.code.map(|c| vec![Action::Exit(c)]).unwrap_or_default(),
            Event::Deadline => self.on_deadline(now),
        }
    }

    fn on_signal(&mut self, sig: i32, now: Instant) -> Vec<Action> {
        let mapped = self.map.get(sig);
        if mapped == 0 {
            return Vec::new();
        }
        let mut out = vec![Action::Forward(mapped)];
        if signals::is_termination(sig) {
            match self.phase {
                Phase::Running => {
                    self.phase = Phase::Stopping;
                    self.deadline = Some(later(now, self.grace));
                    self.term_forwarded = true;
                }
                // A second termination signal is forwarded too; the deadline stays.
                Phase::Stopping => {}
                // The main child is gone: leftovers already got their one SIGTERM.
                Phase::Draining | Phase::Killing => out.clear(),
            }
        }
        out
    }

    fn on_main_exit(&mut self, code: i32, others_left: bool, now: Instant) -> Vec<Action> {
        self.code = Some(code);
        if !others_left {
            return vec![Action::Exit(code)];
        }
        if self.phase == Phase::Killing {
            // Everything was already SIGKILLed; keep waiting for the reaping.
            return Vec::new();
        }
        self.phase = Phase::Draining;
        let deadline = *self.deadline.get_or_insert(later(now, self.grace));
        if deadline <= now {
            return self.on_deadline(now);
        }
        let term = self.map.get(signals::SIGTERM);
        if term == 0 {
            // TERM is mapped to 0: leftovers get nothing until the SIGKILL.
            return Vec::new();
        }
        vec![Action::SignalLeftovers { sig: term, skip_child_group: self.term_forwarded && self.group }]
    }

    fn on_deadline(&mut self, now: Instant) -> Vec<Action> {
        match self.deadline {
            Some(d) if d <= now => {}
            _ => return Vec::new(),
        }
        if self.phase == Phase::Killing {
            // The SIGKILLed processes did not all go away in time: give up on them.
            self.deadline = None;
            return vec![Action::Exit(self.code.unwrap_or(128 + signals::SIGKILL))];
        }
        self.phase = Phase::Killing;
        self.deadline = Some(later(now, KILL_WAIT));
        vec![Action::KillAll]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(8);

    fn machine() -> (Shutdown, Instant) {
        (Shutdown::new(GRACE, SignalMap::default(), true), Instant::now())
    }

    #[test]
    fn child_exit_with_nothing_left_exits_at_once() {
        let (mut s, t) = machine();
        assert_eq!(s.step(Event::MainExited { code: 3, others_left: false }, t), vec![Action::Exit(3)]);
    }

    #[test]
    fn idle_has_no_deadline_and_plain_signals_only_forward() {
        let (mut s, t) = machine();
        assert_eq!(s.deadline(), None);
        assert_eq!(s.step(Event::Signal(10), t), vec![Action::Forward(10)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn term_starts_the_grace_once_and_repeats_keep_the_deadline() {
        let (mut s, t) = machine();
        assert_eq!(s.step(Event::Signal(15), t), vec![Action::Forward(15)]);
        assert_eq!(s.deadline(), Some(t + GRACE));
        let later = t + Duration::from_secs(3);
        assert_eq!(s.step(Event::Signal(15), later), vec![Action::Forward(15)]);
        assert_eq!(s.step(Event::Signal(2), later), vec![Action::Forward(2)]);
        assert_eq!(s.deadline(), Some(t + GRACE));
    }

    #[test]
    fn deadline_while_child_runs_kills_everything_then_exit_code_is_the_childs() {
        let (mut s, t) = machine();
        s.step(Event::Signal(15), t);
        assert_eq!(s.step(Event::Deadline, t + Duration::from_secs(1)), vec![], "not yet due");
        assert_eq!(s.step(Event::Deadline, t + GRACE), vec![Action::KillAll]);
        assert_eq!(s.step(Event::MainExited { code: 137, others_left: false }, t + GRACE), vec![Action::Exit(137)]);
    }

    #[test]
    fn leftovers_get_term_once_after_main_exit_and_exit_early_when_gone() {
        let (mut s, t) = machine();
        let acts = s.step(Event::MainExited { code: 5, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: 15, skip_child_group: false }]);
        assert_eq!(s.deadline(), Some(t + GRACE));
        assert_eq!(s.step(Event::NoneLeft, t + Duration::from_millis(500)), vec![Action::Exit(5)]);
    }

    #[test]
    fn group_that_got_term_is_not_signalled_again() {
        let (mut s, t) = machine();
        s.step(Event::Signal(15), t);
        let acts = s.step(Event::MainExited { code: 143, others_left: true }, t + Duration::from_millis(10));
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: 15, skip_child_group: true }]);
        assert_eq!(s.deadline(), Some(t + GRACE), "the deadline of the signal stays");
    }

    #[test]
    fn child_mode_signals_every_leftover() {
        let mut s = Shutdown::new(GRACE, SignalMap::default(), false);
        let t = Instant::now();
        s.step(Event::Signal(15), t);
        let acts = s.step(Event::MainExited { code: 143, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: 15, skip_child_group: false }]);
    }

    #[test]
    fn stubborn_leftover_is_killed_at_deadline_and_code_stays_the_mains() {
        let (mut s, t) = machine();
        s.step(Event::MainExited { code: 5, others_left: true }, t);
        assert_eq!(s.step(Event::Deadline, t + GRACE), vec![Action::KillAll]);
        assert_eq!(s.step(Event::NoneLeft, t + GRACE), vec![Action::Exit(5)]);
    }

    #[test]
    fn unreapable_after_kill_gives_up_after_kill_wait() {
        let (mut s, t) = machine();
        s.step(Event::MainExited { code: 5, others_left: true }, t);
        s.step(Event::Deadline, t + GRACE);
        assert_eq!(s.deadline(), Some(t + GRACE + KILL_WAIT));
        assert_eq!(s.step(Event::Deadline, t + GRACE + KILL_WAIT), vec![Action::Exit(5)]);
    }

    #[test]
    fn mapped_term_reaches_leftovers_and_dropped_signal_starts_nothing() {
        let mut map = SignalMap::default();
        map.add("TERM:QUIT").unwrap();
        map.add("INT:0").unwrap();
        let mut s = Shutdown::new(GRACE, map, true);
        let t = Instant::now();
        assert_eq!(s.step(Event::Signal(2), t), vec![]);
        assert_eq!(s.deadline(), None, "a dropped INT does not start the grace");
        assert_eq!(s.step(Event::Signal(15), t), vec![Action::Forward(3)]);
        let acts = s.step(Event::MainExited { code: 131, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: 3, skip_child_group: true }]);
    }

    #[test]
    fn term_mapped_to_zero_leaves_leftovers_to_the_deadline() {
        let mut map = SignalMap::default();
        map.add("TERM:0").unwrap();
        let mut s = Shutdown::new(GRACE, map, true);
        let t = Instant::now();
        assert_eq!(s.step(Event::MainExited { code: 0, others_left: true }, t), vec![]);
        assert_eq!(s.step(Event::Deadline, t + GRACE), vec![Action::KillAll]);
    }

    #[test]
    fn termination_signal_while_draining_is_not_forwarded_again() {
        let (mut s, t) = machine();
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.step(Event::Signal(15), t), vec![]);
        assert_eq!(s.step(Event::Signal(1), t), vec![Action::Forward(1)]);
        assert_eq!(s.deadline(), Some(t + GRACE));
    }

    #[test]
    fn zero_grace_kills_at_once_after_main_exit() {
        let mut s = Shutdown::new(Duration::ZERO, SignalMap::default(), true);
        let t = Instant::now();
        assert_eq!(s.step(Event::MainExited { code: 0, others_left: true }, t), vec![Action::KillAll]);
    }
}
