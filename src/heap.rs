//! The tiny build's allocator (feature `tlsf`, enabled by `make tiny`).
//!
//! rlsf's TLSF allocator takes the place of musl's mallocng (what that saves is
//! in docs/internals.md's size table). Allocation and free are O(1) and free
//! blocks are coalesced, so a long-running PID 1 does not fragment; memory comes
//! from the kernel at the program break, a page at a time, and is reused, never
//! returned.
//!
//! Rust's allocations go through `#[global_allocator]`. The C library allocates
//! too (`opendir` calls `calloc`, `closedir` calls `free`), so the C entry points
//! are defined here as well: the static link then takes these instead of
//! mallocng's, and one heap serves both. `make tiny` checks that no mallocng
//! symbol reached the binary, since a pointer from one allocator freed by the
//! other would corrupt both heaps.
//!
//! The lock around the heap is std's `Mutex` (a futex on Linux, as std's own
//! locks are), and the heap grows in 4 KiB steps, which need no page size:
//! rlsf's own `GlobalTlsf` would lock with a pthread mutex and ask `sysconf`
//! for the page size.

use rlsf::{FlexSource, FlexTlsf, GRANULARITY};
use std::alloc::{GlobalAlloc, Layout};
use std::ptr::{NonNull, null_mut};
use std::sync::{Mutex, MutexGuard, PoisonError};

#[global_allocator]
static HEAP: Heap = Heap(Mutex::new(Pools(FlexTlsf::new(Kernel { break_end: 0 }))));

/// The program break is raised this much at a time, at least.
const BREAK_STEP: usize = 4 * 1024;
/// A pool that cannot be at the break is mapped in multiples of this: a
/// multiple of every page size of the targets (4, 16 or 64 KiB).
const POOL: usize = 64 * 1024;

/// The C entry points' alignment: at least malloc's (`max_align_t`, 16 on
/// x86_64 and aarch64), and rlsf's granularity (32), so that every C block
/// records where its header is and `free` needs no alignment to find it.
const C_ALIGN: usize = if GRANULARITY > 16 { GRANULARITY } else { 16 };

/// Fresh memory from the kernel. The heap is one pool at the program break,
/// grown in place as it fills (as classic mallocs grow theirs), so the pages
/// it holds are the pages it has used: rlsf keeps a sentinel block at the end
/// of every pool, and in a pool mapped larger than needed that sentinel alone
/// makes a page resident. When the break cannot move (something else moved
/// it, or the kernel refuses), pools are mapped instead.
struct Kernel {
    /// Where the pool at the break ends (0: none yet). Only that pool grows.
    break_end: usize,
}

// SAFETY: `alloc` returns memory nothing else uses: pages just added at the
// program break (which only this allocator moves: musl's malloc is not
// linked, and the break is checked before it is moved) or a new private
// mapping; `realloc_inplace_grow` extends the pool at the break only, by pages
// just added after it, and reports the new length.
unsafe impl FlexSource for Kernel {
    unsafe fn alloc(&mut self, min_size: usize) -> Option<NonNull<[u8]>> {
        let len = round_up(min_size, BREAK_STEP)?;
        if let Some(start) = grow_break(None, len) {
            self.break_end = start + len;
            return NonNull::new(std::ptr::slice_from_raw_parts_mut(start as *mut u8, len));
        }
        let len = round_up(min_size, POOL)?;
        let (prot, flags) = (libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS);
        // SAFETY: an anonymous mapping at an address the kernel picks touches
        // no existing memory.
        let p = unsafe { libc::mmap(null_mut(), len, prot, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(std::ptr::slice_from_raw_parts_mut(p.cast::<u8>(), len))
    }

    unsafe fn realloc_inplace_grow(&mut self, pool: NonNull<[u8]>, min_new_len: usize) -> Option<usize> {
        let start = pool.cast::<u8>().as_ptr() as usize;
        if start.checked_add(pool.len())? != self.break_end {
            return None;
        }
        let new_len = round_up(min_new_len, BREAK_STEP)?;
        grow_break(Some(self.break_end), new_len - pool.len())?;
        self.break_end = start + new_len;
        Some(new_len)
    }

    fn supports_realloc_inplace_grow(&self) -> bool {
        true
    }

    fn min_align(&self) -> usize {
        GRANULARITY
    }
}

/// `n` rounded up to a multiple of `step` (a power of two).
fn round_up(n: usize, step: usize) -> Option<usize> {
    Some(n.checked_add(step - 1)? & !(step - 1))
}

/// Move the program break up by `len` bytes, from `from` when given (if the
/// break is elsewhere, someone else moved it: it is left alone). Returns
/// where the new bytes start.
fn grow_break(from: Option<usize>, len: usize) -> Option<usize> {
    // SAFETY: brk(0) moves nothing; it returns the current break.
    let now = unsafe { libc::syscall(libc::SYS_brk, 0usize) } as usize;
    if from.is_some_and(|f| f != now) || now % GRANULARITY != 0 {
        return None;
    }
    let want = now.checked_add(len)?;
    // SAFETY: raising the break maps zeroed pages between the old and the
    // new break, which nothing else uses; the kernel returns the old break
    // when it refuses.
    let got = unsafe { libc::syscall(libc::SYS_brk, want) } as usize;
    (got == want).then_some(now)
}

/// rlsf's TLSF over [`Kernel`]: 28 size classes of 16 free lists each, for
/// blocks up to 8 GiB (32 << 28 bytes, beyond any allocation of pidone), in a
/// 4 KiB table (rlsf's `GlobalTlsf` has 64 × 64, 32 KiB, of which pidone
/// would touch a few pages).
type Tlsf = FlexTlsf<Kernel, u32, u16, 28, 16>;

/// The TLSF state.
struct Pools(Tlsf);

// SAFETY: the pools' pointers are to mappings of this process only, and the
// state is reached only through `Heap`'s mutex.
unsafe impl Send for Pools {}

struct Heap(Mutex<Pools>);

impl Heap {
    /// The heap, locked. A panic while it was held (test builds unwind; the
    /// binaries abort) happened in rlsf, before or after a whole operation.
    fn lock(&self) -> MutexGuard<'_, Pools> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn allocate(&self, layout: Layout) -> *mut u8 {
        self.lock().0.allocate(layout).map_or(null_mut(), NonNull::as_ptr)
    }
}

// SAFETY: rlsf's TLSF returns blocks of the layout asked for, each once until
// freed; `dealloc` passes back the alignment of the allocation, as rlsf asks.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocate(layout)
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(p) {
            // SAFETY: the caller passes a block of this heap and its layout.
            unsafe { self.lock().0.deallocate(p, layout.align()) };
        }
    }
}

