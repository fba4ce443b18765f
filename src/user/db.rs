//! /etc/passwd and /etc/group, read directly (a static musl binary has no NSS).
//!
//! Only regular files are read, at most [`MAX_SIZE`] bytes, opened without
//! blocking so a FIFO cannot hang pidone. Blank lines and lines starting with
//! `#`, `+` or `-` (NIS markers) are ignored; a line with the wrong number of
//! fields, an empty name or an id that is not a strict decimal id is skipped
//! with a warning and is never read as id 0.

use super::spec::{Printable, parse_id};
use crate::error::{Error, Result, io_text};
use crate::log;
use crate::sys::Found;

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";

/// Cap on the size of either file (moby/sys uses the same).
pub const MAX_SIZE: usize = 10 << 20;

/// One valid /etc/passwd line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub line: usize,
}

/// One valid /etc/group line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
    pub line: usize,
}

/// The valid entries of one file, in file order. `present` is false when the
/// file does not exist (an image built `FROM scratch`).
#[derive(Debug, Clone, Default)]
pub struct Table<T> {
    pub path: &'static str,
    pub present: bool,
    pub entries: Vec<T>,
}

/// Read a small regular file: `Ok(None)` when it does not exist.
fn read_capped(path: &str) -> Result<Option<Vec<u8>>> {
    let fail = |why: &dyn std::fmt::Display| Error::config(format!("{path}: {why}"));
    match crate::sys::read_regular(path.as_ref(), MAX_SIZE) {
        Ok(Found::Regular(buf)) if buf.len() > MAX_SIZE => {
            Err(fail(&format_args!("larger than {} MiB", MAX_SIZE >> 20)))
        }
        Ok(Found::Regular(buf)) => Ok(Some(buf)),
        Ok(Found::Other(_)) => Err(fail(&"not a regular file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fail(&io_text(&e))),
    }
}

/// The most fields a record has (passwd's seven).
const MAX_FIELDS: usize = 7;

/// One record's fields; those past the file's own count are empty.
type Fields<'a> = [&'a str; MAX_FIELDS];

/// Split `text` into numbered `:`-separated records of exactly `fields`
/// fields, handing each to `add` (unused fields are empty); bad lines are
/// reported and skipped. The line itself is never printed (field 2 may hold a
/// password hash).
fn parse_table(
    path: &str,
    text: &[u8],
    fields: usize,
    add: &mut dyn FnMut(&Fields<'_>, usize) -> std::result::Result<(), String>,
) {
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) || matches!(raw.first(), Some(b'#' | b'+' | b'-')) {
            continue;
        }
        let parsed = std::str::from_utf8(raw).map_err(|_| "not valid UTF-8".to_string()).and_then(|s| {
            let mut f: Fields<'_> = [""; MAX_FIELDS];
            let mut n = 0;
            for part in s.split(':') {
                if let Some(slot) = f.get_mut(n) {
                    *slot = part;
                }
                n += 1;
            }
            if n != fields {
                return Err(format!("{n} fields, expected {fields}"));
            }
            if f[0].is_empty() {
                return Err("empty name".into());
            }
            add(&f, line)
        });
        if let Err(why) = parsed {
            log::warning!("{path}:{line}: malformed entry skipped ({why})");
        }
    }
}

fn id(v: &str, what: &str) -> std::result::Result<u32, String> {
    parse_id(v).map_err(|e| format!("{what} field '{}': {e}", Printable(v)))
}

pub(crate) fn parse_users(path: &'static str, text: &[u8]) -> Vec<User> {
    let mut out = Vec::new();
    parse_table(path, text, 7, &mut |&[name, _, uid, gid, _, home, _], line| {
        let (uid, gid) = (id(uid, "uid")?, id(gid, "gid")?);
        out.push(User { name: name.to_string(), uid, gid, home: home.to_string(), line });
        Ok(())
    });
    out
}

pub(crate) fn parse_groups(path: &'static str, text: &[u8]) -> Vec<Group> {
    let mut out = Vec::new();
    parse_table(path, text, 4, &mut |&[name, _, gid, list, ..], line| {
        let gid = id(gid, "gid")?;
        let mut members = Vec::new();
        for m in list.split(',').filter(|m| !m.is_empty()) {
            members.push(m.to_string());
        }
        out.push(Group { name: name.to_string(), gid, members, line });
        Ok(())
    });
    out
}

