//! Run mode (contract section 2), end to end: the real static binary as PID 1
//! of a new PID namespace, observed through exit codes, /proc and files the
//! helper programs write.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

/// The signal numbers sigprint recorded (without its `ready` line).
fn recorded(path: &std::path::Path) -> Vec<i32> {
    lines(path).iter().filter(|l| !l.starts_with("ready")).map(|l| l.parse().unwrap()).collect()
}

fn wait_ready(path: &std::path::Path) {
    assert!(
        wait_until(Duration::from_secs(5), || lines(path).first().is_some_and(|l| l.starts_with("ready"))),
        "helper not ready"
    );
}

fn sh(script: &str) -> Vec<String> {
    vec!["--".into(), "sh".into(), "-c".into(), script.into()]
}

#[test]
fn exit_codes_pass_through() {
    for code in [0, 1, 2, 3, 42, 126, 127, 128, 200, 254, 255] {
        let out = output(pid1(sh(&format!("exit {code}"))), T);
        assert_eq!(common::code(out.status), code, "exit {code}: {}", stderr(&out));
    }
}

#[test]
fn death_by_signal_gives_128_plus_n() {
    let h = helper_str();
    for sig in [1, 2, 3, 6, 9, 10, 11, 12, 13, 14, 15, 35] {
        let out = output(pid1(["--", &h, "killself", &sig.to_string()]), T);
        assert_eq!(common::code(out.status), 128 + sig, "signal {sig}: {}", stderr(&out));
    }
}

#[test]
fn success_code_turns_into_zero() {
    let out = output(pid1(["--success-code", "3", "--success-code=143", "--", "sh", "-c", "exit 3"]), T);
    assert_eq!(common::code(out.status), 0);
    let out = output(pid1(["--success-code", "3", "--", "sh", "-c", "exit 4"]), T);
    assert_eq!(common::code(out.status), 4);
    let mut c = pid1(["--", &helper_str(), "killself", "15"]);
    c.env("PIDONE_SUCCESS_CODE", "143");
    assert_eq!(common::code(output(c, T).status), 0);
}

#[test]
fn every_forwardable_signal_reaches_the_child_once_in_order() {
    let dir = TempDir::new("fwd");
    let f = dir.join("sig");
    // HUP INT QUIT USR1 USR2 PIPE ALRM CONT WINCH URG RTMIN+3 RTMAX
    let sigs = [1, 2, 3, 10, 12, 13, 14, 18, 28, 23, 37, 64];
    // The stop signals INT and QUIT are each followed by SIGCONT.
    let expected: Vec<i32> = sigs.iter().flat_map(|&s| if s == 2 || s == 3 { vec![s, 18] } else { vec![s] }).collect();
    let mut r =
        Running::spawn(pid1(["--", &helper_str(), "sigprint", f.to_str().unwrap(), &expected.len().to_string()]));
    wait_ready(&f);
    let mut seen = 0;
    for &sig in &sigs {
        r.signal(sig);
        seen += if sig == 2 || sig == 3 { 2 } else { 1 };
        assert!(wait_until(Duration::from_secs(5), || recorded(&f).len() >= seen), "signal {sig} not delivered");
    }
    let st = r.wait(T);
    assert_eq!(common::code(st), 0);
    assert_eq!(recorded(&f), expected);
}

#[test]
fn a_burst_of_more_signals_than_one_read_takes_all_reach_the_child() {
    // pidone takes at most 8 signals from its signalfd per read: stopped, it
    // gets 12 distinct ones queued at once, then the SIGCONT that wakes it.
    let dir = TempDir::new("burst");
    let f = dir.join("sig");
    // HUP USR1 USR2 ALRM URG WINCH RTMIN RTMIN+1..+4 RTMAX
    let sigs = [1, 10, 12, 14, 23, 28, 34, 35, 36, 37, 38, 64];
    let n = (sigs.len() + 1).to_string();
    let mut r = Running::spawn(pid1(["--", &helper_str(), "sigprint", f.to_str().unwrap(), &n]));
    wait_ready(&f);
    r.signal(libc::SIGSTOP);
    let stat = format!("/proc/{}/stat", r.init_pid());
    let stopped =
        || std::fs::read_to_string(&stat).is_ok_and(|s| s.rsplit(") ").next().is_some_and(|t| t.starts_with('T')));
    assert!(wait_until(Duration::from_secs(5), stopped), "pidone did not stop");
    for &sig in &sigs {
        r.signal(sig);
    }
    r.signal(libc::SIGCONT);
    assert_eq!(common::code(r.wait(T)), 0, "the child did not get all {n} signals");
    let mut got = recorded(&f);
    got.sort_unstable();
    let mut want = sigs.to_vec();
    want.push(libc::SIGCONT);
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn map_rewrites_by_name_and_number_and_drops() {
    let dir = TempDir::new("map");
    let f = dir.join("sig");
    let h = helper_str();
    let mut r = Running::spawn(pid1([
        "--map",
        "TERM:QUIT",
        "--map",
        "10:12",
        "--map=sigwinch:0",
        "--",
        &h,
        "sigprint",
        f.to_str().unwrap(),
        "3",
    ]));
    wait_ready(&f);
    r.signal(28); // dropped
    r.signal(10);
    assert!(wait_until(Duration::from_secs(5), || recorded(&f).len() == 1));
    r.signal(1);
    assert!(wait_until(Duration::from_secs(5), || recorded(&f).len() == 2));
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 0);
    assert_eq!(recorded(&f), vec![12, 1, 3], "WINCH dropped, USR1 as USR2, TERM as QUIT");
}

