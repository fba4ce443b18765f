//! The shutdown rules of contract section 2 as a pure state machine.
//!
//! The event loop turns syscalls into [`Event`]s and carries out the
//! [`Action`]s that [`Shutdown::step`] returns; every rule is unit-tested here
//! without a process in sight.
//!
//! Deadlines: without `--grace`, a stop signal sets none (the runtime's stop
//! timeout decides); when the main child exits on its own, the leftovers get
//! [`LEFTOVER_GRACE`]. `--grace` replaces both. `--stop-delay` holds the first
//! stop signal; the grace deadline starts when the delay ends.

use crate::config::Forward;
use crate::signals::{self, SignalMap};
use crate::sys::Signal;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// pidone received this signal.
    Signal(Signal),
    /// The main child was reaped with this exit code (0-255, 128+N for signals);
    /// `others_left` tells whether any other process is left to wait for:
    /// pidone's children or, as PID 1, any process of the namespace.
    MainExited { code: i32, others_left: bool },
    /// Nothing is left to wait for: no child, and as PID 1 no other process.
    NoneLeft,
    /// The pending deadline ([`Shutdown::deadline`]) has passed.
    Deadline,
}

/// Where a forwarded signal goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The main child's process group.
    Group,
    /// The main child only.
    Child,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send this (already mapped) signal to the main child or its group.
    Forward { sig: Signal, to: Route },
    /// The stop signal `sig` is held for `delay` (`--stop-delay`) before it
    /// is forwarded; nothing to send now.
    Hold { sig: Signal, delay: Duration },
    /// Send `sig` once to every remaining process that was not already sent
    /// the stop signal (`skip_child_group`: the child's group was), then
    /// SIGCONT so a stopped one can run its handler; one that holds a
    /// terminal of its own also gets SIGHUP, as from a closing terminal.
    SignalLeftovers { sig: Signal, skip_child_group: bool },
    /// SIGKILL every remaining process.
    KillAll,
    /// Exit pidone with this code.
    Exit(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The main child runs; no stop signal yet.
    Running,
    /// The stop signal `sig` (as received) is held until `until`.
    Delaying { sig: Signal, until: Instant },
    /// A stop signal was forwarded; the main child still runs.
    Stopping,
    /// The main child is gone; waiting for the rest.
    Draining,
    /// SIGKILL was sent; waiting for the kernel to finish the job.
    Killing,
}

/// The deadline of the leftovers when the main child exits on its own and
/// `--grace` is not set: a crashed app's stuck worker must not keep the
/// container alive.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(10);

/// How long pidone waits for SIGKILLed processes to be reaped before it exits
/// anyway (a process stuck in uninterruptible sleep cannot be waited for).
pub const KILL_WAIT: Duration = Duration::from_secs(2);

/// What the shutdown rules need from the configuration.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `--grace`; `None` when not set.
    pub grace: Option<Duration>,
    /// `--stop-delay`; zero forwards the first stop signal at once.
    pub stop_delay: Duration,
    pub map: SignalMap,
    pub forward: Forward,
}

#[derive(Debug, Clone)]
pub struct Shutdown {
    rules: Rules,
    phase: Phase,
    /// The grace deadline (or, while killing, the end of [`KILL_WAIT`]).
    deadline: Option<Instant>,
    /// The length of the grace deadline in force, for messages.
    window: Option<Duration>,
    /// The child's process group was forwarded a stop signal.
    group_stopped: bool,
    code: Option<i32>,
}

impl Shutdown {
    pub fn new(rules: Rules) -> Self {
        Shutdown { rules, phase: Phase::Running, deadline: None, window: None, group_stopped: false, code: None }
    }