fn c_alloc(size: usize, align: usize) -> *mut u8 {
    // C allows size 0 and wants a unique pointer back; Rust layouts want >= 1.
    Layout::from_size_align(size.max(1), align.max(C_ALIGN)).map_or(null_mut(), |layout| HEAP.allocate(layout))
}

/// The bytes a C block can hold.
///
/// # Safety
/// `p` is a live block of this heap.
unsafe fn c_size(p: NonNull<u8>) -> usize {
    // SAFETY: upheld by the caller.
    unsafe { Tlsf::allocation_usable_size(p) }
}

#[unsafe(no_mangle)]
extern "C" fn malloc(size: usize) -> *mut u8 {
    c_alloc(size, C_ALIGN)
}

#[unsafe(no_mangle)]
extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
    c_alloc(size, align)
}

#[unsafe(no_mangle)]
extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    let Some(total) = count.checked_mul(size) else { return null_mut() };
    let p = c_alloc(total, C_ALIGN);
    if !p.is_null() {
        // SAFETY: `p` is a fresh block of at least `total` bytes.
        unsafe { p.write_bytes(0, total) };
    }
    p
}

#[unsafe(no_mangle)]
extern "C" fn realloc(p: *mut u8, size: usize) -> *mut u8 {
    let Some(old) = NonNull::new(p) else { return malloc(size) };
    let new = malloc(size);
    if !new.is_null() {
        // SAFETY: C callers pass only pointers this heap returned (the C entry
        // points here are the only allocator in the binary); the new block is
        // distinct and holds `size` bytes, the old one its usable size.
        unsafe { new.copy_from_nonoverlapping(old.as_ptr(), c_size(old).min(size)) };
        free(p);
    }
    new
}

#[unsafe(no_mangle)]
extern "C" fn free(p: *mut u8) {
    if let Some(p) = NonNull::new(p) {
        // SAFETY: as for realloc, `p` came from this heap and is freed once;
        // every C block was allocated with an alignment of at least
        // GRANULARITY, for which rlsf finds the header the same way.
        unsafe { HEAP.lock().0.deallocate(p, GRANULARITY) };
    }
}

#[unsafe(no_mangle)]
extern "C" fn malloc_usable_size(p: *mut u8) -> usize {
    // SAFETY: as for realloc, `p` is null or a live block of this heap.
    NonNull::new(p).map_or(0, |p| unsafe { c_size(p) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_entry_points_follow_c_semantics() {
        let a = malloc(0);
        let b = malloc(0);
        assert!(!a.is_null() && a != b, "malloc(0) gives distinct non-null pointers");
        assert_eq!(a as usize % C_ALIGN, 0);
        free(a);
        free(b);
        free(null_mut());
        assert!(calloc(usize::MAX, 2).is_null(), "calloc overflow is refused");
        let z = calloc(100, 10);
        // SAFETY: `z` is a live 1000-byte block.
        assert!(unsafe { std::slice::from_raw_parts(z, 1000) }.iter().all(|&b| b == 0));
        // SAFETY: as above; fill it to check realloc keeps the prefix.
        unsafe { z.write_bytes(7, 1000) };
        let r = realloc(z, 100_000);
        assert!(malloc_usable_size(r) >= 100_000);
        // SAFETY: `r` is a live block whose first 1000 bytes came from `z`.
        assert!(unsafe { std::slice::from_raw_parts(r, 1000) }.iter().all(|&b| b == 7));
        let big = aligned_alloc(4096, 10);
        assert_eq!(big as usize % 4096, 0);
        free(big);
        free(r);
        let fresh = realloc(null_mut(), 10);
        assert!(!fresh.is_null());
        free(fresh);
    }

    #[test]
    fn many_threads_share_the_heap() {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..20_000usize {
                        let v = vec![t as u8; (i * 37) % 5000 + 1];
                        if i % 7 == 0 {
                            kept.push(v);
                        }
                    }
                    kept.iter().all(|v| v.iter().all(|&b| b == t as u8))
                })
            })
            .collect();
        for w in workers {
            assert!(w.join().unwrap());
        }
    }
}
