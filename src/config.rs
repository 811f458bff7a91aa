//! The config file: TOML with connection profiles and snippets.
//!
//! Found at `$WSDECK_CONFIG`, `--config FILE`, or `config.toml` in the user's config directory
//! (`~/.config/wsdeck/` on Linux). `assets/config.toml` is a commented example. Passwords are
//! never stored here: a profile names the environment variable that holds one.
//!
//! Snippets can also live in `snippets.toml` beside the config file (`assets/snippets.toml` is
//! an example): `[[snippets]]` for every session and `[[profiles.NAME.snippets]]` for one
//! profile, added after those of the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::model::Secret;
use crate::spec::{ConnectSpec, parse_auth};

/// The environment variable that overrides the config file's location.
pub const CONFIG_ENV: &str = "WSDECK_CONFIG";

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Snippets offered in every session.
    #[serde(default)]
    pub snippets: Vec<Snippet>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// What was skipped while loading, as sentences (a `snippets.toml` block for a profile
    /// the config file no longer has): shown, not fatal.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `snippets.toml`: more snippets, global and per profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnippetsFile {
    #[serde(default)]
    snippets: Vec<Snippet>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileSnippets>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSnippets {
    #[serde(default)]
    snippets: Vec<Snippet>,
}

/// The snippets file's name, looked for beside the config file.
pub const SNIPPETS_FILE: &str = "snippets.toml";

/// A saved message; F5…F12 send the first eight of a session's snippets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub name: String,
    /// Text to send (for a binary frame: `hex = "…"` instead).
    #[serde(default)]
    pub text: Option<String>,
    /// Bytes as hex, sent as a binary frame.
    #[serde(default)]
    pub hex: Option<String>,
}

/// `[profiles.NAME]`: everything `wsdeck connect` takes, by name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: String,
    pub user: Option<String>,
    pub auth: Option<String>,
    /// Name of the environment variable holding the password or token.
    pub password_env: Option<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    /// One name, a comma list, or a list of names, as `--subprotocol`.
    pub subprotocol: Option<Subprotocols>,
    pub login_template: Option<String>,
    pub login_ok: Option<String>,
    pub login_fail: Option<String>,
    pub login_after: Option<String>,
    /// Frames sent after every (re)connect and login, as `--on-connect` / `--on-connect-hex`.
    #[serde(default)]
    pub on_connect: Vec<String>,
    #[serde(default)]
    pub on_connect_hex: Vec<String>,
    /// `"REGEX=REPLY"` answers, as `--auto-reply`.
    #[serde(default)]
    pub auto_reply: Vec<String>,
    /// `"socketio"`, as `--preset`.
    pub preset: Option<String>,
    /// Seconds between pings (0 = off).
    pub ping_interval: Option<u64>,
    /// Record every frame of the session to this JSONL file.
    pub record: Option<PathBuf>,
    #[serde(default)]
    pub insecure: bool,
    /// The proxy, as `--proxy` (without a password), or `"none"` to connect directly.
    pub proxy: Option<String>,
    /// PEM bundle of trusted CAs, as `--cacert`.
    pub cacert: Option<PathBuf>,
    /// Client certificate and key for mutual TLS, as `--cert` and `--key`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `compression = false`: do not offer permessage-deflate.
    pub compression: Option<bool>,
    /// Largest message accepted, as `--max-message` (`"64MiB"`).
    pub max_message: Option<String>,
    /// `location = true`: follow redirects of the upgrade, as `--location`.
    #[serde(default)]
    pub location: bool,
    #[serde(default)]
    pub snippets: Vec<Snippet>,
}

/// A profile's `subprotocol`: `"chat"`, `"chat, superchat"` or `["chat", "superchat"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Subprotocols {
    One(String),
    List(Vec<String>),
}

impl Subprotocols {
    fn as_slice(&self) -> &[String] {
        match self {
            Subprotocols::One(s) => std::slice::from_ref(s),
            Subprotocols::List(l) => l,
        }
    }
}

