//! The reference cannot drift from the binary: every option that `--help`
//! lists for a mode is documented in docs/reference.md, and so is the
//! `PIDONE_*` variable of each option that reads one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::process::Command;

/// The text `pidone ARGS` prints on stdout (the help of one mode).
fn help(args: &[&str]) -> String {
    let out = Command::new(common::bin()).args(args).output().expect("run pidone --help");
    assert!(out.status.success(), "pidone {args:?} exited {:?}", out.status);
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

fn reference() -> String {
    std::fs::read_to_string(common::root().join("docs/reference.md")).expect("read docs/reference.md")
}

/// The options a help text names: `--long` words, and `-x` / `-xx` short
/// forms (one letter, or one letter repeated as in `-vv`).
fn options(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || ",()[]|;".contains(c)) {
        let word = word.split('=').next().unwrap_or_default();
        let word = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        let opt = if let Some(long) = word.strip_prefix("--") {
            (long.len() > 1
                && long.starts_with(|c: char| c.is_ascii_lowercase())
                && long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .then(|| word.to_string())
        } else if let Some(short) = word.strip_prefix('-') {
            let mut chars = short.chars();
            let first = chars.next();
            (first.is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| Some(c) == first))
                .then(|| word.to_string())
        } else {
            None
        };
        if let Some(opt) = opt.filter(|o| !found.contains(o)) {
            found.push(opt);
        }
    }
    found
}

#[test]
fn every_option_of_every_mode_is_in_the_reference() {
    let reference = reference();
    let mut missing = Vec::new();
    let mut seen = 0;
    for mode in [&["--help"][..], &["probe", "--help"], &["wait", "--help"], &["env", "--help"]] {
        for opt in options(&help(mode)) {
            seen += 1;
            // Written as code in the reference: `--grace` or `--grace DURATION`.
            if !reference.contains(&format!("`{opt}`")) && !reference.contains(&format!("`{opt} ")) {
                missing.push(format!("{} {opt}", mode.first().copied().unwrap_or_default()));
            }
        }
    }
    // The help texts name at least the options they had when this test was written.
    assert!(seen >= 30, "only {seen} options found in the help texts: is the parser of this test broken?");
    assert!(missing.is_empty(), "options missing from docs/reference.md: {missing:?}");
}

#[test]
fn every_run_mode_variable_is_in_the_reference() {
    let reference = reference();
    let run = help(&["--help"]);
    let mut missing = Vec::new();
    for opt in options(&run) {
        let Some(long) = opt.strip_prefix("--") else { continue };
        if ["help", "version"].contains(&long) {
            continue;
        }
        let var = format!("PIDONE_{}", long.to_ascii_uppercase().replace('-', "_"));
        if !reference.contains(&format!("`{var}`")) {
            missing.push(var);
        }
    }
    assert!(missing.is_empty(), "variables missing from docs/reference.md: {missing:?}");
}

#[test]
fn the_option_finder_sees_long_short_and_repeated_forms() {
    let found = options("  -v, -vv, -q, --log-level LEVEL, --log-format text|json\n  -H, --header 'N: V' (see --help)");
    for want in ["-v", "-vv", "-q", "--log-level", "--log-format", "-H", "--header", "--help"] {
        assert!(found.iter().any(|f| f == want), "{want} not found in {found:?}");
    }
    assert!(!found.iter().any(|f| f == "-" || f == "--"), "{found:?}");
}
