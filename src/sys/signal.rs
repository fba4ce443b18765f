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
    pub const HUP: Signal = Signal(1);
    pub const KILL: Signal = Signal(9);
    pub const CONT: Signal = Signal(18);

    /// `n` as a signal, or `None` outside 1..=64 (0 is "no signal").
    pub fn new(n: i32) -> Option<Signal> {
        if (1..=MAX).contains(&n) { u8::try_from(n).ok().map(Signal) } else { None }
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

/// Up to 32 signals read from a signalfd at once, in the order they came.
#[derive(Debug, Default)]
pub struct Signals {
    sigs: [u8; 32],
    len: usize,
}

impl Signals {
    pub fn iter(&self) -> impl Iterator<Item = Signal> + '_ {
        self.sigs.iter().take(self.len).map(|&n| Signal(n))
    }
}

/// Read pending signals from a signalfd (blocks if none).
pub fn read_signals(fd: RawFd) -> Result<Signals, Errno> {
    const SZ: usize = std::mem::size_of::<libc::signalfd_siginfo>();
    let mut buf = [0u8; SZ * 32];
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
    let mut out = Signals::default();
    let filled = buf.get(..n).unwrap_or(&[]);
    for chunk in filled.chunks_exact(SZ) {
        // ssi_signo is the first field of struct signalfd_siginfo.
        let Some(Ok(signo)) = chunk.get(..4).map(<[u8; 4]>::try_from) else { continue };
        let Some(sig) = i32::try_from(u32::from_ne_bytes(signo)).ok().and_then(Signal::new) else { continue };
        if let Some(slot) = out.sigs.get_mut(out.len) {
            *slot = sig.0;
            out.len += 1;
        }
    }
    Ok(out)
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
}
