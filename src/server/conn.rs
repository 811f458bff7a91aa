//! One client connection: handshake, the seed's login loop, echo, broadcast, close.
//!
//! Two tasks per connection: this one reads and decides, a writer task owns the sending half
//! and drains a bounded queue (`feed` for everything queued, then one `flush`). The reader
//! waits on its own queue for its own replies (back-pressure on that client only); fan-out from
//! other clients uses `try_send` (see `room.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tracing::{debug, info, warn};

use super::handshake::{self, Failure, Policy};
use super::room::{Budget, Kill, Killed, SLOW_REASON};
use super::tls;
use super::{AbortOnDrop, LOGIN_FAIL_REPLY, LOGIN_OK_REPLY, LiveGuard, Shared, auth};
use crate::wire::deflate::Deflater;

type Ws = handshake::Ws;
type Sink = SplitSink<Ws, Message>;
type Source = SplitStream<Ws>;

/// How long the writer may take to flush what is queued once the connection is ending.
const FLUSH_WAIT: Duration = Duration::from_secs(1);
/// How long to keep reading (and discarding) after answering a broken client with a Close.
const LINGER: Duration = Duration::from_secs(1);

/// Serve one accepted TCP connection until it ends.
pub(crate) async fn serve(tcp: TcpStream, peer: SocketAddr, shared: Arc<Shared>, _live: LiveGuard) {
    if let Err(e) = tcp.set_nodelay(true) {
        debug!(%peer, error = %e, "set_nodelay failed");
    }
    let Some((ws, upgrade)) = open(tcp, peer, &shared).await else {
        return;
    };
    let cfg = &shared.cfg;
    let id = shared.next_id();
    let (tx, rx) = mpsc::channel(cfg.queue_capacity.max(1));
    let kill = Kill::new();
    let budget = Budget::new(cfg.queue_byte_limit());
    shared
        .room
        .join(id, tx.clone(), budget.clone(), kill.clone());
    let compression = upgrade.deflate.as_ref().map(|(p, _)| p.describe());
    info!(
        %peer,
        id,
        path = %crate::text::sanitize_line(&upgrade.path),
        compression = compression.as_deref().unwrap_or("off"),
        "client connected"
    );
    let deflater = upgrade
        .deflate
        .map(|(p, _)| Deflater::new(&p, tokio_tungstenite::tungstenite::protocol::Role::Server));

    let (sink, source) = ws.split();
    // Aborted with this task (e.g. on shutdown), even while blocked on a client that does
    // not read.
    let writer = AbortOnDrop(tokio::spawn(write_loop(
        sink,
        deflater,
        rx,
        budget.clone(),
        kill.subscribe(),
        cfg.close_timeout,
    )));
    let mut session = Session {
        id,
        peer: peer.ip(),
        shared: &shared,
        tx,
        budget,
        kill: kill.clone(),
        name: None,
        failures: 0,
    };
    let (end, source) = session.run(source, &mut kill.subscribe()).await;
    shared.room.leave(id);
    drop(session);
    finish(&end, writer, source, cfg.close_timeout).await;
    match end {
        End::Failed(code) => {
            info!(%peer, id, how = end.describe(), code = u16::from(code), "client disconnected")
        }
        _ => info!(%peer, id, how = end.describe(), "client disconnected"),
    }
}

