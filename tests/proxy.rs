//! `wsdeck proxy`: real clients and servers through it, its JSON lines, recording and HAR.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::peers;
use common::proxy::{ProxyProcess, spawn_proxy, summary};
use serde_json::Value;

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_string(), b.to_string(), c.to_string())
}

/// Run the seed's client against `url` with these stdin lines; its stdout.
fn seed_client(url: &str, input: &str) -> String {
    let mut client = Command::new(peers::python())
        .arg(peers::seed_client_py())
        .arg(url)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seed_client.py");
    client
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write the client's stdin");
    let stdout = common::lines_of(client.stdout.take().expect("piped stdout"));
    let stderr = common::lines_of(client.stderr.take().expect("piped stderr"));
    let status = common::wait_guarded(&mut client, "seed_client.py");
    let out = stdout.iter().collect::<Vec<_>>().join("\n");
    let err = stderr.iter().collect::<Vec<_>>().join("\n");
    assert!(
        status.success(),
        "seed_client.py failed: {status:?}\n{out}\n{err}"
    );
    out
}

/// A Python `websockets` peer from inline source that prints `listening on HOST:PORT`.
struct PyPeer {
    child: Child,
    addr: SocketAddr,
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn py_server(source: &str) -> PyPeer {
    let mut child = Command::new(peers::python())
        .args(["-c", source])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Python server");
    let stdout = common::lines_of(child.stdout.take().expect("piped stdout"));
    let addr = common::read_listening_line(&stdout, "the Python server");
    PyPeer { child, addr }
}

/// Run inline Python client source with `url` as argv[1]; its stdout lines.
fn py_client(source: &str, url: &str) -> Vec<String> {
    let mut child = Command::new(peers::python())
        .args(["-c", source, url])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python client");
    let stdout = common::lines_of(child.stdout.take().expect("piped stdout"));
    let stderr = common::lines_of(child.stderr.take().expect("piped stderr"));
    let status = common::wait_guarded(&mut child, "the Python client");
    let out: Vec<String> = stdout.iter().collect();
    let err = stderr.iter().collect::<Vec<_>>().join("\n");
    assert!(status.success(), "the Python client failed: {out:?}\n{err}");
    out
}

fn handshake(p: &ProxyProcess, conn: u64, leg: &str) -> Value {
    p.seen
        .iter()
        .find(|v| {
            v["type"] == "handshake"
                && v["conn"] == conn
                && v.get("leg").and_then(Value::as_str).unwrap_or("server") == leg
        })
        .cloned()
        .unwrap_or_else(|| panic!("no {leg} handshake of {conn}:\n{}", p.dump()))
}

#[test]
fn the_seed_client_and_server_talk_through_the_reverse_proxy_and_every_message_is_printed() {
    if !peers::peers_available() {
        return;
    }
    let server = peers::spawn_seed_server("admin", "123456");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("proxy.jsonl");
    let har = dir.path().join("proxy.har");
    let mut proxy = spawn_proxy(&[
        &server.url(),
        "--record",
        rec.to_str().unwrap(),
        "--har",
        har.to_str().unwrap(),
    ]);

    let url = format!("{}/chat/room?id=7", proxy.url());
    // The password typed again once logged in: its echo is masked too.
    let out = seed_client(
        &url,
        "admin:wrong\nadmin:123456\nhello\nadmin:123456\nexit\n",
    );
    assert!(out.contains("your submit context: hello"), "{out}");
    let closed = proxy.until_closed(1);
    assert_eq!(closed["client"]["code"], 1000, "{}", proxy.dump());
    assert_eq!(closed["client"]["reason"], "user exit");
    assert_eq!(closed["server"]["code"], 1000, "the server's own reply");

    // Path and query reach the server; both legs' handshakes are printed.
    let server_leg = handshake(&proxy, 1, "server");
    assert_eq!(
        server_leg["url"],
        format!("{}/chat/room?id=7", server.url())
    );
    assert_eq!(
        server_leg["response"]["start_line"],
        "HTTP/1.1 101 Switching Protocols"
    );
    let client_leg = handshake(&proxy, 1, "client");
    assert_eq!(
        client_leg["request"]["start_line"],
        "GET /chat/room?id=7 HTTP/1.1"
    );

    let frames = proxy.frames(1);
    assert_eq!(
        summary(&frames),
        [
            s("c2s", "text", "admin:***"),
            s(
                "s2c",
                "text",
                "sorry, the username or password is wrong, please submit again"
            ),
            s("c2s", "text", "admin:***"),
            s(
                "s2c",
                "text",
                "congratulation, you have connect with server\r\nnow, you can do something else"
            ),
            s("c2s", "text", "hello"),
            s("s2c", "text", "your submit context: hello"),
            s("c2s", "text", "admin:***"),
            s("s2c", "text", "your submit context: admin:***"),
            s("c2s", "close", "user exit"),
            s("s2c", "close", "user exit"),
        ],
        "{}",
        proxy.dump()
    );
    assert_eq!(
        frames[0]["len"],
        "admin:wrong".len(),
        "the length on the wire"
    );
    assert_eq!(frames[0]["redacted"], true);
    assert!(
        frames
            .iter()
            .all(|f| f["ts"].is_string() && f["seq"].is_u64())
    );

    // A second client: connection 2, in the same recording and HAR.
    seed_client(&proxy.url(), "admin:123456\nexit\n");
    proxy.until_closed(2);

    // A third client still connected when the proxy is stopped: both peers are closed with
    // 1000, and its end is printed, recorded and in the HAR.
    let (mut ws, _) = tokio_tungstenite::tungstenite::connect(proxy.url()).unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        "admin:123456",
    ))
    .unwrap();
    proxy.until("the third client's login", |v| {
        v["conn"] == 3 && v["dir"] == "s2c"
    });
    let reader = std::thread::spawn(move || {
        loop {
            match ws.read() {
                Ok(tokio_tungstenite::tungstenite::Message::Close(c)) => {
                    // The reply tungstenite queued goes out with the flush.
                    let _ = ws.flush();
                    return c.map(|c| (u16::from(c.code), c.reason.to_string()));
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    });
    assert!(proxy.terminate().success());
    assert_eq!(
        reader.join().unwrap(),
        Some((1000, "wsdeck proxy shut down".to_string()))
    );
    let closed = proxy.until_closed(3);
    assert_eq!(closed["client"]["code"], 1000, "{}", proxy.dump());
    assert_eq!(closed["server"]["code"], 1000, "{}", proxy.dump());

    let all = proxy.dump();
    assert!(!all.contains("123456") && !all.contains("wrong\""), "{all}");
    let recorded = std::fs::read_to_string(&rec).unwrap();
    assert!(!recorded.contains("123456"), "{recorded}");
    let recording = wsdeck::record::jsonl::read(&rec).unwrap();
    let conns: Vec<u64> = recording.frames.iter().map(|f| f.conn).collect();
    assert_eq!(conns.iter().filter(|c| **c == 1).count(), 10);
    assert_eq!(conns.iter().filter(|c| **c == 2).count(), 4, "{recorded}");
    assert!(
        conns.contains(&3),
        "the third connection is recorded to its end"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    let entries = doc["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "one HAR entry per connection");
    assert_eq!(
        entries[0]["request"]["url"],
        format!("{}/chat/room?id=7", server.url())
    );
    assert_eq!(entries[1]["_webSocketMessages"][0]["data"], "admin:***");
}

const FRAGMENTING_SERVER: &str = r#"
import asyncio
from websockets.asyncio.server import serve

async def handler(ws):
    assert ws.request.headers.get("Sec-WebSocket-Protocol") == "chat.v1"
    await ws.recv()
    await ws.send(["frag-one ", "frag-two"])
    pong = await ws.ping(b"are you there")
    await pong
    await ws.send("after ping")
    await ws.close(4000, "bye from server")

async def main():
    async with serve(handler, "127.0.0.1", 0, subprotocols=["chat.v1"]) as server:
        print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().create_future()

asyncio.run(main())
"#;

const LISTENING_CLIENT: &str = r#"
import asyncio, sys
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

async def main(url):
    async with connect(url, subprotocols=["chat.v1"]) as ws:
        print("subprotocol", ws.subprotocol, flush=True)
        await ws.send("start")
        try:
            while True:
                print("got", await ws.recv(), flush=True)
        except ConnectionClosed:
            pass
        print("closed", ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason, flush=True)

asyncio.run(main(sys.argv[1]))
"#;

#[test]
fn fragments_pings_subprotocol_and_the_servers_close_pass_through() {
    if !peers::peers_available() {
        return;
    }
    let server = py_server(FRAGMENTING_SERVER);
    let mut proxy = spawn_proxy(&[&format!("ws://{}", server.addr)]);
    let out = py_client(LISTENING_CLIENT, &proxy.url());
    assert_eq!(
        out,
        [
            "subprotocol chat.v1",
            "got frag-one frag-two",
            "got after ping",
            "closed 4000 bye from server"
        ]
    );
    let closed = proxy.until_closed(1);
    assert_eq!(closed["server"]["code"], 4000, "{}", proxy.dump());
    assert_eq!(closed["server"]["reason"], "bye from server");
    assert_eq!(closed["client"]["code"], 4000, "the client's echo");
    let frames = proxy.frames(1);
    assert_eq!(
        summary(&frames),
        [
            s("c2s", "text", "start"),
            s("s2c", "text", "frag-one frag-two"),
            s("s2c", "ping", ""),
            s("c2s", "pong", ""),
            s("s2c", "text", "after ping"),
            s("s2c", "close", "bye from server"),
            s("c2s", "close", "bye from server"),
        ],
        "{}",
        proxy.dump()
    );
    // websockets ends a fragmented message with an empty final frame: 3 on the wire.
    assert_eq!(frames[1]["fragments"], 3, "{}", frames[1]);
    assert_eq!(
        frames[2]["base64"], "YXJlIHlvdSB0aGVyZQ==",
        "the ping's payload"
    );
    assert_eq!(
        frames[3]["base64"], "YXJlIHlvdSB0aGVyZQ==",
        "the client's pong, relayed"
    );
    assert_eq!(frames[5]["code"], 4000);
    let leg = handshake(&proxy, 1, "client");
    let protocol = leg["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("sec-websocket-protocol")
        })
        .cloned();
    assert_eq!(protocol.unwrap()["value"], "chat.v1");
    drop(server);
}

#[tokio::test]
async fn a_vanished_peer_closes_the_other_side_with_1001() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    if !peers::peers_available() {
        return;
    }
    let mut server = peers::spawn_seed_server("admin", "123456");
    let mut proxy = spawn_proxy(&[&server.url()]);

    // The client goes away without a Close: the server is sent 1001.
    let (mut ws, _) = tokio_tungstenite::connect_async(proxy.url()).await.unwrap();
    ws.send(Message::text("admin:123456")).await.unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    assert!(reply.to_text().unwrap().starts_with("congratulation"));
    drop(ws);
    let closed = proxy.until_closed(1);
    assert_eq!(closed["client"]["code"], 1006, "{}", proxy.dump());
    let injected = proxy
        .frames(1)
        .into_iter()
        .find(|f| f["opcode"] == "close" && f["dir"] == "c2s")
        .unwrap_or_else(|| panic!("no close sent to the server:\n{}", proxy.dump()));
    assert_eq!(injected["code"], 1001);
    assert_eq!(
        injected["origin"], "injected",
        "the proxy made it, not the client"
    );

    // The server goes away: the client gets 1001.
    let (mut ws, _) = tokio_tungstenite::connect_async(proxy.url()).await.unwrap();
    ws.send(Message::text("admin:123456")).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut close = None;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Close(c) = m {
            close = c;
        }
    }
    let close = close.expect("a close frame from the proxy");
    assert_eq!(u16::from(close.code), 1001);
    assert!(
        close.reason.contains("server went away"),
        "{}",
        close.reason
    );
    let closed = proxy.until_closed(2);
    assert_eq!(closed["server"]["code"], 1006, "{}", proxy.dump());
}

#[tokio::test]
async fn an_oversized_message_closes_its_sender_with_1009() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    if !peers::peers_available() {
        return;
    }
    let server = peers::spawn_seed_server("admin", "123456");
    let mut proxy = spawn_proxy(&[&server.url(), "--max-message", "64"]);
    let (mut ws, _) = tokio_tungstenite::connect_async(proxy.url()).await.unwrap();
    ws.send(Message::text("x".repeat(100))).await.unwrap();
    let mut close = None;
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Close(Some(c)) = m {
            close = Some((u16::from(c.code), c.reason.to_string()));
        }
    }
    assert_eq!(
        close,
        Some((1009, "message over the proxy's 64-byte limit".into()))
    );
    // The server is told what the client did — no more: it kept to the protocol.
    let told = proxy.until("the proxy's Close to the server", |v| {
        v["opcode"] == "close" && v["dir"] == "c2s" && v["origin"] == "injected"
    });
    assert_eq!(told["code"], 1001, "{told}");
    assert_eq!(
        told["reason"], "wsdeck: the client sent a message over the proxy's 64-byte limit",
        "{told}"
    );
    let closed = proxy.until_closed(1);
    assert_eq!(closed["client"]["code"], 1006, "{}", proxy.dump());
    assert_eq!(
        closed["server"]["code"], 1001,
        "the server's reply to the proxy's 1001"
    );
}

