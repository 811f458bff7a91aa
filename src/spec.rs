//! The domain of a client session: what to connect to and how to log in (`ConnectSpec`),
//! checked input (URLs, headers, intervals) and how command-line flags lay over a profile.
//! Nothing here knows clap's argument types, the config file or the UI.

use std::time::Duration;

use regex::Regex;

use crate::model::Secret;
use crate::reach::{ProxyChoice, Trust};

/// How the client proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMethod {
    /// The seed's way: the first text frame carries `user:password`.
    #[default]
    FirstMessage,
    /// HTTP Basic credentials in the handshake's Authorization header.
    Basic,
    /// `Authorization: Bearer <password>` in the handshake.
    Bearer,
    /// No login at all.
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::FirstMessage,
        AuthMethod::Basic,
        AuthMethod::Bearer,
        AuthMethod::None,
    ];
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::FirstMessage => "first-message",
            AuthMethod::Basic => "basic",
            AuthMethod::Bearer => "bearer",
            AuthMethod::None => "none",
        }
    }
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|a| *a == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
    pub fn prev(self) -> Self {
        let i = Self::ALL.iter().position(|a| *a == self).unwrap_or(0);
        Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

/// How a first-message login is sent and judged.
#[derive(Debug, Clone)]
pub struct LoginRules {
    /// Text of the login frame; `{user}` and `{password}` are replaced.
    pub template: String,
    /// A reply matching this accepts the login (checked first).
    pub ok: Regex,
    /// A reply matching this rejects it.
    pub fail: Regex,
    /// No matching reply within this long fails the login (and, with `after`, no matching
    /// greeting).
    pub timeout: Duration,
    /// `--login-after`: wait for a server message matching this before logging in; its
    /// capture groups fill `{1}`, `{name}` in the template.
    pub after: Option<Regex>,
}

use crate::template::{Groups, Template, TemplateError};

pub const DEFAULT_LOGIN_TEMPLATE: &str = "{user}:{password}";
pub const DEFAULT_LOGIN_OK: &str = "congratulation";
pub const DEFAULT_LOGIN_FAIL: &str = "sorry|wrong";
pub const DEFAULT_URL: &str = "ws://127.0.0.1:5678";

impl Default for LoginRules {
    fn default() -> Self {
        LoginRules {
            template: DEFAULT_LOGIN_TEMPLATE.to_string(),
            ok: Regex::new(DEFAULT_LOGIN_OK).expect("valid default regex"),
            fail: Regex::new(DEFAULT_LOGIN_FAIL).expect("valid default regex"),
            timeout: Duration::from_secs(10),
            after: None,
        }
    }
}

impl LoginRules {
    /// The template, parsed with `after`'s group names.
    pub fn parsed(&self) -> Result<Template, TemplateError> {
        let names: Vec<&str> = self
            .after
            .iter()
            .flat_map(|re| re.capture_names().flatten())
            .collect();
        Template::parse(&self.template, &names)
    }

    /// Whether the template needs a user name (`{user}`).
    pub fn uses_user(&self) -> bool {
        self.parsed().map_or(true, |t| t.uses_user())
    }

    /// The template can be filled: its escapes are known, its groups come from `after`.
    pub fn check(&self) -> Result<(), TemplateError> {
        let t = self.parsed()?;
        if t.uses_groups() && self.after.is_none() {
            return Err(TemplateError(
                "the login template uses a group ({1}, {name}): add --login-after REGEX to \
                 capture it from the server's greeting"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The login frame's text and its redacted form (no greeting groups).
    pub fn render(&self, user: &str, password: &Secret) -> (String, String) {
        self.render_with(user, password, &Groups::default())
            .unwrap_or_else(|_| (self.template.clone(), self.template.clone()))
    }

    /// [`LoginRules::render`] with the greeting's capture groups.
    pub fn render_with(
        &self,
        user: &str,
        password: &Secret,
        groups: &Groups,
    ) -> Result<(String, String), TemplateError> {
        let t = self.parsed()?;
        let real = t.render(user, password.expose(), groups)?;
        let shown = t.render(user, "***", groups)?;
        Ok((real, shown))
    }

    /// Judge a reply: `Some(true)` accepted, `Some(false)` rejected, `None` not a login reply.
    pub fn judge(&self, reply: &str) -> Option<bool> {
        if self.ok.is_match(reply) {
            Some(true)
        } else if self.fail.is_match(reply) {
            Some(false)
        } else {
            None
        }
    }
}

/// Everything the network task needs to open one session.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub url: String,
    pub user: String,
    pub password: Secret,
    pub auth: AuthMethod,
    pub login: LoginRules,
    /// Extra handshake headers (`-H 'Name: value'`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols asked for, in order of preference (`Sec-WebSocket-Protocol`).
    pub subprotocols: Vec<String>,
    /// Offer permessage-deflate (`--no-compression` turns it off).
    pub compression: bool,
    /// Largest message accepted, inflated (`--max-message`); bigger ones close with 1009.
    pub max_message: usize,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Trusted CAs and the client certificate (`--cacert`, `--cert`, `--key`).
    pub trust: Trust,
    /// The proxy to go through (`--proxy`, `--no-proxy`, else the environment).
    pub proxy: ProxyChoice,
    /// Show secrets in frames and handshake headers (`--no-redact`).
    pub no_redact: bool,
    /// Bound on TCP connect + TLS + HTTP upgrade.
    pub connect_timeout: Duration,
    /// Bound on waiting for the server's Close reply.
    pub close_timeout: Duration,
    /// After an unexpected drop of a logged-in session, reconnect (with backoff) and log in
    /// again (`--no-reconnect` turns it off).
    pub reconnect: bool,
    /// Give up after this many reconnect tries in a row (`--reconnect-max`); `None`: keep
    /// trying until cancelled.
    pub reconnect_max: Option<u32>,
    /// Send a protocol ping this often (`--ping-interval`; `None` = no pings).
    pub ping_interval: Option<Duration>,
    /// With pings on, a connection that received nothing (no pong, no frame) for this long
    /// counts as lost. `None`: twice the ping interval, at least 10 s.
    pub ping_timeout: Option<Duration>,
    /// Frames sent after every (re)connect and login, before queued lines.
    pub on_connect: Vec<crate::openings::Opening>,
    /// Server messages the network task answers by itself.
    pub auto_replies: Vec<crate::openings::AutoReply>,
    /// The server's answer the openings wait for before anything else is sent (a preset's).
    pub opening_ack: Option<crate::openings::OpeningAck>,
    /// Follow redirects of the upgrade (`--location`, at most 10); off: a redirect is a
    /// refusal that names its `Location`.
    pub location: bool,
}

impl ConnectSpec {
    pub fn new(url: impl Into<String>) -> Self {
        ConnectSpec {
            url: url.into(),
            user: String::new(),
            password: Secret::default(),
            auth: AuthMethod::FirstMessage,
            login: LoginRules::default(),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            insecure: false,
            trust: Trust::default(),
            proxy: ProxyChoice::default(),
            no_redact: false,
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            reconnect: true,
            reconnect_max: None,
            ping_interval: Some(DEFAULT_PING_INTERVAL),
            ping_timeout: None,
            compression: true,
            max_message: DEFAULT_MAX_MESSAGE,
            on_connect: Vec::new(),
            auto_replies: Vec::new(),
            opening_ack: None,
            location: false,
        }
    }

    /// The silence after which a pinged connection counts as lost (`None` without pings).
    pub fn effective_ping_timeout(&self) -> Option<Duration> {
        let every = self.ping_interval.filter(|d| !d.is_zero())?;
        Some(
            self.ping_timeout
                .unwrap_or_else(|| (every * 2).max(MIN_DEFAULT_PING_TIMEOUT)),
        )
    }
}

/// Default `--max-message`: what browsers take in practice.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 20;

pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(20);
/// The default ping timeout is twice the interval, but never less than this.
pub const MIN_DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the password for `connect`/`pipe` comes from when not typed.
pub const PASSWORD_ENV: &str = "WSDECK_PASSWORD";

/// `--ping-interval SECONDS`: 0 turns pings off; fractions are allowed (at least 10 ms).
pub fn ping_interval(secs: f64) -> anyhow::Result<Option<std::time::Duration>> {
    use anyhow::bail;
    if !secs.is_finite() || secs < 0.0 {
        bail!("--ping-interval must be a number of seconds, 0 or more (0 = off), not {secs}");
    }
    if secs == 0.0 {
        return Ok(None);
    }
    if !(0.01..=86_400.0).contains(&secs) {
        bail!("--ping-interval must be between 0.01 and 86400 seconds (or 0 = off), not {secs}");
    }
    Ok(Some(std::time::Duration::from_secs_f64(secs)))
}

/// Accept `ws://` and `wss://` URLs with a host; the message says what is wrong otherwise.
pub fn validate_url(url: &str) -> anyhow::Result<String> {
    use anyhow::bail;
    let url = url.trim();
    // `localhost:5678` is taken as `ws://localhost:5678`, as wscat does.
    let with_scheme;
    let url = if !url.is_empty() && !url.contains("://") && !url.starts_with('/') {
        with_scheme = format!("ws://{url}");
        with_scheme.as_str()
    } else {
        url
    };
    // The message quotes the URL with its password masked.
    let shown = crate::reach::redact_url(url);
    let uri: http::Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => bail!("bad URL {shown:?}: {e}"),
    };
    match uri.scheme_str() {
        Some("ws") | Some("wss") => {}
        Some(other) => bail!("bad URL {shown:?}: scheme must be ws:// or wss://, not {other}://"),
        None => bail!("bad URL {shown:?}: it must start with ws:// or wss://"),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => {}
        _ => bail!("bad URL {shown:?}: no host"),
    }
    Ok(url.to_string())
}

/// Headers whose values are credentials (any letter case): masked wherever they are shown.
pub const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// True for Authorization, Proxy-Authorization, Cookie and Set-Cookie (any letter case).
pub fn is_secret_header(name: &str) -> bool {
    let name = name.trim();
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Parse `Name: value` into a header pair, checking the name is a valid HTTP token.
pub fn parse_header(h: &str) -> anyhow::Result<(String, String)> {
    use anyhow::bail;
    let Some((name, value)) = h.split_once(':') else {
        // `Authorization Bearer x`: the credential is not quoted back.
        let shown = match h.split_whitespace().next() {
            Some(first) if is_secret_header(first) => format!("{first} ***"),
            _ => h.to_string(),
        };
        bail!("bad header {shown:?}: expected 'Name: value'");
    };
    let name = name.trim();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() || name.is_empty() {
        bail!("bad header {h:?}: {name:?} is not a valid header name");
    }
    let value = value.trim();
    if http::HeaderValue::from_str(value).is_err() {
        // A credential's value is not quoted back.
        let shown = if is_secret_header(name) {
            format!("{name}: ***")
        } else {
            h.to_string()
        };
        bail!("bad header {shown:?}: the value has characters a header cannot carry");
    }
    Ok((name.to_string(), value.to_string()))
}

/// A `--subprotocol` value that a server could not compare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSubprotocol {
    #[error("{0:?} has an empty name")]
    Empty(String),
    #[error("{0:?} is not a valid subprotocol name (letters, digits and !#$%&'*+-.^_`|~ only)")]
    NotToken(String),
}

/// Subprotocol names from repeated values and comma lists (`chat, superchat`), in order,
/// without repeats. Each must be an HTTP token (RFC 6455 §4.1), as a server compares them.
pub fn parse_subprotocols(values: &[String]) -> Result<Vec<String>, BadSubprotocol> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        for name in v.split(',').map(str::trim) {
            if name.is_empty() {
                return Err(BadSubprotocol::Empty(v.clone()));
            }
            let token = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(BadSubprotocol::NotToken(name.to_string()));
            }
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
    }
    Ok(out)
}

/// `first-message`, `basic`, `bearer` or `none` (any case), as in a profile's `auth`.
pub fn parse_auth(a: &str) -> anyhow::Result<AuthMethod> {
    <AuthMethod as clap::ValueEnum>::from_str(a, true)
        .map_err(|_| anyhow::anyhow!("auth {a:?} is not one of first-message, basic, bearer, none"))
}

/// What the command line says about a session, laid over a profile's spec (or the defaults)
/// by [`Overrides::apply`]: every `Some`/`true` wins, everything else keeps the base value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub auth: Option<AuthMethod>,
    pub login_template: Option<String>,
    pub login_ok: Option<String>,
    pub login_fail: Option<String>,
    pub login_after: Option<String>,
    /// Seconds.
    pub login_timeout: Option<f64>,
    /// `--on-connect TEXT`, then `--on-connect-hex HEX` frames.
    pub on_connect: Vec<String>,
    pub on_connect_hex: Vec<String>,
    /// `--auto-reply REGEX=REPLY`.
    pub auto_replies: Vec<String>,
    pub preset: Option<crate::openings::Preset>,
    /// `Name: value` lines, added after the profile's headers.
    pub headers: Vec<String>,
    /// `--subprotocol` values (each may be a comma list); given, they replace the profile's.
    pub subprotocols: Vec<String>,
    pub insecure: bool,
    /// `--cacert`, `--cert`, `--key`: each given one replaces the profile's.
    pub trust: Trust,
    /// `--proxy URL`, over the profile's `proxy` and the environment.
    pub proxy: Option<String>,
    /// `--no-proxy`: straight to the server.
    pub no_proxy: bool,
    pub no_redact: bool,
    pub no_compression: bool,
    pub max_message: Option<usize>,
    pub no_reconnect: bool,
    /// `--reconnect-max N`: give up after N tries in a row (0: do not reconnect).
    pub reconnect_max: Option<u32>,
    /// Seconds; 0 turns pings off.
    pub ping_interval: Option<f64>,
    /// `--location`: follow redirects of the upgrade.
    pub location: bool,
}

