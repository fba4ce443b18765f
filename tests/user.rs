//! Contract section 4: the privilege drop, run as root against dist/pidone.
//!
//! Test users and groups come from a test /etc/passwd and /etc/group
//! bind-mounted over the real ones inside a private mount namespace (the one
//! `unshare --mount-proc` creates), so the machine's files are never touched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;

use common::{TempDir, bin, code, helper, output, skip, stderr, stdout, wait_until};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
multi:x:3000:3000:Multi:/home/multi:/bin/sh
";

const GROUP: &str = "\
root:x:0:
wheel:x:10:root
nogroup:x:65534:
multi:x:3000:
g1:x:3001:multi
g2:x:3002:other,multi
g3:x:3003:other
";

fn root(test: &str) -> bool {
    // SAFETY: geteuid cannot fail.
    let ok = unsafe { libc::geteuid() } == 0;
    if !ok {
        skip(test, "needs root (unshare, bind mounts, setuid files)");
    }
    ok
}

/// The inner script: bind-mount $1 over /etc/passwd and $2 over /etc/group
/// (when non-empty), then exec pidone as PID 1 of the new namespaces.
const SCRIPT: &str = r#"p=$1 g=$2; shift 2
if [ -n "$p" ]; then mount --bind "$p" /etc/passwd || exit 90; fi
if [ -n "$g" ]; then mount --bind "$g" /etc/group || exit 91; fi
exec "$@""#;

/// pidone ARGS as PID 1 of a new PID and mount namespace, without any
/// PIDONE_* variable from the test's environment (so no PIDONE_ALLOW_ROOT).
fn ns(db: Option<&TempDir>, args: &[&str]) -> Command {
    let file = |name: &str| db.map(|d| d.join(name).to_string_lossy().into_owned()).unwrap_or_default();
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", SCRIPT, "sh"]);
    c.arg(file("passwd")).arg(file("group")).arg(bin()).args(args);
    common::not_for_pidone(&mut c);
    for v in ["PIDONE_ALLOW_ROOT", "PIDONE_USER", "PIDONE_ALLOW_NEW_PRIVS"] {
        c.env_remove(v);
    }
    c.process_group(0);
    c
}

/// A test user database.
fn db(passwd: &str, group: &str) -> TempDir {
    let d = TempDir::new("userdb");
    d.write("passwd", passwd);
    d.write("group", group);
    d
}

/// A directory every user may write to.
fn shared_dir(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

fn run(cmd: Command) -> Output {
    let out = output(cmd, T);
    let c = code(out.status);
    assert!(c != 90 && c != 91, "bind mount failed: {}", stderr(&out));
    out
}

/// The value of `Key:` in a /proc/PID/status text, whitespace-normalised.
fn field(status: &str, key: &str) -> String {
    let prefix = format!("{key}:");
    let line = status.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {key} in:\n{status}"));
    line[prefix.len()..].split_whitespace().collect::<Vec<_>>().join(" ")
}

fn groups_of(status: &str) -> Vec<u32> {
    let mut g: Vec<u32> =
        field(status, "Groups").split(' ').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    g.sort_unstable();
    g
}

/// Everything the contract promises about a dropped process.
fn assert_dropped(status: &str, uid: u32, gid: u32, groups: &[u32]) {
    assert_eq!(field(status, "Uid"), format!("{uid} {uid} {uid} {uid}"), "{status}");
    assert_eq!(field(status, "Gid"), format!("{gid} {gid} {gid} {gid}"), "{status}");
    let mut want = groups.to_vec();
    want.sort_unstable();
    assert_eq!(groups_of(status), want, "{status}");
    assert!(!groups_of(status).contains(&0) || groups.contains(&0), "{status}");
    assert_eq!(field(status, "NoNewPrivs"), "1", "{status}");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(field(status, cap), "0000000000000000", "{cap}: {status}");
    }
}

/// Run `sh -c 'cat /proc/$$/status; echo HOME=$HOME'` (the main child's own
/// status) under pidone with `args`; returns (status text, HOME).
fn child_status(db: Option<&TempDir>, args: &[&str], home: Option<&str>) -> (String, String) {
    let mut a = args.to_vec();
    a.extend(["--", "sh", "-c", "cat /proc/$$/status; echo HOME=$HOME"]);
    let mut c = ns(db, &a);
    match home {
        Some(h) => c.env("HOME", h),
        None => c.env_remove("HOME"),
    };
    let out = run(c);
    assert_eq!(code(out.status), 0, "{args:?}: {}", stderr(&out));
    let text = stdout(&out);
    let home = text.lines().find_map(|l| l.strip_prefix("HOME=")).unwrap_or_default().to_string();
    (text, home)
}

