//! One check of one target within one deadline ([`attempt`]), how an HTTP
//! answer is judged ([`HttpCheck`], [`Expect`]), and the probe's one line.

use super::deadline::Deadline;
use super::failure::{Complaint, Failure};
use super::http::{self, Request, Response};
use super::target::{Check, Dest, HttpTarget, ProbeTarget};
use super::{net, target};
use crate::config::Method;
use crate::error::{Error, Result};
use std::time::Duration;

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
        // Three digits: `0200` is not a status code.
        let code = |c: &str| Some(c.trim_ascii()).filter(|c| c.len() == 3).and_then(|c| target::number(c, 100..=599));
        let mut ranges = Vec::new();
        let mut text = String::new();
        for item in s.split(',') {
            let item = item.trim_ascii();
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

/// How an HTTP target is checked: the request's method and extra headers,
/// and what makes its answer healthy.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    pub method: Method,
    pub expect: Expect,
    pub needle: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl HttpCheck {
    /// The defaults `wait` uses: GET, 200-399, no body check.
    pub fn plain() -> HttpCheck {
        HttpCheck {
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
        Some((name, value)) => return Ok((name.to_string(), value.trim_ascii().to_string())),
    };
    Err(Error::config(format!("-H: {why} (expected 'Name: value')")))
}

/// One HTTP exchange with `target`, bounded by `dl`.
fn http_exchange(target: &HttpTarget, spec: &HttpCheck, dl: &Deadline) -> std::result::Result<Response, Failure> {
    let HttpTarget { dest, host, path, auth } = target;
    let req = Request { method: spec.method, host, path, auth: auth.as_deref(), headers: &spec.headers };
    let needle = spec.needle.as_deref().map(str::as_bytes);
    match dest {
        Dest::Tcp(h, port) => http::exchange(&mut net::connect_tcp(h, *port, dl)?, &req, needle, dl),
        Dest::Unix(p) => http::exchange(&mut net::connect_unix(p, dl)?, &req, needle, dl),
    }
}

/// Why a response is unhealthy, if it is.
fn complaint(resp: &Response, spec: &HttpCheck) -> Option<Complaint> {
    if !spec.expect.contains(resp.status) {
        Some(Complaint::Status(spec.expect.text.clone()))
    } else if resp.found == Some(false) {
        Some(Complaint::BodyLacks(spec.needle.clone().unwrap_or_default()))
    } else {
        None
    }
}

/// One check of `target` within `budget`: Ok when healthy, else the reason.
pub fn attempt(target: &ProbeTarget, spec: &HttpCheck, budget: Duration) -> std::result::Result<(), Failure> {
    let dl = Deadline::new(budget);
    match &target.check {
        Check::Http(http) => {
            let resp = http_exchange(http, spec, &dl)?;
            complaint(&resp, spec).map_or(Ok(()), |why| Err(Failure::Unhealthy { status: resp.status, why }))
        }
        Check::Tcp(h, port) => net::connect_tcp(h, *port, &dl).map(drop),
        Check::File(p) => match std::fs::metadata(p) {
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::Os(crate::error::io_text(&e))),
        },
    }
}

/// `0.4ms`, `12ms`, `1.25s`.
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
pub fn probe_line(target: &ProbeTarget, spec: &HttpCheck, timeout: Duration) -> (bool, String) {
    let dl = Deadline::new(timeout);
    let (method, result) = match &target.check {
        Check::Http(http) => {
            let result = http_exchange(http, spec, &dl).map(|resp| {
                let why = complaint(&resp, spec);
                let elapsed = show_elapsed(resp.elapsed);
                match why {
                    None => (true, format!(" -> {} in {elapsed}", resp.status)),
                    Some(why) => (false, format!(" -> {} in {elapsed}{why}", resp.status)),
                }
            });
            (http::method_name(spec.method), result)
        }
        Check::Tcp(h, port) => {
            let result = net::connect_tcp(h, *port, &dl);
            ("", result.map(|_| (true, format!(" connected in {}", show_elapsed(dl.start.elapsed())))))
        }
        Check::File(_) => ("", Err(Failure::NotProbeTarget)),
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
        for bad in ["", "abc", "99", "600", "300-200", "200,", "2-", "+200", "6xx", "0200", "200-0300", "000", "999"] {
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
}
