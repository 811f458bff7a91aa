//! Benchmark ceiling: a bare tokio-tungstenite receive loop that counts messages until the
//! server closes, then prints `received N messages (B bytes) in S s`.
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
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(args.url.as_str()).await?;
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => {
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
    println!("received {count} messages ({bytes} bytes) in {secs:.3} s");
    match args.expect {
        Some(n) if n != count => anyhow::bail!("expected {n} messages, got {count}"),
        _ => Ok(()),
    }
}
