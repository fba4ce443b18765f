//! Build facts for `pidone --version` (src/version.rs): the git commit, the
//! build flavour and the target. Nothing here depends on the clock or on the
//! machine, so the same commit gives the same bytes.
//!
//! - `BUILD_GIT_COMMIT`: `git rev-parse --short=12 HEAD`, with `-dirty` when a
//!   tracked file differs from it; "unknown (built outside git)" without git.
//!   A build from a source tree without `.git` (the Dockerfile's from-source
//!   stage, a tarball) can pass the commit in `PIDONE_COMMIT`.
//! - `BUILD_FLAVOUR`: "tiny" with feature `tlsf` (`make tiny`, the size build),
//!   else "stable".
//! - `BUILD_TARGET`: the target triple cargo builds for.
//!
//! The names have no `PIDONE_` prefix: cargo also hands them to test
//! processes, where pidone would take them for misspelt options.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let commit = match std::env::var("PIDONE_COMMIT") {
        Ok(given) if !given.is_empty() => given,
        _ => git_commit(Path::new(&dir)).unwrap_or_else(|| "unknown (built outside git)".to_owned()),
    };
    let flavour = if std::env::var_os("CARGO_FEATURE_TLSF").is_some() { "tiny" } else { "stable" };
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=BUILD_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=BUILD_FLAVOUR={flavour}");
    println!("cargo:rustc-env=BUILD_TARGET={target}");
    println!("cargo:rerun-if-env-changed=PIDONE_COMMIT");
    // Rerun when HEAD moves (a commit, a checkout) and when a tracked source
    // changes (the `-dirty` mark).
    for path in ["build.rs", "Cargo.toml", "Cargo.lock", "src"] {
        println!("cargo:rerun-if-changed={path}");
    }
    for path in git_paths(Path::new(&dir)) {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// The short commit of HEAD, `-dirty` when a tracked file differs from it.
fn git_commit(dir: &Path) -> Option<String> {
    let head = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let status = git(dir, &["status", "--porcelain", "--untracked-files=no"])?;
    Some(if status.is_empty() { head } else { format!("{head}-dirty") })
}

/// The files that change when HEAD moves: HEAD itself, the branch it points
/// to (loose and packed) and the index. In a worktree they live in different
/// directories, which `git rev-parse --git-path` resolves.
fn git_paths(dir: &Path) -> Vec<String> {
    let mut names = vec!["HEAD".to_owned(), "packed-refs".to_owned(), "index".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| git(dir, &["rev-parse", "--path-format=absolute", "--git-path", name]))
        .filter(|path| Path::new(path).exists())
        .collect()
}

/// `git ARGS` in `dir`: its trimmed stdout when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
