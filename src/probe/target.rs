//! TARGET grammar: `/path`, `http://host:port/path`, `tcp://host:port`,
//! `file:///path`, and where a `/path` probe's port comes from.
//!
//! Everything is validated here, before any attempt: a bad target is a usage
//! error, never something to retry. Credentials (`user:pass@`) are kept only
//! to build a Basic `Authorization` header; [`ProbeTarget::shown`] and every error
//! message leave them out.

use crate::error::{Error, Result};
use std::fmt::Arguments;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// The default port of a `/path` probe when nothing sets one.
pub const DEFAULT_PORT: u16 = 8000;

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// `localhost`: 127.0.0.1, then ::1.
    Localhost,
    Ip(IpAddr),
    /// A name for the resolver (/etc/hosts, DNS).
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Tcp(Host, u16),
    Unix(PathBuf),
}

/// An HTTP request: `host` is the `Host` header, `path` the request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    pub dest: Dest,
    pub host: String,
    pub path: String,
    pub auth: Option<String>,
}

/// What one check does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Http(HttpTarget),
    /// A TCP connect.
    Tcp(Host, u16),
    /// The path exists.
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub check: Check,
    /// The target as printed: scheme, host, port, path; never credentials.
    pub shown: String,
    /// For `/path` probes: where the port came from, e.g. `port 8000 from $PORT`.
    pub port_note: Option<String>,
}

/// The pieces of an `http://` or `tcp://` URL.
struct Url<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: Host,
    /// The host as written (IPv6 in brackets), lower case, for `shown` and `Host`.
    host_text: String,
    port: Option<u16>,
    /// Path and query, starting with `/`; the fragment is dropped.
    path: String,
}

/// A URL's scheme, its userinfo, host and port, and the rest (path, query,
/// fragment).
///
/// Where the userinfo ends: a password may hold an unencoded `/`, `?`, `#` or
/// `@`, so the authority cannot simply end at the first `/`, `?` or `#`. The
/// rule: when an `@` follows `://`, the authority ends at the first `/`, `?`
/// or `#` after the FIRST `@`, and the userinfo is everything up to the LAST
/// `@` before that end. So `http://u:p/ss@h/x` has the password `p/ss` and the
/// path `/x`, and `http://u:p@h/a@b` the path `/a@b`; an `@` in the path or
/// query of a URL without credentials is written `%40`. Parsing and
/// [`redact`] share this rule, so no message shows text sent as credentials.
fn split_url(s: &str) -> Option<(&str, Option<&str>, &str, &str)> {
    let i = s.as_bytes().windows(3).position(|w| w == b"://")?;
    let (scheme, rest) = (s.get(..i)?, s.get(i + 3..)?);
    let from = rest.find('@').unwrap_or(0);
    let end = rest.get(from..)?.find(['/', '?', '#']).map_or(rest.len(), |e| from + e);
    let (authority, tail) = rest.split_at_checked(end)?;
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    Some((scheme, userinfo, hostport, tail))
}

/// `s` with any `user:pass@` removed, for messages about a target that may not
/// parse. Without `://`, everything up to the last `@` is left out too.
pub fn redact(s: &str) -> String {
    match split_url(s) {
        Some((scheme, Some(_), hostport, tail)) => format!("{scheme}://{hostport}{tail}"),
        None if s.contains('@') => format!("…@{}", s.rsplit_once('@').map_or("", |(_, h)| h)),
        _ => s.to_string(),
    }
}

fn bad(target: &str, why: Arguments<'_>) -> Error {
    Error::config(format!("invalid target '{}': {why}", redact(target)))
}

/// A decimal number in `range`: digits only, no sign or spaces.
pub fn number(s: &str, range: RangeInclusive<u16>) -> Option<u16> {
    crate::number::decimal(s).and_then(|n| u16::try_from(n).ok()).filter(|n| range.contains(n))
}

/// A request path or query: printable ASCII without spaces (percent-encode the rest).
fn check_path(target: &str, path: &str) -> Result<()> {
    match path.bytes().find(|b| !(0x21..0x7f).contains(b)) {
        None => Ok(()),
        Some(b) => Err(bad(target, format_args!("byte 0x{b:02x} in the path (percent-encode spaces and non-ASCII)"))),
    }
}

fn parse_port(target: &str, s: &str) -> Result<u16> {
    match number(s, 1..=65535) {
        Some(p) => Ok(p),
        None if s.is_empty() => Err(bad(target, format_args!("empty port after ':'"))),
        None => Err(bad(target, format_args!("invalid port '{s}' (1-65535)"))),
    }
}

