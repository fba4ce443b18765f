//! Contract section 3: the child's environment, built once before privileges
//! are dropped, in this order: pidone's own environment, `--env-file`s
//! (`dotenv`), `--secrets-dir`s and `--file-env` (`secrets`). pidone never
//! calls setenv: the result is handed to execve as it is.
//!
//! Values never reach a log line or an error message; only names, files,
//! lines and byte counts do.

pub mod dotenv;
pub mod secrets;

use crate::config::{EnvFormat, EnvOpts};
use crate::error::{Error, Result};
use crate::log;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// Whether `s` is a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// An ordered set of variables; the last `set` of a name wins.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
    /// Positions in `vars`, sorted by name (binary search, no hashing code).
    index: Vec<usize>,
}

/// Names only: an environment holds secrets, and Debug output ends up in logs.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.vars.iter().map(|(k, _)| k)).finish()
    }
}

impl Environment {
    /// pidone's own environment (step 1 of the contract).
    pub fn from_process() -> Self {
        Environment::from_vars(std::env::vars_os().collect())
    }

    /// Index `vars` with one sort (start-up cost must not grow faster than
    /// the environment); a name given twice falls back to `set`, so the last
    /// one wins.
    fn from_vars(vars: Vec<(OsString, OsString)>) -> Self {
        let mut keyed: Vec<(&OsStr, usize)> = vars.iter().enumerate().map(|(i, (k, _))| (k.as_os_str(), i)).collect();
        keyed.sort_unstable();
        let unique = keyed.windows(2).all(|w| match w {
            [(a, _), (b, _)] => a != b,
            _ => true,
        });
        if unique {
            let index = keyed.iter().map(|&(_, i)| i).collect();
            return Environment { vars, index };
        }
        let mut e = Environment::default();
        for (k, v) in vars {
            e.set(k, v);
        }
        e
    }

    /// Where `name` sits in `vars` (the order variables were first set).
    fn slot(&self, name: &str) -> Option<usize> {
        let i = self.position(OsStr::new(name)).ok()?;
        self.index.get(i).copied()
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.slot(name).and_then(|at| self.vars.get(at)).map(|(_, v)| v.as_os_str())
    }

    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.insert(name.into(), value.into());
    }

    fn insert(&mut self, name: OsString, value: OsString) {
        match self.position(&name) {
            Ok(i) => {
                if let Some(slot) = self.index.get(i).and_then(|&at| self.vars.get_mut(at)) {
                    slot.1 = value;
                }
            }
            Err(i) => {
                self.index.insert(i, self.vars.len());
                self.vars.push((name, value));
            }
        }
    }

    pub fn remove(&mut self, name: &str) {
        let Ok(i) = self.position(OsStr::new(name)) else { return };
        let at = self.index.remove(i);
        if at < self.vars.len() {
            self.vars.remove(at);
        }
        // Every variable after the removed one moved down by one.
        for slot in &mut self.index {
            if *slot > at {
                *slot -= 1;
            }
        }
    }

    /// Where `name` is (or would go) in `index`.
    fn position(&self, name: &OsStr) -> std::result::Result<usize, usize> {
        self.index.binary_search_by(|&at| self.vars.get(at).map_or(OsStr::new(""), |(k, _)| k.as_os_str()).cmp(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// `NAME=value` strings for execve. Entries that cannot be passed (a NUL
    /// byte, which std never yields from the process environment) are left out.
    pub fn to_envp(&self) -> Vec<CString> {
        let mut envp = Vec::with_capacity(self.vars.len());
        for (k, v) in &self.vars {
            // Room for the `=` and for the NUL that CString::new appends, so it never reallocates.
            let mut s = Vec::with_capacity(k.len() + v.len() + 2);
            s.extend_from_slice(k.as_bytes());
            s.push(b'=');
            s.extend_from_slice(v.as_bytes());
            envp.extend(CString::new(s).ok());
        }
        envp
    }
}

/// The environment being built, and what the sources changed in it.
pub(crate) struct Loader {
    env: Environment,
    /// How many variables came from pidone's own environment: they are the
    /// first `base_len` of `env` (env files do not override them without
    /// `--env-override`). Valid until the first `remove`.
    base_len: usize,
    override_existing: bool,
    /// Names set by a source, in the order they were first set.
    loaded: Vec<String>,
    /// Positions in `loaded`, sorted by name.
    seen: Vec<usize>,

    /// Names a source removed (NAME_FILE after `--file-env NAME`).
    removed: Vec<String>,
}

impl Loader {
    fn new(base: Environment, override_existing: bool) -> Loader {
        let base_len = base.vars.len();
        Loader { env: base, base_len, override_existing, loaded: Vec::new(), seen: Vec::new(), removed: Vec::new() }
    }

    /// Whether `name` was set in pidone's own environment.
    fn in_base(&self, name: &str) -> bool {
        self.env.slot(name).is_some_and(|at| at < self.base_len)
    }

    fn load(&mut self, name: &str, value: OsString) {
        self.env.set(name, value);
        let loaded = &self.loaded;
        if let Err(i) = self.seen.binary_search_by(|&at| loaded.get(at).map_or("", String::as_str).cmp(name)) {
            self.seen.insert(i, loaded.len());
            self.loaded.push(name.to_string());
        }
    }

    fn remove(&mut self, name: &str) {
        self.env.remove(name);
        self.removed.push(name.to_string());
    }

    /// The variables the sources set, with their final values.
    fn loaded(&self) -> impl Iterator<Item = (&str, &OsStr)> {
        self.loaded.iter().filter_map(|n| self.env.get(n).map(|v| (n.as_str(), v)))
    }

    /// The environment for execve, once every variable is known to fit.
    pub(crate) fn finish(self) -> Result<Environment> {
        self.check_exec_limits()?;
        Ok(self.env)
    }

    /// Linux refuses (E2BIG) to pass one `NAME=value` longer than this.
    fn check_exec_limits(&self) -> Result<()> {
        const MAX_ARG_STRLEN: usize = 32 * 4096;
        for (name, value) in self.loaded() {
            let size = name.len() + value.len() + 2;
            if size > MAX_ARG_STRLEN {
                return Err(Error::config(format!(
                    "{name} is {size} bytes as NAME=value; Linux passes at most {MAX_ARG_STRLEN} bytes per variable to a program"
                )));
            }
        }
        Ok(())
    }
}

/// One env file as a [`dotenv::Scope`] over the environment being built.
struct FileScope<'a> {
    loader: &'a mut Loader,
    path: &'a Path,
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
                self.path.display()
            );
            return;
        }
        self.loader.load(name, OsString::from_vec(value));
        self.count += 1;
    }

    fn unset(&mut self, name: &str, line: usize) {
        log::warning!("{}:{line}: ${name} is not set: an empty string is used", self.path.display());
    }
}