#[test]
fn user_nobody() {
    if !root("user_nobody") {
        return;
    }
    let d = db(PASSWD, GROUP);
    let (status, home) = child_status(Some(&d), &["--user", "nobody"], Some("/root"));
    assert_dropped(&status, 65534, 65534, &[65534]);
    assert_eq!(home, "/nonexistent");
}

#[test]
fn numeric_user_and_group_without_passwd_entry() {
    if !root("numeric_user_and_group_without_passwd_entry") {
        return;
    }
    let d = db(PASSWD, GROUP);
    let (status, home) = child_status(Some(&d), &["--user", "1234:1234"], None);
    assert_dropped(&status, 1234, 1234, &[1234]);
    assert_eq!(home, "/");
    // A bare uid: the primary gid is the same number, never an implicit 0.
    let (status, _) = child_status(Some(&d), &["--user", "1234"], Some("/data"));
    assert_dropped(&status, 1234, 1234, &[1234]);
    // Through the variable, and the operator's own HOME is kept.
    let mut c = ns(Some(&d), &["--", "sh", "-c", "cat /proc/$$/status; echo HOME=$HOME"]);
    c.env("PIDONE_USER", "4321:4322").env("HOME", "/data");
    let out = run(c);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_dropped(&stdout(&out), 4321, 4322, &[4322]);
    assert!(stdout(&out).contains("HOME=/data\n"));
}

#[test]
fn name_group_and_supplementary_groups() {
    if !root("name_group_and_supplementary_groups") {
        return;
    }
    let d = db(PASSWD, GROUP);
    let (status, home) = child_status(Some(&d), &["--user", "multi"], Some("/root"));
    assert_dropped(&status, 3000, 3000, &[3000, 3001, 3002]);
    assert_eq!(home, "/home/multi");
    let (status, _) = child_status(Some(&d), &["--user", "multi:g3"], None);
    assert_dropped(&status, 3000, 3003, &[3003]);
    let (status, _) = child_status(Some(&d), &["--user", "1234:g1"], None);
    assert_dropped(&status, 1234, 3001, &[3001]);
    // A uid that has an entry resolves like its name.
    let (status, _) = child_status(Some(&d), &["--user", "3000"], None);
    assert_dropped(&status, 3000, 3000, &[3000, 3001, 3002]);
}

#[test]
fn pidone_drops_itself_and_still_forwards_and_reaps() {
    if !root("pidone_drops_itself_and_still_forwards_and_reaps") {
        return;
    }
    let dir = shared_dir("user-sig");
    let h = dir.join("helper");
    std::fs::copy(helper(), &h).unwrap();
    let log = dir.join("log");
    let (h, log_s) = (h.to_string_lossy().into_owned(), log.to_string_lossy().into_owned());
    let mut r =
        common::Running::spawn(ns(None, &["--user", "1234:1234", "--grace", "5s", "--", &h, "sigprint", &log_s, "1"]));
    assert!(
        wait_until(T, || std::fs::read_to_string(&log).is_ok_and(|s| s.starts_with("ready"))),
        "the child did not start"
    );
    let pid = r.init_pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(field(&status, "Uid"), "1234 1234 1234 1234", "pidone itself: {status}");
    assert_eq!(field(&status, "CapEff"), "0000000000000000");
    assert_eq!(field(&status, "CapPrm"), "0000000000000000");
    r.signal(libc::SIGTERM);
    let st = r.wait(T);
    assert_eq!(code(st), 0, "the child exits 0 once it got the signal");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().any(|l| l == "15"), "SIGTERM not forwarded: {text}");
}