/// A host that is not in brackets (the caller has split off any port).
fn parse_host(target: &str, s: &str) -> Result<Host> {
    if s.is_empty() {
        return Err(bad(target, format_args!("no host")));
    }
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(Host::Localhost);
    }
    if let Ok(ip) = s.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        return Err(bad(target, format_args!("invalid host name '{s}'")));
    }
    Ok(Host::Name(s.to_ascii_lowercase()))
}

fn parse_url(target: &str) -> Result<Url<'_>> {
    let Some((scheme, userinfo, hostport, tail)) = split_url(target) else {
        return Err(bad(
            target,
            format_args!("expected /path, http://host:port/path, tcp://host:port or file:///path"),
        ));
    };
    let tail = tail.split_once('#').map_or(tail, |(p, _)| p);
    let path = if tail.starts_with('/') { tail.to_string() } else { format!("/{tail}") };
    check_path(target, &path)?;
    // The host as written and the port text after its ':'.
    let (host, host_text, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return Err(bad(target, format_args!("unclosed '[' in the host")));
        };
        let Ok(ip) = v6.parse::<Ipv6Addr>() else {
            return Err(bad(target, format_args!("invalid IPv6 address '{v6}'")));
        };
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(bad(target, format_args!("unexpected '{after}' after the IPv6 address"))),
        };
        (Host::Ip(IpAddr::V6(ip)), hostport.get(..v6.len() + 2).unwrap_or(hostport), port)
    } else {
        let (h, port) = match hostport.split_once(':') {
            Some((_, p)) if p.contains(':') => {
                return Err(bad(target, format_args!("an IPv6 address must be in brackets, e.g. http://[::1]:8080/")));
            }
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        (parse_host(target, h)?, h, port)
    };
    let port = match port {
        Some(p) => Some(parse_port(target, p)?),
        None => None,
    };
    Ok(Url { scheme, userinfo, host, host_text: host_text.to_ascii_lowercase(), port, path })
}

/// Decode `%XX` escapes (credentials in URLs are percent-encoded).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|&h| (h as char).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ABC.get(((n >> (18 - 6 * k)) & 63) as usize).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Basic …` credentials from a URL's `user:pass`.
fn basic_auth(userinfo: Option<&str>) -> Option<String> {
    userinfo.filter(|u| !u.is_empty()).map(|u| format!("Basic {}", base64(&percent_decode(u))))
}

/// An `http://` URL (or a `/path`) as a check; `port` defaults to 80, and
/// `unix` sends the request over that socket instead.
fn http_target(url: Url, port: Option<u16>, unix: Option<PathBuf>) -> ProbeTarget {
    let Url { userinfo, host: ip, host_text, port: url_port, path, .. } = url;
    let port = url_port.or(port).unwrap_or(80);
    let host = if port == 80 { host_text.clone() } else { format!("{host_text}:{port}") };
    let (dest, shown) = match unix {
        Some(sock) => {
            let shown = format!("http://{host}{path} via unix:{}", sock.to_string_lossy());
            (Dest::Unix(sock), shown)
        }
        None => (Dest::Tcp(ip, port), format!("http://{host_text}:{port}{path}")),
    };
    ProbeTarget {
        check: Check::Http(HttpTarget { dest, host, path, auth: basic_auth(userinfo) }),
        shown,
        port_note: None,
    }
}

fn tcp_target(target: &str, url: Url, port: Option<u16>) -> Result<ProbeTarget> {
    if url.path != "/" {
        return Err(bad(target, format_args!("a tcp:// target has no path")));
    }
    let Some(port) = url.port.or(port) else {
        return Err(bad(target, format_args!("missing port (tcp://host:port)")));
    };
    let shown = format!("tcp://{}:{port}", url.host_text);
    Ok(ProbeTarget { check: Check::Tcp(url.host, port), shown, port_note: None })
}

/// An `http://` or `tcp://` TARGET; `schemes` names those the caller accepts.
fn url_target(raw: &str, port: Option<u16>, unix: Option<PathBuf>, schemes: &str) -> Result<ProbeTarget> {
    let url = parse_url(raw)?;
    if let (Some(a), Some(b)) = (url.port, port) {
        if a != b {
            return Err(bad(raw, format_args!("--port {b} conflicts with port {a} in the URL")));
        }
    }
    match url.scheme.to_ascii_lowercase().as_str() {
        "http" => Ok(http_target(url, port, unix)),
        "tcp" if unix.is_some() => Err(bad(raw, format_args!("--unix sends HTTP; a tcp:// target cannot use it"))),
        "tcp" => tcp_target(raw, url, port),
        "https" => Err(bad(
            raw,
            format_args!(
                "https is not supported (pidone has no TLS); probe the plain-HTTP port or use tcp://host:port"
            ),
        )),
        s => Err(bad(raw, format_args!("unsupported scheme '{s}' ({schemes})"))),
    }
}

