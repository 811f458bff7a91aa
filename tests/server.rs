//! The embedded demo server against a real tokio-tungstenite client (and raw TCP), on
//! 127.0.0.1:0, plus the built `wsdeck serve` binary.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wsdeck::model::Secret;
use wsdeck::server::{
    LOGIN_FAIL_REPLY, LOGIN_OK_REPLY, RunningServer, SHUTDOWN_REASON, ServerConfig,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Hang guard only.
const GUARD: Duration = Duration::from_secs(15);
const SORRY: &str = "sorry, the username or password is wrong, please submit again";
const CONGRATS: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";

async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut cfg = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "admin",
        Secret::new("123456"),
    );
    adjust(&mut cfg);
    wsdeck::server::start(cfg).await.expect("server starts")
}

async fn connect(addr: SocketAddr) -> Ws {
    let (ws, resp) = timeout(
        GUARD,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .expect("connect in time")
    .expect("handshake succeeds");
    assert_eq!(resp.status(), 101);
    ws
}

/// Next data or close message (pings and pongs skipped); panics if the stream ends.
async fn next_msg(ws: &mut Ws) -> Message {
    loop {
        let msg = timeout(GUARD, ws.next())
            .await
            .expect("a message in time")
            .expect("stream still open")
            .expect("no protocol error");
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            return msg;
        }
    }
}

async fn next_text(ws: &mut Ws) -> String {
    match next_msg(ws).await {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn send_text(ws: &mut Ws, text: &str) {
    timeout(GUARD, ws.send(Message::text(text)))
        .await
        .expect("send in time")
        .expect("send ok");
}

async fn login(ws: &mut Ws) {
    send_text(ws, "admin:123456").await;
    assert_eq!(next_text(ws).await, CONGRATS);
}

/// The next message must be a Close with this code; returns its reason.
async fn expect_close(ws: &mut Ws, code: CloseCode) -> String {
    match next_msg(ws).await {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, code, "close code (reason {:?})", frame.reason);
            frame.reason.as_str().to_string()
        }
        other => panic!("expected Close {code}, got {other:?}"),
    }
}

/// After a Close the stream must end (no more frames).
async fn expect_end(ws: &mut Ws) {
    loop {
        match timeout(GUARD, ws.next())
            .await
            .expect("stream ends in time")
        {
            None | Some(Err(_)) => return,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(other)) => panic!("unexpected frame after close: {other:?}"),
        }
    }
}

