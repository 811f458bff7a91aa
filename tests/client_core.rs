//! The network task (`wsdeck::net::spawn`) driven against servers on 127.0.0.1: small scripted
//! servers written here for the edge cases (HTTP refusals, timeouts, pings, close codes, bad
//! UTF-8, TLS), and the embedded demo server for the seed protocol with pushes and broadcast.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::GUARD;
use common::client::Client;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use wsdeck::model::{ConnState, Direction, NetCommand, NetErrorKind, NetEvent, Opcode, Secret};
use wsdeck::net::{self, SessionHandle};
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn spec_none(url: String) -> ConnectSpec {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    spec
}

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A server that accepts one connection and keeps it open without ever answering.
async fn silent_server() -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        tokio::time::sleep(GUARD).await;
        drop(tcp);
    });
    port
}

/// A one-connection WebSocket server running `handler` on the accepted socket.
async fn ws_server<F, Fut>(handler: F) -> u16
where
    F: FnOnce(WebSocketStream<TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        handler(ws).await;
    });
    port
}

/// The next data frame the server gets (skipping pongs), or None when the client is gone.
async fn server_recv(ws: &mut WebSocketStream<TcpStream>) -> Option<Message> {
    loop {
        match timeout(GUARD, ws.next()).await.expect("client silent") {
            Some(Ok(Message::Pong(_))) => continue,
            Some(Ok(m)) => return Some(m),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn refused_port_is_reported_as_refused_naming_host_and_port() {
    let (l, port) = listener().await;
    drop(l);
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Refused);
    assert_eq!(
        e.message,
        format!(
            "connection refused to 127.0.0.1:{port} — check that the server is running and \
             the URL's port is right"
        )
    );
    assert_eq!(c.states()[0], ConnState::Connecting);
}

#[tokio::test]
async fn bad_url_fails_at_once() {
    let mut c = Client::start(spec_none("http://127.0.0.1:1/".into()));
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::BadUrl);
    assert!(e.message.contains("ws:// or wss://"), "{}", e.message);
}

/// A raw TCP server that answers any request with `answer` and closes.
async fn http_server(answer: &'static str) -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut tcp, _) = l.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            got.extend_from_slice(&buf[..n]);
        }
        tcp.write_all(answer.as_bytes()).await.unwrap();
        tcp.shutdown().await.ok();
    });
    port
}

#[tokio::test]
async fn http_status_on_the_upgrade_is_reported_with_its_status_line() {
    let port = http_server(
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nSet-Cookie: sid=secret\r\n\r\nno way",
    )
    .await;
    let mut spec = ConnectSpec::new(format!("ws://127.0.0.1:{port}/chat"));
    spec.user = "admin".into();
    spec.password = Secret::new("hunter2");
    spec.auth = AuthMethod::Bearer;
    let mut c = Client::start(spec);
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Http(403));
    assert_eq!(e.message, "server answered HTTP/1.1 403 Forbidden — no way");
    assert_eq!(
        c.states()[..2],
        [ConnState::Connecting, ConnState::Handshaking]
    );
    // The monitor still gets the exchange, with secrets hidden.
    let info = c.handshake().expect("handshake info for a refused upgrade");
    assert_eq!(info.request.start_line, "GET /chat HTTP/1.1");
    assert_eq!(info.response.start_line, "HTTP/1.1 403 Forbidden");
    let header = |h: &[(String, String)], n: &str| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(&info.request.headers, "authorization").as_deref(),
        Some("***")
    );
    assert_eq!(
        header(&info.response.headers, "set-cookie").as_deref(),
        Some("***")
    );
    assert!(!format!("{info:?}").contains("hunter2"));
}

#[tokio::test]
async fn http_404_uses_the_servers_own_status_line() {
    let port = http_server("HTTP/1.1 404 Nothing Here\r\nContent-Length: 0\r\n\r\n").await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/missing")));
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Http(404));
    assert_eq!(e.message, "server answered HTTP/1.1 404 Nothing Here");
}

