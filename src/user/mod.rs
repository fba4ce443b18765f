//! Contract section 4: who the command runs as.
//!
//! [`apply`] resolves `--user`, enforces the non-root rule and drops
//! privileges in pidone itself (after the environment is built, before the
//! child is spawned or exec'd), so no process of the container keeps root.
//! Everything is resolved and validated before any credential changes. It
//! returns what it resolved ([`Applied`]); the mode driver gives the
//! environment the user's HOME.

pub(crate) mod db;
mod drop;
pub(crate) mod spec;

use crate::config::{Sourced, UserOpts};
use crate::error::{Error, Result, errno_text};
use crate::log;
use db::{Group, Table, User};
use drop::Creds;
use nix::unistd::{ResGid, ResUid};
use spec::{Token, UserSpec};
use std::ffi::OsStr;
use std::fmt;

/// The kernel's NGROUPS_MAX.
const MAX_GROUPS: usize = 65536;

/// A resolved `--user`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    creds: Creds,
    /// The passwd home, `/` when the user has no entry (or an empty home).
    home: String,
}

/// How a spec's user resolved, for messages: `user 'app' (uid 1000)`, `uid 1000`.
struct Who<'a>(&'a Token, u32);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Token::Name(n) => write!(f, "user '{n}' (uid {})", self.1),
            Token::Id(id) => write!(f, "uid {id}"),
        }
    }
}

/// Resolve `spec` against the passwd and group tables.
fn resolve(spec: &UserSpec, users: &Table<User>, groups: &Table<Group>) -> Result<Resolved> {
    let (uid, entry) = match &spec.user {
        Token::Name(n) => {
            let u = users.by_name("user", n)?;
            (u.uid, Some(u))
        }
        // Several names for one uid (root, toor) are normal: the first wins.
        Token::Id(id) => (*id, users.entries.iter().find(|u| u.uid == *id)),
    };
    let gid = match (&spec.group, entry) {
        (Some(Token::Id(g)), _) => *g,
        (Some(Token::Name(n)), _) => groups.by_name("group", n)?.gid,
        (None, Some(u)) => u.gid,
        // A uid without a passwd entry: its own number, never an implicit 0.
        (None, None) => uid,
    };
    let mut list = vec![gid];
    if let (None, Some(u)) = (&spec.group, entry) {
        // initgroups: the primary group, then every group listing the user.
        for g in groups.entries.iter().filter(|g| g.members.contains(&u.name)) {
            list.push(g.gid);
        }
    }
    // The kernel keeps the list sorted anyway; sorting also deduplicates cheaply.
    list.sort_unstable();
    list.dedup();
    if list.len() > MAX_GROUPS {
        return Err(Error::config(format!(
            "{} has {} groups, more than the kernel's {MAX_GROUPS}",
            Who(&spec.user, uid),
            list.len()
        )));
    }
    let home = entry.map(|u| u.home.as_str()).filter(|h| !h.is_empty()).unwrap_or("/").to_string();
    Ok(Resolved { creds: Creds { uid, gid, groups: list }, home })
}

/// Root's home as the image defines it (HOME equal to it counts as unset).
fn root_home(users: &Table<User>) -> &str {
    users.entries.iter().find(|u| u.uid == 0).map_or("/root", |u| u.home.as_str())
}

/// What [`apply`] resolved, for the mode driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The passwd home of `--user` (`/` when it has none); `None` without `--user`.
    pub home: Option<String>,
    /// Root's home as the image defines it.
    root_home: String,
}

impl Applied {
    /// The HOME the command gets when pidone's own is `current`: the user's
    /// home replaces a HOME that is unset, empty, `/root` or root's home; any
    /// other value is kept (`None`: leave HOME as it is).
    pub fn home_for(&self, current: Option<&OsStr>) -> Option<&str> {
        let home = self.home.as_deref()?;
        let replace = match current {
            None => true,
            Some(h) => h.is_empty() || h == "/root" || h == self.root_home.as_str(),
        };
        replace.then_some(home)
    }
}

fn refuse_root(why: fmt::Arguments<'_>) -> Error {
    Error::config(format!(
        "refusing to run the command as root ({why}): set --user/PIDONE_USER to a non-root user \
         (e.g. --user 10001:10001), or pass --allow-root"
    ))
}

/// pidone's real, effective and saved uids and gids.
fn current_ids() -> Result<(ResUid, ResGid)> {
    let idle = |e| Error::config(format!("cannot read the current ids: {}", errno_text(e)));
    Ok((nix::unistd::getresuid().map_err(idle)?, nix::unistd::getresgid().map_err(idle)?))
}