/// Where a `/path` probe's port comes from: `--port`, `$PIDONE_PROBE_PORT`,
/// `$PORT`, else 8000. An empty variable counts as unset.
pub fn probe_port(port: Option<u16>, vars: &dyn Fn(&str) -> Option<String>) -> Result<(u16, String)> {
    if let Some(p) = port {
        return Ok((p, format!("port {p} from --port")));
    }
    for name in ["PIDONE_PROBE_PORT", "PORT"] {
        let Some(v) = vars(name).filter(|v| !v.trim_ascii().is_empty()) else { continue };
        let v = v.trim_ascii();
        let Some(p) = number(v, 1..=65535) else {
            return Err(Error::config(format!("invalid port '{v}' in ${name} (1-65535)")));
        };
        return Ok((p, format!("port {p} from ${name}")));
    }
    Ok((DEFAULT_PORT, format!("port {DEFAULT_PORT} by default; set --port or $PORT")))
}

/// `pidone probe`'s TARGET with `--port` and `--unix`.
pub fn parse_probe(
    target: Option<&str>,
    port: Option<u16>,
    unix: Option<PathBuf>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<ProbeTarget> {
    if unix.is_some() && port.is_some() {
        return Err(Error::config("--port and --unix exclude each other"));
    }
    let raw = target.unwrap_or("/");
    if !raw.starts_with('/') {
        return url_target(raw, port, unix, "http, tcp");
    }
    let path = raw.split_once('#').map_or(raw, |(p, _)| p).to_string();
    check_path(raw, &path)?;
    let url = |host, host_text: &str, port| Url {
        scheme: "http",
        userinfo: None,
        host,
        host_text: host_text.to_string(),
        port,
        path,
    };
    if unix.is_some() {
        return Ok(http_target(url(Host::Localhost, "localhost", None), None, unix));
    }
    let (port, note) = probe_port(port, vars)?;
    let local = url(Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)), "127.0.0.1", Some(port));
    Ok(ProbeTarget { port_note: Some(note), ..http_target(local, None, None) })
}