#[test]
fn group_forwarding_reaches_the_grandchild_child_mode_does_not() {
    let h = helper_str();
    for (mode, expected) in [("group", 10), ("child", 15)] {
        let dir = TempDir::new("group");
        let f = dir.join("sig");
        // sh stays the main child (sigprint is not exec'd); USR1 kills sh.
        let script = format!("{h} sigprint {} 1; exit 7", f.display());
        let mut args = vec!["--forward".to_string(), mode.to_string()];
        args.extend(sh(&script));
        let mut r = Running::spawn(pid1(args));
        wait_ready(&f);
        r.signal(10);
        let st = r.wait(T);
        assert_eq!(common::code(st), 138, "{mode}: sh dies of SIGUSR1");
        // In child mode the grandchild only gets the drain's SIGTERM.
        assert_eq!(recorded(&f), vec![expected], "{mode}");
    }
}

#[test]
fn term_ignoring_child_is_killed_at_the_grace_deadline() {
    let dir = TempDir::new("ign");
    let f = dir.join("ready");
    let mut r = Running::spawn(pid1(["--grace", "1s", "--", &helper_str(), "ignore-term", f.to_str().unwrap()]));
    assert!(wait_until(Duration::from_secs(5), || f.exists()));
    let sent = Instant::now();
    r.signal(15);
    let st = r.wait(T);
    let took = sent.elapsed();
    assert_eq!(common::code(st), 137);
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(1900), "took {took:?}");
}

#[test]
fn grace_from_the_environment() {
    let dir = TempDir::new("ignenv");
    let f = dir.join("ready");
    let mut c = pid1(["--", &helper_str(), "ignore-term", f.to_str().unwrap()]);
    c.env("PIDONE_GRACE", "500ms");
    let mut r = Running::spawn(c);
    assert!(wait_until(Duration::from_secs(5), || f.exists()));
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 137);
    let took = sent.elapsed();
    assert!(took >= Duration::from_millis(450) && took < Duration::from_millis(1400), "took {took:?}");
}

#[test]
fn grace_ends_as_soon_as_the_child_is_gone() {
    let mut r = Running::spawn(pid1(["--grace", "30s", "--", "sleep", "1000"]));
    let pid = r.init_pid();
    assert!(wait_until(Duration::from_secs(5), || std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .is_ok_and(|s| !s.trim().is_empty())));
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 143);
    assert!(sent.elapsed() < Duration::from_millis(800), "took {:?}", sent.elapsed());
}

#[test]
fn second_term_is_forwarded_and_the_deadline_stays() {
    let dir = TempDir::new("twice");
    let f = dir.join("sig");
    let mut r = Running::spawn(pid1(["--grace", "1500ms", "--", &helper_str(), "sigprint", f.to_str().unwrap()]));
    wait_ready(&f);
    let sent = Instant::now();
    r.signal(15);
    assert!(wait_until(Duration::from_secs(5), || recorded(&f).len() == 2));
    std::thread::sleep(Duration::from_millis(500));
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 137);
    let took = sent.elapsed();
    assert_eq!(recorded(&f), vec![15, 18, 15, 18], "each TERM, each followed by SIGCONT");
    assert!(took >= Duration::from_millis(1450) && took < Duration::from_millis(2300), "deadline moved: {took:?}");
}

#[test]
fn orphan_finishes_its_cleanup_before_pidone_exits() {
    let dir = TempDir::new("drain");
    let f = dir.join("done");
    let script = format!(
        "{} slow-term 500 {f} & while [ ! -e {f}.ready ]; do sleep 0.01; done; exit 3",
        helper_str(),
        f = f.display()
    );
    let start = Instant::now();
    let out = output(pid1(sh(&script)), T);
    let took = start.elapsed();
    assert_eq!(common::code(out.status), 3, "{}", stderr(&out));
    assert!(f.exists(), "the orphan was killed before its cleanup finished");
    assert!(took >= Duration::from_millis(500) && took < Duration::from_millis(3000), "took {took:?}");
}

#[test]
fn stubborn_orphan_is_killed_at_the_deadline_and_code_stays() {
    let dir = TempDir::new("stubborn");
    let f = dir.join("ready");
    let script =
        format!("{} ignore-term {f} & while [ ! -e {f} ]; do sleep 0.01; done; exit 5", helper_str(), f = f.display());
    let mut args = vec!["--grace".to_string(), "1s".to_string()];
    args.extend(sh(&script));
    let start = Instant::now();
    let out = output(pid1(args), T);
    assert_eq!(common::code(out.status), 5, "{}", stderr(&out));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(3000), "took {took:?}");
}

/// Processes whose command line mentions `needle` (to find a test's own helpers).
fn pids_with(needle: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
                && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
        })
        .collect()
}

