//! Reading files within the limits (regular files only, 1 MiB, no NUL),
//! `--secrets-dir` and `--file-env NAME`.

use super::dotenv;
use super::environment::{Environment, Loader, valid_name};
use crate::config::Source;
use crate::error::{Error, Result, io_text};
use crate::log;
use crate::sys::Found;
use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// The most pidone reads from any one file.
pub const MAX_FILE: usize = 1 << 20;

fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

fn at(path: &Path, msg: &dyn std::fmt::Display) -> Error {
    Error::config(format!("{}: {msg}", path.to_string_lossy()))
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    at(path, &format_args!("{}{}", io_text(e), NotRootHint(e)))
}

/// For a permission error while pidone runs non-root (`docker run --user`,
/// a pod's `runAsUser`): which uid it runs as, and what reads root-only
/// secrets. Nothing otherwise.
struct NotRootHint<'a>(&'a std::io::Error);

impl std::fmt::Display for NotRootHint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let uid = nix::unistd::geteuid().as_raw();
        if self.0.kind() != std::io::ErrorKind::PermissionDenied || uid == 0 {
            return Ok(());
        }
        write!(
            f,
            " (pidone runs as uid {uid}: root-only secrets need the container to start as root with PIDONE_USER set, \
             so that pidone reads them before it drops to that user)"
        )
    }
}

fn not_regular(path: &Path, meta: &Metadata) -> Error {
    at(path, &format_args!("not a regular file ({})", kind(meta)))
}

/// The whole of the regular file at `path` (symlinks followed), at most
/// [`MAX_FILE`] bytes and without NUL bytes. A FIFO, socket or device is
/// refused after a stat, before it is opened, and again after the open (by
/// fstat, against a swap in between; the open never blocks). `None` when
/// the file is missing and `optional`.
pub fn read_file(path: &Path, optional: bool) -> Result<Option<Vec<u8>>> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, &e)),
    };
    if !meta.is_file() {
        return Err(not_regular(path, &meta));
    }
    let buf = match crate::sys::read_regular(path, MAX_FILE) {
        Ok(Found::Regular(buf)) => buf,
        Ok(Found::Other(meta)) => return Err(not_regular(path, &meta)),
        Err(e) => return Err(io_error(path, &e)),
    };
    if buf.len() > MAX_FILE {
        return Err(at(path, &"larger than 1 MiB (1048576 bytes)"));
    }
    if let Some(line) = dotenv::nul_line(&buf) {
        return Err(Error::config(format!("{}:{line}: contains a NUL byte", path.to_string_lossy())));
    }
    Ok(Some(buf))
}

/// A secret's value: the file with one trailing `\n` or `\r\n` removed.
pub fn chomp(mut v: Vec<u8>) -> Vec<u8> {
    if v.last() == Some(&b'\n') {
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
    }
    v
}

/// The variable a secret file name maps to: upper-cased, `-` and `.` turned
/// into `_`; `None` when the result is not a valid name.
pub fn secret_name(file: &OsStr) -> Option<String> {
    let mut name = String::with_capacity(file.len());
    for &c in file.as_bytes() {
        name.push(match c {
            b'-' | b'.' => '_',
            c if c.is_ascii() => char::from(c.to_ascii_uppercase()),
            // Non-ASCII never makes a valid name.
            _ => return None,
        });
    }
    valid_name(&name).then_some(name)
}

/// Whether `path` is a symbolic link that leads nowhere (`e` is what
/// following it gave): Kubernetes' atomic writer can leave one for a moment.
fn dangling(path: &Path, e: &std::io::Error) -> bool {
    let unresolved =
        e.kind() == std::io::ErrorKind::NotFound || matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR));
    unresolved && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Step 3: every regular file directly in `dir.path`.