#[test]
fn leftovers_are_drained_after_the_drop() {
    if !root("leftovers_are_drained_after_the_drop") {
        return;
    }
    let dir = shared_dir("user-drain");
    let pidfile = dir.join("pid");
    // Also: the app cannot read pidone's memory or environment (the drop made
    // pidone non-dumpable); exit 99 if it can.
    let script =
        format!("cat /proc/1/environ >/dev/null 2>&1 && exit 99; sleep 60 & echo $! > {}; exit 7", pidfile.display());
    let start = Instant::now();
    let out = run(ns(None, &["--user", "1234:1234", "--grace", "10s", "--", "sh", "-c", &script]));
    let took = start.elapsed();
    assert_eq!(code(out.status), 7, "{}", stderr(&out));
    assert!(pidfile.exists(), "the leftover never started");
    // The leftover (same uid as pidone) got SIGTERM at once: no grace wait.
    assert!(took < Duration::from_secs(5), "drain took {took:?}");
}

#[test]
fn setuid_root_copy_gains_nothing() {
    if !root("setuid_root_copy_gains_nothing") {
        return;
    }
    let dir = TempDir::new("user-suid");
    let cat = dir.join("cat");
    std::fs::copy("/bin/cat", &cat).unwrap();
    std::os::unix::fs::chown(&cat, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&cat, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let cat_s = cat.to_string_lossy().into_owned();
    // Control: with --allow-new-privs the setuid bit works (euid 0) but the
    // empty bounding set still grants no capability.
    let out = run(ns(None, &["--user", "1234:1234", "--allow-new-privs", "--", &cat_s, "/proc/self/status"]));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let status = stdout(&out);
    if field(&status, "Uid") != "1234 0 0 0" {
        skip("setuid_root_copy_gains_nothing", "setuid bits have no effect in the temp dir (nosuid mount?)");
        return;
    }
    assert_eq!(field(&status, "NoNewPrivs"), "0");
    assert_eq!(field(&status, "CapEff"), "0000000000000000", "{status}");
    assert_eq!(field(&status, "CapPrm"), "0000000000000000", "{status}");
    // Default: no_new_privs, so the setuid bit is ignored.
    let out = run(ns(None, &["--user", "1234:1234", "--", &cat_s, "/proc/self/status"]));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_dropped(&stdout(&out), 1234, 1234, &[1234]);
}

/// Each `--user` value must give 125 and start nothing.
fn assert_refused(d: Option<&TempDir>, args: &[&str], env: &[(&str, &str)]) {
    let dir = shared_dir("user-refuse");
    let marker = dir.join("ran");
    let script = format!("touch {}", marker.display());
    let mut a = args.to_vec();
    a.extend(["--", "sh", "-c", &script]);
    let mut c = ns(d, &a);
    c.envs(env.iter().copied());
    let out = run(c);
    assert_eq!(code(out.status), 125, "{args:?} {env:?}: {}", stderr(&out));
    assert!(!marker.exists(), "{args:?} {env:?}: the command ran");
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("pidone: error: ")).count(),
        1,
        "{args:?}: one error line, got {err}"
    );
}

#[test]
fn bad_specs_and_root_are_refused_before_anything_runs() {
    if !root("bad_specs_and_root_are_refused_before_anything_runs") {
        return;
    }
    let d = db(&format!("{PASSWD}admin:x:0:0::/root:/bin/sh\n"), GROUP);
    for spec in [
        "",
        ":1000",
        ":",
        "a:b:c",
        "1000:1000:1000",
        " 1000",
        "1000 ",
        "+1000",
        "-1",
        "1000:-1",
        "0010",
        "1000:0010",
        "2147483648",
        "4294967296",
        "4294967296:1000",
        "99999999999999999999",
        "bogus",
        "0day",
        "multi:nosuchgroup",
        "1234:bogus",
        "1234:0day",
        "root",
        "0",
        "0:1234",
        "root:multi",
        "admin",
        "a/b",
    ] {
        let opt = format!("--user={spec}");
        assert_refused(Some(&d), &[&opt], &[]);
    }
    // The same through PIDONE_USER.
    assert_refused(Some(&d), &[], &[("PIDONE_USER", "0010")]);
    assert_refused(Some(&d), &[], &[("PIDONE_USER", "root")]);
    // Started as root without --user.
    assert_refused(Some(&d), &[], &[]);
    assert_refused(Some(&d), &["--allow-root=no"], &[]);
}

