//! Contract section 3: env files, secrets, NAME_FILE, `pidone env`, and the
//! environment run mode hands to the child.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
/// A secret value that must never reach stderr.
const CANARY: &str = "c4n4ry-S3CRET-9f1d";

fn env_cmd<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> Command {
    let mut c = plain(["env"]);
    c.args(args);
    c
}

/// `pidone env ARGS` with exactly `vars` as its environment.
fn env_with(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = env_cmd(args);
    c.env_clear().env("PIDONE_ALLOW_ROOT", "1");
    for (k, v) in vars {
        c.env(k, v);
    }
    output(c, T)
}

/// `env -0` output as a map.
fn parse_env0(out: &[u8]) -> BTreeMap<String, String> {
    out.split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let s = String::from_utf8_lossy(e);
            let (k, v) = s.split_once('=').expect("NAME=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", p.display());
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The precedence table: process env < env files (later wins) < secrets <
/// NAME_FILE; --env-override lets files replace the process env.
#[test]
fn precedence_of_every_source() {
    let d = TempDir::new("env-prec");
    let f1 = d.write("one.env", "P=file1\nF=file1\nG=file1\nS=file1\nQ=${P}\n");
    let f2 = d.write("two.env", "G=file2\nS=file2\n");
    std::fs::create_dir(d.join("secrets")).unwrap();
    d.write("secrets/s", "secret\n");
    d.write("secrets/p2", "secret-beats-process\n");
    let pw = d.write("pw", "from-file\n");
    let proc_env = [("P", "proc"), ("P2", "proc"), ("PW_FILE", &*s(&pw)), ("HOME", "/root")];
    let secrets = s(&d.join("secrets"));
    let args = |extra: &[&'static str]| {
        let mut a = vec!["--env-file", f1.to_str().unwrap(), "--env-file", f2.to_str().unwrap()];
        a.extend_from_slice(extra);
        a.extend(["--secrets-dir", &secrets, "--file-env", "PW"]);
        a.extend(["--", "/usr/bin/env", "-0"]);
        a
    };
    let out = env_with(&proc_env, &args(&[]));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let want = map(&[
        ("PIDONE_ALLOW_ROOT", "1"),
        ("HOME", "/root"),
        ("P", "proc"),
        ("P2", "secret-beats-process"),
        ("F", "file1"),
        ("G", "file2"),
        ("S", "secret"),
        ("Q", "proc"),
        ("PW", "from-file"),
    ]);
    assert_eq!(parse_env0(&out.stdout), want);

    let out = env_with(&proc_env, &args(&["--env-override"]));
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let mut want_override = want.clone();
    want_override.insert("P".into(), "file1".into());
    want_override.insert("Q".into(), "file1".into());
    assert_eq!(parse_env0(&out.stdout), want_override);

    // The same options from PIDONE_* variables.
    let mut vars = proc_env.to_vec();
    let files = format!("{},{}", s(&f1), s(&f2));
    let dir = s(&d.join("secrets"));
    vars.extend([("PIDONE_ENV_FILE", &*files), ("PIDONE_SECRETS_DIR", &*dir), ("PIDONE_FILE_ENV", "PW")]);
    let out = env_with(&vars, &["--", "/usr/bin/env", "-0"]);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let mut got = parse_env0(&out.stdout);
    got.retain(|k, _| !k.starts_with("PIDONE_") || k == "PIDONE_ALLOW_ROOT");
    assert_eq!(got, want);
}

/// Run mode: the child gets exactly the built environment, odd values and all.
#[test]
fn run_mode_child_gets_exactly_the_built_environment() {
    let d = TempDir::new("env-run");
    let f = d.write("app.env", "export A='it\\'s'\nB=\"two\\nlines $$ \\\" \\\\\"\nC=${HOME}/x # comment\n");
    std::fs::create_dir(d.join("s")).unwrap();
    d.write("s/db-password", "p@ss 'w\"ord' $HOME\n");
    let mut c = pid1(["--env-file", &s(&f), "--secrets-dir", &s(&d.join("s")), "--", "/usr/bin/env", "-0"]);
    c.env_clear().env("PIDONE_ALLOW_ROOT", "1").env("HOME", "/root").env("PATH", "/usr/bin:/bin");
    let out = output(c, T);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let want = map(&[
        ("PIDONE_ALLOW_ROOT", "1"),
        ("HOME", "/root"),
        ("PATH", "/usr/bin:/bin"),
        ("A", "it's"),
        ("B", "two\nlines $ \" \\"),
        ("C", "/root/x"),
        ("DB_PASSWORD", "p@ss 'w\"ord' $HOME"),
    ]);
    assert_eq!(parse_env0(&out.stdout), want);
}

#[test]
fn env_execs_in_place_without_forking() {
    let d = TempDir::new("env-exec");
    let f = d.write("a.env", "X=1\n");
    let mut c = env_cmd(["--env-file", &s(&f), "--", "/bin/sh", "-c", "echo $$ $X"]);
    c.stdout(Stdio::piped());
    let child = c.spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{pid} 1"));
    // Exec failures: 127 not found, 126 not executable, after a full build.
    assert_eq!(code(output(env_cmd(["--env-file", &s(&f), "--", "/nonexistent/x"]), T).status), 127);
    assert_eq!(code(output(env_cmd(["--", "no-such-command-xyz"]), T).status), 127);
    assert_eq!(code(output(env_cmd(["--", "/etc"]), T).status), 126);
    // A load failure never execs.
    let marker = d.join("ran");
    let out =
        output(env_cmd(["--env-file", "/nonexistent.env", "--", "/bin/sh", "-c", &format!("touch {}", s(&marker))]), T);
    assert_eq!(code(out.status), 125);
    assert!(!marker.exists());
    assert!(stderr(&out).contains("/nonexistent.env"), "{}", stderr(&out));
    // --check takes no command.
    assert_eq!(code(output(env_cmd(["--check", "--", "/bin/true"]), T).status), 125);
}

#[test]
fn optional_files_and_dirs() {
    let d = TempDir::new("env-opt");
    let missing = s(&d.join("missing"));
    let out = output(env_cmd(["--check", &format!("--env-file=?{missing}"), &format!("--secrets-dir=?{missing}")]), T);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    for opt in ["--env-file", "--secrets-dir"] {
        let out = output(env_cmd(["--check", opt, &missing]), T);
        assert_eq!(code(out.status), 125, "{opt}");
        assert!(stderr(&out).contains(&missing), "{opt}: {}", stderr(&out));
    }
    // Optional means missing is fine, not that a broken file is.
    let f = d.write("bad.env", "A B\n");
    let out = output(env_cmd(["--check", &format!("--env-file=?{}", s(&f))]), T);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("bad.env:1:"), "{}", stderr(&out));
    // A run-mode load failure starts nothing.
    let marker = d.join("ran");
    let out = output(pid1(["--env-file", &missing, "--", "/bin/touch", &s(&marker)]), T);
    assert_eq!(code(out.status), 125);
    assert!(!marker.exists());
}