impl Config {
    /// Parse a config text; errors name the line and column.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Config> {
        if let Some(line) = password_line(text) {
            bail!(
                "{}: line {line}: passwords are never stored in the config file; \
                 use `password_env = \"VAR\"` and set VAR in the environment",
                origin.display()
            );
        }
        let cfg: Config = from_toml(text, origin)?;
        for (name, p) in &cfg.profiles {
            p.check(name)
                .with_context(|| format!("{}: profile {name:?}", origin.display()))?;
        }
        check_snippets(
            cfg.snippets
                .iter()
                .chain(cfg.profiles.values().flat_map(|p| &p.snippets)),
            origin,
        )?;
        Ok(cfg)
    }

    /// Add the snippets of a `snippets.toml` text (after the config file's own). A block for
    /// a profile the config file does not have is skipped with a warning (a profile renamed
    /// or removed must not stop wsdeck from starting).
    pub fn add_snippets(&mut self, text: &str, origin: &Path) -> anyhow::Result<()> {
        let file: SnippetsFile = from_toml(text, origin)?;
        check_snippets(
            file.snippets
                .iter()
                .chain(file.profiles.values().flat_map(|p| &p.snippets)),
            origin,
        )?;
        for name in file.profiles.keys() {
            if let Err(e) = self.profile(name) {
                self.warnings.push(format!(
                    "{}: [profiles.{name}] was skipped: {e:#} (its snippets are not offered)",
                    origin.display()
                ));
            }
        }
        self.snippets.extend(file.snippets);
        for (name, p) in file.profiles {
            if let Some(profile) = self.profiles.get_mut(&name) {
                profile.snippets.extend(p.snippets);
            }
        }
        Ok(())
    }

    /// Load from `explicit`, else `$WSDECK_CONFIG`, else the user's config directory, then
    /// the `snippets.toml` beside it if there is one. A missing default file is an empty
    /// config; a missing explicit file is an error.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let (mut cfg, path) = Config::load_main(explicit)?;
        if let Some(path) = path {
            let snippets = path.with_file_name(SNIPPETS_FILE);
            match crate::files::read_text(&snippets, crate::files::MAX_SMALL_FILE) {
                Ok(text) => cfg.add_snippets(&text, &snippets)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot read snippets {}", snippets.display()));
                }
            }
        }
        Ok(cfg)
    }

    /// The config file alone, and its path (`None`: no config directory on this system).
    fn load_main(explicit: Option<&Path>) -> anyhow::Result<(Config, Option<PathBuf>)> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match std::env::var_os(CONFIG_ENV) {
                Some(p) if !p.is_empty() => (PathBuf::from(p), true),
                _ => match default_path() {
                    Some(p) => (p, false),
                    None => return Ok((Config::default(), None)),
                },
            },
        };
        let cfg = match crate::files::read_text(&path, crate::files::MAX_SMALL_FILE) {
            Ok(text) => Config::parse(&text, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Config::default(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read config {}", path.display()));
            }
        };
        Ok((cfg, Some(path)))
    }

    pub fn profile(&self, name: &str) -> anyhow::Result<&Profile> {
        self.profiles.get(name).with_context(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            if known.is_empty() {
                format!("no profile named {name:?}: the config file has no profiles")
            } else {
                format!("no profile named {name:?}; known: {}", known.join(", "))
            }
        })
    }
}

/// `~/.config/wsdeck/config.toml` (or the platform's equivalent).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "wsdeck").map(|d| d.config_dir().join("config.toml"))
}

impl Snippet {
    fn check(&self) -> anyhow::Result<()> {
        match (&self.text, &self.hex) {
            (Some(_), None) => Ok(()),
            (None, Some(h)) => decode_hex(h).map(|_| ()),
            _ => bail!("give exactly one of `text` or `hex`"),
        }
    }

