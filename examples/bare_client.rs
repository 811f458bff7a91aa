//! Benchmark ceiling: a bare tokio-tungstenite receive loop that counts messages until the
//! server closes, then prints `received N messages (B bytes) in S s`.
//!
//! With `--latency`, every payload must start with `#SEQ UNIX_NANOS ` (`flood_server --rate`):
//! the time from that send stamp to the message's arrival here is taken per message, and the
//! line ends with `lat_p50_ms=… lat_p99_ms=… lat_max_ms=…`.
//!
//! ```text
//! cargo run --release --example bare_client -- ws://127.0.0.1:PORT --expect 300000
//! ```

use std::time::Instant;

use clap::Parser;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(about = "Count WebSocket messages until the server closes")]
struct Args {
    /// ws:// URL of the flood server.
    url: String,
    /// Fail (exit 1) unless exactly this many data messages arrived.
    #[arg(long)]
    expect: Option<u64>,
    /// Measure send stamp → arrival per message (stamped payloads).
    #[arg(long)]
    latency: bool,
}

/// Nanoseconds from the `#SEQ UNIX_NANOS ` stamp at the start of `payload` to now.
fn since_stamp(payload: &[u8]) -> Option<u128> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let text = std::str::from_utf8(payload).ok()?;
    let sent: u128 = text.strip_prefix('#')?.split(' ').nth(1)?.parse().ok()?;
    Some(now.saturating_sub(sent))
}

/// The `q` quantile of sorted nanoseconds, in milliseconds.
fn quantile_ms(sorted: &[u128], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64 / 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(args.url.as_str()).await?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut lat = Vec::new();
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => {
                if args.latency {
                    match since_stamp(t.as_bytes()) {
                        Some(ns) => lat.push(ns),
                        None => anyhow::bail!("message {} carries no send stamp", count + 1),
                    }
                }
                count += 1;
                bytes += t.len() as u64;
            }
            Message::Binary(b) => {
                count += 1;
                bytes += b.len() as u64;
            }
            // tungstenite answers the Close itself; the stream ends after that.
            _ => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if args.latency {
        lat.sort_unstable();
        println!(
            "received {count} messages ({bytes} bytes) in {secs:.3} s lat_p50_ms={:.3} lat_p99_ms={:.3} lat_max_ms={:.3}",
            quantile_ms(&lat, 0.5),
            quantile_ms(&lat, 0.99),
            quantile_ms(&lat, 1.0)
        );
    } else {
        println!("received {count} messages ({bytes} bytes) in {secs:.3} s");
    }
    match args.expect {
        Some(n) if n != count => anyhow::bail!("expected {n} messages, got {count}"),
        _ => Ok(()),
    }
}
