//! Benchmark peer: a WebSocket server on 127.0.0.1 that floods every client with text messages.
//!
//! Per connection: optionally waits for a first-message login (`--auth first-message`, any
//! credentials are accepted with the seed's "congratulation…" reply), then sends `--count`
//! text messages of `--size` bytes as fast as it can (`feed` a batch, one `flush`) or at
//! `--rate` messages per second, and closes with 1000. Prints `listening on HOST:PORT` once it
//! accepts connections and serves until killed.
//!
//! With `--stamp` (implied by `--rate`), each payload starts with `#SEQ UNIX_NANOS ` (SEQ from 1,
//! the time the message was handed to the socket), padded with `x` to `--size` bytes, so a
//! client can compute arrival-to-drawn latency. Without it every payload is `x` × size.
//!
//! ```text
//! cargo run --release --example flood_server -- --count 300000 --size 64
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const LOGIN_OK: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";

/// Messages fed between two flushes in unlimited mode.
const BATCH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Auth {
    None,
    FirstMessage,
}

#[derive(Debug, Clone, Parser)]
#[command(about = "Flood every WebSocket client with text messages, then close 1000")]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Messages per connection.
    #[arg(long, default_value_t = 300_000)]
    count: u64,
    /// Payload bytes per message.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Messages per second (0 = as fast as possible). Implies --stamp.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Start each payload with `#SEQ UNIX_NANOS ` (send time).
    #[arg(long)]
    stamp: bool,
    /// Wait for a first-message login before flooding.
    #[arg(long, value_enum, default_value_t = Auth::None)]
    auth: Auth,
    /// After each connection's last message, write its `SEQ UNIX_NANOS` send times here, one
    /// line per message (overwritten by every connection; written before the Close is sent).
    #[arg(long, value_name = "FILE")]
    stamp_log: Option<std::path::PathBuf>,
    /// Wait this long after the handshake (and login) before the first message, so a client
    /// can finish its own setup.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        anyhow::bail!("--listen must be a loopback address");
    }
    let stamp = args.stamp || args.rate > 0;
    if stamp && args.size < 30 {
        anyhow::bail!("--size must be at least 30 with --stamp/--rate");
    }
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        let args = args.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(tcp, &args, stamp).await {
                eprintln!("flood_server: connection ended: {e}");
            }
        });
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// `#SEQ UNIX_NANOS xxxx…` of exactly `size` bytes; the time goes to `log` too.
fn stamped(seq: u64, size: usize, log: &mut Option<Vec<u128>>) -> Message {
    let now = unix_nanos();
    if let Some(log) = log {
        log.push(now);
    }
    let mut s = format!("#{seq} {now} ");
    if s.len() < size {
        s.extend(std::iter::repeat_n('x', size - s.len()));
    }
    s.truncate(size);
    Message::text(s)
}

async fn serve(tcp: TcpStream, args: &Args, stamp: bool) -> anyhow::Result<()> {
    tcp.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_async(tcp).await?;
    let (mut sink, mut stream) = ws.split();
    if args.auth == Auth::FirstMessage {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(_))) => break,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            }
        }
        sink.send(Message::text(LOGIN_OK)).await?;
    }
    // Drain whatever the client sends (pings are answered on the next write, its Close
    // reply ends the stream).
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    if args.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(args.delay_ms)).await;
    }

    let started = Instant::now();
    let mut sent = 0u64;
    // Send time of message SEQ at index SEQ-1 (kept only with --stamp-log).
    let mut times: Option<Vec<u128>> = args.stamp_log.as_ref().map(|_| Vec::new());
    if args.rate == 0 {
        let fixed = Message::Text(Utf8Bytes::from("x".repeat(args.size)));
        while sent < args.count {
            let n = (args.count - sent).min(BATCH as u64);
            for i in 0..n {
                let msg = if stamp {
                    stamped(sent + i + 1, args.size, &mut times)
                } else {
                    fixed.clone()
                };
                sink.feed(msg).await?;
            }
            sink.flush().await?;
            sent += n;
        }
    } else {
        let per_msg = Duration::from_secs_f64(1.0 / args.rate as f64);
        while sent < args.count {
            let due = ((started.elapsed().as_secs_f64() * args.rate as f64) as u64).min(args.count);
            if due > sent {
                for seq in sent + 1..=due {
                    sink.feed(stamped(seq, args.size, &mut times)).await?;
                }
                sink.flush().await?;
                sent = due;
            } else {
                let next = started + per_msg.mul_f64((sent + 1) as f64);
                tokio::time::sleep_until(next.into()).await;
            }
        }
    }
    let elapsed = started.elapsed();
    if let (Some(path), Some(times)) = (&args.stamp_log, &times) {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(times.len() * 28);
        for (i, t) in times.iter().enumerate() {
            let _ = writeln!(out, "{} {t}", i + 1);
        }
        std::fs::write(path, out)?;
    }
    sink.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })))
    .await?;
    // Wait (bounded) for the client's Close reply.
    let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
    eprintln!(
        "flood_server: sent {sent} × {} B in {:.3} s",
        args.size,
        elapsed.as_secs_f64()
    );
    Ok(())
}
