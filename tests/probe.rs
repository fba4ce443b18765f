//! `pidone probe` against real servers started here: std listeners on
//! 127.0.0.1, ::1 and a Unix socket, each connection on its own thread, every
//! server bounded (a connection lives at most 10 s).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a server does with each request. The status can also come from the
/// path: `/s/NNN` answers NNN.
#[derive(Clone, Copy)]
enum Act {
    /// Answer 200 (or /s/NNN) with this body and a Content-Length.
    Answer(&'static str),
    /// The same body, chunked in 3-byte pieces.
    Chunked(&'static str),
    /// Read the request, then say nothing.
    Silent,
    /// Send a valid status line one byte a second.
    Drip,
    /// Headers, then a body that never ends.
    EndlessBody,
    /// Header lines that never end.
    EndlessHeaders,
    /// Close without reading or answering.
    Close,
}

type Log = Arc<Mutex<Vec<String>>>;

fn read_request(s: &mut impl Read) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn handle<S: Read + Write>(mut s: S, act: Act, log: &Log) {
    if matches!(act, Act::Close) {
        return;
    }
    let req = read_request(&mut s);
    log.lock().unwrap().push(req.clone());
    let status = req
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.strip_prefix("/s/"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(200u16);
    let end = Instant::now() + Duration::from_secs(10);
    let head = req.starts_with("HEAD ");
    match act {
        Act::Answer(body) => {
            let mut r = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            if !head {
                r.push_str(body);
            }
            let _ = s.write_all(r.as_bytes());
        }
        Act::Chunked(body) => {
            let mut r = format!("HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n");
            for c in body.as_bytes().chunks(3) {
                r.push_str(&format!("{:x}\r\n{}\r\n", c.len(), std::str::from_utf8(c).unwrap()));
            }
            r.push_str("0\r\n\r\n");
            let _ = s.write_all(r.as_bytes());
        }
        Act::Silent => std::thread::sleep(Duration::from_secs(5)),
        Act::Drip => {
            for b in b"HTTP/1.1 200 OK\r\nX-Slow: yes\r\n\r\n" {
                if Instant::now() > end || s.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Act::EndlessBody | Act::EndlessHeaders => {
            let first: &[u8] =
                if matches!(act, Act::EndlessBody) { b"HTTP/1.1 200 OK\r\n\r\n" } else { b"HTTP/1.1 200 OK\r\n" };
            let line: &[u8] = if matches!(act, Act::EndlessBody) { &[b'x'; 4096] } else { b"X-More: yes\r\n" };
            let _ = s.write_all(first);
            while Instant::now() < end && s.write_all(line).is_ok() {}
        }
        Act::Close => {}
    }
}

struct Server {
    port: u16,
    log: Log,
}

impl Server {
    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve_on(l: TcpListener, act: Act) -> Server {
    let port = l.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let log2 = Arc::clone(&log);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = Arc::clone(&log2);
            std::thread::spawn(move || handle(s, act, &log));
        }
    });
    Server { port, log }
}

fn serve(act: Act) -> Server {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), act)
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn probe_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String, Duration) {
    let mut cmd = common::plain(std::iter::once("probe").chain(args.iter().copied()));
    cmd.env_remove("PORT")
        .env_remove("PIDONE_PROBE_PORT")
        .env("HTTP_PROXY", "http://127.0.0.1:1")
        .env("http_proxy", "http://127.0.0.1:1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let out: Output = common::output(cmd, Duration::from_secs(20));
    let took = t0.elapsed();
    let so = common::stdout(&out);
    assert!(so.len() <= 301 && so.lines().count() <= 1, "one line of at most 300 bytes: {so:?}");
    (common::code(out.status), so, common::stderr(&out), took)
}

fn probe(args: &[&str]) -> (i32, String, String, Duration) {
    probe_env(args, &[])
}

#[test]
fn status_codes_decide() {
    let s = serve(Act::Answer("hi"));
    let p = s.port.to_string();
    for (code, want) in [(200, 0), (204, 0), (301, 0), (404, 1), (500, 1), (503, 1)] {
        let (rc, out, err, _) = probe(&["--port", &p, &format!("/s/{code}")]);
        assert_eq!(rc, want, "{code}: {out} {err}");
        assert!(out.contains(&format!("-> {code} in ")), "{out}");
        assert!(out.starts_with(if want == 0 { "healthy: GET http://127.0.0.1:" } else { "unhealthy: " }), "{out}");
    }
    // 301 is not followed: one request only.
    assert_eq!(s.requests().iter().filter(|r| r.starts_with("GET /s/301 ")).count(), 1);
}

#[test]
fn refused_and_https_and_usage_errors_give_1() {
    let port = closed_port();
    let (rc, out, _, _) = probe(&["--port", &port.to_string(), "/health"]);
    assert_eq!(rc, 1);
    assert!(out.contains("connection refused") && out.contains(&format!("port {port} from --port")), "{out}");
    let (rc, out, err, _) = probe(&["https://127.0.0.1:8443/"]);
    assert_eq!((rc, out.as_str()), (1, ""));
    assert!(err.contains("https"), "{err}");
    for bad in [
        &["--expect", "200-abc", "/"][..],
        &["--expect", "399-200", "/"],
        &["-H", "NoColon", "/"],
        &["--method", "POST", "/"],
        &["--timeout", "soon", "/"],
        &["--nope", "/"],
        &["tcp://127.0.0.1"],
        &["http://[::1/"],
        &["a", "b"],
    ] {
        let (rc, _, err, _) = probe(bad);
        assert_eq!(rc, 1, "{bad:?}: {err}");
        assert!(err.starts_with("pidone: error: "), "{bad:?}: {err}");
    }
    let (rc, _, err, _) = probe_env(&["/"], &[("PORT", "http")]);
    assert_eq!(rc, 1);
    assert!(err.contains("$PORT"), "{err}");
}

#[test]
fn hostile_servers_are_bounded_by_the_timeout() {
    for (name, act, extra) in [
        ("silent", Act::Silent, None),
        ("drip", Act::Drip, None),
        ("endless headers", Act::EndlessHeaders, None),
        ("endless body", Act::EndlessBody, Some("needle")),
    ] {
        let s = serve(act);
        let p = s.port.to_string();
        let mut args = vec!["--timeout", "1s", "--port", &p];
        if let Some(n) = extra {
            args.extend(["--body-contains", n]);
        }
        args.push("/");
        let (rc, out, _, took) = probe(&args);
        assert_eq!(rc, 1, "{name}: {out}");
        assert!(took < Duration::from_millis(1300), "{name} took {took:?}: {out}");
    }
    // The reason names the bound.
    let s = serve(Act::Drip);
    let (rc, out, _, took) = probe(&["--timeout", "500ms", "--port", &s.port.to_string(), "/"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("timed out after 500ms"), "{out}");
    assert!(took < Duration::from_millis(800), "{took:?}");
}

#[test]
fn expect_body_headers_and_head() {
    let s = serve(Act::Answer("status: all good"));
    let p = s.port.to_string();
    assert_eq!(probe(&["--port", &p, "--expect", "404", "/s/404"]).0, 0);
    assert_eq!(probe(&["--port", &p, "--expect", "200,204,300-399", "/s/302"]).0, 0);
    let (rc, out, _, _) = probe(&["--port", &p, "--expect", "201-299", "/s/200"]);
    assert_eq!(rc, 1);
    assert!(out.contains("(expected 201-299)"), "{out}");
    assert_eq!(probe(&["--port", &p, "--body-contains", "all good", "/"]).0, 0);
    let (rc, out, _, _) = probe(&["--port", &p, "--body-contains", "degraded", "/"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("-> 200") && out.contains("degraded"), "{out}");

    let (rc, _, err, _) = probe(&["--port", &p, "-H", "X-Token: abc", "-H", "Accept: text/plain", "/hdr"]);
    assert_eq!(rc, 0, "{err}");
    let req = s.requests().into_iter().find(|r| r.starts_with("GET /hdr ")).unwrap();
    let lower = req.to_ascii_lowercase();
    assert!(req.contains("\r\nX-Token: abc\r\n"), "{req}");
    assert!(req.contains("\r\nAccept: text/plain\r\n") && !req.contains("*/*"), "{req}");
    assert!(lower.contains(&format!("\r\nhost: 127.0.0.1:{p}\r\n")), "{req}");
    assert!(lower.contains("\r\nconnection: close\r\n"), "{req}");
    assert!(req.starts_with("GET /hdr HTTP/1.1\r\n"), "{req}");

    assert_eq!(probe(&["--port", &p, "--method", "HEAD", "/head"]).0, 0);
    assert!(s.requests().iter().any(|r| r.starts_with("HEAD /head HTTP/1.1\r\n")));

    let c = serve(Act::Chunked("chunked and well"));
    let cp = c.port.to_string();
    assert_eq!(probe(&["--port", &cp, "--body-contains", "and well", "/"]).0, 0);
    assert_eq!(probe(&["--port", &cp, "--body-contains", "\r\n", "/"]).0, 1, "chunk framing is not body");
}

#[test]
fn credentials_are_sent_but_never_printed() {
    let s = serve(Act::Answer("ok"));
    let url = format!("http://probe:s3cret@127.0.0.1:{}/auth", s.port);
    let (rc, out, err, _) = probe(&[&url]);
    assert_eq!(rc, 0, "{out} {err}");
    assert!(!out.contains("s3cret") && !out.contains("probe:"), "{out}");
    let req = s.requests().into_iter().find(|r| r.contains("/auth")).unwrap();
    assert!(req.contains("Authorization: Basic cHJvYmU6czNjcmV0\r\n"), "{req}");
    let closed = format!("http://probe:s3cret@127.0.0.1:{}/auth", closed_port());
    let (rc, out, err, _) = probe(&[&closed]);
    assert_eq!(rc, 1);
    assert!(!out.contains("s3cret") && !err.contains("s3cret"), "{out} {err}");
    let (_, out, err, _) = probe(&["https://probe:s3cret@127.0.0.1:1/"]);
    assert!(!out.contains("s3cret") && !err.contains("s3cret"), "{out} {err}");
}

#[test]
fn port_precedence() {
    let s = serve(Act::Answer("ok"));
    let (up, down) = (s.port.to_string(), closed_port().to_string());
    let (rc, out, _, _) = probe_env(&["--port", &up, "/"], &[("PIDONE_PROBE_PORT", &down), ("PORT", &down)]);
    assert_eq!(rc, 0, "--port wins: {out}");
    let (rc, out, _, _) = probe_env(&["/"], &[("PIDONE_PROBE_PORT", &up), ("PORT", &down)]);
    assert_eq!(rc, 0, "$PIDONE_PROBE_PORT beats $PORT: {out}");
    let (rc, out, _, _) = probe_env(&["/"], &[("PORT", &up)]);
    assert_eq!(rc, 0, "$PORT: {out}");
    let (rc, out, _, _) = probe_env(&["/"], &[("PIDONE_PROBE_PORT", &down), ("PORT", &up)]);
    assert_eq!(rc, 1);
    assert!(out.contains(&format!("(port {down} from $PIDONE_PROBE_PORT)")), "{out}");
    let (_, out, _, _) = probe(&["/"]);
    assert!(out.contains("http://127.0.0.1:8000/"), "default 8000: {out}");
}

#[test]
fn ipv6_only_server_via_localhost() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        common::skip("ipv6_only_server_via_localhost", "cannot bind [::1] (no IPv6 loopback)");
        return;
    };
    let s = serve_on(l, Act::Answer("ok"));
    if TcpStream::connect(("127.0.0.1", s.port)).is_ok() {
        common::skip("ipv6_only_server_via_localhost", "the port is also open on 127.0.0.1");
        return;
    }
    let (rc, out, _, _) = probe(&[&format!("http://localhost:{}/v6", s.port)]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out, _, _) = probe(&[&format!("http://[::1]:{}/v6", s.port)]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("http://[::1]:"), "{out}");
    let req = s.requests().into_iter().find(|r| r.contains("/v6")).unwrap();
    assert!(req.contains(&format!("Host: localhost:{}\r\n", s.port)), "{req}");
    // Nothing on either address: both refusals are reported.
    let port = TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap().port();
    let (rc, out, _, _) = probe(&[&format!("http://localhost:{port}/")]);
    assert_eq!(rc, 1);
    assert!(out.contains("127.0.0.1 and ::1"), "{out}");
}

/// A probe started as root connects as 65534 (contract section 5): let
/// every uid connect to a socket this test (root) created.
fn open_to_all(sock: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o777)).unwrap();
}