impl Overrides {
    /// Check each value and lay it over `spec`; the message names the flag that is wrong.
    pub fn apply(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        self.apply_login(spec)?;
        self.apply_openings(spec)?;
        self.apply_login_timeout(spec)?;
        self.apply_handshake(spec)?;
        self.apply_reach(spec)?;
        self.apply_session(spec)
    }

    /// The user, the auth method, the login template and its patterns.
    fn apply_login(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        use anyhow::Context;
        if let Some(u) = &self.user {
            spec.user = u.clone();
        }
        if let Some(a) = self.auth {
            spec.auth = a;
        }
        if let Some(t) = &self.login_template {
            spec.login.template = t.clone();
        }
        if let Some(re) = &self.login_ok {
            spec.login.ok =
                Regex::new(re).with_context(|| format!("--login-ok is not a valid regex: {re}"))?;
        }
        if let Some(re) = &self.login_fail {
            spec.login.fail = Regex::new(re)
                .with_context(|| format!("--login-fail is not a valid regex: {re}"))?;
        }
        if let Some(re) = &self.login_after {
            spec.login.after = Some(
                Regex::new(re)
                    .with_context(|| format!("--login-after is not a valid regex: {re}"))?,
            );
        }
        Ok(())
    }

    /// The on-connect frames, the auto-replies and the preset's.
    fn apply_openings(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        for t in &self.on_connect {
            spec.on_connect.push(crate::openings::Opening {
                opcode: crate::model::Opcode::Text,
                payload: t.clone().into_bytes(),
            });
        }
        for h in &self.on_connect_hex {
            let payload = crate::codec::decode_hex(h)
                .map_err(|e| anyhow::anyhow!("--on-connect-hex {h:?}: {e}"))?;
            spec.on_connect.push(crate::openings::Opening {
                opcode: crate::model::Opcode::Binary,
                payload,
            });
        }
        for r in &self.auto_replies {
            spec.auto_replies
                .push(crate::openings::AutoReply::parse(r)?);
        }
        if let Some(p) = self.preset {
            p.apply(
                &mut spec.on_connect,
                &mut spec.auto_replies,
                &mut spec.opening_ack,
            );
        }
        Ok(())
    }