#[test]
fn subreaper_mode_drains_and_kills_descendants() {
    let dir = TempDir::new("subreaper");
    let done = dir.join("done");
    let stub = dir.join("stub");
    let script = drain_script(&done, &stub, 4);
    let mut args = vec!["--grace".to_string(), "1s".to_string()];
    args.extend(sh(&script));
    let out = output(plain(args), T);
    assert_eq!(common::code(out.status), 4, "{}", stderr(&out));
    assert!(done.exists(), "orphan cleanup did not complete");
    let left = pids_with(stub.to_str().unwrap());
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[test]
fn thousands_of_orphans_leave_no_zombie() {
    let dir = TempDir::new("zombies");
    let f = dir.join("count");
    let script = format!(
        "{} orphans 2000 0; sleep 1.5; cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == \"Z\"' | wc -l > {}",
        helper_str(),
        f.display()
    );
    let out = output(pid1(sh(&script)), Duration::from_secs(60));
    assert_eq!(common::code(out.status), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&f).unwrap().trim(), "0", "zombies left");
}

fn ctxt_switches(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("ctxt_switches"))
        .map(|l| l.split_whitespace().last().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[test]
fn idle_pidone_makes_no_context_switch() {
    let mut r = Running::spawn(pid1(["--", "sleep", "100"]));
    let pid = r.init_pid();
    std::thread::sleep(Duration::from_millis(500));
    let before = ctxt_switches(pid);
    std::thread::sleep(Duration::from_secs(3));
    let after = ctxt_switches(pid);
    assert_eq!(after - before, 0, "pidone woke up while idle");
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 143);
}

