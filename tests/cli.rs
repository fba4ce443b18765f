//! The command line and its variables as a user meets them: values, peer
//! flags, and the log lines about them. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use common::*;
use std::process::Output;
use std::time::{Duration, Instant};

/// The exit code and stderr of `cmd`, run to completion within 10 s.
fn run(cmd: std::process::Command) -> (i32, String, Output) {
    let out = output(cmd, Duration::from_secs(10));
    (code(out.status), stderr(&out), out)
}

/// Exactly one line on stderr, with no control character in it.
fn assert_one_clean_line(err: &str, what: &str) {
    assert_eq!(err.lines().count(), 1, "{what}: not one line: {err:?}");
    assert!(err.ends_with('\n'), "{what}: {err:?}");
    assert!(!err.trim_end_matches('\n').chars().any(char::is_control), "{what}: control character in {err:?}");
}

#[test]
fn huge_durations_are_usage_errors_never_a_crash() {
    // Before: parsed, then `Instant + Duration` overflowed on the first signal
    // (or at once for probe and wait), and a grace that never came ran the command.
    let (c, err, _) = run(plain(["--grace", "18446744073709551615", "--", "sleep", "5"]));
    assert_eq!(c, 125, "{err}");
    assert_one_clean_line(&err, "--grace");
    let mut cmd = plain(["--", "sleep", "5"]);
    cmd.env("PIDONE_GRACE", "9999999999999999999");
    let (c, err, _) = run(cmd);
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("PIDONE_GRACE"), "{err}");
    for t in ["18446744073709551615s", "99999999999s"] {
        let (c, err, _) = run(plain(["probe", "--timeout", t, "tcp://127.0.0.1:1"]));
        assert_eq!(c, 1, "probe --timeout {t}: {err}");
        assert_one_clean_line(&err, t);
    }
    for args in [["--wait-timeout", "18446744073709551615"], ["--wait-interval", "18446744073709551615s"]] {
        let mut all = vec!["wait"];
        all.extend(args);
        all.push("tcp://127.0.0.1:1");
        let (c, err, _) = run(plain(all));
        assert_eq!(c, 125, "{args:?}: {err}");
        assert_one_clean_line(&err, args[0]);
    }
    for (arg, c_want) in [("30s1m", 125), ("1s1s", 125), ("1.5s", 0), ("0.25m", 0), ("1.0001s", 125)] {
        let (c, err, _) = run(plain(["--grace", arg, "--", "true"]));
        assert_eq!(c, c_want, "--grace {arg}: {err}");
    }
}

