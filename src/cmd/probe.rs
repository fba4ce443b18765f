//! `pidone probe` (contract section 5): one health check, one line on stdout.

use crate::config::{DEFAULT_EXPECT, Method, Probe};
use crate::error::{Error, Result};
use crate::probe::target::{self, Check, ProbeTarget};
use crate::probe::{Expect, HttpCheck, parse_header, probe_line};
use crate::user;

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy,
}

/// Run the probe and print its line; an error is a usage error (the check
/// did not run).
pub fn main(opts: Probe) -> Result<Health> {
    let timeout = opts.timeout;
    let (target, spec) = prepare(opts, &|name| std::env::var(name).ok()).map_err(|e| e.context("probe"))?;
    user::drop_for_checks(std::env::var("PIDONE_USER").ok().as_deref()).map_err(|e| e.context("probe"))?;
    let (ok, line) = probe_line(&target, &spec, timeout);
    // The line names the target: escaped like every message.
    let _ = crate::sys::write_all(crate::sys::Stream::Out, format!("{}\n", crate::log::Printable(&line)).as_bytes());
    Ok(if ok { Health::Healthy } else { Health::Unhealthy })
}

/// Turn `pidone probe`'s options into a target and a spec.
fn prepare(opts: Probe, vars: &dyn Fn(&str) -> Option<String>) -> Result<(ProbeTarget, HttpCheck)> {
    if opts.timeout.is_zero() {
        return Err(Error::config("--timeout: must be above zero"));
    }
    let expect = Expect::parse(&opts.expect)?;
    let mut headers = Vec::with_capacity(opts.headers.len());
    for h in &opts.headers {
        headers.push(parse_header(h)?);
    }
    let target = target::parse_probe(opts.target.as_deref(), opts.port, opts.unix, vars)?;
    if matches!(target.check, Check::Tcp(..))
        && (opts.body_contains.is_some()
            || !headers.is_empty()
            || opts.method != Method::Get
            || opts.expect != DEFAULT_EXPECT)
    {
        return Err(Error::config("--expect, --body-contains, -H and --method apply to HTTP targets, not tcp://"));
    }
    if opts.method == Method::Head && opts.body_contains.is_some() {
        return Err(Error::config("--body-contains needs a body: it cannot be used with --method HEAD"));
    }
    let spec = HttpCheck { method: opts.method, expect, needle: opts.body_contains, headers };
    Ok((target, spec))
}