#[test]
fn a_non_loopback_listen_address_must_be_asked_for_and_warns() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args([
            "proxy",
            "--no-ui",
            "--listen",
            "0.0.0.0:0",
            "ws://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args([
            "proxy",
            "--no-ui",
            "--listen",
            "0.0.0.0:0",
            "--allow-remote",
        ])
        .arg("ws://127.0.0.1:9")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = common::lines_of(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    while let Ok(l) = lines.recv_timeout(common::GUARD) {
        let warned = l.starts_with("warning:");
        seen.push(l);
        if warned {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter()
            .any(|l| l.contains("other machines can use this proxy")),
        "{seen:?}"
    );
}

/// Intercept, edit, drop and inject, driven over the proxy's event and command channels
/// (what the UI does with keys), between a real client and the demo server.
mod steering {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use wsdeck::model::{Direction, FrameRecord, Opcode, Origin, Secret};
    use wsdeck::proxy::{ProxyCommand, ProxyConfig, ProxyEvent, RunningProxy};

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn next_event(
        p: &mut RunningProxy,
        what: &str,
        pred: impl Fn(&ProxyEvent) -> bool,
    ) -> ProxyEvent {
        let wait = async {
            loop {
                match p.recv().await {
                    Some(e) if pred(&e) => return e,
                    Some(_) => {}
                    None => panic!("the proxy ended before {what}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| panic!("no {what} within 20 s"))
    }

    async fn held(p: &mut RunningProxy) -> FrameRecord {
        match next_event(p, "held message", |e| matches!(e, ProxyEvent::Held { .. })).await {
            ProxyEvent::Held { frame, .. } => frame,
            _ => unreachable!(),
        }
    }

    /// The frame event carrying message `seq`.
    async fn frame(p: &mut RunningProxy, seq: u64) -> FrameRecord {
        let ev = next_event(p, &format!("frame {seq}"), |e| match e {
            ProxyEvent::Frames { frames, .. } => frames.iter().any(|f| f.record.seq == seq),
            _ => false,
        })
        .await;
        match ev {
            ProxyEvent::Frames { frames, .. } => frames
                .into_iter()
                .find(|f| f.record.seq == seq)
                .map(|f| f.record)
                .unwrap(),
            _ => unreachable!(),
        }
    }

    async fn recv(ws: &mut Ws) -> Message {
        tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s")
            .expect("the connection is open")
            .expect("a valid message")
    }

    async fn recv_text(ws: &mut Ws) -> String {
        loop {
            if let Message::Text(t) = recv(ws).await {
                return t.to_string();
            }
        }
    }

    #[tokio::test]
    async fn a_held_message_is_reported_in_its_place_among_the_messages_around_it() {
        let mut scfg = wsdeck::server::ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            "admin",
            Secret::new("123456"),
        );
        scfg.broadcast = false;
        let server = wsdeck::server::start(scfg).await.unwrap();
        let mut cfg = ProxyConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            Some(format!("ws://{}", server.local_addr())),
        );
        cfg.intercept = Some(Arc::new(|f: &FrameRecord| {
            f.dir == Direction::ClientToServer && f.text() == Some("hold me")
        }));
        let mut proxy = wsdeck::proxy::start(cfg).await.unwrap();
        let url = format!("ws://{}", proxy.local_addr());
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        // Written together: the proxy reads all three at once.
        ws.feed(Message::text("before")).await.unwrap();
        ws.feed(Message::text("hold me")).await.unwrap();
        ws.feed(Message::text("after")).await.unwrap();
        ws.flush().await.unwrap();
        let mut seen = Vec::new();
        let mut held_seq = None;
        while seen.len() < 4 {
            match next_event(&mut proxy, "the three messages", |_| true).await {
                ProxyEvent::Held { frame, conn } => {
                    seen.push(format!("held {}", frame.text().unwrap()));
                    held_seq = Some((conn, frame.seq));
                    // Nothing behind it goes on (or is reported passed on) until it is
                    // decided: a proxy must not reorder the client's stream.
                    assert_eq!(seen, ["before", "held hold me"]);
                    let (conn, seq) = held_seq.unwrap();
                    assert!(proxy.send(ProxyCommand::Forward { conn, seq }));
                }
                ProxyEvent::Frames { frames, .. } => seen.extend(
                    frames
                        .iter()
                        .filter(|f| f.record.dir == Direction::ClientToServer)
                        .map(|f| {
                            assert_eq!(f.record.origin, Origin::Wire, "{:?}", f.record);
                            f.record.text().unwrap_or("").to_string()
                        }),
                ),
                _ => {}
            }
        }
        assert!(held_seq.is_some());
        assert_eq!(seen, ["before", "held hold me", "hold me", "after"]);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn messages_behind_a_held_one_keep_their_order_and_are_reported_when_it_closes() {
        let (upstream_addr, mut order) = recording_upstream().await;
        let mut cfg = ProxyConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            Some(format!("ws://{upstream_addr}")),
        );
        cfg.intercept = Some(Arc::new(|f: &FrameRecord| {
            f.dir == Direction::ClientToServer && f.text().is_some_and(|t| t.starts_with("order"))
        }));
        let mut proxy = wsdeck::proxy::start(cfg).await.unwrap();
        let url = format!("ws://{}", proxy.local_addr());
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        ws.send(Message::text("order 12 books")).await.unwrap();
        let first = held(&mut proxy).await;
        ws.send(Message::text("hello")).await.unwrap();
        ws.send(Message::text("order 3 pens")).await.unwrap();
        let second = held(&mut proxy).await;
        ws.send(Message::text("bye")).await.unwrap();
        // A ping goes on meanwhile: held messages never block control frames.
        ws.send(Message::Ping(Bytes::from_static(b"still there?")))
            .await
            .unwrap();
        let pong = next_event(&mut proxy, "the server's pong", |e| {
            matches!(e, ProxyEvent::Frames { frames, .. }
                if frames.iter().any(|f| f.record.opcode == Opcode::Pong))
        });
        pong.await;
        // Forwarding the first releases what waited behind it up to the next held one.
        assert!(proxy.send(ProxyCommand::Forward {
            conn: 1,
            seq: first.seq
        }));
        let got = order.recv_n(2).await;
        assert_eq!(got, ["order 12 books", "hello"]);
        // The second is dropped; "bye" behind it goes on.
        assert!(proxy.send(ProxyCommand::Drop {
            conn: 1,
            seq: second.seq
        }));
        assert_eq!(order.recv_n(1).await, ["bye"]);

        // Held again, with one behind it, then the client goes away: both are reported.
        ws.send(Message::text("order 1 cup")).await.unwrap();
        held(&mut proxy).await;
        ws.send(Message::text("late")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(ws);
        let notice = next_event(&mut proxy, "the lost-message notice", |e| {
            matches!(e, ProxyEvent::Notice { message, .. } if message.contains("not delivered"))
        })
        .await;
        let ProxyEvent::Notice { message, .. } = notice else {
            unreachable!()
        };
        assert_eq!(
            message,
            "1 held message and 1 message waiting behind it were not delivered: the connection \
             closed while they were held"
        );
    }

    /// A WebSocket server that reports every text message it receives, in order.
    async fn recording_upstream() -> (std::net::SocketAddr, Received) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    while let Some(Ok(m)) = ws.next().await {
                        if let Message::Text(t) = m {
                            let _ = tx.send(t.to_string());
                        }
                    }
                });
            }
        });
        (addr, Received(rx))
    }

    struct Received(tokio::sync::mpsc::UnboundedReceiver<String>);

    impl Received {
        /// The next `n` messages the server received (20 s at most for them).
        async fn recv_n(&mut self, n: usize) -> Vec<String> {
            let mut got = Vec::new();
            while got.len() < n {
                let next = tokio::time::timeout(Duration::from_secs(20), self.0.recv()).await;
                match next {
                    Ok(Some(t)) => got.push(t),
                    _ => panic!("the server received {got:?}, not {n} messages"),
                }
            }
            got
        }
    }

    #[tokio::test]
    async fn held_messages_are_edited_dropped_or_reported_and_either_peer_can_be_injected_into() {
        let mut scfg = wsdeck::server::ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            "admin",
            Secret::new("123456"),
        );
        scfg.broadcast = false;
        let server = wsdeck::server::start(scfg).await.unwrap();
        let mut cfg = ProxyConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            Some(format!("ws://{}", server.local_addr())),
        );
        cfg.intercept = Some(Arc::new(|f: &FrameRecord| {
            f.dir == Direction::ClientToServer && f.text().is_some_and(|t| t.contains("hold"))
        }));
        let mut proxy = wsdeck::proxy::start(cfg).await.unwrap();
        let url = format!("ws://{}", proxy.local_addr());
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        ws.send(Message::text("admin:123456")).await.unwrap();
        assert!(
            recv_text(&mut ws).await.starts_with("congratulation"),
            "not held"
        );

        // Held: a ping sent after it still gets its pong first.
        ws.send(Message::text("hold me")).await.unwrap();
        let h = held(&mut proxy).await;
        assert_eq!((h.conn, h.text()), (1, Some("hold me")));
        ws.send(Message::Ping(Bytes::from_static(b"still there?")))
            .await
            .unwrap();
        assert_eq!(
            recv(&mut ws).await,
            Message::Pong(Bytes::from_static(b"still there?"))
        );

        // Edited, then passed on: the server answers the edited text.
        assert!(proxy.send(ProxyCommand::Edit {
            conn: 1,
            seq: h.seq,
            payload: Bytes::from_static(b"edited"),
        }));
        assert_eq!(recv_text(&mut ws).await, "your submit context: edited");
        let f = frame(&mut proxy, h.seq).await;
        assert_eq!((f.origin, f.text()), (Origin::Modified, Some("edited")));

        // Dropped: the server never sees it (the next answer is for the next message).
        ws.send(Message::text("hold this too")).await.unwrap();
        let h2 = held(&mut proxy).await;
        assert!(proxy.send(ProxyCommand::Drop {
            conn: 1,
            seq: h2.seq
        }));
        assert_eq!(frame(&mut proxy, h2.seq).await.origin, Origin::Dropped);
        ws.send(Message::text("plain")).await.unwrap();
        assert_eq!(recv_text(&mut ws).await, "your submit context: plain");

        // Injected both ways.
        assert!(proxy.send(ProxyCommand::Inject {
            conn: 1,
            dir: Direction::ServerToClient,
            opcode: Opcode::Text,
            payload: Bytes::from_static(b"from wsdeck"),
        }));
        assert_eq!(recv_text(&mut ws).await, "from wsdeck");
        assert!(proxy.send(ProxyCommand::Inject {
            conn: 1,
            dir: Direction::ClientToServer,
            opcode: Opcode::Text,
            payload: Bytes::from_static(b"injected up"),
        }));
        assert_eq!(recv_text(&mut ws).await, "your submit context: injected up");

        // Still held when the client closes: reported as dropped, not lost.
        ws.send(Message::text("hold forever")).await.unwrap();
        let h3 = held(&mut proxy).await;
        ws.close(None).await.unwrap();
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        }
        let lost = frame(&mut proxy, h3.seq).await;
        assert_eq!(
            (lost.origin, lost.text()),
            (Origin::Dropped, Some("hold forever"))
        );
        match next_event(&mut proxy, "closed", |e| matches!(e, ProxyEvent::Closed(_))).await {
            ProxyEvent::Closed(c) => assert_eq!(c.lost_held, 1),
            _ => unreachable!(),
        }
        assert!(
            !proxy.send(ProxyCommand::Forward {
                conn: 1,
                seq: h3.seq
            }),
            "a closed connection takes no commands"
        );

        // Intercept off: the next connection's "hold" messages pass at once.
        proxy.set_intercept(None);
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        ws.send(Message::text("admin:123456")).await.unwrap();
        recv_text(&mut ws).await;
        ws.send(Message::text("hold nothing")).await.unwrap();
        assert_eq!(
            recv_text(&mut ws).await,
            "your submit context: hold nothing"
        );
        server.shutdown().await;
    }
}

