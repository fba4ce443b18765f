//! Entry points for the fuzz targets (fuzz/) and for their regression test
//! (tests/fuzz_regressions.rs): each feeds arbitrary bytes to a parser, which
//! must return a value or an error and never panic.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

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
        let _ = crate::cli::parse_duration(s);
        let _ = crate::cli::parse_bool(s);
        let _ = crate::signals::parse(s, true);
        let _ = crate::signals::SignalMap::default().add(s);
        let _ = crate::cli::Source::parse(s);
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
