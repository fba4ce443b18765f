//! The one error type: a message for stderr and the exit code the contract gives it.
//!
//! Every fallible step returns `Result<_, Error>`; only `lib.rs` turns an `Error`
//! into a log line and an exit status.

use std::fmt;

/// Exit code for usage, configuration, environment, user and wait failures.
pub const EXIT_CONFIG: i32 = 125;
/// Exit code when the command exists but cannot be executed.
pub const EXIT_NOEXEC: i32 = 126;
/// Exit code when the command cannot be found.
pub const EXIT_NOTFOUND: i32 = 127;

/// Boxed, so that a `Result` carrying it stays one register wide: every `?`
/// on every path moves a pointer rather than a code and a `String`.
/// Built by [`Error::new`] or [`Error::config`], prefixed by [`Error::context`],
/// read by [`Error::code`] and `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    code: i32,
    msg: String,
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
        self.0.msg = format!("{what}: {}", self.0.msg);
        self
    }

    /// The exit code the contract gives this error.
    pub fn code(&self) -> i32 {
        self.0.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.msg)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// An OS or I/O error as the C library words it ("No such file or directory"),
/// shown without allocating and without the " (os error N)" std's Display adds.
#[derive(Debug, Clone, Copy)]
pub enum Why {
    Os(i32),
    /// One of the few errors std makes up itself.
    Other(&'static str),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Why::Os(code) => f.write_str(crate::sys::strerror(code, &mut [0; 128])),
            Why::Other(text) => f.write_str(text),
        }
    }
}

/// `cannot WHAT: ERRNO`: a start-up step failed (exit 125).
pub fn cannot(what: &str, e: nix::errno::Errno) -> Error {
    Error::config(format!("cannot {what}: {}", errno_text(e)))
}

/// An errno for a message.
pub fn errno_text(e: nix::errno::Errno) -> Why {
    Why::Os(e as i32)
}

/// An I/O error for a message: the errno when there is one, else its kind.
pub fn io_text(e: &std::io::Error) -> Why {
    use std::io::ErrorKind as K;
    if let Some(code) = e.raw_os_error() {
        return Why::Os(code);
    }
    Why::Other(match e.kind() {
        // A path with a NUL byte, or a zero timeout.
        K::InvalidInput => "invalid argument",
        K::InvalidData => "invalid data",
        K::UnexpectedEof => "unexpected end of file",
        K::WriteZero => "write returned zero bytes",
        K::TimedOut => "timed out",
        _ => "I/O error",
    })
}
