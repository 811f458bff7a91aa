//! How a client reaches its server: through which proxy (`--proxy`, the environment as curl
//! reads it, `--no-proxy`) and with which certificates trusted (`--cacert`, `--cert`,
//! `--key`). Plain data and parsing; the network code in `net` acts on it.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::model::Secret;

/// Files that change whom a `wss://` connection trusts and how it proves who it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// PEM bundle of CA certificates trusted instead of the system store (`--cacert`).
    pub cacert: Option<PathBuf>,
    /// PEM client certificate chain for mutual TLS (`--cert`).
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert` (`--key`; without it the key is looked for in `cert`).
    pub key: Option<PathBuf>,
}

/// Which proxy a connection goes through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// As curl does: `http_proxy` for `ws://`, `https_proxy` for `wss://`, `all_proxy` for
    /// both (lower case first, then upper case), minus the hosts in `no_proxy`.
    #[default]
    Env,
    /// Straight to the server, whatever the environment says (`--no-proxy`).
    Off,
    /// This proxy (`--proxy URL`).
    Url(ProxyUrl),
}

/// The kind of proxy a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// HTTP CONNECT over plain TCP.
    Http,
    /// HTTP CONNECT over TLS to the proxy.
    Https,
    /// SOCKS5, the server's name resolved here.
    Socks5,
    /// SOCKS5, the server's name resolved by the proxy.
    Socks5h,
}

impl ProxyScheme {
    pub fn name(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
        }
    }
    fn default_port(self) -> u16 {
        match self {
            ProxyScheme::Http => 80,
            ProxyScheme::Https => 443,
            ProxyScheme::Socks5 | ProxyScheme::Socks5h => 1080,
        }
    }
}

/// A parsed proxy URL. Its password is a [`Secret`]: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub scheme: ProxyScheme,
    /// Host without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// `user` of `user:pass@`, percent-decoded.
    pub user: Option<String>,
    pub password: Secret,
}

impl ProxyUrl {
    /// Parse `http://`, `https://`, `socks5://` or `socks5h://` URLs; a URL without a scheme
    /// is `http://`, as curl takes it. The error is a sentence naming what is wrong.
    pub fn parse(url: &str) -> Result<ProxyUrl, BadProxyUrl> {
        let raw = url.trim();
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, rest)) => (s.to_ascii_lowercase(), rest),
            None => ("http".to_string(), raw),
        };
        let scheme = match scheme.as_str() {
            "http" => ProxyScheme::Http,
            "https" => ProxyScheme::Https,
            "socks5" => ProxyScheme::Socks5,
            "socks5h" => ProxyScheme::Socks5h,
            other => {
                return Err(BadProxyUrl {
                    shown: redact_url(raw).into_owned(),
                    why: ProxyUrlFault::Scheme(other.to_string()),
                });
            }
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, Secret::default()),
            Some(u) => {
                let (name, pass) = u.split_once(':').unwrap_or((u, ""));
                (
                    Some(percent_decode(name)),
                    Secret::new(percent_decode(pass)),
                )
            }
        };
        let bad = |why: ProxyUrlFault| BadProxyUrl {
            shown: redact_url(raw).into_owned(),
            why,
        };
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        if host.is_empty() {
            return Err(bad(ProxyUrlFault::NoHost));
        }
        Ok(ProxyUrl {
            scheme,
            host,
            port: port.unwrap_or(scheme.default_port()),
            user,
            password,
        })
    }

    /// `host:port` with IPv6 brackets, for messages and CONNECT.
    pub fn authority(&self) -> String {
        host_port(&self.host, self.port)
    }
}

/// `host:port`, bracketing an IPv6 host.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl fmt::Display for ProxyUrl {
    /// `http://user:***@host:port`: what the screen, logs and recordings show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.name())?;
        if let Some(u) = &self.user {
            write!(f, "{u}")?;
            if !self.password.is_empty() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.authority())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

/// A proxy URL that does not parse: the URL as it may be shown (password masked) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("proxy {shown}: {why}")]
pub struct BadProxyUrl {
    pub shown: String,
    pub why: ProxyUrlFault,
}

