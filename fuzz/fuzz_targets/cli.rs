//! The whole command-line grammar: arguments and PIDONE_* variables from
//! arbitrary bytes, plus the duration, signal and map parsers directly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidone::fuzzing::cli(data);
});