#[test]
fn unix_socket_server() {
    let dir = common::TempDir::new("probe-unix");
    let path = dir.join("app.sock");
    let l = UnixListener::bind(&path).unwrap();
    open_to_all(&path);
    let log: Log = Arc::default();
    let log2 = Arc::clone(&log);
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = Arc::clone(&log2);
            std::thread::spawn(move || handle(s, Act::Answer("unix ok"), &log));
        }
    });
    let sock = path.to_str().unwrap();
    let (rc, out, err, _) = probe(&["--unix", sock, "--body-contains", "unix ok", "/health"]);
    assert_eq!(rc, 0, "{out} {err}");
    assert!(out.contains(&format!("via unix:{sock}")), "{out}");
    let req = log.lock().unwrap()[0].clone();
    assert!(req.starts_with("GET /health HTTP/1.1\r\nHost: localhost\r\n"), "{req}");
    let (rc, _, _, _) = probe(&["--unix", sock, "/s/503"]);
    assert_eq!(rc, 1);
    let (rc, out, _, _) = probe(&["--unix", dir.join("missing.sock").to_str().unwrap(), "/"]);
    assert_eq!(rc, 1, "{out}");

    // A server that hangs up at once: the probe reports it and exits 1 (no SIGPIPE death).
    let path2 = dir.join("rude.sock");
    let l2 = UnixListener::bind(&path2).unwrap();
    open_to_all(&path2);
    std::thread::spawn(move || {
        for s in l2.incoming().flatten() {
            drop::<UnixStream>(s);
        }
    });
    for _ in 0..20 {
        let (rc, out, _, _) = probe(&["--unix", path2.to_str().unwrap(), "/"]);
        assert_eq!(rc, 1, "{out}");
    }
}