#[test]
fn allow_root_runs_as_root() {
    if !root("allow_root_runs_as_root") {
        return;
    }
    for args in [&["--allow-root"][..], &["--user", "0", "--allow-root"], &["--user", "root:root", "--allow-root"]] {
        let (status, _) = child_status(None, args, None);
        assert_eq!(field(&status, "Uid"), "0 0 0 0", "{args:?}");
    }
    let mut c = ns(None, &["--", "sh", "-c", "id -u"]);
    c.env("PIDONE_ALLOW_ROOT", "1");
    let out = run(c);
    assert_eq!((code(out.status), stdout(&out).trim().to_string()), (0, "0".to_string()), "{}", stderr(&out));
}

#[test]
fn malformed_passwd_never_makes_root() {
    if !root("malformed_passwd_never_makes_root") {
        return;
    }
    let passwd = "\
root:x:0:0:root:/root:/bin/sh
bad1:x:abc:1000::/home/bad1:/bin/sh
bad2:x::1000::/:/bin/sh
bad3:x:1000
bad4:x:4294967296:4294967296::/:/bin/sh
bad5:x: 1000:1000::/:/bin/sh
bad6:x:00:00::/:/bin/sh
bad7:x:1001:abc::/:/bin/sh
bad8:x:-1:-1::/:/bin/sh
1000:x:0:0::/root:/bin/sh
99999999999999999999:x:0:0::/root:/bin/sh
good:x:2000:2000::/home/good:/bin/sh
";
    let group = "root:x:0:\nbadg:x:xyz:good\nzero:x::good\ngood:x:2000:\n";
    let d = db(passwd, group);
    for user in [
        "bad1",
        "bad2",
        "bad3",
        "bad4",
        "bad5",
        "bad6",
        "bad7",
        "bad8",
        "99999999999999999999",
        "good:badg",
        "good:zero",
    ] {
        let opt = format!("--user={user}");
        assert_refused(Some(&d), &[&opt], &[]);
    }
    // A numeric spec is an id even when a passwd line is named like it.
    let (status, _) = child_status(Some(&d), &["--user", "1000"], None);
    assert_dropped(&status, 1000, 1000, &[1000]);
    // Valid lines after bad ones still work; bad group lines give no group 0.
    let (status, home) = child_status(Some(&d), &["--user", "good"], None);
    assert_dropped(&status, 2000, 2000, &[2000]);
    assert_eq!(home, "/home/good");
}