/// One `pidone wait` / `--wait` target.
pub fn parse_wait(raw: &str) -> Result<ProbeTarget> {
    if let Some(rest) = raw.get(..7).filter(|s| s.eq_ignore_ascii_case("file://")).and(raw.get(7..)) {
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') || path.len() < 2 {
            return Err(bad(raw, format_args!("expected file:///absolute/path")));
        }
        return Ok(ProbeTarget {
            check: Check::File(PathBuf::from(path)),
            shown: format!("file://{path}"),
            port_note: None,
        });
    }
    url_target(raw, None, None, "tcp, http, file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn path_targets_use_the_port_precedence() {
        let vars = |n: &str| match n {
            "PIDONE_PROBE_PORT" => Some("9001".to_string()),
            "PORT" => Some("9002".to_string()),
            _ => None,
        };
        let t = parse_probe(Some("/health"), Some(9000), None, &vars).unwrap();
        assert_eq!(t.shown, "http://127.0.0.1:9000/health");
        assert_eq!(t.port_note.as_deref(), Some("port 9000 from --port"));
        let t = parse_probe(Some("/health"), None, None, &vars).unwrap();
        assert_eq!(t.shown, "http://127.0.0.1:9001/health");
        let only_port = |n: &str| (n == "PORT").then(|| "9002".to_string());
        let t = parse_probe(Some("/health"), None, None, &only_port).unwrap();
        assert_eq!(t.port_note.as_deref(), Some("port 9002 from $PORT"));
        let empty = |n: &str| (n == "PIDONE_PROBE_PORT").then(String::new);
        let t = parse_probe(None, None, None, &empty).unwrap();
        assert_eq!(t.shown, "http://127.0.0.1:8000/");
        for bad in ["abc", "0", "70000", "-1", "+80"] {
            let v = move |n: &str| (n == "PORT").then(|| bad.to_string());
            let e = parse_probe(None, None, None, &v).unwrap_err();
            assert!(e.to_string().contains("$PORT"), "{e}");
        }
    }

    #[test]
    fn urls_parse_and_never_show_credentials() {
        let t = parse_probe(Some("http://bob:s3cret@[::1]:8080/ready?x=1#frag"), None, None, &none).unwrap();
        assert_eq!(t.shown, "http://[::1]:8080/ready?x=1");
        match &t.check {
            Check::Http(HttpTarget { dest, host, path, auth }) => {
                assert_eq!(*dest, Dest::Tcp(Host::Ip("::1".parse().unwrap()), 8080));
                assert_eq!(host, "[::1]:8080");
                assert_eq!(path, "/ready?x=1");
                assert_eq!(auth.as_deref(), Some("Basic Ym9iOnMzY3JldA=="));
            }
            other => panic!("{other:?}"),
        }
        let t = parse_probe(Some("http://LocalHost:81"), None, None, &none).unwrap();
        assert_eq!(t.shown, "http://localhost:81/");
        assert!(matches!(t.check, Check::Http(HttpTarget { dest: Dest::Tcp(Host::Localhost, 81), .. })));
        let t = parse_probe(Some("http://db.internal/x"), None, None, &none).unwrap();
        assert_eq!(t.shown, "http://db.internal:80/x");
        let t = parse_probe(Some("tcp://10.0.0.1:5432"), None, None, &none).unwrap();
        assert_eq!(t.check, Check::Tcp(Host::Ip("10.0.0.1".parse().unwrap()), 5432));
        for bad in [
            "https://a:b@x:443/",
            "ftp://x:1/",
            "tcp://db",
            "tcp://db:",
            "tcp://db:5432/path",
            "http://::1:80/",
            "http://[::1:80/",
            "http://x:99999/",
            "http://x y:80/",
            "http://x:80/a b",
            "http://x:80/a\r\nX: y",
            "db:5432",
            "http://:80/",
        ] {
            let e = parse_probe(Some(bad), None, None, &none).unwrap_err();
            assert!(!e.to_string().contains("a:b@"), "{e}");
        }
        assert_eq!(redact("http://u:p@h:1/p@q"), "http://h:1/p@q");
    }

    #[test]
    fn passwords_with_slashes_hashes_and_queries_stay_hidden() {
        for pw in ["pw/SECRET", "pw#SECRET", "pw?SECRET", "pw/S?E#C@RET", "pw@SECRET"] {
            for host in ["127.0.0.1:8080", "127.0.0.1:80x", "h", "[::1", "a b", ""] {
                let raw = format!("http://user:{pw}@{host}/p");
                let text = match parse_probe(Some(&raw), None, None, &none) {
                    Ok(t) => {
                        let Check::Http(HttpTarget { auth, .. }) = &t.check else { panic!("{raw}") };
                        let creds = format!("user:{pw}");
                        assert_eq!(auth.as_deref(), Some(format!("Basic {}", base64(creds.as_bytes())).as_str()));
                        t.shown
                    }
                    Err(e) => e.to_string(),
                };
                assert!(!text.contains("SECRET") && !text.contains("pw"), "{raw}: {text}");
                assert!(!redact(&raw).contains("SECRET"), "{raw}");
            }
        }
        assert!(!redact("http:/user:pw@h/").contains("pw"));
    }

    #[test]
    fn unix_and_port_conflicts() {
        let t = parse_probe(Some("/h"), None, Some("/run/a.sock".into()), &none).unwrap();
        assert_eq!(t.shown, "http://localhost/h via unix:/run/a.sock");
        assert!(parse_probe(Some("/h"), Some(1), Some("/s".into()), &none).is_err());
        assert!(parse_probe(Some("tcp://x:1"), None, Some("/s".into()), &none).is_err());
        assert!(parse_probe(Some("http://x:1/"), Some(2), None, &none).is_err());
        assert!(parse_probe(Some("tcp://x"), Some(2), None, &none).is_ok());
    }

    #[test]
    fn wait_targets() {
        assert_eq!(parse_wait("file:///tmp/ready").unwrap().check, Check::File("/tmp/ready".into()));
        assert!(parse_wait("file://tmp/ready").is_err());
        assert!(parse_wait("file:///").is_err());
        assert!(parse_wait("tcp://[::1]:5432").is_ok());
        assert!(parse_wait("tcp://db").is_err());
        assert!(parse_wait("redis://db:6379").is_err());
        assert!(parse_wait("/health").is_err());
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg==")] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(percent_decode("a%3Ab%zz"), b"a:b%zz");
    }
}
