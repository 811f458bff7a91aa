//! The HTTP upgrade, done here rather than by tungstenite so that every request that is not a
//! valid WebSocket upgrade gets a real HTTP error response (tungstenite's server handshake just
//! drops a plain `GET`), with a bounded head size and an origin check.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::tls::{self, Stream};
use crate::wire::deflate::{self, Params, ServerPolicy};
use crate::wire::deflate_stream::DeflateStream;

/// A served WebSocket: compressed messages are inflated beneath tungstenite.
pub(crate) type Ws = WebSocketStream<DeflateStream<Stream>>;

/// Largest request head accepted (request line plus headers).
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// What the handshake needs from the server configuration.
pub(crate) struct Policy<'a> {
    pub allowed_origins: &'a [String],
    pub subprotocols: &'a [String],
    pub ws_config: WebSocketConfig,
    /// How permessage-deflate offers are answered (`None`: declined).
    pub compression: Option<ServerPolicy>,
    /// Largest message, inflated (a compressed one that would inflate past it is a 1009).
    pub max_message: usize,
}

/// An HTTP error response for a request that is not an acceptable upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub status: u16,
    pub reason: &'static str,
    pub extra_headers: &'static str,
    pub body: &'static str,
}

impl Rejection {
    const fn new(status: u16, reason: &'static str, body: &'static str) -> Self {
        Rejection {
            status,
            reason,
            extra_headers: "",
            body,
        }
    }

    /// The full response: status line, headers and body.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
             Connection: close\r\n{}\r\n{}",
            self.status,
            self.reason,
            self.body.len(),
            self.extra_headers,
            self.body
        )
        .into_bytes()
    }
}

pub(crate) const NOT_UPGRADE: Rejection = Rejection {
    status: 426,
    reason: "Upgrade Required",
    extra_headers: "Upgrade: websocket\r\nConnection: Upgrade\r\n",
    body: "This is a WebSocket server (wsdeck). Connect with a WebSocket client.\n",
};
const BAD_VERSION: Rejection = Rejection {
    status: 426,
    reason: "Upgrade Required",
    extra_headers: "Sec-WebSocket-Version: 13\r\n",
    body: "Unsupported Sec-WebSocket-Version; this server speaks version 13.\n",
};
const BAD_METHOD: Rejection = Rejection {
    status: 405,
    reason: "Method Not Allowed",
    extra_headers: "Allow: GET\r\n",
    body: "Only GET upgrades to WebSocket are accepted.\n",
};
const BAD_REQUEST: Rejection = Rejection::new(400, "Bad Request", "Malformed HTTP request.\n");
const BAD_KEY: Rejection = Rejection::new(
    400,
    "Bad Request",
    "Missing or invalid Sec-WebSocket-Key.\n",
);
const TOO_LARGE: Rejection = Rejection::new(
    431,
    "Request Header Fields Too Large",
    "Request head too large.\n",
);
const FORBIDDEN_ORIGIN: Rejection = Rejection::new(403, "Forbidden", "Origin not allowed.\n");
pub(crate) const SERVER_FULL: Rejection = Rejection::new(
    503,
    "Service Unavailable",
    "Too many connections; try again later.\n",
);

/// Why the handshake did not produce a WebSocket.
pub(crate) enum Failure {
    /// Answered with this HTTP error; the connection should be closed gracefully.
    Rejected(Rejection, Stream),
    /// The peer went away or the socket failed.
    Io(io::Error),
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The socket has nothing to show.
            Failure::Rejected(r, _) => f.debug_tuple("Rejected").field(r).finish(),
            Failure::Io(e) => f.debug_tuple("Io").field(e).finish(),
        }
    }
}

/// What a valid upgrade request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upgrade {
    pub key: String,
    pub subprotocol: Option<String>,
    pub path: String,
    /// permessage-deflate as agreed, and the response header value saying so.
    pub deflate: Option<(Params, String)>,
}