    /// When the loop must wake up without a signal; `None` while idle and
    /// while draining with no deadline.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Delaying { until, .. } => Some(until),
            _ => self.deadline,
        }
    }

    /// A stop signal was forwarded and the main child still runs.
    pub fn stopping(&self) -> bool {
        self.phase == Phase::Stopping
    }

    /// The length of the grace deadline that runs (for messages).
    pub fn window(&self) -> Option<Duration> {
        self.window
    }

    pub fn step(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Signal(sig) => self.on_signal(sig, now),
            Event::MainExited { code, others_left } => self.on_main_exit(code, others_left, now),
            Event::NoneLeft => self.code.map(|c| vec![Action::Exit(c)]).unwrap_or_default(),
            Event::Deadline => self.on_deadline(now),
        }
    }

    /// Start the grace deadline of length `window` (none when `None`).
    fn start_deadline(&mut self, window: Option<Duration>, now: Instant) {
        self.window = window;
        // A deadline past what the clock can hold is no deadline.
        self.deadline = window.and_then(|w| now.checked_add(w));
    }

    /// `--forward`: where `sig` (already mapped) goes.
    fn route(&self, sig: Signal) -> Route {
        match self.rules.forward {
            Forward::Group => Route::Group,
            Forward::Child => Route::Child,
            Forward::Auto if signals::is_termination(sig) => Route::Group,
            Forward::Auto => Route::Child,
        }
    }

    /// Forward the received signal `sig` in its mapped form (nothing when
    /// `--map` drops it); a stop signal is followed by SIGCONT to the same target.
    fn forward(&mut self, sig: Signal) -> Vec<Action> {
        let Some(mapped) = self.rules.map.get(sig) else { return Vec::new() };
        let to = self.route(mapped);
        if to == Route::Child && self.code.is_some() {
            // The main child is gone: its pid may belong to another process now.
            return Vec::new();
        }
        let mut out = vec![Action::Forward { sig: mapped, to }];
        let stop = signals::is_termination(sig) || signals::is_termination(mapped);
        if stop && !matches!(mapped, Signal::CONT | Signal::KILL) {
            out.push(Action::Forward { sig: Signal::CONT, to });
        }
        if signals::is_termination(sig) && to == Route::Group {
            self.group_stopped = true;
        }
        out
    }

    /// Forward the stop signal `sig` now; the grace deadline starts.
    fn stop(&mut self, sig: Signal, now: Instant) -> Vec<Action> {
        self.phase = Phase::Stopping;
        self.start_deadline(self.rules.grace, now);
        self.forward(sig)
    }

    fn on_signal(&mut self, sig: Signal, now: Instant) -> Vec<Action> {
        if self.rules.map.get(sig).is_none() {
            return Vec::new();
        }
        if !signals::is_termination(sig) {
            return self.forward(sig);
        }
        match self.phase {
            Phase::Running => {
                let delay = self.rules.stop_delay;
                match now.checked_add(delay) {
                    Some(until) if !delay.is_zero() => {
                        self.phase = Phase::Delaying { sig, until };
                        vec![Action::Hold { sig, delay }]
                    }
                    _ => self.stop(sig, now),
                }
            }
            // A second stop signal ends the delay: it is forwarded at once.
            Phase::Delaying { .. } => self.stop(sig, now),
            // A second stop signal is forwarded too; the deadline stays.
            Phase::Stopping => self.forward(sig),
            // The main child is gone: leftovers already got their one SIGTERM.
            Phase::Draining | Phase::Killing => Vec::new(),
        }
    }

    fn on_main_exit(&mut self, code: i32, others_left: bool, now: Instant) -> Vec<Action> {
        self.code = Some(code);
        if !others_left {
            return vec![Action::Exit(code)];
        }
        match self.phase {
            // Everything was already SIGKILLed; keep waiting for the reaping.
            Phase::Killing => return Vec::new(),
            // Exited on its own: the leftovers get --grace, else LEFTOVER_GRACE.
            Phase::Running => self.start_deadline(Some(self.rules.grace.unwrap_or(LEFTOVER_GRACE)), now),
            // Exited while its stop signal was held: the delay ends here, and
            // the deadline is the one a forwarded stop signal would have set.
            Phase::Delaying { .. } => self.start_deadline(self.rules.grace, now),
            // The deadline of the stop signal stays.
            Phase::Stopping | Phase::Draining => {}
        }
        self.phase = Phase::Draining;
        if self.deadline.is_some_and(|d| d <= now) {
            return self.on_deadline(now);
        }
        let Some(term) = self.rules.map.get(Signal::TERM) else {
            // TERM is mapped to 0: leftovers get nothing until the SIGKILL.
            return Vec::new();
        };
        vec![Action::SignalLeftovers { sig: term, skip_child_group: self.group_stopped }]
    }

    fn on_deadline(&mut self, now: Instant) -> Vec<Action> {
        if let Phase::Delaying { sig, until } = self.phase {
            return if until <= now { self.stop(sig, now) } else { Vec::new() };
        }
        match self.deadline {
            Some(d) if d <= now => {}
            _ => return Vec::new(),
        }
        if self.phase == Phase::Killing {
            // The SIGKILLed processes did not all go away in time: give up on them.
            self.deadline = None;
            return vec![Action::Exit(self.code.unwrap_or(128 + Signal::KILL.raw()))];
        }
        self.phase = Phase::Killing;
        self.deadline = now.checked_add(KILL_WAIT);
        vec![Action::KillAll]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(8);
    const HUP: Signal = Signal::HUP;
    const INT: Signal = Signal::INT;
    const QUIT: Signal = Signal::QUIT;
    const USR1: Signal = Signal::USR1;
    const TERM: Signal = Signal::TERM;
    const CONT: Signal = Signal::CONT;

    fn rules(grace: Option<Duration>, forward: Forward) -> Rules {
        Rules { grace, stop_delay: Duration::ZERO, map: SignalMap::default(), forward }
    }

    fn with(rules: Rules) -> (Shutdown, Instant) {
        (Shutdown::new(rules), Instant::now())
    }

    /// `--grace 8s`, `--forward group`: the rules every deadline test shares.
    fn machine() -> (Shutdown, Instant) {
        with(rules(Some(GRACE), Forward::Group))
    }

    /// The defaults: no `--grace`, `--forward auto`.
    fn defaults() -> (Shutdown, Instant) {
        with(rules(None, Forward::Auto))
    }

    fn delayed(grace: Option<Duration>, delay: Duration) -> (Shutdown, Instant) {
        with(Rules { stop_delay: delay, ..rules(grace, Forward::Auto) })
    }

    fn fwd(sig: Signal, to: Route) -> Action {
        Action::Forward { sig, to }
    }

    /// A stop signal's forwarding: the signal, then SIGCONT, to the same target.
    fn stop_fwd(sig: Signal, to: Route) -> Vec<Action> {
        vec![fwd(sig, to), fwd(CONT, to)]
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    #[test]
    fn child_exit_with_nothing_left_exits_at_once() {
        let (mut s, t) = defaults();
        assert_eq!(s.step(Event::MainExited { code: 3, others_left: false }, t), vec![Action::Exit(3)]);
    }

    #[test]
    fn idle_has_no_deadline_and_plain_signals_only_forward() {
        let (mut s, t) = machine();
        assert_eq!(s.deadline(), None);
        assert_eq!(s.step(Event::Signal(USR1), t), vec![fwd(USR1, Route::Group)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn stop_signal_sets_no_deadline_by_default() {
        let (mut s, t) = defaults();
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Group));
        assert_eq!(s.deadline(), None, "the runtime's stop timeout decides");
        // The main child exits with others left: they get SIGTERM, still no deadline.
        let acts = s.step(Event::MainExited { code: 143, others_left: true }, t + secs(30));
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: true }]);
        assert_eq!(s.deadline(), None);
        assert_eq!(s.step(Event::Deadline, t + secs(3600)), vec![], "no deadline ever passes");
        assert_eq!(s.step(Event::NoneLeft, t + secs(3600)), vec![Action::Exit(143)]);
    }

    #[test]
    fn main_exit_on_its_own_gives_leftovers_ten_seconds_by_default() {
        let (mut s, t) = defaults();
        let acts = s.step(Event::MainExited { code: 1, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: false }]);
        assert_eq!(s.deadline(), Some(t + LEFTOVER_GRACE));
        assert_eq!(LEFTOVER_GRACE, secs(10));
        assert_eq!(s.step(Event::Deadline, t + secs(9)), vec![], "not yet due");
        assert_eq!(s.step(Event::Deadline, t + secs(10)), vec![Action::KillAll]);
        assert_eq!(s.step(Event::NoneLeft, t + secs(10)), vec![Action::Exit(1)]);
    }

    #[test]
    fn grace_applies_from_the_main_exit_when_there_was_no_stop_signal() {
        let (mut s, t) = with(rules(Some(secs(3)), Forward::Auto));
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.deadline(), Some(t + secs(3)), "--grace replaces the 10 s");
        assert_eq!(s.window(), Some(secs(3)));
        let (mut s, t) = with(rules(Some(secs(30)), Forward::Auto));
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.deadline(), Some(t + secs(30)), "also when longer than 10 s");
    }

    #[test]
    fn term_starts_the_grace_once_and_repeats_keep_the_deadline() {
        let (mut s, t) = machine();
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Group));
        assert_eq!(s.deadline(), Some(t + GRACE));
        let later = t + secs(3);
        assert_eq!(s.step(Event::Signal(TERM), later), stop_fwd(TERM, Route::Group));
        assert_eq!(s.step(Event::Signal(INT), later), stop_fwd(INT, Route::Group));
        assert_eq!(s.deadline(), Some(t + GRACE));
    }

    #[test]
    fn huge_grace_is_no_deadline_rather_than_an_overflow() {
        let (mut s, t) = with(rules(Some(Duration::MAX), Forward::Auto));
        s.step(Event::Signal(TERM), t);
        assert_eq!(s.deadline(), None);
        let (mut s, t) = delayed(None, Duration::MAX);
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Group), "an endless delay is none");
    }

    #[test]
    fn deadline_while_child_runs_kills_everything_then_exit_code_is_the_childs() {
        let (mut s, t) = machine();
        s.step(Event::Signal(TERM), t);
        assert_eq!(s.step(Event::Deadline, t + secs(1)), vec![], "not yet due");
        assert_eq!(s.step(Event::Deadline, t + GRACE), vec![Action::KillAll]);
        assert_eq!(s.step(Event::MainExited { code: 137, others_left: false }, t + GRACE), vec![Action::Exit(137)]);
    }

    #[test]
    fn leftovers_get_term_once_after_main_exit_and_exit_early_when_gone() {
        let (mut s, t) = machine();
        let acts = s.step(Event::MainExited { code: 5, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: false }]);
        assert_eq!(s.deadline(), Some(t + GRACE));
        assert_eq!(s.step(Event::NoneLeft, t + ms(500)), vec![Action::Exit(5)]);
    }

    #[test]
    fn namespace_leftovers_keep_pidone_until_gone_or_the_deadline() {
        // As PID 1, `others_left` also counts processes pidone did not start
        // (docker exec): main exit with no child left still drains them.
        let (mut s, t) = defaults();
        let acts = s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: false }]);
        assert_eq!(s.step(Event::NoneLeft, t + secs(2)), vec![Action::Exit(0)], "gone: exit at once");
        let (mut s, t) = defaults();
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.step(Event::Deadline, t + LEFTOVER_GRACE), vec![Action::KillAll], "or the deadline");
        // After a stop signal without --grace: no deadline, only their exit ends the wait.
        let (mut s, t) = defaults();
        s.step(Event::Signal(TERM), t);
        s.step(Event::MainExited { code: 143, others_left: true }, t);
        assert_eq!(s.deadline(), None);
        assert_eq!(s.step(Event::NoneLeft, t + secs(100)), vec![Action::Exit(143)]);
    }

    #[test]
    fn group_that_got_term_is_not_signalled_again() {
        let (mut s, t) = machine();
        s.step(Event::Signal(TERM), t);
        let acts = s.step(Event::MainExited { code: 143, others_left: true }, t + ms(10));
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: true }]);
        assert_eq!(s.deadline(), Some(t + GRACE), "the deadline of the signal stays");
    }

    #[test]
    fn child_mode_signals_every_leftover() {
        let (mut s, t) = with(rules(Some(GRACE), Forward::Child));
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Child));
        let acts = s.step(Event::MainExited { code: 143, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: false }]);
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
        assert_eq!(s.window(), Some(GRACE), "messages still name the grace");
        assert_eq!(s.step(Event::Deadline, t + GRACE + KILL_WAIT), vec![Action::Exit(5)]);
    }

    #[test]
    fn mapped_term_reaches_leftovers_and_dropped_signal_starts_nothing() {
        let mut map = SignalMap::default();
        map.add("TERM:QUIT").unwrap();
        map.add("INT:0").unwrap();
        let (mut s, t) = with(Rules { map, ..rules(Some(GRACE), Forward::Group) });
        assert_eq!(s.step(Event::Signal(INT), t), vec![]);
        assert_eq!(s.deadline(), None, "a dropped INT does not start the grace");
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(QUIT, Route::Group));
        let acts = s.step(Event::MainExited { code: 131, others_left: true }, t);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: QUIT, skip_child_group: true }]);
    }

    #[test]
    fn term_mapped_to_zero_leaves_leftovers_to_the_deadline() {
        let mut map = SignalMap::default();
        map.add("TERM:0").unwrap();
        let (mut s, t) = with(Rules { map, ..rules(Some(GRACE), Forward::Group) });
        assert_eq!(s.step(Event::MainExited { code: 0, others_left: true }, t), vec![]);
        assert_eq!(s.step(Event::Deadline, t + GRACE), vec![Action::KillAll]);
    }

    #[test]
    fn termination_signal_while_draining_is_not_forwarded_again() {
        let (mut s, t) = machine();
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.step(Event::Signal(TERM), t), vec![]);
        assert_eq!(s.step(Event::Signal(HUP), t), vec![fwd(HUP, Route::Group)], "group mode: the group may live on");
        assert_eq!(s.deadline(), Some(t + GRACE));
        // In auto mode HUP goes to the main child, which is gone (its pid may be reused).
        let (mut s, t) = defaults();
        s.step(Event::MainExited { code: 0, others_left: true }, t);
        assert_eq!(s.step(Event::Signal(HUP), t), vec![]);
    }

    #[test]
    fn zero_grace_kills_at_once_after_main_exit() {
        let (mut s, t) = with(rules(Some(Duration::ZERO), Forward::Group));
        assert_eq!(s.step(Event::MainExited { code: 0, others_left: true }, t), vec![Action::KillAll]);
    }

    #[test]
    fn forward_auto_sends_stop_signals_to_the_group_and_others_to_the_child() {
        let (mut s, t) = defaults();
        for sig in [HUP, USR1, Signal::USR2, Signal::TTIN, Signal::WINCH, Signal::new(35).unwrap()] {
            assert_eq!(s.step(Event::Signal(sig), t), vec![fwd(sig, Route::Child)], "{sig:?}");
        }
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Group));
        assert_eq!(s.step(Event::Signal(INT), t), stop_fwd(INT, Route::Group));
        assert_eq!(s.step(Event::Signal(QUIT), t), stop_fwd(QUIT, Route::Group));
    }

    #[test]
    fn forward_auto_routes_by_the_signal_after_map() {
        let mut map = SignalMap::default();
        map.add("HUP:QUIT").unwrap();
        map.add("TERM:USR1").unwrap();
        let (mut s, t) = with(Rules { map, ..rules(None, Forward::Auto) });
        // HUP forwarded as QUIT: a stop signal, so the group, with SIGCONT.
        assert_eq!(s.step(Event::Signal(HUP), t), stop_fwd(QUIT, Route::Group));
        // TERM forwarded as USR1: the main child only (still the shutdown, with SIGCONT).
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(USR1, Route::Child));
    }

    #[test]
    fn group_and_child_modes_keep_their_meaning_for_every_signal() {
        let (mut s, t) = with(rules(None, Forward::Group));
        assert_eq!(s.step(Event::Signal(HUP), t), vec![fwd(HUP, Route::Group)]);
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Group));
        let (mut s, t) = with(rules(None, Forward::Child));
        assert_eq!(s.step(Event::Signal(HUP), t), vec![fwd(HUP, Route::Child)]);
        assert_eq!(s.step(Event::Signal(TERM), t), stop_fwd(TERM, Route::Child));
    }

    #[test]
    fn sigcont_follows_each_forwarded_stop_signal_but_not_kill_or_cont() {
        let (mut s, t) = defaults();
        assert_eq!(s.step(Event::Signal(CONT), t), vec![fwd(CONT, Route::Child)], "a plain CONT is just forwarded");
        let mut map = SignalMap::default();
        map.add("TERM:KILL").unwrap();
        map.add("INT:CONT").unwrap();
        let (mut s, t) = with(Rules { map, ..rules(None, Forward::Auto) });
        assert_eq!(s.step(Event::Signal(TERM), t), vec![fwd(Signal::KILL, Route::Child)]);
        assert_eq!(s.step(Event::Signal(INT), t), vec![fwd(CONT, Route::Child)]);
    }

    #[test]
    fn stop_delay_holds_the_first_stop_signal_then_the_grace_starts() {
        let (mut s, t) = delayed(Some(secs(5)), secs(2));
        assert_eq!(s.step(Event::Signal(TERM), t), vec![Action::Hold { sig: TERM, delay: secs(2) }]);
        assert_eq!(s.deadline(), Some(t + secs(2)), "wake up when the delay ends");
        assert_eq!(s.step(Event::Signal(HUP), t + secs(1)), vec![fwd(HUP, Route::Child)], "others pass");
        assert_eq!(s.step(Event::Deadline, t + secs(1)), vec![], "not yet");
        assert_eq!(s.step(Event::Deadline, t + secs(2)), stop_fwd(TERM, Route::Group));
        assert_eq!(s.deadline(), Some(t + secs(7)), "the grace starts when the delay ends");
        // Without --grace the delay ends with no deadline.
        let (mut s, t) = delayed(None, secs(2));
        s.step(Event::Signal(TERM), t);
        assert_eq!(s.step(Event::Deadline, t + secs(2)), stop_fwd(TERM, Route::Group));
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn stop_delay_forwards_the_mapped_signal() {
        let mut map = SignalMap::default();
        map.add("TERM:QUIT").unwrap();
        let (mut s, t) = with(Rules { map, stop_delay: secs(1), ..rules(None, Forward::Auto) });
        assert_eq!(s.step(Event::Signal(TERM), t), vec![Action::Hold { sig: TERM, delay: secs(1) }]);
        assert_eq!(s.step(Event::Deadline, t + secs(1)), stop_fwd(QUIT, Route::Group));
    }

    #[test]
    fn second_stop_signal_during_the_delay_forwards_at_once() {
        let (mut s, t) = delayed(Some(secs(5)), secs(2));
        s.step(Event::Signal(TERM), t);
        let second = t + ms(500);
        assert_eq!(s.step(Event::Signal(INT), second), stop_fwd(INT, Route::Group));
        assert_eq!(s.deadline(), Some(second + secs(5)), "the grace starts with the forwarding");
        assert_eq!(s.step(Event::Deadline, t + secs(2)), vec![], "the delay's end is no event any more");
    }

    #[test]
    fn main_exit_during_the_delay_starts_the_drain() {
        let (mut s, t) = delayed(Some(secs(5)), secs(2));
        s.step(Event::Signal(TERM), t);
        let exit = t + ms(300);
        let acts = s.step(Event::MainExited { code: 0, others_left: true }, exit);
        assert_eq!(acts, vec![Action::SignalLeftovers { sig: TERM, skip_child_group: false }]);
        assert_eq!(s.deadline(), Some(exit + secs(5)));
        assert_eq!(s.step(Event::Deadline, t + secs(2)), vec![], "nothing is forwarded at the delay's end");
        assert_eq!(s.step(Event::NoneLeft, t + secs(3)), vec![Action::Exit(0)]);
        // Without --grace: a stop signal came, so no deadline of pidone's own.
        let (mut s, t) = delayed(None, secs(2));
        s.step(Event::Signal(TERM), t);
        s.step(Event::MainExited { code: 0, others_left: true }, t + ms(300));
        assert_eq!(s.deadline(), None);
        // Nothing left: exit at once.
        let (mut s, t) = delayed(None, secs(2));
        s.step(Event::Signal(TERM), t);
        assert_eq!(s.step(Event::MainExited { code: 4, others_left: false }, t), vec![Action::Exit(4)]);
    }
}