/// A setuid or setgid pidone (real and effective ids differ) would read
/// files, test paths and connect to sockets with ids its caller does not
/// have: `lib::main` calls this first, in every mode, before anything is read.
pub fn refuse_setid() -> Result<()> {
    let (uids, gids) = current_ids()?;
    if uids.real == uids.effective && gids.real == gids.effective {
        return Ok(());
    }
    Err(Error::config(format!(
        "pidone runs with real uid {} gid {} but effective uid {} gid {}: a setuid or setgid \
         install of pidone is not supported",
        uids.real, gids.real, uids.effective, gids.effective
    )))
}

/// Parse and resolve the user spec `text` that came from `from` (an option
/// or a variable), its errors prefixed `FROM 'TEXT'`; the passwd table comes
/// back too (root's home is read from it).
fn resolve_named(text: &str, from: &dyn fmt::Display) -> Result<(UserSpec, Resolved, Table<User>)> {
    let shown = spec::Printable(text);
    let named = |e: Error| e.context(format_args!("{from} '{shown}'"));
    let spec = spec::parse(text).map_err(named)?;
    let users = db::users()?;
    let resolved = resolve(&spec, &users, &db::groups()?).map_err(named)?;
    Ok((spec, resolved, users))
}

/// `probe` and `wait` started as root (Docker runs HEALTHCHECK as the image's
/// user, root in most images) drop to `user` (`$PIDONE_USER`), else to
/// 65534:65534 (nobody), with no_new_privs, before they connect anywhere: a
/// compromised app's reply is never parsed by a root process (contract
/// section 5). A `PIDONE_USER` that resolves to uid 0 gets nobody too: a
/// check needs no privilege. Started non-root, nothing changes.
pub fn drop_for_checks(user: Option<&str>) -> Result<()> {
    if nix::unistd::geteuid().as_raw() != 0 {
        return Ok(());
    }
    let nobody = Creds { uid: 65534, gid: 65534, groups: vec![65534] };
    let creds = match user {
        None => nobody,
        Some(text) => {
            let (_, Resolved { creds, .. }, _) = resolve_named(text, &"PIDONE_USER")?;
            if creds.uid == 0 {
                log::info!("PIDONE_USER '{}' is root: checking as uid 65534 instead", spec::Printable(text));
                nobody
            } else {
                creds
            }
        }
    };
    drop::switch(&creds, true)?;
    log::info!(
        "started as root: checking as uid {}, gid {}, groups {}",
        creds.uid,
        creds.gid,
        drop::Ids(&creds.groups)
    );
    Ok(())
}

/// Resolve `opts`, enforce the non-root rule and drop privileges in the
/// calling process.
pub fn apply(opts: &UserOpts) -> Result<Applied> {
    let (uids, gids) = current_ids()?;
    let euid = uids.effective.as_raw();
    let Some(Sourced { value: text, from }) = opts.user.as_ref() else {
        if euid != 0 {
            log::debug!("running as uid {euid} (no --user)");
        } else if opts.allow_root {
            log::info!("running the command as root (--allow-root)");
        } else {
            return Err(refuse_root(format_args!("pidone was started as root and no --user is given")));
        }
        return Ok(Applied { home: None, root_home: String::new() });
    };
    let shown = spec::Printable(text);
    let (spec, Resolved { creds, home }, users) = resolve_named(text, from)?;
    let creds = &creds;
    let what = Who(&spec.user, creds.uid);
    if creds.uid == 0 && !opts.allow_root {
        return Err(refuse_root(format_args!("{from} '{shown}' resolves to uid 0")));
    }
    if euid != 0 {
        // Started non-root (Docker USER, `docker run --user`, Kubernetes
        // runAsUser, OpenShift's random uids): the runtime chose a non-root
        // uid and nothing can change. The command runs as that uid, which is
        // still not root, what --user enforces; so an image with PIDONE_USER
        // baked in runs under any uid (contract section 4). --user naming
        // uid 0 was refused above without --allow-root, whatever the start.
        if creds.uid != euid {
            log::warning!(
                "{from} '{shown}' asks for {what}, but pidone was started as uid {euid} (not root) and \
                 cannot switch: the command runs as uid {euid}"
            );
            return Ok(Applied { home: None, root_home: String::new() });
        }
        if creds.gid != gids.effective.as_raw() {
            log::warning!(
                "{from} '{shown}': already running as uid {euid}; the group stays {} (asked for {})",
                gids.effective,
                creds.gid
            );
        }
        log::info!("already running as uid {euid}: {from} '{shown}' changes nothing");
    } else {
        if creds.groups.contains(&0) || creds.gid == 0 {
            log::warning!("{from} '{shown}': the command runs with group 0 (root) among its groups");
        }
        drop::switch(creds, !opts.allow_new_privs)?;
        let how = if creds.uid == 0 { "running the command as root (--allow-root)" } else { "dropped privileges" };
        log::info!("{how}: {what}, gid {}, groups {}", creds.gid, drop::Ids(&creds.groups));
    }
    Ok(Applied { home: Some(home), root_home: root_home(&users).to_string() })
}