/// TLS (if on) and the HTTP upgrade, under one deadline; `None` when the connection is not
/// a WebSocket (answered and closed) or did not become one in time.
async fn open(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Option<(Ws, handshake::Upgrade)> {
    let cfg = &shared.cfg;
    let policy = Policy {
        allowed_origins: &cfg.allowed_origins,
        subprotocols: &cfg.subprotocols,
        ws_config: cfg.ws_config(),
        compression: cfg.compression,
        max_message: cfg.max_message_size,
    };
    let opening = async {
        let stream = tls::open(tcp, cfg.tls.as_ref())
            .await
            .map_err(Failure::Io)?;
        handshake::accept(stream, policy).await
    };
    match timeout(cfg.handshake_timeout, opening).await {
        Ok(Ok(done)) => Some(done),
        Ok(Err(Failure::Rejected(r, tcp))) => {
            info!(%peer, status = r.status, "answered a request that is not a valid WebSocket upgrade");
            handshake::linger_close(tcp, LINGER).await;
            None
        }
        Ok(Err(Failure::Io(e))) => {
            debug!(%peer, error = %e, "handshake failed");
            None
        }
        Err(_) => {
            info!(%peer, "handshake timed out");
            None
        }
    }
}

/// The session ended as `end`: let the writer flush what is queued, then, after a Close
/// we sent for a violation or a drop, linger so the client reads it.
async fn finish(end: &End, mut writer: AbortOnDrop<Sink>, source: Source, close_timeout: Duration) {
    // Told to close at once (too slow, shutdown): the writer sends the Close ahead of what
    // is still queued, waiting up to the close timeout for the socket to take it.
    let flush_wait = match end {
        End::Killed => close_timeout + FLUSH_WAIT,
        _ => FLUSH_WAIT,
    };
    let sink = match timeout(flush_wait, &mut writer.0).await {
        Ok(Ok(sink)) => Some(sink),
        _ => {
            writer.0.abort();
            None
        }
    };
    if let (End::Failed(_) | End::Killed, Some(sink)) = (end, sink) {
        // We answered a protocol violation or dropped the client with a Close; let the
        // client read it instead of resetting the connection under it.
        if let Ok(ws) = source.reunite(sink) {
            handshake::linger_close(ws.into_inner().into_inner(), LINGER).await;
        }
    }
}

/// How a connection ended.
#[derive(Debug)]
enum End {
    /// Close handshake completed or the stream ended after a Close.
    Closed,
    /// Told to close at once: by the room (queue full: client too slow), by shutdown, or
    /// because its queue could not take our Close.
    Killed,
    /// The client broke the protocol; answered with a Close carrying this code.
    Failed(CloseCode),
    /// The connection was lost (reset, I/O error) without a close handshake.
    Lost,
    /// We sent a Close and the client did not answer in time.
    CloseTimeout,
}

impl End {
    fn describe(&self) -> &'static str {
        match self {
            End::Closed => "closed",
            End::Killed => "dropped",
            End::Failed(_) => "protocol error",
            End::Lost => "connection lost",
            End::CloseTimeout => "no close reply",
        }
    }
}

/// What the reader does after handling one message.
enum Flow {
    Continue,
    /// Start a server-initiated close with this code and reason.
    Close(CloseCode, &'static str),
    /// Our own queue is gone (the writer failed).
    Gone,
}

struct Session<'a> {
    id: u64,
    /// The client's address (failed logins are also counted per address).
    peer: std::net::IpAddr,
    shared: &'a Shared,
    tx: mpsc::Sender<Message>,
    /// Bytes queued for this client (shared with the room and the writer).
    budget: Budget,
    /// Closes the connection at once, ahead of what is queued.
    kill: Kill,
    /// The user name it logged in with.
    name: Option<Arc<str>>,
    failures: u32,
}

/// A session's clocks: when the client was last heard, whether it has been pinged since,
/// and the deadlines of our Close (once sent) and of the login.
struct Clocks {
    last_rx: Instant,
    pinged: bool,
    closing_until: Option<Instant>,
    login_by: Option<Instant>,
}

impl Clocks {
    /// When to wake without a message, and the login deadline if it still applies.
    fn deadline(&self, cfg: &super::ServerConfig, logged_in: bool) -> (Instant, Option<Instant>) {
        let mut deadline = match (self.closing_until, cfg.idle_timeout) {
            (Some(t), _) => t,
            (None, Some(idle)) if self.pinged => self.last_rx + idle,
            (None, Some(idle)) => self.last_rx + idle / 2,
            (None, None) => Instant::now() + Duration::from_secs(24 * 3600),
        };
        let login_due = self
            .login_by
            .filter(|_| !logged_in && self.closing_until.is_none());
        if let Some(t) = login_due {
            deadline = deadline.min(t);
        }
        (deadline, login_due)
    }
}

