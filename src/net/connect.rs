//! Opening a session: resolve, TCP connect, TLS, HTTP upgrade; capture the upgrade as it
//! crossed the wire; map every failure to a one-line `NetError`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};

use super::events::Out;
use super::{clean_line, redirect, tls, via, ws_config};
use crate::model::{
    ConnState, HandshakeInfo, HttpHead, Leg, NetError, NetErrorKind, NetEvent, TlsInfo,
};
use crate::spec::{AuthMethod, ConnectSpec};
use crate::wire::deflate::Offer;
use crate::wire::deflate_stream::DeflateStream;
use crate::wire::stream::{Capture, Io, NetStream, SharedCapture, head_bytes};

pub(crate) type WsStream = WebSocketStream<DeflateStream<NetStream>>;

/// Headers tungstenite writes itself; a user header of that name replaces its value.
const UPGRADE_HEADERS: [&str; 5] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
];

/// Where the URL points.
struct Target {
    /// Host as written in the URL (IPv6 in brackets), for messages.
    host: String,
    /// Host without brackets, for DNS and TLS.
    bare_host: String,
    port: u16,
    tls: bool,
}

impl Target {
    fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// An open connection, and whether the credentials were left out of it (a redirect led to
/// another origin: the session then does not log in either).
pub(crate) struct Link {
    pub ws: WsStream,
    pub withheld: bool,
}

/// A failed try at one URL; `location`: it was a redirect to there.
struct HopError {
    error: NetError,
    location: Option<String>,
}

impl From<NetError> for HopError {
    fn from(error: NetError) -> Self {
        HopError {
            error,
            location: None,
        }
    }
}

/// Open the connection and complete the upgrade, emitting `Handshaking` and `Handshake` (for
/// each hop when `--location` follows redirects).
pub(crate) async fn open(spec: &ConnectSpec, out: &mut Out) -> Result<Link, NetError> {
    let first = crate::spec::validate_url(&spec.url).unwrap_or_else(|_| spec.url.clone());
    let mut visited = vec![first];
    let mut hop_spec = std::borrow::Cow::Borrowed(spec);
    let mut withheld = false;
    loop {
        let location = match open_hop(&hop_spec, out).await {
            Ok(ws) => return Ok(Link { ws, withheld }),
            Err(HopError {
                error,
                location: None,
            }) => return Err(error),
            Err(HopError {
                mut error,
                location: Some(location),
            }) => {
                if !spec.location {
                    error.message.push_str(" (--location follows redirects)");
                    return Err(error);
                }
                location
            }
        };
        let here = visited.last().cloned().unwrap_or_default();
        let next = redirect::resolve(&here, &location)
            .map_err(|e| NetError::new(NetErrorKind::Protocol, clean_line(&e.to_string())))?;
        if visited.contains(&next) {
            visited.push(next);
            return Err(NetError::new(
                NetErrorKind::Protocol,
                clean_line(&format!(
                    "redirect loop: {} — the server sends the client in a circle",
                    shown_chain(&visited)
                )),
            ));
        }
        if visited.len() > redirect::MAX_REDIRECTS {
            return Err(NetError::new(
                NetErrorKind::Protocol,
                clean_line(&format!(
                    "more than {} redirects (the last to {}): given up",
                    redirect::MAX_REDIRECTS,
                    crate::reach::redact_url(&next)
                )),
            ));
        }
        let (next_spec, stripped) = redirect::hop(spec, &visited[0], &next);
        withheld = stripped;
        let mut text = format!("redirected to {}", crate::reach::redact_url(&next));
        if stripped {
            text.push_str(
                " — another host: the Authorization and Cookie headers and the login are not \
                 sent there",
            );
        }
        out.emit(NetEvent::Notice {
            warn: stripped,
            text: clean_line(&text),
        });
        visited.push(next);
        hop_spec = std::borrow::Cow::Owned(next_spec);
    }
}

/// `a → b → c`, passwords masked.
fn shown_chain(urls: &[String]) -> String {
    urls.iter()
        .map(|u| crate::reach::redact_url(u))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One try at `spec.url`.
async fn open_hop(spec: &ConnectSpec, out: &mut Out) -> Result<WsStream, HopError> {
    let request = build_request(spec)?;
    let target = target(&request)?;
    let deadline = Instant::now() + spec.connect_timeout;
    let limit = spec.connect_timeout;

    let proxy = via::choose(spec, target.tls, &target.bare_host)?;
    if let Some(p) = &proxy {
        // The environment's proxy is known only now: its password is masked too.
        out.masker_mut().add_proxy(&p.url);
    }
    let link = connect_link(spec, &target, proxy.as_ref(), deadline, limit).await?;
    out.state(ConnState::Handshaking);

    let capture: SharedCapture = Arc::new(Mutex::new(Capture::default()));
    let (link, tls_info) = if target.tls {
        let (tls, info) = tls_handshake(spec, &target, link, deadline, limit).await?;
        (tls, Some(Box::new(info)))
    } else {
        (link, None)
    };
    let stream = NetStream::any(link, capture.clone());

    let stream = DeflateStream::client(stream, offer(spec), spec.max_message);
    let started = SystemTime::now();
    let upgrade = send_upgrade(spec, request, stream, &target, deadline, limit).await?;
    let finished = SystemTime::now();
    let base = HandshakeInfo {
        conn: 0, // numbered by `out.handshake`
        leg: Leg::Server,
        url: spec.url.clone(),
        started: Some(started),
        finished: Some(finished),
        proxy: proxy.as_ref().map(|p| p.label.clone()),
        tls: tls_info,
        ..Default::default()
    };
    match upgrade {
        Ok((ws, _response)) => upgraded(ws, &capture, base, out),
        Err(err) => Err(not_upgraded(err, &target, &capture, base, out)),
    }
}

/// A byte stream to the target: straight over TCP, or tunnelled through the chosen proxy.
async fn connect_link(
    spec: &ConnectSpec,
    target: &Target,
    proxy: Option<&via::Chosen>,
    deadline: Instant,
    limit: Duration,
) -> Result<Box<dyn Io>, NetError> {
    Ok(match proxy {
        None => {
            let addrs = resolve(target, deadline, limit).await?;
            let tcp = tcp_connect(target, &addrs, deadline, limit).await?;
            // Small interactive messages should not wait for Nagle; failure here is harmless.
            let _ = tcp.set_nodelay(true);
            Box::new(tcp)
        }
        Some(p) => {
            let dest = via::Dest {
                host: &target.bare_host,
                port: target.port,
            };
            via::tunnel(spec, p, dest, deadline, limit).await?
        }
    })
}

/// Send the upgrade request over `stream` and read the answer, within the deadline.
async fn send_upgrade(
    spec: &ConnectSpec,
    request: Request,
    stream: DeflateStream<NetStream>,
    target: &Target,
    deadline: Instant,
    limit: Duration,
) -> Result<Result<(WsStream, Response), WsError>, NetError> {
    let handshake = tokio_tungstenite::client_async_with_config(
        request,
        stream,
        Some(ws_config(spec.max_message)),
    );
    match timeout_at(deadline, handshake).await {
        Ok(r) => Ok(r),
        Err(_) => Err(timeout(
            &format!("WebSocket handshake with {}", target.addr()),
            limit,
        )),
    }
}

/// `base` with the request and response heads as they crossed the wire.
fn with_heads(base: HandshakeInfo, cap: &Capture) -> HandshakeInfo {
    HandshakeInfo {
        request: parse_head(&cap.sent),
        response: parse_head(&cap.received),
        ..base
    }
}

/// A 101: report the handshake, then check the extensions the server chose.
fn upgraded(
    mut ws: WsStream,
    capture: &SharedCapture,
    base: HandshakeInfo,
    out: &mut Out,
) -> Result<WsStream, HopError> {
    ws.get_mut().get_mut().stop_capture();
    let cap = lock(capture);
    let info = with_heads(base, &cap);
    drop(cap);
    out.handshake(info);
    // RFC 6455 §4.1: an extension we did not offer (or a malformed answer) fails it.
    if let Err(e) = ws.get_ref().negotiated() {
        return Err(NetError::new(NetErrorKind::Protocol, clean_line(&e.0)).into());
    }
    Ok(ws)
}

/// No upgrade: a TLS answer to ws://, the server's refusal as it came, or the failure itself.
fn not_upgraded(
    err: WsError,
    target: &Target,
    capture: &SharedCapture,
    base: HandshakeInfo,
    out: &mut Out,
) -> HopError {
    let cap = lock(capture);
    let got_response = !cap.received.is_empty();
    let speaks_tls = !target.tls && looks_like_tls(&cap.received);
    let refused = super::refusal::refused(&cap.received)
        .map(|(error, location)| HopError { error, location });
    let info = with_heads(base, &cap);
    drop(cap);
    if speaks_tls {
        return HopError::from(NetError::new(
            NetErrorKind::Tls,
            clean_line(&format!(
                "{} answered in TLS: it is a wss:// port, use wss:// instead of ws://",
                target.addr()
            )),
        ));
    }
    if got_response {
        out.handshake(info.clone());
    }
    // Whatever tungstenite made of it (an HTTP/1.0 answer is a protocol error to
    // it), an answer that is not a 101 is the server's refusal, said as it came.
    if let Some(e) = refused {
        return e;
    }
    upgrade_error(err, target, &info).into()
}

/// TLS over `link` to the target: the configured trust, the server name from the URL.
async fn tls_handshake(
    spec: &ConnectSpec,
    target: &Target,
    link: Box<dyn Io>,
    deadline: Instant,
    limit: Duration,
) -> Result<(Box<dyn Io>, TlsInfo), NetError> {
    let config = tls::client_config(spec.insecure, &spec.trust)
        .map_err(|e| NetError::new(NetErrorKind::Tls, clean_line(&format!("TLS: {e}"))))?;
    let name = tls::server_name(&target.bare_host)
        .map_err(|e| NetError::new(NetErrorKind::Tls, clean_line(&format!("TLS: {e}"))))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match timeout_at(deadline, connector.connect(name, link)).await {
        Err(_) => Err(timeout(
            &format!("TLS handshake with {}", target.addr()),
            limit,
        )),
        Ok(Err(e)) => Err(NetError::new(
            NetErrorKind::Tls,
            format!(
                "TLS: {}",
                clean_line(&tls::describe_error(&e, &target.addr()))
            ),
        )),
        Ok(Ok(s)) => {
            let info = tls::session_info(s.get_ref().1, spec.insecure);
            Ok((Box::new(s), info))
        }
    }
}

/// The first bytes of a TLS record (handshake or alert, version 3.x): what a TLS port
/// answers to a plain HTTP request.
fn looks_like_tls(received: &[u8]) -> bool {
    matches!(received, [0x15 | 0x16, 0x03, ..])
}

/// What we offer: permessage-deflate as browsers do, unless turned off; a user's own
/// `Sec-WebSocket-Extensions` header is sent instead of ours and judged the same way.
fn offer(spec: &ConnectSpec) -> Option<Offer> {
    let own = spec
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case(EXTENSIONS) && v.contains(crate::wire::deflate::NAME));
    (spec.compression || own).then(Offer::default)
}

const EXTENSIONS: &str = "sec-websocket-extensions";

fn lock(c: &SharedCapture) -> std::sync::MutexGuard<'_, Capture> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// The upgrade request: URL, user headers, subprotocol and HTTP credentials.
fn build_request(spec: &ConnectSpec) -> Result<Request, NetError> {
    let url = crate::spec::validate_url(&spec.url)
        .map_err(|e| NetError::new(NetErrorKind::BadUrl, clean_line(&format!("{e:#}"))))?;
    let mut request = url.as_str().into_client_request().map_err(|e| {
        NetError::new(
            NetErrorKind::BadUrl,
            clean_line(&format!("bad URL {url:?}: {e}")),
        )
    })?;
    let headers = request.headers_mut();
    for (name, value) in &spec.headers {
        let bad = || {
            NetError::new(
                NetErrorKind::BadUrl,
                clean_line(&format!("bad header {name:?}: not a valid HTTP header")),
            )
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        if UPGRADE_HEADERS.contains(&name.as_str()) {
            headers.insert(name, value);
        } else {
            headers.append(name, value);
        }
    }
    let own_extensions = spec
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(EXTENSIONS));
    if spec.compression && !own_extensions {
        headers.insert(
            EXTENSIONS,
            HeaderValue::from_str(&Offer::default().header_value())
                .expect("the offer is a valid header value"),
        );
    }
    if !spec.subprotocols.is_empty() {
        let list = spec.subprotocols.join(", ");
        let value = HeaderValue::from_str(&list).map_err(|_| {
            NetError::new(
                NetErrorKind::BadUrl,
                clean_line(&format!("bad subprotocol {list:?}")),
            )
        })?;
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    let credential = match spec.auth {
        AuthMethod::Basic => {
            let raw = format!("{}:{}", spec.user, spec.password.expose());
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ))
        }
        AuthMethod::Bearer => Some(format!("Bearer {}", spec.password.expose())),
        AuthMethod::FirstMessage | AuthMethod::None => None,
    };
    if let Some(c) = credential {
        let mut value = HeaderValue::from_str(&c).map_err(|_| {
            NetError::new(
                NetErrorKind::Protocol,
                "the credential cannot be sent in an HTTP header (it contains control characters)",
            )
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(request)
}

fn target(request: &Request) -> Result<Target, NetError> {
    let uri = request.uri();
    let tls = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => {
            return Err(NetError::new(
                NetErrorKind::BadUrl,
                "bad URL: scheme must be ws:// or wss://",
            ));
        }
    };
    let host = uri.host().unwrap_or_default().to_string();
    let bare_host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host)
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok(Target {
        host,
        bare_host,
        port,
        tls,
    })
}

async fn resolve(
    target: &Target,
    deadline: Instant,
    limit: Duration,
) -> Result<Vec<SocketAddr>, NetError> {
    let lookup = tokio::net::lookup_host((target.bare_host.as_str(), target.port));
    match timeout_at(deadline, lookup).await {
        Err(_) => Err(timeout(&format!("DNS lookup of {}", target.host), limit)),
        Ok(Err(e)) => Err(NetError::new(
            NetErrorKind::Dns,
            clean_line(&format!("DNS: cannot resolve host {}: {e}", target.host)),
        )),
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(NetError::new(
                    NetErrorKind::Dns,
                    clean_line(&format!("DNS: host {} has no addresses", target.host)),
                ))
            } else {
                Ok(addrs)
            }
        }
    }
}

