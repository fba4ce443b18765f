//! `pidone wait` and run mode's `--wait`: real listeners opened late or never,
//! files that appear, signals during the wait, and the child never started on
//! a timeout. Every listener and every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Listen on `port` after `delay`, accepting for up to 10 s; HTTP requests
/// get `reply` when it is given.
fn listen_later(port: u16, delay: Duration, reply: Option<&'static str>) {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            match l.accept() {
                Ok((mut s, _)) => {
                    if let Some(r) = reply {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        let mut buf = [0u8; 4096];
                        let _ = s.read(&mut buf);
                        let _ = s.write_all(r.as_bytes());
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
}

#[test]
fn run_mode_starts_the_child_once_the_port_opens() {
    let dir = common::TempDir::new("wait-open");
    let marker = dir.join("started");
    let port = closed_port();
    listen_later(port, Duration::from_millis(1500), None);
    let t0 = Instant::now();
    let target = format!("tcp://127.0.0.1:{port}");
    let script = format!("touch {}", marker.display());
    let cmd = common::pid1(["--wait", &target, "--wait-interval", "200ms", "--", "sh", "-c", &script]);
    let out = common::output(cmd, Duration::from_secs(15));
    let took = t0.elapsed();
    assert_eq!(common::code(out.status), 0, "{}", common::stderr(&out));
    assert!(marker.exists(), "the child ran");
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn run_mode_timeout_never_starts_the_child() {
    let dir = common::TempDir::new("wait-never");
    let marker = dir.join("started");
    let target = format!("tcp://127.0.0.1:{}", closed_port());
    let script = format!("touch {}", marker.display());
    let t0 = Instant::now();
    let cmd = common::pid1([
        "--wait",
        &target,
        "--wait-timeout",
        "1s",
        "--wait-interval",
        "300ms",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let out = common::output(cmd, Duration::from_secs(15));
    let took = t0.elapsed();
    let err = common::stderr(&out);
    assert_eq!(common::code(out.status), 125, "{err}");
    assert!(err.contains(&target) && err.contains("connection refused"), "{err}");
    assert!(!marker.exists(), "the child must never start");
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(2500), "{took:?}");
}

#[test]
fn progress_lines_name_the_pending_target() {
    let target = format!("tcp://127.0.0.1:{}", closed_port());
    let out = common::output(common::plain(["wait", "--wait-timeout", "6s", &target]), Duration::from_secs(15));
    let err = common::stderr(&out);
    assert_eq!(common::code(out.status), 1, "{err}");
    let progress: Vec<&str> = err.lines().filter(|l| l.starts_with("pidone: warn: ") && l.contains(&target)).collect();
    assert_eq!(progress.len(), 1, "one progress line after 5 s: {err}");
}

#[test]
fn usage_errors_are_not_retried() {
    let t0 = Instant::now();
    for bad in ["tcp://db", "redis://db:6379", "https://db:443/", "/health", "tcp://[::1:5432"] {
        let out = common::output(common::plain(["wait", "--wait-timeout", "30s", bad]), Duration::from_secs(5));
        assert_eq!(common::code(out.status), 125, "{bad}: {}", common::stderr(&out));
        let cmd = common::pid1(["--wait", bad, "--wait-timeout", "30s", "--", "true"]);
        let out = common::output(cmd, Duration::from_secs(5));
        assert_eq!(common::code(out.status), 125, "{bad}: {}", common::stderr(&out));
    }
    assert!(t0.elapsed() < Duration::from_secs(3));
    let out = common::output(
        common::plain(["wait", "--wait-timeout", "1s", "http://u:s3cret@127.0.0.1:1/"]),
        Duration::from_secs(5),
    );
    assert_eq!(common::code(out.status), 1);
    assert!(!common::stderr(&out).contains("s3cret"), "{}", common::stderr(&out));
}

#[test]
fn waits_for_a_file_and_an_http_answer_together() {
    let dir = common::TempDir::new("wait-file");
    let file = dir.join("ready");
    let port = closed_port();
    listen_later(port, Duration::from_millis(300), Some("HTTP/1.1 204 No Content\r\n\r\n"));
    let f2 = file.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        std::fs::write(f2, "").unwrap();
    });
    let t0 = Instant::now();
    let args = [
        "wait".to_string(),
        "--wait-interval".into(),
        "100ms".into(),
        format!("file://{}", file.display()),
        format!("http://127.0.0.1:{port}/ready"),
    ];
    let out = common::output(common::plain(args), Duration::from_secs(10));
    assert_eq!(common::code(out.status), 0, "{}", common::stderr(&out));
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(650) && took < Duration::from_secs(3), "{took:?}");

    // An HTTP target that answers 503 is not ready.
    let port = closed_port();
    listen_later(port, Duration::ZERO, Some("HTTP/1.1 503 Busy\r\n\r\n"));
    let out = common::output(
        common::plain([
            "wait",
            "--wait-timeout",
            "1s",
            "--wait-interval",
            "100ms",
            &format!("http://127.0.0.1:{port}/"),
        ]),
        Duration::from_secs(10),
    );
    assert_eq!(common::code(out.status), 1);
    assert!(common::stderr(&out).contains("status 503"), "{}", common::stderr(&out));
}

fn signal_ends_the_wait(mut cmd: std::process::Command, marker: &std::path::Path) {
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut r = common::Running::spawn(cmd);
    let pid = r.init_pid();
    std::thread::sleep(Duration::from_millis(400));
    let t0 = Instant::now();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let st = r.wait(Duration::from_secs(5));
    assert_eq!(common::code(st), 143);
    assert!(t0.elapsed() < Duration::from_millis(300), "at once: {:?}", t0.elapsed());
    assert!(!marker.exists(), "the child must never start");
}

#[test]
fn sigterm_during_the_wait_gives_143_at_once() {
    let dir = common::TempDir::new("wait-term");
    let marker = dir.join("started");
    let target = format!("tcp://127.0.0.1:{}", closed_port());
    let script = format!("touch {}", marker.display());
    signal_ends_the_wait(
        common::pid1(["--wait", &target, "--wait-timeout", "30s", "--", "sh", "-c", &script]),
        &marker,
    );
    signal_ends_the_wait(common::plain(["wait", "--wait-timeout", "30s", &target]), &marker);
    // SIGWINCH does not end it; SIGTERM after it still does.
    let mut cmd = common::plain(["wait", "--wait-timeout", "30s", &target]);
    cmd.stderr(std::process::Stdio::null());
    let mut r = common::Running::spawn(cmd);
    std::thread::sleep(Duration::from_millis(300));
    r.signal(libc::SIGWINCH);
    std::thread::sleep(Duration::from_millis(300));
    assert!(r.child.try_wait().unwrap().is_none(), "SIGWINCH must not end the wait");
    r.signal(libc::SIGTERM);
    assert_eq!(common::code(r.wait(Duration::from_secs(5))), 143);
}

#[test]
fn wait_timeout_zero_means_no_limit() {
    let port = closed_port();
    listen_later(port, Duration::from_millis(1200), None);
    let target = format!("tcp://127.0.0.1:{port}");
    let t0 = Instant::now();
    let out = common::output(
        common::plain(["wait", "--wait-timeout", "0", "--wait-interval", "100ms", &target]),
        Duration::from_secs(10),
    );
    let took = t0.elapsed();
    assert_eq!(common::code(out.status), 0, "{}", common::stderr(&out));
    assert!(took >= Duration::from_millis(1100) && took < Duration::from_secs(4), "{took:?}");
    // Run mode too: the child starts once the port is open.
    let port = closed_port();
    listen_later(port, Duration::from_millis(600), None);
    let target = format!("tcp://127.0.0.1:{port}");
    let cmd = common::pid1(["--wait", &target, "--wait-timeout", "0", "--wait-interval", "100ms", "--", "true"]);
    let out = common::output(cmd, Duration::from_secs(10));
    assert_eq!(common::code(out.status), 0, "{}", common::stderr(&out));
}