/// The `Sig*` lines of /proc/self/status as seen by `cat`, run by the helper
/// after it set `ignore` (INT and SEGV, say) to ignored and blocked ILL and
/// TERM, with pidone (`via`: its mode's arguments before `--`) in between or
/// without.
fn signal_state(via: Option<&[&str]>, ignore: &str) -> String {
    let mut c = Command::new(helper());
    c.args(["sigstate", "--ignore", ignore, "--block", "4,15", "--"]);
    if let Some(args) = via {
        c.arg(bin()).args(args).arg("--");
    }
    c.args(["/bin/cat", "/proc/self/status"]).env("PIDONE_ALLOW_ROOT", "1");
    not_for_pidone(&mut c);
    let out = output(c, T);
    assert_eq!(common::code(out.status), 0, "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| l.starts_with("SigBlk") || l.starts_with("SigIgn") || l.starts_with("SigCgt"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn child_gets_the_inherited_mask_and_ignores() {
    let direct = signal_state(None, "2,11");
    let via = signal_state(Some(&[]), "2,11");
    assert_eq!(via, direct, "pidone changed the signal state its child inherits");
    let field = |name: &str| {
        let line = via.lines().find(|l| l.starts_with(name)).unwrap();
        u64::from_str_radix(line.split_whitespace().last().unwrap(), 16).unwrap()
    };
    assert_eq!(field("SigIgn:") & ((1 << 1) | (1 << 10)), (1 << 1) | (1 << 10), "INT and SEGV ignored");
    assert_eq!(field("SigBlk:"), (1 << 3) | (1 << 14), "exactly ILL and TERM blocked");
    assert_eq!(field("SigCgt:"), 0);
    // pidone ignores SIGPIPE and SIGXFSZ for itself: the command still gets
    // them as pidone got them (default, or ignored), in run and env mode.
    for ignore in ["2,11", "2,11,13", "13,25"] {
        let direct = signal_state(None, ignore);
        for args in [&[][..], &["-v"], &["env"], &["env", "-v"]] {
            assert_eq!(signal_state(Some(args), ignore), direct, "{args:?}, ignored {ignore}");
        }
    }
}

#[test]
fn pidone_moves_to_root_dir_and_the_child_keeps_its_own() {
    let dir = TempDir::new("cwd");
    let mut c = pid1(sh("sleep 0.3; readlink /proc/1/cwd; pwd"));
    c.current_dir(dir.path());
    let out = output(c, T);
    assert_eq!(stdout(&out), format!("/\n{}\n", dir.path().display()));
}

#[test]
fn pidone_holds_no_inherited_descriptor_and_leaks_none() {
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (rd, wr) = (fds[0], fds[1]);
    // Plain mode: under unshare, unshare itself would keep the descriptor too.
    let mut c = plain(sh("ls -l /proc/self/fd; exec 5>&-; sleep 3"));
    unsafe {
        c.pre_exec(move || {
            // dup2 onto itself would keep FD_CLOEXEC: clear it explicitly then.
            let rc = if wr == 5 { libc::fcntl(5, libc::F_SETFD, 0) } else { libc::dup2(wr, 5) };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.stdout(Stdio::piped());
    let mut r = Running::spawn(c);
    unsafe { libc::close(wr) };
    let init = r.init_pid();
    // The child closed fd 5 at once: EOF within a second proves pidone did not keep it.
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let n = unsafe { libc::read(rd, buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(n, 0);
    assert!(start.elapsed() < Duration::from_millis(2500), "pidone held the inherited descriptor");
    let mut own: Vec<String> = std::fs::read_dir(format!("/proc/{init}/fd"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            format!("{}:{}", e.file_name().to_string_lossy(), std::fs::read_link(e.path()).unwrap().display())
        })
        .collect();
    own.sort();
    assert_eq!(own.len(), 4, "pidone's descriptors: {own:?}");
    assert!(own[3].ends_with("anon_inode:[signalfd]"), "{own:?}");
    r.signal(15);
    r.wait(T);
    let mut out = String::new();
    use std::io::Read;
    r.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    // The child keeps what it inherited (5 among them) and gets nothing of pidone's.
    assert!(out.contains(" 5 -> pipe:"), "child lost an inherited descriptor: {out}");
    assert!(!out.contains("signalfd") && !out.contains("eventfd"), "pidone leaked a descriptor: {out}");
}

#[test]
fn early_signal_is_not_lost() {
    for _ in 0..20 {
        let mut r = Running::spawn(pid1(["--", "sleep", "100"]));
        let pid = r.init_pid();
        // Send as soon as pidone has blocked its signals: usually before the child exec'd.
        assert!(wait_until(Duration::from_secs(5), || std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("SigBlk:") && !l.ends_with("0000000000000000")))));
        r.signal(15);
        assert_eq!(common::code(r.wait(Duration::from_secs(5))), 143);
    }
}

#[test]
fn a_thousand_short_runs_never_hang() {
    for i in 0..1000 {
        let (args, expected): (&[&str], i32) =
            if i % 10 == 0 { (&["--", "/nonexistent"], 127) } else { (&["--", "true"], 0) };
        let out = output(pid1(args), Duration::from_secs(5));
        assert_eq!(common::code(out.status), expected, "run {i}: {}", stderr(&out));
    }
}

#[test]
fn missing_and_unexecutable_commands_give_127_and_126_with_one_line() {
    for (cmd, code, needle) in [
        ("/nonexistent/cmd", 127, "/nonexistent/cmd"),
        ("no-such-cmd-xyz", 127, "no-such-cmd-xyz"),
        ("/etc", 126, "/etc"),
    ] {
        let out = output(pid1(["--", cmd]), T);
        assert_eq!(common::code(out.status), code, "{cmd}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("pidone: error: ") && err.contains(needle), "{err}");
    }
    // A script whose interpreter is missing.
    let dir = TempDir::new("interp");
    let script = dir.write("s.sh", "#!/nonexistent/interp\necho hi\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = output(pid1([script.to_str().unwrap()]), T);
    assert_eq!(common::code(out.status), 127);
    assert!(stderr(&out).contains("interpreter"), "{}", stderr(&out));
}

#[test]
fn bad_configuration_is_125_with_one_line_and_nothing_started() {
    let dir = TempDir::new("badcfg");
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--grace", "soon"], vec![], "--grace"),
        (vec!["--map", "TERM:NOPE"], vec![], "--map"),
        (vec!["--map", "RTMIN+40:1"], vec![], "--map"),
        (vec!["--bogus"], vec![], "--bogus"),
        (vec!["--forward", "all"], vec![], "--forward"),
        (vec![], vec![("PIDONE_GRACE", "1x")], "PIDONE_GRACE"),
        (vec![], vec![("PIDONE_ALLOW_NEW_PRIVS", "maybe")], "PIDONE_ALLOW_NEW_PRIVS"),
        (vec![], vec![("PIDONE_SUCCESS_CODE", "1,300")], "PIDONE_SUCCESS_CODE"),
    ];
    for (args, vars, needle) in cases {
        let mut all: Vec<&str> = args.clone();
        all.extend(["--", "sh", "-c", &touch]);
        let mut c = pid1(&all);
        for (k, v) in &vars {
            c.env(k, v);
        }
        let out = output(c, T);
        assert_eq!(common::code(out.status), 125, "{args:?} {vars:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(!marker.exists(), "{args:?}: the command ran");
    }
    let out = output(pid1(Vec::<&str>::new()), T);
    assert_eq!(common::code(out.status), 125);
}

#[test]
fn logs_go_to_stderr_only_and_json_is_one_object_a_line() {
    let out = output(pid1(["-vv", "--", "echo", "oh, hi"]), T);
    assert_eq!(stdout(&out), "oh, hi\n");
    assert!(stderr(&out).lines().count() >= 2);
    let out = output(pid1(["--log-format", "json", "-v", "--", "sh", "-c", "exit 2"]), T);
    assert_eq!(common::code(out.status), 2);
    for line in stderr(&out).lines() {
        // Contract section 7: `time` first, then `level`, `msg`, `prog` (tests/cli.rs parses them).
        assert!(line.starts_with("{\"time\":\"") && line.contains("Z\",\"level\":\""), "{line}");
        assert!(line.ends_with("\",\"prog\":\"pidone\"}"), "{line}");
    }
    let out = output(pid1(["--", "echo", "quiet"]), T);
    assert_eq!(stderr(&out), "", "default level prints nothing on success");
}

#[test]
fn help_and_version_go_to_stdout() {
    for arg in ["--help", "-h", "--version"] {
        let out = output(plain([arg]), T);
        assert_eq!(common::code(out.status), 0);
        assert!(!stdout(&out).is_empty() && stderr(&out).is_empty(), "{arg}");
    }
}

/// Open a pty pair; None when the machine has none.
fn openpty() -> Option<(i32, i32)> {
    let (mut m, mut s) = (0, 0);
    let rc = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    (rc == 0).then_some((m, s))
}

/// Start `cmd` as a session leader with the pty slave as its controlling
/// terminal, like `docker run -it`.
fn on_pty(mut cmd: Command, slave: i32) -> Running {
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            if libc::ioctl(slave, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in 0..3 {
                libc::dup2(slave, fd);
            }
            Ok(())
        });
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    Running::spawn(cmd)
}

/// Read from the pty master until `needle` shows up (bounded).
fn read_until(master: i32, needle: &str, timeout: Duration) -> String {
    let end = Instant::now() + timeout;
    let mut seen = String::new();
    while Instant::now() < end && !seen.contains(needle) {
        let mut pfd = libc::pollfd { fd: master, events: libc::POLLIN, revents: 0 };
        if unsafe { libc::poll(&mut pfd, 1, 50) } > 0 {
            let mut buf = [0u8; 4096];
            let n = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n as usize]));
        }
    }
    seen
}

fn write_pty(master: i32, s: &str) {
    assert_eq!(unsafe { libc::write(master, s.as_ptr().cast(), s.len()) }, s.len() as isize);
}

#[test]
fn pty_ctrl_c_reaches_the_child_once() {
    let Some((master, slave)) = openpty() else {
        skip("pty_ctrl_c_reaches_the_child_once", "no pty available");
        return;
    };
    let dir = TempDir::new("pty");
    let f = dir.join("sig");
    let mut c = Command::new("unshare");
    not_for_pidone(&mut c);
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(bin())
        .arg("--allow-root")
        .arg("--")
        .arg(helper())
        .args(["sigprint", f.to_str().unwrap(), "2"]);
    let mut r = on_pty(c, slave);
    unsafe { libc::close(slave) };
    wait_ready(&f);
    write_pty(master, "\x03");
    assert!(wait_until(Duration::from_secs(5), || !recorded(&f).is_empty()), "Ctrl-C did not reach the child");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(recorded(&f), vec![2], "exactly one SIGINT");
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 0);
    assert_eq!(recorded(&f), vec![2, 15]);

    // A child with the default action for SIGINT dies of it: 130.
    let Some((master, slave)) = openpty() else { return };
    let mut c = Command::new("unshare");
    not_for_pidone(&mut c);
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child"]).arg(bin()).args([
        "--allow-root",
        "--",
        "sh",
        "-c",
        "echo ready; exec sleep 100",
    ]);
    let mut r = on_pty(c, slave);
    unsafe { libc::close(slave) };
    assert!(read_until(master, "ready", Duration::from_secs(5)).contains("ready"));
    std::thread::sleep(Duration::from_millis(100));
    write_pty(master, "\x03");
    assert_eq!(common::code(r.wait(Duration::from_secs(5))), 130);
    unsafe { libc::close(master) };
}