    /// The login timeout, then a check of the login as a whole.
    fn apply_login_timeout(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        if let Some(secs) = self.login_timeout {
            if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
                anyhow::bail!("--login-timeout {secs}: give seconds between 0 and 86400");
            }
            spec.login.timeout = Duration::from_secs_f64(secs);
        }
        spec.login
            .check()
            .map_err(|e| anyhow::anyhow!("--login-template: {e}"))?;
        Ok(())
    }

    /// The upgrade's headers and subprotocols (the preset's when none is given).
    fn apply_handshake(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        for h in &self.headers {
            spec.headers.push(parse_header(h)?);
        }
        if !self.subprotocols.is_empty() {
            spec.subprotocols = parse_subprotocols(&self.subprotocols)
                .map_err(|e| anyhow::anyhow!("--subprotocol: {e}"))?;
        }
        if let Some(sub) = self.preset.and_then(|p| p.subprotocol())
            && spec.subprotocols.is_empty()
        {
            spec.subprotocols.push(sub.to_string());
        }
        Ok(())
    }

    /// How the server is reached: TLS trust and the proxy.
    fn apply_reach(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        spec.insecure |= self.insecure;
        for (to, from) in [
            (&mut spec.trust.cacert, &self.trust.cacert),
            (&mut spec.trust.cert, &self.trust.cert),
            (&mut spec.trust.key, &self.trust.key),
        ] {
            if from.is_some() {
                to.clone_from(from);
            }
        }
        if let Some(url) = &self.proxy {
            // Our own message: clap's would repeat the URL with its password.
            let url =
                crate::reach::ProxyUrl::parse(url).map_err(|e| anyhow::anyhow!("--proxy: {e}"))?;
            spec.proxy = ProxyChoice::Url(url);
        }
        if self.no_proxy {
            spec.proxy = ProxyChoice::Off;
        }
        Ok(())
    }

    /// Redaction, compression, message size, reconnecting, redirects and pings.
    fn apply_session(&self, spec: &mut ConnectSpec) -> anyhow::Result<()> {
        spec.no_redact |= self.no_redact;
        spec.compression &= !self.no_compression;
        if let Some(n) = self.max_message {
            spec.max_message = n;
        }
        spec.reconnect &= !self.no_reconnect;
        spec.location |= self.location;
        match self.reconnect_max {
            Some(0) => spec.reconnect = false,
            Some(n) => spec.reconnect_max = Some(n),
            None => {}
        }
        if let Some(secs) = self.ping_interval {
            spec.ping_interval = ping_interval(secs)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14 item 11: `connect localhost:5678` as wscat takes it.
    #[test]
    fn a_url_without_a_scheme_is_ws() {
        assert_eq!(
            validate_url("localhost:5678").unwrap(),
            "ws://localhost:5678"
        );
        assert_eq!(
            validate_url(" 127.0.0.1:5678/chat?x=1 ").unwrap(),
            "ws://127.0.0.1:5678/chat?x=1"
        );
        assert_eq!(validate_url("wss://h/").unwrap(), "wss://h/");
        let e = validate_url("http://h/").unwrap_err().to_string();
        assert!(e.contains("scheme must be ws:// or wss://"), "{e}");
    }

    #[test]
    fn bad_urls_and_headers_are_quoted_without_their_secrets() {
        let e = validate_url("ws://ops:hunter2@").unwrap_err().to_string();
        assert!(e.contains("ops:***@") && !e.contains("hunter2"), "{e}");
        let e = validate_url("http://ops:hunter2@h/")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse_header("Authorization: Bearer t0k3n\u{7}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Authorization: ***") && !e.contains("t0k3n"),
            "{e}"
        );
        let e = parse_header("cookie sid=abc123").unwrap_err().to_string();
        assert!(e.contains("cookie ***") && !e.contains("abc123"), "{e}");
        let e = parse_header("X-Trace: a\u{7}").unwrap_err().to_string();
        assert!(e.contains("X-Trace: a"), "{e}");
    }

    #[test]
    fn subprotocols_come_repeated_or_as_comma_lists_in_order_without_repeats() {
        let given = [
            "v1.chat".to_string(),
            " v2.chat , mqtt".into(),
            "v1.chat".into(),
        ];
        assert_eq!(
            parse_subprotocols(&given).unwrap(),
            ["v1.chat", "v2.chat", "mqtt"]
        );
        assert!(
            parse_subprotocols(&["a,,b".into()])
                .unwrap_err()
                .to_string()
                .contains("empty name")
        );
        let err = parse_subprotocols(&["chat v2".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"chat v2\" is not a valid subprotocol name"),
            "{err}"
        );

        let mut spec = ConnectSpec::new("ws://h");
        spec.subprotocols = vec!["from-profile".into()];
        let flags = Overrides {
            subprotocols: vec!["a".into(), "b,c".into()],
            ..Overrides::default()
        };
        flags.apply(&mut spec).unwrap();
        assert_eq!(spec.subprotocols, ["a", "b", "c"]);
        Overrides::default().apply(&mut spec).unwrap();
        assert_eq!(spec.subprotocols, ["a", "b", "c"]);
    }

    #[test]
    fn reconnect_max_caps_the_tries_and_zero_turns_reconnecting_off() {
        let with = |n| {
            let mut spec = ConnectSpec::new("ws://h");
            Overrides {
                reconnect_max: Some(n),
                ..Overrides::default()
            }
            .apply(&mut spec)
            .unwrap();
            (spec.reconnect, spec.reconnect_max)
        };
        assert_eq!(with(5), (true, Some(5)));
        assert_eq!(with(0), (false, None));
        let spec = ConnectSpec::new("ws://h");
        assert_eq!((spec.reconnect, spec.reconnect_max), (true, None));
    }
}
