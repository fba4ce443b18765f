//! Why a check failed: every sentence the probe, the wait loop and the
//! resolver say about a target is written here, once, as the `Display` of
//! [`Failure`] and of the small enums it carries.

use crate::error::Why;
use crate::log::Shown;
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

/// What a check was doing when it ran out of time or the peer went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Resolving,
    Connecting,
    Sending,
    WaitingForHeaders,
    ReadingBody,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Resolving => "resolving the name",
            Step::Connecting => "connecting",
            Step::Sending => "sending the request",
            Step::WaitingForHeaders => "waiting for the response headers",
            Step::ReadingBody => "reading the body",
        })
    }
}

/// Why one DNS server gave no usable answer, shown as `REASON from SERVER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsFail {
    Silent,
    PortUnreachable,
    NoRoute,
    Socket,
    InvalidName,
    Malformed,
    Truncated,
    ServFail,
    Refused,
    ErrorReply,
}

impl fmt::Display for DnsFail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsFail::Silent => "no answer",
            DnsFail::PortUnreachable => "ICMP port unreachable",
            DnsFail::NoRoute => "no route",
            DnsFail::Socket => "a socket error",
            DnsFail::InvalidName => "an invalid name",
            DnsFail::Malformed => "a malformed reply",
            DnsFail::Truncated => "a truncated reply",
            DnsFail::ServFail => "SERVFAIL",
            DnsFail::Refused => "REFUSED",
            DnsFail::ErrorReply => "an error reply",
        })
    }
}

/// Why a well-formed response is unhealthy, as the end of a line about it:
/// ` (expected 200-399)` or `, but the body lacks "ok"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Complaint {
    /// The status is not in `--expect` (its text).
    Status(String),
    /// `--body-contains` TEXT is not in the body.
    BodyLacks(String),
}

impl fmt::Display for Complaint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Complaint::Status(expected) => write!(f, " (expected {expected})"),
            Complaint::BodyLacks(needle) => write!(f, ", but the body lacks {}", Quoted(needle)),
        }
    }
}

