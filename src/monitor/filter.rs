//! The monitor's filter language: parsed once, then matched against each frame.
//!
//! A filter is terms separated by whitespace, all of which must match (AND):
//!
//! | term | matches frames… |
//! |------|-----------------|
//! | `word` | whose payload contains `word` anywhere (not only at the start); case-insensitive unless `word` has a capital letter |
//! | `"two words"` | whose payload contains the quoted text, spaces included (a quoted term is always plain text, so `"dir:in"` searches for that text) |
//! | `/PATTERN/` | whose payload matches the regular expression (Rust `regex` syntax, case-sensitive; `(?i)` for insensitive); spaces included, up to a `/` before a space or the end (`\/` is a slash); a missing closing `/` is an error |
//! | `re:PATTERN` | the same; the pattern runs to the next `dir:`, `op:` or `re:` term or the end, spaces included (or quote it: `re:"a b"`) |
//! | `dir:in`, `dir:out` | received / sent (`receive`, `received`, `recv`, `↓` and `send`, `sent`, `↑` too) |
//! | `op:text` | with that opcode: `text`, `binary`, `ping`, `pong`, `close`, or `data` (text and binary) and `control` (ping, pong, close); several with commas: `op:ping,pong` |
//!
//! Regexes run in Unicode mode over the bytes (`.` is one character of UTF-8 text); to match
//! raw bytes of a binary payload turn it off: `re:(?-u:\xff\x00)`.
//!
//! Several `dir:` or `op:` terms widen each other (`op:ping op:pong` = either); text and regex
//! terms narrow (`error timeout` = both). The payload searched is the whole payload as kept
//! (the login frame's password is already `***`), for close frames the reason. Binary
//! payloads are searched as bytes.

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

use crate::model::{Direction, Opcode};

/// Largest compiled regex (bytes of program) a filter may build.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// A parsed filter. The empty filter matches everything.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The text it was parsed from (trimmed).
    source: String,
    /// Bit per direction allowed (0 = any).
    dirs: u8,
    /// Bit per opcode allowed (0 = any).
    ops: u8,
    terms: Vec<Term>,
}

/// One text or regex term.
#[derive(Debug, Clone)]
pub struct Term {
    pub kind: TermKind,
    /// The text or pattern as typed (quotes removed).
    pub text: String,
    re: Regex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// Plain text, case-insensitive.
    Text,
    /// Plain text with a capital letter: case-sensitive.
    TextExact,
    Regex,
}

/// Why a filter did not parse. The message is one line, fit for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

fn err(message: impl Into<String>) -> FilterError {
    FilterError {
        message: message.into(),
    }
}

fn dir_bit(d: Direction) -> u8 {
    match d {
        Direction::ClientToServer => 1,
        Direction::ServerToClient => 2,
    }
}

fn op_bit(o: Opcode) -> u8 {
    match o {
        Opcode::Text => 1,
        Opcode::Binary => 2,
        Opcode::Ping => 4,
        Opcode::Pong => 8,
        Opcode::Close => 16,
    }
}

/// One token of the filter line: its text (quotes or slashes removed) and what it is.
#[derive(Debug, PartialEq, Eq)]
struct Token {
    text: String,
    kind: TokenKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// A word: a keyword (`dir:`, `op:`) or plain text.
    Word,
    /// Quoted: always plain text, never a keyword.
    Quoted,
    /// `/…/` or `re:…`: the pattern.
    Regex,
}

/// The quoted string at the start of `s` (which begins with `"`), if a closing quote followed
/// by whitespace or the end exists: (unescaped content, bytes used). `\"` is a quote.
fn quoted_at(s: &str) -> Option<(String, usize)> {
    closed_at(s, '"')
}

/// The text between `delim` at the start of `s` and the next `delim` followed by whitespace or
/// the end: (content with `\delim` unescaped, bytes used).
fn closed_at(s: &str, delim: char) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut it = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' if it.peek().map(|&(_, n)| n) == Some(delim) => {
                it.next();
                text.push(delim);
            }
            c if c == delim => {
                let end = i + c.len_utf8();
                if s[end..].chars().next().is_none_or(char::is_whitespace) {
                    return Some((text, end));
                }
                text.push(c);
            }
            c => text.push(c),
        }
    }
    None
}