/// What is wrong with a proxy URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlFault {
    #[error("the scheme must be http://, https://, socks5:// or socks5h://, not {0}://")]
    Scheme(String),
    #[error("no host")]
    NoHost,
    #[error("an IPv6 address must end with ]")]
    UnclosedIpv6,
    #[error("{0:?} is not a port number")]
    BadPort(String),
}

/// A proxy named by an environment variable that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {error}")]
pub struct BadEnvProxy {
    pub var: &'static str,
    pub error: BadProxyUrl,
}

fn split_host_port(s: &str) -> Result<(String, Option<u16>), ProxyUrlFault> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(ProxyUrlFault::UnclosedIpv6)?;
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| ProxyUrlFault::BadPort(p.to_string()))?,
        ),
    };
    Ok((host.to_string(), port))
}

/// `%XX` escapes decoded (invalid UTF-8 replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL with the password of its `user:pass@` replaced by `***` (the crate's one URL
/// redaction: proxy URLs, server URLs, URLs that did not parse). The scheme is optional (a
/// proxy given as `user:pass@host:port`); the last `@` of the authority ends the user info.
/// URLs without a password come back borrowed and unchanged.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let auth_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[auth_start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(url);
    };
    if &authority[colon + 1..at] == "***" {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..auth_start + colon + 1]);
    out.push_str("***");
    out.push_str(&url[auth_start + at..]);
    Cow::Owned(out)
}

/// Where the environment's proxy for a connection came from, and the proxy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProxy {
    /// The variable that named it (`https_proxy`, `ALL_PROXY`…).
    pub var: &'static str,
    pub url: ProxyUrl,
}

/// The proxy the environment names for a connection to `host` (`tls`: `wss://`), as curl
/// reads it: `http_proxy` (lower case only, as curl) for `ws://`; `https_proxy` or
/// `HTTPS_PROXY` for `wss://`; then `all_proxy` or `ALL_PROXY`; none when `no_proxy` /
/// `NO_PROXY` matches the host. The lower-case name wins when both are set. An empty value
/// counts as unset. `get` reads a variable (`std::env::var` in use, a table in tests).
pub fn proxy_from_env(
    tls: bool,
    host: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<EnvProxy>, BadEnvProxy> {
    let read = |name: &'static str| {
        get(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (name, v))
    };
    let no_proxy = read("no_proxy").or_else(|| read("NO_PROXY"));
    if let Some((_, list)) = &no_proxy
        && no_proxy_matches(list, host)
    {
        return Ok(None);
    }
    let scheme_var = if tls {
        read("https_proxy").or_else(|| read("HTTPS_PROXY"))
    } else {
        // curl ignores HTTP_PROXY in upper case (a CGI program's request can set it).
        read("http_proxy")
    };
    let Some((var, value)) = scheme_var
        .or_else(|| read("all_proxy"))
        .or_else(|| read("ALL_PROXY"))
    else {
        return Ok(None);
    };
    let url = ProxyUrl::parse(&value).map_err(|error| BadEnvProxy { var, error })?;
    Ok(Some(EnvProxy { var, url }))
}

/// Whether a `NO_PROXY` list (comma or space separated) names `host`: `*` matches every
/// host; `example.com` and `.example.com` match it and its subdomains; an IP address or a
/// CIDR range (`10.0.0.0/8`, `::1/128`) matches addresses in it; a `:port` suffix is ignored.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (
                    ip,
                    net.trim_matches(['[', ']']).parse::<IpAddr>(),
                    bits.parse(),
                ) {
                    (Some(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            let entry = strip_port(entry).trim_end_matches('.').to_ascii_lowercase();
            if let (Some(ip), Ok(e)) = (ip, entry.parse::<IpAddr>()) {
                return ip == e;
            }
            let domain = entry.trim_start_matches('.');
            !domain.is_empty()
                && (host == domain
                    || host
                        .strip_suffix(domain)
                        .is_some_and(|rest| rest.ends_with('.')))
        })
}