/// Read the request head, answer it, and return the WebSocket on success.
pub(crate) async fn accept(mut tcp: Stream, policy: Policy<'_>) -> Result<(Ws, Upgrade), Failure> {
    // Heap buffers only: this future lives inside every connection's task.
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let (upgrade, head_len) = loop {
        buf.reserve(2048);
        let n = tcp.read_buf(&mut buf).await.map_err(Failure::Io)?;
        if n == 0 {
            return Err(Failure::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        match parse_request(&buf, &policy) {
            Parsed::Partial if buf.len() >= MAX_HEAD_BYTES => {
                return reject(tcp, TOO_LARGE).await;
            }
            Parsed::Partial => continue,
            Parsed::Reject(r) => return reject(tcp, r).await,
            Parsed::Upgrade(u, len) => break (u, len),
        }
    };
    let tail = buf.split_off(head_len);

    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(upgrade.key.as_bytes())
    );
    if let Some(p) = &upgrade.subprotocol {
        response.push_str("Sec-WebSocket-Protocol: ");
        response.push_str(p);
        response.push_str("\r\n");
    }
    if let Some((_, answer)) = &upgrade.deflate {
        response.push_str("Sec-WebSocket-Extensions: ");
        response.push_str(answer);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    tcp.write_all(response.as_bytes())
        .await
        .map_err(Failure::Io)?;

    let params = upgrade.deflate.as_ref().map(|(p, _)| *p);
    let stream = DeflateStream::after_upgrade(tcp, Role::Server, params, tail, policy.max_message);
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(policy.ws_config)).await;
    Ok((ws, upgrade))
}

async fn reject<T>(mut tcp: Stream, r: Rejection) -> Result<T, Failure> {
    tcp.write_all(&r.to_bytes()).await.map_err(Failure::Io)?;
    Err(Failure::Rejected(r, tcp))
}

/// Answer a connection we will not serve (e.g. over the connection limit) with `r`: read the
/// request head first (bounded), so the client sees the response rather than a reset.
pub(crate) async fn refuse(
    tcp: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    r: Rejection,
    max_wait: Duration,
) {
    let Ok(Ok(mut tcp)) = tokio::time::timeout(max_wait, tls::open(tcp, tls.as_ref())).await else {
        return;
    };
    let read_head = async {
        let mut buf = Vec::with_capacity(2048);
        while buf.len() < MAX_HEAD_BYTES && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            buf.reserve(2048);
            match tcp.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {}
            }
        }
        true
    };
    if !matches!(tokio::time::timeout(max_wait, read_head).await, Ok(true)) {
        return;
    }
    let response = r.to_bytes();
    let write = tcp.write_all(&response);
    if matches!(tokio::time::timeout(max_wait, write).await, Ok(Ok(()))) {
        linger_close(tcp, max_wait).await;
    }
}

