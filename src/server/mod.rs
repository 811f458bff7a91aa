//! The embedded demo server: the seed's protocol (same replies, retry loop, echo) plus
//! server pushes every `tick` and a broadcast of each logged-in client's text to the others.
//!
//! - `handshake.rs`: the HTTP upgrade (error responses for everything else),
//! - `conn.rs`: one connection (login, echo, broadcast, close),
//! - `room.rs`: the registry of clients (broadcast, pushes, shutdown),
//! - `auth.rs`: the constant-time credential check, and argon2 users files,
//! - `verify.rs`: the bounded argon2 verifier threads for users-file logins,
//! - `throttle.rs`: failed logins per client address,
//! - `tls.rs`: optional TLS (`--tls-cert`, `--tls-key`).

mod auth;
mod conn;
mod handshake;
mod room;
mod throttle;
mod tls;
mod verify;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing::{debug, info, warn};

use crate::model::Secret;
pub use crate::wire::deflate::ServerPolicy;

use room::Room;

pub use auth::{UserDb, hash_password};
pub use room::SLOW_REASON;
pub use tls::{load_tls_config, tls_config_from_pem};

/// The seed's reply to an accepted login.
pub const LOGIN_OK_REPLY: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";
/// The seed's reply to a rejected login.
pub const LOGIN_FAIL_REPLY: &str = "sorry, the username or password is wrong, please submit again";
/// Reason of the Close frame every client gets on shutdown (code 1001).
pub const SHUTDOWN_REASON: &str = "server shutting down";

/// Default of `--max-message` ([`ServerConfig::max_message_size`]): 1 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;
/// Default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;
/// Default of `--idle-timeout`, in seconds.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// Default `--login-timeout`, in seconds: time from the upgrade to a successful login.
pub const DEFAULT_LOGIN_TIMEOUT_SECS: u64 = 120;
/// Default of `--handshake-timeout`, in seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT_SECS: u64 = 10;
/// Default of [`ServerConfig::slow_reader_timeout`], in seconds.
pub const DEFAULT_SLOW_READER_TIMEOUT_SECS: u64 = 5;
/// Default of `--max-login-attempts`.
pub const DEFAULT_MAX_LOGIN_ATTEMPTS: u32 = 5;
/// Default of `--max-failures-per-ip` (failed logins per address in 10 minutes).
pub const DEFAULT_MAX_FAILURES_PER_IP: u32 = 20;