#[test]
fn tcp_targets_up_and_down() {
    let s = serve(Act::Close);
    let (rc, out, _, _) = probe(&[&format!("tcp://127.0.0.1:{}", s.port)]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.starts_with(&format!("healthy: tcp://127.0.0.1:{} connected in ", s.port)), "{out}");
    let (rc, out, _, _) = probe(&[&format!("tcp://127.0.0.1:{}", closed_port())]);
    assert_eq!(rc, 1);
    assert!(out.contains("connection refused"), "{out}");
}

#[test]
fn long_targets_stay_within_300_bytes() {
    let path = format!("/{}", "a".repeat(600));
    let (rc, out, _, _) = probe(&["--port", &closed_port().to_string(), &path]);
    assert_eq!(rc, 1);
    assert!(out.trim_end().len() <= 300 && out.trim_end().ends_with("..."), "{}", out.len());
}

/// A non-blocking connect to the Unix socket at `path`: true when the
/// connection was queued, false when the listener's queue is full (EAGAIN).
fn queue_connect(path: &std::path::Path, keep: &mut Vec<std::os::fd::OwnedFd>) -> bool {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0);
    keep.push(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(path.as_os_str().as_bytes()) {
        *d = *s as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    let rc = unsafe { libc::connect(fd, (&addr as *const libc::sockaddr_un).cast(), len) };
    let e = std::io::Error::last_os_error();
    assert!(rc == 0 || e.raw_os_error() == Some(libc::EAGAIN), "{e}");
    rc == 0
}

#[test]
fn unix_socket_with_a_full_backlog_ends_at_the_timeout() {
    use std::os::fd::AsRawFd;
    let dir = common::TempDir::new("probe-backlog");
    let path = dir.join("full.sock");
    // A listener that never accepts, its backlog cut to 0, filled by
    // connections queued until the next one is refused with EAGAIN.
    let l = UnixListener::bind(&path).unwrap();
    open_to_all(&path);
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let mut queued = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        if !queue_connect(&path, &mut queued) {
            full = true;
            break;
        }
    }
    assert!(full, "the accept queue never filled");
    let (rc, out, err, took) = probe(&["--unix", path.to_str().unwrap(), "--timeout", "1s", "/"]);
    assert_eq!(rc, 1, "{out} {err}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {out}");
    assert!(out.contains("timed out after 1s connecting"), "{out}");
    drop(l);
}

