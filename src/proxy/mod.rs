//! `wsdeck proxy`: relay other clients' WebSocket connections, log every message, hold and
//! edit the ones an intercept rule matches, inject new ones.
//!
//! - `http.rs`: bounded HTTP heads, the proxy's own error answers,
//! - `upstream.rs`: the server leg (TCP/TLS, the upgrade with the client's headers),
//! - `relay.rs`: one task per connection, one pump per direction; `steer.rs`: intercept and
//!   inject,
//! - `compress.rs`: permessage-deflate negotiated per leg, inflated and compressed again,
//! - `frame.rs`: frame headers, masks and close payloads,
//! - `forward.rs`: forward mode (CONNECT, absolute-form requests, plain HTTP, blind tunnels),
//! - `ca.rs`: the local CA and per-host certificates for `--mitm`,
//! - `rules.rs`: redaction by shape and by rule; the intercept predicate.
//!
//! A front end (the headless printer, a UI) gets [`ProxyEvent`]s from [`RunningProxy::recv`]
//! and steers connections through its [`Control`]. Nothing is shared between the front end and
//! the relays but channels: each connection's `Opened` event carries the senders of its pumps'
//! command queues, the front end's `Control` keeps them (until `Closed`), and each pump owns its
//! held messages. Events are bounded: a front end that does not keep up slows the relays down
//! rather than growing memory.

pub mod ca;
mod compress;
mod forward;
mod frame;
mod http;
mod relay;
pub mod rules;
pub mod tape;
mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::model::{CloseInfo, Direction, FrameRecord, HandshakeInfo, Leg, Opcode};
use http::Request;
use relay::{BoxIo, PumpCmd, RelayShared};
use upstream::{Target, UpstreamError};

pub use rules::{InterceptRule, LoginPhase, LoginState, MIN_SECRET, Redaction, intercept_rule};

/// Default `--max-connections` of the proxy.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How the proxy runs. Build with [`ProxyConfig::new`], then adjust fields.
#[derive(Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// Reverse mode: every client is relayed to this `ws://`/`wss://` URL (path and query
    /// of the client's request kept). `None`: forward mode, an HTTP proxy.
    pub upstream: Option<String>,
    /// Forward mode: terminate TLS inside CONNECT with certificates from this CA.
    pub mitm: Option<Arc<ca::Ca>>,
    /// Hosts (regexes over `host:port`) whose CONNECT tunnels are relayed blind even with
    /// `--mitm`.
    pub ignore_hosts: Vec<regex::Regex>,
    /// Accept any certificate from `wss://` servers.
    pub insecure: bool,
    /// CA certificates (PEM) trusted for `wss://` servers instead of the system store.
    pub cacert: Option<std::path::PathBuf>,
    pub redaction: Redaction,
    /// Largest frame and message relayed; a bigger one closes its sender's side with 1009.
    pub max_message_size: usize,
    /// Client connections served at once; more are answered 503.
    pub max_connections: usize,
    /// Bound on reading a client's request head plus opening the server leg.
    pub handshake_timeout: Duration,
    /// How long a closing connection waits for the other side's Close and end of stream.
    pub close_timeout: Duration,
    /// Start with this intercept rule on.
    pub intercept: Option<InterceptRule>,
    /// Events buffered for the front end before relays wait for it.
    pub event_capacity: usize,
}

impl ProxyConfig {
    pub fn new(listen: SocketAddr, upstream: Option<String>) -> Self {
        ProxyConfig {
            listen,
            upstream,
            mitm: None,
            ignore_hosts: Vec::new(),
            insecure: false,
            cacert: None,
            redaction: Redaction::default(),
            max_message_size: crate::server::DEFAULT_MAX_MESSAGE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            handshake_timeout: Duration::from_secs(crate::server::DEFAULT_HANDSHAKE_TIMEOUT_SECS),
            close_timeout: Duration::from_secs(3),
            intercept: None,
            event_capacity: 1024,
        }
    }
}