#[tokio::test]
async fn silent_server_hits_the_handshake_timeout() {
    let port = silent_server().await;
    let mut spec = spec_none(format!("ws://127.0.0.1:{port}/"));
    spec.connect_timeout = Duration::from_millis(300);
    let mut c = Client::start(spec);
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Timeout);
    assert_eq!(
        e.message,
        format!("timeout: WebSocket handshake with 127.0.0.1:{port} did not finish within 300 ms")
    );
}

#[tokio::test]
async fn login_without_a_verdict_times_out_then_closes() {
    let (got_tx, got_rx) = oneshot::channel();
    let port = ws_server(|mut ws| async move {
        let login = server_recv(&mut ws).await;
        // Never answer; report what the client sent next.
        let next = server_recv(&mut ws).await;
        let _ = got_tx.send((login, next));
    })
    .await;
    let mut spec = ConnectSpec::new(format!("ws://127.0.0.1:{port}/"));
    spec.user = "admin".into();
    spec.password = Secret::new("123456");
    spec.login.timeout = Duration::from_millis(300);
    let mut c = Client::start(spec);
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::LoginTimeout);
    assert!(e.message.contains("300 ms"), "{}", e.message);
    let states = c.states();
    assert_eq!(
        states[..3],
        [
            ConnState::Connecting,
            ConnState::Handshaking,
            ConnState::LoggingIn
        ]
    );
    assert!(matches!(states.last(), Some(ConnState::Failed(_))));
    let (login, next) = timeout(GUARD, got_rx).await.unwrap().unwrap();
    assert_eq!(login, Some(Message::text("admin:123456")));
    assert!(
        matches!(&next, Some(Message::Close(Some(f))) if u16::from(f.code) == 1000),
        "expected a Close 1000 after the timeout, got {next:?}"
    );
}

#[tokio::test]
async fn basic_auth_sends_the_credential_and_the_handshake_info_hides_it() {
    let (hdr_tx, hdr_rx) = oneshot::channel();
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        // The callback's signature is tungstenite's; its large Err type is not ours to change.
        #[allow(clippy::result_large_err)]
        let callback = |req: &Request, mut resp: Response| {
            let get = |n: &str| {
                req.headers()
                    .get(n)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            let _ = hdr_tx.send((
                get("authorization"),
                get("x-trace"),
                get("sec-websocket-protocol"),
            ));
            resp.headers_mut()
                .insert("sec-websocket-protocol", "chat".parse().unwrap());
            Ok(resp)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
            .await
            .unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                break;
            }
        }
    });
    let mut spec = ConnectSpec::new(format!("ws://127.0.0.1:{port}/"));
    spec.user = "admin".into();
    spec.password = Secret::new("s3cret-pw");
    spec.auth = AuthMethod::Basic;
    spec.headers = vec![("X-Trace".into(), "abc".into())];
    spec.subprotocols = vec!["chat".into()];
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    let (auth, trace, proto) = timeout(GUARD, hdr_rx).await.unwrap().unwrap();
    // base64("admin:s3cret-pw")
    assert_eq!(auth.as_deref(), Some("Basic YWRtaW46czNjcmV0LXB3"));
    assert_eq!(trace.as_deref(), Some("abc"));
    assert_eq!(proto.as_deref(), Some("chat"));
    assert_eq!(
        c.states(),
        [
            ConnState::Connecting,
            ConnState::Handshaking,
            ConnState::LoggedIn
        ]
    );
    let info = c.handshake().unwrap();
    assert_eq!(info.response.start_line, "HTTP/1.1 101 Switching Protocols");
    assert!(
        info.request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "***")
    );
    assert!(
        info.request
            .headers
            .iter()
            .any(|(k, _)| k == "Sec-WebSocket-Key")
    );
    assert!(!format!("{:?}", c.events()).contains("YWRtaW46czNjcmV0LXB3"));
    c.send(NetCommand::Close {
        code: 1000,
        reason: "bye".into(),
    });
    c.until_ended().await;
}

