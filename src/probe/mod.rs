//! Contract sections 5 and 6: `pidone probe`, `pidone wait` and `--wait`.
//!
//! The layers, each using only those above it:
//! - `target`: the TARGET grammar;
//! - `failure`: why a check failed, every sentence about it written once;
//! - `deadline`: the one deadline of a check;
//! - `dns`: the resolver, bounded by the deadline;
//! - `net`: connecting over TCP (resolving names with `dns`) and Unix sockets;
//! - `http`: one HTTP/1 exchange over a connected stream (request, head, body);
//! - `check`: one check of one target ([`attempt`]) and the probe's line;
//! - `wait`: the retry loop over several targets.
//!
//! This module only names them and re-exports what the mode drivers use.

mod check;
pub(crate) mod deadline;
pub(crate) mod dns;
pub(crate) mod failure;
pub(crate) mod http;
pub(crate) mod net;
pub(crate) mod target;
mod wait;

pub use check::{Expect, HttpCheck, MAX_LINE, attempt, parse_header, probe_line};
pub use wait::{End, parse_all, wait_all};
