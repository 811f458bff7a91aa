//! Hiding secrets before they reach the screen, a recording or an export: one policy, the
//! [`Masker`], applied once at each boundary.
//!
//! A `Masker` knows the secrets of one session (built from its [`ConnectSpec`]: the login
//! password and the login frame it fills in, the URL's password, the values of credential
//! headers the user gave, the Basic credential sent, the proxy's password) and replaces each
//! wherever it appears — in frames either peer sent, in header values, in error texts and in
//! URLs — with `***`. Without knowing a secret it still hides what can be recognised: the
//! values of credential headers (Authorization, Proxy-Authorization, Cookie, Set-Cookie) and
//! a URL's password.
//!
//! Where it is applied: the network task masks every event it reports with the file policy
//! ([`Masker::for_files`]: off with `--no-redact`), so recordings and `pipe`'s output get
//! masked events; the app masks every event it takes in with the screen policy
//! ([`Masker::for_spec`], always on), so nothing drawn holds a secret even with
//! `--no-redact`.
//!
//! Secrets shorter than [`MIN_SECRET_LEN`] bytes are not searched for in other text: masking
//! every `ab` of every frame would mangle what is shown without protecting anything a
//! guesser would not find at once (GitLab refuses to mask CI variables under 8 characters;
//! Azure Pipelines' agent skips short secrets for the same reason). Our own login frame is
//! still masked whole, however short its password.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

use crate::model::{ConnState, FrameRecord, HandshakeInfo, LoginOutcome, NetEvent};
use crate::reach::ProxyUrl;
use crate::spec::{AuthMethod, ConnectSpec, LoginRules};

/// What a hidden value is replaced with.
pub const REDACTED: &str = "***";

pub use crate::spec::is_secret_header;

/// Replace the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie with `***`.
pub fn redact_headers(headers: &mut [(String, String)]) {
    for (name, value) in headers.iter_mut() {
        if is_secret_header(name) && value != REDACTED {
            *value = REDACTED.to_string();
        }
    }
}

/// Secrets shorter than this many bytes are not searched for in other text (see the module
/// docs); the login frame itself is masked whatever its length.
pub const MIN_SECRET_LEN: usize = 4;

/// The one redaction policy: a session's secrets and what each is shown as. Cheap to clone.
#[derive(Clone, Default)]
pub struct Masker {
    /// `false`: masks nothing (`--no-redact`, for files).
    off: bool,
    /// What is searched for, and what it is replaced with (the login frame's text by its
    /// masked form, every other secret by `***`).
    pairs: Vec<(String, String)>,
    /// Whole texts replaced only when a payload is exactly this (a login frame too short to
    /// search for).
    whole: Vec<(String, String)>,
    /// The searcher over `pairs`, rebuilt when a secret is added.
    finder: Option<AhoCorasick>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets themselves.
        f.debug_struct("Masker")
            .field("off", &self.off)
            .field("secrets", &(self.pairs.len() + self.whole.len()))
            .finish()
    }
}

impl Masker {
    /// A masker that masks nothing (`--no-redact`).
    pub fn off() -> Masker {
        Masker {
            off: true,
            ..Masker::default()
        }
    }

    /// The screen's policy for a session opened with `spec`: every secret it holds, always.
    pub fn for_spec(spec: &ConnectSpec) -> Masker {
        let mut m = Masker::default();
        m.add_login(&spec.login, spec.auth, &spec.user, spec.password.expose());
        if let Some(pass) = url_password(&spec.url) {
            m.add_secret(pass);
            m.add_secret(&crate::reach::percent_decode(pass));
        }
        for (name, value) in &spec.headers {
            if is_secret_header(name) {
                m.add_header_value(name, value);
            }
        }
        if let crate::reach::ProxyChoice::Url(p) = &spec.proxy {
            m.add_proxy(p);
        }
        m
    }

    /// The files' policy: as [`Masker::for_spec`], or nothing with `--no-redact`.
    pub fn for_files(spec: &ConnectSpec) -> Masker {
        if spec.no_redact {
            Masker::off()
        } else {
            Masker::for_spec(spec)
        }
    }

    /// Masks nothing at all.
    pub fn is_off(&self) -> bool {
        self.off
    }