/// Why one check of one target failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The deadline passed during `step`.
    TimedOut {
        total: Duration,
        step: Step,
    },
    Refused,
    /// The peer reset or closed the connection during `step`.
    ClosedBy(Step),
    /// Any other OS error, as the C library words it.
    Os(Why),
    /// A Unix-socket connect failed.
    Unix {
        path: PathBuf,
        why: Box<Failure>,
    },
    /// Every address of a host failed; `last` is the last reason, `same`
    /// whether all failed for it.
    Addresses {
        last: Box<Failure>,
        tried: usize,
        same: bool,
        localhost: bool,
    },
    /// A host name without any address to try.
    NoAddress,
    /// The resolver gave no address for `name`.
    Resolve {
        name: String,
        why: Box<Failure>,
    },
    /// No server answered the last name tried: each server's reason.
    DnsServers {
        fails: Vec<(DnsFail, String)>,
        total: Duration,
    },
    /// The name exists without A or AAAA records (`server` said so).
    DnsNoData {
        server: String,
        search: bool,
    },
    /// NXDOMAIN from `server`.
    DnsNxDomain {
        server: String,
        search: bool,
    },
    InvalidName,
    ClosedSending,
    NoResponse,
    HeadCut,
    HeadTooLarge {
        kib: usize,
    },
    TooManyHeaders {
        max: usize,
    },
    Tls,
    BadVersion,
    BadStatus,
    /// Three digits, but not a status code (100-599).
    StatusRange(u16),
    BadHeader,
    /// A Content-Length that is not one decimal number.
    BadLength,
    /// `101 Switching Protocols` where a body was to be searched.
    Switched,
    BadChunk,
    /// A valid response judged unhealthy.
    Unhealthy {
        status: u16,
        why: Complaint,
    },
    /// A `file://` target given to the probe, which checks only HTTP and TCP.
    NotProbeTarget,
    /// The wait's deadline passed; `pending` lists what did not answer.
    WaitTimedOut {
        total: Duration,
        pending: String,
    },
    /// The signalfd of a wait could not be read.
    Signals(Why),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let search = |s: &bool| if *s { ", tried with the search list)" } else { ")" };
        match self {
            Failure::TimedOut { total, step } => write!(f, "timed out after {} {step}", Shown(*total)),
            Failure::Refused => f.write_str("connection refused"),
            Failure::ClosedBy(step) => write!(f, "connection closed by the server {step}"),
            Failure::Os(why) => write!(f, "{why}"),
            Failure::Unix { path, why } => write!(f, "unix:{}: {why}", path.to_string_lossy()),
            Failure::Addresses { last, tried, same, localhost } => {
                let how = if *same { "on" } else { "the last of" };
                if *localhost {
                    write!(f, "{last} ({how} 127.0.0.1 and ::1)")
                } else {
                    write!(f, "{last} ({how} {tried} addresses)")
                }
            }
            Failure::NoAddress => f.write_str("no address"),
            Failure::Resolve { name, why } => write!(f, "cannot resolve {name}: {why}"),
            Failure::DnsServers { fails, total } => {
                for (i, (why, server)) in fails.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "; " };
                    write!(f, "{sep}{why} from {server}")?;
                    if *why == DnsFail::Silent {
                        write!(f, " within {}", Shown(*total))?;
                    }
                }
                Ok(())
            }
            Failure::DnsNoData { server, search: s } => {
                write!(f, "no address (no A or AAAA record, from {server}{}", search(s))
            }
            Failure::DnsNxDomain { server, search: s } => {
                write!(f, "no such host (NXDOMAIN from {server}{}", search(s))
            }
            Failure::InvalidName => f.write_str("not a valid DNS name"),
            Failure::ClosedSending => f.write_str("connection closed while sending the request"),
            Failure::NoResponse => f.write_str("connection closed without a response"),
            Failure::HeadCut => f.write_str("connection closed in the middle of the response headers"),
            Failure::HeadTooLarge { kib } => write!(f, "response headers exceed {kib} KiB"),
            Failure::TooManyHeaders { max } => write!(f, "more than {max} response headers"),
            Failure::Tls => f.write_str("not an HTTP response (the server speaks TLS?)"),
            Failure::BadVersion => f.write_str("not an HTTP response (invalid HTTP version)"),
            Failure::BadStatus => f.write_str("not an HTTP response (invalid response status)"),
            Failure::StatusRange(status) => write!(f, "not an HTTP response (status {status:03} is outside 100-599)"),
            Failure::BadHeader => f.write_str("not an HTTP response (invalid header)"),
            Failure::BadLength => f.write_str("not an HTTP response (invalid Content-Length)"),
            Failure::Switched => f.write_str("status 101 switches protocols: there is no body to search"),
            Failure::BadChunk => f.write_str("invalid chunked encoding in the body"),
            Failure::Unhealthy { status, why } => write!(f, "status {status}{why}"),
            Failure::NotProbeTarget => f.write_str("not a probe target"),
            Failure::WaitTimedOut { total, pending } => {
                write!(f, "timed out after {} waiting for {pending}", Shown(*total))
            }
            Failure::Signals(why) => write!(f, "reading signals: {why}"),
        }
    }
}

/// `text` in double quotes, cut to 40 characters, with quotes, backslashes
/// and control characters escaped as Rust writes them.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for (i, c) in self.0.chars().enumerate() {
            if i == 40 {
                f.write_char('…')?;
                break;
            }
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_debug() {
        for s in ["ok", "a \"b\" \\ c", "tab\there\r\n\0", "\u{1}\u{7f}\u{85}é…", &"x".repeat(40)] {
            assert_eq!(Quoted(s).to_string(), format!("{s:?}"));
        }
        assert_eq!(Quoted(&"é".repeat(41)).to_string(), format!("\"{}…\"", "é".repeat(40)));
    }
}