/// Close after an error response without resetting the connection: stop writing, then read and
/// discard what the client still sends (bounded in bytes and time) so the response is not lost
/// to a TCP reset.
pub(crate) async fn linger_close(mut tcp: Stream, max_wait: Duration) {
    let _ = tcp.shutdown().await;
    let drain = async {
        let mut sink = vec![0u8; 8192];
        let mut total = 0usize;
        while total < 1024 * 1024 {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(max_wait, drain).await;
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Partial,
    Reject(Rejection),
    /// The upgrade and the length of the head (bytes after it are WebSocket data).
    Upgrade(Upgrade, usize),
}

fn parse_request(buf: &[u8], policy: &Policy<'_>) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Reject(TOO_LARGE),
        Err(_) => return Parsed::Reject(BAD_REQUEST),
    };
    if req.method != Some("GET") {
        return Parsed::Reject(BAD_METHOD);
    }
    if req.version != Some(1) {
        // HTTP/1.0 cannot upgrade.
        return Parsed::Reject(NOT_UPGRADE);
    }
    let header = |name: &str| -> Option<&str> {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(str::trim)
    };
    let has_token = |value: Option<&str>, token: &str| {
        value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token(header("Upgrade"), "websocket") || !has_token(header("Connection"), "upgrade") {
        return Parsed::Reject(NOT_UPGRADE);
    }
    if header("Sec-WebSocket-Version") != Some("13") {
        return Parsed::Reject(BAD_VERSION);
    }
    let key = match header("Sec-WebSocket-Key") {
        Some(k) if valid_key(k) => k.to_string(),
        _ => return Parsed::Reject(BAD_KEY),
    };
    if !policy.allowed_origins.is_empty() {
        // Clients that send no Origin (non-browsers, like wsdeck itself) are allowed.
        if let Some(origin) = header("Origin")
            && !policy
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
        {
            return Parsed::Reject(FORBIDDEN_ORIGIN);
        }
    }
    let subprotocol = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Protocol"))
        .filter_map(|h| std::str::from_utf8(h.value).ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|offered| policy.subprotocols.iter().any(|s| s == offered))
        .map(str::to_string);
    let path = req.path.unwrap_or("/").to_string();
    // Every line of the offer list, as RFC 7692 reads it; an offer we cannot take is declined.
    let deflate = policy.compression.as_ref().and_then(|server| {
        let offers: Vec<&str> = req
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect();
        deflate::negotiate(&offers, server)
    });
    Parsed::Upgrade(
        Upgrade {
            key,
            subprotocol,
            path,
            deflate,
        },
        head_len,
    )
}

/// A Sec-WebSocket-Key is base64 of 16 bytes.
fn valid_key(k: &str) -> bool {
    k.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(k)
            .is_ok_and(|b| b.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy<'a>(origins: &'a [String], protos: &'a [String]) -> Policy<'a> {
        Policy {
            allowed_origins: origins,
            subprotocols: protos,
            ws_config: WebSocketConfig::default(),
            compression: Some(ServerPolicy::LEAN),
            max_message: 1 << 20,
        }
    }

    const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    fn parse(req: &str) -> Parsed {
        parse_request(req.as_bytes(), &policy(&[], &[]))
    }

    #[test]
    fn valid_upgrade_is_accepted_with_head_length() {
        let req = format!("{UPGRADE}\r\n");
        let mut bytes = req.clone().into_bytes();
        bytes.extend_from_slice(&[0x81, 0x00]);
        match parse_request(&bytes, &policy(&[], &[])) {
            Parsed::Upgrade(u, len) => {
                assert_eq!(u.key, "dGhlIHNhbXBsZSBub25jZQ==");
                assert_eq!(u.path, "/chat");
                assert_eq!(u.subprotocol, None);
                assert_eq!(len, req.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn incomplete_head_is_partial() {
        assert_eq!(parse(UPGRADE), Parsed::Partial);
    }

    #[test]
    fn plain_get_is_426() {
        assert_eq!(
            parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Parsed::Reject(NOT_UPGRADE)
        );
    }

    #[test]
    fn other_errors() {
        assert_eq!(parse("garbage\x01\r\n\r\n"), Parsed::Reject(BAD_REQUEST));
        assert_eq!(
            parse(&format!("{}\r\n", UPGRADE.replace("GET", "POST"))),
            Parsed::Reject(BAD_METHOD)
        );
        assert_eq!(
            parse(&format!(
                "{}\r\n",
                UPGRADE.replace("Version: 13", "Version: 8")
            )),
            Parsed::Reject(BAD_VERSION)
        );
        assert_eq!(
            parse(&format!(
                "{}\r\n",
                UPGRADE.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")
            )),
            Parsed::Reject(BAD_KEY)
        );
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            parse(&format!("{UPGRADE}{many}\r\n")),
            Parsed::Reject(TOO_LARGE)
        );
    }

    #[test]
    fn origin_list_and_subprotocol() {
        let origins = vec!["https://ok.example".to_string()];
        let protos = vec!["chat".to_string()];
        let p = policy(&origins, &protos);
        let bad = format!("{UPGRADE}Origin: https://evil.example\r\n\r\n");
        assert_eq!(
            parse_request(bad.as_bytes(), &p),
            Parsed::Reject(FORBIDDEN_ORIGIN)
        );
        let good = format!(
            "{UPGRADE}Origin: https://ok.example\r\nSec-WebSocket-Protocol: x, chat\r\n\r\n"
        );
        match parse_request(good.as_bytes(), &p) {
            Parsed::Upgrade(u, _) => assert_eq!(u.subprotocol.as_deref(), Some("chat")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejection_is_a_complete_response() {
        let text = String::from_utf8(NOT_UPGRADE.to_bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
