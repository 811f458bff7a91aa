//! Reaching the server through a proxy: an HTTP CONNECT tunnel (over TCP to an `http://`
//! proxy, over TLS to an `https://` one) for `ws://` and `wss://` alike, or SOCKS5 (the name
//! resolved here for `socks5://`, by the proxy for `socks5h://`). What the proxy answers is
//! told as the proxy's answer, never as the server's.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::{clean_line, tls};
use crate::model::{NetError, NetErrorKind};
use crate::reach::{ProxyChoice, ProxyScheme, ProxyUrl, host_port, no_proxy_matches};
use crate::spec::ConnectSpec;
use crate::wire::stream::Io;

/// Most bytes of a proxy's answer to CONNECT that are read.
const MAX_ANSWER: usize = 16 * 1024;

/// The proxy a connection uses, and what to call it on screen.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub url: ProxyUrl,
    /// `http://127.0.0.1:8888 (from https_proxy)`, credentials as `***`.
    pub label: String,
}

/// The proxy for a connection to `host` (`tls`: `wss://`): `--proxy`, none for `--no-proxy`,
/// else the environment. Loopback hosts never take the environment's proxy (as browsers: the
/// proxy's own loopback is not ours) unless `NO_PROXY` holds `<-loopback>`.
pub(crate) fn choose(
    spec: &ConnectSpec,
    tls: bool,
    host: &str,
) -> Result<Option<Chosen>, NetError> {
    choose_with(spec, tls, host, |name| std::env::var(name).ok())
}

fn choose_with(
    spec: &ConnectSpec,
    tls: bool,
    host: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<Chosen>, NetError> {
    match &spec.proxy {
        ProxyChoice::Off => Ok(None),
        ProxyChoice::Url(url) => Ok(Some(Chosen {
            label: url.to_string(),
            url: url.clone(),
        })),
        ProxyChoice::Env => {
            let no_proxy = get("no_proxy")
                .or_else(|| get("NO_PROXY"))
                .unwrap_or_default();
            if is_loopback(host) && !no_proxy.contains("<-loopback>") {
                return Ok(None);
            }
            let found = crate::reach::proxy_from_env(tls, host, &get)
                .map_err(|e| NetError::new(NetErrorKind::BadUrl, clean_line(&e.to_string())))?;
            Ok(found.map(|p| Chosen {
                label: format!("{} (from {})", p.url, p.var),
                url: p.url,
            }))
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => no_proxy_matches("localhost", bare),
    }
}

/// Where the tunnel goes: the server's host (no brackets) and port.
pub(crate) struct Dest<'a> {
    pub host: &'a str,
    pub port: u16,
}

impl Dest<'_> {
    fn authority(&self) -> String {
        host_port(self.host, self.port)
    }
}

/// Open a tunnel to `dest` through `proxy`, bounded by `deadline`.
pub(crate) async fn tunnel(
    spec: &ConnectSpec,
    proxy: &Chosen,
    dest: Dest<'_>,
    deadline: Instant,
    limit: Duration,
) -> Result<Box<dyn Io>, NetError> {
    let p = &proxy.url;
    let tcp = reach_proxy(p, deadline, limit).await?;
    let _ = tcp.set_nodelay(true);
    let work = async {
        match p.scheme {
            ProxyScheme::Http => connect_tunnel(Box::new(tcp), p, &dest).await,
            ProxyScheme::Https => {
                let tls = tls_to_proxy(spec, p, tcp).await?;
                connect_tunnel(tls, p, &dest).await
            }
            ProxyScheme::Socks5 | ProxyScheme::Socks5h => socks(tcp, p, &dest, deadline).await,
        }
    };
    match timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(NetError::new(
            NetErrorKind::Timeout,
            clean_line(&format!(
                "timeout: the proxy {p} did not open the tunnel to {} within {}",
                dest.authority(),
                super::human_duration(limit)
            )),
        )),
    }
}

/// TCP to the proxy itself; failures name the proxy.
async fn reach_proxy(
    p: &ProxyUrl,
    deadline: Instant,
    limit: Duration,
) -> Result<TcpStream, NetError> {
    let lookup = tokio::net::lookup_host((p.host.as_str(), p.port));
    let addrs: Vec<SocketAddr> = match timeout_at(deadline, lookup).await {
        Err(_) => return Err(slow(p, "DNS lookup", limit)),
        Ok(Err(e)) => {
            return Err(NetError::new(
                NetErrorKind::Dns,
                clean_line(&format!("DNS: cannot resolve the proxy {p}: {e}")),
            ));
        }
        Ok(Ok(a)) => a.collect(),
    };
    let mut last = None;
    for addr in &addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(slow(p, "TCP connect", limit)),
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => NetError::new(
            NetErrorKind::Refused,
            clean_line(&format!(
                "connection refused by the proxy {p} (is it running?)"
            )),
        ),
        Some(e) => NetError::new(
            NetErrorKind::Io,
            clean_line(&format!("cannot connect to the proxy {p}: {e}")),
        ),
        None => NetError::new(
            NetErrorKind::Dns,
            clean_line(&format!("DNS: the proxy {p} has no addresses")),
        ),
    })
}

