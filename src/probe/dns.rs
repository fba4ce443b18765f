//! A small stub resolver for probe and wait targets, bounded by the check's
//! [`Deadline`].
//!
//! musl's getaddrinfo cannot be interrupted (its own timeout is 5 s per
//! attempt). This one does what curl or wget does in a container, and never
//! runs past the deadline:
//!
//! - /etc/hosts first (a regular file, opened non-blocking, at most
//!   [`MAX_FILE`] bytes; names and aliases compared without case; malformed
//!   lines skipped);
//! - then DNS over UDP to up to 3 `nameserver`s of /etc/resolv.conf
//!   (127.0.0.1 when none), expanding the name with `search`/`domain` and
//!   `options ndots:N` (default 1) in glibc's order: a name with at least
//!   ndots dots is tried as-is first, then with each search domain; otherwise
//!   the search names come first. A trailing dot makes a name absolute;
//! - each name is asked for A and AAAA at once, each query with its own
//!   random ID on a socket connected to the server (the kernel drops
//!   datagrams from any other address); a reply counts only with the QR bit,
//!   the query's ID and its question;
//! - the addresses are all A (or AAAA) records of the answer section, as musl
//!   takes them: a CNAME chain is followed by the server, which puts the
//!   records of the final name in the same answer. Owner names are skipped,
//!   not read, so compression pointers are never followed (no loops). IPv4
//!   addresses come first;
//! - NXDOMAIN, or an answer without addresses, moves on to the next name;
//!   silence, SERVFAIL, REFUSED, a malformed reply or ICMP "port unreachable"
//!   moves on to the next server. Each server gets an equal share of the time
//!   left (the last one all of it), and unanswered queries are sent again
//!   halfway through the share (at least every second);
//! - a truncated (TC) reply counts for the addresses it carries; one that
//!   carries none is a failure of that query (there is no TCP fallback);
//! - the A and AAAA queries are judged together, as glibc does: addresses
//!   from either are used even when the other query failed (SERVFAIL, an
//!   empty truncated reply, NXDOMAIN) or went unanswered. Once one query has
//!   its outcome, the other gets at most [`OTHER_QUERY`] more.
//!
//! resolv.conf's `options timeout:`, `attempts:` and `rotate` are ignored:
//! `--timeout` bounds the whole lookup.

use super::deadline::Deadline;
use super::failure::{DnsFail, Failure, Step};
use crate::time::later;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// /etc/hosts and /etc/resolv.conf are read up to this many bytes.
pub const MAX_FILE: usize = 64 * 1024;
const MAX_SERVERS: usize = 3;
const MAX_SEARCH: usize = 6;
/// ndots is capped as by musl and glibc.
const MAX_NDOTS: usize = 15;
/// Answer records looked at in one reply.
const MAX_RECORDS: usize = 64;
/// Largest encoded name (RFC 1035).
const MAX_NAME: usize = 255;
/// Once the A or the AAAA query has its outcome, how much longer the other
/// one is waited for.
pub const OTHER_QUERY: Duration = Duration::from_millis(250);

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

/// What /etc/resolv.conf says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    /// Each server's address and its text for messages.
    pub servers: Vec<(IpAddr, String)>,
    /// Lower case, without the trailing dot.
    pub search: Vec<String>,
    pub ndots: usize,
}

impl Default for Conf {
    fn default() -> Conf {
        Conf { servers: Vec::new(), search: Vec::new(), ndots: 1 }
    }
}

/// An address as written in resolv.conf or /etc/hosts: IPv6 may be in
/// brackets and carry a `%scope`, which is ignored.
fn parse_addr(s: &str) -> Option<(IpAddr, &str)> {
    let s = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    let s = s.split('%').next().unwrap_or(s);
    Some((s.parse().ok()?, s))
}

