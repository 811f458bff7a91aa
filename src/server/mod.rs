//! The embedded demo server: the seed's protocol (same replies, retry loop, echo) plus
//! server pushes every `tick` and a broadcast of each logged-in client's text to the others.
//!
//! - `handshake.rs`: the HTTP upgrade (error responses for everything else),
//! - `conn.rs`: one connection (login, echo, broadcast, close),
//! - `room.rs`: the registry of clients (broadcast, pushes, shutdown),
//! - `auth.rs`: the constant-time credential check.

mod auth;
mod conn;
mod handshake;
mod room;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing::{debug, info, warn};

use crate::model::Secret;

use room::Room;

/// The seed's reply to an accepted login.
pub const LOGIN_OK_REPLY: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";
/// The seed's reply to a rejected login.
pub const LOGIN_FAIL_REPLY: &str = "sorry, the username or password is wrong, please submit again";
/// Reason of the Close frame every client gets on shutdown (code 1001).
pub const SHUTDOWN_REASON: &str = "server shutting down";

/// How the demo server runs. Build with [`ServerConfig::new`], then adjust fields.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The user name clients log in with.
    pub user: String,
    pub password: Secret,
    /// Interval of server pushes to each logged-in client; `None` = no pushes.
    pub tick: Option<Duration>,
    /// Largest message and largest frame accepted (bigger ones: close 1009). Default 1 MiB.
    pub max_message_size: usize,
    /// Bound on reading the HTTP upgrade and answering it. Default 10 s.
    pub handshake_timeout: Duration,
    /// Failed logins allowed per connection; the next attempt gets close 1008. Default 5.
    pub max_login_attempts: u32,
    /// Delay before the reply to the 2nd failed login, doubling for each further one
    /// (the 1st is answered at once). Default 100 ms.
    pub login_delay: Duration,
    /// Messages queued for one client before it counts as not reading and is dropped.
    /// Default 1024.
    pub queue_capacity: usize,
    /// Connections served at once; more are answered 503. Default 20,000.
    pub max_connections: usize,
    /// A client silent for half of this gets a ping; silent for all of it, close 1001.
    /// `None` = never. Default 60 s.
    pub idle_timeout: Option<Duration>,
    /// How long to wait for the client's reply to a Close we sent. Default 3 s.
    pub close_timeout: Duration,
    /// On shutdown, how long clients get to answer the 1001 Close. Default 2 s.
    pub shutdown_grace: Duration,
    /// If not empty, a handshake whose `Origin` is not in this list gets 403
    /// (clients sending no Origin, i.e. non-browsers, are allowed).
    pub allowed_origins: Vec<String>,
    /// Subprotocols the server agrees to (the first one the client offers that is here).
    pub subprotocols: Vec<String>,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr, user: impl Into<String>, password: Secret) -> Self {
        ServerConfig {
            listen,
            user: user.into(),
            password,
            tick: None,
            max_message_size: 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            max_login_attempts: 5,
            login_delay: Duration::from_millis(100),
            queue_capacity: 1024,
            max_connections: 20_000,
            idle_timeout: Some(Duration::from_secs(60)),
            close_timeout: Duration::from_secs(3),
            shutdown_grace: Duration::from_secs(2),
            allowed_origins: Vec::new(),
            subprotocols: Vec::new(),
        }
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
}

impl Shared {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A server started with [`start`]. Dropping it stops the server abruptly (connections are
/// cut); [`RunningServer::shutdown`] stops it gracefully.
pub struct RunningServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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
    let shared = Arc::new(Shared {
        cfg,
        room: Room::default(),
        next_id: AtomicU64::new(1),
    });
    let (stop_tx, stop_rx) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
    info!(%local_addr, "demo server listening");
    Ok(RunningServer {
        local_addr,
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
                            refusing.spawn(handshake::refuse(tcp, handshake::SERVER_FULL, REFUSE_WAIT));
                        }
                        continue;
                    }
                    conns.spawn(conn::serve(tcp, peer, shared.clone()));
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
        shared.room.push(|n, online| push_text(n, &now, online));
    }
}

/// `server push #3 at 12:00:05 UTC — 2 clients online`
fn push_text(n: u64, hhmmss: &str, online: usize) -> String {
    let clients = if online == 1 { "client" } else { "clients" };
    format!("server push #{n} at {hhmmss} UTC — {online} {clients} online")
}

/// `wsdeck serve`: password from the env var named by `--password-env`, start, print
/// `listening on HOST:PORT`, run until SIGINT/SIGTERM, then shut down gracefully.
/// Logging (a `tracing` subscriber) is the caller's to set up.
pub async fn run_serve(args: crate::cli::ServeArgs) -> anyhow::Result<()> {
    let password = password_from_env(&args.password_env)?;
    if args.user.is_empty() {
        bail!("--user must not be empty");
    }
    let mut cfg = ServerConfig::new(args.listen, args.user, password);
    cfg.tick = (args.tick > 0).then(|| Duration::from_secs(args.tick));
    let signals = Signals::register()?;
    let server = start(cfg).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.local_addr()).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
    }
    signals.wait().await?;
    info!("signal received");
    server.shutdown().await;
    Ok(())
}

fn password_from_env(var: &str) -> anyhow::Result<Secret> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
        Ok(_) => {
            bail!("environment variable {var} (--password-env) is empty; set it to the password")
        }
        Err(std::env::VarError::NotPresent) => {
            bail!("environment variable {var} (--password-env) is not set; set it to the password")
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("environment variable {var} (--password-env) is not valid UTF-8")
        }
    }
}

/// SIGINT/SIGTERM, registered before the server announces itself so that a signal sent right
/// after `listening on …` is already handled gracefully.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn register() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    #[cfg(unix)]
    async fn wait(mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn register() -> anyhow::Result<Self> {
        Ok(Signals {})
    }

    #[cfg(not(unix))]
    async fn wait(self) -> anyhow::Result<()> {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")
    }
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

    #[test]
    fn password_env_errors_are_clear() {
        let e = password_from_env("WSDECK_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.to_string().contains("WSDECK_TEST_SURELY_UNSET_VAR"));
        assert!(e.to_string().contains("not set"));
    }
}