/// A Kubernetes secret volume: `..data` -> `..<timestamp>`, `key -> ..data/key`.
#[test]
fn kubernetes_secret_volume_loads_each_key_once() {
    let d = TempDir::new("env-k8s");
    let ts = "..2026_01_02_03_04_05.123456789";
    std::fs::create_dir(d.join(ts)).unwrap();
    d.write(&format!("{ts}/db-password"), "hunter2\n");
    d.write(&format!("{ts}/api.key"), "k3y");
    d.write(&format!("{ts}/tls.crt"), "-----BEGIN-----\nabc\n-----END-----\n");
    symlink(ts, d.join("..data")).unwrap();
    for k in ["db-password", "api.key", "tls.crt"] {
        symlink(format!("..data/{k}"), d.join(k)).unwrap();
    }
    // An item path with a directory: its top-level link points to a directory.
    std::fs::create_dir(d.join(format!("{ts}/nested").as_str())).unwrap();
    d.write(&format!("{ts}/nested/inner"), "x");
    symlink("..data/nested", d.join("nested")).unwrap();
    d.write("..data_tmp_leftover", "ignored");

    let out = output(env_cmd(["--check", "--secrets-dir", &s(d.path())]), T);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "API_KEY\nDB_PASSWORD\nTLS_CRT\n");
    let out = output(env_cmd(["--format", "json", "--secrets-dir", &s(d.path())]), T);
    assert_eq!(
        stdout(&out),
        "{\"API_KEY\":\"k3y\",\"DB_PASSWORD\":\"hunter2\",\"TLS_CRT\":\"-----BEGIN-----\\nabc\\n-----END-----\"}\n"
    );
}

