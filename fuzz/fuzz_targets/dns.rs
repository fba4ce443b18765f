//! The DNS reply parser, resolv.conf and /etc/hosts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidone::fuzzing::dns(data);
});
