//! The Compose `.env` syntax: a parser that reports every error with its line
//! and never with the value, and the writer whose output it reads back.
//!
//! The parser does not own the variables: it asks a [`Scope`] for the current
//! value of a name (interpolation) and hands each `NAME=value` to it, so the
//! caller decides precedence and what a later `$NAME` sees.

use super::environment::valid_name;
use std::borrow::Cow;

/// How deep `${A:-${B:-…}}` may nest: deeper is an error, never a deep stack.
const MAX_NESTING: usize = 16;
/// The longest value: execve takes no longer string (MAX_ARG_STRLEN, 128
/// KiB, the figure the too-long messages give), and `A=$B$B$B…` chains must
/// not grow without bound.
pub const MAX_VALUE: usize = 128 * 1024;
/// The most value bytes one file may define in all, substitution included.
pub const MAX_DEFINED: usize = 16 << 20;

/// A syntax error: the line it was found on and what was expected there.
/// Never a value, nor any other text of the line (not even a name: a
/// malformed line may be the continuation of an unquoted multi-line secret);
/// only the message of a `${X:?message}` is the file author's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    /// Most messages are fixed text; a few are formatted.
    pub msg: Cow<'static, str>,
}

impl SyntaxError {
    fn new(line: usize, msg: impl Into<Cow<'static, str>>) -> SyntaxError {
        SyntaxError { line, msg: msg.into() }
    }

    /// A value above [`MAX_VALUE`] on `line`: say whether substitution
    /// made it so, never the value.
    fn too_long(line: usize, substituted: bool) -> SyntaxError {
        let msg = if substituted {
            "value longer than 128 KiB after substitution: Linux passes at most 128 KiB per variable to a program"
        } else {
            "value longer than 128 KiB: Linux passes at most 128 KiB per variable to a program"
        };
        SyntaxError::new(line, msg)
    }
}

/// Where parsed variables go and where `$NAME` is looked up.
pub trait Scope {
    /// The current value of `name`, if it is set.
    fn lookup(&self, name: &str) -> Option<&[u8]>;
    /// `NAME=value` on `line`; `None` for a bare `NAME` line.
    fn define(&mut self, name: &str, value: Option<Vec<u8>>, line: usize);
    /// `$NAME` on `line` with NAME unset and no default: it became "". NAME
    /// may be text of a secret (the `word` of an unquoted `p4ss$word`): it
    /// is given for tests and must never be printed.
    fn unset(&mut self, _name: &str, _line: usize) {}
}

/// The line (1-based) of byte offset `pos` in `src`.
pub fn line_of(src: &[u8], pos: usize) -> usize {
    1 + src.iter().take(pos).filter(|&&b| b == b'\n').count()
}

/// The line of the first NUL byte in `src`, if there is one.
pub fn nul_line(src: &[u8]) -> Option<usize> {
    src.iter().position(|&b| b == 0).map(|pos| line_of(src, pos))
}