#[test]
fn bad_user_database_files_are_errors() {
    if !root("bad_user_database_files_are_errors") {
        return;
    }
    // /etc/passwd replaced by a FIFO: an error, not a hang.
    let d = TempDir::new("userdb-fifo");
    let fifo = d.join("passwd");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    d.write("group", GROUP);
    let start = Instant::now();
    assert_refused(Some(&d), &["--user=1234"], &[]);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn started_non_root() {
    if !root("started_non_root") {
        return;
    }
    let dir = shared_dir("user-nonroot");
    let marker = dir.join("ran");
    let script = format!("touch {}; cat /proc/$$/status", marker.display());
    let pidone = common::bin_for_others();
    let start_as = |args: &[&str]| {
        let _ = std::fs::remove_file(&marker);
        let mut c = Command::new(&pidone.path);
        c.args(args).args(["--", "sh", "-c", &script]).uid(1234).gid(1234);
        for v in ["PIDONE_ALLOW_ROOT", "PIDONE_USER", "PIDONE_ALLOW_NEW_PRIVS"] {
            c.env_remove(v);
        }
        common::not_for_pidone(&mut c);
        c.process_group(0);
        output(c, T)
    };
    // Kubernetes runAsUser / Docker USER: no --user, or the same uid, runs.
    for args in [&[][..], &["--user", "1234"], &["--user", "1234:1234"]] {
        let out = start_as(args);
        assert_eq!(code(out.status), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(field(&stdout(&out), "Uid"), "1234 1234 1234 1234");
    }
    // A different uid cannot be reached: one warning naming both uids, and
    // the command runs as the uid pidone was started with (contract section
    // 4: the runtime chose it, and it is not root). So does uid 0 with
    // --allow-root: a non-root pidone cannot make root.
    for args in [&["--user", "1235"][..], &["--user", "1235:1235"], &["--user", "0", "--allow-root"]] {
        let out = start_as(args);
        assert_eq!(code(out.status), 0, "{args:?}: {}", stderr(&out));
        assert!(marker.exists(), "{args:?}: the command did not run");
        assert_eq!(field(&stdout(&out), "Uid"), "1234 1234 1234 1234");
        assert_eq!(field(&stdout(&out), "Gid"), "1234 1234 1234 1234");
        let err = stderr(&out);
        let warned: Vec<&str> = err.lines().filter(|l| l.starts_with("pidone: warn")).collect();
        assert_eq!(warned.len(), 1, "{args:?}: {err}");
        assert!(warned[0].contains("uid 1234") && warned[0].contains(args[1].split(':').next().unwrap()), "{err}");
    }
    // --user naming root without --allow-root is refused wherever pidone starts.
    for args in [&["--user", "root"][..], &["--user", "0"]] {
        let out = start_as(args);
        assert_eq!(code(out.status), 125, "{args:?}: {}", stderr(&out));
        assert!(!marker.exists(), "{args:?}: the command ran");
    }
}

#[test]
fn an_image_with_pidone_user_baked_in_runs_under_any_uid() {
    if !root("an_image_with_pidone_user_baked_in_runs_under_any_uid") {
        return;
    }
    // `docker run --user 1234` of an image with ENV PIDONE_USER=10001.
    let pidone = common::bin_for_others();
    let mut c = as_1234(&pidone.path);
    c.args(["--", "sh", "-c", "cat /proc/$$/status"]).env("PIDONE_USER", "10001");
    let out = output(c, T);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(field(&stdout(&out), "Uid"), "1234 1234 1234 1234", "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one warning: {err}");
    assert!(err.contains("10001") && err.contains("1234"), "{err}");
}

/// `pidone env … -- CMD` exists once the env issue is merged; until then this
/// prints SKIP.
#[test]
fn env_mode_follows_the_same_rules() {
    if !root("env_mode_follows_the_same_rules") {
        return;
    }
    let d = db(PASSWD, GROUP);
    let out = run(ns(Some(&d), &["env", "--user", "multi", "--", "sh", "-c", "cat /proc/$$/status"]));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_dropped(&stdout(&out), 3000, 3000, &[3000, 3001, 3002]);
    for args in [&["env"][..], &["env", "--user=0010"], &["env", "--user=root"], &["env", "--user=bogus"]] {
        assert_refused(Some(&d), args, &[]);
    }
}

/// `cmd` as uid and gid 1234 with no supplementary groups.
fn as_1234(cmd: &std::path::Path) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid", "1234", "--regid", "1234", "--clear-groups"]).arg(cmd);
    for v in ["PIDONE_ALLOW_ROOT", "PIDONE_USER", "PIDONE_ALLOW_NEW_PRIVS"] {
        c.env_remove(v);
    }
    common::not_for_pidone(&mut c);
    c.process_group(0);
    c
}

#[test]
fn setuid_or_setgid_pidone_refuses_every_mode_before_reading_anything() {
    let test = "setuid_or_setgid_pidone_refuses_every_mode_before_reading_anything";
    if !root(test) {
        return;
    }
    let dir = TempDir::new("setid");
    // Whether setuid bits work here at all (a nosuid /tmp makes this moot).
    let id = dir.join("id");
    std::fs::copy("/usr/bin/id", &id).unwrap();
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let mut c = as_1234(&id);
    c.arg("-u");
    if stdout(&output(c, T)).trim() != "0" {
        skip(test, "setuid bits have no effect in the temp dir (nosuid mount?)");
        return;
    }
    // What a root pidone could reach and uid 1234 cannot: a root-only
    // directory with a secret, a file, and a listening socket.
    let private = dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(private.join("secret"), "CANARY-shadow\n").unwrap();
    let sock = private.join("sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let secrets = dir.join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    std::os::unix::fs::symlink(private.join("secret"), secrets.join("stolen")).unwrap();
    let (secrets, sock) = (secrets.to_str().unwrap(), sock.to_str().unwrap());
    let file = format!("file://{}", private.join("secret").display());
    let copy = dir.join("pidone");
    std::fs::copy(bin(), &copy).unwrap();
    for mode in [0o4755, 0o2755, 0o6755] {
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(mode)).unwrap();
        for (args, want) in [
            (&["env", "--secrets-dir", secrets][..], 125),
            (&["env", "--check", "--secrets-dir", secrets], 125),
            (&["env", "--secrets-dir", secrets, "--", "cat", "/proc/self/status"], 125),
            (&["--secrets-dir", secrets, "--allow-root", "--", "true"], 125),
            (&["wait", "--wait-timeout", "1s", &file], 125),
            (&["probe", "--unix", sock, "/"], 1),
            (&["--version"], 125),
        ] {
            let mut c = as_1234(&copy);
            c.args(args);
            let out = output(c, T);
            assert_eq!(code(out.status), want, "{mode:o} {args:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "", "{mode:o} {args:?}: printed something");
            assert!(!stderr(&out).contains("CANARY"), "{mode:o} {args:?}: {}", stderr(&out));
            assert_eq!(stderr(&out).lines().count(), 1, "{mode:o} {args:?}: {}", stderr(&out));
            match listener.accept() {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => panic!("{mode:o} {args:?}: the probe connected: {other:?}"),
            }
        }
    }
}

/// A Unix-socket HTTP server that answers 200 to every connection and sends
/// the uid of each peer (SO_PEERCRED) down the returned channel.
fn peer_uid_server(dir: &TempDir) -> (String, std::sync::mpsc::Receiver<u32>) {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let path = dir.join("peer.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut cred = libc::ucred { pid: 0, uid: u32::MAX, gid: 0 };
            let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
            // SAFETY: cred and len are live and sized for SO_PEERCRED.
            let rc = unsafe {
                libc::getsockopt(
                    s.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_PEERCRED,
                    (&mut cred as *mut libc::ucred).cast(),
                    &mut len,
                )
            };
            assert_eq!(rc, 0);
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.read(&mut [0u8; 4096]);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if tx.send(cred.uid).is_err() {
                return;
            }
        }
    });
    (path.to_string_lossy().into_owned(), rx)
}