#[cfg(test)]
mod tests {
    use super::db::{GROUP, PASSWD};
    use super::*;

    fn user(name: &str, uid: u32, gid: u32, home: &str, line: usize) -> User {
        User { name: name.into(), uid, gid, home: home.into(), line }
    }

    fn group(name: &str, gid: u32, members: &[&str], line: usize) -> Group {
        Group { name: name.into(), gid, members: members.iter().map(|m| m.to_string()).collect(), line }
    }

    fn tables() -> (Table<User>, Table<Group>) {
        let users = vec![
            user("root", 0, 0, "/root", 1),
            user("app", 1000, 1000, "/home/app", 2),
            user("1000", 0, 0, "/root", 3),
            user("nohome", 1500, 1500, "", 4),
            user("admin", 0, 0, "/root", 5),
        ];
        let groups = vec![
            group("root", 0, &["root"], 1),
            group("app", 1000, &[], 2),
            group("g1", 2001, &["app"], 3),
            group("g2", 2002, &["other", "app"], 4),
            group("g3", 2003, &["other"], 5),
            group("again", 1000, &["app"], 6),
        ];
        (Table { path: PASSWD, present: true, entries: users }, Table { path: GROUP, present: true, entries: groups })
    }

    fn res(s: &str) -> Result<Resolved> {
        let (u, g) = tables();
        resolve(&spec::parse(s).unwrap(), &u, &g)
    }

    fn creds(s: &str) -> (u32, u32, Vec<u32>) {
        let t = res(s).unwrap();
        (t.creds.uid, t.creds.gid, t.creds.groups)
    }

    #[test]
    fn names_take_passwd_and_memberships() {
        assert_eq!(creds("app"), (1000, 1000, vec![1000, 2001, 2002]));
        assert_eq!(res("app").unwrap().home, "/home/app");
        assert_eq!(creds("app:g3"), (1000, 2003, vec![2003]));
        assert_eq!(creds("app:77"), (1000, 77, vec![77]));
    }

    #[test]
    fn numeric_ids_are_never_names() {
        // passwd has a user *named* 1000 with uid 0: irrelevant to "1000".
        assert_eq!(creds("1000"), (1000, 1000, vec![1000, 2001, 2002]));
        // No entry: gid = uid, never an implicit 0; HOME is /.
        assert_eq!(creds("1234"), (1234, 1234, vec![1234]));
        assert_eq!(res("1234").unwrap().home, "/");
        assert_eq!(creds("1234:0"), (1234, 0, vec![0]));
        assert_eq!(creds("1000:5"), (1000, 5, vec![5]));
        assert_eq!(creds("1234:g1"), (1234, 2001, vec![2001]));
        assert_eq!(res("nohome").unwrap().home, "/");
    }

    #[test]
    fn unknown_names_fail() {
        assert!(res("bogus").is_err());
        assert!(res("0day").is_err());
        assert!(res("app:bogus").is_err());
        assert!(res("1234:0day").is_err());
        assert_eq!(creds("admin").0, 0, "admin maps to 0, refused later by apply");
    }

    #[test]
    fn home_replaces_only_unset_or_roots() {
        let applied = |root_home: &str| Applied { home: Some("/home/app".into()), root_home: root_home.into() };
        assert_eq!(applied("/root").home_for(None), Some("/home/app"));
        for (before, after) in
            [("/root", "/home/app"), ("", "/home/app"), ("/var/root", "/home/app"), ("/data", "/data")]
        {
            let applied = applied("/var/root");
            let got = applied.home_for(Some(OsStr::new(before))).unwrap_or(before);
            assert_eq!(got, after, "HOME={before}");
        }
        let no_user = Applied { home: None, root_home: "/root".into() };
        assert_eq!(no_user.home_for(None), None, "without --user HOME is left alone");
        assert_eq!(no_user.home_for(Some(OsStr::new("/root"))), None);
    }
}