fn slow(p: &ProxyUrl, phase: &str, limit: Duration) -> NetError {
    NetError::new(
        NetErrorKind::Timeout,
        clean_line(&format!(
            "timeout: {phase} of the proxy {p} did not finish within {}",
            super::human_duration(limit)
        )),
    )
}

/// TLS to an `https://` proxy, checked like the server (same trust, same `--insecure`).
async fn tls_to_proxy(
    spec: &ConnectSpec,
    p: &ProxyUrl,
    tcp: TcpStream,
) -> Result<Box<dyn Io>, NetError> {
    let bad = |e: &dyn std::fmt::Display| {
        NetError::new(
            NetErrorKind::Tls,
            clean_line(&format!("TLS to the proxy {p}: {e}")),
        )
    };
    let config = tls::client_config(spec.insecure, &spec.trust).map_err(|e| bad(&e))?;
    let name = tls::server_name(&p.host).map_err(|e| bad(&e))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| bad(&tls::describe_error(&e, &p.authority())))?;
    Ok(Box::new(tls))
}

/// `CONNECT host:port`, with `Proxy-Authorization: Basic` when the URL has credentials.
async fn connect_tunnel(
    mut io: Box<dyn Io>,
    p: &ProxyUrl,
    dest: &Dest<'_>,
) -> Result<Box<dyn Io>, NetError> {
    let authority = dest.authority();
    let mut request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: wsdeck/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(user) = &p.user {
        let raw = format!("{user}:{}", p.password.expose());
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        request.push_str(&format!("Proxy-Authorization: Basic {b64}\r\n"));
    }
    request.push_str("\r\n");
    let lost = |e: std::io::Error| {
        NetError::new(
            NetErrorKind::Proxy(0),
            clean_line(&format!(
                "the proxy {p} dropped the connection during CONNECT: {e}"
            )),
        )
    };
    io.write_all(request.as_bytes()).await.map_err(lost)?;
    io.flush().await.map_err(lost)?;
    let head = read_answer(&mut io, p).await?;
    let (status, reason) = parse_status(&head).ok_or_else(|| {
        NetError::new(
            NetErrorKind::Proxy(0),
            clean_line(&format!(
                "the proxy {p} answered CONNECT with something that is not HTTP: {:?}",
                String::from_utf8_lossy(&head[..head.len().min(80)])
            )),
        )
    })?;
    if (200..300).contains(&status) {
        return Ok(io);
    }
    Err(NetError::new(
        NetErrorKind::Proxy(status),
        clean_line(&refusal(p, &authority, status, &reason)),
    ))
}

/// The sentence for a refused CONNECT, with the way out where there is one.
fn refusal(p: &ProxyUrl, authority: &str, status: u16, reason: &str) -> String {
    let answer = format!("{status} {reason}").trim().to_string();
    let hint = match status {
        // Some proxies (tinyproxy) answer bad credentials with 401.
        401 | 407 if p.user.is_none() => format!(
            " — pass credentials in --proxy {}://user:pass@{}",
            p.scheme.name(),
            p.authority()
        ),
        401 | 407 => " — it did not accept the user name and password in the proxy URL".into(),
        403 => format!(" — it does not allow tunnels to {authority}"),
        502..=504 => format!(" — it could not reach {authority}"),
        _ => String::new(),
    };
    format!("the proxy {p} refused the tunnel to {authority}: {answer}{hint}")
}

/// Read the proxy's answer up to its blank line, byte by byte so nothing of the tunnel is
/// taken.
async fn read_answer(io: &mut Box<dyn Io>, p: &ProxyUrl) -> Result<Vec<u8>, NetError> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = io.read(&mut byte).await.map_err(|e| {
            NetError::new(
                NetErrorKind::Proxy(0),
                clean_line(&format!(
                    "the proxy {p} dropped the connection during CONNECT: {e}"
                )),
            )
        })?;
        if n == 0 {
            return Err(NetError::new(
                NetErrorKind::Proxy(0),
                clean_line(&format!(
                    "the proxy {p} closed the connection without answering CONNECT"
                )),
            ));
        }
        head.push(byte[0]);
        if head.len() > MAX_ANSWER {
            return Err(NetError::new(
                NetErrorKind::Proxy(0),
                clean_line(&format!(
                    "the proxy {p} answered CONNECT with a head over {MAX_ANSWER} bytes"
                )),
            ));
        }
    }
    Ok(head)
}

fn parse_status(head: &[u8]) -> Option<(u16, String)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {
            Some((resp.code?, resp.reason.unwrap_or_default().to_string()))
        }
        _ => None,
    }
}

