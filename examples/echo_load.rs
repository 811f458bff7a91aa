//! Benchmark load generator for seed-protocol servers (wsdeck's demo server and the seed's
//! Python server), loopback only, bounded in connections and time.
//!
//! * `echo`: open `--conns` connections, log each in (first message `user:password`), then each
//!   sends a `--size`-byte text and waits for its `your submit context: …` reply, over and over
//!   (`--in-flight N`: keeps N texts in flight per connection, sent together in one write).
//!   Other messages (broadcasts from the other clients, server pushes) are read and ignored.
//!   After `--warmup` seconds it counts round trips for `--secs` seconds and prints
//!   `roundtrips_per_sec R (N in S s, C connections × SIZE B, E ended early)`; connections the
//!   server dropped during the run are counted in E (it fails only if all were dropped).
//!   With `--server-pid` it adds `server_cpu_s` and `roundtrips_per_cpu_s` (the server's CPU
//!   time in the counted seconds, all threads).
//! * `idle`: open and log in `--conns` connections, print `ready N` and hold them, reading
//!   (so pings are answered), for `--hold-secs` seconds.
//!
//! The password comes from the environment variable named by `--password-env`.
//!
//! ```text
//! WSDECK_BENCH_PW=123456 cargo run --release --example echo_load -- echo ws://127.0.0.1:PORT \
//!     --conns 100 --size 20 --user admin --password-env WSDECK_BENCH_PW
//! ```

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ECHO_PREFIX: &str = "your submit context: ";
/// Bound on one connection's TCP connect + upgrade + login.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Parser)]
#[command(about = "Echo round trips and idle connections against a seed-protocol server")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    /// Runtime worker threads of the load generator.
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Round trips per second.
    Echo {
        #[command(flatten)]
        common: Common,
        /// Bytes per echoed text.
        #[arg(long, default_value_t = 20)]
        size: usize,
        #[command(flatten)]
        window: support::Window,
    },
    /// Hold logged-in idle connections.
    Idle {
        #[command(flatten)]
        common: Common,
        /// Seconds to hold them once all are logged in.
        #[arg(long, default_value_t = 10.0)]
        hold_secs: f64,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// ws:// URL on a loopback address.
    url: String,
    /// Connections.
    #[arg(long, default_value_t = 100)]
    conns: usize,
    #[arg(long, default_value = "admin")]
    user: String,
    /// Environment variable holding the password.
    #[arg(long, value_name = "VAR")]
    password_env: String,
    /// Connection setups in flight at once.
    #[arg(long, default_value_t = 64)]
    parallel_setup: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.mode {
            Mode::Echo {
                common,
                size,
                window,
            } => echo(common, size, window).await,
            Mode::Idle { common, hold_secs } => idle(common, hold_secs).await,
        }
    })
}

struct Login {
    url: String,
    frame: String,
}

impl Login {
    fn new(c: &Common) -> anyhow::Result<Arc<Self>> {
        let host = c
            .url
            .strip_prefix("ws://")
            .context("URL must start with ws://")?;
        let host = host.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            bail!("the load generator only talks to loopback, not {host}");
        }
        let password = std::env::var(&c.password_env)
            .with_context(|| format!("environment variable {} is not set", c.password_env))?;
        Ok(Arc::new(Login {
            url: c.url.clone(),
            frame: format!("{}:{password}", c.user),
        }))
    }
}

/// Connect and log in; the returned socket has seen the login reply.
async fn setup(login: &Login) -> anyhow::Result<Ws> {
    tokio::time::timeout(SETUP_TIMEOUT, async {
        let (mut ws, _) = tokio_tungstenite::connect_async(login.url.as_str()).await?;
        ws.send(Message::text(login.frame.as_str())).await?;
        while let Some(msg) = ws.next().await {
            if let Message::Text(t) = msg? {
                if t.contains("congratulation") {
                    return Ok(ws);
                }
                if t.contains("sorry") || t.contains("wrong") {
                    bail!("login rejected: {}", t.as_str());
                }
            }
        }
        bail!("closed during login")
    })
    .await
    .context("connection setup timed out")?
}

