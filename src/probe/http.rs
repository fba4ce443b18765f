//! One bounded HTTP/1.1 exchange over a connected stream (TCP or Unix).
//!
//! One [`Deadline`] bounds everything: before every write and read the
//! socket timeout is set to the time left, so a silent server, one that
//! drips a byte a second, endless headers and an endless body all end at the
//! deadline. Headers are capped at [`MAX_HEADERS`] bytes, the body read at
//! [`MAX_BODY`]. The status line, headers and chunk sizes are parsed here,
//! as RFC 9112 writes them (a bare LF ends a line too).

use super::deadline::Deadline;
use super::failure::{Failure, Step};
use crate::config::Method;
use crate::error::io_text;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Response headers larger than this are an error.
pub const MAX_HEADERS: usize = 16 * 1024;
/// `--body-contains` looks at this much of the body.
pub const MAX_BODY: usize = 64 * 1024;
const MAX_HEADER_COUNT: usize = 100;

/// A stream whose read and write timeouts can be set.
pub trait Conn: Read + Write {
    fn set_timeouts(&self, d: Duration) -> io::Result<()>;
}

/// The three calls an exchange makes on a [`Conn`], as a trait object: one
/// exchange serves every stream type (TCP, Unix, a test's replay).
pub trait Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    fn set_timeouts(&self, d: Duration) -> io::Result<()>;
}

impl<C: Conn> Stream for C {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Write::write(self, buf)
    }
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        Conn::set_timeouts(self, d)
    }
}

impl Conn for TcpStream {
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl Conn for UnixStream {
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

/// The request to send.
pub struct Request<'a> {
    pub method: Method,
    pub host: &'a str,
    pub path: &'a str,
    pub auth: Option<&'a str>,
    /// Extra headers, already validated (no CR, LF or NUL).
    pub headers: &'a [(String, String)],
}

/// The method as it is sent and shown.
pub fn method_name(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
    }
}

impl Request<'_> {
    fn bytes(&self) -> Vec<u8> {
        let has = |n: &str| self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        let mut s = String::new();
        s.extend([method_name(self.method), " ", self.path, " HTTP/1.1\r\n"]);
        let mut header = |name: &str, value: &str| s.extend([name, ": ", value, "\r\n"]);
        if !has("host") {
            header("Host", self.host);
        }
        if !has("user-agent") {
            header("User-Agent", concat!("pidone-probe/", env!("CARGO_PKG_VERSION")));
        }
        if !has("accept") {
            header("Accept", "*/*");
        }
        if let Some(auth) = self.auth.filter(|_| !has("authorization")) {
            header("Authorization", auth);
        }
        for (k, v) in self.headers {
            header(k, v);
        }
        header("Connection", "close");
        s.push_str("\r\n");
        s.into_bytes()
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// When a body was searched: whether the text was found.
    pub found: Option<bool>,
    /// Time until the status line and headers were read.
    pub elapsed: Duration,
}

/// Set the timeouts of `c` to the time left, before it does `what`.
fn arm(c: &dyn Stream, dl: &Deadline, step: Step) -> Result<(), Failure> {
    c.set_timeouts(dl.left(step)?).map_err(|e| Failure::Os(io_text(&e)))
}

fn write_all(c: &mut dyn Stream, mut buf: &[u8], dl: &Deadline) -> Result<(), Failure> {
    while !buf.is_empty() {
        arm(c, dl, Step::Sending)?;
        match c.write(buf) {
            Ok(0) => return Err(Failure::ClosedSending),
            Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(dl.io_failure(&e, Step::Sending)),
        }
    }
    Ok(())
}

/// Read more bytes into `buf`; Ok(0) at end of stream.
fn read_some(c: &mut dyn Stream, buf: &mut [u8], dl: &Deadline, step: Step) -> Result<usize, Failure> {
    loop {
        arm(c, dl, step)?;
        match c.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(dl.io_failure(&e, step)),
        }
    }
}

/// The parsed head of a response.
struct Head {
    status: u16,
    /// Bytes of the buffer taken by the status line and headers.
    len: usize,
    chunked: bool,
    length: Option<u64>,
}

/// Header name bytes: RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reason phrase and header value bytes: tab, visible ASCII, space, obs-text.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// The line of `buf` that starts at `pos`, without its CRLF (or bare LF), and
/// where the next one starts; None while it is incomplete.
fn line_at(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let (line, _) = rest.split_at_checked(rest.iter().position(|&b| b == b'\n')?)?;
    Some((line.strip_suffix(b"\r").unwrap_or(line), pos + line.len() + 1))
}