    /// A login with `password` (the first one, or a retry): its login frame and the password.
    pub fn add_login(&mut self, rules: &LoginRules, auth: AuthMethod, user: &str, password: &str) {
        if password.is_empty() {
            return;
        }
        self.add_secret(password);
        match auth {
            AuthMethod::FirstMessage => {
                let (real, shown) = rules.render(user, &crate::model::Secret::new(password));
                self.add_login_frame(&real, &shown);
            }
            AuthMethod::Basic => {
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                self.add_secret(&b64);
            }
            AuthMethod::Bearer | AuthMethod::None => {}
        }
    }

    /// A login frame as sent (`real`) and as shown (`shown`, its secrets `***`): replaced
    /// wherever it appears (only as a whole payload when shorter than [`MIN_SECRET_LEN`]).
    pub fn add_login_frame(&mut self, real: &str, shown: &str) {
        if real != shown {
            self.add_pair(real.to_string(), shown.to_string());
        }
    }

    /// The proxy's password and the Basic credential sent to it.
    pub fn add_proxy(&mut self, p: &ProxyUrl) {
        let password = p.password.expose();
        if password.is_empty() {
            return;
        }
        self.add_secret(password);
        if let Some(user) = &p.user {
            let b64 =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            self.add_secret(&b64);
        }
    }

    /// A credential header's value: the whole value, and for Authorization the credential
    /// after its scheme (`Bearer t0k3n` → `t0k3n`), for Cookie each `name=value`.
    pub fn add_header_value(&mut self, name: &str, value: &str) {
        let value = value.trim();
        self.add_secret(value);
        if name.trim().to_ascii_lowercase().ends_with("cookie") {
            for pair in value.split(';') {
                self.add_secret(pair.trim());
            }
        } else if let Some((_, cred)) = value.split_once(' ') {
            self.add_secret(cred.trim());
        }
    }

    /// One secret, shown as `***` wherever it appears (ignored below [`MIN_SECRET_LEN`]).
    pub fn add_secret(&mut self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN && secret != REDACTED {
            self.add_pair(secret.to_string(), REDACTED.to_string());
        }
    }

    fn add_pair(&mut self, find: String, shown: String) {
        if find.len() < MIN_SECRET_LEN {
            if !self.whole.iter().any(|(f, _)| *f == find) {
                self.whole.push((find, shown));
            }
            return;
        }
        if self.pairs.iter().any(|(f, _)| *f == find) {
            return;
        }
        self.pairs.push((find, shown));
        self.finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(self.pairs.iter().map(|(f, _)| f))
            .ok();
    }

    /// No secret to look for (frames pass as they are: only handshakes are masked, by
    /// header name).
    fn knows_nothing(&self) -> bool {
        self.whole.is_empty() && self.finder.is_none()
    }