/// Set up `n` connections (bounded parallelism); returns the sockets and the failure count.
async fn setup_all(login: &Arc<Login>, n: usize, parallel: usize) -> (Vec<Ws>, usize) {
    let sem = Arc::new(Semaphore::new(parallel.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let login = login.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.ok()?;
            match setup(&login).await {
                Ok(ws) => Some(ws),
                Err(e) => {
                    eprintln!("echo_load: {e:#}");
                    None
                }
            }
        }));
    }
    let mut out = Vec::with_capacity(n);
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok(Some(ws)) => out.push(ws),
            _ => failed += 1,
        }
    }
    (out, failed)
}

async fn echo(c: Common, size: usize, window: support::Window) -> anyhow::Result<()> {
    let in_flight = window.in_flight;
    let login = Login::new(&c)?;
    let (socks, failed) = setup_all(&login, c.conns, c.parallel_setup).await;
    if failed > 0 {
        bail!("{failed} of {} connections failed to log in", c.conns);
    }
    let count = Arc::new(AtomicU64::new(0));
    let (go_tx, go_rx) = watch::channel(false);
    let payload: String = "a".repeat(size);
    let expected_len = ECHO_PREFIX.len() + size;
    let mut tasks = Vec::new();
    for mut ws in socks {
        let (count, payload) = (count.clone(), payload.clone());
        let mut go = go_rx.clone();
        tasks.push(tokio::spawn(async move {
            go.wait_for(|g| *g).await?;
            // Replies still owed to this connection.
            let mut owed: u32 = 0;
            loop {
                if owed < in_flight {
                    // Top the window up and send it in one write.
                    while owed < in_flight {
                        ws.feed(Message::text(payload.as_str())).await?;
                        owed += 1;
                    }
                    ws.flush().await?;
                }
                if owed == 0 {
                    return Ok::<_, anyhow::Error>(());
                }
                // One reply (waiting), then every reply already buffered.
                let mut got = u64::from(is_echo(ws.next().await, expected_len)?);
                while got < u64::from(owed) {
                    match ws.next().now_or_never() {
                        Some(next) => got += u64::from(is_echo(next, expected_len)?),
                        None => break,
                    }
                }
                owed -= got as u32;
                count.fetch_add(got, Ordering::Relaxed);
            }
        }));
    }
    go_tx.send(true)?;
    let (n, dt, cpu_ns) = support::count_window(&count, &window).await?;
    let ended = support::end_tasks(tasks, "echo_load").await?;
    let what = format!("{} connections × {size} B", c.conns);
    println!("{}", support::result_line(n, dt, &what, ended, cpu_ns));
    Ok(())
}

/// Whether a read is this connection's echo (true) or something else to ignore (false).
fn is_echo(
    next: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    expected_len: usize,
) -> anyhow::Result<bool> {
    match next {
        Some(Ok(Message::Text(t))) => Ok(t.len() == expected_len && t.starts_with(ECHO_PREFIX)),
        Some(Ok(_)) => Ok(false),
        Some(Err(e)) => Err(e.into()),
        None => bail!("server closed the connection"),
    }
}

async fn idle(c: Common, hold_secs: f64) -> anyhow::Result<()> {
    let login = Login::new(&c)?;
    let started = Instant::now();
    let (socks, failed) = setup_all(&login, c.conns, c.parallel_setup).await;
    let ready = socks.len();
    let mut tasks = Vec::with_capacity(ready);
    for mut ws in socks {
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    println!(
        "ready {ready} failed {failed} in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs_f64(hold_secs)).await;
    let dropped = tasks.iter().filter(|t| t.is_finished()).count();
    for t in tasks {
        t.abort();
    }
    println!(
        "held {} connections, {dropped} dropped by the server",
        ready
    );
    if failed > 0 || dropped > 0 {
        bail!("{failed} failed to log in, {dropped} dropped");
    }
    Ok(())
}
