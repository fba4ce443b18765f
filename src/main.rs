//! The entry point: hand argv to the library and exit with what it returns.
//!
//! `no_main` keeps Rust's runtime start-up out of the way: it would set SIGPIPE
//! to "ignore" before pidone could see what it inherited. `lib::main` ignores
//! SIGPIPE and SIGXFSZ itself, knowing their inherited dispositions, and hands
//! its child exactly the signal state pidone inherited.

#![no_main]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let count = usize::try_from(argc).unwrap_or(0);
    let mut args = Vec::with_capacity(count);
    for i in 1..count {
        // SAFETY: the C runtime passes argc valid pointers in argv, each to a
        // NUL-terminated string that lives as long as the process.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
        args.push(OsString::from_vec(arg.to_bytes().to_vec()));
    }
    pidone::main(args)
}