#[test]
fn passwords_with_slashes_hashes_and_queries_are_sent_but_never_printed() {
    let s = serve(Act::Answer("ok"));
    let url = format!("http://probe:pw/S3CRET?#x@127.0.0.1:{}/auth", s.port);
    let (rc, out, err, _) = probe(&[&url]);
    assert_eq!(rc, 0, "{out} {err}");
    assert!(!out.contains("S3CRET") && !err.contains("S3CRET"), "{out} {err}");
    let req = s.requests().into_iter().find(|r| r.contains("/auth")).unwrap();
    assert!(req.contains("Authorization: Basic cHJvYmU6cHcvUzNDUkVUPyN4\r\n"), "{req}");
    let closed = closed_port();
    for url in [
        format!("http://u:p/S3CRET@127.0.0.1:{closed}/"),
        format!("http://u:p#S3CRET@127.0.0.1:{closed}/"),
        format!("http://u:p?S3CRET@127.0.0.1:{closed}/"),
        "http://u:p/S3CRET@[::1/".to_string(),
        "http://u:p/S3CRET@h:99999/".to_string(),
        "https://u:p/S3CRET@h/".to_string(),
    ] {
        let (rc, out, err, _) = probe(&["--timeout", "1s", &url]);
        assert_eq!(rc, 1, "{url}: {out} {err}");
        assert!(!out.contains("S3CRET") && !err.contains("S3CRET"), "{url}: {out} {err}");
        let wait = common::output(common::plain(["wait", "--wait-timeout", "300ms", &url]), Duration::from_secs(5));
        let err = common::stderr(&wait);
        assert!(matches!(common::code(wait.status), 1 | 125), "{url}: {err}");
        assert!(!err.contains("S3CRET"), "{url}: {err}");
    }
}

