//! Contract section 3: the child's environment, built once before privileges
//! are dropped, in this order: pidone's own environment, `--env-file`s
//! (`dotenv`), `--secrets-dir`s and `--file-env` (`secrets`). pidone never
//! calls setenv: the result is handed to execve as it is.
//!
//! Values never reach a log line or an error message; only names, files,
//! lines and byte counts do.

pub mod dotenv;
mod environment;
pub mod secrets;

pub(crate) use environment::Loader;
pub use environment::{Environment, valid_name};

use crate::config::{EnvFormat, EnvOpts};
use crate::error::{Error, Result};
use crate::log;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// One env file as a [`dotenv::Scope`] over the environment being built.
struct FileScope<'a> {
    loader: &'a mut Loader,
    /// The file's path, as its messages show it.
    shown: &'a str,
    count: usize,
}

impl dotenv::Scope for FileScope<'_> {
    fn lookup(&self, name: &str) -> Option<&[u8]> {
        self.loader.env.get(name).map(OsStr::as_bytes)
    }

    fn define(&mut self, name: &str, value: Option<Vec<u8>>, line: usize) {
        // A bare `NAME` passes NAME through: it keeps whatever value it has.
        let Some(value) = value else { return };
        if !self.loader.override_existing && self.loader.in_base(name) {
            log::debug!(
                "{}:{line}: {name} is already set in the environment and is kept (--env-override replaces it)",
                self.shown
            );
            return;
        }
        self.loader.load(name, OsString::from_vec(value));
        self.count += 1;
    }

    /// The name is not printed: in an unquoted value such as `p4ss$word`,
    /// what follows the `$` is part of a secret, not a reference.
    fn unset(&mut self, _name: &str, line: usize) {
        log::warning!(
            "{}:{line}: a $NAME reference names an unset variable and became an empty string \
             (write $$ for a literal $)",
            self.shown
        );
    }
}

/// Steps 1–4 over `base`, everything read and checked.
pub(crate) fn load(opts: &EnvOpts, base: Environment) -> Result<Loader> {
    let mut loader = Loader::new(base, opts.override_existing);
    for file in &opts.files {
        let shown = file.path.to_string_lossy();
        let Some(src) = secrets::read_file(&file.path, file.optional)? else {
            log::debug!("{shown}: optional env file is missing");
            continue;
        };
        let mut scope = FileScope { loader: &mut loader, shown: &shown, count: 0 };
        dotenv::parse(&src, &mut scope).map_err(|e| Error::config(format!("{shown}:{}: {}", e.line, e.msg)))?;
        log::debug!("{shown}: {} variables loaded", scope.count);
    }
    for dir in &opts.secrets_dirs {
        secrets::load_dir(&mut loader, dir)?;
    }
    for name in &opts.file_env {
        secrets::file_env(&mut loader, name)?;
    }
    Ok(loader)
}

/// Build the child's environment from `opts` (before the privilege drop).
pub fn build(opts: &EnvOpts, base: Environment) -> Result<Environment> {
    load(opts, base)?.finish()
}

/// What was loaded, names only, one a line (`pidone env --check`).
pub(crate) fn names(loader: &Loader) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, _) in loader.loaded() {
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out
}

fn utf8<'v>(name: &str, value: &'v OsStr) -> Result<&'v str> {
    value.to_str().ok_or_else(|| {
        Error::config(format!("{name}: the value is not UTF-8, which dotenv and JSON cannot hold; use --format shell"))
    })
}

