//! The probe's HTTP response reader, fed arbitrary server bytes in arbitrary reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidone::fuzzing::http(data);
});