impl Session<'_> {
    async fn run(&mut self, mut source: Source, killed: &mut Killed) -> (End, Source) {
        let cfg = &self.shared.cfg;
        let mut clocks = Clocks {
            last_rx: Instant::now(),
            pinged: false,
            closing_until: None,
            login_by: cfg.login_timeout.map(|t| Instant::now() + t),
        };
        let end = loop {
            let (deadline, login_due) = clocks.deadline(cfg, self.name.is_some());
            let next = tokio::select! {
                biased;
                _ = killed.wait() => break End::Killed,
                next = timeout_at(deadline, source.next()) => next,
            };
            let msg = match next {
                Err(_elapsed) => match self.on_quiet(&mut clocks, login_due) {
                    Some(end) => break end,
                    None => continue,
                },
                Ok(None) => break End::Closed,
                Ok(Some(Err(e))) => break self.on_error(&e, &clocks),
                Ok(Some(Ok(msg))) => msg,
            };
            clocks.last_rx = Instant::now();
            clocks.pinged = false;
            if clocks.closing_until.is_some() {
                // After our Close only the client's Close reply matters; the next read
                // then ends the stream.
                continue;
            }
            let flow = match msg {
                Message::Text(_) | Message::Binary(_) => tokio::select! {
                    biased;
                    _ = killed.wait() => break End::Killed,
                    flow = self.handle(msg) => flow,
                },
                // tungstenite answers pings and queues the Close reply itself; keep reading
                // so it gets flushed and the stream ends.
                Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => {
                    Flow::Continue
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Gone => break End::Lost,
                Flow::Close(code, reason) => {
                    if let Some(end) = self.close_and_wait(code, reason, &mut clocks) {
                        break end;
                    }
                }
            }
        };
        (end, source)
    }

    /// Nothing arrived before the deadline: our Close went unanswered, the login is late,
    /// or the client is idle (pinged first, closed the next time). `Some` ends the session.
    fn on_quiet(&mut self, clocks: &mut Clocks, login_due: Option<Instant>) -> Option<End> {
        if clocks.closing_until.is_some() {
            return Some(End::CloseTimeout);
        }
        if login_due.is_some_and(|t| Instant::now() >= t) {
            info!(id = self.id, "login timeout");
            return self.close_and_wait(CloseCode::Policy, "login timeout", clocks);
        }
        self.shared.cfg.idle_timeout?;
        if !clocks.pinged {
            clocks.pinged = true;
            if self.tx.try_send(Message::Ping(Default::default())).is_err() {
                self.kill.close_now(CloseCode::Policy, SLOW_REASON);
                return Some(End::Killed);
            }
            return None;
        }
        info!(id = self.id, "idle timeout");
        self.close_and_wait(CloseCode::Away, "idle timeout", clocks)
    }

    /// A read failed: a protocol violation is answered with its close code, anything else
    /// means the connection is gone.
    fn on_error(&self, e: &WsError, clocks: &Clocks) -> End {
        match close_code_for(e) {
            Some((code, reason)) => {
                info!(id = self.id, error = %ErrorKind(e), "client broke the protocol");
                if clocks.closing_until.is_none() {
                    self.start_close(code, reason);
                }
                End::Failed(code)
            }
            None => {
                debug!(id = self.id, error = %ErrorKind(e), "connection lost");
                End::Lost
            }
        }
    }

    /// Send our Close and wait for the reply until the close timeout; `Some` when the
    /// Close could not even be queued (the connection was killed instead).
    fn close_and_wait(
        &self,
        code: CloseCode,
        reason: &'static str,
        clocks: &mut Clocks,
    ) -> Option<End> {
        if !self.start_close(code, reason) {
            return Some(End::Killed);
        }
        clocks.closing_until = Some(Instant::now() + self.shared.cfg.close_timeout);
        None
    }

    /// Queue a Close frame behind what is already queued. If the queue cannot take it, the
    /// connection is told to close at once with it instead, and this returns false.
    fn start_close(&self, code: CloseCode, reason: &'static str) -> bool {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        if self.tx.try_send(Message::Close(Some(frame))).is_ok() {
            return true;
        }
        self.kill.close_now(code, reason);
        false
    }

    /// Send to this client, waiting for room in its queue (in messages and in bytes): a
    /// client that sends but does not read stops being read.
    async fn reply(&self, msg: Message) -> Flow {
        self.budget.take(&msg).await;
        match self.tx.send(msg).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Gone,
        }
    }

    async fn handle(&mut self, msg: Message) -> Flow {
        match (&self.name, msg) {
            (None, Message::Text(text)) => self.login(Some(text.as_str())).await,
            // The seed cannot take a binary login; here it counts as a failed attempt.
            (None, _) => self.login(None).await,
            (Some(name), Message::Text(text)) => {
                let broadcast = self
                    .shared
                    .cfg
                    .broadcast
                    .then(|| Message::text(format!("{name}: {}", text.as_str())));
                let flow = self
                    .reply(Message::text(format!(
                        "your submit context: {}",
                        text.as_str()
                    )))
                    .await;
                if let Some(b) = broadcast {
                    // Waits while a reader's queue is full (so this client is slowed).
                    let stall = self.shared.cfg.slow_reader_timeout;
                    self.shared.room.broadcast(self.id, b, stall).await;
                }
                flow
            }
            (Some(_), Message::Binary(data)) => self.reply(Message::Binary(data)).await,
            (Some(_), _) => Flow::Continue,
        }
    }

    async fn login(&mut self, text: Option<&str>) -> Flow {
        let cfg = &self.shared.cfg;
        if self.failures >= cfg.max_login_attempts {
            warn!(
                id = self.id,
                attempts = self.failures + 1,
                "too many login attempts"
            );
            return Flow::Close(CloseCode::Policy, "too many login attempts");
        }
        // Counted as a failure before it is judged (given back if it succeeds), so logins
        // judged at the same time cannot together exceed the address's limit.
        let Some(reserved) = self
            .shared
            .failures
            .reserve(self.peer, std::time::Instant::now())
        else {
            warn!(id = self.id, peer = %self.peer, "too many failed logins from this address");
            return Flow::Close(
                CloseCode::Policy,
                "too many failed logins from this address",
            );
        };
        let accepted: Option<Arc<str>> = match (text, &cfg.users) {
            (None, _) => None,
            (Some(t), Some(users)) => {
                // Argon2 is CPU- and memory-heavy: bounded threads and a bounded queue
                // (`start` makes the verifiers whenever there is a users file).
                let Some(verifiers) = &self.shared.verifiers else {
                    return Flow::Gone;
                };
                let answer = match verifiers.submit(users.clone(), self.peer, t.to_string()) {
                    Ok(answer) => answer,
                    Err(busy) => {
                        reserved.not_judged();
                        warn!(id = self.id, peer = %self.peer, ?busy, "login refused: verifiers busy");
                        return Flow::Close(CloseCode::Policy, busy.reason());
                    }
                };
                answer.await.ok().flatten().map(Arc::from)
            }
            (Some(t), None) => {
                auth::check_login(t, &cfg.user, &cfg.password).then(|| Arc::from(cfg.user.as_str()))
            }
        };
        if let Some(name) = accepted {
            reserved.succeeded();
            // Queue the reply before joining the broadcasts, so that it is the first thing
            // a client gets after logging in.
            if let Flow::Gone = self.reply(Message::text(LOGIN_OK_REPLY)).await {
                return Flow::Gone;
            }
            let online = self.shared.room.logged_in(self.id, name.clone());
            info!(id = self.id, user = %name, online, "logged in");
            self.name = Some(name);
            return Flow::Continue;
        }
        reserved.failed();
        self.failures += 1;
        info!(id = self.id, attempt = self.failures, "login rejected");
        let delay = login_delay(cfg.login_delay, self.failures);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.reply(Message::text(LOGIN_FAIL_REPLY)).await
    }
}

