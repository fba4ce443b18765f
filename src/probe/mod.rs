//! Contract sections 5 and 6: `pidone probe`, `pidone wait` and `--wait`.
//!
//! `target` parses TARGETs, `dns` resolves names, `http` runs one bounded exchange, `wait` the retry
//! loop. Probe and wait share [`attempt`]: one check of one target within one
//! deadline.

pub(crate) mod dns;
pub(crate) mod http;
pub(crate) mod target;
mod wait;

pub use wait::{End, parse_all, wait_all};

use crate::config::Method;
use crate::error::{Error, Result};
use http::{Deadline, Request, Response};
use std::fmt::Write as _;
use std::time::Duration;
use target::{Check, Dest, Target};

/// The probe's output line is cut to this many bytes.
pub const MAX_LINE: usize = 300;

/// Healthy status codes: `200-399`, `200,204,300-399`, `2xx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    ranges: Vec<(u16, u16)>,
    text: String,
}

impl Expect {
    pub fn parse(s: &str) -> Result<Expect> {
        let code = |c: &str| target::number(c.trim(), 100..=599);
        let mut ranges = Vec::new();
        let mut text = String::new();
        for item in s.split(',') {
            let item = item.trim();
            let range = if let Some((a, b)) = item.split_once('-') {
                code(a).zip(code(b))
            } else if let Some(d) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
                match *d.as_bytes() {
                    [d @ b'1'..=b'5'] => Some((u16::from(d - b'0') * 100, u16::from(d - b'0') * 100 + 99)),
                    _ => None,
                }
            } else {
                code(item).map(|c| (c, c))
            };
            let why = match range {
                Some((a, b)) if a <= b => {
                    ranges.push((a, b));
                    let sep = if text.is_empty() { "" } else { "," };
                    text.extend([sep, item]);
                    continue;
                }
                Some(_) => "an empty range",
                None => "not a status code (100-599), a range of them or Nxx",
            };
            return Err(Error::config(format!("--expect '{s}': '{item}' is {why}")));
        }
        Ok(Expect { ranges, text })
    }

    pub fn contains(&self, status: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| (a..=b).contains(&status))
    }
}

/// How an HTTP target is judged.
#[derive(Debug, Clone)]
pub struct Spec {
    pub method: Method,
    pub expect: Expect,
    pub needle: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Spec {
    /// The defaults `wait` uses: GET, 200-399, no body check.
    pub fn plain() -> Spec {
        Spec {
            method: Method::Get,
            expect: Expect { ranges: vec![(200, 399)], text: "200-399".into() },
            needle: None,
            headers: Vec::new(),
        }
    }
}

/// `-H 'Name: value'`: a token name and a value without CR, LF or NUL. pidone
/// owns the framing headers. Errors never show the value.
pub fn parse_header(h: &str) -> Result<(String, String)> {
    let framing =
        |name: &str| ["connection", "content-length", "transfer-encoding"].iter().any(|f| name.eq_ignore_ascii_case(f));
    let why = match h.split_once(':') {
        None => "no ':'",
        Some((name, _)) if name.is_empty() || !name.bytes().all(http::is_tchar) => "invalid header name",
        Some((_, value)) if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) => "CR, LF or NUL in the value",
        Some((name, _)) if framing(name) => "Connection, Content-Length and Transfer-Encoding are set by pidone",
        Some((name, value)) => return Ok((name.to_string(), value.trim().to_string())),
    };
    Err(Error::config(format!("-H: {why} (expected 'Name: value')")))
}

/// One HTTP exchange with `target`, bounded by `dl`.
fn http_exchange(check: &Check, spec: &Spec, dl: &Deadline) -> std::result::Result<Response, String> {
    let Check::Http { dest, host, path, auth } = check else {
        return Err("not an HTTP target".into());
    };
    let req = Request { method: spec.method, host, path, auth: auth.as_deref(), headers: &spec.headers };
    let needle = spec.needle.as_deref().map(str::as_bytes);
    match dest {
        Dest::Tcp(h, port) => http::exchange(&mut http::connect_tcp(h, *port, dl)?, &req, needle, dl),
        Dest::Unix(p) => http::exchange(&mut http::connect_unix(p, dl)?, &req, needle, dl),
    }
}

/// Why a response is unhealthy, as the end of a line about it:
/// ` (expected 200-399)` or `, but the body lacks "ok"`.
fn complaint(resp: &Response, spec: &Spec) -> Option<String> {
    if !spec.expect.contains(resp.status) {
        Some(format!(" (expected {})", spec.expect.text))
    } else if resp.found == Some(false) {
        let mut why = String::from(", but the body lacks ");
        quote(&mut why, spec.needle.as_deref().unwrap_or(""));
        Some(why)
    } else {
        None
    }
}