/// Parse a whole env file, calling `scope` for every variable in order.
pub fn parse(src: &[u8], scope: &mut dyn Scope) -> Result<(), SyntaxError> {
    let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
    if let Some(line) = nul_line(src) {
        return Err(SyntaxError::new(line, "contains a NUL byte"));
    }
    if let Err(e) = std::str::from_utf8(src) {
        return Err(SyntaxError::new(line_of(src, e.valid_up_to()), "invalid UTF-8"));
    }
    // CRLF line ends become LF everywhere, quoted values included.
    let (mut text, mut crlf) = (Vec::new(), false);
    let mut rest = src;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        text.extend_from_slice(rest.get(..i).unwrap_or_default());
        rest = rest.get(i + 1..).unwrap_or_default();
        crlf = true;
    }
    let text = if !crlf {
        rest
    } else {
        text.extend_from_slice(rest);
        &text
    };
    Parser { s: text, i: 0, line: 1, defined: 0 }.file(scope)
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_name_byte(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    /// Value bytes defined so far (bounded by [`MAX_DEFINED`]).
    defined: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.i += 1;
        }
    }

    /// Skip to the end of the line, leaving the `\n` for [`Parser::file`].
    fn skip_rest_of_line(&mut self) {
        while self.peek().is_some_and(|c| c != b'\n') {
            self.i += 1;
        }
    }

    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.s.get(start..end).unwrap_or_default()
    }

    fn file(&mut self, scope: &mut dyn Scope) -> Result<(), SyntaxError> {
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Ok(()),
                Some(b'\n') => {
                    self.bump();
                }
                Some(b'#') => self.skip_rest_of_line(),
                Some(_) => self.statement(scope)?,
            }
        }
    }

    /// The bytes up to `=`, a blank or the end of the line.
    fn key(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(|c| !matches!(c, b'=' | b' ' | b'\t' | b'\n')) {
            self.i += 1;
        }
        self.slice(start, self.i)
    }

    fn statement(&mut self, scope: &mut dyn Scope) -> Result<(), SyntaxError> {
        let line = self.line;
        let mut key = self.key();
        if key == b"export" && self.peek().is_some_and(is_blank) {
            self.skip_blanks();
            key = self.key();
        }
        let name = std::str::from_utf8(key).ok().filter(|k| valid_name(k)).ok_or_else(|| {
            SyntaxError::new(
                line,
                "invalid variable name: expected NAME=value, NAME or a comment (a name is [A-Za-z_][A-Za-z0-9_]*)",
            )
        })?;
        self.skip_blanks();
        match self.peek() {
            None | Some(b'\n') => {
                scope.define(name, None, line);
                return Ok(());
            }
            Some(b'#') => {
                self.skip_rest_of_line();
                scope.define(name, None, line);
                return Ok(());
            }
            Some(b'=') => self.i += 1,
            Some(_) => {
                return Err(SyntaxError::new(
                    line,
                    "expected `=` after the variable name (a variable name cannot contain a space)",
                ));
            }
        }
        let blank_after_eq = self.peek().is_some_and(is_blank);
        self.skip_blanks();
        let value = match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                let v = self.quoted(q, scope)?;
                self.skip_blanks();
                match self.peek() {
                    None | Some(b'\n') => {}
                    Some(b'#') => self.skip_rest_of_line(),
                    Some(_) => {
                        return Err(SyntaxError::new(
                            self.line,
                            "unexpected text after the closing quote (expected a comment or the end of the line)",
                        ));
                    }
                }
                v
            }
            // `NAME= # comment` is empty (Docker's documented rule; compose-go
            // differs: docs/compose-parity.md); `NAME=#x` is "#x".
            Some(b'#') if blank_after_eq => {
                self.skip_rest_of_line();
                Vec::new()
            }
            _ => self.unquoted(scope)?,
        };
        self.defined = self.defined.saturating_add(value.len());
        if self.defined > MAX_DEFINED {
            return Err(SyntaxError::new(
                line,
                format!("more than {} MiB of values after substitution", MAX_DEFINED >> 20),
            ));
        }
        scope.define(name, Some(value), line);
        Ok(())
    }

    fn unquoted(&mut self, scope: &mut dyn Scope) -> Result<Vec<u8>, SyntaxError> {
        let start = self.i;
        self.skip_rest_of_line();
        let raw = self.slice(start, self.i);
        // An inline comment starts only at a `#` after a blank.
        let end = raw.windows(2).position(|w| matches!(w, [b' ' | b'\t', b'#'])).unwrap_or(raw.len());
        let mut raw = raw.get(..end).unwrap_or_default();
        while let [rest @ .., last] = raw {
            if !last.is_ascii_whitespace() {
                break;
            }
            raw = rest;
        }
        Expander::new(raw, self.line, false).expand(scope)
    }

    fn quoted(&mut self, quote: u8, scope: &mut dyn Scope) -> Result<Vec<u8>, SyntaxError> {
        let line = self.line;
        self.i += 1;
        let start = self.i;
        loop {
            match self.bump() {
                None => {
                    let what = if quote == b'"' {
                        "unterminated double-quoted value: expected a closing \" before the end of the file"
                    } else {
                        "unterminated single-quoted value: expected a closing ' before the end of the file"
                    };
                    return Err(SyntaxError::new(line, what));
                }
                Some(b'\\') => {
                    self.bump();
                }
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        let body = self.slice(start, self.i.saturating_sub(1));
        if quote == b'"' {
            Expander::new(body, line, true).expand(scope)
        } else {
            let value = unescape_single(body);
            if value.len() > MAX_VALUE {
                return Err(SyntaxError::too_long(line, false));
            }
            Ok(value)
        }
    }
}

/// Single quotes are literal but for `\'` (Compose's rule): `\\` stays two
/// backslashes. A backslash still pairs with the next byte when the closing
/// quote is looked for, so `'a\\'` ends at its last quote, as in Compose.
fn unescape_single(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut it = body.iter().copied();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some(b'\'') => out.push(b'\''),
            Some(next) => out.extend_from_slice(&[b'\\', next]),
            None => out.push(b'\\'),
        }
    }
    out
}

