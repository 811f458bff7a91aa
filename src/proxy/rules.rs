//! What the proxy hides and what it holds, decided per message.
//!
//! The proxy never knows a password, so it masks by shape: a client→server text message of
//! the `--login-template` shape (`{user}:{password}` by default), sent before the server's
//! first reply matching `--login-ok`, shows `{user}:***`; every `--redact REGEX` match (its
//! capture groups, if it has any, else the whole match) shows `***`, both ways, all along.

use std::sync::Arc;

use regex::Regex;

use crate::model::{Direction, FrameRecord, Opcode};
use crate::monitor::filter::{Filter, FilterError};
use crate::record::REDACTED;

/// The proxy's redaction policy.
#[derive(Debug, Clone)]
pub struct Redaction {
    /// Off with `--no-redact`: payloads and credential headers are shown as sent.
    pub enabled: bool,
    /// The login template turned into a pattern whose `password` group is masked.
    login: Option<Regex>,
    /// A server reply matching this ends the login phase of a connection.
    login_ok: Regex,
    /// `login_ok` when it is plain text (the default `congratulation`): found with a
    /// substring search, which costs a fraction of a regex search on every server message
    /// until the login.
    login_ok_text: Option<memchr::memmem::Finder<'static>>,
    rules: Vec<Regex>,
}

impl Redaction {
    /// Build from the template (`{user}`, `{password}`), the login-ok pattern and the
    /// `--redact` rules. A template without `{password}` masks nothing by shape.
    pub fn new(template: &str, login_ok: Regex, rules: Vec<Regex>) -> Self {
        Redaction {
            enabled: true,
            login: template_pattern(template),
            login_ok_text: plain_text(&login_ok),
            login_ok,
            rules,
        }
    }

    /// Nothing hidden (`--no-redact`).
    pub fn off() -> Self {
        Redaction {
            enabled: false,
            login: None,
            login_ok: Regex::new("$^").expect("valid regex"),
            login_ok_text: None,
            rules: Vec::new(),
        }
    }

    /// Whether a server message ends the login phase.
    pub fn is_login_ok(&self, text: &str) -> bool {
        match &self.login_ok_text {
            Some(t) => t.find(text.as_bytes()).is_some(),
            None => self.login_ok.is_match(text),
        }
    }

    /// [`Redaction::is_login_ok`] of a payload that is text when it is UTF-8 (checked only
    /// when it matters: a plain `--login-ok` is looked for first).
    pub fn is_login_ok_bytes(&self, payload: &[u8]) -> bool {
        match &self.login_ok_text {
            Some(t) => t.find(payload).is_some() && std::str::from_utf8(payload).is_ok(),
            None => std::str::from_utf8(payload).is_ok_and(|t| self.login_ok.is_match(t)),
        }
    }

    /// Whether [`Redaction::apply`] can change a server→client message (only `--redact`
    /// rules do: the login shape is the client's).
    pub fn may_change_server_text(&self) -> bool {
        self.enabled && !self.rules.is_empty()
    }

    /// Hide what the policy hides in a text message `rec` of a connection whose login
    /// state is `logged_in` (set here when the server accepts a login).
    pub fn redact(&self, rec: &mut FrameRecord, logged_in: &mut bool) {
        if rec.opcode != Opcode::Text {
            return;
        }
        if rec.dir == Direction::ServerToClient && !self.may_change_server_text() {
            // Nothing to hide in what the server says: only the login's end is looked for.
            if !*logged_in && self.is_login_ok_bytes(&rec.payload) {
                *logged_in = true;
            }
            return;
        }
        let Ok(text) = std::str::from_utf8(&rec.payload) else {
            return;
        };
        if rec.dir == Direction::ServerToClient && !*logged_in && self.is_login_ok(text) {
            *logged_in = true;
        }
        if let Some(shown) = self.apply(rec.dir, text, !*logged_in) {
            rec.payload = bytes::Bytes::from(shown);
            rec.redacted = true;
        }
    }

    /// The same policy on: what the screen hides when the proxy's events keep everything
    /// (`--no-redact`).
    pub fn for_screen(&self) -> Redaction {
        Redaction {
            enabled: true,
            ..self.clone()
        }
    }

    /// The same policy switched off (`--no-redact`): the proxy's events and files keep
    /// everything; the screen goes on hiding by the policy itself.
    pub fn switched_off(self) -> Redaction {
        Redaction {
            enabled: false,
            ..self
        }
    }