#[test]
fn pty_interactive_shell_has_job_control() {
    let Some((master, slave)) = openpty() else {
        skip("pty_interactive_shell_has_job_control", "no pty available");
        return;
    };
    if !std::path::Path::new("/bin/bash").exists() {
        skip("pty_interactive_shell_has_job_control", "no bash");
        return;
    }
    let mut c = Command::new("unshare");
    not_for_pidone(&mut c);
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child"]).arg(bin()).args([
        "--allow-root",
        "--",
        "bash",
        "--norc",
        "-i",
    ]);
    c.env("PS1", "$ ");
    let mut r = on_pty(c, slave);
    unsafe { libc::close(slave) };
    write_pty(master, "echo \"flags=[$-]\"; exit 0\n");
    let seen = read_until(master, "]\r\n", Duration::from_secs(10));
    assert_eq!(common::code(r.wait(T)), 0, "{seen}");
    let flags = seen.rsplit("flags=[").next().unwrap_or("");
    assert!(flags.split(']').next().unwrap_or("").contains('m'), "no job control: {seen}");
    assert!(!seen.contains("no job control") && !seen.contains("cannot set terminal process group"), "{seen}");
    unsafe { libc::close(master) };
}

#[test]
fn a_file_without_shebang_is_run_by_bin_sh_by_path_and_by_search() {
    let dir = TempDir::new("noshebang");
    let marker = dir.join("ran");
    let script = dir.write("job", &format!("echo \"$0 $*\" >> {}\nexit 7\n", marker.display()));
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = script.to_str().unwrap();
    // Given as a path.
    let out = output(pid1([path, "one", "two"]), T);
    assert_eq!(common::code(out.status), 7, "{}", stderr(&out));
    // Found in PATH: the shell gets the path it was found at.
    let mut c = pid1(["job", "three"]);
    c.env("PATH", format!("/nonexistent:{}:/usr/bin:/bin", dir.path().display()));
    let out = output(c, T);
    assert_eq!(common::code(out.status), 7, "{}", stderr(&out));
    // And `pidone env -- CMD`, which execs in place.
    let out = output(plain(["env", "--", path, "four"]), T);
    assert_eq!(common::code(out.status), 7, "{}", stderr(&out));
    assert_eq!(lines(&marker), [format!("{path} one two"), format!("{path} three"), format!("{path} four")]);
}