/// The control-character escapes of a double-quoted value: the letter after
/// the backslash and the byte it stands for. [`Expander::seq`] reads them and
/// [`quote`] writes them, so the two cannot disagree. (`\\`, `\"` and `\$`
/// stand for the character itself.)
const ESCAPES: [(u8, u8); 7] =
    [(b'n', b'\n'), (b'r', b'\r'), (b't', b'\t'), (b'a', 0x07), (b'b', 0x08), (b'f', 0x0c), (b'v', 0x0b)];

/// Escapes (double quotes only) and `$` substitutions over one value.
struct Expander<'a> {
    cur: Parser<'a>,
    double_quoted: bool,
    /// Whether a `$NAME` or `${…}` was met (for the too-long message).
    substituted: bool,
}

impl<'a> Expander<'a> {
    /// The value text `s`, which starts on `line`.
    fn new(s: &'a [u8], line: usize, double_quoted: bool) -> Self {
        Expander { cur: Parser { s, i: 0, line, defined: 0 }, double_quoted, substituted: false }
    }

    fn expand(mut self, scope: &mut dyn Scope) -> Result<Vec<u8>, SyntaxError> {
        self.seq(scope, None, true, 0)
    }

    /// Text up to the end, or up to the `}` closing a `${` opened on line
    /// `open` (when nested). With `live` false the text is only checked, as
    /// for the branch of `${X:-…}` that is not taken.
    fn seq(
        &mut self,
        scope: &mut dyn Scope,
        open: Option<usize>,
        live: bool,
        depth: usize,
    ) -> Result<Vec<u8>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            // Each step adds at most one value already within the bound.
            if out.len() > MAX_VALUE {
                return Err(SyntaxError::too_long(self.cur.line, self.substituted));
            }
            let Some(c) = self.cur.bump() else {
                return match open {
                    Some(line) => Err(SyntaxError::new(line, "unterminated ${ (missing })")),
                    None => Ok(out),
                };
            };
            match c {
                b'}' if open.is_some() => return Ok(out),
                // Compose's escapes; any other `\x` is kept as written.
                b'\\' if self.double_quoted => match self.cur.bump() {
                    Some(e @ (b'\\' | b'"' | b'$')) => out.push(e),
                    Some(letter) => match ESCAPES.iter().find(|&&(l, _)| l == letter) {
                        Some(&(_, byte)) => out.push(byte),
                        None => out.extend_from_slice(&[b'\\', letter]),
                    },
                    None => out.push(b'\\'),
                },
                b'$' => self.dollar(scope, live, depth, &mut out)?,
                c => out.push(c),
            }
        }
    }

    fn name(&mut self) -> &'a str {
        let start = self.cur.i;
        while self.cur.peek().is_some_and(is_name_byte) {
            self.cur.i += 1;
        }
        // Only ASCII bytes were taken, so this is always valid UTF-8.
        std::str::from_utf8(self.cur.s.get(start..self.cur.i).unwrap_or_default()).unwrap_or_default()
    }

    fn dollar(
        &mut self,
        scope: &mut dyn Scope,
        live: bool,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), SyntaxError> {
        let line = self.cur.line;
        match self.cur.peek() {
            Some(b'$') => {
                self.cur.i += 1;
                out.push(b'$');
            }
            Some(b'{') => {
                self.cur.i += 1;
                self.substituted = true;
                self.braced(scope, live, depth, line, out)?;
            }
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                self.substituted = true;
                let name = self.name();
                substitute(scope, name, live, line, out);
            }
            // A `$` that starts nothing is kept as it is.
            _ => out.push(b'$'),
        }
        Ok(())
    }

    fn braced(
        &mut self,
        scope: &mut dyn Scope,
        live: bool,
        depth: usize,
        line: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), SyntaxError> {
        if depth >= MAX_NESTING {
            return Err(SyntaxError::new(line, format!("${{…}} nested more than {MAX_NESTING} deep")));
        }
        let name = self.name();
        if !valid_name(name) {
            return Err(SyntaxError::new(line, "invalid substitution: ${ must be followed by a variable name"));
        }
        let (colon, op) = match (self.cur.peek(), self.cur.s.get(self.cur.i + 1).copied()) {
            (Some(b'}'), _) => {
                self.cur.i += 1;
                substitute(scope, name, live, line, out);
                return Ok(());
            }
            (Some(b':'), Some(op @ (b'-' | b'?' | b'+'))) => {
                self.cur.i += 2;
                (true, op)
            }
            (Some(op @ (b'-' | b'?' | b'+')), _) => {
                self.cur.i += 1;
                (false, op)
            }
            (None, _) => return Err(SyntaxError::new(line, "unterminated ${ (missing })")),
            _ => {
                return Err(SyntaxError::new(
                    line,
                    "invalid substitution: expected ${X} ${X:-d} ${X-d} ${X:?msg} ${X?msg} ${X:+a} or ${X+a}",
                ));
            }
        };
        let value = scope.lookup(name);
        // `:` treats an empty value as unset.
        let (set, present) = (value.is_some(), value.is_some_and(|v| !colon || !v.is_empty()));
        // The word stands in for `-` when unset and for `+` when set; only
        // then is it evaluated for real (its `${X:?}` can fail).
        let use_word = if op == b'-' { !present } else { op == b'+' && present };
        let word_start = self.cur.i;
        let word = self.seq(scope, Some(line), live && use_word, depth + 1)?;
        if op == b'?' && live && !present {
            // The message is the file's own text, never a value.
            let raw = self.cur.s.get(word_start..self.cur.i.saturating_sub(1)).unwrap_or_default();
            let what = if colon && set { "is empty" } else { "is not set" };
            let colon = if raw.is_empty() { "" } else { ": " };
            let msg = String::from_utf8_lossy(raw);
            return Err(SyntaxError::new(line, format!("required variable {name} {what}{colon}{msg}")));
        }
        if use_word {
            out.extend_from_slice(&word);
        } else if op != b'+' {
            // Substitution defines nothing: the value is the one looked up above.
            out.extend_from_slice(scope.lookup(name).unwrap_or_default());
        }
        Ok(())
    }
}

