//! HTTP/1.1 heads on the proxy's two sides: read with a size bound, parsed with `httparse`,
//! and the few responses the proxy writes itself.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::model::HttpHead;

/// Largest head (start line plus headers) read from either side.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub method: String,
    /// As sent: `/path?q`, `http://host/path`, `ws://host/path` or `host:port` (CONNECT).
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

/// Why a head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    Io(io::Error),
    /// The peer closed before sending a whole head.
    Closed,
    TooBig,
    Malformed(String),
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadError::Io(e) => write!(f, "the connection failed: {e}"),
            HeadError::Closed => f.write_str("the peer closed the connection before its HTTP head"),
            HeadError::TooBig => write!(f, "the HTTP head is over {MAX_HEAD_BYTES} bytes"),
            HeadError::Malformed(why) => write!(f, "the HTTP head is malformed ({why})"),
        }
    }
}

/// Read from `s` until a blank line ends the head. Returns the head's bytes (with the blank
/// line) and whatever was read after it.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    s: &mut S,
    mut buf: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), HeadError> {
    let mut scanned = 0;
    loop {
        if let Some(end) = find_end(&buf, scanned) {
            let rest = buf.split_off(end);
            return Ok((buf, rest));
        }
        scanned = buf.len().saturating_sub(3);
        if buf.len() >= MAX_HEAD_BYTES {
            return Err(HeadError::TooBig);
        }
        let mut chunk = [0u8; 4096];
        let room = (MAX_HEAD_BYTES + 4 - buf.len()).min(chunk.len());
        let n = s.read(&mut chunk[..room]).await.map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p + 4)
}

fn headers_of(hs: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    hs.iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn parse_request(head: &[u8]) -> Result<Request, HeadError> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut hs);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(Request {
            method: req.method.unwrap_or("GET").to_string(),
            target: req.path.unwrap_or("/").to_string(),
            headers: headers_of(req.headers),
        }),
        Ok(httparse::Status::Partial) => Err(HeadError::Malformed("incomplete".into())),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

pub(crate) fn parse_response(head: &[u8]) -> Result<Response, HeadError> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hs);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(Response {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            headers: headers_of(resp.headers),
        }),
        Ok(httparse::Status::Partial) => Err(HeadError::Malformed("incomplete".into())),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

/// The first value of header `name` (any letter case).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// True when a comma-separated header (Connection, Upgrade) lists `token`.
pub(crate) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl Request {
    /// A WebSocket upgrade request (`Upgrade: websocket`, `Connection: upgrade`).
    pub fn is_websocket(&self) -> bool {
        self.method.eq_ignore_ascii_case("GET")
            && has_token(&self.headers, "upgrade", "websocket")
            && has_token(&self.headers, "connection", "upgrade")
    }

    pub fn head(&self) -> HttpHead {
        HttpHead {
            start_line: format!("{} {} HTTP/1.1", self.method, self.target),
            headers: self.headers.clone(),
        }
    }
}

impl Response {
    pub fn head(&self) -> HttpHead {
        HttpHead {
            start_line: format!("HTTP/1.1 {} {}", self.status, self.reason),
            headers: self.headers.clone(),
        }
    }
}

/// Headers that belong to one hop, not passed from one side to the other (RFC 9110 §7.6.1);
/// `Connection` and `Upgrade` are written fresh for a WebSocket upgrade.
pub(crate) fn is_hop_by_hop(name: &str) -> bool {
    const HOP: [&str; 9] = [
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
    ];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Serialise a head: start line, headers, blank line.
pub(crate) fn head_bytes(start_line: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(start_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Write a short plain-text response the proxy itself makes (errors) and flush it.
pub(crate) async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: u16,
    reason: &str,
    body: &str,
) -> io::Result<()> {
    let text = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(text.as_bytes()).await?;
    s.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn heads_are_split_from_what_follows_and_bounded() {
        let data = b"GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00".to_vec();
        let mut r = &data[..];
        let (head, rest) = read_head(&mut r, Vec::new()).await.unwrap();
        assert_eq!(rest, b"\x81\x00");
        let req = parse_request(&head).unwrap();
        assert_eq!(
            (req.method.as_str(), req.target.as_str()),
            ("GET", "/chat?x=1")
        );
        assert!(req.is_websocket());
        let big = vec![b'a'; MAX_HEAD_BYTES * 2];
        let mut r = &big[..];
        assert!(matches!(
            read_head(&mut r, Vec::new()).await,
            Err(HeadError::TooBig)
        ));
        let mut r = &b"GET / HTTP/1.1\r\n"[..];
        assert!(matches!(
            read_head(&mut r, Vec::new()).await,
            Err(HeadError::Closed)
        ));
    }

    #[test]
    fn responses_parse_and_tokens_are_found_in_lists() {
        let r = parse_response(b"HTTP/1.1 403 Forbidden\r\nX: y\r\n\r\n").unwrap();
        assert_eq!((r.status, r.reason.as_str()), (403, "Forbidden"));
        let hs = vec![("CONNECTION".to_string(), "keep-alive, UPGRADE".to_string())];
        assert!(has_token(&hs, "connection", "upgrade"));
        assert!(!has_token(&hs, "connection", "close"));
        assert!(parse_request(b"\x00\x01garbage\r\n\r\n").is_err());
    }
}