#[test]
fn reply_constants_are_the_seeds() {
    assert_eq!(LOGIN_OK_REPLY, CONGRATS);
    assert_eq!(LOGIN_FAIL_REPLY, SORRY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_login_keeps_connection_then_accepts_and_echoes() {
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;

    send_text(&mut ws, "admin:wrong").await;
    assert_eq!(next_text(&mut ws).await, SORRY);
    send_text(&mut ws, "root:123456").await;
    assert_eq!(next_text(&mut ws).await, SORRY);
    send_text(&mut ws, "no colon here").await;
    assert_eq!(next_text(&mut ws).await, SORRY);

    // Still open: the right credentials now log in (extra parts allowed, like the seed).
    send_text(&mut ws, "admin:123456:extra").await;
    assert_eq!(next_text(&mut ws).await, CONGRATS);

    send_text(&mut ws, "hello world").await;
    assert_eq!(next_text(&mut ws).await, "your submit context: hello world");
    send_text(&mut ws, "admin:123456").await;
    assert_eq!(
        next_text(&mut ws).await,
        "your submit context: admin:123456"
    );
    send_text(&mut ws, "多字节 ✓ 🎉\r\nline2").await;
    assert_eq!(
        next_text(&mut ws).await,
        "your submit context: 多字节 ✓ 🎉\r\nline2"
    );

    // Binary after login is echoed as binary.
    let bytes = vec![0u8, 1, 2, 255, 254];
    ws.send(Message::binary(bytes.clone())).await.unwrap();
    assert_eq!(next_msg(&mut ws).await, Message::binary(bytes));
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop(ws);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_arrive_without_sending() {
    let server = start_with(|c| c.tick = Some(Duration::from_millis(200))).await;
    let mut idle = connect(server.local_addr()).await;
    let mut ws = connect(server.local_addr()).await;
    login(&mut ws).await;
    let re =
        regex::Regex::new(r"^server push #(\d+) at \d\d:\d\d:\d\d UTC — 1 client online$").unwrap();
    for expected in 1..=3u32 {
        let push = next_text(&mut ws).await;
        let caps = re
            .captures(&push)
            .unwrap_or_else(|| panic!("unexpected push {push:?}"));
        assert_eq!(caps[1].parse::<u32>().unwrap(), expected);
    }
    // A client that has not logged in gets no pushes: its first reply is to its login.
    send_text(&mut idle, "admin:123456").await;
    assert_eq!(next_text(&mut idle).await, CONGRATS);
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((idle, ws));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_reaches_other_logged_in_clients_only() {
    let server = start_with(|_| {}).await;
    let addr = server.local_addr();
    let mut a = connect(addr).await;
    let mut b = connect(addr).await;
    let mut anon = connect(addr).await;
    login(&mut a).await;
    login(&mut b).await;

    send_text(&mut a, "hi").await;
    assert_eq!(next_text(&mut a).await, "your submit context: hi");
    assert_eq!(next_text(&mut b).await, "admin: hi");

    send_text(&mut b, "hello back").await;
    assert_eq!(next_text(&mut b).await, "your submit context: hello back");
    assert_eq!(next_text(&mut a).await, "admin: hello back");

    // The not-logged-in client got neither broadcast: its next frame answers its login.
    send_text(&mut anon, "admin:123456").await;
    assert_eq!(next_text(&mut anon).await, CONGRATS);
    // Now logged in, it receives broadcasts too.
    send_text(&mut a, "third").await;
    assert_eq!(next_text(&mut anon).await, "admin: third");
    assert_eq!(next_text(&mut b).await, "admin: third");
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((a, b, anon));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_broadcast_the_server_is_the_seeds_echo() {
    let server = start_with(|c| c.broadcast = false).await;
    let addr = server.local_addr();
    let mut a = connect(addr).await;
    let mut b = connect(addr).await;
    login(&mut a).await;
    login(&mut b).await;
    send_text(&mut a, "only mine").await;
    assert_eq!(next_text(&mut a).await, "your submit context: only mine");
    // b's next frame is its own echo, not a relay of a's text.
    send_text(&mut b, "me").await;
    assert_eq!(next_text(&mut b).await, "your submit context: me");
    drop((a, b));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_is_answered_with_1000() {
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;
    login(&mut ws).await;
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    expect_close(&mut ws, CloseCode::Normal).await;
    expect_end(&mut ws).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop(ws);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixth_failed_login_closes_with_1008() {
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;
    for i in 0..5 {
        if i % 2 == 0 {
            send_text(&mut ws, &format!("admin:guess{i}")).await;
        } else {
            // A binary frame before login counts as a failed attempt.
            ws.send(Message::binary(b"admin:123456".to_vec()))
                .await
                .unwrap();
        }
        assert_eq!(next_text(&mut ws).await, SORRY, "attempt {}", i + 1);
    }
    send_text(&mut ws, "admin:guess6").await;
    let reason = expect_close(&mut ws, CloseCode::Policy).await;
    assert!(reason.contains("login"), "reason {reason:?}");
    expect_end(&mut ws).await;

    // Others are unaffected.
    let mut other = connect(server.local_addr()).await;
    login(&mut other).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((ws, other));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_never_reads_is_dropped_and_others_keep_receiving() {
    const N: usize = 500;
    const SIZE: usize = 64 * 1024;
    let server = start_with(|c| c.queue_capacity = 64).await;
    let addr = server.local_addr();
    let mut sender = connect(addr).await;
    let mut reader = connect(addr).await;
    let mut stuck = connect(addr).await;
    login(&mut sender).await;
    login(&mut reader).await;
    login(&mut stuck).await;

    let reading = tokio::spawn(async move {
        for i in 0..N {
            let text = next_text(&mut reader).await;
            assert!(text.starts_with(&format!("admin: {i:05} ")), "message {i}");
            assert_eq!(text.len(), "admin: ".len() + SIZE);
        }
        reader
    });
    for i in 0..N {
        let mut text = format!("{i:05} ");
        text.push_str(&"x".repeat(SIZE - text.len()));
        send_text(&mut sender, &text).await;
        let echo = next_text(&mut sender).await;
        assert!(echo.starts_with(&format!("your submit context: {i:05} ")));
    }
    let reader = timeout(GUARD, reading)
        .await
        .expect("the reading client got every broadcast in time")
        .expect("reader task");

    // The stuck client now reads what was buffered for it, then the connection ends: it was
    // dropped long before all N broadcasts.
    let mut got = 0usize;
    loop {
        match timeout(GUARD, stuck.next()).await {
            Err(_) => panic!("the stuck client was not dropped (read {got} broadcasts)"),
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(Message::Text(_)))) => got += 1,
            Ok(Some(Ok(_))) => {}
        }
    }
    assert!(got < N, "stuck client received all {got} broadcasts");

    // The server still serves new clients.
    let mut fresh = connect(addr).await;
    login(&mut fresh).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((sender, stuck, fresh, reader));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_gets_1009() {
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;
    login(&mut ws).await;
    ws.send(Message::binary(vec![7u8; 1024 * 1024 + 1]))
        .await
        .unwrap();
    expect_close(&mut ws, CloseCode::Size).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop(ws);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_1001_to_every_client() {
    let server = start_with(|c| c.tick = Some(Duration::from_secs(3600))).await;
    let addr = server.local_addr();
    let mut logged = connect(addr).await;
    let mut anon = connect(addr).await;
    login(&mut logged).await;
    send_text(&mut anon, "admin:nope").await;
    assert_eq!(next_text(&mut anon).await, SORRY);

    let stopping = tokio::spawn(server.shutdown());
    for ws in [&mut logged, &mut anon] {
        let reason = expect_close(ws, CloseCode::Away).await;
        assert_eq!(reason, SHUTDOWN_REASON);
        expect_end(ws).await;
    }
    timeout(GUARD, stopping)
        .await
        .expect("shutdown finishes")
        .unwrap();
    // No longer accepting.
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Send raw bytes, return everything the server answers until it closes the connection.
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut out = Vec::new();
    timeout(GUARD, tcp.read_to_end(&mut out))
        .await
        .expect("the server answers and closes instead of hanging")
        .expect("read response");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_gets_a_4xx_not_a_hang() {
    let server = start_with(|_| {}).await;
    let addr = server.local_addr();
    let resp = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(
        resp.starts_with("HTTP/1.1 426 "),
        "plain GET answered {resp:?}"
    );
    assert!(resp.contains("WebSocket"));

    let resp = raw_exchange(addr, b"POST /x HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(resp.starts_with("HTTP/1.1 405 "), "POST answered {resp:?}");

    let resp = raw_exchange(addr, b"\x16\x03\x01 not http at all\r\n\r\n").await;
    assert!(
        resp.starts_with("HTTP/1.1 400 "),
        "garbage answered {resp:?}"
    );

    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let resp = raw_exchange(addr, big.as_bytes()).await;
    assert!(
        resp.starts_with("HTTP/1.1 431 "),
        "huge head answered {resp:?}"
    );

    // A normal client still works afterwards.
    let mut ws = connect(addr).await;
    login(&mut ws).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop(ws);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_sent_with_the_handshake_are_not_lost() {
    let server = start_with(|_| {}).await;
    let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    // Handshake and a masked text frame "admin:123456" in one write.
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        .to_vec();
    let payload = b"admin:123456";
    let mask = [1u8, 2, 3, 4];
    req.extend_from_slice(&[0x81, 0x80 | payload.len() as u8]);
    req.extend_from_slice(&mask);
    req.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&req).await.unwrap();

    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let expected_tail = CONGRATS.as_bytes();
    while !got.windows(expected_tail.len()).any(|w| w == expected_tail) {
        let n = timeout(GUARD, tcp.read(&mut buf))
            .await
            .expect("reply in time")
            .unwrap();
        assert!(
            n > 0,
            "connection closed; got {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop(tcp);
    server.shutdown().await;
}

#[test]
fn serve_binary_prints_listening_line_and_stops_on_sigterm() {
    let mut serve = common::serve::spawn_serve("admin", "s3cret-pw", &["--tick", "0"]);
    assert_eq!(serve.addr.ip().to_string(), "127.0.0.1");
    assert_ne!(serve.addr.port(), 0);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = serve.addr;
    let mut ws = rt.block_on(async move {
        let mut ws = connect(addr).await;
        send_text(&mut ws, "admin:s3cret-pw").await;
        assert_eq!(next_text(&mut ws).await, CONGRATS);
        send_text(&mut ws, "ping?").await;
        assert_eq!(next_text(&mut ws).await, "your submit context: ping?");
        ws
    });

    common::sigterm(&serve.child);
    rt.block_on(async {
        let reason = expect_close(&mut ws, CloseCode::Away).await;
        assert_eq!(reason, SHUTDOWN_REASON);
        expect_end(&mut ws).await;
    });
    let status = common::wait_guarded(&mut serve.child, "wsdeck serve");
    assert!(status.success(), "exit status {status:?}");
    let log = serve.stderr_text();
    assert!(log.contains("logged in"), "log: {log}");
    assert!(
        !log.contains("s3cret-pw"),
        "the password leaked into the log: {log}"
    );
}

#[test]
fn serve_binary_without_password_env_fails_clearly() {
    let var = "WSDECK_TEST_SURELY_UNSET_PASSWORD";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--user", "admin"])
        .args(["--password-env", var, "--tick", "0"])
        .env_remove(var)
        .output()
        .expect("run wsdeck");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wsdeck: "), "stderr: {err}");
    assert!(
        err.contains(var) && err.contains("not set"),
        "stderr: {err}"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--user", "admin"])
        .args(["--password-env", var, "--tick", "0"])
        .env(var, "")
        .output()
        .expect("run wsdeck");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(var) && err.contains("empty"), "stderr: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_text_gets_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;
    login(&mut ws).await;
    let bad = Frame::message(vec![b'a', 0xff, 0xfe], OpCode::Data(Data::Text), true);
    ws.send(Message::Frame(bad)).await.unwrap();
    expect_close(&mut ws, CloseCode::Invalid).await;
    // The server is unharmed.
    let mut other = connect(server.local_addr()).await;
    login(&mut other).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((ws, other));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_answers_503_and_frees_slots() {
    let server = start_with(|c| c.max_connections = 2).await;
    let addr = server.local_addr();
    let first = connect(addr).await;
    let mut second = connect(addr).await;
    login(&mut second).await;

    let refused = timeout(
        GUARD,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .expect("answered in time");
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503)
        }
        Ok(_) => panic!("a third connection was accepted over the limit of 2"),
        Err(e) => panic!("expected HTTP 503, got {e}"),
    }

    // Once a client leaves, its slot is free again.
    drop(first);
    let deadline = tokio::time::Instant::now() + GUARD;
    let mut third = loop {
        match tokio_tungstenite::connect_async(format!("ws://{addr}/")).await {
            Ok((ws, _)) => break ws,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("slot never freed: {e}"),
        }
    };
    login(&mut third).await;
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((second, third));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_is_pinged_then_closed_while_active_one_stays() {
    let server = start_with(|c| c.idle_timeout = Some(Duration::from_secs(1))).await;
    let addr = server.local_addr();
    let mut silent = connect(addr).await;
    login(&mut silent).await;
    let mut active = connect(addr).await;
    login(&mut active).await;

    // The active client keeps reading (tungstenite answers the server's pings with pongs).
    let reading = tokio::spawn(async move {
        let until = tokio::time::Instant::now() + Duration::from_secs(3);
        let mut pings = 0;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(until, active.next()).await {
            if let Message::Ping(_) = msg {
                pings += 1;
            }
        }
        (active, pings)
    });
    let (mut active, pings) = reading.await.unwrap();
    assert!(pings >= 1, "the server never pinged an idle client");
    send_text(&mut active, "still here").await;
    assert_eq!(
        next_text(&mut active).await,
        "your submit context: still here"
    );

    // The silent one (never read, so never answered a ping) was closed.
    let reason = expect_close(&mut silent, CloseCode::Away).await;
    assert_eq!(reason, "idle timeout");
    // Clients gone first, so shutdown need not wait for their Close replies.
    drop((silent, active));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_and_cuts_a_client_that_never_reads() {
    const SIZE: usize = 64 * 1024;
    // A queue so large the stuck client is never dropped for it: only shutdown ends it.
    let server = start_with(|c| {
        c.queue_capacity = 100_000;
        c.shutdown_grace = Duration::from_millis(500);
    })
    .await;
    let addr = server.local_addr();
    let mut sender = connect(addr).await;
    let mut stuck = connect(addr).await;
    login(&mut sender).await;
    login(&mut stuck).await;
    // Enough to fill the socket buffers towards the stuck client many times over.
    for i in 0..300 {
        let mut text = format!("{i:05} ");
        text.push_str(&"y".repeat(SIZE - text.len()));
        send_text(&mut sender, &text).await;
        next_text(&mut sender).await;
    }
    timeout(GUARD, server.shutdown())
        .await
        .expect("shutdown finishes despite a client that does not read");
    // The stuck client's connection was cut: reading drains what was buffered, then ends.
    let mut got = 0usize;
    loop {
        match timeout(GUARD, stuck.next()).await {
            Err(_) => panic!("the stuck client's connection was left open ({got} read)"),
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(_))) => got += 1,
        }
    }
    assert!(got < 300, "the stuck client got everything ({got})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_answered_before_and_after_login() {
    let server = start_with(|_| {}).await;
    let mut ws = connect(server.local_addr()).await;
    for payload in [&b"before"[..], &b"after"[..]] {
        ws.send(Message::Ping(payload.to_vec().into()))
            .await
            .unwrap();
        let pong = loop {
            match timeout(GUARD, ws.next()).await.expect("pong in time") {
                Some(Ok(Message::Pong(p))) => break p,
                Some(Ok(Message::Ping(_))) => {}
                other => panic!("expected a pong, got {other:?}"),
            }
        };
        assert_eq!(&pong[..], payload);
        if payload == b"before" {
            login(&mut ws).await;
        }
    }
    drop(ws);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_reply_comes_before_any_broadcast() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = start_with(|_| {}).await;
    let addr = server.local_addr();
    // Clients that broadcast without pause (reading on the side) while others log in.
    let stop = Arc::new(AtomicBool::new(false));
    let mut chatters = Vec::new();
    for c in 0..4 {
        let mut ws = connect(addr).await;
        login(&mut ws).await;
        let (mut tx, mut rx) = ws.split();
        let flag = stop.clone();
        chatters.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !flag.load(Ordering::Relaxed) {
                if tx
                    .send(Message::text(format!("chatter {c} {n}")))
                    .await
                    .is_err()
                {
                    break;
                }
                n += 1;
            }
        }));
        chatters.push(tokio::spawn(async move {
            while let Some(Ok(_)) = rx.next().await {}
        }));
    }
    for _ in 0..100 {
        let mut ws = connect(addr).await;
        send_text(&mut ws, "admin:123456").await;
        // The very first message after the login is its reply, never someone's broadcast.
        assert_eq!(next_text(&mut ws).await, CONGRATS);
        drop(ws);
    }
    stop.store(true, Ordering::Relaxed);
    drop(server);
    for task in chatters {
        let _ = timeout(GUARD, task).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_log_in_are_closed_and_logged_in_ones_stay() {
    let server = start_with(|c| c.login_timeout = Some(Duration::from_secs(1))).await;
    let addr = server.local_addr();
    // Sends nothing at all.
    let mut lurker = connect(addr).await;
    // Keeps guessing (the seed lets a client retry), never right.
    let mut guesser = connect(addr).await;
    send_text(&mut guesser, "admin:wrong").await;
    assert_eq!(next_text(&mut guesser).await, SORRY);
    let mut user = connect(addr).await;
    login(&mut user).await;

    assert_eq!(
        expect_close(&mut lurker, CloseCode::Policy).await,
        "login timeout"
    );
    expect_end(&mut lurker).await;
    assert_eq!(
        expect_close(&mut guesser, CloseCode::Policy).await,
        "login timeout"
    );
    expect_end(&mut guesser).await;

    // Logged in before the deadline: not affected by it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_text(&mut user, "still here").await;
    assert_eq!(
        next_text(&mut user).await,
        "your submit context: still here"
    );
    drop(user);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_count_per_address_across_connections() {
    let server = start_with(|c| {
        c.max_failures_per_ip = 3;
        c.login_delay = Duration::ZERO;
    })
    .await;
    let addr = server.local_addr();
    // Logged in before the guessing: stays logged in.
    let mut user = connect(addr).await;
    login(&mut user).await;
    // Two guesses on one connection, one on another: 3 from 127.0.0.1.
    let mut a = connect(addr).await;
    for _ in 0..2 {
        send_text(&mut a, "admin:guess").await;
        assert_eq!(next_text(&mut a).await, SORRY);
    }
    let mut b = connect(addr).await;
    send_text(&mut b, "admin:guess").await;
    assert_eq!(next_text(&mut b).await, SORRY);
    // Each connection is far below --max-login-attempts, but the address is spent: even the
    // right password is refused, on old and new connections alike.
    send_text(&mut b, "admin:123456").await;
    assert_eq!(
        expect_close(&mut b, CloseCode::Policy).await,
        "too many failed logins from this address"
    );
    let mut c = connect(addr).await;
    send_text(&mut c, "admin:123456").await;
    assert_eq!(
        expect_close(&mut c, CloseCode::Policy).await,
        "too many failed logins from this address"
    );
    send_text(&mut user, "unaffected").await;
    assert_eq!(
        next_text(&mut user).await,
        "your submit context: unaffected"
    );
    drop((a, b, c, user));
    server.shutdown().await;
}