    /// The text as shown and recorded, or `None` when nothing in it is hidden.
    /// `login_phase`: the connection has not yet seen the server accept a login.
    pub fn apply(&self, dir: Direction, text: &str, login_phase: bool) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let mut out: Option<String> = None;
        if login_phase
            && dir == Direction::ClientToServer
            && let Some(re) = &self.login
            && let Some(c) = re.captures(text)
            && let Some(pw) = c.name("password")
        {
            let mut s = String::with_capacity(text.len());
            s.push_str(&text[..pw.start()]);
            s.push_str(REDACTED);
            s.push_str(&text[pw.end()..]);
            out = Some(s);
        }
        for re in &self.rules {
            let cur = out.as_deref().unwrap_or(text);
            if let Some(masked) = mask_matches(re, cur) {
                out = Some(masked);
            }
        }
        out
    }
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction::new(
            crate::spec::DEFAULT_LOGIN_TEMPLATE,
            Regex::new(crate::spec::DEFAULT_LOGIN_OK).expect("valid regex"),
            Vec::new(),
        )
    }
}

/// The text a regex matches when it is a plain, non-empty string (letters, digits, spaces and
/// punctuation no regex gives a meaning to).
fn plain_text(re: &Regex) -> Option<memchr::memmem::Finder<'static>> {
    let src = re.as_str();
    let plain = !src.is_empty()
        && src.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(
                    c,
                    ' ' | '_'
                        | '-'
                        | ','
                        | ':'
                        | ';'
                        | '!'
                        | '\''
                        | '"'
                        | '='
                        | '@'
                        | '/'
                        | '%'
                        | '<'
                        | '>'
                        | '~'
                        | '`'
                )
        });
    plain.then(|| memchr::memmem::Finder::new(src.as_bytes()).into_owned())
}

/// `{user}:{password}` → `^(?s)(?P<user>.*?):(?P<password>.+)$`; literal text is escaped.
fn template_pattern(template: &str) -> Option<Regex> {
    if !template.contains("{password}") {
        return None;
    }
    let mut pat = String::from("^(?s)");
    let mut rest = template;
    let mut seen_user = false;
    let mut seen_password = false;
    while !rest.is_empty() {
        let next_user = rest.find("{user}");
        let next_pw = rest.find("{password}");
        let (at, is_user) = match (next_user, next_pw) {
            (Some(u), Some(p)) if u < p => (u, true),
            (_, Some(p)) => (p, false),
            (Some(u), None) => (u, true),
            (None, None) => {
                pat.push_str(&regex::escape(rest));
                break;
            }
        };
        pat.push_str(&regex::escape(&rest[..at]));
        if is_user {
            pat.push_str(if seen_user { ".*?" } else { "(?P<user>.*?)" });
            seen_user = true;
            rest = &rest[at + "{user}".len()..];
        } else {
            pat.push_str(if seen_password {
                ".+?"
            } else {
                "(?P<password>.+?)"
            });
            seen_password = true;
            rest = &rest[at + "{password}".len()..];
        }
    }
    pat.push('$');
    Regex::new(&pat).ok()
}

/// Replace each match's capture groups (or the whole match without groups) with `***`.
fn mask_matches(re: &Regex, text: &str) -> Option<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for c in re.captures_iter(text) {
        if c.len() > 1 {
            spans.extend(c.iter().skip(1).flatten().map(|m| (m.start(), m.end())));
        } else if let Some(m) = c.get(0) {
            spans.push((m.start(), m.end()));
        }
    }
    spans.retain(|(s, e)| e > s);
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(REDACTED);
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Which messages intercept holds: any predicate over the frame as it would be logged
/// ([`intercept_rule`] builds one from the monitor's filter syntax).
pub type InterceptRule = Arc<dyn Fn(&FrameRecord) -> bool + Send + Sync>;