#[tokio::test]
async fn pings_measure_rtt_and_server_pings_are_answered_and_recorded() {
    let (pong_tx, pong_rx) = oneshot::channel();
    let port = ws_server(|mut ws| async move {
        ws.send(Message::Ping(Bytes::from_static(b"srv")))
            .await
            .unwrap();
        let mut pong_tx = Some(pong_tx);
        while let Some(Ok(m)) = ws.next().await {
            match m {
                Message::Pong(p) => {
                    if let Some(tx) = pong_tx.take() {
                        let _ = tx.send(p);
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    })
    .await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    c.until("server ping", |e| {
        matches!(e, NetEvent::Frame(f) if f.opcode == Opcode::Ping && f.dir == Direction::ServerToClient)
    })
    .await;
    assert_eq!(
        timeout(GUARD, pong_rx).await.unwrap().unwrap(),
        Bytes::from_static(b"srv")
    );
    c.send(NetCommand::Ping(b"p1".to_vec()));
    c.until("rtt", |e| matches!(e, NetEvent::Rtt(_))).await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    c.until_ended().await;

    let frames = c.frames();
    let seqs: Vec<u64> = frames.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, (1..=frames.len() as u64).collect::<Vec<_>>());
    let kinds: Vec<(Direction, Opcode, &[u8])> = frames
        .iter()
        .map(|f| (f.dir, f.opcode, f.payload.as_ref()))
        .collect();
    assert_eq!(
        kinds[..4],
        [
            (Direction::ServerToClient, Opcode::Ping, &b"srv"[..]),
            (Direction::ClientToServer, Opcode::Pong, &b"srv"[..]),
            (Direction::ClientToServer, Opcode::Ping, &b"p1"[..]),
            (Direction::ServerToClient, Opcode::Pong, &b"p1"[..]),
        ]
    );
}

#[tokio::test]
async fn server_close_code_and_reason_reach_the_final_state() {
    let port = ws_server(|mut ws| async move {
        ws.send(Message::Binary(Bytes::from_static(&[0, 1, 0xff])))
            .await
            .unwrap();
        ws.send(Message::Close(Some(CloseFrame {
            code: 4001.into(),
            reason: "maintenance".into(),
        })))
        .await
        .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_ended().await;
    assert_eq!(
        c.states().last(),
        Some(&ConnState::Closed {
            code: Some(4001),
            reason: "maintenance".into()
        })
    );
    let frames = c.frames();
    assert_eq!(frames[0].opcode, Opcode::Binary);
    assert_eq!(frames[0].payload.as_ref(), &[0, 1, 0xff]);
    let closes: Vec<(Direction, Option<u16>)> = frames[1..]
        .iter()
        .map(|f| (f.dir, f.close.as_ref().map(|c| c.code)))
        .collect();
    assert_eq!(
        closes,
        [
            (Direction::ServerToClient, Some(4001)),
            (Direction::ClientToServer, Some(4001))
        ]
    );
    assert_eq!(frames[1].payload.as_ref(), b"maintenance");
}

#[tokio::test]
async fn invalid_utf8_in_a_text_message_fails_with_close_1007() {
    let (close_tx, close_rx) = oneshot::channel();
    let port = ws_server(|mut ws| async move {
        let bad = Frame::message(
            Bytes::from_static(b"ok \xff\xfe"),
            OpCode::Data(Data::Text),
            true,
        );
        ws.send(Message::Frame(bad)).await.unwrap();
        let _ = close_tx.send(server_recv(&mut ws).await);
    })
    .await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Protocol);
    assert!(e.message.contains("1007"), "{}", e.message);
    let got = timeout(GUARD, close_rx).await.unwrap().unwrap();
    assert!(
        matches!(&got, Some(Message::Close(Some(f))) if u16::from(f.code) == 1007),
        "server got {got:?}"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_reported_as_lost() {
    let port = ws_server(|mut ws| async move {
        ws.send(Message::text("last words")).await.unwrap();
        drop(ws);
    })
    .await;
    let mut spec = spec_none(format!("ws://127.0.0.1:{port}/"));
    // (With reconnecting on, the task would try again: see tests/reconnect.rs.)
    spec.reconnect = false;
    let mut c = Client::start(spec);
    c.until_text("last words").await;
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Io);
    assert!(e.message.starts_with("connection lost: "), "{}", e.message);
}

#[tokio::test]
async fn dropping_the_command_sender_closes_with_1000() {
    let (close_tx, close_rx) = oneshot::channel();
    let port = ws_server(|mut ws| async move {
        let first = server_recv(&mut ws).await;
        let close = server_recv(&mut ws).await;
        // tungstenite queued the Close reply while reading; send it.
        let _ = ws.flush().await;
        let _ = close_tx.send((first, close));
    })
    .await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    let mut seen = c.events();
    let h = c.h;
    let SessionHandle {
        commands,
        mut events,
    } = h;
    commands
        .send(NetCommand::SendText("before quitting".into()))
        .unwrap();
    drop(commands);
    while let Some(ev) = timeout(GUARD, events.recv()).await.unwrap() {
        seen.push(ev);
    }
    assert!(matches!(seen.last(), Some(NetEvent::Ended)));
    let states: Vec<ConnState> = seen
        .iter()
        .filter_map(|e| match e {
            NetEvent::State(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        states[states.len() - 2..],
        [
            ConnState::Closing,
            ConnState::Closed {
                code: Some(1000),
                reason: String::new()
            }
        ]
    );
    let (first, close) = timeout(GUARD, close_rx).await.unwrap().unwrap();
    assert_eq!(first, Some(Message::text("before quitting")));
    assert!(matches!(&close, Some(Message::Close(Some(f))) if u16::from(f.code) == 1000));
}

// ---------------------------------------------------------------- TLS

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A wss echo server with a self-signed certificate for "localhost".
async fn tls_echo_server() -> u16 {
    let (l, port) = listener().await;
    let acceptor = tls_acceptor();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Text(t) = m {
                        let reply = Utf8Bytes::from(format!("echo: {t}"));
                        if ws.send(Message::Text(reply)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn self_signed_certificate_is_named_and_refused() {
    let port = tls_echo_server().await;
    let mut c = Client::start(spec_none(format!("wss://localhost:{port}/")));
    c.until_ended().await;
    let e = c.failure();
    assert_eq!(e.kind, NetErrorKind::Tls);
    assert_eq!(
        e.message,
        "TLS: the server's certificate (CN=rcgen self signed cert) is self-signed, so no CA \
         vouches for it: trust it with --cacert FILE (that certificate in PEM), or skip every \
         check with --insecure"
    );
}

#[tokio::test]
async fn insecure_accepts_a_self_signed_certificate() {
    let port = tls_echo_server().await;
    let mut spec = spec_none(format!("wss://localhost:{port}/"));
    spec.insecure = true;
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    c.send(NetCommand::SendText("over tls".into()));
    c.until_text("echo: over tls").await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    c.until_ended().await;
}

#[tokio::test]
async fn quitting_while_connecting_cancels_at_once() {
    let port = silent_server().await;
    let mut spec = spec_none(format!("ws://127.0.0.1:{port}/"));
    spec.connect_timeout = GUARD * 2;
    let mut c = Client::start(spec);
    c.until_state("handshaking", |s| *s == ConnState::Handshaking)
        .await;
    let SessionHandle {
        commands,
        mut events,
    } = c.h;
    drop(commands);
    let mut last_state = None;
    while let Some(ev) = timeout(GUARD, events.recv()).await.unwrap() {
        if let NetEvent::State(s) = ev {
            last_state = Some(s);
        }
    }
    assert!(
        matches!(&last_state, Some(ConnState::Closed { code: None, reason }) if reason.contains("cancelled")),
        "{last_state:?}"
    );
}

/// Our Close gets no reply: the final state says so instead of looking like a clean close.
#[tokio::test]
async fn a_close_without_reply_is_reported_by_name() {
    // A server that reads our Close and then neither answers nor hangs up...
    let (got_tx, got_rx) = oneshot::channel();
    let port = ws_server(|ws| async move {
        let (_sink, mut stream) = ws.split();
        let got = timeout(GUARD, stream.next()).await.ok().flatten();
        let _ = got_tx.send(got.and_then(Result::ok));
        tokio::time::sleep(GUARD).await;
    })
    .await;
    let mut spec = spec_none(format!("ws://127.0.0.1:{port}/"));
    spec.close_timeout = Duration::from_millis(300);
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: "bye".into(),
    });
    c.until_ended().await;
    assert_eq!(
        c.states().last(),
        Some(&ConnState::Closed {
            code: Some(1000),
            reason: "no Close reply within 300 ms".into()
        })
    );
    let got = timeout(GUARD, got_rx).await.unwrap().unwrap();
    assert!(
        matches!(&got, Some(Message::Close(Some(f))) if u16::from(f.code) == 1000),
        "{got:?}"
    );

    // ...and one that hangs up without answering.
    let port = ws_server(|mut ws| async move {
        let _ = server_recv(&mut ws).await;
        // Dropped without flushing the reply tungstenite queued.
    })
    .await;
    let mut c = Client::start(spec_none(format!("ws://127.0.0.1:{port}/")));
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: String::new(),
    });
    c.until_ended().await;
    assert_eq!(
        c.states().last(),
        Some(&ConnState::Closed {
            code: Some(1000),
            reason: "the server ended the connection without a Close reply".into()
        })
    );
}

// ------------------------------------------------- the embedded demo server

use wsdeck::server::{RunningServer, ServerConfig};

const USER: &str = "admin";
const PASSWORD: &str = "123456";

async fn demo_server(tick: Option<Duration>) -> RunningServer {
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap(), USER, Secret::new(PASSWORD));
    cfg.tick = tick;
    wsdeck::server::start(cfg).await.unwrap()
}

fn login_spec(server: &RunningServer, password: &str) -> ConnectSpec {
    let mut spec = ConnectSpec::new(format!("ws://{}/", server.local_addr()));
    spec.user = USER.into();
    spec.password = Secret::new(password);
    spec
}

/// A client logged in to `server` with the right password.
async fn logged_in(server: &RunningServer) -> Client {
    let mut c = Client::start(login_spec(server, PASSWORD));
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    c
}

#[tokio::test]
async fn demo_rejected_then_accepted_login_keeps_the_connection() {
    let server = demo_server(None).await;
    let mut c = Client::start(login_spec(&server, "not-it"));
    let rejected = c
        .until("rejection", |e| {
            matches!(
                e,
                NetEvent::Login(wsdeck::model::LoginOutcome::Rejected { .. })
            )
        })
        .await;
    let NetEvent::Login(wsdeck::model::LoginOutcome::Rejected { reply }) = rejected else {
        unreachable!()
    };
    assert_eq!(reply, wsdeck::server::LOGIN_FAIL_REPLY);
    c.until_state("awaiting login", |s| *s == ConnState::AwaitingLogin)
        .await;
    c.send(NetCommand::Login {
        user: USER.into(),
        password: Secret::new(PASSWORD),
    });
    let accepted = c
        .until("acceptance", |e| matches!(e, NetEvent::Login(_)))
        .await;
    assert!(
        matches!(&accepted, NetEvent::Login(wsdeck::model::LoginOutcome::Accepted { reply })
            if reply == wsdeck::server::LOGIN_OK_REPLY),
        "{accepted:?}"
    );
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    assert_eq!(
        c.states(),
        [
            ConnState::Connecting,
            ConnState::Handshaking,
            ConnState::LoggingIn,
            ConnState::AwaitingLogin,
            ConnState::LoggingIn,
            ConnState::LoggedIn,
        ]
    );
    // Both login frames and both replies are in the history, passwords hidden.
    let frames = c.frames();
    let texts: Vec<(Direction, String, bool, usize)> = frames
        .iter()
        .map(|f| (f.dir, f.text().unwrap().to_string(), f.redacted, f.len))
        .collect();
    assert_eq!(
        texts,
        [
            (
                Direction::ClientToServer,
                "admin:***".into(),
                true,
                "admin:not-it".len()
            ),
            (
                Direction::ServerToClient,
                wsdeck::server::LOGIN_FAIL_REPLY.into(),
                false,
                wsdeck::server::LOGIN_FAIL_REPLY.len()
            ),
            (
                Direction::ClientToServer,
                "admin:***".into(),
                true,
                "admin:123456".len()
            ),
            (
                Direction::ServerToClient,
                wsdeck::server::LOGIN_OK_REPLY.into(),
                false,
                wsdeck::server::LOGIN_OK_REPLY.len()
            ),
        ]
    );
    let everything = format!("{:?}", c.events());
    assert!(!everything.contains(PASSWORD) && !everything.contains("not-it"));
}

#[tokio::test]
async fn demo_login_frame_is_shown_in_clear_only_with_no_redact() {
    let server = demo_server(None).await;
    let mut spec = login_spec(&server, PASSWORD);
    spec.no_redact = true;
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    let login = &c.frames()[0];
    assert_eq!(login.text(), Some("admin:123456"));
    assert!(!login.redacted);
}

#[tokio::test]
async fn demo_echo_and_clean_close() {
    let server = demo_server(None).await;
    let mut c = logged_in(&server).await;
    c.send(NetCommand::SendText("hello there".into()));
    c.until_text("your submit context: hello there").await;
    c.send(NetCommand::SendBinary(vec![1, 2, 3]));
    c.until("binary echo", |e| {
        matches!(e, NetEvent::Frame(f) if f.dir == Direction::ServerToClient
            && f.opcode == Opcode::Binary && f.payload.as_ref() == [1, 2, 3])
    })
    .await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: "bye".into(),
    });
    c.until_ended().await;
    let states = c.states();
    assert_eq!(states[states.len() - 2], ConnState::Closing);
    assert!(
        matches!(
            &states[states.len() - 1],
            ConnState::Closed {
                code: Some(1000),
                ..
            }
        ),
        "{:?}",
        states.last()
    );
    let frames = c.frames();
    let tail: Vec<(Direction, Option<u16>)> = frames[frames.len() - 2..]
        .iter()
        .map(|f| (f.dir, f.close.as_ref().map(|c| c.code)))
        .collect();
    assert_eq!(
        tail,
        [
            (Direction::ClientToServer, Some(1000)),
            (Direction::ServerToClient, Some(1000))
        ]
    );
    assert_eq!(frames[frames.len() - 2].payload.as_ref(), b"bye");
}

#[tokio::test]
async fn demo_handshake_info_has_both_sides_of_the_upgrade() {
    let server = demo_server(None).await;
    let c = logged_in(&server).await;
    let info = c.handshake().expect("a Handshake event");
    let has = |h: &[(String, String)], n: &str| {
        h.iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(n) && !v.is_empty())
    };
    assert_eq!(info.request.start_line, "GET / HTTP/1.1");
    assert!(has(&info.request.headers, "Sec-WebSocket-Key"));
    assert!(has(&info.request.headers, "Host"));
    assert_eq!(info.response.start_line, "HTTP/1.1 101 Switching Protocols");
    assert!(has(&info.response.headers, "Sec-WebSocket-Accept"));
    assert!(info.started.is_some() && info.finished >= info.started);
    // The Handshake event comes between Handshaking and the login.
    let pos = |pred: &dyn Fn(&NetEvent) -> bool| c.events().iter().position(pred).unwrap();
    let hs = pos(&|e| matches!(e, NetEvent::Handshake(_)));
    assert!(pos(&|e| matches!(e, NetEvent::State(ConnState::Handshaking))) < hs);
    assert!(hs < pos(&|e| matches!(e, NetEvent::State(ConnState::LoggingIn))));
}

#[tokio::test]
async fn demo_pushes_arrive_without_sending_anything() {
    let server = demo_server(Some(Duration::from_millis(200))).await;
    let mut c = logged_in(&server).await;
    c.until_text("server push #1").await;
    c.until_text("server push #2").await;
    let sent_after_login = c
        .frames()
        .iter()
        .filter(|f| f.dir == Direction::ClientToServer)
        .count();
    assert_eq!(sent_after_login, 1, "only the login frame was sent");
}

#[tokio::test]
async fn demo_broadcast_reaches_the_other_client() {
    let server = demo_server(None).await;
    let mut a = logged_in(&server).await;
    let mut b = logged_in(&server).await;
    a.send(NetCommand::SendText("hi from a".into()));
    a.until_text("your submit context: hi from a").await;
    b.until_text("admin: hi from a").await;
    b.send(NetCommand::SendText("hi from b".into()));
    a.until_text("admin: hi from b").await;
}

#[tokio::test]
async fn demo_server_shutdown_is_a_1001_close() {
    let server = demo_server(None).await;
    let mut spec = login_spec(&server, PASSWORD);
    spec.reconnect = false;
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    server.shutdown().await;
    c.until_ended().await;
    assert_eq!(
        c.states().last(),
        Some(&ConnState::Closed {
            code: Some(1001),
            reason: wsdeck::server::SHUTDOWN_REASON.into()
        })
    );
}

#[tokio::test]
async fn a_continuing_session_keeps_numbering_frames() {
    let server = demo_server(None).await;
    let mut c = Client {
        h: net::spawn_continuing(login_spec(&server, PASSWORD), 41),
        seen: Vec::new(),
    };
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    let seqs: Vec<u64> = c.frames().iter().map(|f| f.seq).collect();
    assert_eq!(seqs, [41, 42]);
}

#[tokio::test]
async fn automatic_pings_go_out_on_the_interval_and_measure_rtt() {
    let server = demo_server(None).await;
    let mut spec = login_spec(&server, PASSWORD);
    spec.ping_interval = Some(Duration::from_millis(50));
    let mut c = Client::start(spec);
    c.until_state("logged in", |s| *s == ConnState::LoggedIn)
        .await;
    for _ in 0..2 {
        c.until("rtt", |e| matches!(e, NetEvent::Rtt(_))).await;
    }
    let frames = c.frames();
    let pings: Vec<&[u8]> = frames
        .iter()
        .filter(|f| f.opcode == Opcode::Ping && f.dir == Direction::ClientToServer)
        .map(|f| f.payload.as_ref())
        .collect();
    assert!(pings.len() >= 2, "{pings:?}");
    assert_eq!(pings[..2], [&b"wsdeck 1"[..], &b"wsdeck 2"[..]]);
    assert!(frames.iter().any(|f| f.opcode == Opcode::Pong
        && f.dir == Direction::ServerToClient
        && f.payload.as_ref() == b"wsdeck 1"));
    // Pings are not messages: the session is still just logged in, nothing else was sent.
    assert_eq!(
        frames
            .iter()
            .filter(|f| f.dir == Direction::ClientToServer && f.opcode == Opcode::Text)
            .count(),
        1
    );
}