/// A WebSocket connection that opened through the proxy.
#[derive(Debug, Clone)]
pub struct Opened {
    pub conn: u64,
    pub client: SocketAddr,
    /// The server URL it was relayed to.
    pub url: String,
    /// TLS from the client was terminated by wsdeck (`--mitm`).
    pub mitm: bool,
    /// The client's upgrade to wsdeck and wsdeck's answer.
    pub client_leg: HandshakeInfo,
    /// wsdeck's upgrade to the server and the server's answer.
    pub server_leg: HandshakeInfo,
    /// The way to the connection's pumps (kept by the front end's [`Control`]).
    pub steer: Steer,
}

/// One message or control frame, as logged.
#[derive(Debug, Clone)]
pub struct ProxyFrame {
    pub record: FrameRecord,
    /// Frames the message came in (1 unless the sender fragmented it).
    pub fragments: u32,
}

/// How a connection ended: each side's Close (code 1005 when it had none; 1006 when the
/// side went away without one).
#[derive(Debug, Clone)]
pub struct Closed {
    pub conn: u64,
    pub client: Option<CloseInfo>,
    pub server: Option<CloseInfo>,
    /// Held messages that were never passed on (reported as `dropped` frames before this).
    pub lost_held: usize,
}

/// A connection that is not a WebSocket the proxy decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelKind {
    /// TLS relayed without decrypting (no `--mitm`, or an ignored host).
    BlindTls,
    /// A plain HTTP request passed through (`method`, absolute URL).
    Http { method: String, url: String },
}

/// What the proxy reports, in order per connection.
#[derive(Debug, Clone)]
pub enum ProxyEvent {
    Opened(Box<Opened>),
    /// Messages passed on (or dropped, injected, edited), in the order they happened.
    Frames {
        conn: u64,
        frames: Vec<ProxyFrame>,
    },
    /// A message intercept holds until it is forwarded, edited or dropped.
    Held {
        conn: u64,
        frame: FrameRecord,
    },
    Closed(Closed),
    TunnelOpened {
        conn: u64,
        client: SocketAddr,
        target: String,
        kind: TunnelKind,
    },
    TunnelClosed {
        conn: u64,
        /// Bytes client→server and server→client.
        up: u64,
        down: u64,
    },
    /// A client was answered with an HTTP error instead of being relayed.
    Refused {
        client: SocketAddr,
        status: u16,
        message: String,
    },
    /// A command could not be carried out, or something the user should know.
    Notice {
        conn: u64,
        message: String,
    },
}

/// Steering commands, for a connection's pumps.
#[derive(Debug, Clone)]
pub enum ProxyCommand {
    /// Pass a held message on unchanged (`seq` from its `Held` event).
    Forward {
        conn: u64,
        seq: u64,
    },
    Drop {
        conn: u64,
        seq: u64,
    },
    /// Pass a held message on with this payload instead.
    Edit {
        conn: u64,
        seq: u64,
        payload: Bytes,
    },
    /// Forward every held message of a connection (`None`: of all connections).
    ForwardAll {
        conn: Option<u64>,
    },
    /// Send a new message to the peer `dir` points at (`ClientToServer`: to the server).
    Inject {
        conn: u64,
        dir: Direction,
        opcode: Opcode,
        payload: Bytes,
    },
}

/// The command queues of one connection's pumps; it comes with its `Opened` event.
#[derive(Clone, Debug)]
pub struct Steer {
    /// The pump writing to the server (client→server).
    to_server: mpsc::UnboundedSender<PumpCmd>,
    to_client: mpsc::UnboundedSender<PumpCmd>,
}

impl Steer {
    /// Give both pumps `p`; true when either took it.
    fn both(&self, p: PumpCmd) -> bool {
        let a = self.to_server.send(p.clone()).is_ok();
        let b = self.to_client.send(p).is_ok();
        a || b
    }
}

/// Steers a running proxy: the front end's own map of open connections to their pumps' queues
/// (filled from `Opened`, emptied by `Closed`, as [`RunningProxy`] hands events out) and the
/// intercept rule's sender.
pub struct Control {
    conns: HashMap<u64, Steer>,
    rule: watch::Sender<Option<InterceptRule>>,
    /// The proxy is shutting down: a connection that opens now is closed at once.
    closing_all: bool,
}

/// How long a shutting-down proxy waits for its connections' peers to answer its Close.
pub const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The close both peers of every connection get when the proxy shuts down.
const SHUTDOWN_CLOSE: (u16, &str) = (1000, "wsdeck proxy shut down");

