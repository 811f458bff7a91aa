//! Benchmark ceiling for the demo server: the seed's protocol in the fewest moving parts that
//! tokio-tungstenite allows. One task per connection, no room, no queue, no limits: the first
//! text is the login (`--user`/password from `--password-env`; a wrong one gets the seed's
//! "sorry…" reply), then every text is answered with `your submit context: TEXT`, sent and
//! flushed from the same task. Prints `listening on HOST:PORT`; serves until killed.
//!
//! Not a server to run for anyone: it exists to show what the machine and the library allow,
//! so the demo server's echo figures can be read against a ceiling as well as against Python.
//!
//! ```text
//! PW=123456 cargo run --release --example bare_echo_server -- --user admin --password-env PW
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

const LOGIN_OK: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";
const LOGIN_FAIL: &str = "sorry, the username or password is wrong, please submit again";

#[derive(Debug, Parser)]
#[command(about = "Minimal seed-protocol echo server (benchmark ceiling)")]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long, default_value = "admin")]
    user: String,
    /// Environment variable holding the password.
    #[arg(long, value_name = "VAR")]
    password_env: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        anyhow::bail!("--listen must be a loopback address");
    }
    let password = std::env::var(&args.password_env)
        .with_context(|| format!("environment variable {} is not set", args.password_env))?;
    let login: &'static str = Box::leak(format!("{}:{password}", args.user).into_boxed_str());
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = serve(tcp, login).await;
        });
    }
}

async fn serve(tcp: TcpStream, login: &str) -> anyhow::Result<()> {
    tcp.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    let mut logged_in = false;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        let reply = if logged_in {
            format!("your submit context: {}", text.as_str())
        } else if text.as_str() == login {
            logged_in = true;
            LOGIN_OK.to_string()
        } else {
            LOGIN_FAIL.to_string()
        };
        ws.send(Message::text(reply)).await?;
    }
    Ok(())
}