/// Parse resolv.conf text. Unknown lines and options are ignored; `search`
/// and `domain` replace each other (the last one wins), as in glibc and musl.
pub fn parse_resolv_conf(text: &str) -> Conf {
    let mut conf = Conf::default();
    for line in text.split('\n') {
        let mut words = words(line);
        match words.next() {
            Some("nameserver") => {
                if let Some((ip, text)) = words.next().and_then(parse_addr) {
                    if conf.servers.len() < MAX_SERVERS {
                        conf.servers.push((ip, text.to_string()));
                    }
                }
            }
            Some("search" | "domain") => {
                conf.search.clear();
                // Invalid domains are dropped by `candidates`.
                for d in words {
                    if conf.search.len() < MAX_SEARCH {
                        conf.search.push(d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase());
                    }
                }
            }
            Some("options") => {
                for o in words {
                    if let Some(n) = o.strip_prefix("ndots:").and_then(crate::number::decimal) {
                        conf.ndots = usize::try_from(n).unwrap_or(MAX_NDOTS).min(MAX_NDOTS);
                    }
                }
            }
            _ => {}
        }
    }
    conf
}

/// The addresses /etc/hosts gives `name` (without its trailing dot), IPv4
/// first, in file order, without repeats.
pub fn hosts_lookup(text: &str, name: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut v4 = 0;
    for line in text.split('\n') {
        let mut words = words(line);
        let Some((ip, _)) = words.next().and_then(parse_addr) else { continue };
        if words.any(|w| w.strip_suffix('.').unwrap_or(w).eq_ignore_ascii_case(name)) && !found.contains(&ip) {
            if ip.is_ipv4() {
                found.insert(v4, ip);
                v4 += 1;
            } else {
                found.push(ip);
            }
        }
    }
    found
}

/// The words of a line up to a `#` or `;` comment.
fn words(line: &str) -> std::str::SplitAsciiWhitespace<'_> {
    let end = line.bytes().position(|b| b == b'#' || b == b';').unwrap_or(line.len());
    line.get(..end).unwrap_or("").split_ascii_whitespace()
}

/// The names to ask for, in order, lower case, without trailing dots.
pub fn candidates(name: &str, conf: &Conf) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut add = |n: String| {
        if encoded_len(&n).is_some() {
            out.push(n);
        }
    };
    if let Some(abs) = name.strip_suffix('.') {
        add(abs.to_string());
    } else {
        let first = name.bytes().filter(|&b| b == b'.').count() >= conf.ndots;
        if first {
            add(name.clone());
        }
        for d in &conf.search {
            add(format!("{name}.{d}"));
        }
        if !first {
            add(name);
        }
    }
    out
}

/// The length of `name` in wire form, when it is a valid name (labels of
/// 1-63 bytes, 255 bytes in all).
fn encoded_len(name: &str) -> Option<usize> {
    let mut len = 1;
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        len += 1 + label.len();
    }
    (len <= MAX_NAME).then_some(len)
}

/// One query: recursion desired, one question of `qtype` class IN.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    encoded_len(name)?;
    let mut q = Vec::with_capacity(12 + MAX_NAME + 4);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Some(q)
}

/// A reply that belongs to the query it was matched with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub rcode: u8,
    pub truncated: bool,
    pub addrs: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a reply to this query (too short, another ID, not a response, or
    /// another question): ignored.
    NotOurs,
    /// Our reply, but its records cannot be read.
    Malformed,
    Reply(Reply),
}