/// SOCKS5, with user name and password when the URL has them.
async fn socks(
    tcp: TcpStream,
    p: &ProxyUrl,
    dest: &Dest<'_>,
    deadline: Instant,
) -> Result<Box<dyn Io>, NetError> {
    use tokio_socks::tcp::Socks5Stream;
    let authority = dest.authority();
    let fail = |e: tokio_socks::Error| socks_error(p, &authority, e);
    let stream = if p.scheme == ProxyScheme::Socks5h {
        let target = (dest.host, dest.port);
        match &p.user {
            Some(u) => {
                Socks5Stream::connect_with_password_and_socket(tcp, target, u, p.password.expose())
                    .await
                    .map_err(fail)?
            }
            None => Socks5Stream::connect_with_socket(tcp, target)
                .await
                .map_err(fail)?,
        }
    } else {
        // socks5://: the name is resolved here, the proxy gets an address.
        let addr = resolve_here(dest, deadline).await?;
        match &p.user {
            Some(u) => {
                Socks5Stream::connect_with_password_and_socket(tcp, addr, u, p.password.expose())
                    .await
                    .map_err(fail)?
            }
            None => Socks5Stream::connect_with_socket(tcp, addr)
                .await
                .map_err(fail)?,
        }
    };
    Ok(Box::new(stream))
}

async fn resolve_here(dest: &Dest<'_>, deadline: Instant) -> Result<SocketAddr, NetError> {
    let dns = |why: String| {
        NetError::new(
            NetErrorKind::Dns,
            clean_line(&format!(
                "DNS: cannot resolve host {}: {why} (socks5h:// lets the proxy resolve it)",
                dest.host
            )),
        )
    };
    let lookup = tokio::net::lookup_host((dest.host, dest.port));
    match timeout_at(deadline, lookup).await {
        Err(_) => Err(dns("the lookup timed out".into())),
        Ok(Err(e)) => Err(dns(e.to_string())),
        Ok(Ok(mut a)) => a.next().ok_or_else(|| dns("it has no addresses".into())),
    }
}

fn socks_error(p: &ProxyUrl, authority: &str, e: tokio_socks::Error) -> NetError {
    use tokio_socks::Error as S;
    let (status, why) = match &e {
        S::PasswordAuthFailure(_) => (
            407,
            "it did not accept the user name and password in the proxy URL".to_string(),
        ),
        S::NoAcceptableAuthMethods => (
            407,
            format!(
                "it wants a user name and password: pass --proxy {}://user:pass@{}",
                p.scheme.name(),
                p.authority()
            ),
        ),
        S::Io(io) => (0, format!("the connection to it failed: {io}")),
        other => (502, other.to_string()),
    };
    NetError::new(
        NetErrorKind::Proxy(status),
        clean_line(&format!(
            "the SOCKS proxy {p} refused the tunnel to {authority}: {why}"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn loopback_skips_the_environments_proxy_unless_told_and_flags_win() {
        let spec = ConnectSpec::new("ws://127.0.0.1:1/");
        let vars = env(&[("all_proxy", "http://u:pw@p:3128")]);
        assert!(
            choose_with(&spec, false, "127.0.0.1", &vars)
                .unwrap()
                .is_none()
        );
        assert!(
            choose_with(&spec, false, "localhost", &vars)
                .unwrap()
                .is_none()
        );
        assert!(choose_with(&spec, false, "[::1]", &vars).unwrap().is_none());
        let c = choose_with(&spec, false, "example.com", &vars)
            .unwrap()
            .unwrap();
        assert_eq!(c.label, "http://u:***@p:3128 (from all_proxy)");
        let told = env(&[("all_proxy", "p:1"), ("NO_PROXY", "<-loopback>")]);
        assert!(
            choose_with(&spec, false, "127.0.0.1", &told)
                .unwrap()
                .is_some()
        );

        let mut off = spec.clone();
        off.proxy = ProxyChoice::Off;
        assert!(
            choose_with(&off, false, "example.com", &vars)
                .unwrap()
                .is_none()
        );
        let mut flag = spec.clone();
        flag.proxy = ProxyChoice::Url(ProxyUrl::parse("socks5h://q:1080").unwrap());
        let c = choose_with(&flag, false, "127.0.0.1", &vars)
            .unwrap()
            .unwrap();
        assert_eq!(c.label, "socks5h://q:1080");
    }

    #[test]
    fn a_refused_connect_is_the_proxys_answer_with_the_way_out() {
        let p = ProxyUrl::parse("http://127.0.0.1:8888").unwrap();
        assert_eq!(
            refusal(&p, "h:1", 407, "Proxy Authentication Required"),
            "the proxy http://127.0.0.1:8888 refused the tunnel to h:1: 407 Proxy Authentication \
             Required — pass credentials in --proxy http://user:pass@127.0.0.1:8888"
        );
        let with = ProxyUrl::parse("http://a:b@127.0.0.1:8888").unwrap();
        let said = refusal(&with, "h:1", 407, "Proxy Authentication Required");
        assert!(
            said.contains("did not accept") && !said.contains(":b@"),
            "{said}"
        );
        assert!(refusal(&p, "h:1", 502, "Bad Gateway").ends_with("could not reach h:1"));
        assert_eq!(
            parse_status(b"HTTP/1.0 200 Connection established\r\n\r\n")
                .unwrap()
                .0,
            200
        );
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n\r\n").is_none());
    }
}