/// Try each address in turn; report the first address's refusal or the last other error.
async fn tcp_connect(
    target: &Target,
    addrs: &[SocketAddr],
    deadline: Instant,
    limit: Duration,
) -> Result<TcpStream, NetError> {
    let mut last_err = None;
    for addr in addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(timeout(&format!("TCP connect to {}", target.addr()), limit));
            }
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => last_err = Some(e),
        }
    }
    let e = last_err.expect("at least one address was tried");
    Err(match e.kind() {
        std::io::ErrorKind::ConnectionRefused => NetError::new(
            NetErrorKind::Refused,
            // What happened, then the way out (the client and `pipe` say it alike).
            clean_line(&format!(
                "connection refused to {} — check that the server is running and the URL's \
                 port is right",
                target.addr()
            )),
        ),
        _ => NetError::new(
            NetErrorKind::Io,
            clean_line(&format!("cannot connect to {}: {e}", target.addr())),
        ),
    })
}

fn timeout(phase: &str, limit: Duration) -> NetError {
    NetError::new(
        NetErrorKind::Timeout,
        clean_line(&format!(
            "timeout: {phase} did not finish within {}",
            super::human_duration(limit)
        )),
    )
}

fn upgrade_error(err: WsError, target: &Target, info: &HandshakeInfo) -> NetError {
    let response = &info.response;
    match err {
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e)) => NetError::new(
            NetErrorKind::Protocol,
            clean_line(&subprotocol_error(&e, info)),
        ),
        WsError::Http(resp) => {
            let status = resp.status();
            let line = if response.start_line.is_empty() {
                format!(
                    "{:?} {} {}",
                    resp.version(),
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )
            } else {
                response.start_line.clone()
            };
            NetError::new(
                NetErrorKind::Http(status.as_u16()),
                clean_line(&super::refusal::refusal(
                    line.trim(),
                    resp.headers(),
                    resp.body().as_deref(),
                )),
            )
        }
        WsError::Protocol(ProtocolError::HandshakeIncomplete) | WsError::ConnectionClosed => {
            NetError::new(
                NetErrorKind::Io,
                format!(
                    "handshake: {} closed the connection before answering the upgrade",
                    clean_line(&target.addr())
                ),
            )
        }
        // TLS 1.3 servers judge a client certificate after the handshake: their refusal
        // arrives with the upgrade's answer.
        WsError::Io(e) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => NetError::new(
            NetErrorKind::Tls,
            format!(
                "TLS: {}",
                clean_line(&tls::describe_error(&e, &target.addr()))
            ),
        ),
        WsError::Io(e) => NetError::new(
            NetErrorKind::Io,
            clean_line(&format!("handshake with {} failed: {e}", target.addr())),
        ),
        WsError::Url(e) => {
            NetError::new(NetErrorKind::BadUrl, clean_line(&format!("bad URL: {e}")))
        }
        WsError::Tls(e) => NetError::new(NetErrorKind::Tls, clean_line(&format!("TLS: {e}"))),
        other => NetError::new(
            NetErrorKind::Protocol,
            clean_line(&format!("handshake: {other}")),
        ),
    }
}

