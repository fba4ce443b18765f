//! Signals at the kernel's boundary: numbers, 64-bit masks, the signalfd.
//! Sending one (kill(2)) is in `process`, beside the pids it goes to.
//!
//! Signal masks go to the kernel as raw 64-bit sets through the raw syscalls:
//! libc wrappers filter the signals they reserve for themselves (musl hides
//! 32-34 from `sigprocmask`'s old mask), and pidone must hand the child exactly
//! the mask it inherited.

use nix::errno::Errno;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The highest signal number the kernel knows on the supported targets.
const MAX: i32 = 64;

/// A signal number the kernel knows: 1 to 64 (the same on x86_64 and aarch64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(u8);

impl Signal {
    // The standard signals by the kernel's numbers; 32 to 64 are real-time.
    pub const HUP: Signal = Signal(1);
    pub const INT: Signal = Signal(2);
    pub const QUIT: Signal = Signal(3);
    pub const ILL: Signal = Signal(4);
    pub const TRAP: Signal = Signal(5);
    pub const ABRT: Signal = Signal(6);
    pub const BUS: Signal = Signal(7);
    pub const FPE: Signal = Signal(8);
    pub const KILL: Signal = Signal(9);
    pub const USR1: Signal = Signal(10);
    pub const SEGV: Signal = Signal(11);
    pub const USR2: Signal = Signal(12);
    pub const PIPE: Signal = Signal(13);
    pub const ALRM: Signal = Signal(14);
    pub const TERM: Signal = Signal(15);
    pub const STKFLT: Signal = Signal(16);
    pub const CHLD: Signal = Signal(17);
    pub const CONT: Signal = Signal(18);
    pub const STOP: Signal = Signal(19);
    pub const TSTP: Signal = Signal(20);
    pub const TTIN: Signal = Signal(21);
    pub const TTOU: Signal = Signal(22);
    pub const URG: Signal = Signal(23);
    pub const XCPU: Signal = Signal(24);
    pub const XFSZ: Signal = Signal(25);
    pub const VTALRM: Signal = Signal(26);
    pub const PROF: Signal = Signal(27);
    pub const WINCH: Signal = Signal(28);
    pub const IO: Signal = Signal(29);
    pub const PWR: Signal = Signal(30);
    pub const SYS: Signal = Signal(31);

    /// `n` as a signal, or `None` outside 1..=64 (0 is "no signal").
    pub fn new(n: i32) -> Option<Signal> {
        if (1..=MAX).contains(&n) { u8::try_from(n).ok().map(Signal) } else { None }
    }

    /// Every signal, 1 to 64 in order.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=MAX).filter_map(Signal::new)
    }

    pub fn raw(self) -> i32 {
        i32::from(self.0)
    }

    /// This signal's bit in a kernel mask: bit N-1 stands for signal N.
    fn bit(self) -> u64 {
        1u64 << (self.0 - 1)
    }
}

/// A set of signals as the kernel's 64-bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigSet(u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    pub const ALL: SigSet = SigSet(u64::MAX);

    pub fn with(self, sig: Signal) -> SigSet {
        SigSet(self.0 | sig.bit())
    }

    pub fn without(self, sig: Signal) -> SigSet {
        SigSet(self.0 & !sig.bit())
    }

    pub fn contains(self, sig: Signal) -> bool {
        self.0 & sig.bit() != 0
    }
}

/// rt_sigprocmask(2) on the calling thread; returns the previous mask.
fn sigprocmask(how: libc::c_int, set: SigSet) -> Result<SigSet, Errno> {
    let new = set.0;
    let mut old: u64 = 0;
    // SAFETY: both pointers refer to live 8-byte buffers, and 8 is the
    // kernel's sigset size on every supported target.
    let rc = unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how, &new as *const u64, &mut old as *mut u64, 8usize) };
    if rc < 0 { Err(Errno::last()) } else { Ok(SigSet(old)) }
}

/// Add `set` to the blocked signals; returns the mask before.
pub fn block_signals(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(libc::SIG_BLOCK, set)
}

/// Make `set` the signal mask (async-signal-safe); returns the mask before.
pub fn set_signal_mask(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(libc::SIG_SETMASK, set)
}

/// A close-on-exec, blocking signalfd for `set`.
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    let mask = set.0;
    // SAFETY: the mask pointer refers to a live u64; -1 asks for a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_signalfd4, -1, &mask as *const u64, 8usize, libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(Errno::last());
    }
    let fd = RawFd::try_from(fd).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Up to [`BATCH`] signals read from a signalfd at once, in the order they came,
/// each with its sender.
#[derive(Debug, Default)]
pub struct Signals {
    /// (signal number, `ssi_pid`: the sender's pid as pidone sees it; 0 for
    /// the kernel and for senders outside pidone's PID namespace).
    got: [(u8, u32); BATCH],
    len: usize,
    /// pidone's own pid when the batch was read.
    own: u32,
}