impl Control {
    /// Keep track of open connections from an event on its way to the front end.
    fn observe(&mut self, ev: &ProxyEvent) {
        match ev {
            ProxyEvent::Opened(o) => {
                if self.closing_all {
                    Self::close(&o.steer);
                }
                self.conns.insert(o.conn, o.steer.clone());
            }
            ProxyEvent::Closed(c) => {
                self.conns.remove(&c.conn);
            }
            _ => {}
        }
    }

    /// Write a Close to both peers of a connection (the proxy shuts down).
    fn close(s: &Steer) {
        let (code, reason) = SHUTDOWN_CLOSE;
        s.both(PumpCmd::Close(code, reason.to_string()));
    }

    /// Carry out a command. False when its connection is not open (any more).
    pub fn send(&self, cmd: ProxyCommand) -> bool {
        let conn = |c: &u64| self.conns.get(c);
        match cmd {
            ProxyCommand::Forward { conn: c, seq } => {
                conn(&c).is_some_and(|s| s.both(PumpCmd::Forward(seq)))
            }
            ProxyCommand::Drop { conn: c, seq } => {
                conn(&c).is_some_and(|s| s.both(PumpCmd::Drop(seq)))
            }
            ProxyCommand::Edit {
                conn: c,
                seq,
                payload,
            } => conn(&c).is_some_and(|s| s.both(PumpCmd::Edit(seq, payload))),
            ProxyCommand::ForwardAll { conn: Some(c) } => {
                conn(&c).is_some_and(|s| s.both(PumpCmd::ForwardAll))
            }
            ProxyCommand::ForwardAll { conn: None } => {
                // Every connection, even after one took it (no short circuit).
                let mut any = false;
                for s in self.conns.values() {
                    any |= s.both(PumpCmd::ForwardAll);
                }
                any
            }
            ProxyCommand::Inject {
                conn: c,
                dir,
                opcode,
                payload,
            } => conn(&c).is_some_and(|s| {
                let to = match dir {
                    Direction::ClientToServer => &s.to_server,
                    Direction::ServerToClient => &s.to_client,
                };
                to.send(PumpCmd::Inject(opcode, payload)).is_ok()
            }),
        }
    }

    /// Hold matching messages from now on (`None`: hold nothing; already held ones stay
    /// held until forwarded or dropped).
    pub fn set_intercept(&self, rule: Option<InterceptRule>) {
        self.rule.send_replace(rule);
    }

    /// Connections open now (as far as the events handed out so far say).
    pub fn open_connections(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.conns.keys().copied().collect();
        v.sort_unstable();
        v
    }
}

/// A listening proxy. Dropping it stops accepting; open connections end on their own.
pub struct RunningProxy {
    addr: SocketAddr,
    events: mpsc::Receiver<ProxyEvent>,
    control: Control,
    accept: JoinHandle<()>,
}

impl RunningProxy {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Steer connections (the ones whose `Opened` was handed out and not yet `Closed`).
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// The next event (`None`: the proxy stopped). Cancel-safe.
    pub async fn recv(&mut self) -> Option<ProxyEvent> {
        let ev = self.events.recv().await?;
        self.control.observe(&ev);
        Some(ev)
    }

    /// An event already waiting, if any.
    pub fn try_recv(&mut self) -> Option<ProxyEvent> {
        let ev = self.events.try_recv().ok()?;
        self.control.observe(&ev);
        Some(ev)
    }

    /// Up to `limit` events into `buf` (waiting for the first); 0 when the proxy stopped.
    /// Cancel-safe.
    pub async fn recv_many(&mut self, buf: &mut Vec<ProxyEvent>, limit: usize) -> usize {
        let from = buf.len();
        let n = self.events.recv_many(buf, limit).await;
        for ev in &buf[from..] {
            self.control.observe(ev);
        }
        n
    }