    /// The frame this snippet sends.
    pub fn command(&self) -> crate::model::NetCommand {
        match (&self.text, &self.hex) {
            (_, Some(h)) => crate::model::NetCommand::SendBinary(decode_hex(h).unwrap_or_default()),
            (Some(t), None) => crate::model::NetCommand::SendText(t.clone()),
            (None, None) => crate::model::NetCommand::SendText(String::new()),
        }
    }
}

/// Hex digits (spaces allowed between bytes) to bytes.
pub fn decode_hex(h: &str) -> anyhow::Result<Vec<u8>> {
    crate::codec::decode_hex(h).map_err(|why| anyhow::anyhow!("hex {h:?}: {why}"))
}

impl Profile {
    fn check(&self, _name: &str) -> anyhow::Result<()> {
        crate::spec::validate_url(&self.url)?;
        if let Some(a) = &self.auth {
            parse_auth(a)?;
        }
        for h in &self.headers {
            crate::spec::parse_header(h)?;
        }
        for (field, re) in [
            ("login_ok", &self.login_ok),
            ("login_fail", &self.login_fail),
            ("login_after", &self.login_after),
        ] {
            if let Some(re) = re {
                regex::Regex::new(re)
                    .with_context(|| format!("{field} is not a valid regex: {re}"))?;
            }
        }
        self.proxy_choice()?;
        Ok(())
    }

    /// `proxy = "URL"` or `"none"`; a password in it is refused (the file never holds one).
    fn proxy_choice(&self) -> anyhow::Result<Option<crate::reach::ProxyChoice>> {
        use crate::reach::{ProxyChoice, ProxyUrl};
        let Some(p) = &self.proxy else {
            return Ok(None);
        };
        if p.trim().eq_ignore_ascii_case("none") {
            return Ok(Some(ProxyChoice::Off));
        }
        let url = ProxyUrl::parse(p).map_err(|e| anyhow::anyhow!("proxy: {e}"))?;
        if !url.password.is_empty() {
            bail!(
                "proxy: passwords are never stored in the config file; give the proxy URL with \
                 its password in --proxy or in https_proxy/http_proxy/all_proxy instead"
            );
        }
        Ok(Some(ProxyChoice::Url(url)))
    }

    /// The session spec this profile describes; the password comes from `password_env`.
    pub fn to_spec(&self) -> anyhow::Result<ConnectSpec> {
        let mut spec = ConnectSpec::new(crate::spec::validate_url(&self.url)?);
        spec.user = self.user.clone().unwrap_or_default();
        if let Some(a) = &self.auth {
            spec.auth = parse_auth(a)?;
        }
        if let Some(var) = &self.password_env {
            spec.password = Secret::new(std::env::var(var).unwrap_or_default());
        }
        for h in &self.headers {
            spec.headers.push(crate::spec::parse_header(h)?);
        }
        if let Some(p) = &self.subprotocol {
            spec.subprotocols = crate::spec::parse_subprotocols(p.as_slice())
                .map_err(|e| anyhow::anyhow!("subprotocol: {e}"))?;
        }
        if let Some(t) = &self.login_template {
            spec.login.template = t.clone();
        }
        if let Some(re) = &self.login_ok {
            spec.login.ok = regex::Regex::new(re)?;
        }
        if let Some(re) = &self.login_fail {
            spec.login.fail = regex::Regex::new(re)?;
        }
        if let Some(re) = &self.login_after {
            spec.login.after = Some(regex::Regex::new(re)?);
        }
        let preset = match &self.preset {
            Some(p) => Some(
                <crate::openings::Preset as clap::ValueEnum>::from_str(p, true)
                    .map_err(|_| anyhow::anyhow!("preset {p:?} is not one of: socketio, mqtt"))?,
            ),
            None => None,
        };
        crate::spec::Overrides {
            on_connect: self.on_connect.clone(),
            on_connect_hex: self.on_connect_hex.clone(),
            auto_replies: self.auto_reply.clone(),
            preset,
            location: self.location,
            ..Default::default()
        }
        .apply(&mut spec)?;
        spec.login
            .check()
            .map_err(|e| anyhow::anyhow!("login_template: {e}"))?;
        spec.insecure = self.insecure;
        if let Some(p) = self.proxy_choice()? {
            spec.proxy = p;
        }
        spec.trust = crate::reach::Trust {
            cacert: self.cacert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
        };
        if let Some(on) = self.compression {
            spec.compression = on;
        }
        if let Some(size) = &self.max_message {
            spec.max_message =
                crate::fmt::parse_size(size).map_err(|e| anyhow::anyhow!("max_message: {e}"))?;
        }
        if let Some(every) = self.ping_interval() {
            spec.ping_interval = every;
        }
        Ok(spec)
    }

