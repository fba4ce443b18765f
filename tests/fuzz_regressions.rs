//! Every input in fuzz/regressions/TARGET/ (crashes the fuzzers once found,
//! and hand-made edge cases) must parse to a value or an error, not a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

fn run(target: &str, f: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        f(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "no inputs in {}", dir.display());
}

#[test]
fn cli_inputs() {
    run("cli", pidone::fuzzing::cli);
}

#[test]
fn user_inputs() {
    run("user", pidone::fuzzing::user);
}

#[test]
fn env_inputs() {
    run("env", pidone::fuzzing::env);
}

#[test]
fn dns_inputs() {
    run("dns", pidone::fuzzing::dns);
}

#[test]
fn http_inputs() {
    run("http", pidone::fuzzing::http);
}