#[test]
fn a_one_year_grace_is_valid_and_its_deadline_does_not_overflow() {
    let mut r = Running::spawn(pid1(["--grace", "8760h", "--", "sleep", "30"]));
    std::thread::sleep(Duration::from_millis(200));
    r.signal(libc::SIGTERM);
    let t = Instant::now();
    let st = r.wait(Duration::from_secs(10));
    assert_eq!(code(st), 143);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn enumerated_values_ignore_case() {
    let mut cmd = plain(["--forward", "Group", "--log-level", "INFO", "--", "true"]);
    cmd.env("PIDONE_LOG_FORMAT", "JSON").env("PIDONE_ENV_OVERRIDE", "Yes");
    let (c, err, _) = run(cmd);
    assert_eq!(c, 0, "{err}");
    assert!(err.lines().count() > 0 && err.lines().all(|l| l.starts_with('{')), "info lines in JSON: {err}");
    let mut cmd = plain(["env", "--format", "JSON"]);
    cmd.env_clear().env("A", "1");
    let (c, err, out) = run(cmd);
    assert_eq!(c, 0, "{err}");
    assert!(stdout(&out).starts_with('{'), "{}", stdout(&out));
}

#[test]
fn echoed_values_have_control_characters_escaped() {
    let evil = "x\n\x1b[31mred\x1b[0m\ty";
    // (arguments, a variable, the exit code)
    type Case = (Vec<String>, Option<(&'static str, &'static str)>, i32);
    let cases: Vec<Case> = vec![
        (vec!["--grace".into(), evil.into(), "true".into()], None, 125),
        (vec!["true".into()], Some(("PIDONE_GRACE", evil)), 125),
        (vec!["--user".into(), format!("nobody{evil}"), "true".into()], None, 125),
        (vec!["--env-file".into(), format!("/nonexistent/{evil}"), "true".into()], None, 125),
        (vec!["wait".into(), "--wait-timeout".into(), "1s".into(), format!("tcp://{evil}:1")], None, 125),
        (
            vec![
                "--wait".into(),
                format!("file:///nonexistent/{evil}"),
                "--wait-timeout".into(),
                "300ms".into(),
                "true".into(),
            ],
            None,
            125,
        ),
        (vec!["probe".into(), format!("tcp://{evil}:1")], None, 1),
    ];
    for (args, var, want) in cases {
        let mut cmd = plain(&args);
        if let Some((k, v)) = var {
            cmd.env(k, v);
        }
        let (c, err, out) = run(cmd);
        assert_eq!(c, want, "{args:?}: {err}");
        assert_one_clean_line(&err, &format!("{args:?} {var:?}"));
        assert!(err.contains("\\x1b[31mred"), "{args:?}: the value is shown, escaped: {err}");
        let printed = stdout(&out);
        assert!(!printed.trim_end_matches('\n').chars().any(char::is_control), "{args:?}: stdout {printed:?}");
    }
}

#[test]
fn errors_about_a_variable_name_the_variable() {
    for (var, value) in [("PIDONE_USER", "no-such-user-here"), ("PIDONE_USER", "0"), ("PIDONE_WAIT", "gopher://x:1")] {
        let mut cmd = plain(["--", "true"]);
        cmd.env(var, value);
        if value == "0" {
            cmd.env_remove("PIDONE_ALLOW_ROOT");
        }
        let (c, err, _) = run(cmd);
        assert_eq!(c, 125, "{var}={value}: {err}");
        let named = [format!("pidone: error: {var}"), format!("({var} '{value}' resolves")];
        assert!(named.iter().any(|n| err.contains(n.as_str())), "{var}={value}: {err}");
        assert!(!err.contains("--user '") && !err.contains("--wait:"), "{var}={value}: {err}");
    }
    // The same values on the command line name the option.
    let (c, err, _) = run(plain(["--user", "no-such-user-here", "--", "true"]));
    assert_eq!(c, 125, "{err}");
    assert!(err.starts_with("pidone: error: --user 'no-such-user-here'"), "{err}");
}

#[test]
fn map_refuses_signals_pidone_never_receives() {
    for from in ["SEGV", "ILL", "TRAP", "ABRT", "BUS", "FPE", "SYS", "KILL", "STOP", "CHLD", "11"] {
        let (c, err, _) = run(plain(["--map", &format!("{from}:TERM"), "--", "true"]));
        assert_eq!(c, 125, "--map {from}:TERM: {err}");
        assert_one_clean_line(&err, from);
        let mut cmd = plain(["--", "true"]);
        cmd.env("PIDONE_MAP", format!("HUP:USR1,{from}:HUP"));
        let (c, err, _) = run(cmd);
        assert_eq!(c, 125, "PIDONE_MAP {from}: {err}");
        assert!(err.contains("PIDONE_MAP"), "{err}");
    }
    let (c, err, _) = run(plain(["--map", "USR1:TERM", "--map", "WINCH:0", "--", "true"]));
    assert_eq!(c, 0, "{err}");
}

#[test]
fn unknown_pidone_variables_get_one_warning_each() {
    let mut cmd = plain(["--", "true"]);
    cmd.env("PIDONE_GRACE_PERIOD", "30s").env("PIDONE_WAIT_TIMOUT", "5s").env("PIDONE_ZZZ", "1");
    cmd.env("PIDONE_PROBE_PORT", "8080").env("PIDONE_USER_X", "").env_remove("PIDONE_USER");
    let (c, err, _) = run(cmd);
    assert_eq!(c, 0, "a typo is not an error: {err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("pidone: warn: PIDONE_")).collect();
    assert_eq!(warnings.len(), 4, "{err}");
    for (name, meant) in [
        ("PIDONE_GRACE_PERIOD", Some("PIDONE_GRACE")),
        ("PIDONE_WAIT_TIMOUT", Some("PIDONE_WAIT_TIMEOUT")),
        ("PIDONE_USER_X", Some("PIDONE_USER")),
        ("PIDONE_ZZZ", None),
    ] {
        let line = warnings.iter().find(|l| l.contains(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(line.contains("did you mean"), meant.is_some(), "{line}");
        if let Some(m) = meant {
            assert!(line.contains(&format!("did you mean {m}?")), "{line}");
        }
    }
    assert!(!err.contains("PIDONE_PROBE_PORT"), "read by probe, so known: {err}");
    // Each mode that reads variables warns; the variable is still ignored.
    let mut cmd = plain(["wait", "--wait-timeout", "2s", "file:///tmp"]);
    cmd.env("PIDONE_WAIT_INTERVALL", "1s");
    let (c, err, _) = run(cmd);
    assert_eq!(c, 0, "{err}");
    assert!(err.contains("PIDONE_WAIT_INTERVALL is not a pidone variable"), "{err}");
}

/// The signals the helper's `sigprint` recorded in `path`.
fn recorded(path: &std::path::Path) -> Vec<i32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().filter(|l| !l.starts_with("ready")).map(|l| l.parse().unwrap()).collect()
}

fn wait_ready(path: &std::path::Path) {
    let ready = || std::fs::read_to_string(path).is_ok_and(|t| t.starts_with("ready"));
    assert!(wait_until(Duration::from_secs(5), ready), "helper not ready");
}

/// Send USR1 to pidone running `sh -c 'sigprint; exit 7'` with `flags`; the
/// signals the grandchild saw.
fn usr1_seen_by_grandchild(flags: &[&str], vars: &[(&str, &str)]) -> Vec<i32> {
    let dir = TempDir::new("peer");
    let f = dir.join("sig");
    let script = format!("{} sigprint {} 1; exit 7", helper_str(), f.display());
    let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    args.extend(["--".into(), "sh".into(), "-c".into(), script]);
    let mut cmd = pid1(args);
    cmd.envs(vars.iter().copied());
    let mut r = Running::spawn(cmd);
    wait_ready(&f);
    r.signal(libc::SIGUSR1);
    assert_eq!(code(r.wait(Duration::from_secs(10))), 138, "{flags:?}: sh dies of SIGUSR1");
    recorded(&f)
}

#[test]
fn tini_g_signals_the_group_dumb_init_c_the_child_only() {
    // -g wins over PIDONE_FORWARD=child: USR1 reaches the grandchild.
    assert_eq!(usr1_seen_by_grandchild(&["-g"], &[("PIDONE_FORWARD", "child")]), vec![libc::SIGUSR1]);
    assert_eq!(usr1_seen_by_grandchild(&["-gv"], &[("PIDONE_FORWARD", "child")]), vec![libc::SIGUSR1]);
    // -c / --single-child: only the main child; the grandchild gets just the drain's TERM.
    for c in ["-c", "--single-child"] {
        assert_eq!(usr1_seen_by_grandchild(&[c], &[("PIDONE_FORWARD", "group")]), vec![libc::SIGTERM], "{c}");
    }
}

#[test]
fn dumb_init_r_rewrites_by_number_and_zero_drops() {
    // USR1 (10) as USR2 (12): sh dies of USR2; --rewrite 12:0 would drop it.
    let dir = TempDir::new("rewrite");
    let f = dir.join("sig");
    for (flags, want) in [(&["-r", "10:12"][..], 128 + 12), (&["--rewrite", "10:12", "-r", "12:0"], 128 + 12)] {
        let _ = std::fs::remove_file(&f);
        let script = format!("{} sigprint {} 1", helper_str(), f.display());
        let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        args.extend(["--".into(), "sh".into(), "-c".into(), script]);
        let mut r = Running::spawn(pid1(args));
        wait_ready(&f);
        r.signal(libc::SIGUSR1);
        assert_eq!(code(r.wait(Duration::from_secs(10))), want, "{flags:?}");
    }
    let mut r = Running::spawn(pid1(["-r", "10:0", "--", "sleep", "30"]));
    std::thread::sleep(Duration::from_millis(200));
    r.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(300));
    assert!(r.child.try_wait().unwrap().is_none(), "USR1 dropped: sleep still runs");
    r.signal(libc::SIGTERM);
    assert_eq!(code(r.wait(Duration::from_secs(10))), 143);
}

#[test]
fn tini_e_turns_a_code_into_success_and_s_is_accepted() {
    for (flags, want) in
        [(&["-e", "143"][..], 0), (&["-e143", "-s"], 0), (&["-s", "-e", "1", "-e", "143"], 0), (&["-e", "1"], 143)]
    {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["--", "sh", "-c", "kill -TERM $$"]);
        let (c, err, _) = run(pid1(args));
        assert_eq!(c, want, "{flags:?}: {err}");
    }
}

#[test]
fn tini_w_warns_about_each_reaped_orphan_and_reaps_it() {
    // sh starts a background child and exits only after it ended: pidone reaps
    // that orphan (or sh does); the orphan's grandchild is re-parented to pidone.
    let script = "(sleep 0.2 &) ; sleep 0.5; exit 3";
    for (flags, warned) in [(&["-w"][..], true), (&[][..], false)] {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["--", "sh", "-c", script]);
        let (c, err, _) = run(pid1(args));
        assert_eq!(c, 3, "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("pidone: warn: reaped pid")).collect();
        assert_eq!(lines.len(), usize::from(warned), "{flags:?}: {err}");
    }
    // The reap happens: no zombie is left behind while pidone supervises.
    let dir = TempDir::new("reap");
    let f = dir.join("pids");
    let script = format!("(sleep 0.1 & echo $! > {}) ; sleep 30", f.display());
    let mut r = Running::spawn(pid1(["-w", "--", "sh", "-c", &script]));
    assert!(wait_until(Duration::from_secs(5), || std::fs::read_to_string(&f).is_ok_and(|t| t.ends_with('\n'))));
    let init = r.init_pid();
    // The orphan (pid inside the namespace) is gone once reaped: pidone has no zombie child.
    let no_zombie = || {
        let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).unwrap_or_default();
        children
            .split_whitespace()
            .all(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| !s.contains(") Z ")))
            && children.split_whitespace().count() == 1
    };
    assert!(wait_until(Duration::from_secs(5), no_zombie), "the orphan was reaped");
    r.signal(libc::SIGTERM);
    assert_eq!(code(r.wait(Duration::from_secs(10))), 143);
}

