//! Forward mode: wsdeck as the HTTP proxy a browser is pointed at.
//!
//! - `CONNECT host:port`: the tunnel's first bytes decide. A TLS hello is decrypted with a
//!   certificate from the local CA under `--mitm` (unless the host is ignored), else relayed
//!   blind; plain HTTP inside is read like any request.
//! - `GET ws://…` / `GET http://…` with an upgrade: relayed as a WebSocket.
//! - Any other absolute-form request: passed through to its server (`Connection: close`, so
//!   each request gets a connection of its own), so pages load through the proxy.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::http::{self, Request};
use super::relay::BoxIo;
use super::upstream::{self, Target};
use super::{ClientCtx, ProxyEvent, Shared, TunnelKind, client_url, read_request, refuse};

/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    mut io: BoxIo,
    rest: Vec<u8>,
    req: Request,
    peer: SocketAddr,
    deadline: Instant,
) {
    if req.method.eq_ignore_ascii_case("CONNECT") {
        connect(shared, io, rest, req, peer, deadline).await;
        return;
    }
    if !req.target.contains("://") {
        let msg = "this is wsdeck's HTTP proxy: set it as the proxy of a browser or client \
                   (requests must name their host, as in GET http://host/path)";
        refuse(shared, &mut io, peer, 400, msg).await;
        return;
    }
    let target = match Target::parse(&req.target) {
        Ok(t) => t,
        Err(e) => {
            refuse(shared, &mut io, peer, 400, &e.to_string()).await;
            return;
        }
    };
    request(shared, io, rest, req, target, peer, deadline, false).await;
}

/// A request whose server is known: a WebSocket relay, or HTTP passed through.
#[allow(clippy::too_many_arguments)]
async fn request(
    shared: &Arc<Shared>,
    io: BoxIo,
    rest: Vec<u8>,
    req: Request,
    target: Target,
    peer: SocketAddr,
    deadline: Instant,
    mitm: bool,
) {
    if req.is_websocket() {
        let ctx = ClientCtx {
            peer,
            deadline,
            mitm,
            client_url: client_url(&req, target.tls),
        };
        super::websocket(shared, io, rest, req, target, ctx).await;
    } else {
        pass_http(shared, io, rest, req, target, peer).await;
    }
}

async fn connect(
    shared: &Arc<Shared>,
    mut io: BoxIo,
    mut rest: Vec<u8>,
    req: Request,
    peer: SocketAddr,
    deadline: Instant,
) {
    let authority = req.target.clone();
    let target = match Target::parse(&format!("ws://{authority}")) {
        Ok(t) if authority.contains(':') => t,
        _ => {
            let msg = format!("CONNECT needs host:port, not {authority:?}");
            refuse(shared, &mut io, peer, 400, &msg).await;
            return;
        }
    };
    // Reach the target before saying yes: a client hears 502 for a host that cannot be
    // reached (what curl and browsers expect from a proxy), not a tunnel that dies.
    let reach = upstream::open_stream(&target.host, target.port, None);
    let up = match tokio::time::timeout_at(deadline.into(), reach).await {
        Ok(Ok(up)) => up,
        Ok(Err(e)) => {
            refuse(shared, &mut io, peer, 502, &e.to_string()).await;
            return;
        }
        Err(_) => {
            let msg = format!("{authority} did not answer before the handshake timeout");
            refuse(shared, &mut io, peer, 504, &msg).await;
            return;
        }
    };
    if io
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let _ = io.flush().await;
    // Both TLS and HTTP clients speak first: their first byte says which it is.
    if rest.is_empty() {
        let mut first = [0u8; 4096];
        match tokio::time::timeout_at(deadline.into(), io.read(&mut first)).await {
            Ok(Ok(n)) if n > 0 => rest.extend_from_slice(&first[..n]),
            _ => return,
        }
    }
    let tls = rest[0] == TLS_HANDSHAKE;
    let ignored = shared
        .cfg
        .ignore_hosts
        .iter()
        .any(|re| re.is_match(&authority));
    if tls && (shared.cfg.mitm.is_none() || ignored) {
        blind(shared, io, up, rest, &target, peer).await;
        return;
    }
    // Decrypted or plain, each request inside opens its own connection to the target.
    drop(up);
    let (io, rest, tls_target) = if tls {
        let Some(ca) = &shared.cfg.mitm else { return };
        let cfg = match ca.server_config(&target.host) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("no certificate for {}: {e:#}", target.host);
                return;
            }
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
        let stream = Prefixed::new(rest, io);
        match tokio::time::timeout_at(deadline.into(), acceptor.accept(stream)).await {
            Ok(Ok(s)) => (Box::new(s) as BoxIo, Vec::new(), true),
            _ => {
                shared
                    .emit(ProxyEvent::Refused {
                        client: peer,
                        status: 0,
                        message: format!(
                            "the client refused wsdeck's certificate for {} (does it trust the wsdeck CA? see `wsdeck ca`)",
                            target.host
                        ),
                    })
                    .await;
                return;
            }
        }
    } else {
        (io, rest, false)
    };
    let mut io = io;
    let (inner, rest) = match read_request(&mut io, rest, deadline).await {
        Ok(r) => r,
        Err((status, msg)) => {
            refuse(shared, &mut io, peer, status, &msg).await;
            return;
        }
    };
    let path = if inner.target.starts_with('/') {
        inner.target.clone()
    } else {
        // An absolute-form target inside a tunnel: keep only its path.
        Target::parse(&inner.target)
            .map(|t| t.path)
            .unwrap_or_else(|_| "/".into())
    };
    let target = Target {
        tls: tls_target,
        path,
        ..target
    };
    request(shared, io, rest, inner, target, peer, deadline, tls_target).await;
}