fn u16_at(msg: &[u8], pos: usize) -> Option<u16> {
    match msg.get(pos..)? {
        [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// The position after the name at `pos`. A compression pointer ends a name,
/// and is not followed: the position only moves forward.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = usize::from(*msg.get(pos)?);
        match len & 0xC0 {
            0xC0 => return msg.get(pos + 1).map(|_| pos + 2),
            0 if len == 0 => return Some(pos + 1),
            0 => pos += 1 + len,
            _ => return None,
        }
    }
}

/// Check that `msg` answers `query` (its ID and its question) and read the
/// addresses of the queried type in its answer section.
pub fn parse_reply(msg: &[u8], query: &[u8]) -> Parsed {
    let (Some(flags), Some(qd), Some(an), Some(qtype)) =
        (u16_at(msg, 2), u16_at(msg, 4), u16_at(msg, 6), u16_at(query, query.len().saturating_sub(4)))
    else {
        return Parsed::NotOurs;
    };
    // The same ID, QR set, opcode QUERY.
    if msg.get(..2) != query.get(..2) || flags & 0x8000 == 0 || flags & 0x7800 != 0 {
        return Parsed::NotOurs;
    }
    let rcode = (flags & 0x000F) as u8;
    let truncated = flags & 0x0200 != 0;
    let question = query.get(12..).unwrap_or(&[]);
    let mut pos = 12 + question.len();
    match (qd, msg.get(12..pos)) {
        (1, Some(q)) if q.eq_ignore_ascii_case(question) => {}
        // Some servers leave the question out of an error reply.
        (0, _) if rcode != 0 => {}
        _ => return Parsed::NotOurs,
    }
    let mut addrs = Vec::new();
    let count = if rcode == 0 { usize::from(an).min(MAX_RECORDS) } else { 0 };
    for _ in 0..count {
        // Owner, type, class, TTL, length, data.
        let fixed = skip_name(msg, pos).and_then(|p| Some((p + 10, u16_at(msg, p)?, u16_at(msg, p + 2)?)));
        let record = fixed.and_then(|(p, t, c)| {
            let len = usize::from(u16_at(msg, p - 2)?);
            Some((p + len, t, c, msg.get(p..p + len)?))
        });
        let Some((next, rtype, class, data)) = record else {
            // A truncated reply counts for the records that made it.
            if truncated {
                break;
            }
            return Parsed::Malformed;
        };
        pos = next;
        if rtype != qtype || class != CLASS_IN {
            continue;
        }
        let ip = match (<[u8; 4]>::try_from(data), <[u8; 16]>::try_from(data)) {
            (Ok(b), _) if rtype == TYPE_A => IpAddr::V4(Ipv4Addr::from(b)),
            (_, Ok(b)) if rtype == TYPE_AAAA => IpAddr::V6(Ipv6Addr::from(b)),
            _ => return Parsed::Malformed,
        };
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    Parsed::Reply(Reply { rcode, truncated, addrs })
}

/// What one server said about one name.
#[derive(Debug, PartialEq, Eq)]
enum Said {
    Addrs(Vec<IpAddr>),
    NxDomain,
    /// The name exists, without A or AAAA records.
    NoData,
}

/// What one query (A or AAAA) brought back from one server.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The records of its type (none: the name has none of that type).
    Addrs(Vec<IpAddr>),
    NxDomain,
    Failed(DnsFail),
}

/// What the server said about the name, from the outcomes of its two
/// queries (None: unanswered): any address wins, then NXDOMAIN, then "no
/// address" when both queries answered without one, else the failure.
fn combine(outcomes: [Option<Outcome>; 2]) -> Result<Said, DnsFail> {
    let (mut addrs, mut nx, mut empty, mut failed) = (Vec::new(), false, 0, None);
    for outcome in outcomes {
        match outcome {
            Some(Outcome::Addrs(v)) if v.is_empty() => empty += 1,
            Some(Outcome::Addrs(mut v)) => addrs.append(&mut v),
            Some(Outcome::NxDomain) => nx = true,
            Some(Outcome::Failed(f)) => failed = failed.or(Some(f)),
            None => {}
        }
    }
    match () {
        () if !addrs.is_empty() => Ok(Said::Addrs(addrs)),
        () if nx => Ok(Said::NxDomain),
        () if empty == 2 => Ok(Said::NoData),
        () => Err(failed.unwrap_or(DnsFail::Silent)),
    }
}

fn io_fail(e: io::Error) -> DnsFail {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => DnsFail::PortUnreachable,
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => DnsFail::NoRoute,
        _ => DnsFail::Socket,
    }
}

/// Two distinct random query IDs from getrandom(2) (when that fails, the
/// kernel's random source port is the only defence against forged replies).
fn query_ids() -> [u16; 2] {
    let mut b = [0u8; 4];
    if crate::sys::getrandom(&mut b).is_err() {
        b = std::process::id().to_le_bytes();
    }
    let [a0, a1, b0, b1] = b;
    let (a, c) = (u16::from_le_bytes([a0, a1]), u16::from_le_bytes([b0, b1]));
    [a, if c == a { a ^ 1 } else { c }]
}

