//! What the proxy hides and what it holds, decided per message.
//!
//! The proxy never knows a password, so it masks by shape: a client→server text message of
//! the `--login-template` shape (`{user}:{password}` by default), sent before the server's
//! first reply matching `--login-ok` after such a message, shows `{user}:***`; every
//! `--redact REGEX` match (its capture groups, if it has any, else the whole match) shows
//! `***`, both ways, all along.

use std::sync::Arc;

use regex::Regex;

use crate::model::{Direction, FrameRecord, Opcode};
use crate::monitor::filter::{Filter, FilterError};
use crate::record::REDACTED;

/// Where a connection is in its login, as the redaction follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum LoginPhase {
    /// No login-shaped message from the client yet. Server messages are not searched for
    /// `--login-ok` (a banner that happens to match ends nothing), which also spares a
    /// client that never logs in (a flood) the search on every message.
    #[default]
    Before = 0,
    /// The client sent a login-shaped message (masked): the server's next reply matching
    /// `--login-ok` ends the phase.
    Sent = 1,
    /// The server accepted a login: nothing more is masked by shape.
    Done = 2,
}

/// What the redaction of one connection remembers: where its login is, the last login
/// message the client sent (shown with `***` wherever it comes again, a server echoing it),
/// and the passwords the server accepted, masked wherever they appear afterwards, both ways
/// (the user typing the password again, its echo), once they are [`MIN_SECRET`]
/// characters or more. A refused password is not hidden outside its login message (the
/// server's "the password is wrong" keeps its word "wrong").
#[derive(Debug, Clone, Default)]
pub struct LoginState {
    pub phase: LoginPhase,
    /// The last login message: its text and its masked form.
    last_login: Option<(String, String)>,
    secrets: Vec<String>,
}

/// The shortest accepted password that is masked wherever it appears (a shorter one would
/// mask every "1" or "ab" in the traffic); the login message itself always shows `***`.
pub const MIN_SECRET: usize = 4;

impl LoginState {
    /// Nothing to look for beyond the phase (no login seen).
    pub fn knows_no_secret(&self) -> bool {
        self.last_login.is_none() && self.secrets.is_empty()
    }

    /// The server accepted the login last sent: its password is a secret from now on.
    fn accepted(&mut self, password: Option<&str>) {
        if let Some(pw) = password
            && pw.chars().count() >= MIN_SECRET
            && !self.secrets.iter().any(|s| s == pw)
        {
            self.secrets.push(pw.to_string());
        }
    }

    /// `text` with the last login message and every accepted password as `***` (`None`:
    /// none in it).
    fn mask(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        if let Some((login, shown)) = &self.last_login
            && text.contains(login.as_str())
        {
            out = Some(text.replace(login.as_str(), shown));
        }
        for secret in &self.secrets {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(secret.as_str()) {
                out = Some(cur.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }
}

impl LoginPhase {
    /// The phase stored as `phase as u8`.
    pub fn from_u8(n: u8) -> LoginPhase {
        match n {
            0 => LoginPhase::Before,
            1 => LoginPhase::Sent,
            _ => LoginPhase::Done,
        }
    }
}

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

    /// Hide what the policy hides in a text message `rec` of a connection whose login is at
    /// `st` (moved on here: a login-shaped message from the client and its password, the
    /// server accepting it).
    pub fn redact(&self, rec: &mut FrameRecord, st: &mut LoginState) {
        if rec.opcode != Opcode::Text {
            return;
        }
        let from_server = rec.dir == Direction::ServerToClient;
        if from_server && !self.may_change_server_text() && st.knows_no_secret() {
            // No login seen yet (one sets `last_login`): nothing in what the server says is
            // hidden or looked for.
            return;
        }
        let Ok(text) = std::str::from_utf8(&rec.payload) else {
            return;
        };
        if from_server && st.phase == LoginPhase::Sent && self.is_login_ok(text) {
            st.phase = LoginPhase::Done;
            let password = (st.last_login.as_ref())
                .and_then(|(l, _)| self.password_of(l))
                .map(str::to_string);
            st.accepted(password.as_deref());
        }
        let (mut shown, password) = self.masked(rec.dir, text, st.phase != LoginPhase::Done);
        if password.is_some() {
            st.phase = LoginPhase::Sent;
            if let Some(s) = &shown {
                st.last_login = Some((text.to_string(), s.clone()));
            }
        } else if self.enabled
            && let Some(m) = st.mask(shown.as_deref().unwrap_or(text))
        {
            shown = Some(m);
        }
        if let Some(shown) = shown {
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
        self.masked(dir, text, login_phase).0
    }

    /// The password in a login message (`None`: not of the login's shape).
    fn password_of<'t>(&self, text: &'t str) -> Option<&'t str> {
        let c = self.login.as_ref()?.captures(text)?;
        c.name("password").map(|m| m.as_str())
    }

    /// [`Redaction::apply`], and the password when `text` was a login (masked in it).
    fn masked<'t>(
        &self,
        dir: Direction,
        text: &'t str,
        login_phase: bool,
    ) -> (Option<String>, Option<&'t str>) {
        if !self.enabled {
            return (None, None);
        }
        let mut out: Option<String> = None;
        let mut password = None;
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
            password = Some(pw.as_str());
        }
        for re in &self.rules {
            let cur = out.as_deref().unwrap_or(text);
            if let Some(masked) = mask_matches(re, cur) {
                out = Some(masked);
            }
        }
        (out, password)
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