/// How the demo server runs. Build with [`ServerConfig::new`], then adjust fields.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The user name clients log in with (unless `users` is set).
    pub user: String,
    pub password: Secret,
    /// Users with argon2 password hashes (`--users-file`). When set, logins are checked
    /// against it and `user`/`password` are not used.
    pub users: Option<Arc<UserDb>>,
    /// Serve `wss://` with this TLS configuration (see [`load_tls_config`]); `None` = plain.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Interval of server pushes to each logged-in client; `None` = no pushes.
    pub tick: Option<Duration>,
    /// Relay each logged-in client's text to the others as `NAME: text` (default on);
    /// off, the server is exactly the seed's echo server.
    pub broadcast: bool,
    /// Largest message and largest frame accepted (bigger ones: close 1009). Default 1 MiB.
    pub max_message_size: usize,
    /// Bound on the TLS handshake plus reading the HTTP upgrade and answering it. Default 10 s.
    pub handshake_timeout: Duration,
    /// Failed logins allowed per connection; the next attempt gets close 1008. Default 5.
    pub max_login_attempts: u32,
    /// Failed logins allowed per client address (over all its connections) in 10 minutes;
    /// then its login attempts get close 1008 until those minutes have passed. 0 = no limit.
    /// Default 20.
    pub max_failures_per_ip: u32,
    /// Delay before the reply to the 2nd failed login, doubling for each further one
    /// (the 1st is answered at once). Default 100 ms.
    pub login_delay: Duration,
    /// Messages queued for one client; beyond them (or `queue_bytes`) broadcasts wait, up
    /// to `slow_reader_timeout`. Default 1024.
    pub queue_capacity: usize,
    /// Bytes of messages queued for one client: beyond this, broadcasts wait (up to
    /// `slow_reader_timeout`), pushes are skipped, its own replies wait (so its reading
    /// stops). Default 4 MiB; never less than two of the largest messages.
    pub queue_bytes: usize,
    /// How long a broadcast waits for room in a reader's full queue (the sender is not read
    /// meanwhile) before that reader is dropped with Close 1008 "outgoing queue full: client
    /// too slow"; also how long pushes may find a queue full. Default 5 s.
    pub slow_reader_timeout: Duration,
    /// Connections served at once; more are answered 503. Default 20,000.
    pub max_connections: usize,
    /// A client silent for half of this gets a ping; silent for all of it, close 1001.
    /// `None` = never. Default 60 s.
    pub idle_timeout: Option<Duration>,
    /// A connection not logged in this long after its upgrade is closed with 1008 (a slot
    /// cannot be held without the password). `None` = never. Default 120 s.
    pub login_timeout: Option<Duration>,
    /// How long to wait for the client's reply to a Close we sent. Default 3 s.
    pub close_timeout: Duration,
    /// On shutdown, how long clients get to answer the 1001 Close. Default 2 s.
    pub shutdown_grace: Duration,
    /// If not empty, a handshake whose `Origin` is not in this list gets 403
    /// (clients sending no Origin, i.e. non-browsers, are allowed).
    pub allowed_origins: Vec<String>,
    /// Subprotocols the server agrees to (the first one the client offers that is here).
    pub subprotocols: Vec<String>,
    /// How permessage-deflate offers are answered; `None` declines them. Default
    /// [`ServerPolicy::LEAN`]: no window kept between messages on either side, so a
    /// connection holds compression memory only while a message passes.
    pub compression: Option<ServerPolicy>,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr, user: impl Into<String>, password: Secret) -> Self {
        ServerConfig {
            listen,
            user: user.into(),
            password,
            users: None,
            tls: None,
            tick: None,
            broadcast: true,
            max_message_size: DEFAULT_MAX_MESSAGE,
            handshake_timeout: Duration::from_secs(DEFAULT_HANDSHAKE_TIMEOUT_SECS),
            max_login_attempts: DEFAULT_MAX_LOGIN_ATTEMPTS,
            max_failures_per_ip: DEFAULT_MAX_FAILURES_PER_IP,
            login_delay: Duration::from_millis(100),
            queue_capacity: 1024,
            queue_bytes: 4 * 1024 * 1024,
            slow_reader_timeout: Duration::from_secs(DEFAULT_SLOW_READER_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Some(Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS)),
            login_timeout: Some(Duration::from_secs(DEFAULT_LOGIN_TIMEOUT_SECS)),
            close_timeout: Duration::from_secs(3),
            shutdown_grace: Duration::from_secs(2),
            allowed_origins: Vec::new(),
            subprotocols: Vec::new(),
            compression: Some(ServerPolicy::LEAN),
        }
    }

    /// The per-client byte budget actually used (see `queue_bytes`).
    fn queue_byte_limit(&self) -> usize {
        self.queue_bytes
            .max(self.max_message_size.saturating_mul(2).saturating_add(4096))
    }

    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            // tungstenite fills its whole read buffer before each read (touching every page):
            // the 128 KiB default would cost that much RSS per idle connection. Frames larger
            // than this still get a buffer of their own size.
            .read_buffer_size(READ_BUFFER_SIZE)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
            // Bound what tungstenite buffers for a client that does not read.
            .max_write_buffer_size(self.max_message_size.saturating_mul(4).max(1 << 20))
    }
}

/// Per-connection read buffer.
const READ_BUFFER_SIZE: usize = 4 * 1024;

/// State shared by the accept loop, the ticker and every connection.
pub(crate) struct Shared {
    cfg: ServerConfig,
    room: Room,
    next_id: AtomicU64,
    /// Connection tasks alive (handshaking, open or closing).
    live: AtomicUsize,
    /// The argon2 verifiers (with `users` only): bounded threads and queue.
    verifiers: Option<verify::Verifiers>,
    /// Failed logins per client address.
    failures: throttle::FailureLog,
}

impl Shared {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Count a connection task as alive until the guard is dropped.
    fn live_guard(self: &Arc<Self>) -> LiveGuard {
        self.live.fetch_add(1, Ordering::Relaxed);
        LiveGuard(self.clone())
    }
}

