//! The server leg: open TCP (and TLS for `wss://`) to the upstream and send it the client's
//! upgrade request, with the client's own key, subprotocols, cookies and other headers, so
//! the server's answer (its `Sec-WebSocket-Accept` included) goes back to the client as is.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::http::{self, Request, Response};
use super::relay::BoxIo;
use crate::model::HttpHead;
use crate::wire::deflate::{Offer, Params};

/// Where a WebSocket connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub tls: bool,
    /// Host without IPv6 brackets (for DNS and TLS names).
    pub host: String,
    pub port: u16,
    /// `host:port` as written in the Host header.
    pub authority: String,
    /// `/path?query`.
    pub path: String,
}

/// Why a URL is not one the proxy can relay to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadTarget {
    #[error("{url:?} is not a URL: {why}")]
    NotUrl { url: String, why: String },
    #[error("{0:?} is not a ws://, wss:// or http:// URL")]
    Scheme(String),
    #[error("{0:?} has no host")]
    NoHost(String),
}

impl Target {
    /// Parse `ws://`, `wss://`, `http://` or `https://` URLs.
    pub fn parse(url: &str) -> Result<Target, BadTarget> {
        let uri: ::http::Uri =
            url.parse()
                .map_err(|e: ::http::uri::InvalidUri| BadTarget::NotUrl {
                    url: url.to_string(),
                    why: e.to_string(),
                })?;
        let tls = match uri.scheme_str() {
            Some("ws") | Some("http") => false,
            Some("wss") | Some("https") => true,
            _ => return Err(BadTarget::Scheme(url.to_string())),
        };
        let host = match uri.host() {
            Some(h) if !h.is_empty() => h,
            _ => return Err(BadTarget::NoHost(url.to_string())),
        };
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let authority = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into());
        Ok(Target {
            tls,
            host: bare,
            port,
            authority,
            path,
        })
    }

    /// `ws://authority/path` or `wss://…`.
    pub fn ws_url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.tls { "wss" } else { "ws" },
            self.authority,
            self.path
        )
    }

    /// This upstream with the client's request target (path and query) in place of its own
    /// path: the upstream's path is a prefix when it is not just `/`.
    pub fn with_request_path(&self, request_target: &str) -> Target {
        let client_path = if request_target.starts_with('/') {
            request_target
        } else {
            "/"
        };
        let base = self.path.split('?').next().unwrap_or("/");
        let path = if base == "/" || base.is_empty() {
            client_path.to_string()
        } else {
            format!("{}{}", base.trim_end_matches('/'), client_path)
        };
        Target {
            path,
            ..self.clone()
        }
    }
}

/// The server leg, upgraded.
pub(crate) struct Upgraded {
    pub io: BoxIo,
    /// Bytes the server sent after its 101 head (frames already).
    pub rest: Vec<u8>,
    pub request: HttpHead,
    pub response: Response,
    /// What the server agreed to compress with (`None`: no compression on this leg).
    pub deflate: Option<Params>,
    pub started: SystemTime,
    pub finished: SystemTime,
}

/// Why the server leg did not open; each maps to what the client is answered.
pub(crate) enum UpstreamError {
    /// Connect, TLS or a broken answer: 502 with this sentence.
    BadGateway(String),
    /// The server answered but did not upgrade: its head and body go back to the client.
    Refused { response: Response, bytes: Vec<u8> },
}

/// Why a stream to a server did not open.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    /// The TLS handshake failed or the host cannot be a TLS name; the sentence says which.
    #[error("{0}")]
    Tls(String),
}