    /// `text` with every known secret replaced (borrowed when there is none).
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.off {
            return Cow::Borrowed(text);
        }
        if let Some((_, shown)) = self.whole.iter().find(|(f, _)| f == text) {
            return Cow::Owned(shown.clone());
        }
        let Some(finder) = &self.finder else {
            return Cow::Borrowed(text);
        };
        if !finder.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        finder.replace_all_with(text, &mut out, |m, _, dst| {
            dst.push_str(&self.pairs[m.pattern().as_usize()].1);
            true
        });
        Cow::Owned(out)
    }

    /// `bytes` (a binary payload, or text that is not UTF-8) with every known secret
    /// replaced.
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.off {
            return Cow::Borrowed(bytes);
        }
        if let Some((_, shown)) = self.whole.iter().find(|(f, _)| f.as_bytes() == bytes) {
            return Cow::Owned(shown.as_bytes().to_vec());
        }
        let Some(finder) = &self.finder else {
            return Cow::Borrowed(bytes);
        };
        if !finder.is_match(bytes) {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len());
        finder.replace_all_with_bytes(bytes, &mut out, |m, _, dst| {
            dst.extend_from_slice(self.pairs[m.pattern().as_usize()].1.as_bytes());
            true
        });
        Cow::Owned(out)
    }

    /// A URL as it may be shown: its password and any known secret hidden.
    pub fn url<'a>(&self, url: &'a str) -> Cow<'a, str> {
        if self.off {
            return Cow::Borrowed(url);
        }
        match redact_url(url) {
            Cow::Borrowed(u) => self.text(u),
            Cow::Owned(u) => Cow::Owned(self.text(&u).into_owned()),
        }
    }

    fn string(&self, s: &mut String) {
        if let Cow::Owned(m) = self.text(s) {
            *s = m;
        }
    }

    /// A frame's payload (and close reason) masked; `redacted` set when something was hidden.
    /// The length stays the wire's.
    pub fn frame(&self, f: &mut FrameRecord) {
        if self.off || self.knows_nothing() {
            return;
        }
        if let Cow::Owned(p) = self.bytes(&f.payload) {
            f.payload = p.into();
            f.redacted = true;
        }
        if let Some(c) = f.close.as_mut() {
            self.string(&mut c.reason);
        }
    }

    /// Both heads: credential headers by name, known secrets in any value or start line,
    /// the URL's password, the proxy's.
    pub fn handshake(&self, h: &mut HandshakeInfo) {
        if self.off {
            return;
        }
        for head in [&mut h.request, &mut h.response] {
            redact_headers(&mut head.headers);
            self.string(&mut head.start_line);
            for (_, value) in head.headers.iter_mut() {
                self.string(value);
            }
        }
        if let Cow::Owned(u) = self.url(&h.url) {
            h.url = u;
        }
        if let Some(p) = h.proxy.as_mut()
            && let Cow::Owned(u) = self.url(p)
        {
            *p = u;
        }
    }

    /// The texts a state carries (an error, a close reason, why a reconnect happens).
    pub fn state(&self, s: &mut ConnState) {
        if self.off {
            return;
        }
        match s {
            ConnState::Failed(e) => self.string(&mut e.message),
            ConnState::Closed { reason, .. } | ConnState::Reconnecting { reason, .. } => {
                self.string(reason)
            }
            _ => {}
        }
    }

    /// Everything an event carries.
    pub fn event(&self, ev: &mut NetEvent) {
        if self.off {
            return;
        }
        match ev {
            NetEvent::State(s) => self.state(s),
            NetEvent::Handshake(h) => self.handshake(h),
            NetEvent::Frame(f) => self.frame(f),
            NetEvent::Login(
                LoginOutcome::Accepted { reply } | LoginOutcome::Rejected { reply },
            ) => self.string(reply),
            NetEvent::Notice { text, .. } => self.string(text),
            NetEvent::Rtt(_) | NetEvent::Ended => {}
        }
    }
}

/// The password of a URL's user info, as written.
fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, pass) = userinfo.split_once(':')?;
    (!pass.is_empty()).then_some(pass)
}

pub use crate::reach::redact_url;