pub(crate) struct LiveGuard(Arc<Shared>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a running server holds right now (see [`RunningServer::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections being served, from accept to the end of their close (handshaking ones
    /// included; those being answered 503 not).
    pub connections: usize,
    /// Connections past the WebSocket handshake.
    pub upgraded: usize,
    /// Connections logged in.
    pub logged_in: usize,
}

/// A server started with [`start`]. Dropping it stops the server abruptly (connections are
/// cut); [`RunningServer::shutdown`] stops it gracefully.
pub struct RunningServer {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections held right now.
    pub fn stats(&self) -> ServerStats {
        let (upgraded, logged_in) = self.shared.room.counts();
        ServerStats {
            connections: self.shared.live.load(Ordering::Relaxed),
            upgraded,
            logged_in,
        }
    }

    /// Graceful: stop accepting, send Close 1001 "server shutting down" to every client, give
    /// them `shutdown_grace` to answer, then cut what is left.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Bind and spawn the accept loop on the current tokio runtime; returns once it accepts
/// connections.
pub async fn start(cfg: ServerConfig) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let local_addr = listener
        .local_addr()
        .context("listening socket has no address")?;
    let verifiers = match cfg.users {
        Some(_) => {
            Some(verify::Verifiers::start().context("cannot start the password verifier threads")?)
        }
        None => None,
    };
    let shared = Arc::new(Shared {
        room: Room::default(),
        next_id: AtomicU64::new(1),
        live: AtomicUsize::new(0),
        verifiers,
        failures: throttle::FailureLog::new(cfg.max_failures_per_ip, throttle::WINDOW),
        cfg,
    });
    let (stop_tx, stop_rx) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
    let tls = if shared.cfg.tls.is_some() {
        "wss"
    } else {
        "ws"
    };
    info!(%local_addr, scheme = tls, "demo server listening");
    Ok(RunningServer {
        local_addr,
        shared,
        stop: Some(stop_tx),
        task: Some(task),
    })
}

/// At most this many over-the-limit connections are answered 503 at once.
const MAX_REFUSING: usize = 64;
/// Bound on each step of answering one of them.
const REFUSE_WAIT: Duration = Duration::from_secs(2);

/// Aborts the task when dropped (so aborting the accept loop also stops the ticker).
pub(crate) struct AbortOnDrop<T>(pub JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let _ticker = shared
        .cfg
        .tick
        .filter(|t| !t.is_zero())
        .map(|every| AbortOnDrop(tokio::spawn(ticker(shared.clone(), every))));
    // Dropping the set (also when this task is aborted) aborts every connection.
    let mut conns = JoinSet::new();
    // Connections being answered 503 (over the limit).
    let mut refusing = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if conns.len() >= shared.cfg.max_connections {
                        debug!(%peer, limit = shared.cfg.max_connections, "connection limit reached");
                        // Answer 503, but never with more than a few tasks at once: beyond
                        // that, just close.
                        if refusing.len() < MAX_REFUSING {
                            refusing.spawn(handshake::refuse(
                                tcp,
                                shared.cfg.tls.clone(),
                                handshake::SERVER_FULL,
                                REFUSE_WAIT,
                            ));
                        }
                        continue;
                    }
                    let live = shared.live_guard();
                    conns.spawn(conn::serve(tcp, peer, shared.clone(), live));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = refusing.join_next(), if !refusing.is_empty() => {}
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    warn!("a connection task panicked");
                }
            }
        }
    }
    drop(listener);
    info!(clients = conns.len(), "shutting down");
    shared.room.close_all(CloseCode::Away, SHUTDOWN_REASON);
    let grace = tokio::time::sleep(shared.cfg.shutdown_grace);
    tokio::pin!(grace);
    while !conns.is_empty() {
        tokio::select! {
            _ = &mut grace => break,
            _ = conns.join_next() => {}
        }
    }
    conns.shutdown().await;
}

async fn ticker(shared: Arc<Shared>, every: Duration) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let fmt = time::macros::format_description!("[hour]:[minute]:[second]");
    loop {
        interval.tick().await;
        let now = time::OffsetDateTime::now_utc()
            .format(&fmt)
            .unwrap_or_else(|_| "--:--:--".into());
        shared.room.push(
            |n, online| push_text(n, &now, online),
            shared.cfg.slow_reader_timeout,
        );
    }
}

/// `server push #3 at 12:00:05 UTC — 2 clients online`
fn push_text(n: u64, hhmmss: &str, online: usize) -> String {
    let clients = if online == 1 { "client" } else { "clients" };
    format!("server push #{n} at {hhmmss} UTC — {online} {clients} online")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_text_format() {
        assert_eq!(
            push_text(3, "12:00:05", 2),
            "server push #3 at 12:00:05 UTC — 2 clients online"
        );
        assert_eq!(
            push_text(1, "00:00:00", 1),
            "server push #1 at 00:00:00 UTC — 1 client online"
        );
    }

    #[test]
    fn config_defaults_are_the_documented_limits() {
        let cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap(), "admin", Secret::new("x"));
        assert_eq!(cfg.max_message_size, 1 << 20);
        assert_eq!(cfg.handshake_timeout, Duration::from_secs(10));
        assert_eq!(cfg.max_login_attempts, 5);
        assert!(cfg.tick.is_none());
        let ws = cfg.ws_config();
        assert_eq!(ws.max_message_size, Some(1 << 20));
        assert_eq!(ws.max_frame_size, Some(1 << 20));
        assert!(!format!("{cfg:?}").contains("\"x\""));
    }
}