#[test]
fn an_environment_too_large_for_execve_is_125_before_the_spawn() {
    let dir = TempDir::new("e2big");
    let secrets = dir.join("s");
    std::fs::create_dir(&secrets).unwrap();
    for i in 0..30 {
        std::fs::write(secrets.join(format!("S{i}")), "x".repeat(100_000)).unwrap();
    }
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    let secrets = secrets.to_str().unwrap().to_string();
    for mode in [vec!["--secrets-dir", &secrets], vec!["env", "--secrets-dir", &secrets]] {
        let mut args = mode.clone();
        args.extend(["--", "sh", "-c", &touch]);
        let mut c = pid1(&args);
        // The kernel's limit is a quarter of the stack limit: pin it to the usual 8 MiB.
        unsafe {
            c.pre_exec(|| {
                let lim = libc::rlimit { rlim_cur: 8 << 20, rlim_max: libc::RLIM_INFINITY };
                if libc::setrlimit(libc::RLIMIT_STACK, &lim) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let out = output(c, T);
        let err = stderr(&out);
        assert_eq!(common::code(out.status), 125, "{mode:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        // 30 x (NAME=value + NUL + pointer) is over 3,000,000 bytes; the limit is 2 MiB.
        let size: u64 =
            err.split(" bytes").next().and_then(|s| s.rsplit(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(size > 3_000_000, "{err}");
        assert!(err.contains("2097152 bytes"), "{err}");
        assert!(!err.contains("xxxx"), "{err}");
        assert!(!marker.exists(), "{mode:?}: the command ran");
    }
}

// ---- Shutdown that never loses work (contract section 2) ----

/// The host pid of pidone's main child (its only child at start).
fn main_child(r: &Running) -> i32 {
    let init = r.init_pid();
    let path = format!("/proc/{init}/task/{init}/children");
    let mut pid = 0;
    assert!(
        wait_until(Duration::from_secs(5), || {
            pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
                .unwrap_or(0);
            pid > 0
        }),
        "no main child"
    );
    pid
}

/// The state letter of /proc/PID/stat (`T` when stopped).
fn state(pid: i32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()).unwrap_or('?')
}

fn stop(pid: i32) {
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    assert!(wait_until(Duration::from_secs(5), || state(pid) == 'T'), "pid {pid} did not stop");
}

#[test]
fn no_deadline_of_its_own_after_a_stop_signal_by_default() {
    // An app that needs 10.5 s after SIGTERM: longer than the old 8 s default
    // and than the 10 s leftovers get after the main child's own exit.
    let dir = TempDir::new("nodeadline");
    let f = dir.join("done");
    let mut r = Running::spawn(pid1(["--", &helper_str(), "slow-term", "10500", f.to_str().unwrap()]));
    assert!(wait_until(Duration::from_secs(5), || dir.join("done.ready").exists()));
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 0, "the app was killed before it finished its shutdown");
    assert!(f.exists(), "the app's shutdown did not complete");
    assert!(sent.elapsed() >= Duration::from_millis(10_500), "took {:?}", sent.elapsed());
}

#[test]
fn leftovers_get_ten_seconds_after_the_main_childs_own_exit_by_default() {
    let dir = TempDir::new("ten");
    let f = dir.join("ready");
    let script =
        format!("{} ignore-term {f} & while [ ! -e {f} ]; do sleep 0.01; done; exit 5", helper_str(), f = f.display());
    let start = Instant::now();
    let out = output(pid1(sh(&script)), T);
    let took = start.elapsed();
    assert_eq!(common::code(out.status), 5, "{}", stderr(&out));
    assert!(took >= Duration::from_millis(9_950) && took < Duration::from_millis(13_000), "took {took:?}");
    assert!(stderr(&out).contains("sent SIGKILL to 1 remaining process\n"), "{}", stderr(&out));
}

#[test]
fn forward_auto_sends_hup_to_the_main_child_only_and_term_to_the_group() {
    let dir = TempDir::new("auto");
    let (m, g) = (dir.join("main"), dir.join("worker"));
    // A worker in the main child's group, then sh becomes the main child itself.
    let h = helper_str();
    let script = format!("{h} sigprint {} 2 & exec {h} sigprint {} 3", g.display(), m.display());
    let mut r = Running::spawn(pid1(sh(&script)));
    wait_ready(&m);
    wait_ready(&g);
    r.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(5), || recorded(&m) == vec![1]), "HUP did not reach the main child");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(recorded(&g), Vec::<i32>::new(), "HUP reached the worker");
    r.signal(libc::SIGTERM);
    assert_eq!(common::code(r.wait(T)), 0);
    assert_eq!(recorded(&m), vec![1, 15, 18]);
    assert_eq!(recorded(&g), vec![15, 18], "TERM (and CONT) reach the whole group");
}

#[test]
fn stop_delay_holds_the_first_stop_signal_and_a_second_forwards_at_once() {
    let dir = TempDir::new("delay");
    let f = dir.join("sig");
    let h = helper_str();
    let mut r = Running::spawn(pid1(["--stop-delay", "1s", "--", &h, "sigprint", f.to_str().unwrap(), "2"]));
    wait_ready(&f);
    let sent = Instant::now();
    r.signal(15);
    std::thread::sleep(Duration::from_millis(500));
    assert!(recorded(&f).is_empty(), "TERM was not held");
    assert_eq!(common::code(r.wait(T)), 0);
    let took = sent.elapsed();
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(1800), "took {took:?}");
    assert_eq!(recorded(&f), vec![15, 18]);

    // From the environment; a second TERM ends the 10 s delay at once.
    let f = dir.join("sig2");
    let mut c = pid1(["--", &h, "sigprint", f.to_str().unwrap(), "2"]);
    c.env("PIDONE_STOP_DELAY", "10s");
    let mut r = Running::spawn(c);
    wait_ready(&f);
    r.signal(15);
    std::thread::sleep(Duration::from_millis(300));
    assert!(recorded(&f).is_empty(), "TERM was not held");
    let second = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 0);
    assert!(second.elapsed() < Duration::from_millis(800), "took {:?}", second.elapsed());
    assert_eq!(recorded(&f), vec![15, 18]);

    // The main child exits during the delay: pidone exits with it.
    let mut r = Running::spawn(pid1(["--stop-delay", "10s", "--", "sh", "-c", "sleep 1; exit 4"]));
    main_child(&r);
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 4);
    assert!(sent.elapsed() < Duration::from_millis(2500), "took {:?}", sent.elapsed());
}