fn substitute(scope: &mut dyn Scope, name: &str, live: bool, line: usize, out: &mut Vec<u8>) {
    match scope.lookup(name) {
        Some(v) => out.extend_from_slice(v),
        None if live => scope.unset(name, line),
        None => {}
    }
}

/// `value` as a double-quoted dotenv value that [`parse`] (and Compose)
/// reads back exactly; the control characters that have an escape are
/// written with it, so the value stays on one visible line.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
            out.push(c);
        } else if let Some(&(letter, _)) = ESCAPES.iter().find(|&&(_, byte)| char::from(byte) == c) {
            out.push('\\');
            out.push(char::from(letter));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A scope over a map: values set by earlier lines are visible to later ones.
    #[derive(Default, Debug)]
    struct Map {
        vars: HashMap<String, Vec<u8>>,
        order: Vec<(String, Option<String>, usize)>,
        unset: Vec<(String, usize)>,
    }

    impl Scope for Map {
        fn lookup(&self, name: &str) -> Option<&[u8]> {
            self.vars.get(name).map(Vec::as_slice)
        }
        fn define(&mut self, name: &str, value: Option<Vec<u8>>, line: usize) {
            if let Some(v) = &value {
                self.vars.insert(name.to_string(), v.clone());
            }
            self.order.push((name.to_string(), value.map(|v| String::from_utf8(v).unwrap()), line));
        }
        fn unset(&mut self, name: &str, line: usize) {
            self.unset.push((name.to_string(), line));
        }
    }

    fn run(src: &str) -> Result<Map, SyntaxError> {
        let mut m = Map::default();
        m.vars.insert("HOME".into(), b"/root".to_vec());
        m.vars.insert("EMPTY".into(), Vec::new());
        parse(src.as_bytes(), &mut m).map(|()| m)
    }

    /// Every syntax rule: input, then the NAME=value pairs it must define
    /// (`None` for a bare name).
    type Defs = &'static [(&'static str, Option<&'static str>)];

    #[test]
    fn syntax_rules() {
        let cases: &[(&str, Defs)] = &[
            ("", &[]),
            ("\n\n  \n\t\n", &[]),
            ("# comment\n  # indented comment\nA=1", &[("A", Some("1"))]),
            ("A=1\nB=2\n", &[("A", Some("1")), ("B", Some("2"))]),
            ("export A=1", &[("A", Some("1"))]),
            ("export\tA=1", &[("A", Some("1"))]),
            ("export=1", &[("export", Some("1"))]),
            ("A", &[("A", None)]),
            ("A # why", &[("A", None)]),
            ("A=", &[("A", Some(""))]),
            ("A = spaced ", &[("A", Some("spaced"))]),
            ("  A=  lead and trail  \t", &[("A", Some("lead and trail"))]),
            ("A=a b c", &[("A", Some("a b c"))]),
            ("A=a b # c", &[("A", Some("a b"))]),
            ("A=a\t# c", &[("A", Some("a"))]),
            ("A=a#b", &[("A", Some("a#b"))]),
            ("A=#x", &[("A", Some("#x"))]),
            ("A= # only a comment", &[("A", Some(""))]),
            ("A=some\\tvalue", &[("A", Some("some\\tvalue"))]),
            ("A=it's", &[("A", Some("it's"))]),
            ("A=a\"b", &[("A", Some("a\"b"))]),
            ("A='single $HOME \\n'", &[("A", Some("single $HOME \\n"))]),
            ("A='Let\\'s go'", &[("A", Some("Let's go"))]),
            ("A='back\\\\'", &[("A", Some("back\\\\"))]),
            ("A='a # b'", &[("A", Some("a # b"))]),
            ("A='x' # comment", &[("A", Some("x"))]),
            ("A=\"x\"#comment", &[("A", Some("x"))]),
            ("A=\"a # b\"", &[("A", Some("a # b"))]),
            ("A=\"\"", &[("A", Some(""))]),
            ("A=''", &[("A", Some(""))]),
            ("A=\"l1\\nl2\\tt\\\\b\\\"q\\$HOME\\r\"", &[("A", Some("l1\nl2\tt\\b\"q$HOME\r"))]),
            ("A=\"\\x unknown\"", &[("A", Some("\\x unknown"))]),
            ("A=\"{\\\"hello\\\": \\\"json\\\"}\"", &[("A", Some("{\"hello\": \"json\"}"))]),
            ("A=\"line1\nline2\"\nB=after", &[("A", Some("line1\nline2")), ("B", Some("after"))]),
            ("A='line1\n# not a comment\nline3'", &[("A", Some("line1\n# not a comment\nline3"))]),
            ("A=$HOME", &[("A", Some("/root"))]),
            ("A=${HOME}/x", &[("A", Some("/root/x"))]),
            ("A=\"$HOME/x\"", &[("A", Some("/root/x"))]),
            ("A=$HOME_X", &[("A", Some(""))]),
            ("A=${NOPE:-def}", &[("A", Some("def"))]),
            ("A=${EMPTY:-def}", &[("A", Some("def"))]),
            ("A=${EMPTY-def}", &[("A", Some(""))]),
            ("A=${NOPE-def}", &[("A", Some("def"))]),
            ("A=${HOME:-def}", &[("A", Some("/root"))]),
            ("A=${HOME:+alt}", &[("A", Some("alt"))]),
            ("A=${EMPTY:+alt}", &[("A", Some(""))]),
            ("A=${EMPTY+alt}", &[("A", Some("alt"))]),
            ("A=${NOPE+alt}", &[("A", Some(""))]),
            ("A=${HOME:?need it}", &[("A", Some("/root"))]),
            ("A=${EMPTY?need it}", &[("A", Some(""))]),
            ("A=${NOPE:-${HOME}}", &[("A", Some("/root"))]),
            ("A=${NOPE:-${NADA:-deep}}", &[("A", Some("deep"))]),
            ("A=${HOME:-${NOPE:?not evaluated}}", &[("A", Some("/root"))]),
            ("A=${NOPE:-a b}", &[("A", Some("a b"))]),
            ("A=\"${NOPE:-x\\ny}\"", &[("A", Some("x\ny"))]),
            ("A=$$HOME", &[("A", Some("$HOME"))]),
            ("A=cost$", &[("A", Some("cost$"))]),
            ("A=$1 $ x", &[("A", Some("$1 $ x"))]),
            ("A='$$'", &[("A", Some("$$"))]),
            ("A=1\nB=${A}2\nA=3\nC=$A", &[("A", Some("1")), ("B", Some("12")), ("A", Some("3")), ("C", Some("3"))]),
            ("\u{feff}A=bom", &[("A", Some("bom"))]),
            ("A=crlf\r\nB=\"x\r\ny\"\r\n", &[("A", Some("crlf")), ("B", Some("x\ny"))]),
            ("A=lone\rcr", &[("A", Some("lone\rcr"))]),
            ("\r\nA=1\r\n\r\nB=2", &[("A", Some("1")), ("B", Some("2"))]),
            ("A=ünïcødé ✓", &[("A", Some("ünïcødé ✓"))]),
            ("_a1=x", &[("_a1", Some("x"))]),
        ];
        for (src, want) in cases {
            let m = run(src).unwrap_or_else(|e| panic!("{src:?}: unexpected error {e:?}"));
            let got: Vec<(&str, Option<&str>)> = m.order.iter().map(|(k, v, _)| (k.as_str(), v.as_deref())).collect();
            assert_eq!(&got, want, "input {src:?}");
        }
    }

    /// What pidone does with a line where Compose gives a value.
    enum Pidone {
        /// Compose's value.
        Same,
        /// A documented difference (docs/compose-parity.md): this value instead.
        Value(&'static str),
        /// A documented difference: an error (with its line) instead.
        Error,
    }

    /// Docker Compose's `.env` rules, as compose-go (Compose v2's parser)
    /// applies them, line by line: the value Compose gives the first name
    /// on the line, and what pidone does. Every `Value`/`Error` row is listed
    /// in docs/compose-parity.md with its reason. `HOME=/root`, `EMPTY=""`.
    #[test]
    fn compose_parity_table() {
        use Pidone::*;
        #[rustfmt::skip]
        let cases: &[(&str, &str, Pidone)] = &[
            // Unquoted: trimmed, `#` after a space starts a comment, backslashes literal.
            ("A=plain", "plain", Same),
            ("A = spaced ", "spaced", Same),
            ("export A=1", "1", Same),
            ("A=", "", Same),
            ("A=a b # c", "a b", Same),
            ("A=a#b", "a#b", Same),
            ("A=#x", "#x", Same),
            ("A=some\\tvalue", "some\\tvalue", Same),
            ("A=a\\\\b", "a\\\\b", Same),
            ("A=it's", "it's", Same),
            ("A= # note", "# note", Value("")),
            ("A=a\t#b", "a\t#b", Value("a")),
            // Single quotes: literal, only `\'` is an escape.
            ("A='single $HOME \\n'", "single $HOME \\n", Same),
            ("A='Let\\'s go'", "Let's go", Same),
            ("A='a\\\\b'", "a\\\\b", Same),
            ("A='a\\\\'", "a\\\\", Same),
            ("A='a\"b'", "a\"b", Same),
            ("A='l1\nl2'", "l1\nl2", Same),
            ("A='x' # comment", "x", Same),
            // Double quotes: \n \r \t \\ \" \$ and \a \b \f \v; others kept.
            ("A=\"l1\\nl2\\r\\t\"", "l1\nl2\r\t", Same),
            ("A=\"\\a\\b\\f\\v\"", "\u{07}\u{08}\u{0c}\u{0b}", Same),
            ("A=\"q\\\"q\"", "q\"q", Same),
            ("A=\"\\$HOME $HOME\"", "$HOME /root", Same),
            ("A=\"back\\\\slash\"", "back\\slash", Same),
            ("A=\"back\\\\\"", "back\\", Same),
            ("A=\"\\x \\c\"", "\\x \\c", Same),
            ("A=\"it\\'s\"", "it\\'s", Same),
            ("A=\"a # b\"", "a # b", Same),
            ("A=\"l1\nl2\"", "l1\nl2", Same),
            ("A=\"oct\\0101\"", "octA", Value("oct\\0101")),
            ("A=\"\\0\"", "\\", Value("\\0")),
            ("W=\"a\"b", "a", Error),
            // Substitution.
            ("A=$HOME/x", "/root/x", Same),
            ("A=${HOME}", "/root", Same),
            ("A=${NOPE:-def}", "def", Same),
            ("A=${EMPTY:-def}", "def", Same),
            ("A=${EMPTY-def}", "", Same),
            ("A=${NOPE-def}", "def", Same),
            ("A=${HOME:+alt}", "alt", Same),
            ("A=${EMPTY+alt}", "alt", Same),
            ("A=${NOPE:-${HOME}}", "/root", Same),
            ("A=$$HOME", "$HOME", Same),
            ("A='$HOME'", "$HOME", Same),
            ("A=$NOPE", "", Same),
            // Names: Compose also takes `.`, `-`, any letter, and `KEY: value`.
            ("L.M=1", "1", Error),
            ("K-DASH=1", "1", Error),
            ("\u{c9}=1", "1", Error),
            ("K: yaml", "yaml", Error),
        ];
        for (line, compose, pidone) in cases {
            let got = run(line);
            let value = |m: &Map| m.order.first().and_then(|(_, v, _)| v.clone());
            match (pidone, got) {
                (Same, Ok(m)) => assert_eq!(value(&m).as_deref(), Some(*compose), "{line:?}"),
                (Value(v), Ok(m)) => assert_eq!(value(&m).as_deref(), Some(*v), "{line:?} (Compose: {compose:?})"),
                (Error, Err(e)) => assert_eq!(e.line, 1, "{line:?}"),
                (_, Ok(m)) => panic!("{line:?}: expected an error, got {:?}", value(&m)),
                (_, Err(e)) => panic!("{line:?}: unexpected error {e:?}"),
            }
        }
    }

    #[test]
    fn lines_of_definitions_and_unset_warnings() {
        let m = run("# c\n\nA=\"1\n2\"\nB=$NOPE\n\nC='x\ny\nz' # c\nD=${GONE}").unwrap();
        let lines: Vec<usize> = m.order.iter().map(|(_, _, l)| *l).collect();
        assert_eq!(lines, vec![3, 5, 7, 10]);
        assert_eq!(m.unset, vec![("NOPE".to_string(), 5), ("GONE".to_string(), 10)]);
    }

    /// Every error with the line it must report; no message may contain the
    /// value (the canary).
    #[test]
    fn errors_name_the_line_never_the_value() {
        let cases: &[(&str, usize, &str)] = &[
            ("A=1\nB=\"CANARY", 2, "unterminated double-quoted"),
            ("A=1\n\nB='CANARY\nmore", 3, "unterminated single-quoted"),
            ("A=\"CANARY\\\"", 1, "unterminated double-quoted"),
            ("A=1\nMY VAR=CANARY", 2, "cannot contain a space"),
            ("A=1\nFO$O=CANARY", 2, "invalid variable name"),
            ("1A=CANARY", 1, "invalid variable name"),
            ("A.B=CANARY", 1, "invalid variable name"),
            ("A-B=CANARY", 1, "invalid variable name"),
            ("KEY: CANARY", 1, "invalid variable name"),
            ("=CANARY", 1, "invalid variable name"),
            ("export =CANARY", 1, "invalid variable name"),
            ("X=1\nCANARY-VALUE", 2, "invalid variable name"),
            ("A=\"CANARY\" trailing", 1, "after the closing quote"),
            ("A='CANARY'x", 1, "after the closing quote"),
            ("A=\"x\n\nCANARY\" y", 3, "after the closing quote"),
            ("A=CANARY\nB=${NOPE:?set NOPE please}", 2, "required variable NOPE is not set: set NOPE please"),
            ("A=CANARY\nB=${NOPE?}", 2, "required variable NOPE is not set"),
            ("B=${EMPTY:?}", 1, "required variable EMPTY is empty"),
            ("B=\"a\n${NOPE:?m}\"", 2, "required variable NOPE"),
            ("A=CANARY${HOME", 1, "unterminated ${"),
            ("A=CANARY${NOPE:-x", 1, "unterminated ${"),
            ("A=\"CANARY\n${NOPE:-x\"", 2, "unterminated ${"),
            ("A=${}", 1, "invalid substitution"),
            ("A=${1}", 1, "invalid substitution"),
            ("A=${HOME/x/y}", 1, "invalid substitution"),
            ("A=${HOME:=x}", 1, "invalid substitution"),
            ("A=CANARY # ok\nB=${A%%x}", 2, "invalid substitution"),
            ("A=1\nB=CANARY\0", 2, "NUL"),
        ];
        for (src, line, needle) in cases {
            let e = run(src).err().unwrap_or_else(|| panic!("{src:?}: no error"));
            assert_eq!(e.line, *line, "{src:?}: {e:?}");
            assert!(e.msg.contains(needle), "{src:?}: {e:?} lacks {needle:?}");
            assert!(!e.msg.contains("CANARY"), "{src:?}: the value leaked into {e:?}");
        }
        let e = run("A=1\nB=2\n").and_then(|_| {
            let mut m = Map::default();
            parse(b"A=1\nB=\xff\xfe", &mut m).map(|()| m)
        });
        let e = e.err().unwrap();
        assert_eq!((e.line, &*e.msg), (2, "invalid UTF-8"));
    }

    /// A malformed line may be the continuation of an unquoted multi-line
    /// secret: its first word is not a name to show. Each message says what
    /// was expected, with no text of the line (only a `${X:?message}` is
    /// the author's own).
    #[test]
    fn errors_never_show_text_of_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("A=1\nCANARY more words", 2, "expected `=` after the variable name"),
            ("A=1\nexport CANARY more", 2, "expected `=` after the variable name"),
            ("CANARY=\"x", 1, "expected a closing \""),
            ("CANARY='x", 1, "expected a closing '"),
            ("CANARY='x'y", 1, "expected a comment or the end of the line"),
            ("A=${CANARY/x}", 1, "invalid substitution: expected ${X}"),
            ("A=\"${CANARY%x}\"", 1, "invalid substitution: expected ${X}"),
            ("CANARY-x=1", 1, "expected NAME=value, NAME or a comment"),
        ];
        for (src, line, needle) in cases {
            let e = run(src).err().unwrap_or_else(|| panic!("{src:?}: no error"));
            assert_eq!(e.line, *line, "{src:?}: {e:?}");
            assert!(e.msg.contains(needle), "{src:?}: {e:?} lacks {needle:?}");
            assert!(!e.msg.contains("CANARY"), "{src:?}: text of the line leaked into {e:?}");
        }
    }

    #[test]
    fn substitution_growth_is_bounded() {
        // Each line doubles the value: without a bound this needs 2^40 bytes.
        let mut src = String::from("A=xxxxxxxxxxxxxxxx\n");
        for _ in 0..40 {
            src.push_str("A=$A$A\n");
        }
        let e = run(&src).unwrap_err();
        assert!(e.msg.contains("after substitution"), "{e:?}");
        assert!((14..=42).contains(&e.line), "{e:?}");
        // Many values just under the per-value bound hit the total bound.
        let mut src = format!("B={}\n", "y".repeat(100 * 1024));
        for i in 0..200 {
            src.push_str(&format!("C{i}=$B\n"));
        }
        let e = run(&src).unwrap_err();
        assert!(e.msg.contains("MiB of values"), "{e:?}");
    }

    /// A long literal is not blamed on substitution: the message says what
    /// went wrong (the per-variable limit), without the value.
    #[test]
    fn a_long_literal_value_is_not_called_a_substitution() {
        let lit = "y".repeat(1 << 20);
        for src in [format!("A=1\nB={lit}"), format!("A=1\nB=\"{lit}\""), format!("A=1\nB='{lit}'")] {
            let Err(e) = run(&src) else { panic!("a 1 MiB value was accepted") };
            assert_eq!(e.line, 2, "{e:?}");
            assert!(e.msg.starts_with("value longer than 128 KiB:"), "{e:?}");
            assert!(!e.msg.contains("substitution") && !e.msg.contains("yyy"), "{e:?}");
        }
        let Err(e) = run(&format!("B={}\nC=$B$B", "y".repeat(100 << 10))) else { panic!("200 KiB accepted") };
        assert!(e.msg.starts_with("value longer than 128 KiB after substitution"), "{e:?}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("A={}x{}", "${N:-".repeat(16), "}".repeat(16));
        assert_eq!(run(&deep).unwrap().vars["A"], b"x");
        let deeper = format!("A={}x{}", "${N:-".repeat(17), "}".repeat(17));
        assert!(run(&deeper).unwrap_err().msg.contains("nested"));
        // A megabyte of openings is an error, not a stack overflow.
        let huge = format!("A={}", "${N:-".repeat(200_000));
        assert!(run(&huge).is_err());
    }

    use crate::test_rng::Rng;

    /// Arbitrary bytes, biased towards the syntax's own characters.
    fn fuzz_input(rng: &mut Rng) -> Vec<u8> {
        const TOKENS: &[&[u8]] = &[
            b"$",
            b"{",
            b"}",
            b":",
            b"-",
            b"?",
            b"+",
            b"=",
            b"\"",
            b"'",
            b"\\",
            b"\n",
            b"\r\n",
            b"#",
            b" ",
            b"\t",
            b"export ",
            b"A",
            b"HOME",
            b"_x",
            b"1",
            b"${",
            b"$$",
            b"\0",
            b"\xff",
            b"\xef\xbb\xbf",
            b"\xc3\xa9",
            b".",
        ];
        let len = rng.below(40);
        let mut v = Vec::new();
        for _ in 0..len {
            if rng.below(4) == 0 {
                v.push(rng.next() as u8);
            } else {
                v.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
            }
        }
        v
    }

    /// Arbitrary bytes give a value or an error, never a panic; and whatever
    /// parses twice gives the same result (the parser is deterministic).
    #[test]
    fn property_arbitrary_bytes_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut ok, mut err) = (0, 0);
        for _ in 0..30_000 {
            let input = fuzz_input(&mut rng);
            let mut m = Map::default();
            m.vars.insert("HOME".into(), b"/h".to_vec());
            match parse(&input, &mut m) {
                Ok(()) => ok += 1,
                Err(e) => {
                    assert!(e.line >= 1 && e.line <= 1 + input.iter().filter(|&&b| b == b'\n').count());
                    err += 1;
                }
            }
            let _ =
                super::super::secrets::secret_name(std::ffi::OsStr::new(&String::from_utf8_lossy(&input).to_string()));
            let _ = super::super::secrets::secret_name(std::os::unix::ffi::OsStrExt::from_bytes(&input[..]));
        }
        // Both outcomes were exercised.
        assert!(ok > 1000 && err > 1000, "ok {ok} err {err}");
    }

    /// Whatever string `quote` writes, `parse` reads back exactly.
    #[test]
    fn property_quote_round_trips() {
        let mut rng = Rng(42);
        for _ in 0..20_000 {
            let raw = fuzz_input(&mut rng);
            let value: String = String::from_utf8_lossy(&raw).replace('\0', "");
            let mut m = Map::default();
            parse(format!("V={}\n", quote(&value)).as_bytes(), &mut m).unwrap();
            assert_eq!(m.vars["V"], value.as_bytes(), "{value:?}");
        }
    }
}
