//! Fault injection for run mode: signal storms, fork storms, zombie floods,
//! starved resource limits, a /proc that cannot be trusted, an unwritable
//! stderr. In every case pidone outlives its child and exits with the
//! contract's code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(30);

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn signal_storm_leaves_supervision_intact() {
    let dir = TempDir::new("storm");
    let ready = dir.join("ready");
    let mut r = Running::spawn(pid1(["--grace", "5s", "--", &helper_str(), "steady", ready.to_str().unwrap()]));
    assert!(wait_until(Duration::from_secs(5), || ready.exists()));
    let init = r.init_pid();
    // 10,000 signals from a mix that the child ignores (no stop signal among them).
    let mix = [1, 10, 12, 14, 18, 23, 28, 29, 30, 34, 40, 50, 64];
    for i in 0..10_000 {
        let sig = mix[i % mix.len()];
        assert_eq!(unsafe { libc::kill(init, sig) }, 0, "pidone died during the storm");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(init), "pidone died");
    assert!(r.child.try_wait().unwrap().is_none(), "pidone exited during the storm");
    // The final SIGTERM still drains: the child dies of it at once.
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(code(r.wait(T)), 143);
    assert!(sent.elapsed() < Duration::from_secs(3), "took {:?}", sent.elapsed());
}

#[test]
fn twenty_thousand_orphans_in_bursts_are_all_reaped() {
    let dir = TempDir::new("burst");
    let f = dir.join("count");
    let h = helper_str();
    let script = format!(
        "for i in 1 2 3 4; do {h} orphans 5000 0; done; sleep 2; cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == \"Z\"' | wc -l > {}",
        f.display()
    );
    let out = output(pid1(["--", "sh", "-c", &script]), Duration::from_secs(90));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&f).unwrap().trim(), "0", "zombies left");
}

#[test]
fn fork_storm_child_is_supervised_to_the_end() {
    let out = output(pid1(["--", &helper_str(), "forker", "2000"]), T);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("forked "), "{}", stdout(&out));
}

#[test]
fn few_descriptors_give_a_clean_125_or_a_normal_run() {
    // pidone needs 0-2, its signalfd and the exec-status pipe.
    let run = |limit: &str| {
        let mut c = Command::new("prlimit");
        c.arg(format!("--nofile={limit}")).arg(bin()).args(["--", "sh", "-c", "exit 9"]).env("PIDONE_ALLOW_ROOT", "1");
        not_for_pidone(&mut c);
        output(c, T)
    };
    let out = run("6");
    assert_eq!(code(out.status), 9, "{}", stderr(&out));
    let out = run("4");
    assert_eq!(code(out.status), 125, "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn no_process_slot_gives_a_clean_125() {
    // RLIMIT_NPROC binds non-root users only: run pidone as uid 4321, which
    // already has this test's `sleep` running, with room for no more.
    let mut holder = Command::new("setpriv");
    holder.args(["--reuid", "4321", "--regid", "4321", "--clear-groups", "sleep", "30"]);
    let mut holder = holder.spawn().unwrap();
    let pidone = bin_for_others();
    let mut c = Command::new("setpriv");
    c.args(["--reuid", "4321", "--regid", "4321", "--clear-groups", "prlimit", "--nproc=1"])
        .arg(&pidone.path)
        .args(["--", "true"]);
    not_for_pidone(&mut c);
    let out = output(c, T);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code(out.status), 125, "{}", stderr(&out));
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
}

#[test]
fn untrusted_proc_still_drains_and_kills() {
    // /proc of the host namespace: pidone must notice it is not its own and
    // fall back to signals that need no process list.
    let dir = TempDir::new("noproc");
    let done = dir.join("done");
    let stub = dir.join("stub");
    let script = drain_script(&done, &stub, 6);
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--kill-child"]).arg(bin()).args(["--grace", "1s", "--", "sh", "-c", &script]);
    c.env("PIDONE_ALLOW_ROOT", "1");
    not_for_pidone(&mut c);
    let start = Instant::now();
    let out = output(c, T);
    assert_eq!(code(out.status), 6, "{}", stderr(&out));
    assert!(done.exists(), "orphan cleanup did not complete");
    assert!(start.elapsed() < Duration::from_secs(5));

    // An empty /proc (tmpfs over it) in a private mount namespace.
    let done2 = dir.join("done2");
    let script = format!(
        "{h} slow-term 300 {d} & while [ ! -e {d}.ready ]; do sleep 0.01; done; exit 2",
        h = helper_str(),
        d = done2.display()
    );
    let mut c = Command::new("unshare");
    c.args([
        "--pid",
        "--fork",
        "--mount",
        "--kill-child",
        "sh",
        "-c",
        "mount -t tmpfs none /proc && exec \"$@\"",
        "sh",
    ])
    .arg(bin())
    .args(["--grace", "1s", "--", "sh", "-c", &script]);
    c.env("PIDONE_ALLOW_ROOT", "1");
    not_for_pidone(&mut c);
    let out = output(c, T);
    assert_eq!(code(out.status), 2, "{}", stderr(&out));
    assert!(done2.exists(), "orphan cleanup did not complete without /proc");
}