fn strip_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.rsplit_once(':') {
        // One colon: `host:port`. More: a bare IPv6 address.
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => entry,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_parse_with_their_default_ports_and_hide_the_password() {
        let p = ProxyUrl::parse("http://al%40ice:s3cr%3At@proxy.corp:3128/").unwrap();
        assert_eq!(p.scheme, ProxyScheme::Http);
        assert_eq!(p.authority(), "proxy.corp:3128");
        assert_eq!(p.user.as_deref(), Some("al@ice"));
        assert_eq!(p.password.expose(), "s3cr:t");
        assert_eq!(p.to_string(), "http://al@ice:***@proxy.corp:3128");
        assert!(!format!("{p:?}").contains("s3cr"));
        assert_eq!(
            ProxyUrl::parse("proxy:8080").unwrap().scheme,
            ProxyScheme::Http
        );
        assert_eq!(ProxyUrl::parse("https://p").unwrap().port, 443);
        assert_eq!(ProxyUrl::parse("socks5h://p").unwrap().port, 1080);
        assert_eq!(
            ProxyUrl::parse("socks5://[::1]:9").unwrap().authority(),
            "[::1]:9"
        );
        let err = ProxyUrl::parse("ftp://u:hunter2@p")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("socks5h://") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(
            ProxyUrl::parse("http://p:99999")
                .unwrap_err()
                .to_string()
                .contains("port")
        );
        assert!(
            ProxyUrl::parse("http://")
                .unwrap_err()
                .to_string()
                .contains("no host")
        );
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn chosen(tls: bool, host: &str, pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
        proxy_from_env(tls, host, env(pairs))
            .unwrap()
            .map(|p| (p.var, p.url.authority()))
    }

    #[test]
    fn the_environment_is_read_as_curl_reads_it() {
        let both = [
            ("http_proxy", "h:1"),
            ("https_proxy", "s:2"),
            ("ALL_PROXY", "a:3"),
        ];
        assert_eq!(
            chosen(false, "x", &both),
            Some(("http_proxy", "h:1".into()))
        );
        assert_eq!(
            chosen(true, "x", &both),
            Some(("https_proxy", "s:2".into()))
        );
        assert_eq!(
            chosen(true, "x", &[("ALL_PROXY", "a:3")]),
            Some(("ALL_PROXY", "a:3".into()))
        );
        // Lower case wins; upper-case HTTP_PROXY is not read (curl's rule).
        let cases = [("HTTPS_PROXY", "S:1"), ("https_proxy", "s:2")];
        assert_eq!(
            chosen(true, "x", &cases),
            Some(("https_proxy", "s:2".into()))
        );
        assert_eq!(chosen(false, "x", &[("HTTP_PROXY", "H:1")]), None);
        assert_eq!(chosen(false, "x", &[("http_proxy", "")]), None);
        let with_no = [
            ("all_proxy", "a:3"),
            ("NO_PROXY", "internal.example, 10.0.0.0/8"),
        ];
        assert_eq!(chosen(false, "api.internal.example", &with_no), None);
        assert_eq!(chosen(false, "10.1.2.3", &with_no), None);
        assert!(chosen(false, "example.com", &with_no).is_some());
        let err = proxy_from_env(true, "x", env(&[("https_proxy", "gopher://u:pw@p")]));
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("https_proxy: proxy gopher://u:***@p")
        );
    }

    #[test]
    fn no_proxy_takes_hosts_domains_stars_and_ranges() {
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("example.com", "example.com"));
        assert!(no_proxy_matches("example.com", "a.b.example.com"));
        assert!(no_proxy_matches(".example.com", "a.example.com"));
        assert!(no_proxy_matches(".example.com", "example.com"));
        assert!(!no_proxy_matches("example.com", "notexample.com"));
        assert!(no_proxy_matches("localhost,127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_matches("127.0.0.0/8", "127.9.9.9"));
        assert!(!no_proxy_matches("127.0.0.0/8", "128.0.0.1"));
        assert!(no_proxy_matches("::1", "[::1]"));
        assert!(no_proxy_matches("fd00::/8", "fd12::1"));
        assert!(no_proxy_matches("host.example:8080", "host.example"));
        assert!(no_proxy_matches("EXAMPLE.com", "Example.COM."));
        assert!(!no_proxy_matches("", "x"));
        assert!(!no_proxy_matches("10.0.0.0/99", "10.0.0.1"));
    }

    #[test]
    fn urls_that_did_not_parse_are_shown_without_their_password() {
        assert_eq!(redact_url("http://u:pw@h:1/x"), "http://u:***@h:1/x");
        assert_eq!(redact_url("u@h"), "u@h");
        assert_eq!(redact_url("h:1"), "h:1");
    }
}