/// Whether `s` starts with a keyword that ends an unquoted `re:` pattern.
fn starts_keyword(s: &str) -> bool {
    ["dir:", "op:", "re:"]
        .iter()
        .any(|k| s.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k)))
}

/// Split into terms. Whitespace separates words, except inside:
/// - `"quoted text"` (a closing `"` before whitespace or the end; `\"` is a quote; any other
///   quote is an ordinary character, so `"status":500` is searched as typed);
/// - `/a regex/` (up to a `/` before whitespace or the end; `\/` is a slash) — one without its
///   closing `/` is an error;
/// - `re:a regex` (quoted, or else up to the next `dir:`, `op:` or `re:` term or the end).
fn tokenize(s: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if rest.starts_with('/') {
            let Some((text, used)) = closed_at(rest, '/') else {
                let shown = crate::text::sanitize_line(rest.trim_end());
                return Err(err(format!(
                    "unterminated regex {shown} — end it with /, or quote it to search for it \
                     as text"
                )));
            };
            out.push(Token {
                text,
                kind: TokenKind::Regex,
            });
            rest = &rest[used..];
            continue;
        }
        if rest.starts_with('"')
            && let Some((text, used)) = quoted_at(rest)
        {
            out.push(Token {
                text,
                kind: TokenKind::Quoted,
            });
            rest = &rest[used..];
            continue;
        }
        if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:")) {
            let after = &rest[3..];
            if after.starts_with('"')
                && let Some((text, used)) = quoted_at(after)
            {
                out.push(Token {
                    text,
                    kind: TokenKind::Regex,
                });
                rest = &after[used..];
                continue;
            }
            // Up to the next keyword term: a pattern may hold spaces.
            let mut end = after.len();
            let mut prev_space = false;
            for (i, c) in after.char_indices() {
                if prev_space && starts_keyword(&after[i..]) {
                    end = i;
                    break;
                }
                prev_space = c.is_whitespace();
            }
            out.push(Token {
                text: after[..end].trim_end().to_string(),
                kind: TokenKind::Regex,
            });
            rest = &after[end..];
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push(Token {
            text: rest[..end].to_string(),
            kind: TokenKind::Word,
        });
        rest = &rest[end..];
    }
    Ok(out)
}

fn parse_dir(v: &str) -> Result<u8, FilterError> {
    let mut bits = 0;
    for part in v.split([',', '|']) {
        bits |= match part.to_ascii_lowercase().as_str() {
            "in" | "receive" | "received" | "recv" | "rx" | "↓" | "s2c" | "server" => {
                dir_bit(Direction::ServerToClient)
            }
            "out" | "send" | "sent" | "tx" | "↑" | "c2s" | "client" => {
                dir_bit(Direction::ClientToServer)
            }
            other => {
                return Err(err(format!(
                    "unknown direction {other:?} — use dir:in or dir:server (sent by the server), dir:out or dir:client (sent by the client)"
                )));
            }
        };
    }
    Ok(bits)
}

fn parse_op(v: &str) -> Result<u8, FilterError> {
    let mut bits = 0;
    for part in v.split([',', '|']) {
        bits |= match part.to_ascii_lowercase().as_str() {
            "text" | "1" => op_bit(Opcode::Text),
            "binary" | "bin" | "2" => op_bit(Opcode::Binary),
            "ping" | "9" => op_bit(Opcode::Ping),
            "pong" | "10" => op_bit(Opcode::Pong),
            "close" | "8" => op_bit(Opcode::Close),
            "data" => op_bit(Opcode::Text) | op_bit(Opcode::Binary),
            "control" => op_bit(Opcode::Ping) | op_bit(Opcode::Pong) | op_bit(Opcode::Close),
            other => {
                return Err(err(format!(
                    "unknown opcode {other:?} — use op:text, binary, ping, pong, close, data or control"
                )));
            }
        };
    }
    Ok(bits)
}

/// The first line of a regex error that says what is wrong (the crate's message spans lines
/// with a caret diagram).
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or("syntax error")
            .to_string(),
        regex::Error::CompiledTooBig(_) => "pattern too big".to_string(),
        _ => "cannot compile".to_string(),
    }
}