    pub fn ping_interval(&self) -> Option<Option<Duration>> {
        self.ping_interval
            .map(|s| (s > 0).then(|| Duration::from_secs(s)))
    }
}

/// Every snippet sends something valid; an error names the file and the snippet.
fn check_snippets<'a>(
    snippets: impl Iterator<Item = &'a Snippet>,
    origin: &Path,
) -> anyhow::Result<()> {
    for s in snippets {
        s.check()
            .with_context(|| format!("{}: snippet {:?}", origin.display(), s.name))?;
    }
    Ok(())
}

/// Parse TOML; errors name the file, line and column.
fn from_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> anyhow::Result<T> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        anyhow::anyhow!(
            "{}: line {line}, column {col}: {}",
            origin.display(),
            e.message()
        )
    })
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The line of a `password = …` key, if any (caught before parsing for a clearer message).
fn password_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let key = l.trim_start().split('=').next().unwrap_or("").trim();
            l.contains('=') && (key == "password" || key == "\"password\"")
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::AuthMethod;

    const EXAMPLE: &str = include_str!("../assets/config.toml");
    const SNIPPETS_EXAMPLE: &str = include_str!("../assets/snippets.toml");

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn the_shipped_example_parses() {
        let cfg = parse(EXAMPLE).expect("assets/config.toml parses");
        let seed = cfg.profile("seed").unwrap();
        assert_eq!(seed.url, "ws://127.0.0.1:5678");
        assert_eq!(seed.user.as_deref(), Some("admin"));
        let spec = seed.to_spec().unwrap();
        assert_eq!(spec.auth, AuthMethod::FirstMessage);
        assert!(!cfg.snippets.is_empty());
    }

    #[test]
    fn the_shipped_snippets_example_adds_to_the_shipped_config() {
        let mut cfg = parse(EXAMPLE).unwrap();
        let (global, seed) = (
            cfg.snippets.len(),
            cfg.profile("seed").unwrap().snippets.len(),
        );
        cfg.add_snippets(SNIPPETS_EXAMPLE, Path::new("snippets.toml"))
            .expect("assets/snippets.toml parses");
        assert!(cfg.snippets.len() > global);
        assert!(cfg.profile("seed").unwrap().snippets.len() > seed);
        // The config file's own come first.
        assert_eq!(cfg.snippets[0].name, "hello");
    }

    #[test]
    fn snippets_file_errors_name_the_file_line_and_profile() {
        let mut cfg = parse(EXAMPLE).unwrap();
        let err = cfg
            .add_snippets(
                "[[snippets]]\nname = \"x\"\ntxt = \"y\"\n",
                Path::new("s.toml"),
            )
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("s.toml: line 3"), "{msg}");
        // A block for a profile that is gone is a warning, not an error (issue 14 item 11).
        cfg.add_snippets(
            "[[profiles.nope.snippets]]\nname = \"x\"\ntext = \"y\"\n",
            Path::new("s.toml"),
        )
        .unwrap();
        let msg = cfg.warnings.join("\n");
        assert!(
            msg.contains("[profiles.nope] was skipped") && msg.contains("known: api, seed"),
            "{msg}"
        );
        let err = cfg
            .add_snippets(
                "[[snippets]]\nname = \"x\"\nhex = \"zz\"\n",
                Path::new("s.toml"),
            )
            .unwrap_err();
        assert!(format!("{err:#}").contains("snippet \"x\""), "{err:#}");
        // Nothing was added by the failed calls.
        assert_eq!(cfg.snippets.len(), parse(EXAMPLE).unwrap().snippets.len());
    }

    #[test]
    fn load_reads_the_snippets_file_beside_the_config() {
        let dir = std::env::temp_dir().join(format!("wsdeck-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(&config, EXAMPLE).unwrap();
        let without = Config::load(Some(&config)).unwrap();
        std::fs::write(dir.join(SNIPPETS_FILE), SNIPPETS_EXAMPLE).unwrap();
        let with = Config::load(Some(&config)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(with.snippets.len() > without.snippets.len());
    }

    #[test]
    fn a_profile_names_its_openings_replies_and_preset() {
        let cfg = parse(
            r#"
[profiles.sio]
url = "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
auth = "none"
preset = "socketio"
on_connect = ["hello"]
on_connect_hex = ["de ad"]
auto_reply = ["^ping$=pong"]
"#,
        )
        .unwrap();
        let spec = cfg.profile("sio").unwrap().to_spec().unwrap();
        let frames: Vec<&[u8]> = spec.on_connect.iter().map(|o| &o.payload[..]).collect();
        assert_eq!(frames, [&b"40"[..], b"hello", &[0xde, 0xad]]);
        let reply = |t| crate::openings::reply_to(&spec.auto_replies, t);
        assert_eq!(reply("2").as_deref(), Some("3"));
        assert_eq!(reply("ping").as_deref(), Some("pong"));
        let bad = parse("[profiles.x]\nurl = \"ws://h/\"\npreset = \"stomp\"\n").unwrap();
        let e = bad.profile("x").unwrap().to_spec().unwrap_err().to_string();
        assert!(e.contains("not one of: socketio, mqtt"), "{e}");
        // The mqtt preset asks for the mqtt subprotocol unless the profile names one.
        let cfg = parse("[profiles.m]\nurl = \"ws://h/\"\npreset = \"mqtt\"\n").unwrap();
        assert_eq!(
            cfg.profile("m").unwrap().to_spec().unwrap().subprotocols,
            ["mqtt"]
        );
        let cfg = parse(
            "[profiles.m]\nurl = \"ws://h/\"\npreset = \"mqtt\"\nsubprotocol = \"mqttv3.1\"\n",
        )
        .unwrap();
        assert_eq!(
            cfg.profile("m").unwrap().to_spec().unwrap().subprotocols,
            ["mqttv3.1"]
        );
    }

    #[test]
    fn profile_becomes_a_spec() {
        let cfg = parse(
            r#"
[profiles.api]
url = "wss://example.test/socket"
user = "bot"
auth = "bearer"
password_env = "WSDECK_TEST_TOKEN_UNSET"
headers = ["X-Trace: 1"]
subprotocol = "chat.v2"
login_ok = "^ok"
ping_interval = 0
location = true
"#,
        )
        .unwrap();
        let p = cfg.profile("api").unwrap();
        let spec = p.to_spec().unwrap();
        assert!(spec.location, "location = true follows redirects");
        assert_eq!(spec.url, "wss://example.test/socket");
        assert_eq!(spec.auth, AuthMethod::Bearer);
        assert_eq!(spec.headers, vec![("X-Trace".into(), "1".into())]);
        assert_eq!(spec.subprotocols, ["chat.v2"]);
        assert!(spec.login.ok.is_match("ok fine"));
        assert_eq!(p.ping_interval(), Some(None));
    }

    #[test]
    fn a_profile_names_its_proxy_and_certificates_but_never_a_proxy_password() {
        use crate::reach::{ProxyChoice, ProxyScheme};
        let cfg = parse(
            r#"
[profiles.corp]
url = "wss://internal.example/ws"
proxy = "socks5h://bob@proxy.corp:1080"
cacert = "/etc/corp/ca.pem"
cert = "me.pem"
key = "me.key"
[profiles.direct]
url = "ws://x"
proxy = "none"
"#,
        )
        .unwrap();
        let spec = cfg.profile("corp").unwrap().to_spec().unwrap();
        let ProxyChoice::Url(p) = &spec.proxy else {
            panic!("{:?}", spec.proxy)
        };
        assert_eq!(
            (p.scheme, p.authority().as_str()),
            (ProxyScheme::Socks5h, "proxy.corp:1080")
        );
        assert_eq!(
            spec.trust.cacert.as_deref(),
            Some(Path::new("/etc/corp/ca.pem"))
        );
        assert_eq!(spec.trust.key.as_deref(), Some(Path::new("me.key")));
        let direct = cfg.profile("direct").unwrap().to_spec().unwrap();
        assert_eq!(direct.proxy, ProxyChoice::Off);

        let err = format!(
            "{:#}",
            parse("[profiles.a]\nurl = \"ws://x\"\nproxy = \"http://u:hunter2@p:3128\"\n")
                .unwrap_err()
        );
        assert!(
            err.contains("passwords are never stored") && !err.contains("hunter2"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            parse("[profiles.a]\nurl = \"ws://x\"\nproxy = \"ftp://p\"\n").unwrap_err()
        );
        assert!(
            err.contains("proxy: proxy ftp://p: the scheme must be"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse("[profiles.a]\nurl = \"ws://x\"\nuser = admin\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("test.toml: line 3, column 8"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_with_position() {
        let err = parse("[profiles.a]\nurl = \"ws://x\"\nusr = \"admin\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("usr"), "{err}");
    }

    #[test]
    fn passwords_are_refused() {
        let err = parse("[profiles.a]\nurl = \"ws://x\"\npassword = \"123456\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("password_env"), "{err}");
        assert!(
            !err.contains("123456"),
            "the error must not echo the password: {err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let err = format!(
            "{:#}",
            parse("[profiles.a]\nurl = \"http://x\"\n").unwrap_err()
        );
        assert!(err.contains("profile \"a\""), "{err}");
        assert!(err.contains("ws://"), "{err}");
        let err = format!(
            "{:#}",
            parse("[profiles.a]\nurl = \"ws://x\"\nauth = \"magic\"\n").unwrap_err()
        );
        assert!(err.contains("magic"), "{err}");
        let err = format!(
            "{:#}",
            parse("[[snippets]]\nname = \"x\"\nhex = \"abc\"\n").unwrap_err()
        );
        assert!(err.contains("odd number"), "{err}");
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let cfg =
            parse("[profiles.one]\nurl = \"ws://x\"\n[profiles.two]\nurl = \"ws://y\"\n").unwrap();
        let err = cfg.profile("three").unwrap_err().to_string();
        assert!(err.contains("one, two"), "{err}");
    }

    #[test]
    fn snippets_send_text_or_binary() {
        let cfg = parse(
            "[[snippets]]\nname = \"hi\"\ntext = \"hello\"\n[[snippets]]\nname = \"b\"\nhex = \"de ad\"\n",
        )
        .unwrap();
        assert!(
            matches!(cfg.snippets[0].command(), crate::model::NetCommand::SendText(t) if t == "hello")
        );
        assert!(
            matches!(cfg.snippets[1].command(), crate::model::NetCommand::SendBinary(b) if b == vec![0xde, 0xad])
        );
    }

    #[test]
    fn missing_default_file_is_empty_but_explicit_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let err = Config::load(Some(&missing)).unwrap_err().to_string();
        assert!(err.contains("nope.toml"), "{err}");
    }
}