/// The status line and headers at the start of `buf`; None while incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, Failure> {
    let bad = |why: Failure| if buf.first().is_some_and(|&b| b == 0x15 || b == 0x16) { Failure::Tls } else { why };
    let Some((line, mut pos)) = line_at(buf, 0) else {
        // The version is checked as it arrives: a server of another protocol may wait for us.
        let seen = buf.get(..buf.len().min(9)).unwrap_or(buf);
        let ok = b"HTTP/1.1 ".starts_with(seen) || b"HTTP/1.0 ".starts_with(seen);
        return if ok { Ok(None) } else { Err(bad(Failure::BadVersion)) };
    };
    let Some(rest) = line.strip_prefix(b"HTTP/1.1 ").or_else(|| line.strip_prefix(b"HTTP/1.0 ")) else {
        return Err(bad(Failure::BadVersion));
    };
    let status = match *rest {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', ref reason @ ..]
            if matches!(reason, [] | [b' ', ..]) && reason.iter().all(|&b| is_text(b)) =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(bad(Failure::BadStatus)),
    };
    if !(100..=599).contains(&status) {
        return Err(bad(Failure::StatusRange(status)));
    }
    let mut head = Head { status, len: 0, chunked: false, length: None };
    for count in 0.. {
        let Some((line, next)) = line_at(buf, pos) else { return Ok(None) };
        pos = next;
        if line.is_empty() {
            break;
        }
        if count == MAX_HEADER_COUNT {
            return Err(Failure::TooManyHeaders { max: MAX_HEADER_COUNT });
        }
        let Some((name, value)) = line.iter().position(|&b| b == b':').and_then(|i| line.split_at_checked(i)) else {
            return Err(bad(Failure::BadHeader));
        };
        let value = value.get(1..).unwrap_or(&[]).trim_ascii();
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) || !value.iter().all(|&b| is_text(b)) {
            return Err(bad(Failure::BadHeader));
        }
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            head.chunked |= value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // One decimal number; repeats (`5, 5` or a second header) must agree.
            for v in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                match (content_length(v), head.length) {
                    (Some(n), None) => head.length = Some(n),
                    (Some(n), Some(m)) if n == m => {}
                    _ => return Err(bad(Failure::BadLength)),
                }
            }
        }
    }
    head.len = pos;
    Ok(Some(head))
}

/// A Content-Length value: 1 to 19 decimal digits (so it fits a u64).
fn content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |n, &b| Some(n * 10 + u64::from(char::from(b).to_digit(10)?)))
}

/// The size on a chunk-size line: up to 16 hex digits, then optional
/// whitespace and `;extensions`.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.split(|&b| b == b';').next()?.trim_ascii();
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.iter().try_fold(0, |n, &b| Some(n << 4 | u64::from(char::from(b).to_digit(16)?)))
}

/// Send `req` and read the response head; with `needle`, search the first
/// [`MAX_BODY`] bytes of the (de-chunked) body for it.
pub fn exchange(c: &mut dyn Stream, req: &Request, needle: Option<&[u8]>, dl: &Deadline) -> Result<Response, Failure> {
    write_all(c, &req.bytes(), dl)?;
    let mut buf = vec![0u8; MAX_HEADERS];
    let mut len = 0;
    let head = 'read: loop {
        // Interim 1xx responses (100 Continue, 103 Early Hints) are skipped.
        loop {
            match parse_head(buf.get(..len).unwrap_or(&[]))? {
                Some(h) if (100..200).contains(&h.status) && h.status != 101 => {
                    buf.copy_within(h.len..len, 0);
                    len -= h.len;
                }
                Some(h) => break 'read h,
                None => break,
            }
        }
        let Some(space) = buf.get_mut(len..).filter(|s| !s.is_empty()) else {
            return Err(Failure::HeadTooLarge { kib: MAX_HEADERS / 1024 });
        };
        let n = read_some(c, space, dl, Step::WaitingForHeaders)?;
        if n == 0 {
            return Err(if len == 0 { Failure::NoResponse } else { Failure::HeadCut });
        }
        len += n;
    };
    let elapsed = dl.start.elapsed();
    if needle.is_some() && head.status == 101 {
        return Err(Failure::Switched);
    }
    let found = match needle {
        Some(n) if req.method == Method::Get && !matches!(head.status, 204 | 304) => {
            let start = buf.get(head.len..len).unwrap_or(&[]).to_vec();
            Some(search_body(c, start, &head, n, dl)?)
        }
        _ => None,
    };
    Ok(Response { status: head.status, found, elapsed })
}

