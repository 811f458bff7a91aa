use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, duplex};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::*;
use crate::wire::deflate::Deflater;

const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

/// A WebSocket over a DeflateStream fed `wire` by the peer, compression agreed.
async fn reader(
    role: Role,
    params: Params,
    wire: Vec<u8>,
    limit: usize,
) -> (WebSocketStream<DeflateStream<DuplexStream>>, WireLog) {
    let (ours, mut peer) = duplex(1 << 20);
    let stream = DeflateStream::after_upgrade(ours, role, Some(params), Vec::new(), limit);
    let log = stream.wire_log();
    tokio::spawn(async move {
        let _ = peer.write_all(&wire).await;
        // Keep the peer's end open (its drop would end the stream).
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    });
    let ws = WebSocketStream::from_raw_socket(stream, role, None).await;
    (ws, log)
}

async fn next_text(ws: &mut WebSocketStream<DeflateStream<DuplexStream>>) -> String {
    match ws.next().await {
        Some(Ok(Message::Text(t))) => t.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test]
async fn rfc_frames_reach_tungstenite_as_plain_messages() {
    let mut wire = vec![0xc1, 0x07];
    wire.extend_from_slice(&HELLO);
    // Fragmented (7.2.3.1), with a ping between the fragments.
    wire.extend_from_slice(&[0x41, 0x03, 0xf2, 0x48, 0xcd]);
    wire.extend_from_slice(&[0x89, 0x01, b'p']);
    wire.extend_from_slice(&[0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);
    // Context takeover (7.2.3.2), then an uncompressed message.
    wire.extend_from_slice(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    wire.extend_from_slice(&[0x81, 0x05]);
    wire.extend_from_slice(b"plain");
    let (mut ws, log) = reader(Role::Client, Params::default(), wire, 1 << 20).await;
    assert_eq!(next_text(&mut ws).await, "Hello");
    assert_eq!(log.pop().compressed, Some(7));
    assert!(matches!(ws.next().await, Some(Ok(Message::Ping(p))) if p.as_ref() == b"p"));
    assert_eq!(next_text(&mut ws).await, "Hello");
    let fragmented = log.pop();
    assert_eq!(fragmented.compressed, Some(7));
    let f = fragmented.fragments.expect("two frames");
    assert_eq!((f.count, &f.sizes[..]), (2, &[3, 4][..]));
    assert_eq!(next_text(&mut ws).await, "Hello");
    assert_eq!(log.pop().compressed, Some(5));
    assert_eq!(next_text(&mut ws).await, "plain");
    assert_eq!(log.pop().compressed, None);
}

#[tokio::test]
async fn a_server_inflates_masked_client_frames() {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut wire = vec![0xc1, 0x80 | 0x07];
    wire.extend_from_slice(&key);
    wire.extend(HELLO.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    let (mut ws, _log) = reader(Role::Server, Params::default(), wire, 1 << 20).await;
    assert_eq!(next_text(&mut ws).await, "Hello");
}

#[tokio::test]
async fn big_messages_inflate_in_chunks_and_keep_their_bytes() {
    let body: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    let mut d = Deflater::new(&Params::default(), Role::Server);
    let c = d.compress(&body).unwrap();
    let mut wire = vec![0xc2, 127];
    wire.extend_from_slice(&(c.len() as u64).to_be_bytes());
    wire.extend_from_slice(&c);
    let (mut ws, log) = reader(Role::Client, Params::default(), wire, 4 << 20).await;
    match ws.next().await {
        Some(Ok(Message::Binary(b))) => assert!(b.as_ref() == body.as_slice()),
        other => panic!("{other:?}"),
    }
    assert_eq!(log.pop().compressed, Some(c.len()));
}

#[tokio::test]
async fn a_small_frame_inflating_past_the_limit_is_an_error_naming_the_limit() {
    let mut d = Deflater::new(&Params::default(), Role::Server);
    let bomb = d.compress(&vec![b'a'; 8 << 20]).unwrap();
    let mut wire = vec![0xc1, 126];
    wire.extend_from_slice(&(bomb.len() as u16).to_be_bytes());
    wire.extend_from_slice(&bomb);
    let (mut ws, _log) = reader(Role::Client, Params::default(), wire, 1 << 20).await;
    match ws.next().await {
        Some(Err(WsError::Io(e))) => {
            let inner = e.get_ref().and_then(|i| i.downcast_ref::<InflateError>());
            assert_eq!(inner, Some(&InflateError::TooBig { limit: 1 << 20 }));
        }
        other => panic!("{other:?}"),
    }
    // tokio-tungstenite ends the stream after an error; the caller answers with close 1009.
    assert!(ws.next().await.is_none());
}

/// A server that answers any upgrade with `extensions` and, in the same write, `frames`.
async fn fake_server(extensions: &'static str, frames: Vec<u8>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).to_string();
        let key = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("sec-websocket-key:"))
            .unwrap()[18..]
            .trim()
            .to_string();
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extensions}\r\n"
        )
        .into_bytes();
        out.extend_from_slice(&frames);
        tcp.write_all(&out).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    });
    addr
}

#[tokio::test]
async fn a_client_learns_the_agreement_from_the_101_even_when_frames_follow_at_once() {
    let mut frames = vec![0xc1, 0x07];
    frames.extend_from_slice(&HELLO);
    let addr = fake_server(
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
        frames,
    )
    .await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = DeflateStream::client(tcp, Some(Offer::default()), 1 << 20);
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream)
        .await
        .unwrap();
    assert_eq!(
        ws.get_ref().negotiated().unwrap(),
        Some(Params {
            server_no_context_takeover: true,
            ..Params::default()
        })
    );
    match ws.next().await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), "Hello"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unrequested_extension_in_the_101_is_an_error() {
    let addr = fake_server(
        "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        Vec::new(),
    )
    .await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = DeflateStream::client(tcp, None, 1 << 20);
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream)
        .await
        .unwrap();
    let e = ws.get_ref().negotiated().unwrap_err().to_string();
    assert!(e.contains("did not ask for"), "{e}");
}