    /// Shut down as a user quitting expects: stop accepting, write a Close 1000 to both
    /// peers of every open connection, and hand every event to `each` (their closes, the
    /// `Closed` of each connection) until all have closed or `within` has passed.
    pub async fn shut_down(
        &mut self,
        within: std::time::Duration,
        mut each: impl FnMut(ProxyEvent),
    ) {
        self.accept.abort();
        self.control.closing_all = true;
        for s in self.control.conns.values() {
            Control::close(s);
        }
        let deadline = tokio::time::Instant::now() + within;
        while !self.control.conns.is_empty() {
            match tokio::time::timeout_at(deadline, self.recv()).await {
                Ok(Some(ev)) => each(ev),
                Ok(None) | Err(_) => break,
            }
        }
        while let Some(ev) = self.try_recv() {
            each(ev);
        }
    }

    /// Carry out a command; false when its connection is not open (see [`Control::send`]).
    pub fn send(&self, cmd: ProxyCommand) -> bool {
        self.control.send(cmd)
    }

    /// See [`Control::set_intercept`].
    pub fn set_intercept(&self, rule: Option<InterceptRule>) {
        self.control.set_intercept(rule);
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// State of the accept loop and every connection task.
pub(crate) struct Shared {
    cfg: ProxyConfig,
    upstream: Option<Target>,
    relay: Arc<RelayShared>,
    next_conn: AtomicU64,
    /// TLS for `wss://` servers.
    client_tls: Arc<rustls::ClientConfig>,
    slots: Arc<Semaphore>,
}

impl Shared {
    fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed) + 1
    }
    async fn emit(&self, e: ProxyEvent) {
        let _ = self.relay.events.send(e).await;
    }
}

/// Bind and start accepting.
pub async fn start(cfg: ProxyConfig) -> anyhow::Result<RunningProxy> {
    let upstream = match &cfg.upstream {
        Some(url) => Some(Target::parse(url)?),
        None => None,
    };
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let trust = crate::reach::Trust {
        cacert: cfg.cacert.clone(),
        ..Default::default()
    };
    let client_tls = crate::net::tls::client_config(cfg.insecure, &trust)
        .map_err(|e| anyhow::anyhow!("cannot set up TLS: {e}"))?;
    let (events_tx, events) = mpsc::channel(cfg.event_capacity.max(1));
    let (rule_tx, rule_rx) = watch::channel(cfg.intercept.clone());
    let relay = Arc::new(RelayShared {
        seq: AtomicU64::new(0),
        events: events_tx,
        rule: rule_rx,
        redaction: Arc::new(cfg.redaction.clone()),
        max_message: cfg.max_message_size,
        close_timeout: cfg.close_timeout,
    });
    let shared = Arc::new(Shared {
        slots: Arc::new(Semaphore::new(cfg.max_connections.max(1))),
        cfg,
        upstream,
        relay,
        next_conn: AtomicU64::new(0),
        client_tls,
    });
    let accept = tokio::spawn(accept_loop(listener, shared));
    Ok(RunningProxy {
        addr,
        events,
        control: Control {
            conns: HashMap::new(),
            rule: rule_tx,
            closing_all: false,
        },
        accept,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!("proxy accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        match shared.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(async move {
                    client(shared, tcp, peer).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(async move {
                    let mut tcp = tcp;
                    let body = "wsdeck proxy: too many connections at once; try again later.\n";
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        http::respond(&mut tcp, 503, "Service Unavailable", body),
                    )
                    .await;
                    shared
                        .emit(ProxyEvent::Refused {
                            client: peer,
                            status: 503,
                            message: "too many connections at once".into(),
                        })
                        .await;
                });
            }
        }
    }
}

/// One client connection: read its request, then relay it as the mode says.
async fn client(shared: Arc<Shared>, tcp: TcpStream, peer: SocketAddr) {
    let deadline = Instant::now() + shared.cfg.handshake_timeout;
    let mut io: BoxIo = Box::new(tcp);
    let (req, rest) = match read_request(&mut io, Vec::new(), deadline).await {
        Ok(r) => r,
        Err((status, msg)) => {
            refuse(&shared, &mut io, peer, status, &msg).await;
            return;
        }
    };
    match &shared.upstream {
        Some(base) => {
            if !req.is_websocket() {
                let msg = format!(
                    "this is wsdeck's WebSocket reverse proxy for {}; connect with a WebSocket client",
                    base.ws_url()
                );
                refuse(&shared, &mut io, peer, 426, &msg).await;
                return;
            }
            let target = base.with_request_path(&req.target);
            let ctx = ClientCtx {
                peer,
                deadline,
                mitm: false,
                client_url: client_url(&req, false),
            };
            websocket(&shared, io, rest, req, target, ctx).await;
        }
        None => forward::handle(&shared, io, rest, req, peer, deadline).await,
    }
}

