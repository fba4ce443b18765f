//! Entry points for the fuzz targets (fuzz/) and for their regression test
//! (tests/fuzz_regressions.rs): each feeds arbitrary bytes to a parser, which
//! must return a value or an error and never panic.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Split `data` into NUL-separated words.
fn words(data: &[u8]) -> Vec<OsString> {
    data.split(|&b| b == 0).map(|w| OsString::from_vec(w.to_vec())).collect()
}

/// Command line and `PIDONE_*` variables: the first word up to `\n` is
/// `NAME=value` variables separated by `\x01`, the rest are the arguments.
pub fn cli(data: &[u8]) {
    let (vars, args) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (data.get(..i).unwrap_or(&[]), data.get(i + 1..).unwrap_or(&[])),
        None => (&[][..], data),
    };
    let vars: Vec<(String, OsString)> = vars
        .split(|&b| b == 1)
        .filter_map(|kv| {
            let s = std::str::from_utf8(kv).ok()?;
            let (k, v) = s.split_once('=')?;
            Some((format!("PIDONE_{k}"), OsString::from(v)))
        })
        .collect();
    let lookup = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let _ = crate::cli::parse(words(args), &lookup);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(d) = crate::cli::parse_duration(s) {
            let _ = crate::time::later(std::time::Instant::now(), d);
        }
        let _ = crate::cli::parse_bool(s);
        let _ = crate::signals::parse(s);
        let _ = crate::signals::parse_map_to(s);
        let _ = crate::signals::SignalMap::default().add(s);
        let _ = crate::cli::parse_source(s);
    }
}

/// The user spec grammar and the /etc/passwd and /etc/group parsers.
pub fn user(data: &[u8]) {
    crate::log::configure(crate::log::Level::Error, crate::log::Format::Text);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::user::spec::parse(s);
        let _ = crate::user::spec::parse_id(s);
    }
    let _ = crate::user::db::parse_users("/etc/passwd", data);
    let _ = crate::user::db::parse_groups("/etc/group", data);
}

/// A scope that keeps every definition, so interpolation sees earlier lines.
#[derive(Default)]
struct Vars(Vec<(String, Vec<u8>)>);

impl crate::env::dotenv::Scope for Vars {
    fn lookup(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }

    fn define(&mut self, name: &str, value: Option<Vec<u8>>, _line: usize) {
        if let Some(v) = value {
            self.0.push((name.to_string(), v));
        }
    }
}

/// The env-file parser with interpolation, its writer (whatever it writes
/// must read back to the same value), and the secret-name mapper.
pub fn env(data: &[u8]) {
    use crate::env::dotenv::{self, Scope};
    let mut vars = Vars::default();
    let _ = dotenv::parse(data, &mut vars);
    let _ = crate::env::secrets::secret_name(std::ffi::OsStr::from_bytes(data));
    if let Ok(value) = std::str::from_utf8(data) {
        // Values above the per-value limit are refused by design, not written.
        if !value.contains('\0') && value.len() <= dotenv::MAX_VALUE {
            let line = format!("K={}\n", dotenv::quote(value));
            let mut back = Vars::default();
            let parsed = dotenv::parse(line.as_bytes(), &mut back);
            if parsed.is_err() || back.lookup("K") != Some(value.as_bytes()) {
                // A writer/parser disagreement is a bug the fuzzer must report.
                std::process::abort();
            }
        }
    }
}

/// The DNS reply parser (against a fixed query), and the resolv.conf and
/// /etc/hosts parsers with the search-list expansion.
pub fn dns(data: &[u8]) {
    use crate::probe::dns;
    if let Some(q) = dns::encode_query(0x1234, "db.svc.test", 1) {
        let _ = dns::parse_reply(data, &q);
    }
    let text = String::from_utf8_lossy(data);
    let conf = dns::parse_resolv_conf(&text);
    let _ = dns::candidates("db", &conf);
    let _ = dns::hosts_lookup(&text, "db");
}

/// A connection that replays `data` as the server's bytes, in reads of the
/// sizes the first bytes pick (so header and chunk boundaries fall anywhere),
/// and swallows what is written to it.
struct Replay<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl std::io::Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let pick = self.sizes.get(self.turn % self.sizes.len().max(1)).copied().unwrap_or(255);
        self.turn += 1;
        let n = usize::from(pick).max(1).min(buf.len()).min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(now);
        }
        self.data = rest;
        Ok(n)
    }
}

impl std::io::Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl crate::probe::http::Conn for Replay<'_> {
    fn set_timeouts(&self, _: std::time::Duration) -> std::io::Result<()> {
        Ok(())
    }
}

/// The HTTP response reader (status line, headers, interim 1xx replies,
/// chunked and sized bodies, the body search), fed arbitrary server bytes.
pub fn http(data: &[u8]) {
    use crate::probe::deadline::Deadline;
    use crate::probe::http::{Request, exchange};
    let (sizes, body) = data.split_at(data.len().min(4));
    let req = Request { method: crate::config::Method::Get, host: "h", path: "/", auth: None, headers: &[] };
    let dl = Deadline::new(std::time::Duration::from_secs(5));
    let needle: Option<&[u8]> = if sizes.first().is_some_and(|b| b & 1 == 1) { Some(b"ok") } else { None };
    let _ = exchange(&mut Replay { data: body, sizes, turn: 0 }, &req, needle, &dl);
}
