//! The USER[:GROUP] grammar and the /etc/passwd and /etc/group parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidone::fuzzing::user(data);
});
