//! Name resolution in `pidone probe` and `pidone wait`: a fake DNS server on
//! 127.0.0.153:53 (and a silent one on 127.0.0.155:53) started here, and
//! pidone run in a private mount namespace where test files are bound over
//! /etc/resolv.conf and /etc/hosts, so the real files are untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DNS: &str = "127.0.0.153";
const SILENT: &str = "127.0.0.155";

/// What the fake server knows; every other name is NXDOMAIN.
enum Rr {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(&'static str),
}

fn zone(name: &str) -> Option<Vec<(&'static str, Rr)>> {
    let lo = Ipv4Addr::LOCALHOST;
    Some(match name {
        "web.svc.test" => vec![("web.svc.test", Rr::A(lo))],
        "db.svc.test" => vec![("db.svc.test", Rr::A(lo))],
        // Nothing listens on 127.0.0.2: only /etc/hosts makes it reachable.
        "shadow.svc.test" => vec![("shadow.svc.test", Rr::A(Ipv4Addr::new(127, 0, 0, 2)))],
        "alias.svc.test" => vec![("alias.svc.test", Rr::Cname("web.svc.test")), ("web.svc.test", Rr::A(lo))],
        "v6.svc.test" => vec![("v6.svc.test", Rr::Aaaa(Ipv6Addr::LOCALHOST))],
        "empty.svc.test" => vec![],
        // A good A answer; the AAAA query goes unanswered, or gets NXDOMAIN,
        // SERVFAIL or an empty truncated reply (see `answer`).
        "a-silent6.svc.test" | "a-nx6.svc.test" | "a-servfail6.svc.test" | "a-tc6.svc.test" => {
            vec![(name_static(name), Rr::A(lo))]
        }
        _ => return None,
    })
}

/// The zone's owner names are static strings.
fn name_static(name: &str) -> &'static str {
    ["a-silent6.svc.test", "a-nx6.svc.test", "a-servfail6.svc.test", "a-tc6.svc.test"]
        .into_iter()
        .find(|n| *n == name)
        .unwrap()
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// The answer to one query, or None for a packet that is not one.
fn answer(q: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(pos)? as usize;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(pos + 1..pos + 1 + len)?).to_ascii_lowercase());
        pos += 1 + len;
    }
    let qtype = u16::from_be_bytes([*q.get(pos + 1)?, *q.get(pos + 2)?]);
    let qend = pos + 5;
    let name = labels.join(".");
    let mut out = q.get(..qend)?.to_vec();
    let aaaa = qtype == 28;
    let rcode = match name.as_str() {
        "servfail.svc.test" => 2,
        "a-silent6.svc.test" if aaaa => return None,
        "a-nx6.svc.test" if aaaa => 3,
        "a-servfail6.svc.test" if aaaa => 2,
        "a-tc6.svc.test" if aaaa => {
            out[2] = 0x83; // QR, TC, RD
            out[3] = 0x80;
            out[6..8].copy_from_slice(&[0, 0]);
            return Some(out);
        }
        n if zone(n).is_none() => 3,
        _ => 0,
    };
    out[2] = 0x81;
    out[3] = 0x80 | rcode;
    let mut count = 0u16;
    for (owner, rr) in zone(&name).unwrap_or_default() {
        let (t, data) = match rr {
            Rr::A(ip) if qtype == 1 => (1u16, ip.octets().to_vec()),
            Rr::Aaaa(ip) if qtype == 28 => (28, ip.octets().to_vec()),
            Rr::Cname(target) => {
                let mut d = Vec::new();
                put_name(&mut d, target);
                (5, d)
            }
            _ => continue,
        };
        put_name(&mut out, owner);
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 5]);
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(&data);
        count += 1;
    }
    out[6..8].copy_from_slice(&count.to_be_bytes());
    Some(out)
}

/// Start the fake server and the silent one once; false (after a SKIP line)
/// when port 53 on those addresses cannot be bound.
fn servers() -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    *UP.get_or_init(|| {
        let (dns, silent) = match (UdpSocket::bind((DNS, 53)), UdpSocket::bind((SILENT, 53))) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("SKIP: cannot bind UDP port 53 on {DNS} and {SILENT} (root needed): {e}");
                return false;
            }
        };
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = dns.recv_from(&mut buf) {
                if let Some(r) = answer(&buf[..n]) {
                    let _ = dns.send_to(&r, from);
                }
            }
        });
        // Reads every query and never answers.
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while silent.recv_from(&mut buf).is_ok() {}
        });
        true
    })
}