/// Ask `server` for the A and AAAA records of `name` until `until`.
fn ask(server: IpAddr, name: &str, until: Instant) -> Result<Said, DnsFail> {
    let local = if server.is_ipv4() { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { IpAddr::V6(Ipv6Addr::UNSPECIFIED) };
    let sock = UdpSocket::bind(SocketAddr::new(local, 0)).map_err(io_fail)?;
    sock.connect(SocketAddr::new(server, 53)).map_err(io_fail)?;
    let [id4, id6] = query_ids();
    let queries = [encode_query(id4, name, TYPE_A), encode_query(id6, name, TYPE_AAAA)];
    let mut answers: [Option<Outcome>; 2] = [None, None];
    let every = (until.saturating_duration_since(Instant::now()) / 2)
        .min(Duration::from_secs(1))
        .max(Duration::from_millis(50));
    let mut resend = Instant::now();
    // Until when to listen: `until`, or less once one query has its outcome.
    let mut stop = until;
    let mut buf = [0u8; 1500];
    loop {
        let now = Instant::now();
        if now >= resend {
            for (q, a) in queries.iter().zip(&answers) {
                match (q, a) {
                    (Some(q), None) => drop(sock.send(q).map_err(io_fail)?),
                    (None, _) => return Err(DnsFail::InvalidName),
                    _ => {}
                }
            }
            resend = later(now, every);
        }
        // A read timeout of zero means none: stop 1 ms early instead.
        if later(now, Duration::from_millis(1)) >= stop {
            return combine(answers);
        }
        let wait = stop.min(resend).saturating_duration_since(now).max(Duration::from_millis(1));
        sock.set_read_timeout(Some(wait)).map_err(io_fail)?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return Err(io_fail(e)),
        };
        let msg = buf.get(..n).unwrap_or(&[]);
        for (q, slot) in queries.iter().zip(answers.iter_mut()) {
            let outcome = match parse_reply(msg, q.as_deref().unwrap_or(&[])) {
                Parsed::NotOurs => continue,
                Parsed::Malformed => Outcome::Failed(DnsFail::Malformed),
                Parsed::Reply(r) => match r.rcode {
                    0 if r.truncated && r.addrs.is_empty() => Outcome::Failed(DnsFail::Truncated),
                    0 => Outcome::Addrs(r.addrs),
                    2 => Outcome::Failed(DnsFail::ServFail),
                    3 => Outcome::NxDomain,
                    5 => Outcome::Failed(DnsFail::Refused),
                    _ => Outcome::Failed(DnsFail::ErrorReply),
                },
            };
            *slot = Some(outcome);
            stop = stop.min(later(Instant::now(), OTHER_QUERY));
        }
        if answers.iter().all(Option::is_some) {
            return combine(answers);
        }
    }
}