/// The intercept rule of a filter in the monitor's syntax (`crate::monitor::filter`): text,
/// `"quoted text"`, `/regex/`, `re:…` and `op:…` terms, all of which must match, plus the
/// direction by the peer that sent the message: `dir:client` (also `dir:c2s`, `dir:out`) for
/// client→server, `dir:server` (`dir:s2c`, `dir:in`) for server→client. It is matched against
/// each text or binary message as it is logged: whole, inflated, a login's password already
/// `***`. Control frames are never held, so `op:ping` holds nothing. The empty filter holds
/// every message. `--intercept FILTER` and the UI's rule line both compile through here; the
/// error is one line for the status bar.
pub fn intercept_rule(filter: &str) -> Result<InterceptRule, FilterError> {
    let f = Filter::parse(filter)?;
    Ok(Arc::new(move |rec: &FrameRecord| {
        f.matches(rec.dir, rec.opcode, &rec.payload)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(template: &str, rules: &[&str]) -> Redaction {
        Redaction::new(
            template,
            Regex::new("congratulation").unwrap(),
            rules.iter().map(|r| Regex::new(r).unwrap()).collect(),
        )
    }

    #[test]
    fn login_ok_as_plain_text_or_as_a_regex_finds_the_same_replies() {
        let ok = |re: &str| Redaction::new("{user}:{password}", Regex::new(re).unwrap(), vec![]);
        let replies = [
            "congratulation, you're in",
            "Congratulation",
            "welcome admin!",
            "login ok: admin",
            "",
            "ok",
        ];
        for re in [
            "congratulation",
            "welcome admin!",
            "login ok:",
            "^ok$",
            "(?i)congrat",
            "o.",
            "a|b",
        ] {
            let p = ok(re);
            assert_eq!(
                p.login_ok_text.is_some(),
                !re.contains(['^', '(', '.', '|']),
                "{re}"
            );
            let regex = Regex::new(re).unwrap();
            for r in replies {
                assert_eq!(p.is_login_ok(r), regex.is_match(r), "{re:?} on {r:?}");
                assert_eq!(
                    p.is_login_ok_bytes(r.as_bytes()),
                    regex.is_match(r),
                    "{re:?} on {r:?}"
                );
            }
            let mut broken = b"congratulation \xff".to_vec();
            assert!(!p.is_login_ok_bytes(&broken), "not UTF-8: not text");
            broken.pop();
            assert_eq!(
                p.is_login_ok_bytes(&broken),
                regex.is_match("congratulation ")
            );
        }
    }

    #[test]
    fn the_seed_login_shows_the_user_and_hides_the_password() {
        let p = policy("{user}:{password}", &[]);
        let c2s = Direction::ClientToServer;
        assert_eq!(
            p.apply(c2s, "admin:123456", true).as_deref(),
            Some("admin:***")
        );
        assert_eq!(
            p.apply(c2s, "admin:12:34", true).as_deref(),
            Some("admin:***")
        );
        assert_eq!(p.apply(c2s, "admin:123456", false), None, "after login");
        assert_eq!(p.apply(Direction::ServerToClient, "a:b", true), None);
        assert_eq!(p.apply(c2s, "no colon", true), None);
        let json = policy(r#"{"u":"{user}","p":"{password}"}"#, &[]);
        assert_eq!(
            json.apply(c2s, r#"{"u":"bob","p":"s3cr.t"}"#, true)
                .as_deref(),
            Some(r#"{"u":"bob","p":"***"}"#)
        );
        assert_eq!(policy("{user} only", &[]).apply(c2s, "x only", true), None);
        assert!(Redaction::off().apply(c2s, "admin:123456", true).is_none());
    }

    #[test]
    fn intercept_rules_use_the_filter_syntax_with_the_sending_peer() {
        use crate::model::{Opcode, Origin};
        let rec = |dir, opcode, text: &str| FrameRecord {
            seq: 1,
            conn: 1,
            at: std::time::SystemTime::UNIX_EPOCH,
            dir,
            origin: Origin::Wire,
            opcode,
            len: text.len(),
            payload: bytes::Bytes::from(text.to_string()),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        };
        let (c2s, s2c) = (Direction::ClientToServer, Direction::ServerToClient);
        let rule = intercept_rule("dir:client order /id=\\d+/").unwrap();
        assert!(rule(&rec(c2s, Opcode::Text, "new Order id=42")));
        assert!(
            !rule(&rec(s2c, Opcode::Text, "new order id=42")),
            "the server sent it"
        );
        assert!(!rule(&rec(c2s, Opcode::Text, "order id=x")));
        let rule = intercept_rule("dir:s2c op:binary").unwrap();
        assert!(rule(&rec(s2c, Opcode::Binary, "")));
        assert!(!rule(&rec(s2c, Opcode::Text, "")));
        assert!(intercept_rule("").unwrap()(&rec(
            c2s,
            Opcode::Text,
            "anything"
        )));
        let e = intercept_rule("dir:sideways").err().unwrap();
        assert!(e.message.contains("unknown direction"), "{e}");
        assert!(intercept_rule("/unclosed").is_err());
    }

    #[test]
    fn redact_rules_hide_groups_or_whole_matches_both_ways() {
        let p = policy("{user}:{password}", &[r#"token=(\w+)"#, r"\d{16}"]);
        let s2c = Direction::ServerToClient;
        assert_eq!(
            p.apply(s2c, "token=abc card 1234567812345678 token=def", false)
                .as_deref(),
            Some("token=*** card *** token=***")
        );
        assert_eq!(p.apply(s2c, "nothing here", false), None);
        assert!(p.is_login_ok("congratulation, you have connect"));
    }
}