    /// A text message of `dir` through `p` with the connection's login at `st`, as shown.
    fn shown(p: &Redaction, st: &mut LoginState, dir: Direction, text: &str) -> String {
        let mut rec = FrameRecord {
            seq: 1,
            conn: 1,
            at: std::time::SystemTime::UNIX_EPOCH,
            dir,
            origin: crate::model::Origin::Wire,
            opcode: Opcode::Text,
            len: text.len(),
            payload: bytes::Bytes::copy_from_slice(text.as_bytes()),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        };
        p.redact(&mut rec, st);
        assert_eq!(rec.redacted, rec.payload != text.as_bytes(), "{text:?}");
        String::from_utf8(rec.payload.to_vec()).unwrap()
    }

    #[test]
    fn the_login_phase_ends_only_when_the_server_accepts_a_login_the_client_sent() {
        let p = policy("{user}:{password}", &[]);
        let (c2s, s2c) = (Direction::ClientToServer, Direction::ServerToClient);
        let mut st = LoginState::default();
        // A banner that reads like an acceptance, before any login, ends nothing.
        shown(&p, &mut st, s2c, "congratulation on finding us; log in");
        assert_eq!(st.phase, LoginPhase::Before);
        assert_eq!(shown(&p, &mut st, c2s, "admin:wrong"), "admin:***");
        assert_eq!(st.phase, LoginPhase::Sent);
        shown(
            &p,
            &mut st,
            s2c,
            "sorry, the username or password is wrong, please try again",
        );
        assert_eq!(st.phase, LoginPhase::Sent, "a refusal keeps the phase");
        assert_eq!(shown(&p, &mut st, c2s, "admin:123456"), "admin:***");
        shown(
            &p,
            &mut st,
            s2c,
            "congratulation, you have connect with server...",
        );
        assert_eq!(st.phase, LoginPhase::Done);
        assert_eq!(
            shown(&p, &mut st, c2s, "note:to self"),
            "note:to self",
            "after the login, text of that shape is shown as typed"
        );
        // With a --redact rule, the server's text is read as text: the same phases.
        let r = policy("{user}:{password}", &["token=(\\w+)"]);
        let mut st = LoginState::default();
        assert_eq!(
            shown(&r, &mut st, s2c, "congratulation token=abc"),
            "congratulation token=***"
        );
        assert_eq!(st.phase, LoginPhase::Before);
        assert_eq!(shown(&r, &mut st, c2s, "bob:pw"), "bob:***");
        shown(&r, &mut st, s2c, "congratulation");
        assert_eq!(st.phase, LoginPhase::Done);
        // Nothing is masked with redaction off, and the phase never starts.
        let mut st = LoginState::default();
        assert_eq!(
            shown(&Redaction::off(), &mut st, c2s, "admin:123456"),
            "admin:123456"
        );
        assert_eq!(st.phase, LoginPhase::Before);
        assert_eq!(
            LoginPhase::from_u8(LoginPhase::Sent as u8),
            LoginPhase::Sent
        );
        assert_eq!(
            LoginPhase::from_u8(LoginPhase::Done as u8),
            LoginPhase::Done
        );
    }

    #[test]
    fn a_login_and_its_accepted_password_are_masked_wherever_they_come_again_both_ways() {
        let p = policy("{user}:{password}", &[]);
        let (c2s, s2c) = (Direction::ClientToServer, Direction::ServerToClient);
        let mut st = LoginState::default();
        assert_eq!(shown(&p, &mut st, c2s, "admin:wrong"), "admin:***");
        // A refused password stays visible outside its login (the server's own words).
        assert_eq!(
            shown(&p, &mut st, s2c, "sorry, the username or password is wrong"),
            "sorry, the username or password is wrong"
        );
        assert_eq!(shown(&p, &mut st, c2s, "admin:123456"), "admin:***");
        // A server echoing the login, before it accepts.
        assert_eq!(
            shown(&p, &mut st, s2c, "tls echo: admin:123456"),
            "tls echo: admin:***"
        );
        shown(
            &p,
            &mut st,
            s2c,
            "congratulation, you have connect with server...",
        );
        assert_eq!(st.phase, LoginPhase::Done);
        // The user typing it again once logged in, and the seed server's echo of that.
        assert_eq!(shown(&p, &mut st, c2s, "admin:123456"), "admin:***");
        assert_eq!(
            shown(&p, &mut st, s2c, "your submit context: 123456 and 123456"),
            "your submit context: *** and ***"
        );
        assert_eq!(shown(&p, &mut st, c2s, "hello"), "hello");
        // An accepted password under MIN_SECRET characters is masked in its login only
        // (else every "ab" in the traffic would be).
        let mut st = LoginState::default();
        assert_eq!(shown(&p, &mut st, c2s, "bob:ab"), "bob:***");
        shown(&p, &mut st, s2c, "congratulation");
        assert_eq!(shown(&p, &mut st, s2c, "about tabs"), "about tabs");
        assert_eq!(shown(&p, &mut st, s2c, "echo bob:ab"), "echo bob:***");
        // With redaction off nothing is remembered or masked.
        let mut st = LoginState::default();
        let off = Redaction::off();
        shown(&off, &mut st, c2s, "admin:123456");
        assert_eq!(shown(&off, &mut st, s2c, "echo 123456"), "echo 123456");
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