/// `--intercept` headless: `held` lines out, steering commands in on stdin, its end releases
/// what is still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_intercept_holds_by_filter_and_is_steered_from_stdin() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    if !peers::peers_available() {
        return;
    }
    let server = peers::spawn_seed_server("admin", "123456");
    let mut proxy =
        common::proxy::spawn_proxy_piped(&[&server.url(), "--intercept", "dir:client hold"]);
    let mut stdin = proxy.child.stdin.take().unwrap();
    let mut say = |line: &str| writeln!(stdin, "{line}").unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(proxy.url()).await.unwrap();
    async fn text(
        ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
    ) -> String {
        loop {
            let m = tokio::time::timeout(common::GUARD, ws.next())
                .await
                .expect("a message within the guard")
                .unwrap()
                .unwrap();
            if let Message::Text(t) = m {
                return t.to_string();
            }
        }
    }
    let held = |p: &mut ProxyProcess, text: &str| -> u64 {
        let v = p.until(&format!("a held line for {text:?}"), |v| {
            v["type"] == "held" && v["text"] == text
        });
        v["seq"].as_u64().unwrap()
    };
    // Stdin lines are carried out in order: once the notice for a marker is out, every
    // command before it is in force.
    let mut markers = 0;
    let mut synced = |p: &mut ProxyProcess, say: &mut dyn FnMut(&str)| {
        markers += 1;
        let marker = format!("marker{markers}");
        say(&marker);
        let want = format!("unknown command {marker:?}; commands:");
        p.until("the marker's notice", |v| {
            v["type"] == "notice" && v["message"].as_str().unwrap_or("").starts_with(&want)
        });
    };
    ws.send(Message::text("admin:123456")).await.unwrap();
    assert!(
        text(&mut ws).await.starts_with("congratulation"),
        "not held"
    );

    ws.send(Message::text("hold me")).await.unwrap();
    let seq = held(&mut proxy, "hold me");
    let line = proxy
        .seen
        .iter()
        .find(|v| v["type"] == "held")
        .unwrap()
        .clone();
    assert_eq!(line["dir"], "c2s");
    say(&format!("edit {seq} edited by a script"));
    assert_eq!(
        text(&mut ws).await,
        "your submit context: edited by a script"
    );

    ws.send(Message::text("hold and drop")).await.unwrap();
    let seq = held(&mut proxy, "hold and drop");
    say(&format!("drop {seq}"));
    ws.send(Message::text("plain")).await.unwrap();
    assert_eq!(text(&mut ws).await, "your submit context: plain");
    let dropped = proxy.until("the dropped frame", |v| v["origin"] == "dropped");
    assert_eq!(dropped["text"], "hold and drop");

    ws.send(Message::text("hold three")).await.unwrap();
    let seq = held(&mut proxy, "hold three");
    // `edit SEQ` without its text is a slip: said, and the message stays held (it is
    // forwarded as sent below, after the injected message — not as an empty one now).
    say(&format!("edit {seq}"));
    let want = format!(
        "edit {seq} has no text, so message {seq} stays held: write edit {seq} TEXT, or \
         empty {seq} to forward it with nothing in it"
    );
    proxy.until("the missing text's notice", |v| {
        v["type"] == "notice" && v["message"] == want.as_str()
    });
    say("forward 999");
    proxy.until("the not-held notice", |v| {
        v["type"] == "notice" && v["message"] == "no message 999 is held"
    });
    say("inject 1 s2c from the script");
    assert_eq!(text(&mut ws).await, "from the script");
    say(&format!("forward {seq}"));
    assert_eq!(text(&mut ws).await, "your submit context: hold three");
    // An empty message is asked for by name.
    ws.send(Message::text("hold four")).await.unwrap();
    let seq = held(&mut proxy, "hold four");
    say(&format!("empty {seq}"));
    assert_eq!(text(&mut ws).await, "your submit context: ");

    say("intercept off");
    synced(&mut proxy, &mut say);
    ws.send(Message::text("hold nothing")).await.unwrap();
    assert_eq!(text(&mut ws).await, "your submit context: hold nothing");
    say("intercept /number \\d/");
    synced(&mut proxy, &mut say);
    ws.send(Message::text("number 4")).await.unwrap();
    held(&mut proxy, "number 4");
    // stdin ends: nothing may stay held.
    drop(stdin);
    assert_eq!(text(&mut ws).await, "your submit context: number 4");
    let notice = proxy.until("the release notice", |v| {
        v["type"] == "notice" && v["message"].as_str().unwrap().starts_with("stdin ended")
    });
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains("every held message was forwarded")
    );
    ws.close(None).await.unwrap();
    proxy.until_closed(1);
}

#[test]
fn an_intercept_rule_that_does_not_parse_is_refused_with_the_filters_sentence() {
    let out = common::output_guarded(
        Command::new(env!("CARGO_BIN_EXE_wsdeck")).args([
            "proxy",
            "--no-ui",
            "--listen",
            "127.0.0.1:0",
            "--intercept",
            "dir:sideways",
            "ws://127.0.0.1:9",
        ]),
        "wsdeck proxy",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("wsdeck: --intercept \"dir:sideways\" is not a filter: unknown direction"),
        "{err}"
    );
}

#[test]
fn a_connect_to_a_port_nobody_listens_on_is_answered_502_and_reported() {
    use std::io::Read;
    let mut proxy = spawn_proxy(&[]);
    // A loopback port just freed: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut tcp = std::net::TcpStream::connect(proxy.addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(tcp, "CONNECT {closed} HTTP/1.1\r\nHost: {closed}\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    // What curl reports as "CONNECT tunnel failed, response 502", not a tunnel that dies.
    assert!(
        answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains(&closed.port().to_string()),
        "the body says where: {answer}"
    );
    let refused = proxy.until("the refusal", |v| v["type"] == "refused");
    assert_eq!(refused["status"], 502, "{refused}");
}