/// Append `text` in double quotes, cut to 40 characters, with quotes,
/// backslashes and control characters escaped as Rust writes them.
fn quote(s: &mut String, text: &str) {
    s.push('"');
    for (i, c) in text.chars().enumerate() {
        if i == 40 {
            s.push('…');
            break;
        }
        match c {
            '"' | '\\' => s.extend(['\\', c]),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\0' => s.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{{{:x}}}", u32::from(c));
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// One check of `target` within `budget`: Ok when healthy, else the reason.
pub fn attempt(target: &Target, spec: &Spec, budget: Duration) -> std::result::Result<(), String> {
    let dl = Deadline::new(budget);
    match &target.check {
        Check::Http { .. } => {
            let resp = http_exchange(&target.check, spec, &dl)?;
            complaint(&resp, spec).map_or(Ok(()), |c| Err(format!("status {}{c}", resp.status)))
        }
        Check::Tcp(h, port) => http::connect_tcp(h, *port, &dl).map(drop),
        Check::File(p) => match std::fs::metadata(p) {
            Ok(_) => Ok(()),
            Err(e) => Err(crate::error::io_text(&e).to_string()),
        },
    }
}

/// `0.4ms`, `12ms`, `1.25s` (integer arithmetic: float formatting costs 13 KB).
fn show_elapsed(d: Duration) -> String {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    if us < 10_000 {
        format!("{}.{}ms", us / 1000, us % 1000 / 100)
    } else if us < 1_000_000 {
        format!("{}ms", us / 1000)
    } else {
        format!("{}.{:02}s", us / 1_000_000, us % 1_000_000 / 10_000)
    }
}

/// One printable line of at most [`MAX_LINE`] bytes.
fn one_line(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    if out.len() > MAX_LINE {
        let mut cut = MAX_LINE - 3;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// Run the probe; returns whether it is healthy and the line to print:
/// `healthy: GET http://127.0.0.1:8000/ -> 200 in 1.2ms`,
/// `unhealthy: tcp://db:5432: connection refused`.
pub fn probe_line(target: &Target, spec: &Spec, timeout: Duration) -> (bool, String) {
    let dl = Deadline::new(timeout);
    let (method, result) = match &target.check {
        Check::Http { .. } => {
            let result = http_exchange(&target.check, spec, &dl).map(|resp| {
                let why = complaint(&resp, spec);
                let head = format!(" -> {} in {}", resp.status, show_elapsed(resp.elapsed));
                (why.is_none(), head + why.as_deref().unwrap_or(""))
            });
            (http::method_name(spec.method), result)
        }
        Check::Tcp(h, port) => {
            let result = http::connect_tcp(h, *port, &dl);
            ("", result.map(|_| (true, format!(" connected in {}", show_elapsed(dl.start.elapsed())))))
        }
        Check::File(_) => ("", Err("not a probe target".into())),
    };
    let (ok, outcome) = result.unwrap_or_else(|why| match &target.port_note {
        Some(note) => (false, format!(": {why} ({note})")),
        None => (false, format!(": {why}")),
    });
    let state = if ok { "healthy" } else { "unhealthy" };
    let sep = if method.is_empty() { "" } else { " " };
    (ok, one_line(&format!("{state}: {method}{sep}{}{outcome}", target.shown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_lists_and_ranges() {
        let e = Expect::parse("200,204, 300-399").unwrap();
        for (s, ok) in [(200, true), (201, false), (204, true), (302, true), (399, true), (400, false)] {
            assert_eq!(e.contains(s), ok, "{s}");
        }
        assert!(Expect::parse("2xx").unwrap().contains(299));
        for bad in ["", "abc", "99", "600", "300-200", "200,", "2-", "+200", "6xx"] {
            assert!(Expect::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_are_validated() {
        assert_eq!(parse_header("X-Token:  abc ").unwrap(), ("X-Token".into(), "abc".into()));
        for bad in ["NoColon", ": v", "Bad Name: v", "X: a\r\nY: b", "X: a\nb", "Connection: keep-alive"] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lines_are_one_line_and_bounded() {
        let l = one_line(&format!("a\nb{}", "é".repeat(400)));
        assert!(l.len() <= MAX_LINE && !l.contains('\n') && l.ends_with("..."));
        assert_eq!(show_elapsed(Duration::from_micros(400)), "0.4ms");
        assert_eq!(show_elapsed(Duration::from_millis(1250)), "1.25s");
    }

    #[test]
    fn quotes_like_debug() {
        let quoted = |s: &str| {
            let mut q = String::new();
            quote(&mut q, s);
            q
        };
        for s in ["ok", "a \"b\" \\ c", "tab\there\r\n\0", "\u{1}\u{7f}\u{85}é…", &"x".repeat(40)] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
        assert_eq!(quoted(&"é".repeat(41)), format!("\"{}…\"", "é".repeat(40)));
    }
}
