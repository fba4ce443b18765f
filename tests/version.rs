//! `pidone --version` of the binary under test: one line naming the version,
//! the git commit, the build flavour and the target, the same on every run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use std::time::Duration;

const T: Duration = Duration::from_secs(10);

#[test]
fn version_names_commit_flavour_and_target() {
    let out = common::output(common::plain(["--version"]), T);
    assert_eq!(common::code(out.status), 0);
    let line = common::stdout(&out);
    assert_eq!(line.lines().count(), 1, "{line}");
    let rest = line
        .strip_prefix(concat!("pidone ", env!("CARGO_PKG_VERSION"), " (commit "))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, rest) = rest.split_once(", ").unwrap();
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        commit == "unknown (built outside git)" || (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
        "{commit}"
    );
    let (flavour, target) = rest.split_once(" build, ").unwrap();
    assert!(flavour == "stable" || flavour == "tiny", "{flavour}");
    let target = target.strip_suffix(")\n").unwrap();
    assert!(target.ends_with("-linux-musl") || target.ends_with("-linux-musleabihf"), "{target}");
    let again = common::output(common::plain(["--version"]), T);
    assert_eq!(common::stdout(&again), line, "the same binary prints the same line");
}