/// The server's answer did not fit the subprotocols asked for, as a sentence.
fn subprotocol_error(e: &SubProtocolError, info: &HandshakeInfo) -> String {
    let header = |h: &HttpHead| {
        h.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
            .map(|(_, v)| v.clone())
    };
    let asked = header(&info.request).unwrap_or_default();
    let chosen = header(&info.response).unwrap_or_default();
    match e {
        SubProtocolError::NoSubProtocol => format!(
            "the server chose none of the subprotocols asked for ({asked}): its 101 has no \
             Sec-WebSocket-Protocol; leave out --subprotocol if it speaks none of them"
        ),
        SubProtocolError::InvalidSubProtocol => format!(
            "the server chose the subprotocol {chosen:?}, which was not asked for ({asked})"
        ),
        SubProtocolError::ServerSentSubProtocolNoneRequested => format!(
            "the server chose the subprotocol {chosen:?} though none was asked for: pass \
             --subprotocol {chosen} if that is what it speaks"
        ),
    }
}

/// Parse a captured HTTP head into its start line and headers (as they were: the event is
/// masked as it is reported).
fn parse_head(bytes: &[u8]) -> HttpHead {
    let text = String::from_utf8_lossy(head_bytes(bytes));
    let mut lines = text.split("\r\n");
    let start_line = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    HttpHead {
        start_line,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Secret;

    #[test]
    fn captured_heads_are_masked_as_reported_unless_told_not_to() {
        let raw = b"GET /chat HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\ncookie: s=1\r\n\r\n\x81";
        let masked = |no_redact: bool| {
            let mut spec = ConnectSpec::new("ws://h/chat");
            spec.no_redact = no_redact;
            let mut h = crate::model::HandshakeInfo {
                request: parse_head(raw),
                ..Default::default()
            };
            crate::record::redact::Masker::for_files(&spec).handshake(&mut h);
            h.request
        };
        let head = masked(false);
        assert_eq!(head.start_line, "GET /chat HTTP/1.1");
        assert_eq!(
            head.headers,
            vec![
                ("Host".to_string(), "h".to_string()),
                ("Authorization".to_string(), "***".to_string()),
                ("cookie".to_string(), "***".to_string()),
            ]
        );
        let open = masked(true);
        assert_eq!(open.headers[1].1, "Basic YTpi");
    }

    fn header(req: &Request, name: &str) -> Option<String> {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn request_carries_credentials_headers_and_subprotocol() {
        let mut spec = ConnectSpec::new("ws://127.0.0.1:9/x?y=1");
        spec.user = "admin".into();
        spec.password = Secret::new("123456");
        spec.auth = AuthMethod::Basic;
        spec.subprotocols = vec!["chat".into(), "superchat".into()];
        spec.headers = vec![
            ("Origin".into(), "http://me".into()),
            ("Host".into(), "other".into()),
        ];
        let req = build_request(&spec).unwrap();
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Basic YWRtaW46MTIzNDU2")
        );
        assert_eq!(
            header(&req, "sec-websocket-protocol").as_deref(),
            Some("chat, superchat")
        );
        assert_eq!(header(&req, "origin").as_deref(), Some("http://me"));
        assert_eq!(req.headers().get_all("host").iter().count(), 1);
        assert_eq!(header(&req, "host").as_deref(), Some("other"));

        spec.auth = AuthMethod::Bearer;
        let req = build_request(&spec).unwrap();
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Bearer 123456")
        );
        spec.auth = AuthMethod::FirstMessage;
        assert!(header(&build_request(&spec).unwrap(), "authorization").is_none());
    }

    #[test]
    fn bad_urls_are_reported_as_such() {
        for url in ["http://x", "ws://", "non sense", "ws://exa mple"] {
            let err = build_request(&ConnectSpec::new(url)).unwrap_err();
            assert_eq!(err.kind, NetErrorKind::BadUrl, "{url}");
            assert!(err.message.contains("bad URL"), "{url}: {}", err.message);
        }
    }

    #[test]
    fn ipv6_hosts_lose_their_brackets_for_dns() {
        let req = build_request(&ConnectSpec::new("wss://[::1]:9443/")).unwrap();
        let t = target(&req).unwrap();
        assert_eq!(t.bare_host, "::1");
        assert_eq!(t.addr(), "[::1]:9443");
        assert!(t.tls);
        let t = target(&build_request(&ConnectSpec::new("ws://h/")).unwrap()).unwrap();
        assert_eq!(t.port, 80);
    }
}