/// Read and parse a request head before `deadline`; the error is a status and a sentence.
async fn read_request(
    io: &mut BoxIo,
    buf: Vec<u8>,
    deadline: Instant,
) -> Result<(Request, Vec<u8>), (u16, String)> {
    let read = tokio::time::timeout_at(deadline.into(), http::read_head(io, buf)).await;
    let (head, rest) = match read {
        Err(_) => {
            return Err((
                408,
                "no complete request within the handshake timeout".into(),
            ));
        }
        Ok(Err(http::HeadError::TooBig)) => {
            return Err((431, http::HeadError::TooBig.to_string()));
        }
        Ok(Err(e)) => return Err((400, e.to_string())),
        Ok(Ok(x)) => x,
    };
    let req = http::parse_request(&head).map_err(|e| (400, e.to_string()))?;
    Ok((req, rest))
}

/// Answer with an HTTP error and report it (a closed peer is not answered).
async fn refuse(shared: &Shared, io: &mut BoxIo, peer: SocketAddr, status: u16, msg: &str) {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let body = format!("wsdeck proxy: {msg}\n");
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        http::respond(io, status, reason, &body),
    )
    .await;
    shared
        .emit(ProxyEvent::Refused {
            client: peer,
            status,
            message: msg.to_string(),
        })
        .await;
}

/// The URL the client asked for, as it would write it.
fn client_url(req: &Request, tls: bool) -> String {
    if req.target.contains("://") {
        return req.target.clone();
    }
    let host = http::header(&req.headers, "host").unwrap_or("");
    format!("{}://{host}{}", if tls { "wss" } else { "ws" }, req.target)
}

/// About the client side of a WebSocket connection.
pub(crate) struct ClientCtx {
    pub peer: SocketAddr,
    pub deadline: Instant,
    pub mitm: bool,
    pub client_url: String,
}

/// Open the server leg for a client's upgrade, answer the client, relay until both end.
pub(crate) async fn websocket(
    shared: &Arc<Shared>,
    mut io: BoxIo,
    rest: Vec<u8>,
    req: Request,
    target: Target,
    ctx: ClientCtx,
) {
    let version_ok =
        http::header(&req.headers, "sec-websocket-version").map(str::trim) == Some("13");
    if !version_ok || http::header(&req.headers, "sec-websocket-key").is_none() {
        let msg = "the upgrade lacks Sec-WebSocket-Version: 13 or Sec-WebSocket-Key";
        refuse(shared, &mut io, ctx.peer, 400, msg).await;
        return;
    }
    let Some(up) = open_server_leg(shared, &mut io, &req, &target, &ctx).await else {
        return;
    };
    let client_deflate = compress::client_answer(&req, up.deflate.as_ref());
    let extensions = client_deflate.as_ref().map(|(_, header)| header.as_str());
    let Some(answer) = answer_client(&mut io, &up.response, extensions).await else {
        return;
    };
    let conn = shared.next_conn();
    let handshakes = handshake_legs(shared, conn, &ctx, &req, answer, &target, &up);
    let legs = relay::Legs {
        client: io,
        client_rest: rest,
        server: up.io,
        server_rest: up.rest,
        client_deflate: client_deflate.map(|(p, _)| p),
        server_deflate: up.deflate,
    };
    relay_connection(shared, conn, &ctx, &target, handshakes, legs).await;
}