#[test]
fn secret_names_map_and_bad_names_fail() {
    let d = TempDir::new("env-names");
    d.write("My-App.Token", "t");
    let out = output(env_cmd(["--check", "--secrets-dir", &s(d.path())]), T);
    assert_eq!(stdout(&out), "MY_APP_TOKEN\n");
    d.write("1bad", "x");
    let out = output(env_cmd(["--check", "--secrets-dir", &s(d.path())]), T);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains(&s(&d.join("1bad"))), "{}", stderr(&out));
    std::fs::remove_file(d.join("1bad")).unwrap();
    // Two files for one variable: an error naming both.
    d.write("MY_APP_TOKEN", "u");
    let out = output(env_cmd(["--check", "--secrets-dir", &s(d.path())]), T);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("My-App.Token") && stderr(&out).contains("MY_APP_TOKEN"), "{}", stderr(&out));
}

/// FIFOs, devices and oversize files are refused (or skipped in a secrets
/// directory) and never hang pidone.
#[test]
fn limits_regular_files_only_one_mib_no_nul() {
    let d = TempDir::new("env-limits");
    let fifo = d.join("fifo");
    mkfifo(&fifo);
    let check = |args: &[&str], vars: &[(&str, &str)]| {
        let start = Instant::now();
        let mut c = env_cmd(["--check"]);
        c.args(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = output(c, Duration::from_secs(5));
        assert!(start.elapsed() < Duration::from_secs(3), "{args:?} took {:?}", start.elapsed());
        out
    };
    for (args, vars, needle) in [
        (vec!["--env-file", fifo.to_str().unwrap()], vec![], "FIFO"),
        (vec!["--env-file", "/dev/zero"], vec![], "character device"),
        (vec!["--env-file", "/tmp"], vec![], "directory"),
        (vec!["--file-env", "X"], vec![("X_FILE", fifo.to_str().unwrap())], "FIFO"),
        (vec!["--file-env", "X"], vec![("X_FILE", "/dev/zero")], "character device"),
    ] {
        let out = check(&args, &vars);
        assert_eq!(code(out.status), 125, "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }

    // In a secrets directory: skipped with a warning naming them.
    let sd = d.join("secrets");
    std::fs::create_dir(&sd).unwrap();
    mkfifo(&sd.join("pipe"));
    symlink("/dev/zero", sd.join("zero")).unwrap();
    std::fs::write(sd.join("ok"), "1").unwrap();
    let out = check(&["--secrets-dir", sd.to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "OK\n");
    assert!(stderr(&out).contains("pipe") && stderr(&out).contains("zero"), "{}", stderr(&out));

    // 1 MiB is accepted, 1 MiB + 1 byte is not.
    let mut big = b"A=1\n".to_vec();
    big.resize(1 << 20, b'#');
    big[(1 << 20) - 1] = b'\n';
    big[4] = b'#';
    std::fs::write(d.join("max.env"), &big).unwrap();
    let out = check(&["--env-file", d.join("max.env").to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "A\n");
    big.push(b'\n');
    std::fs::write(d.join("over.env"), &big).unwrap();
    let out = check(&["--env-file", d.join("over.env").to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("1 MiB"), "{}", stderr(&out));
    let sd2 = d.join("big-secret");
    std::fs::create_dir(&sd2).unwrap();
    std::fs::write(sd2.join("k"), vec![b'x'; (1 << 20) + 1]).unwrap();
    let out = check(&["--secrets-dir", sd2.to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 125);

    // NUL bytes: an error naming the file and line.
    std::fs::write(d.join("nul.env"), b"A=1\nB=x\0y\n").unwrap();
    let out = check(&["--env-file", d.join("nul.env").to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("nul.env:2: contains a NUL byte"), "{}", stderr(&out));
    std::fs::write(d.join("nul-secret"), b"a\n\0").unwrap();
    let out = check(&["--file-env", "X"], &[("X_FILE", d.join("nul-secret").to_str().unwrap())]);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("nul-secret:2:"), "{}", stderr(&out));

    // Invalid UTF-8 in an env file, with its line.
    std::fs::write(d.join("latin1.env"), b"A=1\n\nB=caf\xe9\n").unwrap();
    let out = check(&["--env-file", d.join("latin1.env").to_str().unwrap()], &[]);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("latin1.env:3: invalid UTF-8"), "{}", stderr(&out));

    // A value Linux cannot pass to a program fails before exec, naming it.
    std::fs::write(d.join("huge"), vec![b'x'; 200_000]).unwrap();
    let mut c = env_cmd(["--file-env", "H", "--", "/bin/true"]);
    c.env("H_FILE", d.join("huge"));
    let out = output(c, T);
    assert_eq!(code(out.status), 125);
    assert!(stderr(&out).contains("H is 200003 bytes"), "{}", stderr(&out));
}

/// Every format reads back to the same values: shell through sh's eval,
/// dotenv through pidone's own parser, JSON through python3.
#[test]
fn print_formats_round_trip() {
    let d = TempDir::new("env-fmt");
    let sd = d.join("s");
    std::fs::create_dir(&sd).unwrap();
    let values = [
        ("quotes", "it's \"double\" and 'single'"),
        ("dollar", "$HOME ${HOME} $$ `echo no` $(echo no)"),
        ("newlines", "line1\nline2\r\nline3\n"),
        ("backslash", "a\\b\\\\c\\n\\'"),
        ("tabs", "\ttab\t"),
        ("unicode", "ünïcødé ✓ \u{1F600}"),
        ("empty", ""),
        ("hash", "a #b # c"),
    ];
    for (k, v) in values {
        // One trailing newline is removed from a secret: add one.
        std::fs::write(sd.join(k), format!("{v}\n")).unwrap();
    }
    let dir = s(&sd);
    let get = |format: &str, source: &[&str]| {
        let mut c = env_cmd(["--format", format]);
        c.args(source);
        let out = output(c, T);
        assert_eq!(code(out.status), 0, "{format}: {}", stderr(&out));
        out.stdout
    };

    // shell: eval'd by sh, each value printed back NUL-separated.
    let shell = String::from_utf8(get("shell", &["--secrets-dir", &dir])).unwrap();
    let mut script = format!("set -e\neval \"$(cat <<'PIDONE_EOF'\n{shell}PIDONE_EOF\n)\"\n");
    for (k, _) in values {
        script.push_str(&format!("printf '%s\\0' \"${}\"\n", k.to_uppercase()));
    }
    let out = output(
        {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", &script]);
            c
        },
        T,
    );
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    let got: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
    for (i, (k, v)) in values.iter().enumerate() {
        assert_eq!(String::from_utf8_lossy(got[i]), *v, "shell round trip of {k}");
    }
    // The documented entrypoint form: eval "$(pidone env --format shell …)".
    let out = output(
        {
            let mut c = Command::new("/bin/sh");
            not_for_pidone(&mut c);
            c.env("PIDONE", bin()).args([
                "-c",
                &format!("eval \"$(\"$PIDONE\" env --format shell --secrets-dir {dir})\" && printf %s \"$DOLLAR\""),
            ]);
            c
        },
        T,
    );
    assert_eq!(stdout(&out), "$HOME ${HOME} $$ `echo no` $(echo no)");

    // dotenv: read back by pidone's own parser gives the same JSON.
    let json = get("json", &["--secrets-dir", &dir]);
    let dotenv = get("dotenv", &["--secrets-dir", &dir]);
    let f = d.join("out.env");
    std::fs::write(&f, &dotenv).unwrap();
    assert_eq!(String::from_utf8_lossy(&get("json", &["--env-file", &s(&f)])), String::from_utf8_lossy(&json));

    // json: one object with exactly the values.
    if Command::new("python3").args(["-c", "pass"]).output().is_ok_and(|o| o.status.success()) {
        let want: Vec<String> = values.iter().map(|(k, v)| format!("{:?}: {}", k.to_uppercase(), py_str(v))).collect();
        let check = format!(
            "import json,sys\nd=json.loads(sys.stdin.buffer.read())\nwant={{{}}}\nassert d==want,(d,want)\n",
            want.join(", ")
        );
        let mut c = Command::new("python3");
        c.args(["-c", &check]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(&json).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        skip("print_formats_round_trip (json via python3)", "python3 is not installed");
    }
}

/// A Python string literal for `v` (escapes every non-ASCII-alphanumeric char).
fn py_str(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' {
            s.push(c);
        } else {
            s.push_str(&format!("\\U{:08x}", c as u32));
        }
    }
    s.push('"');
    s
}

/// The canary value never reaches stderr, at -vv, in any failure mode (nor
/// on success), in text or JSON log format.
#[test]
fn canary_secret_never_in_stderr() {
    let d = TempDir::new("env-canary");
    let w = |name: &str, content: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, content).unwrap();
        s(&p)
    };
    let c = CANARY;
    let syntax_after = w("syntax.env", format!("SECRET={c}\nBAD LINE=1\n").as_bytes());
    let unterminated = w("unterminated.env", format!("SECRET=\"{c}\n").as_bytes());
    let required = w("required.env", format!("SECRET={c}\nX=${{NOPE:?needed}}\n").as_bytes());
    let bad_key = w("badkey.env", format!("X=1\n{c}\n").as_bytes());
    let quote_after = w("quote.env", format!("SECRET=\"{c}\"{c}\n").as_bytes());
    // The lines of an unquoted multi-line secret: their first word looks like a name.
    let continued = w("continued.env", b"SECRET=first line\nc4n4ry_word second line\n");
    let continued_quote = w("continued-quote.env", b"SECRET=first line\nc4n4ry_word=\"open\n");
    let continued_after = w("continued-after.env", b"SECRET=first line\nc4n4ry_word='x'y\n");
    let in_braces = w("braces.env", b"SECRET=${c4n4ry_word/x/y}\n");
    let nul = w("nul.env", format!("SECRET={c}\0\n").as_bytes());
    let latin = w("latin.env", &[format!("SECRET={c}").as_bytes(), b"\xe9"].concat());
    let mut big = format!("SECRET={c}\n").into_bytes();
    big.resize((1 << 20) + 10, b'#');
    let oversize = w("big.env", &big);
    let good = w("good.env", format!("SECRET={c}\nOTHER=$SECRET\n").as_bytes());
    std::fs::create_dir(d.join("bad-name")).unwrap();
    w("bad-name/a-secret", c.as_bytes());
    w("bad-name/9lives", c.as_bytes());
    std::fs::create_dir(d.join("big-secret")).unwrap();
    w("big-secret/ok", c.as_bytes());
    let mut bs = c.as_bytes().repeat(1 + (1 << 20) / c.len());
    bs.truncate((1 << 20) + 1);
    w("big-secret/key", &bs);
    std::fs::create_dir(d.join("huge")).unwrap();
    w("huge/key", &c.as_bytes().repeat(10_000));
    std::fs::create_dir(d.join("nulsecret")).unwrap();
    w("nulsecret/key", format!("{c}\0{c}").as_bytes());
    std::fs::create_dir(d.join("binary")).unwrap();
    w("binary/raw", &[c.as_bytes(), b"\xff"].concat());
    let secret_file = w("secret-file", c.as_bytes());
    std::fs::create_dir(d.join("ok")).unwrap();
    w("ok/token", c.as_bytes());

    let both = [("PW", c), ("PW_FILE", secret_file.as_str())];
    let x_file = [("X_FILE", secret_file.as_str())];
    let [bad_name_dir, big_secret_dir, nulsecret_dir, binary_dir, huge_dir, ok_dir] =
        ["bad-name", "big-secret", "nulsecret", "binary", "huge", "ok"].map(|n| s(&d.join(n)));
    // An env file, a secrets dir and a NAME_FILE variable, all holding the canary.
    let all3 = ["--env-file", good.as_str(), "--secrets-dir", ok_dir.as_str(), "--file-env", "X"];
    let with_all3 = |rest: &[&'static str]| -> Vec<&str> { all3.iter().copied().chain(rest.iter().copied()).collect() };
    #[rustfmt::skip]
    type Case<'a> = (&'a str, Vec<&'a str>, &'a [(&'a str, &'a str)], i32);
    let cases: Vec<Case> = vec![
        ("syntax error after the secret", vec!["env", "--env-file", &syntax_after, "--check"], &[], 125),
        ("unterminated quote", vec!["env", "--env-file", &unterminated], &[], 125),
        ("required variable", vec!["env", "--env-file", &required], &[], 125),
        ("secret as a key", vec!["env", "--env-file", &bad_key], &[], 125),
        ("text after the quote", vec!["env", "--env-file", &quote_after], &[], 125),
        ("a secret's line with a space", vec!["env", "--env-file", &continued], &[], 125),
        ("a secret's line with a quote", vec!["env", "--env-file", &continued_quote], &[], 125),
        ("a secret's line with text after a quote", vec!["env", "--env-file", &continued_after], &[], 125),
        ("a secret's word after ${", vec!["env", "--env-file", &in_braces], &[], 125),
        ("NUL byte", vec!["env", "--env-file", &nul], &[], 125),
        ("invalid UTF-8", vec!["env", "--env-file", &latin], &[], 125),
        ("oversize env file", vec!["env", "--env-file", &oversize], &[], 125),
        ("bad secret name", vec!["env", "--secrets-dir", &bad_name_dir], &[], 125),
        ("oversize secret", vec!["env", "--secrets-dir", &big_secret_dir], &[], 125),
        ("NUL in a secret", vec!["env", "--secrets-dir", &nulsecret_dir], &[], 125),
        ("non-UTF-8 as json", vec!["env", "--format", "json", "--secrets-dir", &binary_dir], &[], 125),
        ("NAME and NAME_FILE", vec!["env", "--file-env", "PW", "--", "/bin/true"], &both, 125),
        ("too big for exec", vec!["env", "--secrets-dir", &huge_dir, "--", "/bin/true"], &[], 125),
        (
            "exec failure (env)",
            vec!["env", "--env-file", &good, "--secrets-dir", &ok_dir, "--", "/nonexistent"],
            &[],
            127,
        ),
        ("exec failure (run)", vec!["--env-file", &good, "--secrets-dir", &ok_dir, "--", "/nonexistent"], &[], 127),
        ("not executable (run)", vec!["--env-file", &good, "--", "/etc"], &[], 126),
        ("syntax error (run)", vec!["--env-file", &syntax_after, "--", "/bin/true"], &[], 125),
        (
            "success (run)",
            vec!["--env-file", &good, "--secrets-dir", &ok_dir, "--file-env", "X", "--", "/bin/true"],
            &x_file,
            0,
        ),
        ("success (env --check)", vec!["env", "--env-file", &good, "--secrets-dir", &ok_dir, "--check"], &[], 0),
        (
            "unknown user (run), all three sources",
            with_all3(&["--user", "no-such-user", "--", "/bin/true"]),
            &x_file,
            125,
        ),
        (
            "wait timeout (run), all three sources",
            with_all3(&[
                "--wait",
                "tcp://127.0.0.1:1",
                "--wait-timeout",
                "300ms",
                "--wait-interval",
                "100ms",
                "--",
                "/bin/true",
            ]),
            &x_file,
            125,
        ),
        (
            "exec failure after the drop (run), all three sources",
            with_all3(&["--user", "65534", "--", "/nonexistent"]),
            &x_file,
            127,
        ),
    ];
    for (what, args, vars, want) in cases {
        for json in [false, true] {
            let mut cmd = Command::new(bin());
            not_for_pidone(&mut cmd);
            let mut a = args.clone();
            let at = usize::from(a[0] == "env");
            a.insert(at, "-vv");
            if json {
                a.insert(at, "--log-format=json");
            }
            cmd.args(&a).env("PIDONE_ALLOW_ROOT", "1");
            for (k, v) in vars {
                cmd.env(k, v);
            }
            let out = output(cmd, T);
            let err = stderr(&out);
            assert_eq!(code(out.status), want, "{what}: {err}");
            assert!(!err.is_empty(), "{what}: nothing logged at -vv");
            assert!(!err.contains(c) && !err.contains("c4n4ry"), "{what}: the secret leaked into stderr:\n{err}");
            if want != 0 {
                assert!(err.contains("error"), "{what}: {err}");
                assert!(!stdout(&out).contains(c), "{what}: a value on stdout of a failed run");
            }
        }
    }
}

/// A root-only (0400) secret is read before the privilege drop; the child,
/// running as another user, gets the value but cannot read the file.
#[test]
fn root_only_secret_reaches_an_unprivileged_child() {
    if unsafe { libc::geteuid() } != 0 {
        return skip("root_only_secret_reaches_an_unprivileged_child", "needs root");
    }
    let d = TempDir::new("env-root-only");
    let sd = d.join("s");
    std::fs::create_dir(&sd).unwrap();
    std::fs::set_permissions(&sd, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(sd.join("db-password"), "r00t-only\n").unwrap();
    std::fs::set_permissions(sd.join("db-password"), std::fs::Permissions::from_mode(0o400)).unwrap();
    let script =
        format!("id -u; printf '%s\\n' \"$DB_PASSWORD\"; cat {}/db-password 2>/dev/null || echo unreadable", s(&sd));
    let mut c = plain(["--user", "65534:65534", "--secrets-dir", &s(&sd), "--", "/bin/sh", "-c", &script]);
    c.env_remove("PIDONE_ALLOW_ROOT");
    let out = output(c, T);
    let text = stdout(&out);
    assert_eq!(code(out.status), 0, "{}", stderr(&out));
    assert_eq!(text, "65534\nr00t-only\nunreadable\n");
}

/// Contract §3, scale: 100,000 variables in one env file in shuffled order,
/// and 20,000 files in a secrets directory, each load in well under a second
/// (0.3 s and 0.4 s on the reference machine; a sorted-Vec index and a linear
/// duplicate scan took 27 s and 6 s).
#[test]
fn loading_scales_to_100k_variables_and_20k_secrets() {
    let d = TempDir::new("env-scale");
    // A fixed shuffle (an LCG walk over 0..100,000: 7,919 is prime to it).
    let file: String = (0..100_000u64).map(|i| format!("V{:05}=1\n", (i * 7919 + 13) % 100_000)).collect();
    let envf = d.write("big.env", &file);
    let sd = d.join("s");
    std::fs::create_dir(&sd).unwrap();
    for i in 0..20_000 {
        std::fs::write(sd.join(format!("secret-{i:05}")), "x\n").unwrap();
    }
    for (args, want) in [(["--env-file", &s(&envf)], 100_000), (["--secrets-dir", &s(&sd)], 20_000)] {
        let start = Instant::now();
        let mut c = env_cmd(["--check"]);
        c.args(args).env_clear().env("PIDONE_ALLOW_ROOT", "1");
        let out = output(c, Duration::from_secs(60));
        let took = start.elapsed();
        assert_eq!(code(out.status), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), want, "{args:?}");
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
    }
}

/// A plain literal longer than the exec limit is reported as what it is (a
/// value above 128 KiB, Linux's per-variable limit), not as a substitution,
/// and without the value.
#[test]
fn a_long_literal_value_says_what_went_wrong() {
    let d = TempDir::new("env-long");
    let lit = "y".repeat((1 << 20) - 100);
    for (name, content) in [("plain", format!("A=1\nB={lit}\n")), ("single", format!("A=1\nB='{lit}'\n"))] {
        let f = d.write(&format!("{name}.env"), &content);
        let out = output(env_cmd(["--check", "--env-file", &s(&f)]), T);
        let err = stderr(&out);
        assert_eq!(code(out.status), 125, "{name}: {err}");
        assert!(err.contains(&format!("{name}.env:2: value longer than 128 KiB:")), "{name}: {err}");
        assert!(!err.contains("substitution") && !err.contains("yyyy"), "{name}: {err}");
    }
}

/// A symbolic link to nothing in a secrets directory (Kubernetes' atomic
/// writer can leave one for a moment), or a link loop, is skipped with a
/// warning naming it; the other secrets load.
#[test]
fn dangling_symlink_in_secrets_dir_is_skipped_with_a_warning() {
    let d = TempDir::new("env-dangling");
    d.write("token", "t\n");
    symlink("..data/gone-key", d.join("gone-key")).unwrap();
    symlink("loop-key", d.join("loop-key")).unwrap();
    symlink("token/x", d.join("through-a-file")).unwrap();
    let out = output(env_cmd(["--check", "--secrets-dir", &s(d.path())]), T);
    let err = stderr(&out);
    assert_eq!(code(out.status), 0, "{err}");
    assert_eq!(stdout(&out), "TOKEN\n");
    for name in ["gone-key", "loop-key", "through-a-file"] {
        assert!(err.lines().any(|l| l.contains("warn") && l.contains(name)), "{name}: {err}");
    }
}

/// Started non-root (`docker run --user`, a pod's `runAsUser`), pidone cannot
/// read a root-only secret: the error says which uid it runs as and that
/// root-only secrets need the container to start as root with PIDONE_USER
/// set, for a secret file, a secrets directory, an env file and NAME_FILE.
#[test]
fn root_only_secret_when_started_non_root_says_what_to_do() {
    if unsafe { libc::geteuid() } != 0 {
        return skip("root_only_secret_when_started_non_root_says_what_to_do", "needs root");
    }
    let d = TempDir::new("env-non-root");
    // A copy of the binary in a 0755 directory of its own: the checkout may
    // live where uid 65534 cannot reach it.
    let copy = d.join("pidone");
    std::fs::copy(bin(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_only = |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::create_dir(d.join("s")).unwrap();
    let secret = d.write("s/db-password", &format!("{CANARY}\n"));
    root_only(&secret, 0o400);
    std::fs::create_dir(d.join("closed")).unwrap();
    d.write("closed/key", CANARY);
    root_only(&d.join("closed"), 0o700);
    let envf = d.write("app.env", &format!("SECRET={CANARY}\n"));
    root_only(&envf, 0o600);
    let cases: [(&str, Vec<String>, Option<&Path>); 4] = [
        ("secret file", vec!["--secrets-dir".into(), s(&d.join("s"))], None),
        ("secrets directory", vec!["--secrets-dir".into(), s(&d.join("closed"))], None),
        ("env file", vec!["--env-file".into(), s(&envf)], None),
        ("NAME_FILE", vec!["--file-env".into(), "DB".into()], Some(&secret)),
    ];
    for (what, args, name_file) in cases {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"]).arg(&copy).args(["env", "--check"]);
        c.args(&args).env_clear();
        if let Some(p) = name_file {
            c.env("DB_FILE", p);
        }
        let out = output(c, T);
        let err = stderr(&out);
        assert_eq!(code(out.status), 125, "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains("Permission denied") && err.contains("uid 65534"), "{what}: {err}");
        assert!(err.contains("start as root with PIDONE_USER set"), "{what}: {err}");
        assert!(!err.contains(CANARY), "{what}: {err}");
    }
}

/// An unquoted value with a `$` inside (`p4ss$word`): what follows the `$`
/// reads as a reference to an unset variable, and it is part of the secret.
/// The warning names file and line, never that text, at any verbosity.
#[test]
fn an_unset_reference_is_reported_without_its_name() {
    let d = TempDir::new("env-dollar");
    let f = d.write("app.env", "A=p4ss$c4n4ry_word\nB=x${c4n4ry_braced}y\nC=p4ss$$c4n4ry_kept\n");
    let f = s(&f);
    for v in [&[][..], &["-v"], &["-vv"], &["--log-format", "json", "-vv"]] {
        let mut args = vec!["env"];
        args.extend_from_slice(v);
        args.extend(["--env-file", &f, "--format", "shell"]);
        let mut c = plain(&args);
        c.env_clear().env("PIDONE_ALLOW_ROOT", "1");
        let out = output(c, T);
        assert_eq!(code(out.status), 0, "{v:?}: {}", stderr(&out));
        let (printed, err) = (stdout(&out), stderr(&out));
        assert!(printed.contains("A='p4ss'") && printed.contains("B='xy'"), "{printed}");
        assert!(printed.contains("C='p4ss$c4n4ry_kept'"), "$$ is a literal $: {printed}");
        assert!(!err.contains("c4n4ry"), "{v:?}: {err}");
        for line in [":1:", ":2:"] {
            assert!(err.lines().any(|l| l.contains(&format!("{f}{line}"))), "{v:?}: no warning for {line}: {err}");
        }
        assert!(!err.lines().any(|l| l.contains(&format!("{f}:3:"))), "{v:?}: $$ warned: {err}");
    }
    // Run mode prints the same warning (never the name) and the app gets "p4ss".
    let mut c = plain(["-vv", "--env-file", &f, "--", "sh", "-c", "printf %s \"$A\""]);
    c.env_clear().env("PIDONE_ALLOW_ROOT", "1").env("PATH", "/usr/bin:/bin");
    let out = output(c, T);
    assert_eq!((code(out.status), stdout(&out).as_str()), (0, "p4ss"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("c4n4ry"), "{}", stderr(&out));
}

/// `pidone env` prints in one unbuffered write: a full device is an error
/// (125), a closed stdout takes the text without one, as std's stdout does.
#[test]
fn printing_to_a_full_stdout_fails_and_to_a_closed_one_does_not() {
    let dir = TempDir::new("stdout");
    let file = dir.join("a.env");
    std::fs::write(&file, "A=1\n").unwrap();
    let cmd = || {
        let mut c = env_cmd([std::ffi::OsStr::new("--env-file"), file.as_os_str()]);
        c.env_clear().env("PIDONE_ALLOW_ROOT", "1").stdin(Stdio::null()).stderr(Stdio::null());
        c
    };
    let mut c = cmd();
    c.stdout(std::fs::File::create("/dev/full").unwrap());
    assert_eq!(code(Running::spawn(c).wait(T)), 125);

    let mut c = cmd();
    use std::os::unix::process::CommandExt;
    // SAFETY: close(2) is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::close(1);
            Ok(())
        })
    };
    assert_eq!(code(Running::spawn(c).wait(T)), 0);
}
