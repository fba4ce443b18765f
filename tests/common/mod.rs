//! Shared by the integration tests: the binaries under test, running pidone as
//! PID 1 of a new PID namespace with a hard timeout, bounded waits, temp dirs.
//!
//! Every wait here is bounded: a hung pidone fails its test, never the suite.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pidone binary under test: `$PIDONE_BIN`, else `dist/pidone` (`make build`).
pub fn bin() -> PathBuf {
    let p = std::env::var_os("PIDONE_BIN").map_or_else(|| root().join("dist/pidone"), PathBuf::from);
    assert!(p.exists(), "{} is missing: run the tests with `make test`", p.display());
    p
}

/// The multi-call test helper (tests/helper), built by `make test`.
pub fn helper() -> PathBuf {
    let p = std::env::var_os("PIDONE_TESTHELPER")
        .map_or_else(|| root().join("target/debug/pidone-testhelper"), PathBuf::from);
    assert!(p.exists(), "{} is missing: run the tests with `make test`", p.display());
    p
}

pub fn helper_str() -> String {
    helper().to_string_lossy().into_owned()
}

/// `pidone ARGS` as PID 1 of a new PID and mount namespace. Run-mode tests that
/// are not about the privilege drop run as root with PIDONE_ALLOW_ROOT=1.
pub fn pid1<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--kill-child"]).arg(bin()).args(args);
    c.env("PIDONE_ALLOW_ROOT", "1");
    not_for_pidone(&mut c);
    c.process_group(0);
    c
}

/// `pidone ARGS` as an ordinary process (subreaper mode).
pub fn plain<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(bin());
    c.args(args);
    c.env("PIDONE_ALLOW_ROOT", "1");
    not_for_pidone(&mut c);
    c.process_group(0);
    c
}

/// Keep the test harness's own `PIDONE_*` variables (which binaries to test)
/// from pidone, which warns about every `PIDONE_*` name it does not read.
pub fn not_for_pidone(c: &mut Command) {
    c.env_remove("PIDONE_BIN").env_remove("PIDONE_TESTHELPER");
}

/// Run to completion with captured output; kill the whole group and panic
/// after `timeout`.
pub fn output(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let pgid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
    }
}

/// Exit code of a finished process; a death by signal N is reported as 1000+N
/// so it can never be mistaken for an exit code.
pub fn code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 1000 + status.signal().unwrap_or(0))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Poll `cond` every 5 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A running pidone (under unshare or plain) with bounded waits.
pub struct Running {
    pub child: Child,
    pub started: Instant,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let child = cmd.spawn().expect("spawn");
        Running { child, started: Instant::now() }
    }

    /// The host pid of pidone: the unshare process's only child, or the process
    /// itself when it was started with [`plain`].
    pub fn init_pid(&self) -> i32 {
        let me = self.child.id() as i32;
        if std::fs::read_link(format!("/proc/{me}/exe")).is_ok_and(|p| p == bin()) {
            return me;
        }
        let path = format!("/proc/{me}/task/{me}/children");
        let mut pid = 0;
        let ok = wait_until(Duration::from_secs(5), || {
            pid = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
                .unwrap_or(0);
            pid > 0 && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == bin())
        });
        assert!(ok, "pidone did not start under unshare");
        pid
    }

    pub fn signal(&self, sig: i32) {
        let pid = self.init_pid();
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Wait for the exit; kill everything and panic after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            if Instant::now() >= end {
                self.kill();
                panic!("pidone did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn kill(&mut self) {
        let pgid = self.child.id() as i32;
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// A directory under /tmp, removed on drop. World-traversable so that tests
/// that drop privileges can reach their files.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "pidone-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A copy of a program in a directory of its own (mode 0755), removed on
/// drop: for tests that run it as another user, because the checkout may
/// live under a directory other users cannot traverse (a `mktemp -d` clone
/// is mode 0700).
pub struct Reachable {
    _dir: TempDir,
    pub path: PathBuf,
}

impl Reachable {
    pub fn new(exe: &Path) -> Reachable {
        let dir = TempDir::new("reachable");
        let path = dir.join(&exe.file_name().expect("a file name").to_string_lossy());
        std::fs::copy(exe, &path).expect("copy");
        Reachable { _dir: dir, path }
    }

    pub fn as_str(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }
}

/// [`bin`] where any user can run it.
pub fn bin_for_others() -> Reachable {
    Reachable::new(&bin())
}

/// [`helper`] where any user can run it.
pub fn helper_for_others() -> Reachable {
    Reachable::new(&helper())
}

/// Print a SKIP line. Written to the stderr descriptor directly, past the
/// test harness's output capture, so it shows in every `make test` run.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP: {test}: {why}");
}

/// A `sh -c` script for drain tests: it starts a helper that needs 300 ms of
/// cleanup after SIGTERM (it creates `done` when finished) and one that
/// ignores SIGTERM (it creates `stub` when ready), waits until both are
/// ready, then exits with `code`, leaving them behind.
pub fn drain_script(done: &Path, stub: &Path, code: i32) -> String {
    format!(
        "{h} slow-term 300 {d} & {h} ignore-term {s} & while [ ! -e {d}.ready ] || [ ! -e {s} ]; do sleep 0.01; done; exit {code}",
        h = helper_str(),
        d = done.display(),
        s = stub.display()
    )
}