/// The server leg, opened within the handshake deadline; `None` when it did not open and the
/// client was answered so (504, 502, or the server's own refusal).
async fn open_server_leg(
    shared: &Shared,
    io: &mut BoxIo,
    req: &Request,
    target: &Target,
    ctx: &ClientCtx,
) -> Option<upstream::Upgraded> {
    let offer = compress::server_offer(req);
    let opened = tokio::time::timeout_at(
        ctx.deadline.into(),
        upstream::open(req, target, Some(&shared.client_tls), offer.as_ref()),
    )
    .await;
    match opened {
        Err(_) => {
            let msg = format!(
                "{} did not upgrade within the handshake timeout",
                target.ws_url()
            );
            refuse(shared, io, ctx.peer, 504, &msg).await;
            None
        }
        Ok(Err(UpstreamError::BadGateway(msg))) => {
            refuse(
                shared,
                io,
                ctx.peer,
                502,
                &format!("{}: {msg}", target.ws_url()),
            )
            .await;
            None
        }
        Ok(Err(UpstreamError::Refused { response, bytes })) => {
            pass_refusal(shared, io, ctx.peer, target, &response, &bytes).await;
            None
        }
        Ok(Ok(up)) => Some(up),
    }
}

/// The server's own answer (403, 404…) goes back to the client, and is reported.
async fn pass_refusal(
    shared: &Shared,
    io: &mut BoxIo,
    peer: SocketAddr,
    target: &Target,
    response: &http::Response,
    bytes: &[u8],
) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = io.write_all(bytes).await;
        let _ = io.shutdown().await;
    })
    .await;
    shared
        .emit(ProxyEvent::Refused {
            client: peer,
            status: response.status,
            message: format!(
                "{} answered {} {} instead of upgrading",
                target.ws_url(),
                response.status,
                crate::net::clean_line(&response.reason)
            ),
        })
        .await;
}

/// Send the client the 101 made from the server's; its start line and headers, `None` when
/// the client is gone.
async fn answer_client(
    io: &mut BoxIo,
    response: &http::Response,
    extensions: Option<&str>,
) -> Option<(String, Vec<(String, String)>)> {
    let (line, headers) = upstream::client_response(response, extensions);
    if io
        .write_all(&http::head_bytes(&line, &headers))
        .await
        .is_err()
    {
        return None;
    }
    let _ = io.flush().await;
    Some((line, headers))
}

/// Both legs' handshakes for the front end (client ↔ wsdeck, wsdeck ↔ server), redacted
/// unless redaction is off.
fn handshake_legs(
    shared: &Shared,
    conn: u64,
    ctx: &ClientCtx,
    req: &Request,
    (line, headers): (String, Vec<(String, String)>),
    target: &Target,
    up: &upstream::Upgraded,
) -> (HandshakeInfo, HandshakeInfo) {
    let now = std::time::SystemTime::now();
    let mut client_leg = HandshakeInfo {
        conn,
        leg: Leg::Client,
        url: ctx.client_url.clone(),
        request: req.head(),
        response: crate::model::HttpHead {
            start_line: line,
            headers,
        },
        started: Some(up.started),
        finished: Some(now),
        ..Default::default()
    };
    let mut server_leg = HandshakeInfo {
        conn,
        leg: Leg::Server,
        url: target.ws_url(),
        request: up.request.clone(),
        response: up.response.head(),
        started: Some(up.started),
        finished: Some(up.finished),
        ..Default::default()
    };
    if shared.cfg.redaction.enabled {
        crate::record::redact_handshake(&mut client_leg);
        crate::record::redact_handshake(&mut server_leg);
    }
    (client_leg, server_leg)
}

/// Hand the front end the connection's `Opened` (with the senders that steer its pumps),
/// then relay until both legs end.
async fn relay_connection(
    shared: &Arc<Shared>,
    conn: u64,
    ctx: &ClientCtx,
    target: &Target,
    (client_leg, server_leg): (HandshakeInfo, HandshakeInfo),
    legs: relay::Legs,
) {
    let (to_server_tx, to_server) = mpsc::unbounded_channel();
    let (to_client_tx, to_client) = mpsc::unbounded_channel();
    let steer = Steer {
        to_server: to_server_tx.clone(),
        to_client: to_client_tx.clone(),
    };
    shared
        .emit(ProxyEvent::Opened(Box::new(Opened {
            conn,
            client: ctx.peer,
            url: target.ws_url(),
            mitm: ctx.mitm,
            client_leg,
            server_leg,
            steer,
        })))
        .await;
    relay::run(
        shared.relay.clone(),
        conn,
        legs,
        to_server,
        to_client,
        to_server_tx,
        to_client_tx,
    )
    .await;
}
