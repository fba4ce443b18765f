//! The one error type: a message for stderr and the exit code the contract gives it.
//!
//! Every fallible step returns `Result<_, Error>`; only `main` turns an `Error` into
//! a log line and an exit status.

use std::fmt;

/// Exit code for usage, configuration, environment, user and wait failures.
pub const EXIT_CONFIG: i32 = 125;
/// Exit code when the command exists but cannot be executed.
pub const EXIT_NOEXEC: i32 = 126;
/// Exit code when the command cannot be found.
pub const EXIT_NOTFOUND: i32 = 127;

/// Boxed, so that a `Result` carrying it stays one register wide: every `?`
/// on every path moves a pointer rather than a code and a `String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inner {
    pub code: i32,
    pub msg: String,
}

impl std::ops::Deref for Error {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl Error {
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        Error(Box::new(Inner { code, msg: msg.into() }))
    }

    /// A usage or configuration error (exit 125).
    pub fn config(msg: impl Into<String>) -> Self {
        Error::new(EXIT_CONFIG, msg)
    }

    /// Prefix the message with more context (a file, an option).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.msg = format!("{what}: {}", self.msg);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Describe an errno the way strerror does, without linking nix's own table.
pub fn errno_text(e: nix::errno::Errno) -> String {
    io_text(&std::io::Error::from_raw_os_error(e as i32))
}

/// An I/O error as text, without the " (os error N)" tail std adds.
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