#[test]
fn tini_p_asks_for_a_signal_when_pidone_s_parent_dies() {
    use std::io::BufRead;
    let dir = TempDir::new("pdeath");
    let marker = dir.join("term");
    // The parent: a shell that starts pidone in the background, says its pid and waits.
    let app = format!("trap 'echo term > {}; exit 0' TERM; sleep 30 & wait", marker.display());
    for (flags, delivered) in [(&["-p", "TERM"][..], true), (&[][..], false)] {
        let _ = std::fs::remove_file(&marker);
        let mut parent = std::process::Command::new("sh");
        parent.args(["-c", "\"$@\" & echo $!; wait", "sh"]).arg(bin()).args(flags).args(["--", "sh", "-c", &app]);
        parent.env("PIDONE_ALLOW_ROOT", "1").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        not_for_pidone(&mut parent);
        let mut parent = parent.spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(parent.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let pidone: i32 = line.trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        parent.kill().unwrap();
        parent.wait().unwrap();
        let gone = || std::fs::read_to_string(format!("/proc/{pidone}/stat")).map_or(true, |s| s.contains(") Z "));
        assert_eq!(wait_until(Duration::from_secs(3), gone), delivered, "{flags:?}: pidone ended with its parent");
        assert_eq!(marker.exists(), delivered, "{flags:?}: TERM reached the app");
        if !delivered {
            unsafe { libc::kill(pidone, libc::SIGKILL) };
        }
    }
}

#[test]
fn tini_l_prints_the_license_notices_and_vvv_is_debug() {
    let (c, err, out) = run(plain(["-l"]));
    assert_eq!(c, 0, "{err}");
    assert!(stdout(&out).contains("MIT"), "{}", stdout(&out));
    let (c, err, _) = run(plain(["-vvv", "--env-file", "?/nonexistent", "--", "true"]));
    assert_eq!(c, 0, "{err}");
    assert!(err.contains("pidone: debug: "), "{err}");
    let (c, _, out) = run(plain(["--help"]));
    assert_eq!(c, 0);
    assert!(stdout(&out).contains("-g -s -e N -p SIG -w -l; -c, -r S:R"), "{}", stdout(&out));
}

/// Check each line of `err` with Python's JSON parser: keys `time`, `level`,
/// `msg`, `prog` in that order, `time` RFC 3339 UTC with milliseconds within a
/// minute of now. Returns `(level, msg)` of each line.
fn json_lines(err: &str) -> Vec<(String, String)> {
    let check = r#"
import json, sys, re, datetime
now = datetime.datetime.now(datetime.timezone.utc)
for line in sys.stdin.read().splitlines():
    o = json.loads(line)
    assert list(o) == ["time", "level", "msg", "prog"], line
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), line
    t = datetime.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((now - t).total_seconds()) < 60, (line, str(now))
    assert o["prog"] == "pidone", line
    print(o["level"] + "\t" + o["msg"].replace("\n", "<NL>"))
"#;
    let mut py = std::process::Command::new("python3");
    py.args(["-c", check]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut py = py.stderr(std::process::Stdio::piped()).spawn().expect("python3");
    std::io::Write::write_all(&mut py.stdin.take().unwrap(), err.as_bytes()).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success(), "not the JSON lines asked for: {err}\n{}", String::from_utf8_lossy(&out.stderr));
    let parsed = String::from_utf8(out.stdout).unwrap();
    parsed.lines().map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())).unwrap()).collect()
}