/// An HTTP server on `addr` giving `reply` to every request; its port.
fn http_server_on(addr: &str, reply: &'static [u8]) -> std::io::Result<u16> {
    let l = TcpListener::bind(addr)?;
    let port = l.local_addr()?.port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply);
        }
    });
    Ok(port)
}

/// An HTTP server on 127.0.0.1 answering 200 to everything; its port.
fn http_server() -> u16 {
    http_server_on("127.0.0.1:0", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap()
}

/// `pidone ARGS` with these resolv.conf and hosts files bound over the real
/// ones in a private mount namespace; returns the output and the wall time.
fn run_with(resolv: &str, hosts: &str, args: &[&str]) -> (Output, Duration) {
    let dir = common::TempDir::new("dns");
    let (r, h) = (dir.path().join("resolv.conf"), dir.path().join("hosts"));
    std::fs::write(&r, resolv).unwrap();
    std::fs::write(&h, hosts).unwrap();
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "sh",
        "-c",
        r#"mount --bind "$R" /etc/resolv.conf && mount --bind "$H" /etc/hosts && exec "$@""#,
    ])
    .arg("sh")
    .arg(common::bin())
    .args(args)
    .env("R", &r)
    .env("H", &h);
    common::not_for_pidone(&mut c);
    let t0 = Instant::now();
    let out = common::output(c, Duration::from_secs(15));
    (out, t0.elapsed())
}

const HOSTS: &str = "127.0.0.1 localhost\n::1 localhost\n";

fn resolv(extra: &str) -> String {
    format!("# test\nnameserver {DNS}\n{extra}")
}

fn show(out: &Output) -> String {
    format!("stdout: {}\nstderr: {}", common::stdout(out), common::stderr(out))
}

#[test]
fn names_resolve_through_the_dns_server() {
    if !servers() {
        return;
    }
    let port = http_server();
    for name in ["web.svc.test", "WEB.svc.test.", "alias.svc.test"] {
        let url = format!("http://{name}:{port}/");
        let (out, _) = run_with(&resolv(""), HOSTS, &["probe", &url]);
        assert_eq!(common::code(out.status), 0, "{name}: {}", show(&out));
        assert!(common::stdout(&out).starts_with("healthy: GET http://"), "{}", show(&out));
    }
}

#[test]
fn search_domains_expand_short_names() {
    if !servers() {
        return;
    }
    let port = http_server();
    let url = format!("http://db:{port}/");
    // Docker Compose style, and Kubernetes style (ndots:5, a search name that
    // does not exist before the one that does).
    for extra in ["search svc.test\n", "search other.test svc.test\noptions ndots:5\n", "domain svc.test\n"] {
        let (out, _) = run_with(&resolv(extra), HOSTS, &["probe", &url]);
        assert_eq!(common::code(out.status), 0, "{extra:?}: {}", show(&out));
    }
    // Without a search list, `db` alone does not exist.
    let (out, _) = run_with(&resolv(""), HOSTS, &["probe", &url]);
    assert_eq!(common::code(out.status), 1, "{}", show(&out));
    // A trailing dot makes the name absolute: no search.
    let url = format!("http://db.:{port}/");
    let (out, _) = run_with(&resolv("search svc.test\n"), HOSTS, &["probe", &url]);
    assert_eq!(common::code(out.status), 1, "{}", show(&out));
}

#[test]
fn hosts_file_wins_over_dns() {
    if !servers() {
        return;
    }
    let port = http_server();
    let url = format!("http://shadow.svc.test:{port}/");
    // DNS alone gives 127.0.0.2, where nothing listens.
    let (out, _) = run_with(&resolv(""), HOSTS, &["probe", &url]);
    assert_eq!(common::code(out.status), 1, "{}", show(&out));
    let hosts = format!("{HOSTS}# a comment\nbad line here\n127.0.0.1\tother  SHADOW.svc.test  # alias\n");
    let (out, _) = run_with(&resolv(""), &hosts, &["probe", &url]);
    assert_eq!(common::code(out.status), 0, "{}", show(&out));
    // A name only in /etc/hosts, with no DNS server at all.
    let url = format!("http://other:{port}/");
    let (out, _) = run_with(&format!("nameserver {SILENT}\n"), &hosts, &["probe", "--timeout", "1s", &url]);
    assert_eq!(common::code(out.status), 0, "{}", show(&out));
}