#[test]
fn unwritable_stderr_changes_nothing() {
    let mut c = pid1(["-vv", "--grace", "1s", "--", "sh", "-c", "exit 4"]);
    c.stderr(std::fs::File::create("/dev/full").unwrap());
    let mut r = Running::spawn(c);
    assert_eq!(code(r.wait(T)), 4);
}

#[test]
fn forwarding_failure_is_logged_and_supervision_goes_on() {
    // pidone drops to uid 1234; its child execs a setuid-root program that
    // makes every uid 0, so forwarding to it fails with EPERM.
    let dir = TempDir::new("eperm");
    let copy = dir.join("become-root");
    std::fs::copy(helper(), &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(&copy, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let marker = dir.join("uid");
    let mut c = pid1([
        "--user",
        "1234:1234",
        "--allow-new-privs",
        "--grace",
        "1s",
        "-v",
        "--",
        copy.to_str().unwrap(),
        "become-root",
        marker.to_str().unwrap(),
    ]);
    c.env_remove("PIDONE_ALLOW_ROOT").stderr(std::process::Stdio::piped());
    let mut r = Running::spawn(c);
    let init = r.init_pid();
    let ready = wait_until(Duration::from_secs(5), || std::fs::read_to_string(&marker).is_ok_and(|s| !s.is_empty()));
    if !ready || std::fs::read_to_string(&marker).unwrap().trim() != "ruid=0" {
        skip("forwarding_failure_is_logged_and_supervision_goes_on", "setuid bits have no effect here (nosuid /tmp?)");
        return;
    }
    let child: i32 = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    r.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(init) && r.child.try_wait().unwrap().is_none(), "a failed forward ended pidone");
    assert!(alive(child));
    // The child still dies and is reaped; its code passes through.
    assert_eq!(unsafe { libc::kill(child, libc::SIGKILL) }, 0);
    assert_eq!(code(r.wait(T)), 137);
    let mut err = String::new();
    use std::io::Read;
    r.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("cannot forward SIGUSR1") && err.contains("Operation not permitted"), "{err}");
}

/// The write end of a pipe whose read end is already closed: every write to
/// it fails with EPIPE and raises SIGPIPE against the writer.
fn broken_pipe() -> std::fs::File {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    unsafe { libc::close(fds[0]) };
    // SAFETY: the descriptor was just created and is owned by nothing else.
    unsafe { std::fs::File::from_raw_fd(fds[1]) }
}

/// User plus system CPU time of `pid`, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); the state (field 3) is f[0].
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Run mode with `-v` (a log line for every forwarded signal) and stderr set
/// up by `stderr`, the child a helper that records every signal it gets and
/// never dies of one: pidone's own failed log writes must not reach it, nor
/// make pidone spin; a real SIGTERM still does, and the child's code is
/// pidone's.
fn own_write_signals_stay_home(tag: &str, own: i32, stderr: std::process::Stdio, limit: Option<u64>) {
    let dir = TempDir::new(tag);
    let log = dir.join("signals");
    let mut c = pid1(["-v", "--", &helper_str(), "sigprint", log.to_str().unwrap(), "1"]);
    c.stderr(stderr);
    if let Some(bytes) = limit {
        let lim = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
        // SAFETY: setrlimit is async-signal-safe and lim lives on this stack.
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    let mut r = Running::spawn(c);
    assert!(
        wait_until(Duration::from_secs(5), || std::fs::read_to_string(&log).is_ok_and(|s| s.starts_with("ready"))),
        "the child did not start"
    );
    let init = r.init_pid();
    let before = cpu_ticks(init);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(init) - before;
    assert!(used < 20, "pidone used {used} ticks of CPU in 1 s: it spins");
    let got = std::fs::read_to_string(&log).unwrap();
    assert!(!got.lines().any(|l| l == own.to_string()), "the child got signal {own} from pidone's log writes: {got}");
    r.signal(libc::SIGTERM);
    assert_eq!(code(r.wait(T)), 0, "the child exits 0 once it has one signal");
    let got = std::fs::read_to_string(&log).unwrap();
    assert_eq!(got.lines().nth(1), Some("15"), "{got}");
}

#[test]
fn log_writes_to_a_broken_pipe_raise_nothing_for_the_app() {
    own_write_signals_stay_home("epipe", libc::SIGPIPE, broken_pipe().into(), None);
}

#[test]
fn log_writes_past_the_file_size_limit_raise_nothing_for_the_app() {
    // stderr is a file already past RLIMIT_FSIZE (the child's own small log
    // file stays below it).
    let dir = TempDir::new("efbig");
    let path = dir.write("stderr", &"x".repeat(8192));
    let file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    own_write_signals_stay_home("efbig", libc::SIGXFSZ, file.into(), Some(4096));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192, "nothing was written past the limit");
}