#[test]
fn json_logs_start_with_the_time_and_usage_errors_use_them_too() {
    let out = output(pid1(["--log-format", "json", "-v", "--", "sh", "-c", "exit 2"]), Duration::from_secs(10));
    assert_eq!(code(out.status), 2);
    let lines = json_lines(&stderr(&out));
    assert!(lines.len() >= 2 && lines.iter().all(|(level, _)| level == "info"), "{lines:?}");
    // Usage errors and parse-time warnings, from the variable or from the
    // option, wherever it stands on the line.
    // (arguments, variables, the exit code)
    type Case = (Vec<&'static str>, Vec<(&'static str, &'static str)>, i32);
    let cases: Vec<Case> = vec![
        (vec!["--grace", "soon", "--", "true"], vec![("PIDONE_LOG_FORMAT", "json")], 125),
        (vec!["--grace", "soon", "--log-format", "json", "--", "true"], vec![], 125),
        (vec!["--bogus", "--log-format=json", "--", "true"], vec![], 125),
        (vec!["--log-format", "JSON"], vec![("PIDONE_GRACE", "x")], 125),
        (vec!["probe", "--log-format", "json", "--timeout", "forever", "/"], vec![], 1),
        (vec!["wait", "--log-format", "json", "--wait-timeout", "1s1s", "file:///"], vec![], 125),
        (vec!["env", "--format", "yaml"], vec![("PIDONE_LOG_FORMAT", "json")], 125),
        (vec!["--", "true"], vec![("PIDONE_LOG_FORMAT", "json"), ("PIDONE_GRACE_PERIOD", "3s")], 0),
    ];
    for (args, vars, want) in cases {
        let mut cmd = plain(&args);
        cmd.envs(vars.iter().copied());
        let (c, err, _) = run(cmd);
        assert_eq!(c, want, "{args:?} {vars:?}: {err}");
        let lines = json_lines(&err);
        assert_eq!(lines.len(), 1, "{args:?} {vars:?}: {err}");
        let (level, _) = &lines[0];
        assert_eq!(level, if want == 0 { "warn" } else { "error" }, "{args:?}: {err}");
    }
    // The text format stays as it was, and an invalid format is reported in text.
    let (c, err, _) = run(plain(["--log-format", "yaml", "--", "true"]));
    assert_eq!(c, 125);
    assert!(err.starts_with("pidone: error: --log-format: "), "{err}");
}