/// Delay before answering the `failures`-th failed login: none for the first, then
/// `base`, 2×`base`, 4×`base`, … (capped at 64×`base`).
fn login_delay(base: Duration, failures: u32) -> Duration {
    if failures <= 1 {
        return Duration::ZERO;
    }
    base.saturating_mul(1u32 << (failures - 2).min(6))
}

/// The Close code that answers a read error, or `None` when the connection is simply gone
/// ([`crate::wire::close_for_read_error`], as tungstenite's code).
fn close_code_for(e: &WsError) -> Option<(CloseCode, &'static str)> {
    crate::wire::close_for_read_error(e).map(|(code, reason)| (CloseCode::from(code), reason))
}

/// Log form of a read error that never includes payload bytes (tungstenite's UTF-8 error
/// quotes the client's data).
struct ErrorKind<'a>(&'a WsError);

impl std::fmt::Display for ErrorKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            WsError::Utf8(_) => f.write_str("invalid UTF-8"),
            other => write!(f, "{other}"),
        }
    }
}

/// The writer task: sends what is queued until all senders are gone or the socket fails;
/// told to close at once, it discards what is still queued and sends that Close (waiting up
/// to `close_wait` for the socket to take it). Returns the sink.
async fn write_loop(
    mut sink: Sink,
    mut deflater: Option<Deflater>,
    mut rx: mpsc::Receiver<Message>,
    budget: Budget,
    mut killed: Killed,
    close_wait: Duration,
) -> Sink {
    let frame = tokio::select! {
        biased;
        frame = killed.wait() => Some(frame),
        () = drain(&mut sink, deflater.as_mut(), &mut rx, &budget) => None,
    };
    let Some(frame) = frame else {
        return sink;
    };
    rx.close();
    while let Ok(msg) = rx.try_recv() {
        budget.give_back(&msg);
    }
    match timeout(close_wait, sink.send(Message::Close(Some(frame)))).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => debug!(error = %ErrorKind(&e), "sending the Close failed"),
        Err(_) => debug!("the client did not take the Close in time"),
    }
    sink
}