#[test]
fn wait_and_probe_with_closed_output_keep_their_exit_codes() {
    let closed = |mut c: Command, to_stdout: bool| {
        if to_stdout {
            c.stdout(broken_pipe());
        } else {
            c.stderr(broken_pipe());
        }
        c.stdin(std::process::Stdio::null());
        let mut r = Running::spawn(c);
        code(r.wait(T))
    };
    let wait = |args: &[&str]| plain(args);
    // Nothing listens on port 1: a timeout (1), with a log line at once under -v.
    for v in [&[][..], &["-v"]] {
        let mut a = vec!["wait", "--wait-timeout", "1s"];
        a.extend_from_slice(v);
        a.push("tcp://127.0.0.1:1");
        assert_eq!(closed(wait(&a), false), 1, "{a:?}");
        let mut a = vec!["--wait", "tcp://127.0.0.1:1", "--wait-timeout", "1s"];
        a.extend_from_slice(v);
        a.extend(["--", "true"]);
        assert_eq!(closed(wait(&a), false), 125, "{a:?}");
    }
    // The probe's line goes to a closed stdout: still 1 (unhealthy), never 141.
    assert_eq!(closed(wait(&["probe", "tcp://127.0.0.1:1"]), true), 1);
    assert_eq!(closed(wait(&["probe", "-v", "tcp://127.0.0.1:1"]), false), 1);
}

/// Durations too large for the clock (the contract makes anything above one
/// year a usage error): never a crash, in any mode. Run mode either refuses
/// at once (125) or, as PID 1, survives the SIGTERM that starts the
/// deadline and exits with the child's code.
#[test]
fn huge_durations_never_crash() {
    const HUGE: &str = "18446744073709551615";
    let dir = TempDir::new("huge");
    for (opt, var) in [("--grace", None), ("--stop-delay", None), ("", Some("9999999999999999999"))] {
        let log = dir.join(&format!("signals{}", opt.len()));
        let (helper, log_s) = (helper_str(), log.to_string_lossy().into_owned());
        let mut args = vec![];
        if !opt.is_empty() {
            args.extend([opt, HUGE]);
        }
        args.extend(["--", &helper, "sigprint", &log_s, "1"]);
        let mut c = pid1(&args);
        if let Some(v) = var {
            c.env("PIDONE_GRACE", v);
        }
        c.stderr(std::process::Stdio::null());
        let mut r = Running::spawn(c);
        let ready = || std::fs::read_to_string(&log).is_ok_and(|s| s.starts_with("ready"));
        wait_until(Duration::from_secs(5), || ready() || r.child.try_wait().unwrap().is_some());
        if !ready() {
            assert_eq!(code(r.wait(T)), 125, "{opt} {var:?}: neither refused nor started");
            continue;
        }
        let init = r.init_pid();
        r.signal(libc::SIGTERM);
        if opt == "--stop-delay" {
            // A delay holds the first stop signal; a second one forwards at
            // once (pidone may be gone already: then kill fails, harmlessly).
            std::thread::sleep(Duration::from_millis(200));
            unsafe { libc::kill(init, libc::SIGTERM) };
        }
        assert_eq!(code(r.wait(T)), 0, "{opt} {var:?}: the child's code");
    }
    for args in [
        &["probe", "--timeout", HUGE, "tcp://127.0.0.1:1"][..],
        &["wait", "--wait-timeout", HUGE, "--wait-interval", HUGE, "file:///"],
    ] {
        let out = output(plain(args), T);
        assert!(matches!(code(out.status), 0 | 1 | 125), "{args:?}: {}", stderr(&out));
    }
}
