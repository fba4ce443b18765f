//! The .env parser and interpolation, its writer round trip, the secret-name mapper.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidone::fuzzing::env(data);
});