impl Signals {
    /// The signals another process (or the kernel on another's behalf) sent.
    /// A signal whose sender is pidone itself is left out: the kernel raises
    /// SIGPIPE against a process that writes to a pipe or socket nobody
    /// reads, and SIGXFSZ against one that writes past RLIMIT_FSIZE, with the
    /// writer as sender (`send_sig`, SI_USER, `ssi_pid` = the writer). Such a
    /// signal says pidone's own log line was lost; it is never an event for
    /// the app, and nothing is logged about it (that write would raise it
    /// again).
    pub fn from_others(&self) -> impl Iterator<Item = Signal> + '_ {
        self.got.iter().take(self.len).filter(|&&(_, pid)| pid != self.own).map(|&(n, _)| Signal(n))
    }

    /// Decode `signalfd_siginfo` records; `own` is pidone's pid.
    fn parse(filled: &[u8], own: u32) -> Signals {
        const SZ: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut out = Signals { own, ..Signals::default() };
        // ssi_signo is at offset 0, ssi_pid at offset 12 (after ssi_errno and ssi_code).
        let field = |chunk: &[u8], at: usize| {
            chunk.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_ne_bytes)
        };
        for chunk in filled.chunks_exact(SZ) {
            let (Some(signo), Some(pid)) = (field(chunk, 0), field(chunk, 12)) else { continue };
            let Some(sig) = i32::try_from(signo).ok().and_then(Signal::new) else { continue };
            if let Some(slot) = out.got.get_mut(out.len) {
                *slot = (sig.0, pid);
                out.len += 1;
            }
        }
        out
    }
}

/// How many signals one read of the signalfd takes. Any more stay queued and
/// the descriptor stays readable, so the next read takes them. (A batch of 32,
/// 4 KiB, was a page of stack zeroed on every read.)
const BATCH: usize = 8;

/// Read pending signals from a signalfd (blocks if none), up to [`BATCH`].
pub fn read_signals(fd: RawFd) -> Result<Signals, Errno> {
    const SZ: usize = std::mem::size_of::<libc::signalfd_siginfo>();
    let mut buf = [0u8; SZ * BATCH];
    let n = loop {
        // SAFETY: buf is a live, writable buffer of the length passed.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if let Ok(n) = usize::try_from(n) {
            break n;
        }
        let e = Errno::last();
        if e != Errno::EINTR {
            return Err(e);
        }
    };
    let own = u32::try_from(super::Pid::own().raw()).unwrap_or(0);
    Ok(Signals::parse(buf.get(..n).unwrap_or(&[]), own))
}

/// sigaction(2) with a plain disposition (SIG_IGN or SIG_DFL) for every
/// signal of `set`; returns those whose disposition was SIG_DFL before
/// (async-signal-safe).
fn set_disposition(set: SigSet, handler: libc::sighandler_t) -> SigSet {
    let mut was_default = SigSet::EMPTY;
    for sig in Signal::all().filter(|&s| set.contains(s)) {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" action.
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = handler;
        // SAFETY: as above; the kernel writes the old action into it.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers refer to live sigaction structs; SIG_IGN and
        // SIG_DFL install no code of pidone's.
        if unsafe { libc::sigaction(sig.raw(), &new, &mut old) } == 0 && old.sa_sigaction == libc::SIG_DFL {
            was_default = was_default.with(sig);
        }
    }
    was_default
}

/// Ignore every signal of `set` in pidone; returns those that had their
/// default action (the ones a command must get back with [`set_default`]).
pub fn ignore(set: SigSet) -> SigSet {
    set_disposition(set, libc::SIG_IGN)
}

/// Give every signal of `set` its default action again (async-signal-safe).
pub fn set_default(set: SigSet) {
    set_disposition(set, libc::SIG_DFL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_1_to_64_and_sets_are_kernel_masks() {
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
        assert_eq!(Signal::new(-9), None);
        let (one, last) = (Signal::new(1).unwrap(), Signal::new(64).unwrap());
        let s = SigSet::EMPTY.with(one).with(last);
        assert_eq!(s.0, 1 | 1 << 63);
        assert!(s.contains(last) && !s.without(last).contains(last));
    }

    /// A signalfd_siginfo record: signal `signo` from `pid`.
    fn record(signo: u32, pid: u32) -> Vec<u8> {
        let mut r = vec![0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
        r[..4].copy_from_slice(&signo.to_ne_bytes());
        r[12..16].copy_from_slice(&pid.to_ne_bytes());
        r
    }

    #[test]
    fn signals_pidone_raised_against_itself_are_left_out() {
        let own = 1;
        let buf = [record(13, own), record(15, 0), record(13, 77), record(25, own), record(17, 42)].concat();
        let got: Vec<i32> = Signals::parse(&buf, own).from_others().map(Signal::raw).collect();
        assert_eq!(got, vec![15, 13, 17]);
        // A truncated record and signal 0 are skipped.
        let mut buf = [record(0, 5), record(10, 5)].concat();
        buf.extend_from_slice(&record(2, 5)[..20]);
        let got: Vec<i32> = Signals::parse(&buf, own).from_others().map(Signal::raw).collect();
        assert_eq!(got, vec![10]);
    }
}