/// Steps 1–4 over `base`, everything read and checked.
pub(crate) fn load(opts: &EnvOpts, base: Environment) -> Result<Loader> {
    let mut loader = Loader::new(base, opts.override_existing);
    for file in &opts.files {
        let Some(src) = secrets::read_file(&file.path, file.optional)? else {
            log::debug!("{}: optional env file is missing", file.path.display());
            continue;
        };
        let mut scope = FileScope { loader: &mut loader, path: &file.path, count: 0 };
        dotenv::parse(&src, &mut scope)
            .map_err(|e| Error::config(format!("{}:{}: {}", file.path.display(), e.line, e.msg)))?;
        log::debug!("{}: {} variables loaded", file.path.display(), scope.count);
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

    #[test]
    fn remove_keeps_the_index_consistent() {
        let mut e = Environment::default();
        for (k, v) in [("C", "3"), ("A", "1"), ("B", "2"), ("D", "4")] {
            e.set(k, v);
        }
        e.remove("A");
        e.remove("nope");
        assert_eq!(e.get("A"), None);
        assert_eq!(
            (e.get("B"), e.get("C"), e.get("D")),
            (Some(OsStr::new("2")), Some(OsStr::new("3")), Some(OsStr::new("4")))
        );
        e.set("A", "5");
        e.remove("D");
        assert_eq!(
            e.iter().map(|(k, v)| format!("{}={}", k.to_str().unwrap(), v.to_str().unwrap())).collect::<Vec<_>>(),
            ["C=3", "B=2", "A=5"]
        );
        assert_eq!(e.get("A"), Some(OsStr::new("5")));
    }

    #[test]
    fn process_environment_is_indexed_once_and_duplicates_keep_the_last() {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, x)| (OsString::from(k), OsString::from(x))).collect();
        let e = Environment::from_vars(pairs(&[("B", "1"), ("A", "2"), ("C", "3")]));
        assert_eq!(e.get("A"), Some(OsStr::new("2")));
        assert_eq!(e.get("C"), Some(OsStr::new("3")));
        assert_eq!(e.iter().map(|(k, _)| k.to_str().unwrap()).collect::<Vec<_>>(), ["B", "A", "C"], "order kept");
        let e = Environment::from_vars(pairs(&[("A", "1"), ("B", "2"), ("A", "3")]));
        assert_eq!(e.get("A"), Some(OsStr::new("3")));
        assert_eq!(e.iter().count(), 2);
        let l = Loader::new(e, false);
        assert!(l.in_base("A") && l.in_base("B") && !l.in_base("C"));
    }
    use crate::config::Source;
    use crate::test_support::TempDir;

    fn base(pairs: &[(&str, &str)]) -> Environment {
        let mut e = Environment::default();
        for (k, v) in pairs {
            e.set(*k, *v);
        }
        e
    }

    fn src(p: &Path) -> Source {
        Source { path: p.to_path_buf(), optional: false }
    }

    #[test]
    fn environment_set_get_remove_keep_order() {
        let mut e = base(&[("A", "1"), ("B", "2"), ("C", "3")]);
        e.set("B", "two");
        e.remove("A");
        e.set("D", "4");
        let got: Vec<_> = e.iter().map(|(k, v)| format!("{}={}", k.to_str().unwrap(), v.to_str().unwrap())).collect();
        assert_eq!(got, ["B=two", "C=3", "D=4"]);
        assert_eq!(e.get("C"), Some(OsStr::new("3")));
        assert_eq!(e.get("A"), None);
        assert!(!format!("{e:?}").contains("two"), "Debug must not show values");
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