/// Open a TCP (and TLS) stream to `host:port`.
pub(crate) async fn open_stream(
    host: &str,
    port: u16,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<BoxIo, StreamError> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|source| StreamError::Connect {
            host: host.to_string(),
            port,
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let Some(cfg) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = crate::net::tls::server_name(host).map_err(|e| StreamError::Tls(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(cfg.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| {
            StreamError::Tls(crate::net::tls::describe_error(
                &e,
                &crate::reach::host_port(host, port),
            ))
        })?;
    Ok(Box::new(tls))
}

/// The request sent upstream: the client's headers minus hop-by-hop ones and its extension
/// offer, with the upstream Host; `offer` is wsdeck's own extension offer for this leg
/// (each leg negotiates its own compression, see `compress.rs`).
pub(crate) fn upstream_request(
    req: &Request,
    target: &Target,
    offer: Option<&Offer>,
) -> (String, Vec<(String, String)>) {
    let mut headers = vec![
        ("Host".to_string(), target.authority.clone()),
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
    ];
    for (n, v) in &req.headers {
        if n.eq_ignore_ascii_case("host")
            || http::is_hop_by_hop(n)
            || n.eq_ignore_ascii_case("sec-websocket-extensions")
        {
            continue;
        }
        headers.push((n.clone(), v.clone()));
    }
    if let Some(offer) = offer {
        headers.push(("Sec-WebSocket-Extensions".to_string(), offer.header_value()));
    }
    (format!("GET {} HTTP/1.1", target.path), headers)
}

/// Connect and upgrade, offering `offer` (compression) to the server.
pub(crate) async fn open(
    req: &Request,
    target: &Target,
    tls: Option<&Arc<rustls::ClientConfig>>,
    offer: Option<&Offer>,
) -> Result<Upgraded, UpstreamError> {
    let started = SystemTime::now();
    let mut io = open_stream(&target.host, target.port, tls.filter(|_| target.tls))
        .await
        .map_err(|e| UpstreamError::BadGateway(e.to_string()))?;
    let (start_line, headers) = upstream_request(req, target, offer);
    io.write_all(&http::head_bytes(&start_line, &headers))
        .await
        .map_err(|e| UpstreamError::BadGateway(format!("the server connection failed: {e}")))?;
    let (head, rest) = http::read_head(&mut io, Vec::new())
        .await
        .map_err(|e| UpstreamError::BadGateway(format!("the server's answer: {e}")))?;
    let finished = SystemTime::now();
    let response = http::parse_response(&head)
        .map_err(|e| UpstreamError::BadGateway(format!("the server's answer: {e}")))?;
    if response.status != 101 {
        let mut bytes = head;
        bytes.extend_from_slice(&rest);
        return Err(UpstreamError::Refused { response, bytes });
    }
    let key = http::header(&req.headers, "sec-websocket-key").unwrap_or("");
    let accept = http::header(&response.headers, "sec-websocket-accept").unwrap_or("");
    if accept.trim() != derive_accept_key(key.trim().as_bytes()) {
        return Err(UpstreamError::BadGateway(
            "the server's upgrade answer has a wrong Sec-WebSocket-Accept".into(),
        ));
    }
    let answers: Vec<&str> = response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, v)| v.as_str())
        .collect();
    let deflate = Offer::accept(offer, &answers).map_err(|e| UpstreamError::BadGateway(e.0))?;
    Ok(Upgraded {
        io,
        rest,
        deflate,
        request: HttpHead {
            start_line,
            headers,
        },
        response,
        started,
        finished,
    })
}

/// The 101 the client gets: the server's headers (subprotocol, cookies…) minus hop-by-hop
/// ones and the server's extension answer; `extensions` is wsdeck's answer to the client.
pub(crate) fn client_response(
    upstream: &Response,
    extensions: Option<&str>,
) -> (String, Vec<(String, String)>) {
    let mut headers = vec![
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
    ];
    for (n, v) in &upstream.headers {
        if http::is_hop_by_hop(n)
            || n.eq_ignore_ascii_case("content-length")
            || n.eq_ignore_ascii_case("sec-websocket-extensions")
        {
            continue;
        }
        headers.push((n.clone(), v.clone()));
    }
    if let Some(ext) = extensions {
        headers.push(("Sec-WebSocket-Extensions".to_string(), ext.to_string()));
    }
    ("HTTP/1.1 101 Switching Protocols".to_string(), headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_the_client_path_under_the_upstream_prefix() {
        let t = Target::parse("ws://127.0.0.1:5678").unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (false, 5678, "/"));
        assert_eq!(
            t.with_request_path("/chat?room=1").ws_url(),
            "ws://127.0.0.1:5678/chat?room=1"
        );
        let t = Target::parse("wss://example.com/api/").unwrap();
        assert_eq!((t.port, t.authority.as_str()), (443, "example.com"));
        assert_eq!(t.with_request_path("/ws?x").path, "/api/ws?x");
        let v6 = Target::parse("ws://[::1]:9/").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.authority.as_str()),
            ("::1", "[::1]:9")
        );
        assert!(Target::parse("ftp://x/").is_err());
    }

    #[test]
    fn the_upstream_request_keeps_end_to_end_headers_only() {
        let req = Request {
            method: "GET".into(),
            target: "/".into(),
            headers: vec![
                ("Host".into(), "127.0.0.1:8080".into()),
                ("Connection".into(), "keep-alive, Upgrade".into()),
                ("Upgrade".into(), "websocket".into()),
                (
                    "Sec-WebSocket-Key".into(),
                    "dGhlIHNhbXBsZSBub25jZQ==".into(),
                ),
                ("Sec-WebSocket-Protocol".into(), "chat".into()),
                (
                    "Sec-WebSocket-Extensions".into(),
                    "permessage-deflate".into(),
                ),
                ("Proxy-Authorization".into(), "Basic x".into()),
                ("Cookie".into(), "sid=1".into()),
            ],
        };
        let t = Target::parse("ws://up:1/").unwrap();
        let (line, hs) = upstream_request(&req, &t, None);
        assert_eq!(line, "GET / HTTP/1.1");
        let names: Vec<&str> = hs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Host",
                "Upgrade",
                "Connection",
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Protocol",
                "Cookie"
            ]
        );
        assert_eq!(hs[0].1, "up:1");
    }
}