#[test]
fn probe_and_wait_started_as_root_drop_before_connecting() {
    if !root("probe_and_wait_started_as_root_drop_before_connecting") {
        return;
    }
    let dir = TempDir::new("checks-drop");
    let (sock, peers) = peer_uid_server(&dir);
    let probe = |user: Option<&str>| {
        let mut c = Command::new(bin());
        common::not_for_pidone(&mut c);
        c.args(["probe", "--unix", &sock, "/"]);
        c.env_remove("PIDONE_USER");
        if let Some(u) = user {
            c.env("PIDONE_USER", u);
        }
        let out = output(c, T);
        assert_eq!(code(out.status), 0, "{user:?}: {}{}", stdout(&out), stderr(&out));
        peers.recv_timeout(T).expect("the probe never connected")
    };
    assert_eq!(probe(None), 65534, "without PIDONE_USER: nobody");
    assert_eq!(probe(Some("1234:1234")), 1234);
    assert_eq!(probe(Some("0")), 65534, "PIDONE_USER root: nobody all the same");
    // A bad PIDONE_USER is a usage error (probe: 1), and nothing connects.
    let mut c = Command::new(bin());
    common::not_for_pidone(&mut c);
    c.args(["probe", "--unix", &sock, "/"]).env("PIDONE_USER", "no-such-user");
    let out = output(c, T);
    assert_eq!(code(out.status), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("PIDONE_USER"), "{}", stderr(&out));
    assert!(peers.recv_timeout(Duration::from_millis(300)).is_err(), "a refused probe connected");

    // wait: a file in a root-only directory is not visible after the drop.
    let private = dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(private.join("ready"), "").unwrap();
    let target = format!("file://{}", private.join("ready").display());
    let public = format!("file://{}", dir.write("ready", "").display());
    for user in [None, Some("1234")] {
        let wait = |target: &str| {
            let mut c = Command::new(bin());
            common::not_for_pidone(&mut c);
            c.args(["wait", "--wait-timeout", "1s", target]).env_remove("PIDONE_USER");
            if let Some(u) = user {
                c.env("PIDONE_USER", u);
            }
            code(output(c, T).status)
        };
        assert_eq!(wait(&target), 1, "{user:?}: the wait saw a root-only file");
        assert_eq!(wait(&public), 0, "{user:?}");
    }
    // Run mode's --wait runs after the drop to --user already: unchanged.
    let mut c = Command::new(bin());
    common::not_for_pidone(&mut c);
    c.args(["--allow-root", "--wait", &target, "--wait-timeout", "1s", "--", "true"]).env_remove("PIDONE_USER");
    assert_eq!(code(output(c, T).status), 0, "--wait as root (--allow-root) sees it");
}