/// Drain the queue: `feed` everything that is queued (compressed if agreed), then one
/// `flush`. Returns when all senders are gone or the socket fails.
async fn drain(
    sink: &mut Sink,
    mut deflater: Option<&mut Deflater>,
    rx: &mut mpsc::Receiver<Message>,
    budget: &Budget,
) {
    const BATCH: usize = 64;
    let mut batch = Vec::new();
    let mut closed = false;
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        for msg in batch.drain(..) {
            if closed {
                // Nothing may follow a Close frame.
                continue;
            }
            let is_close = matches!(msg, Message::Close(_));
            // Handed to tungstenite, whose own write buffer is bounded.
            budget.give_back(&msg);
            let msg = match deflater.as_deref_mut() {
                Some(d) => d.message(msg).0,
                None => msg,
            };
            match sink.feed(msg).await {
                Ok(()) => {}
                // The client closed first; tungstenite already replied.
                Err(WsError::Protocol(ProtocolError::SendAfterClosing)) => closed = true,
                Err(e) => {
                    debug!(error = %ErrorKind(&e), "write failed");
                    return;
                }
            }
            closed |= is_close;
        }
        if let Err(e) = sink.flush().await {
            debug!(error = %ErrorKind(&e), "flush failed");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_delay_grows() {
        let b = Duration::from_millis(100);
        assert_eq!(login_delay(b, 1), Duration::ZERO);
        assert_eq!(login_delay(b, 2), Duration::from_millis(100));
        assert_eq!(login_delay(b, 3), Duration::from_millis(200));
        assert_eq!(login_delay(b, 5), Duration::from_millis(800));
        assert_eq!(login_delay(b, 100), Duration::from_millis(6400));
        assert_eq!(login_delay(Duration::ZERO, 5), Duration::ZERO);
    }

    #[test]
    fn read_errors_map_to_close_codes() {
        use tokio_tungstenite::tungstenite::error::CapacityError;
        let too_big = WsError::Capacity(CapacityError::MessageTooLong {
            size: 2,
            max_size: 1,
        });
        assert_eq!(close_code_for(&too_big).map(|c| c.0), Some(CloseCode::Size));
        let utf8 = WsError::Utf8("secret\u{fffd}".into());
        assert_eq!(close_code_for(&utf8).map(|c| c.0), Some(CloseCode::Invalid));
        assert_eq!(ErrorKind(&utf8).to_string(), "invalid UTF-8");
        let bits = WsError::Protocol(ProtocolError::NonZeroReservedBits);
        assert_eq!(
            close_code_for(&bits).map(|c| c.0),
            Some(CloseCode::Protocol)
        );
        let reset = WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert_eq!(close_code_for(&reset), None);
        assert_eq!(close_code_for(&WsError::ConnectionClosed), None);
    }
}