#[test]
fn stopped_processes_get_sigcont_with_their_term() {
    // A stopped main child gets TERM and CONT, so it shuts down cleanly.
    let dir = TempDir::new("cont");
    let f = dir.join("done");
    let h = helper_str();
    let mut r = Running::spawn(pid1(["--", &h, "slow-term", "100", f.to_str().unwrap()]));
    assert!(wait_until(Duration::from_secs(5), || dir.join("done.ready").exists()));
    stop(main_child(&r));
    r.signal(15);
    assert_eq!(common::code(r.wait(Duration::from_secs(5))), 0);
    assert!(f.exists(), "the stopped child did not run its handler");

    // A stopped leftover gets the drain's TERM and CONT.
    let d = dir.join("left");
    let go = dir.join("go");
    let script = format!(
        "{h} slow-term 100 {d} & while [ ! -e {go} ]; do sleep 0.01; done; exit 7",
        d = d.display(),
        go = go.display()
    );
    let mut r = Running::spawn(pid1(sh(&script)));
    assert!(wait_until(Duration::from_secs(5), || dir.join("left.ready").exists()));
    // The helper itself, not the shell (or pidone) whose command line names it too.
    let left: Vec<i32> = pids_with(d.to_str().unwrap())
        .into_iter()
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(h.as_bytes())))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    stop(left[0]);
    std::fs::write(&go, "").unwrap();
    let start = Instant::now();
    assert_eq!(common::code(r.wait(T)), 7);
    assert!(d.exists(), "the stopped leftover did not run its handler");
    assert!(start.elapsed() < Duration::from_secs(3), "took {:?}", start.elapsed());
}

/// Start `args` in pidone's PID namespace as a process pidone did not start
/// (what `docker exec` or `kubectl exec` does).
fn enter(r: &Running, args: &[&str]) -> Command {
    let mut c = Command::new("nsenter");
    c.arg("-t").arg(r.init_pid().to_string()).arg("-p").arg("--").args(args);
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn have_nsenter(test: &str) -> bool {
    let ok = Command::new("nsenter").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        skip(test, "no nsenter");
    }
    ok
}

/// Reap a process started with [`enter`] (it ends with pidone's namespace);
/// nsenter reports how its child ended.
fn finish(mut c: std::process::Child) -> std::process::ExitStatus {
    let mut st = None;
    assert!(
        wait_until(Duration::from_secs(5), || {
            st = c.try_wait().unwrap();
            st.is_some()
        }),
        "nsenter did not end"
    );
    st.unwrap()
}

#[test]
fn processes_pidone_did_not_start_are_drained_after_a_stop_signal() {
    if !have_nsenter("processes_pidone_did_not_start_are_drained_after_a_stop_signal") {
        return;
    }
    let dir = TempDir::new("exec");
    let f = dir.join("done");
    let mut r = Running::spawn(pid1(["--", "sleep", "1000"]));
    main_child(&r);
    let job = enter(&r, &[&helper_str(), "slow-term", "1500", f.to_str().unwrap()]).spawn().unwrap();
    assert!(wait_until(Duration::from_secs(5), || dir.join("done.ready").exists()));
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 143);
    let took = sent.elapsed();
    assert!(f.exists(), "the exec'd job was killed before its cleanup finished");
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(4), "took {took:?}");
    finish(job);
}