/// A server that reads the request, sends `reply`, and keeps the connection
/// open (up to 5 s) without another byte.
fn serve_raw(reply: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                read_request(&mut s);
                let _ = s.write_all(reply.as_bytes());
                std::thread::sleep(Duration::from_secs(5));
            });
        }
    });
    port
}

#[test]
fn malformed_responses_are_unhealthy_at_once() {
    for reply in [
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nbody",
        "HTTP/1.1 200 OK\r\nContent-Length: 12345678901234567890123\r\n\r\nbody",
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nbody",
    ] {
        let port = serve_raw(reply).to_string();
        let (rc, out, _, took) = probe(&["--timeout", "2s", "--port", &port, "--body-contains", "needle", "/"]);
        assert_eq!(rc, 1, "{reply:?}: {out}");
        assert!(took < Duration::from_millis(1000), "{reply:?} took {took:?}: {out}");
    }
}

#[test]
fn status_codes_are_three_digits_from_100_to_599() {
    for reply in ["HTTP/1.1 999 Nonsense\r\n\r\nbody", "HTTP/1.1 000 Nothing\r\n\r\nbody"] {
        let port = serve_raw(reply).to_string();
        let (rc, out, _, took) = probe(&["--timeout", "2s", "--port", &port, "--body-contains", "needle", "/"]);
        assert_eq!(rc, 1, "{reply:?}: {out}");
        assert!(took < Duration::from_millis(1000), "{reply:?} took {took:?}: {out}");
        assert!(!out.contains(" -> "), "no status is reported for {reply:?}: {out}");
    }
    let s = serve(Act::Answer("ok"));
    let p = s.port.to_string();
    assert_eq!(probe(&["--port", &p, "--expect", "200", "/"]).0, 0);
    for bad in ["0200", "200-0399", "000", "999"] {
        let (rc, _, err, _) = probe(&["--port", &p, "--expect", bad, "/"]);
        assert_eq!(rc, 1, "--expect {bad}: {err}");
        assert!(err.starts_with("pidone: error: "), "--expect {bad}: {err}");
    }
}
