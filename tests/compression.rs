//! permessage-deflate and message limits against servers this project did not write: node
//! `ws` (tests/peers/ws_server.js) and Python `websockets` (tests/peers/py_server.py), each
//! started by the test.

#![allow(dead_code)]

mod common;

use common::client::Client;
use common::peers::{
    PeerServer, node_ws_available, peers_available, spawn_node_ws, spawn_py_websockets,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wsdeck::model::{ConnState, Direction, FrameRecord, NetCommand, NetEvent, Opcode};
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn spec(url: &str) -> ConnectSpec {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    spec.reconnect = false;
    spec.ping_interval = None;
    spec
}

fn response_header(c: &Client, name: &str) -> Option<String> {
    c.handshake()?
        .response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn request_header(c: &Client, name: &str) -> Option<String> {
    c.handshake()?
        .request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn data_frames(c: &Client, dir: Direction) -> Vec<FrameRecord> {
    c.frames()
        .into_iter()
        .filter(|f| f.dir == dir && matches!(f.opcode, Opcode::Text | Opcode::Binary))
        .collect()
}

/// Log in (no auth), send each text, wait for each echo; return the client.
async fn echo_all(server: &PeerServer, spec: ConnectSpec, texts: &[String]) -> Client {
    let _ = server;
    let mut c = Client::start(spec);
    c.until_logged_in().await;
    for t in texts {
        c.send(NetCommand::SendText(t.clone()));
        let got = c.until_text(&t[..t.len().min(40)]).await;
        assert_eq!(got.text(), Some(t.as_str()));
    }
    c
}

fn json_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let items: Vec<String> = (0..200)
                .map(|k| format!("{{\"id\":{k},\"name\":\"item {k}\",\"round\":{i}}}"))
                .collect();
            format!("[{}]", items.join(","))
        })
        .collect()
}

/// Both directions went compressed, and inflated back to the very bytes sent.
fn assert_compressed_both_ways(c: &Client) {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let frames = data_frames(c, dir);
        assert!(!frames.is_empty());
        for f in frames {
            let wire = f
                .wire_len
                .unwrap_or_else(|| panic!("{dir:?} frame not compressed"));
            if f.len > 1000 {
                assert!(wire * 3 < f.len, "{dir:?}: {wire} of {}", f.len);
            }
        }
    }
}

#[tokio::test]
async fn node_ws_with_context_takeover_compresses_both_ways() {
    if !node_ws_available() {
        return;
    }
    let server = spawn_node_ws("{}");
    let c = echo_all(&server, spec(&server.url()), &json_lines(5)).await;
    assert_eq!(
        request_header(&c, "Sec-WebSocket-Extensions").as_deref(),
        Some("permessage-deflate; client_max_window_bits")
    );
    let answer = response_header(&c, "Sec-WebSocket-Extensions").expect("agreed");
    assert!(answer.starts_with("permessage-deflate"), "{answer}");
    assert_compressed_both_ways(&c);
    // With the window shared, a repeat compresses to a few bytes.
    let s2c = data_frames(&c, Direction::ServerToClient);
    assert!(s2c[4].wire_len.unwrap() < s2c[0].wire_len.unwrap());
}

#[tokio::test]
async fn node_ws_without_context_takeover_and_small_windows() {
    if !node_ws_available() {
        return;
    }
    let server = spawn_node_ws(
        r#"{"serverNoContextTakeover":true,"clientNoContextTakeover":true,"serverMaxWindowBits":10,"clientMaxWindowBits":9}"#,
    );
    let c = echo_all(&server, spec(&server.url()), &json_lines(4)).await;
    let answer = response_header(&c, "Sec-WebSocket-Extensions").unwrap();
    for p in [
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits=10",
        "client_max_window_bits=9",
    ] {
        assert!(answer.contains(p), "{p} missing in {answer}");
    }
    assert_compressed_both_ways(&c);
    // No shared window: every repeat costs what the first did.
    let s2c = data_frames(&c, Direction::ServerToClient);
    let first = s2c[0].wire_len.unwrap();
    assert!(s2c[3].wire_len.unwrap() * 2 > first);
}