#[test]
fn processes_pidone_did_not_start_are_drained_after_the_main_childs_own_exit() {
    if !have_nsenter("processes_pidone_did_not_start_are_drained_after_the_main_childs_own_exit") {
        return;
    }
    let dir = TempDir::new("exec2");
    let f = dir.join("done");
    // No child of pidone is left when the main child exits: only the job.
    let script = format!("while [ ! -e {f}.ready ]; do sleep 0.01; done; exit 3", f = f.display());
    let mut r = Running::spawn(pid1(sh(&script)));
    main_child(&r);
    let job = enter(&r, &[&helper_str(), "slow-term", "1500", f.to_str().unwrap()]).spawn().unwrap();
    let start = Instant::now();
    assert_eq!(common::code(r.wait(T)), 3);
    assert!(f.exists(), "the exec'd job got no SIGTERM or was killed before its cleanup finished");
    assert!(start.elapsed() >= Duration::from_millis(1500), "took {:?}", start.elapsed());
    finish(job);
}

#[test]
fn a_process_pidone_may_not_signal_is_still_waited_for() {
    if !have_nsenter("a_process_pidone_may_not_signal_is_still_waited_for") {
        return;
    }
    let dir = TempDir::new("exec-eperm");
    let (ready, done) = (dir.join("ready"), dir.join("done"));
    // pidone drops to uid 1234; a root job (a root `docker exec`) cannot be signalled.
    let script = format!("while [ ! -e {} ]; do sleep 0.01; done; exit 3", ready.display());
    let mut c = pid1(["--user", "1234:1234", "--", "sh", "-c", &script]);
    c.stderr(Stdio::piped());
    let mut r = Running::spawn(c);
    main_child(&r);
    let job = format!("touch {}; sleep 1.5; touch {}", ready.display(), done.display());
    let job = enter(&r, &["sh", "-c", &job]).spawn().unwrap();
    let start = Instant::now();
    assert_eq!(common::code(r.wait(T)), 3);
    assert!(done.exists(), "pidone did not wait for the job it could not signal");
    assert!(start.elapsed() >= Duration::from_millis(1400), "took {:?}", start.elapsed());
    let mut err = String::new();
    use std::io::Read;
    r.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(err.matches("cannot send SIGTERM to ").count(), 1, "logged once: {err}");
    finish(job);
}

#[test]
fn an_interactive_shell_entered_later_gets_sighup() {
    if !have_nsenter("an_interactive_shell_entered_later_gets_sighup") {
        return;
    }
    let Some((master, slave)) = openpty() else {
        skip("an_interactive_shell_entered_later_gets_sighup", "no pty available");
        return;
    };
    let dir = TempDir::new("exec-tty");
    let f = dir.join("ready");
    let mut r = Running::spawn(pid1(["--grace", "5s", "--", "sleep", "1000"]));
    main_child(&r);
    // Like `docker exec -it`: its own terminal, and SIGTERM ignored.
    let mut c = enter(&r, &["setsid", "-c", &helper_str(), "ignore-term", f.to_str().unwrap()]);
    c.stdin(unsafe { Stdio::from_raw_fd(slave) });
    let job = c.spawn().unwrap();
    assert!(wait_until(Duration::from_secs(5), || f.exists()));
    let sent = Instant::now();
    r.signal(15);
    assert_eq!(common::code(r.wait(T)), 143);
    assert!(sent.elapsed() < Duration::from_secs(3), "the shell held pidone until the deadline: {:?}", sent.elapsed());
    // It died of SIGHUP before pidone exited (not of the namespace's end, a SIGKILL).
    assert_eq!(common::code(finish(job)), 1000 + libc::SIGHUP);
    unsafe { libc::close(master) };
}

#[test]
fn processes_without_a_pidfd_are_found_by_rescanning_proc() {
    if !have_nsenter("processes_without_a_pidfd_are_found_by_rescanning_proc") {
        return;
    }
    // Eight descriptors: pidone keeps 8 free of pidfds (0-2, its signalfd, a
    // /proc scan's two and a margin), so no job gets a pidfd: only rescans of
    // /proc tell pidone they are gone, well before the 10 s deadline.
    let dir = TempDir::new("exec-blind");
    let go = dir.join("go");
    let script = format!("while [ ! -e {} ]; do sleep 0.01; done; exit 6", go.display());
    let mut c = Command::new("prlimit");
    c.arg("--nofile=8")
        .args(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(bin())
        .args(sh(&script));
    c.env("PIDONE_ALLOW_ROOT", "1").process_group(0);
    let mut r = Running::spawn(c);
    main_child(&r);
    let h = helper_str();
    let mut jobs = Vec::new();
    for (ms, name) in [("300", "a"), ("600", "b"), ("900", "c")] {
        let f = dir.join(name);
        jobs.push(enter(&r, &[&h, "slow-term", ms, f.to_str().unwrap()]).spawn().unwrap());
        assert!(wait_until(Duration::from_secs(5), || dir.join(&format!("{name}.ready")).exists()));
    }
    std::fs::write(&go, "").unwrap();
    let start = Instant::now();
    assert_eq!(common::code(r.wait(T)), 6);
    let took = start.elapsed();
    for name in ["a", "b", "c"] {
        assert!(dir.join(name).exists(), "job {name} did not finish its cleanup");
    }
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "took {took:?}");
    for job in jobs {
        finish(job);
    }
}