pub fn users() -> Result<Table<User>> {
    let data = read_capped(PASSWD)?;
    let entries = data.as_deref().map(|d| parse_users(PASSWD, d)).unwrap_or_default();
    Ok(Table { path: PASSWD, present: data.is_some(), entries })
}

pub fn groups() -> Result<Table<Group>> {
    let data = read_capped(GROUP)?;
    let entries = data.as_deref().map(|d| parse_groups(GROUP, d)).unwrap_or_default();
    Ok(Table { path: GROUP, present: data.is_some(), entries })
}

/// What the tables have in common for lookups.
pub trait Entry {
    fn name(&self) -> &str;
    fn line(&self) -> usize;
}

impl Entry for User {
    fn name(&self) -> &str {
        &self.name
    }
    fn line(&self) -> usize {
        self.line
    }
}

impl Entry for Group {
    fn name(&self) -> &str {
        &self.name
    }
    fn line(&self) -> usize {
        self.line
    }
}

impl<T: Entry> Table<T> {
    /// The entry named `name`, or an error saying why there is none. The
    /// first entry wins; a later one is reported, not used.
    pub fn by_name(&self, kind: &str, name: &str) -> Result<&T> {
        let mut hits = self.entries.iter().filter(|e| e.name() == name);
        let Some(first) = hits.next() else {
            return Err(missing(self.path, self.present, kind, name));
        };
        if let Some(dup) = hits.next() {
            log::warning!(
                "{}:{}: {kind} '{name}' also defined on line {}; using line {}",
                self.path,
                dup.line(),
                first.line(),
                first.line()
            );
        }
        Ok(first)
    }
}

/// Why no entry of `path` is named `name`.
fn missing(path: &str, present: bool, kind: &str, name: &str) -> Error {
    Error::config(if present {
        format!("unknown {kind} '{name}' (not in {path})")
    } else {
        format!("{kind} '{name}': there is no {path} in the image; use a numeric id")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines() {
        let text = b"# comment\n\
            root:x:0:0:root:/root:/bin/sh\n\
            \n\
            +nis\n\
            app:x:1000:1000:App:/home/app:/bin/sh\r\n\
            bad1:x:abc:1000::/:/bin/sh\n\
            bad2:x::0::/:/bin/sh\n\
            bad3:x:1000\n\
            bad4:x:-0:0::/:/bin/sh\n\
            bad5:x:4294967296:1::/:/bin/sh\n\
            bad6:x:00:00::/:/bin/sh\n\
            bad7:x:+5:5::/:/bin/sh\n\
            bad8:x:1:2:3:4:5:6\n\
            :x:5:5::/:/bin/sh\n\
            bad9:x:7:abc::/:/bin/sh\n\
            last:x:2000:2001::/home/last:/bin/false";
        let users = parse_users(PASSWD, text);
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["root", "app", "last"]);
        assert_eq!(users[1], User { name: "app".into(), uid: 1000, gid: 1000, home: "/home/app".into(), line: 5 });
        assert_eq!((users[2].uid, users[2].gid, users[2].line), (2000, 2001, 16));
    }

    #[test]
    fn group_lines() {
        let text = b"root:x:0:\nstaff:x:50:a,b,,c\nbad:x:0x10:a\nshort:x:5\n";
        let groups = parse_groups(GROUP, text);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[1].members, ["a", "b", "c"]);
        assert_eq!(groups[1].gid, 50);
    }

    #[test]
    fn first_match_wins_and_missing_file_is_reported() {
        let t = Table { path: PASSWD, present: true, entries: parse_users(PASSWD, b"a:x:1:1::/:\na:x:2:2::/:\n") };
        assert_eq!(t.by_name("user", "a").unwrap().uid, 1);
        assert!(t.by_name("user", "b").is_err());
        let none: Table<User> = Table { path: PASSWD, present: false, entries: vec![] };
        assert!(none.by_name("user", "a").unwrap_err().to_string().contains("numeric"));
    }
}