/// Collects up to [`MAX_BODY`] body bytes and looks for the needle as they come.
struct Body<'n> {
    data: Vec<u8>,
    needle: &'n [u8],
    found: bool,
}

impl Body<'_> {
    /// Append; true once the search is decided (found, or the cap reached).
    fn push(&mut self, bytes: &[u8]) -> bool {
        let room = MAX_BODY.saturating_sub(self.data.len());
        let from = self.data.len().saturating_sub(self.needle.len().saturating_sub(1));
        self.data.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
        let tail = self.data.get(from..).unwrap_or(&[]);
        self.found = self.needle.is_empty() || tail.windows(self.needle.len()).any(|w| w == self.needle);
        self.found || self.data.len() >= MAX_BODY
    }
}

fn search_body(
    c: &mut dyn Stream,
    mut raw: Vec<u8>,
    head: &Head,
    needle: &[u8],
    dl: &Deadline,
) -> Result<bool, Failure> {
    let mut body = Body { data: Vec::new(), needle, found: false };
    let mut chunk = vec![0u8; 8192];
    // Read more raw bytes into `raw`; false at end of stream.
    let mut fill = |raw: &mut Vec<u8>| -> Result<bool, Failure> {
        let n = read_some(c, &mut chunk, dl, Step::ReadingBody)?;
        raw.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        Ok(n > 0)
    };
    if !head.chunked {
        let limit = head.length.map_or(MAX_BODY, |l| usize::try_from(l).unwrap_or(MAX_BODY).min(MAX_BODY));
        loop {
            let take = raw.len().min(limit.saturating_sub(body.data.len()));
            if body.push(raw.get(..take).unwrap_or(&[])) || body.data.len() >= limit {
                return Ok(body.found);
            }
            raw.clear();
            if !fill(&mut raw)? {
                return Ok(body.found);
            }
        }
    }
    loop {
        let (used, size) = loop {
            match line_at(&raw, 0) {
                Some((line, used)) => break (used, chunk_size(line).ok_or(Failure::BadChunk)?),
                None if raw.len() < 1024 => {
                    if !fill(&mut raw)? {
                        return Ok(body.found);
                    }
                }
                None => return Err(Failure::BadChunk),
            }
        };
        raw.drain(..used.min(raw.len()));
        if size == 0 {
            return Ok(body.found);
        }
        let mut left = usize::try_from(size).unwrap_or(usize::MAX);
        while left > 0 {
            if raw.is_empty() && !fill(&mut raw)? {
                return Ok(body.found);
            }
            let take = left.min(raw.len());
            if body.push(raw.get(..take).unwrap_or(&[])) {
                return Ok(body.found);
            }
            raw.drain(..take);
            left -= take;
        }
        while raw.len() < 2 {
            if !fill(&mut raw)? {
                return Ok(body.found);
            }
        }
        if raw.get(..2) != Some(b"\r\n") {
            return Err(Failure::BadChunk);
        }
        raw.drain(..2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake connection that replays `input` in pieces of `step` bytes.
    struct Replay {
        input: Vec<u8>,
        pos: usize,
        step: usize,
        sent: Vec<u8>,
    }

    impl Read for Replay {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.input.len() - self.pos);
            buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Replay {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.sent.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Conn for Replay {
        fn set_timeouts(&self, _: Duration) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(input: &str, step: usize, needle: Option<&str>) -> (Result<Response, String>, String) {
        let mut c = Replay { input: input.as_bytes().to_vec(), pos: 0, step, sent: Vec::new() };
        let headers = vec![("X-Probe".to_string(), "1".to_string())];
        let req = Request { method: Method::Get, host: "h:1", path: "/p", auth: Some("Basic eA=="), headers: &headers };
        let r = exchange(&mut c, &req, needle.map(str::as_bytes), &Deadline::new(Duration::from_secs(5)));
        (r.map_err(|e| e.to_string()), String::from_utf8(c.sent).unwrap())
    }

    #[test]
    fn request_has_host_close_and_extra_headers() {
        let (r, sent) = run("HTTP/1.1 204 No Content\r\n\r\n", 100, None);
        assert_eq!(r.unwrap().status, 204);
        assert!(sent.starts_with("GET /p HTTP/1.1\r\nHost: h:1\r\n"), "{sent}");
        assert!(sent.contains("\r\nX-Probe: 1\r\n"));
        assert!(sent.contains("\r\nAuthorization: Basic eA==\r\n"));
        assert!(sent.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn bodies_plain_length_and_chunked() {
        for step in [1, 7, 4096] {
            let (r, _) = run("HTTP/1.1 200 OK\r\n\r\nhello world", step, Some("o w"));
            assert_eq!(r.unwrap().found, Some(true));
            let (r, _) = run("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello world", step, Some("world"));
            assert_eq!(r.unwrap().found, Some(false), "content-length bounds the body");
            let chunked =
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n";
            let (r, _) = run(chunked, step, Some("kiped"));
            assert_eq!(r.unwrap().found, Some(true), "step {step}");
            let (r, _) = run(chunked, step, Some("4\r\n"));
            assert_eq!(r.unwrap().found, Some(false), "chunk framing is not body");
            let (r, _) = run("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 No\r\n\r\n", step, None);
            assert_eq!(r.unwrap().status, 503);
        }
    }

    #[test]
    fn a_body_search_ends_at_once_on_101_and_bad_lengths() {
        for input in [
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nneedle",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nneedle",
            "HTTP/1.1 999 X\r\n\r\nneedle",
        ] {
            let e = run(input, 4096, Some("needle")).0.unwrap_err();
            assert!(e.contains("101") || e.contains("not an HTTP response"), "{e}");
        }
        assert_eq!(run("HTTP/1.1 101 Switching Protocols\r\n\r\n", 4096, None).0.unwrap().status, 101);
    }

    #[test]
    fn body_search_stops_at_64k() {
        let mut s = String::from("HTTP/1.1 200 OK\r\n\r\n");
        s.push_str(&"x".repeat(MAX_BODY - 2));
        s.push_str("needle");
        let (r, _) = run(&s, 4096, Some("needle"));
        assert_eq!(r.unwrap().found, Some(false));
    }

    #[test]
    fn bad_responses() {
        assert!(run("", 10, None).0.unwrap_err().contains("without a response"));
        assert!(run("HTTP/1.1 200 OK\r\nX: y", 10, None).0.unwrap_err().contains("middle"));
        assert!(run("\x16\x03\x01\x00", 10, None).0.unwrap_err().contains("TLS"));
        assert!(run("SSH-2.0-OpenSSH\r\n\r\n", 10, None).0.unwrap_err().contains("not an HTTP response"));
        let endless = format!("HTTP/1.1 200 OK\r\n{}", "X-A: b\r\n".repeat(3000));
        assert!(run(&endless, 4096, None).0.is_err());
    }

    #[test]
    fn heads_and_chunk_sizes() {
        assert!(parse_head(b"HTTP/1.").unwrap().is_none());
        assert!(parse_head(b"SSH-2.0").is_err(), "another protocol is rejected before a newline");
        let buf = b"HTTP/1.0 404\nContent-Length: 7\nTransfer-Encoding: gzip, Chunked\n\nbody";
        let h = parse_head(buf).unwrap().unwrap();
        assert_eq!((h.status, h.length, h.chunked, h.len), (404, Some(7), true, buf.len() - 4));
        for bad in [
            &b"HTTP/1.1 20 OK\r\n"[..],
            b"HTTP/2 200\r\n",
            b"HTTP/1.1 200 OK\r\nBad Name: x\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n",
            b"HTTP/1.1 200 OK\r\nNoColon\r\n",
            b"HTTP/1.1 000 X\r\n",
            b"HTTP/1.1 999 X\r\n",
            b"HTTP/1.1 099 X\r\n",
            b"HTTP/1.1 600 X\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 12345678901234567890123\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        for (ok, len) in [(&b"HTTP/1.1 599 X\r\nContent-Length: 2, 2\r\n\r\n"[..], 2), (b"HTTP/1.1 100 X\r\n\r\n", 0)] {
            let h = parse_head(ok).unwrap().unwrap();
            assert_eq!(h.length.unwrap_or(0), len);
        }
        let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.length, Some(7));
        assert_eq!(content_length(b"9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(chunk_size(b"1aF ; x=y"), Some(0x1af));
        assert_eq!(chunk_size(b"ffffffffffffffff"), Some(u64::MAX));
        for bad in [&b""[..], b"+1", b"g", b"1 2", b"10000000000000000"] {
            assert_eq!(chunk_size(bad), None);
        }
    }
}