fn put(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// What was loaded, in `format`, for stdout (`pidone env`).
pub(crate) fn render(loader: &Loader, format: EnvFormat) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        EnvFormat::Dotenv => {
            for (name, value) in loader.loaded() {
                let value = dotenv::quote(utf8(name, value)?);
                put(&mut out, &[name.as_bytes(), b"=", value.as_bytes(), b"\n"]);
            }
        }
        EnvFormat::Shell => {
            for (name, value) in loader.loaded() {
                put(&mut out, &[b"export ", name.as_bytes(), b"='"]);
                for &b in value.as_bytes() {
                    if b == b'\'' {
                        out.extend_from_slice(b"'\\''");
                    } else {
                        out.push(b);
                    }
                }
                out.extend_from_slice(b"'\n");
            }
            for name in &loader.removed {
                put(&mut out, &[b"unset ", name.as_bytes(), b"\n"]);
            }
        }
        EnvFormat::Json => {
            let mut s = String::from("{");
            for (i, (name, value)) in loader.loaded().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                log::json_string(&mut s, name);
                s.push(':');
                log::json_string(&mut s, utf8(name, value)?);
            }
            s.push_str("}\n");
            out = s.into_bytes();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::Source;
    use crate::test_support::TempDir;
    use std::path::Path;

    fn base(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs)
    }

    fn src(p: &Path) -> Source {
        Source { path: p.to_path_buf(), optional: false }
    }

    #[test]
    fn precedence_and_interpolation_across_sources() {
        let d = TempDir::new("env-prec");
        std::fs::write(d.join("one.env"), "A=file\nB=file\nC=${A}-${B}\nN_FILE=").unwrap();
        std::fs::write(d.join("two.env"), "B=two\nD=${C}:${B}").unwrap();
        std::fs::create_dir(d.join("s")).unwrap();
        std::fs::write(d.join("s/b"), "secret\n").unwrap();
        std::fs::write(d.join("n"), "from-file\r\n").unwrap();
        let mut opts = EnvOpts {
            files: vec![src(&d.join("one.env")), src(&d.join("two.env"))],
            secrets_dirs: vec![src(&d.join("s"))],
            file_env: vec!["N".into()],
            ..EnvOpts::default()
        };
        let proc_env = base(&[("A", "proc"), ("N_FILE", d.join("n").to_str().unwrap())]);
        let l = load(&opts, proc_env.clone()).unwrap();
        let got: Vec<_> = l.loaded().map(|(k, v)| format!("{k}={}", v.to_str().unwrap())).collect();
        // A stays the process's; B: later file, then the secret; N from N_FILE.
        assert_eq!(got, ["B=secret", "C=proc-file", "D=proc-file:two", "N=from-file"]);
        assert_eq!(l.env.get("A"), Some(OsStr::new("proc")));
        assert_eq!(l.env.get("N_FILE"), None);
        assert_eq!(l.removed, ["N_FILE"]);
        opts.override_existing = true;
        let l = load(&opts, proc_env).unwrap();
        assert_eq!(l.env.get("A"), Some(OsStr::new("file")));
        assert_eq!(l.env.get("D"), Some(OsStr::new("file-file:two")));
    }

    #[test]
    fn file_env_rules() {
        let d = TempDir::new("env-fe");
        std::fs::write(d.join("pw"), "CANARY\n").unwrap();
        let pw = d.join("pw").to_str().unwrap().to_string();
        let opts = EnvOpts { file_env: vec!["PW".into()], ..EnvOpts::default() };
        let run = |pairs: &[(&str, &str)]| load(&opts, base(pairs));
        // Both set: an error naming both, never the value.
        let e = run(&[("PW", "CANARY"), ("PW_FILE", &pw)]).err().unwrap();
        assert_eq!(e.code(), 125);
        assert!(e.to_string().contains("PW and PW_FILE") && !e.to_string().contains("CANARY"), "{e}");
        // An empty PW counts as unset; an empty PW_FILE is ignored.
        let l = run(&[("PW", ""), ("PW_FILE", &pw)]).unwrap();
        assert_eq!(l.env.get("PW"), Some(OsStr::new("CANARY")));
        let l = run(&[("PW", "kept"), ("PW_FILE", "")]).unwrap();
        assert_eq!(l.env.get("PW"), Some(OsStr::new("kept")));
        assert_eq!(l.loaded().count(), 0);
        // Missing file, quoted path: errors naming the variable and path.
        let e = run(&[("PW_FILE", "\"/run/secrets/x\"")]).err().unwrap();
        let msg = e.to_string();
        assert!(msg.starts_with("PW_FILE: \"/run/secrets/x\": ") && msg.contains("literal quotes"), "{msg}");
        // Not automatic: SSL_CERT_FILE stays a path.
        let l = load(&EnvOpts::default(), base(&[("SSL_CERT_FILE", &pw)])).unwrap();
        assert_eq!(l.env.get("SSL_CERT_FILE"), Some(OsStr::new(pw.as_str())));
    }

    #[test]
    fn formats() {
        let mut l = Loader::new(Environment::default(), false);
        l.load("A", "it's \"q\" $HOME\nx\\".into());
        l.load("E", "".into());
        l.removed.push("A_FILE".into());
        let dotenv = String::from_utf8(render(&l, EnvFormat::Dotenv).unwrap()).unwrap();
        assert_eq!(dotenv, "A=\"it's \\\"q\\\" \\$HOME\\nx\\\\\"\nE=\"\"\n");
        let shell = String::from_utf8(render(&l, EnvFormat::Shell).unwrap()).unwrap();
        assert_eq!(shell, "export A='it'\\''s \"q\" $HOME\nx\\'\nexport E=''\nunset A_FILE\n");
        let json = String::from_utf8(render(&l, EnvFormat::Json).unwrap()).unwrap();
        assert_eq!(json, "{\"A\":\"it's \\\"q\\\" $HOME\\nx\\\\\",\"E\":\"\"}\n");
        assert_eq!(names(&l), b"A\nE\n");
        l.load("BIN", OsString::from_vec(b"\xff".to_vec()));
        assert!(render(&l, EnvFormat::Json).is_err());
        assert!(render(&l, EnvFormat::Shell).is_ok());
    }

    #[test]
    fn exec_limit_per_variable() {
        let mut l = Loader::new(Environment::default(), false);
        l.load("A", "x".repeat(131072 - 3).into());
        assert!(l.check_exec_limits().is_ok());
        l.load("A", "x".repeat(131072 - 2).into());
        let e = l.check_exec_limits().unwrap_err();
        assert!(e.to_string().starts_with("A is 131073 bytes"), "{e}");
    }
}