/// Read a small regular file without blocking on a FIFO or device: at most
/// [`MAX_FILE`] bytes, cut back to the last whole line. None when it is
/// missing, unreadable or not a regular file.
fn read_small(path: &str) -> Option<String> {
    let crate::sys::Found::Regular(mut buf) = crate::sys::read_regular(path.as_ref(), MAX_FILE).ok()? else {
        return None;
    };
    if buf.len() > MAX_FILE {
        let whole = buf.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        buf.truncate(whole);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Resolve `name` (not an IP literal, not `localhost`) within the deadline.
/// The error is one line: `cannot resolve NAME: why`.
pub fn resolve(name: &str, dl: &Deadline) -> Result<Vec<IpAddr>, Failure> {
    if let Some(text) = read_small("/etc/hosts") {
        let found = hosts_lookup(&text, name.strip_suffix('.').unwrap_or(name));
        if !found.is_empty() {
            return Ok(found);
        }
    }
    let conf = parse_resolv_conf(&read_small("/etc/resolv.conf").unwrap_or_default());
    lookup(name, &conf, dl).map_err(|why| Failure::Resolve { name: name.to_string(), why: Box::new(why) })
}

/// The DNS part of [`resolve`].
fn lookup(name: &str, conf: &Conf, dl: &Deadline) -> Result<Vec<IpAddr>, Failure> {
    let localhost = [(IpAddr::V4(Ipv4Addr::LOCALHOST), "127.0.0.1".to_string())];
    let servers = if conf.servers.is_empty() { &localhost[..] } else { &conf.servers[..] };
    let names = candidates(name, conf);
    let mut nxdomain = None;
    let mut nodata = None;
    // Why the last name that no server answered went unanswered, server by server.
    let mut failed = Vec::new();
    for cand in &names {
        let mut fails = Vec::new();
        for (i, (server, text)) in servers.iter().enumerate() {
            let Some(left) = dl.remaining() else { break };
            let share = left / u32::try_from(servers.len() - i).unwrap_or(1);
            let why = match ask(*server, cand, later(Instant::now(), share)) {
                Ok(Said::Addrs(a)) => return Ok(a),
                Ok(Said::NxDomain) => {
                    nxdomain = Some(text);
                    fails.clear();
                    break;
                }
                Ok(Said::NoData) => {
                    nodata = Some(text);
                    fails.clear();
                    break;
                }
                Err(why) => why,
            };
            fails.push((why, text.clone()));
        }
        if !fails.is_empty() {
            failed = fails;
        }
        if dl.remaining().is_none() {
            break;
        }
    }
    if nodata.is_none() && !failed.is_empty() {
        return Err(Failure::DnsServers { fails: failed, total: dl.total });
    }
    let search = names.len() > 1;
    Err(match (nodata, nxdomain) {
        (Some(s), _) => Failure::DnsNoData { server: s.clone(), search },
        (None, Some(s)) => Failure::DnsNxDomain { server: s.clone(), search },
        _ if names.is_empty() => Failure::InvalidName,
        _ => dl.timeout(Step::Resolving),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn servers(c: &Conf) -> Vec<&str> {
        c.servers
            .iter()
            .map(|(ip, text)| {
                assert_eq!(ip.to_string(), *text);
                text.as_str()
            })
            .collect()
    }

    #[test]
    fn resolv_conf() {
        let c = parse_resolv_conf(
            "# generated\n; also a comment\nnameserver 10.96.0.10\nnameserver   fe80::1%eth0 \n\
             nameserver bogus\nnameserver [2001:db8::53]\nnameserver 8.8.8.8\n\
             search ns1.svc.cluster.local Svc.Cluster.Local. cluster.local # trailing\n\
             options ndots:5 timeout:1 attempts:2\n",
        );
        assert_eq!(servers(&c), ["10.96.0.10", "fe80::1", "2001:db8::53"]);
        assert_eq!(c.search, ["ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"]);
        assert_eq!(c.ndots, 5);
        let c = parse_resolv_conf("search a.test b.test\ndomain Corp.Example.\noptions ndots:99\n");
        assert_eq!(c.search, ["corp.example"]);
        assert_eq!(c.ndots, MAX_NDOTS);
        assert!(c.servers.is_empty());
        assert_eq!(parse_resolv_conf(""), Conf::default());
        assert_eq!(parse_resolv_conf("options ndots:x\nnameserver\nsearch\n#nameserver 1.1.1.1\n"), Conf::default());
        let c = parse_resolv_conf("search a b c d e f g h ..x\r\nnameserver 1.1.1.1;x\nnameserver 1.1.1.2x\n");
        assert_eq!(c.search, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(servers(&c), ["1.1.1.1"]);
    }

    #[test]
    fn hosts_file() {
        let text = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n\
                    10.0.0.5\tdb  DB.internal # comment db2\n\
                    fd00::5 db\n10.0.0.6 db\n10.0.0.5 db\nnot-an-ip db\n# 10.9.9.9 db\n\
                    10.0.0.7\n10.0.0.8 web.\n";
        assert_eq!(hosts_lookup(text, "db"), [ip("10.0.0.5"), ip("10.0.0.6"), ip("fd00::5")]);
        assert_eq!(hosts_lookup(text, "db.INTERNAL"), [ip("10.0.0.5")]);
        assert_eq!(hosts_lookup(text, "web"), [ip("10.0.0.8")]);
        assert!(hosts_lookup(text, "db2").is_empty());
        assert!(hosts_lookup(text, "10.0.0.7").is_empty());
        assert!(hosts_lookup("\u{0}\u{1}garbage\n\n  \n", "db").is_empty());
    }

    #[test]
    fn candidate_order() {
        let k8s = parse_resolv_conf("search ns.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
        assert_eq!(candidates("db", &k8s), ["db.ns.svc.cluster.local", "db.svc.cluster.local", "db"]);
        assert_eq!(candidates("a.b.c.d.e.f", &k8s)[0], "a.b.c.d.e.f");
        assert_eq!(candidates("api.example.com", &k8s).last().unwrap(), "api.example.com");
        assert_eq!(candidates("Api.Example.Com.", &k8s), ["api.example.com"]);
        let compose = parse_resolv_conf("nameserver 127.0.0.11\nsearch svc.test\n");
        assert_eq!(candidates("db", &compose), ["db.svc.test", "db"]);
        assert_eq!(candidates("db.other", &compose), ["db.other", "db.other.svc.test"]);
        assert_eq!(candidates("db", &Conf::default()), ["db"]);
        assert!(candidates("a..b", &Conf::default()).is_empty());
        assert!(candidates(&"x".repeat(64), &Conf::default()).is_empty());
        let long = format!("{}.{}", "a".repeat(63), "b".repeat(63));
        let c = Conf { search: vec![format!("{long}.{long}")], ..Conf::default() };
        assert_eq!(candidates(&long, &c), vec![long]);
    }

    #[test]
    fn query_encoding() {
        let q = encode_query(0xABCD, "db.svc", TYPE_AAAA).unwrap();
        assert_eq!(
            q,
            [
                0xAB, 0xCD, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, // header: RD, one question
                2, b'd', b'b', 3, b's', b'v', b'c', 0, 0, 28, 0, 1
            ]
        );
        assert!(encode_query(1, "", TYPE_A).is_none());
        assert!(encode_query(1, "a.", TYPE_A).is_none());
        assert!(encode_query(1, &"a".repeat(64), TYPE_A).is_none());
        let max = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        assert_eq!(encode_query(1, &max, TYPE_A).unwrap().len(), 12 + 255 + 4);
        assert!(encode_query(1, &format!("{max}e"), TYPE_A).is_none());
        let [a, b] = query_ids();
        assert_ne!(a, b);
    }

    /// A reply to `query` with these flags (rcode, TC) and answer records,
    /// each (owner bytes, type, data).
    fn reply(query: &[u8], flags: u16, answers: &[(&[u8], u16, &[u8])]) -> Vec<u8> {
        let mut m = query.to_vec();
        m[2..4].copy_from_slice(&(0x8180 | flags).to_be_bytes());
        m[6..8].copy_from_slice(&(answers.len() as u16).to_be_bytes());
        for (owner, t, data) in answers {
            m.extend_from_slice(owner);
            m.extend_from_slice(&t.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&(data.len() as u16).to_be_bytes());
            m.extend_from_slice(data);
        }
        m
    }

    /// A compression pointer to the question's name.
    const QNAME: &[u8] = &[0xC0, 12];

    fn addrs(p: Parsed) -> Vec<IpAddr> {
        match p {
            Parsed::Reply(r) => r.addrs,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers() {
        let q = encode_query(7, "db.svc.test", TYPE_A).unwrap();
        let m = reply(
            &q,
            0,
            &[(QNAME, TYPE_A, &[10, 0, 0, 1]), (QNAME, TYPE_A, &[10, 0, 0, 2]), (QNAME, TYPE_A, &[10, 0, 0, 1])],
        );
        assert_eq!(addrs(parse_reply(&m, &q)), [ip("10.0.0.1"), ip("10.0.0.2")]);
        // An uncompressed owner; the question echoed in upper case.
        let mut m = reply(&q, 0, &[(b"\x02DB\x03svc\x04TEST\x00", TYPE_A, &[10, 0, 0, 3])]);
        m[13] = b'D';
        assert_eq!(addrs(parse_reply(&m, &q)), [ip("10.0.0.3")]);
        // Records of another type or class are skipped.
        let mut m =
            reply(&q, 0, &[(QNAME, 16, b"\x03txt"), (QNAME, TYPE_AAAA, &[0; 16]), (QNAME, TYPE_A, &[10, 0, 0, 4])]);
        assert_eq!(addrs(parse_reply(&m, &q)), [ip("10.0.0.4")]);
        let class = m.len() - 4 - 2 - 4 - 2;
        m[class] = 3;
        assert!(addrs(parse_reply(&m, &q)).is_empty());
        // AAAA.
        let q6 = encode_query(8, "db", TYPE_AAAA).unwrap();
        let IpAddr::V6(v6) = ip("fd00::1") else { panic!() };
        let m = reply(&q6, 0, &[(QNAME, TYPE_AAAA, &v6.octets())]);
        assert_eq!(addrs(parse_reply(&m, &q6)), [ip("fd00::1")]);
        // An address record of the wrong size is malformed.
        let m = reply(&q, 0, &[(QNAME, TYPE_A, &[10, 0, 0])]);
        assert_eq!(parse_reply(&m, &q), Parsed::Malformed);
        // A name that exists without addresses.
        assert!(addrs(parse_reply(&reply(&q, 0, &[]), &q)).is_empty());
    }

    #[test]
    fn cname_chains() {
        // www -> web.example -> lb: the server puts the chain and lb's
        // addresses in one answer; every A record of it counts.
        let q = encode_query(9, "www", TYPE_A).unwrap();
        let web_at = (q.len() + 2 + 10) as u8; // the first record's data
        let m = reply(
            &q,
            0,
            &[
                (QNAME, 5, b"\x03web\x07example\x00"),
                (&[0xC0, web_at], 5, b"\x02lb\xC0\x18"),
                (b"\x02lb\x03web\x07example\x00", TYPE_A, &[192, 0, 2, 1]),
                (b"\x02lb\x03web\x07example\x00", TYPE_A, &[192, 0, 2, 2]),
            ],
        );
        assert_eq!(m[web_at as usize..web_at as usize + 4], *b"\x03web");
        assert_eq!(addrs(parse_reply(&m, &q)), [ip("192.0.2.1"), ip("192.0.2.2")]);
        // A chain without addresses (a CNAME loop, or one to a name with
        // other records only) gives none.
        let m = reply(&q, 0, &[(QNAME, 5, b"\x01a\x00"), (b"\x01a\x00", 5, b"\x03www\x00")]);
        assert!(addrs(parse_reply(&m, &q)).is_empty());
    }

    #[test]
    fn bad_replies() {
        let q = encode_query(7, "db", TYPE_A).unwrap();
        let good = reply(&q, 0, &[(QNAME, TYPE_A, &[10, 0, 0, 1])]);
        assert_eq!(addrs(parse_reply(&good, &q)), [ip("10.0.0.1")]);
        assert_eq!(parse_reply(&good, &encode_query(8, "db", TYPE_A).unwrap()), Parsed::NotOurs, "wrong ID");
        assert_eq!(parse_reply(&good, &encode_query(7, "dc", TYPE_A).unwrap()), Parsed::NotOurs, "wrong name");
        assert_eq!(parse_reply(&good, &encode_query(7, "db", TYPE_AAAA).unwrap()), Parsed::NotOurs, "wrong type");
        assert_eq!(parse_reply(&q, &q), Parsed::NotOurs, "a query, not a reply");
        let mut two = good.clone();
        two[5] = 2;
        assert_eq!(parse_reply(&two, &q), Parsed::NotOurs, "two questions");
        // Every cut of a reply without TC: never an address.
        for n in 0..good.len() {
            assert!(matches!(parse_reply(&good[..n], &q), Parsed::NotOurs | Parsed::Malformed), "{n}");
        }
        // Truncated with TC: the records that made it count.
        let mut tc = reply(&q, 0x0200, &[(QNAME, TYPE_A, &[10, 0, 0, 1]), (QNAME, TYPE_A, &[10, 0, 0, 2])]);
        tc.truncate(tc.len() - 3);
        assert_eq!(
            parse_reply(&tc, &q),
            Parsed::Reply(Reply { rcode: 0, truncated: true, addrs: vec![ip("10.0.0.1")] })
        );
        // NXDOMAIN, with and without the question.
        let nx = reply(&q, 3, &[]);
        assert!(matches!(parse_reply(&nx, &q), Parsed::Reply(Reply { rcode: 3, .. })));
        let mut bare = nx[..12].to_vec();
        bare[4..6].copy_from_slice(&[0, 0]);
        assert!(matches!(parse_reply(&bare, &q), Parsed::Reply(Reply { rcode: 3, .. })));
        bare[2..4].copy_from_slice(&0x8180u16.to_be_bytes());
        assert_eq!(parse_reply(&bare, &q), Parsed::NotOurs, "no question in a success");
        // Compression pointers are skipped, never followed: a pointer to
        // itself or past the end is harmless.
        let at = q.len() as u8;
        let looping = reply(&q, 0, &[(&[0xC0, at], TYPE_A, &[10, 0, 0, 1])]);
        assert_eq!(looping[q.len()..q.len() + 2], [0xC0, at]);
        assert_eq!(addrs(parse_reply(&looping, &q)), [ip("10.0.0.1")]);
        let far = reply(&q, 0, &[(&[0xFF, 0xFF], TYPE_A, &[10, 0, 0, 2])]);
        assert_eq!(addrs(parse_reply(&far, &q)), [ip("10.0.0.2")]);
        // Extended label types are malformed.
        let ext = reply(&q, 0, &[(&[0x41, 0], TYPE_A, &[10, 0, 0, 3])]);
        assert_eq!(parse_reply(&ext, &q), Parsed::Malformed);
        // An answer count far beyond the data.
        let mut many = good.clone();
        many[6..8].copy_from_slice(&[0xFF, 0xFF]);
        assert_eq!(parse_reply(&many, &q), Parsed::Malformed);
        // A record length beyond the data.
        let mut long = good.clone();
        let n = long.len();
        long[n - 5] = 9;
        assert_eq!(parse_reply(&long, &q), Parsed::Malformed);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let q = encode_query(0x1234, "db.svc.test", TYPE_A).unwrap();
        let seed = reply(&q, 0, &[(QNAME, 5, b"\x01x\xC0\x0F"), (b"\x01x\xC0\x0F", TYPE_A, &[1, 2, 3, 4])]);
        let end = Instant::now() + Duration::from_millis(1500);
        let mut n = 0u64;
        while n < 300_000 && Instant::now() < end {
            let msg: Vec<u8> = if n % 2 == 0 {
                // Mutations of a valid reply reach the record parser.
                let mut m = seed.clone();
                for _ in 0..(rng.next() % 4 + 1) {
                    let i = (rng.next() as usize) % m.len();
                    m[i] = rng.next() as u8;
                }
                let keep = (rng.next() as usize) % (m.len() + 1);
                m.truncate(keep.max(q.len()));
                m
            } else {
                // Random bytes behind our ID and a response header.
                let len = (rng.next() % 300) as usize;
                let mut m: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if m.len() >= 4 {
                    m[0..2].copy_from_slice(&0x1234u16.to_be_bytes());
                    m[2] = (m[2] | 0x80) & 0x87;
                }
                m
            };
            let _ = parse_reply(&msg, &q);
            let text = String::from_utf8_lossy(&msg);
            let _ = parse_resolv_conf(&text);
            let _ = hosts_lookup(&text, "db");
            n += 1;
        }
        assert!(n > 1000, "only {n} inputs");
    }

    #[test]
    fn a_and_aaaa_outcomes_combine_as_in_glibc() {
        let a = || Some(Outcome::Addrs(vec![ip("10.0.0.1")]));
        let aaaa = || Some(Outcome::Addrs(vec![ip("fd00::1")]));
        let fail = |f| Some(Outcome::Failed(f));
        assert_eq!(combine([a(), aaaa()]), Ok(Said::Addrs(vec![ip("10.0.0.1"), ip("fd00::1")])));
        for other in [None, Some(Outcome::NxDomain), fail(DnsFail::ServFail), fail(DnsFail::Truncated)] {
            let other2 = match &other {
                Some(Outcome::NxDomain) => Some(Outcome::NxDomain),
                Some(Outcome::Failed(f)) => fail(*f),
                _ => None,
            };
            assert_eq!(combine([a(), other]), Ok(Said::Addrs(vec![ip("10.0.0.1")])));
            assert_eq!(combine([other2, aaaa()]), Ok(Said::Addrs(vec![ip("fd00::1")])));
        }
        let empty = || Some(Outcome::Addrs(Vec::new()));
        assert_eq!(combine([empty(), empty()]), Ok(Said::NoData));
        assert_eq!(combine([Some(Outcome::NxDomain), None]), Ok(Said::NxDomain));
        assert_eq!(combine([empty(), None]), Err(DnsFail::Silent));
        assert_eq!(combine([empty(), fail(DnsFail::ServFail)]), Err(DnsFail::ServFail));
        assert_eq!(combine([None, None]), Err(DnsFail::Silent));
    }

    #[test]
    fn no_server_listening() {
        // Nothing listens on port 53 of this loopback address: ICMP port
        // unreachable ends the lookup at once, well within the deadline.
        let dl = Deadline::new(Duration::from_secs(2));
        let conf = parse_resolv_conf("nameserver 127.0.0.154\n");
        let e = lookup("db", &conf, &dl).unwrap_err().to_string();
        if e.contains("ICMP port unreachable from 127.0.0.154") {
            assert!(dl.start.elapsed() < Duration::from_secs(1), "{e}");
        } else {
            // Something does listen there: then it must still end in time.
            assert!(dl.start.elapsed() < Duration::from_millis(2100), "{e}");
        }
    }
}
