//! Connecting to a target within its deadline: TCP to an address, to
//! `localhost` (127.0.0.1, then ::1) or to a name the resolver turns into
//! addresses, and Unix stream sockets.

use super::deadline::Deadline;
use super::dns;
use super::failure::{Failure, Step};
use super::target::Host;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// The addresses `localhost` tries, in turn.
const LOCALHOST: [IpAddr; 2] = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];

/// Connect to `host:port`. `localhost` tries 127.0.0.1, then ::1; a name tries
/// each address pidone's resolver gives in turn; all within the deadline.
pub fn connect_tcp(host: &Host, port: u16, dl: &Deadline) -> Result<TcpStream, Failure> {
    let resolved;
    let ips: &[IpAddr] = match host {
        Host::Ip(ip) => std::slice::from_ref(ip),
        Host::Localhost => &LOCALHOST,
        Host::Name(name) => {
            resolved = dns::resolve(name, dl)?;
            &resolved
        }
    };
    // The last reason, how many addresses failed, and whether all for that reason.
    let mut last = Failure::NoAddress;
    let (mut tried, mut same) = (0, true);
    for ip in ips {
        let why = match dl.left(Step::Connecting) {
            Ok(left) => match TcpStream::connect_timeout(&SocketAddr::new(*ip, port), left) {
                Ok(s) => return Ok(s),
                Err(e) => dl.io_failure(&e, Step::Connecting),
            },
            Err(why) => why,
        };
        same &= tried == 0 || why.to_string() == last.to_string();
        last = why;
        tried += 1;
        if dl.remaining().is_none() {
            break;
        }
    }
    if tried > 1 {
        let localhost = *host == Host::Localhost;
        last = Failure::Addresses { last: Box::new(last), tried, same, localhost };
    }
    Err(last)
}

/// Connect to the Unix socket at `path`. A listener whose accept queue is
/// full (an overloaded app) makes the connect wait: at most the time left.
pub fn connect_unix(path: &Path, dl: &Deadline) -> Result<UnixStream, Failure> {
    let left = dl.left(Step::Connecting)?;
    crate::sys::connect_unix(path, left)
        .map_err(|e| Failure::Unix { path: path.to_path_buf(), why: Box::new(dl.io_failure(&e, Step::Connecting)) })
}
