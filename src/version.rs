//! The `--version` line: version, git commit, build flavour and target, as
//! `build.rs` found them at build time (no clock, no host name: the same
//! commit gives the same bytes).

/// `pidone 0.2.0 (commit 0123456789ab, tiny build, x86_64-unknown-linux-musl)`
/// and a newline. The version comes from Cargo.toml, the only place it is written.
pub const VERSION_LINE: &str = concat!(
    "pidone ",
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BUILD_GIT_COMMIT"),
    ", ",
    env!("BUILD_FLAVOUR"),
    " build, ",
    env!("BUILD_TARGET"),
    ")\n"
);

/// The text `pidone --version` prints.
pub fn version_line() -> &'static str {
    VERSION_LINE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_naming_version_commit_flavour_and_target() {
        let line = version_line();
        assert_eq!(line.lines().count(), 1);
        assert!(line.ends_with(")\n"), "{line}");
        let rest = line.strip_prefix(concat!("pidone ", env!("CARGO_PKG_VERSION"), " (commit ")).unwrap();
        let (commit, rest) = rest.split_once(", ").unwrap();
        let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
        assert!(
            commit == "unknown (built outside git)"
                || (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                || !std::env::var("PIDONE_COMMIT").unwrap_or_default().is_empty(),
            "{commit}"
        );
        let flavour = if cfg!(feature = "tlsf") { "tiny build, " } else { "stable build, " };
        let target = rest.strip_prefix(flavour).unwrap().strip_suffix(")\n").unwrap();
        assert!(target.contains("-linux"), "{target}");
    }
}