fn compile_regex(pattern: &str) -> Result<Term, FilterError> {
    if pattern.is_empty() {
        return Err(err("empty regex — type a pattern after re:"));
    }
    let re = RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            err(format!(
                "invalid regex {:?}: {}",
                crate::text::sanitize_line(pattern),
                regex_reason(&e)
            ))
        })?;
    Ok(Term {
        kind: TermKind::Regex,
        text: pattern.to_string(),
        re,
    })
}

fn text_term(text: &str) -> Result<Term, FilterError> {
    let exact = text.chars().any(char::is_uppercase);
    let re = RegexBuilder::new(&regex::escape(text))
        .case_insensitive(!exact)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| err(format!("cannot search for that text: {}", regex_reason(&e))))?;
    Ok(Term {
        kind: if exact {
            TermKind::TextExact
        } else {
            TermKind::Text
        },
        text: text.to_string(),
        re,
    })
}

impl Filter {
    /// Parse a filter line. Blank input gives the empty filter (everything matches).
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let mut f = Filter {
            source: s.trim().to_string(),
            dirs: 0,
            ops: 0,
            terms: Vec::new(),
        };
        for tok in tokenize(s)? {
            let t = tok.text.as_str();
            match tok.kind {
                TokenKind::Quoted if t.is_empty() => {}
                TokenKind::Quoted => f.terms.push(text_term(t)?),
                TokenKind::Regex => f.terms.push(compile_regex(t)?),
                TokenKind::Word => {
                    let lower = t.get(..3).map(str::to_ascii_lowercase);
                    let lower4 = t.get(..4).map(str::to_ascii_lowercase);
                    if lower4.as_deref() == Some("dir:") {
                        f.dirs |= parse_dir(&t[4..])?;
                    } else if lower.as_deref() == Some("op:") {
                        f.ops |= parse_op(&t[3..])?;
                    } else {
                        f.terms.push(text_term(t)?);
                    }
                }
            }
        }
        Ok(f)
    }

    /// The text this filter was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when it matches everything.
    pub fn is_empty(&self) -> bool {
        self.dirs == 0 && self.ops == 0 && self.terms.is_empty()
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Does a frame with this direction, opcode and (whole) payload match?
    pub fn matches(&self, dir: Direction, opcode: Opcode, payload: &[u8]) -> bool {
        (self.dirs == 0 || self.dirs & dir_bit(dir) != 0)
            && (self.ops == 0 || self.ops & op_bit(opcode) != 0)
            && self.terms.iter().all(|t| t.re.is_match(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ClientToServer as Out, ServerToClient as In};

    fn m(f: &str, dir: Direction, op: Opcode, payload: &str) -> bool {
        Filter::parse(f)
            .unwrap_or_else(|e| panic!("{f:?}: {e}"))
            .matches(dir, op, payload.as_bytes())
    }

    #[test]
    fn empty_filter_matches_everything() {
        let f = Filter::parse("   ").unwrap();
        assert!(f.is_empty());
        assert!(f.matches(Out, Opcode::Ping, b""));
        assert!(f.matches(In, Opcode::Binary, &[0, 255]));
    }

    #[test]
    fn substring_matches_anywhere_not_only_at_the_start() {
        let text = "{\"level\":\"info\",\"msg\":\"disk error on sda\"}";
        assert!(m("error", In, Opcode::Text, text));
        assert!(m("sda\"}", In, Opcode::Text, text));
        assert!(!m("warning", In, Opcode::Text, text));
        // Far past any preview length: the whole payload is searched.
        let long = format!("{}needle", "x".repeat(100_000));
        assert!(m("needle", In, Opcode::Text, &long));
    }

    #[test]
    fn substring_is_case_insensitive_unless_it_has_capitals() {
        assert!(m("error", In, Opcode::Text, "ERROR: boom"));
        assert!(m("Error", In, Opcode::Text, "Error: boom"));
        assert!(!m("Error", In, Opcode::Text, "ERROR: boom"));
    }

    #[test]
    fn substring_is_literal_not_a_regex() {
        assert!(m("a.c", In, Opcode::Text, "xa.cx"));
        assert!(!m("a.c", In, Opcode::Text, "abc"));
        assert!(m("(1+1)", In, Opcode::Text, "f(1+1)"));
    }

    #[test]
    fn regex_terms() {
        assert!(m("re:^user\\d+$", In, Opcode::Text, "user42"));
        assert!(!m("re:^user\\d+$", In, Opcode::Text, "a user42"));
        assert!(m("/err(or)?s?/", In, Opcode::Text, "3 errs"));
        assert!(m("re:a.c", In, Opcode::Text, "abc"));
        // Case-sensitive unless asked.
        assert!(!m("re:abc", In, Opcode::Text, "ABC"));
        assert!(m("re:(?i)abc", In, Opcode::Text, "ABC"));
        // Quoted pattern with a space.
        assert!(m("re:\"a b+\"", In, Opcode::Text, "xa bbb"));
    }

    #[test]
    fn direction_terms() {
        for f in ["dir:in", "dir:receive", "dir:recv", "dir:↓", "DIR:IN"] {
            assert!(m(f, In, Opcode::Text, "x"), "{f}");
            assert!(!m(f, Out, Opcode::Text, "x"), "{f}");
        }
        for f in ["dir:out", "dir:send", "dir:sent", "dir:↑"] {
            assert!(m(f, Out, Opcode::Text, "x"), "{f}");
            assert!(!m(f, In, Opcode::Text, "x"), "{f}");
        }
        assert!(m("dir:in dir:out", Out, Opcode::Text, "x"));
    }

    #[test]
    fn opcode_terms() {
        assert!(m("op:text", In, Opcode::Text, "x"));
        assert!(!m("op:text", In, Opcode::Binary, "x"));
        assert!(m("op:binary", In, Opcode::Binary, "x"));
        assert!(m("op:close", In, Opcode::Close, "bye"));
        assert!(m("op:ping,pong", In, Opcode::Pong, ""));
        assert!(m("op:ping op:pong", In, Opcode::Ping, ""));
        assert!(!m("op:ping,pong", In, Opcode::Text, ""));
        assert!(m("op:control", In, Opcode::Close, ""));
        assert!(!m("op:control", In, Opcode::Text, ""));
        assert!(m("op:data", In, Opcode::Binary, ""));
    }

    #[test]
    fn terms_combine() {
        let f = "dir:in op:text error";
        assert!(m(f, In, Opcode::Text, "an error"));
        assert!(!m(f, Out, Opcode::Text, "an error"));
        assert!(!m(f, In, Opcode::Binary, "an error"));
        assert!(!m(f, In, Opcode::Text, "all good"));
        // Two words must both be there, in any order.
        assert!(m("disk error", In, Opcode::Text, "error on disk"));
        assert!(!m("disk error", In, Opcode::Text, "error on tape"));
        assert!(m("\"disk error\"", In, Opcode::Text, "a disk error"));
        assert!(!m("\"disk error\"", In, Opcode::Text, "error on disk"));
    }

    #[test]
    fn quoted_keywords_are_plain_text() {
        assert!(m("\"dir:in\"", Out, Opcode::Text, "see dir:in"));
        assert!(!m("\"dir:in\"", In, Opcode::Text, "nothing"));
        // An unknown key is plain text too (payloads are full of `key:value`).
        assert!(m("status:500", In, Opcode::Text, "{status:500}"));
    }

    #[test]
    fn binary_payloads_are_searched_as_bytes() {
        // Raw bytes need Unicode mode off: `\xff` alone is the character ÿ.
        let f = Filter::parse("re:(?-u:\\x00\\xff)").unwrap();
        assert!(f.matches(In, Opcode::Binary, &[1, 0, 255, 2]));
        let f = Filter::parse("GIF8").unwrap();
        assert!(f.matches(In, Opcode::Binary, b"\x00GIF89a\xff"));
    }

    #[test]
    fn invalid_input_says_what_is_wrong() {
        let e = Filter::parse("re:a(b").unwrap_err();
        assert!(e.message.starts_with("invalid regex \"a(b\""), "{e}");
        assert!(e.message.contains("unclosed group"), "{e}");
        assert!(!e.message.contains('\n'));
        let e = Filter::parse("/[z-a]/").unwrap_err();
        assert!(e.message.contains("invalid regex"), "{e}");
        let e = Filter::parse("dir:sideways").unwrap_err();
        assert!(e.message.contains("unknown direction \"sideways\""), "{e}");
        let e = Filter::parse("op:txt").unwrap_err();
        assert!(e.message.contains("unknown opcode \"txt\""), "{e}");
        let e = Filter::parse("re:").unwrap_err();
        assert!(e.message.contains("empty regex"), "{e}");
    }

    #[test]
    fn any_text_parses_or_fails_cleanly() {
        for s in [
            "é中",
            "re",
            "ré:",
            "d",
            "dir",
            "op:",
            "/",
            "//",
            "\"",
            "\"\"",
            "re:\"",
            "é\"x y\"",
        ] {
            let _ = Filter::parse(s);
        }
        assert!(m("é中", In, Opcode::Text, "xé中y"));
    }

    #[test]
    fn source_is_kept() {
        let f = Filter::parse("  dir:in  error ").unwrap();
        assert_eq!(f.source(), "dir:in  error");
        assert_eq!(f.terms().len(), 1);
        assert_eq!(f.terms()[0].kind, TermKind::Text);
    }

    #[test]
    fn quotes_inside_words_are_searched_as_typed() {
        let json = r#"{"status":500,"msg":"boom"}"#;
        assert!(m(r#""status":500"#, In, Opcode::Text, json));
        assert!(!m(r#""status":200"#, In, Opcode::Text, json));
        assert!(m(r#"boom"}"#, In, Opcode::Text, json));
        // An unclosed quote is just a quote.
        assert!(m(r#""boom"#, In, Opcode::Text, json));
    }

    #[test]
    fn tokenizer_handles_quotes() {
        let t = tokenize(r#"a "b c" re:"x y" "say \"hi\"""#).unwrap();
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["a", "b c", "x y", "say \"hi\""]);
        use TokenKind::*;
        assert_eq!(
            t.iter().map(|t| t.kind).collect::<Vec<_>>(),
            [Word, Quoted, Regex, Quoted]
        );
    }

    /// Issue 14 item 3: a regex with a space is one term, not two words.
    #[test]
    fn a_regex_with_spaces_is_one_term() {
        let push = "push #3 at 12:00";
        assert!(m("/#[0-9] at/", In, Opcode::Text, push));
        assert!(!m("/#[0-9] at/", In, Opcode::Text, "#3 and at"));
        assert_eq!(Filter::parse("/#[0-9] at/").unwrap().terms().len(), 1);
        assert!(m("re:push #1[0-9]", In, Opcode::Text, "push #12"));
        assert!(!m("re:push #1[0-9]", In, Opcode::Text, "push #3"));
        // Keywords after it are still keywords.
        let f = Filter::parse("re:push #1[0-9] dir:in op:text").unwrap();
        assert_eq!(f.terms().len(), 1);
        assert!(f.matches(In, Opcode::Text, b"push #12"));
        assert!(!f.matches(Out, Opcode::Text, b"push #12"));
        // Other terms around a /…/ one.
        assert!(m("dir:in /a b/ c", In, Opcode::Text, "xa bc"));
        assert!(!m("dir:in /a b/ c", In, Opcode::Text, "xa b"));
        // `\/` is a slash; a slash inside a word does not end it.
        assert!(m(r"/a\/b/", In, Opcode::Text, "a/b"));
        assert!(m("/api/v1 x/", In, Opcode::Text, "/api/v1 x"));
    }

    #[test]
    fn an_unterminated_regex_is_an_error_that_says_how_to_fix_it() {
        for f in ["/#[0-9] at", "/", "dir:in /abc", "/api/v1"] {
            let e = Filter::parse(f).unwrap_err();
            assert!(e.message.starts_with("unterminated regex /"), "{f}: {e}");
            assert!(e.message.contains("end it with /"), "{e}");
        }
        // Quoted, it is text.
        assert!(m("\"/api/v1\"", In, Opcode::Text, "GET /api/v1"));
    }
}
