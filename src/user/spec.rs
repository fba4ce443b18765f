//! The `--user USER[:GROUP]` grammar (contract section 4).
//!
//! ```text
//! spec  = user [ ":" group ]     at most one ':'; "u:" means "u"
//! user  = id | name              required
//! id    = "0" | [1-9][0-9]*      value 0..=2147483647
//! name  = 1..=255 bytes, not all digits, no ':', '/', whitespace or control
//!         characters, not starting with '+' or '-'
//! ```
//!
//! An all-digit token is always an id and is never looked up as a name, so a
//! passwd line named `1000` (or `99999999999999999999`) cannot map a numeric
//! spec to another uid. Out-of-range ids are errors, never truncated.

use crate::error::{Error, Result};

/// The largest uid or gid accepted (Docker, moby/sys and the kubelet use the same).
pub const MAX_ID: u32 = 2_147_483_647;

const MAX_NAME: usize = 255;

/// One side of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Id(u32),
    Name(String),
}

/// A parsed `USER[:GROUP]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: Token,
    pub group: Option<Token>,
}

/// Parse a spec; the error gives the reason only (the caller names the option).
pub fn parse(s: &str) -> Result<UserSpec> {
    let form = |why: &str| Err(Error::config(format!("{why} (expected USER[:GROUP])")));
    if s.is_empty() {
        return form("empty user spec");
    }
    let (user, group) = match s.split_once(':') {
        None => (s, None),
        Some((_, g)) if g.contains(':') => return form("too many ':'"),
        Some((u, g)) => (u, Some(g)),
    };
    if user.is_empty() {
        return form("the user part is required");
    }
    let user = token(user, "user")?;
    let group = match group {
        None | Some("") => None,
        Some(g) => Some(token(g, "group")?),
    };
    Ok(UserSpec { user, group })
}

/// Parse a strict decimal id: no sign, no leading zero, no overflow.
pub fn parse_id(s: &str) -> std::result::Result<u32, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a number");
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("leading zeros are not allowed in a numeric id");
    }
    // At most 10 digits fit below 2^31; longer strings are out of range
    // whatever their value, and never parsed into a wider type.
    match crate::number::decimal(s) {
        Some(v) if s.len() <= 10 && v <= u64::from(MAX_ID) => u32::try_from(v).map_err(|_| "out of range"),
        _ => Err("out of range 0-2147483647"),
    }
}

/// Names and ids in messages are shown with control characters escaped.
pub use crate::log::Printable;

fn token(s: &str, what: &str) -> Result<Token> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return parse_id(s).map(Token::Id).map_err(|e| Error::config(format!("{what} id '{s}': {e}")));
    }
    let why = if s.chars().any(char::is_whitespace) {
        "whitespace is not allowed"
    } else if let Some(rest) = s.strip_prefix(['+', '-']) {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            "signs are not allowed in a numeric id"
        } else {
            "a name cannot start with '+' or '-'"
        }
    } else if s.chars().any(|c| c.is_control() || c == '/') {
        "control characters and '/' are not allowed"
    } else if s.len() > MAX_NAME {
        "longer than 255 bytes"
    } else {
        return Ok(Token::Name(s.to_string()));
    };
    Err(Error::config(format!("{what} '{}': {why}", Printable(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> UserSpec {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn forms() {
        assert_eq!(ok("app"), UserSpec { user: Token::Name("app".into()), group: None });
        assert_eq!(ok("1000"), UserSpec { user: Token::Id(1000), group: None });
        assert_eq!(ok("1000:"), UserSpec { user: Token::Id(1000), group: None });
        assert_eq!(ok("0:0"), UserSpec { user: Token::Id(0), group: Some(Token::Id(0)) });
        assert_eq!(
            ok("app:staff"),
            UserSpec { user: Token::Name("app".into()), group: Some(Token::Name("staff".into())) }
        );
        assert_eq!(ok("2147483647:1"), UserSpec { user: Token::Id(MAX_ID), group: Some(Token::Id(1)) });
        // Not all digits: a name, looked up (and then not found).
        assert_eq!(ok("0day"), UserSpec { user: Token::Name("0day".into()), group: None });
        assert_eq!(ok("1e3"), UserSpec { user: Token::Name("1e3".into()), group: None });
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            ":",
            ":1000",
            "a:b:c",
            "1:2:",
            "::",
            " 1000",
            "1000 ",
            "10 00",
            "+1000",
            "-1",
            "1000:-1",
            "0010",
            "00",
            "1000:007",
            "2147483648",
            "4294967296",
            "4294967296:1",
            "1:4294967296",
            "99999999999999999999",
            "-app",
            "a/b",
            "a\u{0}b",
            "a\tb",
            "a\nb",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse(&"a".repeat(256)).is_err());
        assert!(parse(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn ids_are_strict() {
        assert_eq!(parse_id("0"), Ok(0));
        assert_eq!(parse_id("2147483647"), Ok(MAX_ID));
        assert!(parse_id("2147483648").is_err());
        assert!(parse_id("02").is_err());
        assert!(parse_id("").is_err());
        assert!(parse_id("-0").is_err());
        assert!(parse_id("18446744073709551616").is_err());
        assert!(parse_id("00000000000000000001").is_err());
    }
}
