//! Hand-written servers for what a WebSocket library will not do on purpose: a peer that
//! upgrades and then misbehaves at the byte level.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Read an HTTP request head (up to the blank line); `None` if the peer went away first.
pub async fn read_head(tcp: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

/// Answer a WebSocket upgrade request with a plain 101 (no extension, no subprotocol).
pub async fn accept_upgrade(tcp: &mut TcpStream) -> bool {
    let Some(head) = read_head(tcp).await else {
        return false;
    };
    let key = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    tcp.write_all(reply.as_bytes()).await.is_ok()
}

/// What an upgraded [`mute_server`] does with the client's frames.
#[derive(Clone, Copy)]
pub enum Mute {
    /// Read and discard everything, never answer (a Close stays unanswered).
    Forever,
    /// Drop the connection as soon as any frame arrives, without a Close.
    DropOnFirstFrame,
}

/// A server on 127.0.0.1 that upgrades every connection, sends nothing and behaves as `mode`.
pub async fn mute_server(mode: Mute) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if !accept_upgrade(&mut tcp).await {
                    return;
                }
                let mut buf = [0u8; 4096];
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if matches!(mode, Mute::DropOnFirstFrame) => return,
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    port
}