#[tokio::test]
async fn python_websockets_default_compression_both_ways() {
    if !peers_available() {
        return;
    }
    let server = spawn_py_websockets();
    let c = echo_all(&server, spec(&server.url()), &json_lines(3)).await;
    assert!(
        response_header(&c, "Sec-WebSocket-Extensions")
            .unwrap()
            .starts_with("permessage-deflate")
    );
    assert_compressed_both_ways(&c);
}

#[tokio::test]
async fn no_compression_offers_nothing_and_sends_plain() {
    if !node_ws_available() {
        return;
    }
    let server = spawn_node_ws("{}");
    let mut s = spec(&server.url());
    s.compression = false;
    let c = echo_all(&server, s, &json_lines(1)).await;
    assert_eq!(request_header(&c, "Sec-WebSocket-Extensions"), None);
    assert_eq!(response_header(&c, "Sec-WebSocket-Extensions"), None);
    assert!(c.frames().iter().all(|f| f.wire_len.is_none()));
}

async fn big_reply(compression: bool) {
    let server = spawn_node_ws("{}");
    let mut s = spec(&server.url());
    s.compression = compression;
    let mut c = Client::start(s);
    c.until_logged_in().await;
    let n = 20 << 20;
    c.send(NetCommand::SendText(format!("big {n}")));
    let f = c.until_text("xxxxxxxx").await;
    assert_eq!(f.len, n);
    assert_eq!(f.wire_len.is_some(), compression);
}

#[tokio::test]
async fn node_ws_sending_20_mib_arrives_whole_compressed_or_not() {
    if !node_ws_available() {
        return;
    }
    big_reply(true).await;
    big_reply(false).await;
}

#[tokio::test]
async fn a_reply_inflating_past_max_message_closes_with_1009() {
    if !node_ws_available() {
        return;
    }
    let server = spawn_node_ws("{}");
    let mut s = spec(&server.url());
    s.max_message = 1 << 20;
    let mut c = Client::start(s);
    c.until_logged_in().await;
    c.send(NetCommand::SendText("big 30000000".into()));
    c.until_ended().await;
    let e = c.failure();
    assert!(
        e.message.contains("inflates past the 1 MiB limit"),
        "{}",
        e.message
    );
    assert!(e.message.contains("--max-message"), "{}", e.message);
    let closes: Vec<_> = c
        .frames()
        .into_iter()
        .filter(|f| f.dir == Direction::ClientToServer && f.close.is_some())
        .collect();
    assert_eq!(closes[0].close.as_ref().unwrap().code, 1009);
}

/// A server that answers the upgrade with `Sec-WebSocket-Extensions: permessage-deflate`
/// whatever was offered (RFC 6455 §4.1 says the client must fail such a connection).
async fn pushy_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&got).to_string();
            let key = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("sec-websocket-key:"))
                .map(|l| l[18..].trim().to_string())
                .unwrap_or_default();
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            );
            let _ = tcp.write_all(reply.as_bytes()).await;
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    });
    addr
}

#[tokio::test]
async fn an_unrequested_extension_in_the_101_fails_the_connection() {
    let addr = pushy_server().await;
    let mut s = spec(&format!("ws://{addr}/"));
    s.compression = false;
    let mut c = Client::start(s);
    let state = c
        .until_state("failed", |s| matches!(s, ConnState::Failed(_)))
        .await;
    let ConnState::Failed(e) = state else {
        unreachable!()
    };
    assert!(e.message.contains("did not ask for"), "{}", e.message);
    assert!(e.message.contains("permessage-deflate"), "{}", e.message);
    assert!(
        !c.events()
            .iter()
            .any(|e| matches!(e, NetEvent::State(ConnState::LoggedIn))),
        "the connection was used"
    );
}