#[test]
fn nxdomain_and_servfail_are_unhealthy_with_the_reason() {
    if !servers() {
        return;
    }
    let port = http_server();
    let cases = [
        ("nothere.svc.test", "no such host (NXDOMAIN from 127.0.0.153)"),
        ("servfail.svc.test", "SERVFAIL from 127.0.0.153"),
        ("empty.svc.test", "no address"),
    ];
    for (name, why) in cases {
        let url = format!("http://{name}:{port}/");
        let (out, took) = run_with(&resolv(""), HOSTS, &["probe", &url]);
        assert_eq!(common::code(out.status), 1, "{}", show(&out));
        let line = common::stdout(&out);
        assert!(line.starts_with("unhealthy: ") && line.contains(&format!("cannot resolve {name}: ")), "{line}");
        assert!(line.contains(why), "{line}");
        assert!(took < Duration::from_secs(1), "an answer ends the lookup at once: {took:?}");
    }
}

#[test]
fn ipv6_answers_are_used() {
    if !servers() {
        return;
    }
    let Ok(port) = http_server_on("[::1]:0", b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n") else {
        eprintln!("SKIP: no IPv6 loopback");
        return;
    };
    let url = format!("http://v6.svc.test:{port}/");
    let (out, _) = run_with(&resolv(""), HOSTS, &["probe", &url]);
    assert_eq!(common::code(out.status), 0, "{}", show(&out));
    assert!(common::stdout(&out).contains("-> 204"), "{}", show(&out));
}

#[test]
fn a_silent_dns_server_ends_within_the_timeout() {
    if !servers() {
        return;
    }
    let port = http_server();
    let url = format!("http://web.svc.test:{port}/");
    // With a search list and ndots:5 there are several names to try: the
    // deadline still bounds them all.
    let conf = format!("nameserver {SILENT}\nsearch a.test b.test\noptions ndots:5 timeout:5 attempts:3\n");
    let (out, took) = run_with(&conf, HOSTS, &["probe", "--timeout", "1s", &url]);
    assert_eq!(common::code(out.status), 1, "{}", show(&out));
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(1300), "took {took:?}");
    let line = common::stdout(&out);
    assert!(line.contains("no answer from 127.0.0.155 within 1s"), "{line}");
    // A silent first server leaves time for the second one.
    let conf = format!("nameserver {SILENT}\nnameserver {DNS}\n");
    let (out, took) = run_with(&conf, HOSTS, &["probe", "--timeout", "2s", &url]);
    assert_eq!(common::code(out.status), 0, "{}", show(&out));
    assert!(took < Duration::from_millis(2300), "took {took:?}");
}

#[test]
fn wait_resolves_names_too() {
    if !servers() {
        return;
    }
    let port = http_server();
    let tcp = format!("tcp://db:{port}");
    let http = format!("http://alias.svc.test:{port}/");
    let (out, took) = run_with(&resolv("search svc.test\n"), HOSTS, &["wait", "--wait-timeout", "5s", &tcp, &http]);
    assert_eq!(common::code(out.status), 0, "{}", show(&out));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A name that never resolves: the wait times out naming it and why.
    let bad = format!("tcp://nothere:{port}");
    let (out, took) = run_with(
        &resolv("search svc.test\n"),
        HOSTS,
        &["wait", "--wait-timeout", "1s", "--wait-interval", "200ms", &bad],
    );
    assert_eq!(common::code(out.status), 1, "{}", show(&out));
    assert!(took < Duration::from_millis(2500), "{took:?}");
    let err = common::stderr(&out);
    assert!(err.contains("nothere") && err.contains("NXDOMAIN"), "{err}");
}

#[test]
fn an_a_answer_is_used_whatever_happens_to_the_aaaa_query() {
    if !servers() {
        return;
    }
    let port = http_server();
    for name in ["a-silent6.svc.test", "a-nx6.svc.test", "a-servfail6.svc.test", "a-tc6.svc.test"] {
        let url = format!("http://{name}:{port}/");
        let (out, took) = run_with(&resolv(""), HOSTS, &["probe", "--timeout", "2s", &url]);
        assert_eq!(common::code(out.status), 0, "{name}: {}", show(&out));
        assert!(took < Duration::from_millis(1200), "{name}: took {took:?}");
        // The same for a wait.
        let tcp = format!("tcp://{name}:{port}");
        let (out, _) = run_with(&resolv(""), HOSTS, &["wait", "--wait-timeout", "2s", &tcp]);
        assert_eq!(common::code(out.status), 0, "{name}: {}", show(&out));
    }
}