/// Relay a TLS tunnel without looking inside.
async fn blind(
    shared: &Arc<Shared>,
    mut io: BoxIo,
    mut up: BoxIo,
    rest: Vec<u8>,
    target: &Target,
    peer: SocketAddr,
) {
    let conn = shared.next_conn();
    shared
        .emit(ProxyEvent::TunnelOpened {
            conn,
            client: peer,
            target: target.authority.clone(),
            kind: TunnelKind::BlindTls,
        })
        .await;
    let first = up.write_all(&rest).await;
    let (up_bytes, down) = match first {
        Ok(()) => tokio::io::copy_bidirectional(&mut io, &mut up)
            .await
            .unwrap_or((0, 0)),
        Err(_) => (0, 0),
    };
    shared
        .emit(ProxyEvent::TunnelClosed {
            conn,
            up: up_bytes + rest.len() as u64,
            down,
        })
        .await;
}

/// Pass one plain HTTP request (and its response) through.
async fn pass_http(
    shared: &Arc<Shared>,
    mut io: BoxIo,
    rest: Vec<u8>,
    req: Request,
    target: Target,
    peer: SocketAddr,
) {
    let conn = shared.next_conn();
    let url = format!(
        "{}://{}{}",
        if target.tls { "https" } else { "http" },
        target.authority,
        target.path
    );
    let tls = target.tls.then_some(&shared.client_tls);
    let mut up = match upstream::open_stream(&target.host, target.port, tls).await {
        Ok(s) => s,
        Err(e) => {
            refuse(shared, &mut io, peer, 502, &e.to_string()).await;
            return;
        }
    };
    shared
        .emit(ProxyEvent::TunnelOpened {
            conn,
            client: peer,
            target: target.authority.clone(),
            kind: TunnelKind::Http {
                method: req.method.clone(),
                url: crate::record::redact_url(&url).into_owned(),
            },
        })
        .await;
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| !http::is_hop_by_hop(n))
        .cloned()
        .collect();
    if http::header(&headers, "host").is_none() {
        headers.insert(0, ("Host".into(), target.authority.clone()));
    }
    headers.push(("Connection".into(), "close".into()));
    let head = http::head_bytes(
        &format!("{} {} HTTP/1.1", req.method, target.path),
        &headers,
    );
    let sent = async {
        up.write_all(&head).await?;
        up.write_all(&rest).await
    }
    .await;
    let (up_bytes, down) = match sent {
        Ok(()) => tokio::io::copy_bidirectional(&mut io, &mut up)
            .await
            .unwrap_or((0, 0)),
        Err(_) => (0, 0),
    };
    shared
        .emit(ProxyEvent::TunnelClosed {
            conn,
            up: up_bytes + (head.len() + rest.len()) as u64,
            down,
        })
        .await;
}

/// A stream that first yields bytes already read from it.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    inner: BoxIo,
}

impl Prefixed {
    fn new(prefix: Vec<u8>, inner: BoxIo) -> Self {
        Prefixed {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = (this.prefix.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