pub(super) fn load_dir(loader: &mut Loader, dir: &Source) -> Result<()> {
    let entries = match fs::read_dir(&dir.path) {
        Ok(e) => e,
        Err(e) if dir.optional && e.kind() == std::io::ErrorKind::NotFound => {
            log::debug!("{}: optional secrets directory is missing", dir.path.to_string_lossy());
            return Ok(());
        }
        Err(e) => {
            return Err(at(
                &dir.path,
                &format_args!("cannot read secrets directory: {}{}", io_text(&e), NotRootHint(&e)),
            ));
        }
    };
    let mut names: Vec<OsString> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&dir.path, &e))?;
        names.push(entry.file_name());
    }
    // Directory entries are unique: an unstable sort gives the same order.
    names.sort_unstable();
    // Which file gave each name in this directory: two files for one name
    // (`db-pass` and `DB_PASS`) are an error, not a silent choice.
    let (mut taken, mut count) = (Environment::default(), 0);
    for file in &names {
        // `..data`, `..2024_…` and other dot-names: Kubernetes' own.
        if file.as_bytes().first() == Some(&b'.') {
            continue;
        }
        let path = dir.path.join(file);
        let shown = path.to_string_lossy();
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if dangling(&path, &e) => {
                log::warning!("{shown}: skipped: a symbolic link whose target is missing ({})", io_text(&e));
                continue;
            }
            Err(e) => return Err(io_error(&path, &e)),
        };
        if meta.is_dir() {
            log::debug!("{shown}: sub-directory ignored");
            continue;
        }
        if !meta.is_file() {
            log::warning!("{shown}: skipped: not a regular file ({})", kind(&meta));
            continue;
        }
        let name = secret_name(file).ok_or_else(|| {
            at(&path, &"file name does not map to a variable name (upper-cased, - and . as _, it must match [A-Za-z_][A-Za-z0-9_]*)")
        })?;
        if let Some(other) = taken.get(&name) {
            return Err(at(&path, &format_args!("maps to {name}, as does {}", dir.path.join(other).to_string_lossy())));
        }
        let value = chomp(read_file(&path, false)?.unwrap_or_default());
        log::debug!("{name}: {} bytes from {shown}", value.len());
        if loader.env.get(&name).is_some() {
            log::info!("{name}: the secret {shown} overrides an earlier value");
        }
        loader.load(&name, OsString::from_vec(value));
        taken.set(name, file);
        count += 1;
    }
    log::debug!("{}: {count} secrets loaded", dir.path.to_string_lossy());
    Ok(())
}

/// Step 4: `NAME_FILE=/path` sets NAME from the file and is removed.
pub(super) fn file_env(loader: &mut Loader, name: &str) -> Result<()> {
    let key = format!("{name}_FILE");
    let Some(path) = loader.env.get(&key).filter(|p| !p.is_empty()).map(PathBuf::from) else {
        log::debug!("{key} is not set: {name} is left as it is");
        return Ok(());
    };
    if loader.env.get(name).is_some_and(|v| !v.is_empty()) {
        return Err(Error::config(format!("both {name} and {key} are set (but are exclusive)")));
    }
    let p = path.as_os_str().as_bytes();
    let quoted = [b'"', b'\''].iter().any(|q| p.first() == Some(q) || p.last() == Some(q));
    let value = read_file(&path, false).map_err(|e| {
        if quoted {
            Error::new(e.code(), format!("{key}: {e} (the path has literal quotes: remove them from the variable)"))
        } else {
            e.context(&key)
        }
    })?;
    let value = chomp(value.unwrap_or_default());
    log::debug!("{name}: {} bytes from {key}={}", value.len(), path.to_string_lossy());
    loader.load(name, OsString::from_vec(value));
    loader.remove(&key);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_upper_and_underscore() {
        let cases = [
            ("db-password", Some("DB_PASSWORD")),
            ("api.key", Some("API_KEY")),
            ("Mixed_Case-1.x", Some("MIXED_CASE_1_X")),
            ("_x", Some("_X")),
            ("-x", Some("_X")),
            ("1password", None),
            ("a b", None),
            ("a=b", None),
            ("é", None),
            ("", None),
        ];
        for (file, want) in cases {
            assert_eq!(secret_name(OsStr::new(file)).as_deref(), want, "{file:?}");
        }
        assert_eq!(secret_name(OsStr::from_bytes(b"a\xff")), None);
    }

    #[test]
    fn chomp_removes_one_line_end() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"pw", b"pw"),
            (b"pw\n", b"pw"),
            (b"pw\r\n", b"pw"),
            (b"pw\n\n", b"pw\n"),
            (b"\n", b""),
            (b"pw\r", b"pw\r"),
        ];
        for (input, want) in cases {
            assert_eq!(chomp(input.to_vec()), want);
        }
    }
}
