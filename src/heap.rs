//! The tiny build's allocator (feature `tlsf`, enabled by `make tiny`).
//!
//! rlsf's TLSF allocator takes the place of musl's mallocng (what that saves is
//! in docs/internals.md's size table). Allocation and free are O(1) and free
//! blocks are coalesced, so a long-running PID 1 does not fragment; memory comes
//! from the kernel in 64 KiB mmap pools that are reused, never returned.
//!
//! Rust's allocations go through `#[global_allocator]`. The C library allocates
//! too (`opendir` calls `calloc`, `closedir` calls `free`), so the C entry points
//! are defined here as well: the static link then takes these instead of
//! mallocng's, and one heap serves both. `make tiny` checks that no mallocng
//! symbol reached the binary, since a pointer from one allocator freed by the
//! other would corrupt both heaps.

use rlsf::{CAlloc, SmallGlobalTlsf};
use std::alloc::Layout;
use std::ptr::{NonNull, null_mut};

#[global_allocator]
static HEAP: SmallGlobalTlsf = SmallGlobalTlsf::new();

/// malloc's alignment on x86_64 and aarch64 (`max_align_t`).
const C_ALIGN: usize = 16;

fn c_alloc(size: usize, align: usize) -> *mut u8 {
    // C allows size 0 and wants a unique pointer back; Rust layouts want >= 1.
    Layout::from_size_align(size.max(1), align.max(C_ALIGN))
        .ok()
        .and_then(|layout| HEAP.allocate(layout))
        .map_or(null_mut(), NonNull::as_ptr)
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
    let Ok(layout) = Layout::from_size_align(size.max(1), C_ALIGN) else { return null_mut() };
    // SAFETY: C callers pass only pointers this heap returned (the C entry
    // points above are the only allocator in the binary).
    unsafe { HEAP.reallocate(old, layout) }.map_or(null_mut(), NonNull::as_ptr)
}

#[unsafe(no_mangle)]
extern "C" fn free(p: *mut u8) {
    if let Some(p) = NonNull::new(p) {
        // SAFETY: as for realloc, `p` came from this heap and is freed once.
        unsafe { HEAP.deallocate(p) };
    }
}

#[unsafe(no_mangle)]
extern "C" fn malloc_usable_size(p: *mut u8) -> usize {
    // SAFETY: as for realloc, `p` is null or a live block of this heap.
    NonNull::new(p).map_or(0, |p| unsafe { HEAP.allocation_usable_size(p) })
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
