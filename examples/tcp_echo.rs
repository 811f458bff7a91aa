//! Benchmark floor of the kernel: the bytes of the seed protocol's echo load moved over plain
//! loopback TCP, with no WebSocket work at all. A WebSocket server built on socket reads and
//! writes does all of this and more, so it cannot beat these figures on the same machine.
//!
//! * `serve`: accept connections; on each, for every `--request` bytes read, write `--reply`
//!   bytes (all the replies for what one read brought, in one write). Prints
//!   `listening on HOST:PORT`; serves until killed.
//! * `load`: `--conns` connections, each keeping `--in-flight` requests of `--request` bytes in
//!   flight (sent together in one write), counting replies of `--reply` bytes; after
//!   `--warmup` seconds it counts for `--secs` seconds and prints the same line as
//!   `echo_load echo`: `roundtrips_per_sec R (…) [server_cpu_s C roundtrips_per_cpu_s R]`.
//!
//! The sizes are those of the WebSocket frames: a client text of N bytes is a masked frame of
//! N + 6 (N < 126) or N + 8 (N < 65,536) bytes; the server's `your submit context: ` reply is
//! an unmasked frame of N + 21 + 2 (or + 4) bytes. `--ws-size N` sets both from N.
//!
//! ```text
//! cargo run --release --example tcp_echo -- serve
//! cargo run --release --example tcp_echo -- load 127.0.0.1:PORT --conns 100 --ws-size 20
//! ```

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Length of the seed's echo prefix, `your submit context: `.
const PREFIX_LEN: usize = 21;

#[derive(Debug, Parser)]
#[command(about = "Plain-TCP floor for the echo benchmark")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Answer every request with a reply.
    Serve {
        /// Address to listen on (loopback only).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        #[command(flatten)]
        sizes: Sizes,
    },
    /// Round trips per second against `serve`.
    Load {
        /// The server's address (loopback only).
        addr: SocketAddr,
        #[arg(long, default_value_t = 100)]
        conns: usize,
        #[command(flatten)]
        sizes: Sizes,
        #[command(flatten)]
        window: support::Window,
        /// Runtime worker threads of the load generator.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
}

#[derive(Debug, clap::Args)]
struct Sizes {
    /// Set --request and --reply to the frame sizes of an N-byte text and its echo.
    #[arg(long, value_name = "N", conflicts_with_all = ["request", "reply"])]
    ws_size: Option<usize>,
    #[arg(long, default_value_t = 26)]
    request: usize,
    #[arg(long, default_value_t = 43)]
    reply: usize,
}

impl Sizes {
    /// (request, reply) in bytes.
    fn resolve(&self) -> (usize, usize) {
        fn frame(payload: usize, masked: bool) -> usize {
            let header = match payload {
                0..=125 => 2,
                126..=65535 => 4,
                _ => 10,
            };
            header + payload + if masked { 4 } else { 0 }
        }
        match self.ws_size {
            Some(n) => (frame(n, true), frame(n + PREFIX_LEN, false)),
            None => (self.request.max(1), self.reply.max(1)),
        }
    }
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Serve { listen, sizes } => {
            if !listen.ip().is_loopback() {
                bail!("--listen must be a loopback address");
            }
            // Same runtime shape as `wsdeck serve` (tokio's default: a worker per core).
            tokio::runtime::Runtime::new()?.block_on(serve(listen, sizes.resolve()))
        }
        Mode::Load {
            addr,
            conns,
            sizes,
            window,
            threads,
        } => {
            if !addr.ip().is_loopback() {
                bail!("the load generator only talks to loopback, not {addr}");
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()?;
            let (request, reply) = sizes.resolve();
            rt.block_on(load(addr, conns, request, reply, window))
        }
    }
}

async fn serve(listen: SocketAddr, (request, reply): (usize, usize)) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = answer(tcp, request, reply).await;
        });
    }
}

async fn answer(mut tcp: TcpStream, request: usize, reply: usize) -> std::io::Result<()> {
    tcp.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut pending = 0usize;
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        pending += n;
        let replies = pending / request;
        pending %= request;
        if replies > 0 {
            out.clear();
            out.resize(replies * reply, b'a');
            tcp.write_all(&out).await?;
        }
    }
}

async fn load(
    addr: SocketAddr,
    conns: usize,
    request: usize,
    reply: usize,
    w: support::Window,
) -> anyhow::Result<()> {
    let count = Arc::new(AtomicU64::new(0));
    let mut socks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        tcp.set_nodelay(true)?;
        socks.push(tcp);
    }
    let window = w.in_flight as usize;
    let mut tasks = Vec::with_capacity(conns);
    for mut tcp in socks {
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let requests = vec![b'a'; request * window];
            let mut buf = vec![0u8; 64 * 1024];
            let (mut owed, mut pending) = (0usize, 0usize);
            loop {
                if owed < window {
                    tcp.write_all(&requests[..(window - owed) * request])
                        .await?;
                    owed = window;
                }
                let n = tcp.read(&mut buf).await?;
                if n == 0 {
                    bail!("server closed the connection");
                }
                pending += n;
                let got = pending / reply;
                pending %= reply;
                owed -= got;
                count.fetch_add(got as u64, Ordering::Relaxed);
            }
            #[allow(unreachable_code)]
            Ok::<_, anyhow::Error>(())
        }));
    }
    let (n, dt, cpu_ns) = support::count_window(&count, &w).await?;
    let ended = support::end_tasks(tasks, "tcp_echo").await?;
    let what = format!("{conns} connections × {request}/{reply} B");
    println!("{}", support::result_line(n, dt, &what, ended, cpu_ns));
    Ok(())
}