/// Redact both heads' credential headers and the URL's password.
pub fn redact_handshake(h: &mut HandshakeInfo) {
    redact_headers(&mut h.request.headers);
    redact_headers(&mut h.response.headers);
    if let Cow::Owned(u) = redact_url(&h.url) {
        h.url = u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    #[test]
    fn credential_headers_are_hidden_in_any_case() {
        let mut hs = vec![
            h("Authorization", "Basic YWRtaW46MTIzNDU2"),
            h("proxy-AUTHORIZATION", "Bearer t0k3n"),
            h("COOKIE", "sid=abc"),
            h("Set-Cookie", "sid=abc; HttpOnly"),
            h("Host", "example.com"),
            h("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        redact_headers(&mut hs);
        let values: Vec<&str> = hs.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "***",
                "***",
                "***",
                "***",
                "example.com",
                "dGhlIHNhbXBsZSBub25jZQ=="
            ]
        );
    }

    #[test]
    fn url_password_is_hidden_but_user_and_path_stay() {
        assert_eq!(
            redact_url("wss://admin:123456@example.com:8443/chat?x=1"),
            "wss://admin:***@example.com:8443/chat?x=1"
        );
        assert_eq!(
            redact_url("ws://a:b@c@host/p@q"),
            "ws://a:***@host/p@q",
            "the last @ of the authority ends the user info; @ in the path is not user info"
        );
        assert!(matches!(
            redact_url("ws://127.0.0.1:5678/path@x"),
            Cow::Borrowed(_)
        ));
        assert_eq!(redact_url("ws://user@host/"), "ws://user@host/");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn handshake_redaction_covers_both_heads_and_url() {
        let mut hs = HandshakeInfo {
            url: "ws://u:pw@h/".into(),
            ..Default::default()
        };
        hs.request.headers.push(h("Authorization", "Bearer secret"));
        hs.response.headers.push(h("Set-Cookie", "s=secret"));
        redact_handshake(&mut hs);
        let dump = format!("{hs:?}");
        assert!(!dump.contains("secret") && !dump.contains("pw"), "{dump}");
    }

    fn spec() -> ConnectSpec {
        let mut spec = ConnectSpec::new("ws://ops:hunter%32@h/");
        spec.user = "ops".into();
        spec.password = crate::model::Secret::new("S3cr3t-Pa55word");
        spec.headers = vec![
            h("Cookie", "sid=c00kie; theme=dark"),
            h("Authorization", "Bearer t0k3n"),
        ];
        spec
    }

    #[test]
    fn every_secret_of_a_spec_is_masked_wherever_it_appears() {
        let m = Masker::for_spec(&spec());
        assert_eq!(m.text("echo: ops:S3cr3t-Pa55word"), "echo: ops:***");
        assert_eq!(m.text("pw S3cr3t-Pa55word again"), "pw *** again");
        // The URL's password as written and percent-decoded.
        assert_eq!(m.text("hunter%32 / hunter2"), "*** / ***");
        assert_eq!(
            m.text("you sent t0k3n and sid=c00kie"),
            "you sent *** and ***"
        );
        assert_eq!(m.text("Bearer t0k3n"), "***");
        // A cookie's harmless neighbour is not a secret on its own.
        assert_eq!(m.text("dark mode"), "dark mode");
        assert_eq!(m.text("theme=dark"), "***", "a cookie the user sent");
        assert!(matches!(m.text("nothing here"), Cow::Borrowed(_)));
        assert_eq!(&*m.bytes(b"\x00S3cr3t-Pa55word\xff"), b"\x00***\xff");
        assert_eq!(m.url("ws://ops:hunter%32@h/"), "ws://ops:***@h/");
    }

    #[test]
    fn short_secrets_are_masked_only_as_the_whole_login_frame() {
        let mut spec = ConnectSpec::new("ws://h/");
        spec.user = "ops".into();
        spec.password = crate::model::Secret::new("ab");
        let m = Masker::for_spec(&spec);
        // "ops:ab" is long enough to be searched for; "ab" alone is not.
        assert_eq!(m.text("echo: ops:ab"), "echo: ops:***");
        assert_eq!(m.text("a cab and a crab"), "a cab and a crab");
        spec.login.template = "{password}".into();
        let m = Masker::for_spec(&spec);
        assert_eq!(m.text("ab"), "***", "the login frame itself");
        assert_eq!(m.text("ab ab"), "ab ab");
    }

    #[test]
    fn basic_credentials_and_the_proxy_password_are_masked() {
        let mut spec = spec();
        spec.auth = AuthMethod::Basic;
        spec.proxy = crate::reach::ProxyChoice::Url(
            ProxyUrl::parse("http://alice:pr0xy-pw@p:3128").unwrap(),
        );
        let m = Masker::for_spec(&spec);
        let basic = base64::engine::general_purpose::STANDARD.encode("ops:S3cr3t-Pa55word");
        let proxy = base64::engine::general_purpose::STANDARD.encode("alice:pr0xy-pw");
        let text = format!("{basic} {proxy} pr0xy-pw");
        assert_eq!(m.text(&text), "*** *** ***");
    }

    #[test]
    fn events_are_masked_whole_and_off_masks_nothing() {
        let m = Masker::for_spec(&spec());
        let mut f = FrameRecord {
            seq: 1,
            conn: 1,
            at: std::time::UNIX_EPOCH,
            dir: crate::model::Direction::ServerToClient,
            origin: Default::default(),
            opcode: crate::model::Opcode::Text,
            len: 25,
            payload: "echo: ops:S3cr3t-Pa55word".into(),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        };
        let clear = f.clone();
        m.frame(&mut f);
        assert_eq!(
            (&f.payload[..], f.redacted, f.len),
            (&b"echo: ops:***"[..], true, 25)
        );
        let mut hs = HandshakeInfo {
            url: "ws://ops:hunter%32@h/".into(),
            ..Default::default()
        };
        hs.response.headers.push(h("X-Seen", "sid=c00kie"));
        hs.response.headers.push(h("Set-Cookie", "other=1"));
        let mut ev = NetEvent::Handshake(Box::new(hs));
        m.event(&mut ev);
        let dump = format!("{ev:?}");
        assert!(!dump.contains("c00kie") && !dump.contains("hunter") && !dump.contains("other=1"));
        let mut ev = NetEvent::Frame(clear.clone());
        Masker::off().event(&mut ev);
        assert!(matches!(ev, NetEvent::Frame(f) if f == clear));
        let mut spec = spec();
        spec.no_redact = true;
        assert!(Masker::for_files(&spec).is_off() && !Masker::for_spec(&spec).is_off());
    }
}
