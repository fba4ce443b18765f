//! The environment being built: an ordered set of variables indexed by
//! name ([`Environment`]), and what the sources changed in it ([`Loader`]).
//! pidone never calls setenv: the result is handed to execve as it is.

use crate::error::{Error, Result};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;

/// Whether `s` is a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// An ordered set of variables; the last `set` of a name wins.
#[derive(Clone, Default)]
pub struct Environment {
    /// Every name set, in the order first set, with its value (`None` once
    /// removed). A position never changes once given.
    vars: Vec<(OsString, Option<OsString>)>,
    /// Name → position in `vars`: a hash table (see [`Environment::find`]);
    /// each slot holds 0 (empty) or a position + 1.
    index: Vec<usize>,
    /// How many slots of `index` are taken.
    used: usize,
}

/// Names only: an environment holds secrets, and Debug output ends up in logs.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(k, _)| k)).finish()
    }
}

/// FNV-1a, the index's hash: small and fast. Names are not secret, and a
/// set of names made to collide only slows the loading of its own file.
fn hash(name: &[u8]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

impl Environment {
    /// An environment of `pairs`, in order (for tests).
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Environment {
        let mut e = Environment::default();
        for (k, v) in pairs {
            e.set(*k, *v);
        }
        e
    }

    /// pidone's own environment (step 1 of the contract).
    pub fn from_process() -> Self {
        Environment::from_vars(std::env::vars_os())
    }

    /// `vars` in their order; a name given twice keeps its first place and
    /// its last value.
    pub(super) fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars = vars.into_iter();
        let mut e = Environment::with_room(vars.size_hint().0);
        for (k, v) in vars {
            e.set(k, v);
        }
        e
    }

    /// An empty environment with room for `n` names, so that loading them
    /// allocates `vars` and the index once instead of doubling from empty.
    fn with_room(n: usize) -> Self {
        // Kept at most half full, as `insert` wants (see `find`).
        let slots = n.saturating_mul(2).checked_next_power_of_two().unwrap_or(0).max(16);
        Environment { vars: Vec::with_capacity(n), index: vec![0; slots], used: 0 }
    }

    /// Open addressing with linear probing over a power-of-two `index` that
    /// is kept at most half full, so the search ends at `name`'s slot,
    /// `Ok((slot, position))`, or at an empty one, `Err(slot)`: O(1) on
    /// average, whatever the order names come in.
    fn find(&self, name: &[u8]) -> std::result::Result<(usize, usize), usize> {
        let mask = self.index.len().wrapping_sub(1);
        let mut slot = hash(name) & mask;
        loop {
            match self.index.get(slot) {
                Some(&p) if p > 0 => {
                    if self.vars.get(p - 1).is_some_and(|(k, _)| k.as_bytes() == name) {
                        return Ok((slot, p - 1));
                    }
                }
                _ => return Err(slot),
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Double the index (at least 16 slots) and place every name again.
    fn grow(&mut self) {
        let size = self.index.len().saturating_mul(2).max(16);
        let old = std::mem::replace(&mut self.index, vec![0; size]);
        for p in old.into_iter().filter(|&p| p > 0) {
            let Some((name, _)) = self.vars.get(p - 1) else { continue };
            if let Err(slot) = self.find(name.as_bytes()) {
                if let Some(s) = self.index.get_mut(slot) {
                    *s = p;
                }
            }
        }
    }

    /// Where `name` sits in `vars`, if it is set.
    fn position(&self, name: &[u8]) -> Option<usize> {
        let (_, at) = self.find(name).ok()?;
        self.vars.get(at)?.1.as_ref().map(|_| at)
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.position(name.as_bytes())
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(self.slot(name)?)?.1.as_deref()
    }

    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.insert(name.into(), value.into());
    }

    /// Set `name` and return its position in `vars`. A name set again keeps
    /// its place; one that was removed comes back at the end.
    fn insert(&mut self, name: OsString, value: OsString) -> usize {
        if let Some(at) = self.position(name.as_bytes()) {
            if let Some((_, v)) = self.vars.get_mut(at) {
                *v = Some(value);
            }
            return at;
        }
        if self.used.saturating_add(1).saturating_mul(2) > self.index.len() {
            self.grow();
        }
        let at = self.vars.len();
        let slot = match self.find(name.as_bytes()) {
            Ok((slot, _)) => slot,
            Err(slot) => {
                self.used += 1;
                slot
            }
        };
        if let Some(s) = self.index.get_mut(slot) {
            *s = at + 1;
        }
        self.vars.push((name, Some(value)));
        at
    }

    pub fn remove(&mut self, name: &str) {
        if let Some(at) = self.slot(name) {
            if let Some((_, v)) = self.vars.get_mut(at) {
                *v = None;
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars.iter().filter_map(|(k, v)| Some((k.as_os_str(), v.as_deref()?)))
    }

    /// `NAME=value` strings for execve. Entries that cannot be passed (a NUL
    /// byte, which std never yields from the process environment) are left out.
    pub fn to_envp(&self) -> Vec<Rc<CStr>> {
        let mut envp = Vec::with_capacity(self.vars.len());
        for (k, v) in self.iter() {
            // Room for the `=` and for the NUL that CString::new appends, so it never reallocates.
            let mut s = Vec::with_capacity(k.len() + v.len() + 2);
            s.extend_from_slice(k.as_bytes());
            s.push(b'=');
            s.extend_from_slice(v.as_bytes());
            envp.extend(CString::new(s).ok().map(Rc::from));
        }
        envp
    }
}

/// The environment being built, and what the sources changed in it.
pub(crate) struct Loader {
    pub(super) env: Environment,
    /// How many variables came from pidone's own environment: they hold the
    /// first `base_len` positions of `env` (env files do not override them
    /// without `--env-override`).
    pub(super) base_len: usize,
    pub(super) override_existing: bool,
    /// Positions in `env` of the variables a source set, in the order they
    /// were first set.
    pub(super) loaded: Vec<usize>,
    /// Whether the variable at each position of `env` is in `loaded`.
    pub(super) listed: Vec<bool>,

    /// Names a source removed (NAME_FILE after `--file-env NAME`).
    pub(super) removed: Vec<String>,
}

impl Loader {
    pub(super) fn new(base: Environment, override_existing: bool) -> Loader {
        let base_len = base.vars.len();
        Loader { env: base, base_len, override_existing, loaded: Vec::new(), listed: Vec::new(), removed: Vec::new() }
    }

    /// Whether `name` was set in pidone's own environment.
    pub(super) fn in_base(&self, name: &str) -> bool {
        self.env.slot(name).is_some_and(|at| at < self.base_len)
    }

    pub(super) fn load(&mut self, name: &str, value: OsString) {
        let at = self.env.insert(name.into(), value);
        if self.listed.len() <= at {
            self.listed.resize(at + 1, false);
        }
        if let Some(listed @ false) = self.listed.get_mut(at) {
            *listed = true;
            self.loaded.push(at);
        }
    }

    pub(super) fn remove(&mut self, name: &str) {
        self.env.remove(name);
        self.removed.push(name.to_string());
    }

    /// The variables the sources set, with their final values.
    pub(super) fn loaded(&self) -> impl Iterator<Item = (&str, &OsStr)> {
        self.loaded.iter().filter_map(|&at| {
            let (k, v) = self.env.vars.get(at)?;
            Some((k.to_str()?, v.as_deref()?))
        })
    }

    /// The environment for execve, once every variable is known to fit.
    pub(crate) fn finish(self) -> Result<Environment> {
        self.check_exec_limits()?;
        Ok(self.env)
    }

    /// Linux refuses (E2BIG) to pass one `NAME=value` longer than this.
    pub(super) fn check_exec_limits(&self) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn base(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs)
    }

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

    /// The hash index against a plain list: random sets, removes and gets
    /// over a few hundred names (so the table grows, names come back after
    /// a remove, and probes run over taken slots) agree at every step.
    #[test]
    fn index_agrees_with_a_plain_list() {
        let mut rng = crate::test_rng::Rng(99);
        let mut e = Environment::default();
        let mut model: Vec<(String, String)> = Vec::new();
        for step in 0..30_000 {
            let name = format!("N{}", rng.below(700));
            match rng.below(4) {
                0 => {
                    e.remove(&name);
                    model.retain(|(k, _)| *k != name);
                }
                1 => assert_eq!(
                    e.get(&name).map(|v| v.to_str().unwrap()),
                    model.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()),
                    "step {step}"
                ),
                _ => {
                    let value = step.to_string();
                    e.set(name.as_str(), value.as_str());
                    match model.iter_mut().find(|(k, _)| *k == name) {
                        Some(slot) => slot.1 = value,
                        None => model.push((name, value)),
                    }
                }
            }
        }
        let got: Vec<(String, String)> =
            e.iter().map(|(k, v)| (k.to_str().unwrap().to_string(), v.to_str().unwrap().to_string())).collect();
        assert_eq!(got, model);
        e.set(OsString::from_vec(b"\xff\xfe".to_vec()), "binary name");
        assert_eq!(e.iter().last().map(|(k, _)| k.as_bytes()), Some(&b"\xff\xfe"[..]));
    }

    #[test]
    fn process_environment_is_indexed_once_and_duplicates_keep_the_last() {
        let pairs =
            |v: &[(&str, &str)]| v.iter().map(|(k, x)| (OsString::from(k), OsString::from(x))).collect::<Vec<_>>();
        let e = Environment::from_vars(pairs(&[("B", "1"), ("A", "2"), ("C", "3")]));
        assert_eq!(e.get("A"), Some(OsStr::new("2")));
        assert_eq!(e.get("C"), Some(OsStr::new("3")));
        assert_eq!(e.iter().map(|(k, _)| k.to_str().unwrap()).collect::<Vec<_>>(), ["B", "A", "C"], "order kept");
        let e = Environment::from_vars(pairs(&[("A", "1"), ("B", "2"), ("A", "3")]));
        assert_eq!(e.get("A"), Some(OsStr::new("3")));
        assert_eq!(e.iter().count(), 2);
        let l = Loader::new(e, false);
        assert!(l.in_base("A") && l.in_base("B") && !l.in_base("C"));
        // Sized once for the names it is given: neither list grows while they load.
        let many: Vec<_> = (0..100).map(|i| (OsString::from(format!("V{i}")), OsString::from("x"))).collect();
        let e = Environment::from_vars(many);
        assert_eq!((e.vars.capacity(), e.index.len()), (100, 256));
        assert_eq!(e.get("V99"), Some(OsStr::new("x")));
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
}
