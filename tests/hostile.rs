//! Hostile clients against the demo server, over raw TCP with hand-made frames.
//!
//! Most cases run against `wsdeck::server::start` in this process on 127.0.0.1:0, with small
//! limits so they stay fast. After each case an honest client (tokio-tungstenite) still logs
//! in and chats, and the server holds no connection any more (`RunningServer::stats`). The
//! memory case runs the built `wsdeck serve` as a child and reads its VmRSS/VmHWM from /proc;
//! the TLS, origin and users-file cases run the binary with those flags.

mod common;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wsdeck::model::Secret;
use wsdeck::server::{LOGIN_FAIL_REPLY, LOGIN_OK_REPLY, RunningServer, ServerConfig};

/// Hang guard only.
const GUARD: Duration = Duration::from_secs(15);
const USER: &str = "admin";
const PASSWORD: &str = "123456";
/// `max_message_size` of the in-process servers.
const MAX_MESSAGE: usize = 64 * 1024;
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xa;

const UPGRADE_REQUEST: &str = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

// ---------------------------------------------------------------------------------------------
// Server and honest client

async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap(), USER, Secret::new(PASSWORD));
    cfg.max_message_size = MAX_MESSAGE;
    cfg.handshake_timeout = Duration::from_secs(2);
    cfg.login_delay = Duration::from_millis(20);
    cfg.close_timeout = Duration::from_secs(1);
    adjust(&mut cfg);
    wsdeck::server::start(cfg).await.expect("server starts")
}

async fn start() -> RunningServer {
    start_with(|_| {}).await
}

/// A real client logs in, chats and closes cleanly.
async fn honest_chat(addr: SocketAddr) {
    let (mut ws, _) = timeout(
        GUARD,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .expect("honest client connects in time")
    .expect("honest client's handshake succeeds");
    ws_send(&mut ws, &format!("{USER}:{PASSWORD}")).await;
    assert_eq!(ws_text(&mut ws).await, LOGIN_OK_REPLY);
    ws_send(&mut ws, "still serving?").await;
    assert_eq!(
        ws_text(&mut ws).await,
        "your submit context: still serving?"
    );
    ws_close(ws).await;
}

/// Close handshake, then wait for the stream to end.
async fn ws_close(mut ws: Ws) {
    let _ = timeout(GUARD, ws.close(None)).await;
    while let Ok(Some(Ok(_))) = timeout(GUARD, ws.next()).await {}
}

async fn ws_send(ws: &mut Ws, text: &str) {
    timeout(GUARD, ws.send(Message::text(text)))
        .await
        .expect("send in time")
        .expect("send ok");
}

async fn ws_text(ws: &mut Ws) -> String {
    loop {
        match timeout(GUARD, ws.next()).await.expect("a message in time") {
            Some(Ok(Message::Text(t))) => return t.as_str().to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

async fn ws_login(addr: SocketAddr) -> Ws {
    let (mut ws, _) = timeout(
        GUARD,
        tokio_tungstenite::connect_async(format!("ws://{addr}/")),
    )
    .await
    .expect("connect in time")
    .expect("handshake");
    ws_send(&mut ws, &format!("{USER}:{PASSWORD}")).await;
    assert_eq!(ws_text(&mut ws).await, LOGIN_OK_REPLY);
    ws
}

/// Wait until the server holds no connection at all (hostile ones included).
async fn wait_until_empty(server: &RunningServer) {
    let deadline = Instant::now() + GUARD;
    loop {
        let stats = server.stats();
        if stats.connections == 0 && stats.upgraded == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server still holds connections: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After a hostile case: an honest client still logs in and chats, and nothing is left over.
async fn assert_healthy(server: &RunningServer) {
    honest_chat(server.local_addr()).await;
    wait_until_empty(server).await;
}

// ---------------------------------------------------------------------------------------------
// Raw client

/// How the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reaction {
    /// A Close frame with this code and reason.
    Close(u16, String),
    /// An HTTP response with this status.
    Http(u16),
    /// The connection ended without a Close frame.
    Eof,
    /// The connection was reset.
    Reset,
}

impl Reaction {
    fn code(&self) -> Option<u16> {
        match self {
            Reaction::Close(c, _) => Some(*c),
            _ => None,
        }
    }
}

/// One server frame.
#[derive(Debug)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

enum Next {
    Frame(Frame),
    Eof,
    Reset,
}

struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        let tcp = timeout(GUARD, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        Raw {
            tcp,
            buf: Vec::new(),
        }
    }

    /// Connect and complete the WebSocket handshake.
    async fn upgraded(addr: SocketAddr) -> Raw {
        let mut raw = Raw::connect(addr).await;
        raw.upgrade().await;
        raw
    }

    /// Connect through a socket with a tiny receive buffer, and upgrade.
    async fn upgraded_small_rcvbuf(addr: SocketAddr) -> Raw {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = timeout(GUARD, socket.connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        let mut raw = Raw {
            tcp,
            buf: Vec::new(),
        };
        raw.upgrade().await;
        raw
    }

    async fn upgrade(&mut self) {
        self.send(UPGRADE_REQUEST.as_bytes()).await;
        let head = self.http_head().await.expect("a 101 response");
        assert!(
            head.starts_with("HTTP/1.1 101 "),
            "upgrade answered {head:?}"
        );
    }

    async fn send(&mut self, bytes: &[u8]) {
        timeout(GUARD, self.tcp.write_all(bytes))
            .await
            .expect("write in time")
            .expect("write");
    }

    /// Write, tolerating a server that already closed.
    async fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        timeout(GUARD, self.tcp.write_all(bytes))
            .await
            .expect("write in time")
    }

    /// A masked frame with FIN set and no reserved bits.
    async fn frame(&mut self, opcode: u8, payload: &[u8]) {
        self.send(&frame(true, 0, opcode, payload, Some(MASK)))
            .await;
    }

    async fn text(&mut self, text: &str) {
        self.frame(OP_TEXT, text.as_bytes()).await;
    }

    async fn login(&mut self) {
        self.text(&format!("{USER}:{PASSWORD}")).await;
        assert_eq!(self.next_text().await, LOGIN_OK_REPLY);
    }

    /// Read more bytes into the buffer: Ok(0) at EOF.
    async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(16 * 1024);
        timeout(GUARD, self.tcp.read_buf(&mut self.buf))
            .await
            .expect("the server reacts instead of leaving the connection hanging")
    }

    /// The HTTP response head (status line and headers), or `None` if the connection ended
    /// first.
    async fn http_head(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return Some(head);
            }
            match self.fill().await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The server's answer to a request that is not a valid upgrade.
    async fn http_reaction(&mut self) -> Reaction {
        match self.http_head().await {
            Some(head) => {
                let status = head
                    .strip_prefix("HTTP/1.1 ")
                    .and_then(|r| r.get(..3))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
                Reaction::Http(status)
            }
            None if self.buf.is_empty() => Reaction::Eof,
            None => panic!("partial response {:?}", String::from_utf8_lossy(&self.buf)),
        }
    }

    async fn next(&mut self) -> Next {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Next::Frame(frame);
            }
            match self.fill().await {
                Ok(0) => return Next::Eof,
                Err(_) => return Next::Reset,
                Ok(_) => {}
            }
        }
    }

    /// Next text frame (pings and pongs skipped).
    async fn next_text(&mut self) -> String {
        loop {
            match self.next().await {
                Next::Frame(f) if f.opcode == OP_TEXT => {
                    assert!(f.fin);
                    return String::from_utf8(f.payload).expect("server sends UTF-8");
                }
                Next::Frame(f) if matches!(f.opcode, OP_PING | OP_PONG) => {}
                Next::Frame(f) => panic!("expected text, got {f:?}"),
                Next::Eof => panic!("expected text, got EOF"),
                Next::Reset => panic!("expected text, got a reset"),
            }
        }
    }

    /// Read until the server's Close frame or the end of the connection (data skipped).
    async fn reaction(&mut self) -> Reaction {
        loop {
            match self.next().await {
                Next::Frame(f) if f.opcode == OP_CLOSE => {
                    let code = match f.payload.as_slice() {
                        [a, b, ..] => u16::from_be_bytes([*a, *b]),
                        _ => 1005,
                    };
                    let reason = String::from_utf8_lossy(f.payload.get(2..).unwrap_or(&[]));
                    return Reaction::Close(code, reason.into_owned());
                }
                Next::Frame(_) => {}
                Next::Eof => return Reaction::Eof,
                Next::Reset => return Reaction::Reset,
            }
        }
    }

    /// Expect a Close with `code`, then answer it and expect the connection to end.
    async fn expect_close(&mut self, code: u16, what: &str) -> String {
        let reaction = self.reaction().await;
        let Reaction::Close(got, reason) = reaction else {
            panic!("{what}: expected Close {code}, got {reaction:?}");
        };
        assert_eq!(got, code, "{what}: close code (reason {reason:?})");
        let _ = self
            .try_send(&frame(true, 0, OP_CLOSE, &code.to_be_bytes(), Some(MASK)))
            .await;
        self.expect_end(what).await;
        reason
    }

    /// Nothing more but the end of the connection.
    async fn expect_end(&mut self, what: &str) {
        loop {
            match self.next().await {
                Next::Eof | Next::Reset => return,
                Next::Frame(f) if matches!(f.opcode, OP_PING | OP_PONG) => {}
                Next::Frame(f) => panic!("{what}: frame after the close: {f:?}"),
            }
        }
    }
}

/// Encode one frame.
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = header(fin, rsv, opcode, payload.len() as u64, mask);
    match mask {
        Some(m) => out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4])),
        None => out.extend_from_slice(payload),
    }
    out
}

/// Encode a frame header announcing `len` payload bytes.
fn header(fin: bool, rsv: u8, opcode: u8, len: u64, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= u64::from(u16::MAX) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(m) = mask {
        out.extend_from_slice(&m);
    }
    out
}

/// Parse one unmasked server frame from the front of `buf`.
fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    assert_eq!(b1 & 0x80, 0, "server frames are never masked");
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let len = usize::try_from(len).expect("sane length");
    let payload = buf.get(at..at + len)?.to_vec();
    at += len;
    Some((
        Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            payload,
        },
        at,
    ))
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Before the upgrade

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_get_an_http_error_or_a_close() {
    let server = start().await;
    let addr = server.local_addr();
    // Before the handshake: an HTTP error (400), never a hang.
    for seed in 1..=16u64 {
        let mut raw = Raw::connect(addr).await;
        let _ = raw.try_send(&noise(seed, 4096)).await;
        let reaction = raw.http_reaction().await;
        assert!(
            matches!(reaction, Reaction::Http(400..=499)),
            "seed {seed}: {reaction:?}"
        );
    }
    // After the handshake: a protocol close (or the end of the connection once we stop
    // sending), never a hang or a crash.
    let mut closes = 0;
    for seed in 100..=131u64 {
        let mut raw = Raw::upgraded(addr).await;
        let _ = raw.try_send(&noise(seed, 4096)).await;
        let _ = raw.tcp.shutdown().await;
        let reaction = raw.reaction().await;
        eprintln!("noise seed {seed} after the upgrade: {reaction:?}");
        match reaction {
            Reaction::Close(1002 | 1007 | 1009, _) => closes += 1,
            Reaction::Eof | Reaction::Reset => {}
            other => panic!("seed {seed}: {other:?}"),
        }
    }
    assert!(
        closes >= 16,
        "only {closes} of 32 noisy clients got a Close"
    );
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_upgrades_get_4xx() {
    let server = start().await;
    let addr = server.local_addr();
    let no_key = UPGRADE_REQUEST.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let cases: Vec<(String, u16)> = vec![
        (no_key, 400),
        (
            UPGRADE_REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="),
            400,
        ),
        (UPGRADE_REQUEST.replace("HTTP/1.1", "HTTP/1.0"), 426),
        (UPGRADE_REQUEST.replace("GET", "HEAD"), 405),
        (UPGRADE_REQUEST.replace("Connection: Upgrade\r\n", ""), 426),
        (UPGRADE_REQUEST.replace("Version: 13", "Version: 99"), 426),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n".into(), 426),
        ("GET\r\n\r\n".into(), 400),
        (format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(40_000)), 431),
    ];
    for (request, status) in cases {
        let mut raw = Raw::connect(addr).await;
        let _ = raw.try_send(request.as_bytes()).await;
        assert_eq!(
            raw.http_reaction().await,
            Reaction::Http(status),
            "{:?}",
            request.get(..60)
        );
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_header_gets_431_without_being_buffered() {
    const TOTAL: usize = 20 * 1024 * 1024;
    let server = start().await;
    let (sent, text) = stream_huge_header(server.local_addr(), TOTAL).await;
    assert!(text.starts_with("HTTP/1.1 431 "), "answered {text:?}");
    assert!(
        sent < TOTAL,
        "the server accepted the whole 20 MB header instead of cutting it off"
    );
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_hundred_half_open_handshakes_time_out_while_others_are_served() {
    const HALF_OPEN: usize = 120;
    let server = start_with(|c| c.handshake_timeout = Duration::from_secs(1)).await;
    let addr = server.local_addr();
    let mut stalled = Vec::new();
    for i in 0..HALF_OPEN {
        let mut raw = Raw::connect(addr).await;
        match i % 3 {
            0 => {}
            1 => raw.send(b"GET / HTTP/1.1\r\nHost: x\r\n").await,
            _ => {
                raw.send(&UPGRADE_REQUEST.as_bytes()[..UPGRADE_REQUEST.len() - 2])
                    .await
            }
        }
        stalled.push(raw);
    }
    // Served meanwhile.
    honest_chat(addr).await;
    // Every stalled connection is closed by the server.
    for (i, raw) in stalled.iter_mut().enumerate() {
        let reaction = raw.http_reaction().await;
        assert!(
            matches!(
                reaction,
                Reaction::Eof | Reaction::Reset | Reaction::Http(408)
            ),
            "half-open #{i}: {reaction:?}"
        );
    }
    drop(stalled);
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_mid_handshake_and_mid_frame_leave_nothing_behind() {
    let server = start().await;
    let addr = server.local_addr();
    for i in 0..30 {
        let raw = if i % 2 == 0 {
            let mut raw = Raw::connect(addr).await;
            raw.send(&UPGRADE_REQUEST.as_bytes()[..40]).await;
            raw
        } else {
            let mut raw = Raw::upgraded(addr).await;
            if i % 4 == 1 {
                raw.login().await;
            }
            // Half of a 1000-byte frame.
            let whole = frame(true, 0, OP_TEXT, &[b'x'; 1000], Some(MASK));
            raw.send(&whole[..500]).await;
            raw
        };
        raw.tcp.set_zero_linger().unwrap();
        // Give the server a moment to be inside the read.
        if i % 5 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(raw);
    }
    wait_until_empty(&server).await;
    assert_healthy(&server).await;
}

// ---------------------------------------------------------------------------------------------
// Frames

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_get_1009() {
    let server = start().await;
    let addr = server.local_addr();
    // One frame over the limit: refused from its header, the payload is never awaited.
    let mut raw = Raw::upgraded(addr).await;
    raw.login().await;
    raw.send(&header(
        true,
        0,
        OP_BINARY,
        MAX_MESSAGE as u64 + 1,
        Some(MASK),
    ))
    .await;
    raw.expect_close(1009, "big frame").await;

    // Fragments that only together exceed the limit (before login too).
    for login in [false, true] {
        let mut raw = Raw::upgraded(addr).await;
        if login {
            raw.login().await;
        }
        let part = vec![b'y'; MAX_MESSAGE / 2];
        raw.send(&frame(false, 0, OP_TEXT, &part, Some(MASK))).await;
        raw.send(&frame(false, 0, OP_CONT, &part, Some(MASK))).await;
        let _ = raw
            .try_send(&frame(true, 0, OP_CONT, b"zz", Some(MASK)))
            .await;
        raw.expect_close(1009, "fragments").await;
    }

    // Exactly the limit is fine.
    let mut raw = Raw::upgraded(addr).await;
    raw.login().await;
    raw.frame(OP_BINARY, &vec![1u8; MAX_MESSAGE]).await;
    match raw.next().await {
        Next::Frame(f) => {
            assert_eq!(f.opcode, OP_BINARY);
            assert_eq!(f.payload.len(), MAX_MESSAGE);
        }
        _ => panic!("a message of exactly the limit was not echoed"),
    }
    drop(raw);
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_announcing_2_pow_63_bytes_then_stalling_is_closed() {
    let server = start().await;
    let addr = server.local_addr();
    for (len, opcode) in [
        (1u64 << 63, OP_BINARY),
        (u64::MAX, OP_TEXT),
        ((1u64 << 63) - 1, OP_BINARY),
        (1u64 << 32, OP_CONT),
    ] {
        let mut raw = Raw::upgraded(addr).await;
        raw.login().await;
        raw.send(&header(true, 0, opcode, len, Some(MASK))).await;
        // And stall: no payload, no close. The server must not wait for 2^63 bytes.
        let reaction = raw.reaction().await;
        eprintln!("announced {len} bytes: {reaction:?}");
        assert!(
            matches!(reaction.code(), Some(1009 | 1002)),
            "length {len}: {reaction:?}"
        );
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmasked_client_frame_gets_1002() {
    let server = start().await;
    let addr = server.local_addr();
    for login in [false, true] {
        let mut raw = Raw::upgraded(addr).await;
        if login {
            raw.login().await;
        }
        raw.send(&frame(true, 0, OP_TEXT, b"admin:123456", None))
            .await;
        raw.expect_close(1002, "unmasked").await;
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_gets_1007_also_split_across_fragments() {
    let server = start().await;
    let addr = server.local_addr();
    // A valid character split across fragments is fine.
    let mut raw = Raw::upgraded(addr).await;
    raw.login().await;
    raw.send(&frame(false, 0, OP_TEXT, b"price \xe2\x82", Some(MASK)))
        .await;
    raw.send(&frame(true, 0, OP_CONT, b"\xac", Some(MASK)))
        .await;
    assert_eq!(raw.next_text().await, "your submit context: price €");
    drop(raw);

    // Invalid: in one frame, before login; split across fragments; truncated at the end;
    // an overlong encoding; a UTF-16 surrogate.
    let cases: [(&str, bool, Vec<&[u8]>); 5] = [
        ("one frame", false, vec![b"admin:\xff\xfe"]),
        ("split", true, vec![b"ab\xe2\x82", b"\x28cd"]),
        ("truncated", true, vec![b"ab", b"\xf0\x9f\x98"]),
        ("overlong", true, vec![b"\xc0\xaf"]),
        ("surrogate", true, vec![b"x\xed\xa0", b"\x80"]),
    ];
    for (what, login, parts) in cases {
        let mut raw = Raw::upgraded(addr).await;
        if login {
            raw.login().await;
        }
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let opcode = if i == 0 { OP_TEXT } else { OP_CONT };
            let _ = raw
                .try_send(&frame(i == last, 0, opcode, part, Some(MASK)))
                .await;
        }
        raw.expect_close(1007, what).await;
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_frames_over_125_bytes_or_fragmented_get_1002() {
    let server = start().await;
    let addr = server.local_addr();
    let big = [b'p'; 126];
    let cases: [(&str, Vec<u8>); 4] = [
        ("ping 126", frame(true, 0, OP_PING, &big, Some(MASK))),
        ("pong 126", frame(true, 0, OP_PONG, &big, Some(MASK))),
        (
            "close 126",
            frame(
                true,
                0,
                OP_CLOSE,
                &[&[0x03, 0xe8][..], &big[..124]].concat(),
                Some(MASK),
            ),
        ),
        (
            "fragmented ping",
            frame(false, 0, OP_PING, b"x", Some(MASK)),
        ),
    ];
    for (what, bytes) in cases {
        let mut raw = Raw::upgraded(addr).await;
        raw.login().await;
        raw.send(&bytes).await;
        raw.expect_close(1002, what).await;
    }
    // A 125-byte ping is answered.
    let mut raw = Raw::upgraded(addr).await;
    raw.frame(OP_PING, &big[..125]).await;
    match raw.next().await {
        Next::Frame(f) => assert_eq!((f.opcode, f.payload.len()), (OP_PONG, 125)),
        _ => panic!("no pong"),
    }
    drop(raw);
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_bits_and_unknown_opcodes_get_1002() {
    let server = start().await;
    let addr = server.local_addr();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for rsv in [0b100, 0b010, 0b001, 0b111] {
        cases.push((
            format!("rsv {rsv:03b}"),
            frame(true, rsv, OP_TEXT, b"hi", Some(MASK)),
        ));
    }
    for opcode in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
        cases.push((
            format!("opcode {opcode:#x}"),
            frame(true, 0, opcode, b"hi", Some(MASK)),
        ));
    }
    cases.push((
        "continuation without a start".into(),
        frame(true, 0, OP_CONT, b"hi", Some(MASK)),
    ));
    cases.push((
        "new message inside a fragmented one".into(),
        [
            frame(false, 0, OP_TEXT, b"a", Some(MASK)),
            frame(true, 0, OP_TEXT, b"b", Some(MASK)),
        ]
        .concat(),
    ));
    for (i, (what, bytes)) in cases.into_iter().enumerate() {
        let mut raw = Raw::upgraded(addr).await;
        if i % 2 == 0 {
            raw.login().await;
        }
        raw.send(&bytes).await;
        raw.expect_close(1002, &what).await;
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_close_codes_get_1002_and_good_ones_are_echoed() {
    let server = start().await;
    let addr = server.local_addr();
    for code in [
        0u16, 999, 1004, 1005, 1006, 1014, 1015, 1016, 2999, 5000, 65535,
    ] {
        let mut raw = Raw::upgraded(addr).await;
        raw.login().await;
        raw.frame(OP_CLOSE, &[&code.to_be_bytes()[..], b"bye"].concat())
            .await;
        raw.expect_close(1002, &format!("close code {code}")).await;
    }
    // A one-byte close payload is malformed.
    let mut raw = Raw::upgraded(addr).await;
    raw.frame(OP_CLOSE, &[0x03]).await;
    raw.expect_close(1002, "one-byte close").await;
    // A close reason that is not UTF-8.
    let mut raw = Raw::upgraded(addr).await;
    raw.frame(OP_CLOSE, &[0x03, 0xe8, 0xff, 0xfe]).await;
    let reaction = raw.reaction().await;
    eprintln!("close reason not UTF-8: {reaction:?}");
    assert!(
        matches!(reaction.code(), Some(1002 | 1007)),
        "bad close reason: {reaction:?}"
    );
    drop(raw);
    // Valid codes are answered with the same code.
    for code in [1000u16, 1001, 1003, 1011, 3000, 4999] {
        let mut raw = Raw::upgraded(addr).await;
        raw.frame(OP_CLOSE, &code.to_be_bytes()).await;
        let reaction = raw.reaction().await;
        assert_eq!(
            reaction.code(),
            Some(code),
            "close code {code}: {reaction:?}"
        );
        raw.expect_end("after close").await;
    }
    assert_healthy(&server).await;
}

// ---------------------------------------------------------------------------------------------
// Abuse of the service

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brute_force_login_loop_gets_growing_delays_then_1008() {
    let base = Duration::from_millis(20);
    let server = start_with(|c| c.login_delay = base).await;
    let addr = server.local_addr();
    for round in 0..3 {
        let mut raw = Raw::upgraded(addr).await;
        for attempt in 1..=5u32 {
            let sent = Instant::now();
            raw.text(&format!("{USER}:guess-{round}-{attempt}")).await;
            assert_eq!(raw.next_text().await, LOGIN_FAIL_REPLY);
            // The delay before the reply grows: none, base, 2·base, 4·base, 8·base.
            if attempt >= 2 {
                let at_least = base * (1 << (attempt - 2));
                assert!(
                    sent.elapsed() >= at_least,
                    "attempt {attempt} answered after {:?}, before the {at_least:?} delay",
                    sent.elapsed()
                );
            }
        }
        // The limit holds even for the right password.
        raw.text(&format!("{USER}:{PASSWORD}")).await;
        let reason = raw.expect_close(1008, "sixth attempt").await;
        assert!(reason.contains("login"), "{reason:?}");
    }
    assert_healthy(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_while_others_get_every_broadcast() {
    const N: usize = 300;
    const SIZE: usize = 32 * 1024;
    let server = start_with(|c| c.queue_capacity = 16).await;
    let addr = server.local_addr();
    let mut stuck = Raw::upgraded_small_rcvbuf(addr).await;
    stuck.login().await;
    let mut sender = ws_login(addr).await;
    let mut reader = ws_login(addr).await;
    assert_eq!(server.stats().logged_in, 3);

    let reading = tokio::spawn(async move {
        for i in 0..N {
            let text = ws_text(&mut reader).await;
            assert!(
                text.starts_with(&format!("admin: {i:05} ")),
                "broadcast {i}"
            );
            assert_eq!(text.len(), "admin: ".len() + SIZE);
        }
        reader
    });
    for i in 0..N {
        let mut text = format!("{i:05} ");
        text.push_str(&"b".repeat(SIZE - text.len()));
        ws_send(&mut sender, &text).await;
        let echo = ws_text(&mut sender).await;
        assert!(echo.starts_with(&format!("your submit context: {i:05} ")));
    }
    let reader = timeout(GUARD, reading)
        .await
        .expect("the reading client got every broadcast")
        .unwrap();
    // The stuck client was dropped from the room …
    assert_eq!(server.stats().logged_in, 2, "{:?}", server.stats());
    // … and its connection ends after what was already in flight.
    let mut got = 0;
    loop {
        match stuck.next().await {
            Next::Frame(f) if f.opcode == OP_TEXT => got += 1,
            Next::Frame(_) => {}
            Next::Eof | Next::Reset => break,
        }
    }
    assert!(got < N, "the stuck client received all {got} broadcasts");
    ws_close(sender).await;
    ws_close(reader).await;
    drop(stuck);
    assert_healthy(&server).await;
}

/// Log in through a small receive buffer, then send `size`-byte messages without ever reading,
/// until a write makes no progress for a second (the server stopped reading) or `limit` bytes
/// are sent. Returns the client and the bytes sent.
async fn flood_without_reading(addr: SocketAddr, size: usize, limit: usize) -> (Raw, usize) {
    let mut raw = Raw::upgraded_small_rcvbuf(addr).await;
    raw.login().await;
    let msg = frame(true, 0, OP_TEXT, &vec![b'f'; size], Some(MASK));
    let mut sent = 0;
    while sent < limit {
        match timeout(Duration::from_secs(1), raw.tcp.write_all(&msg)).await {
            Ok(Ok(())) => sent += msg.len(),
            // Stalled (back-pressure) or cut off.
            Err(_) | Ok(Err(_)) => break,
        }
    }
    (raw, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_without_reading_is_throttled_not_buffered() {
    const LIMIT: usize = 256 * 1024 * 1024;
    let server = start().await;
    let addr = server.local_addr();
    let (flooder, sent) = flood_without_reading(addr, MAX_MESSAGE - 100, LIMIT).await;
    // The server queued at most a few MiB of echoes for it, then stopped reading: its 1024
    // message slots alone would have taken 64 MiB.
    assert!(
        sent < 48 * 1024 * 1024,
        "the server kept reading {sent} bytes from a client that never reads its replies"
    );
    eprintln!("a client not reading its replies got {sent} bytes in before being throttled");
    assert_eq!(server.stats().logged_in, 1, "throttled, not dropped");
    // Everyone else is served meanwhile; the honest client's chat is broadcast, which does
    // not fit the flooder's full queue: that drops it as a client that does not read.
    honest_chat(addr).await;
    assert_eq!(server.stats().logged_in, 0);
    drop(flooder);
    wait_until_empty(&server).await;
    assert_healthy(&server).await;
}

/// One storm client: connect, log in, chat, close. `Err` holds the HTTP status when refused.
async fn storm_client(addr: SocketAddr, i: usize) -> Result<(), Option<u16>> {
    let (mut ws, _) = match tokio_tungstenite::connect_async(format!("ws://{addr}/")).await {
        Ok(ok) => ok,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            return Err(Some(resp.status().as_u16()));
        }
        Err(_) => return Err(None),
    };
    ws_send(&mut ws, &format!("{USER}:{PASSWORD}")).await;
    assert_eq!(ws_text(&mut ws).await, LOGIN_OK_REPLY);
    ws_send(&mut ws, &format!("storm {i}")).await;
    loop {
        // Broadcasts from the other storm clients may come first.
        let text = ws_text(&mut ws).await;
        if text.starts_with("your submit context: ") {
            assert_eq!(text, format!("your submit context: storm {i}"));
            break;
        }
        assert!(text.starts_with("admin: storm "), "{text:?}");
    }
    ws_close(ws).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_storm_is_served_and_over_the_cap_answered_503() {
    const STORM: usize = 300;
    let server = start().await;
    let addr = server.local_addr();
    let mut set = JoinSet::new();
    for i in 0..STORM {
        set.spawn(timeout(GUARD, storm_client(addr, i)));
    }
    let mut ok = 0;
    while let Some(done) = set.join_next().await {
        done.unwrap()
            .expect("storm client finished in time")
            .unwrap_or_else(|e| panic!("a storm client was refused under the cap: {e:?}"));
        ok += 1;
    }
    assert_eq!(ok, STORM);
    wait_until_empty(&server).await;
    drop(server);

    // With a cap of 50 and 200 clients holding on, the rest are refused, never left hanging.
    let server = start_with(|c| c.max_connections = 50).await;
    let addr = server.local_addr();
    let mut holders = Vec::new();
    let mut refused = 0;
    let mut attempts = JoinSet::new();
    for _ in 0..200 {
        attempts.spawn(timeout(
            GUARD,
            tokio_tungstenite::connect_async(format!("ws://{addr}/")),
        ));
    }
    while let Some(done) = attempts.join_next().await {
        match done.unwrap().expect("answered in time") {
            Ok((ws, _)) => holders.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 503);
                refused += 1;
            }
            // Beyond the few refusals answered at once, the server just closes.
            Err(_) => refused += 1,
        }
    }
    assert!(
        holders.len() <= 50,
        "{} accepted over a cap of 50",
        holders.len()
    );
    assert!(!holders.is_empty());
    eprintln!("cap 50: {} accepted, {refused} refused", holders.len());
    assert_eq!(holders.len() + refused, 200);
    for ws in holders {
        ws_close(ws).await;
    }
    assert_healthy(&server).await;
}

// ---------------------------------------------------------------------------------------------
// The binary: memory, TLS, origins, users file

/// `wsdeck serve` with these flags (no credentials added), waiting for `listening on`.
struct Serve {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<std::sync::Mutex<String>>,
}

impl Serve {
    fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsdeck"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--tick", "0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start wsdeck serve");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut pipe, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let lines = common::lines_of(child.stdout.take().unwrap());
        let addr = match lines.recv_timeout(common::GUARD) {
            Ok(line) => match line.strip_prefix("listening on ").map(str::parse) {
                Some(Ok(addr)) => addr,
                _ => panic!("unexpected first line {line:?}"),
            },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!("wsdeck serve did not start: {}", stderr.lock().unwrap());
            }
        };
        Serve {
            child,
            addr,
            stderr,
        }
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// (VmRSS, VmHWM) in KiB.
    fn memory_kib(&self) -> (u64, u64) {
        common::memory_kib(self.child.id())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stream a header of `total` bytes; returns how much was written before the server cut it.
async fn stream_huge_header(addr: SocketAddr, total: usize) -> (usize, String) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'h'; 64 * 1024];
        let mut sent = 0;
        if wr
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Huge: ")
            .await
            .is_err()
        {
            return sent;
        }
        while sent < total {
            match timeout(GUARD, wr.write_all(&chunk)).await {
                Ok(Ok(())) => sent += chunk.len(),
                // The server stopped reading and closed: exactly what should happen.
                Ok(Err(_)) => break,
                Err(_) => panic!("the server neither reads nor closes ({sent} bytes sent)"),
            }
        }
        sent
    });
    let mut response = Vec::new();
    let _ = timeout(GUARD, rd.read_to_end(&mut response))
        .await
        .expect("the server answers and closes");
    (
        writer.await.unwrap(),
        String::from_utf8_lossy(&response).into_owned(),
    )
}

#[test]
fn serve_memory_stays_bounded_under_hostile_load() {
    let serve = Serve::spawn(
        &[
            "--user",
            USER,
            "--password-env",
            "WSDECK_HOSTILE_PW",
            "--max-message",
            "65536",
            "--handshake-timeout",
            "1",
        ],
        &[("WSDECK_HOSTILE_PW", PASSWORD)],
    );
    let addr = serve.addr;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            honest_chat(addr).await;
        }
    });
    let (rss_before, _) = serve.memory_kib();

    rt.block_on(async {
        // Four 20 MB headers at once: 80 MB if the server buffered them.
        let mut set = JoinSet::new();
        for _ in 0..4 {
            set.spawn(stream_huge_header(addr, 20 * 1024 * 1024));
        }
        while let Some(done) = set.join_next().await {
            let (sent, response) = done.unwrap();
            assert!(response.starts_with("HTTP/1.1 431 "), "{response:?}");
            assert!(sent < 20 * 1024 * 1024);
        }
        // Ten 8 MiB frames over a 64 KiB limit at once, streamed.
        let mut set = JoinSet::new();
        for _ in 0..10 {
            set.spawn(async move {
                let mut raw = Raw::upgraded(addr).await;
                raw.login().await;
                let _ = raw
                    .try_send(&header(true, 0, OP_BINARY, 8 << 20, Some(MASK)))
                    .await;
                let chunk = vec![0u8; 64 * 1024];
                for _ in 0..128 {
                    if raw.try_send(&chunk).await.is_err() {
                        break;
                    }
                }
                raw.reaction().await
            });
        }
        while let Some(done) = set.join_next().await {
            let reaction = done.unwrap();
            assert!(
                matches!(
                    reaction,
                    Reaction::Close(1009, _) | Reaction::Reset | Reaction::Eof
                ),
                "{reaction:?}"
            );
        }
        // Four clients sending without reading their replies.
        let mut set = JoinSet::new();
        for _ in 0..4 {
            set.spawn(flood_without_reading(addr, 60_000, 256 << 20));
        }
        let mut flooders = Vec::new();
        while let Some(done) = set.join_next().await {
            let (raw, sent) = done.unwrap();
            assert!(sent < 256 << 20);
            flooders.push(raw);
        }
        let (_, peak) = serve.memory_kib();
        eprintln!("peak with four flooders held: {peak} KiB");
        drop(flooders);
        // Twenty 2^63-byte announcements left stalling.
        let mut stalled = Vec::new();
        for _ in 0..20 {
            let mut raw = Raw::upgraded(addr).await;
            raw.send(&header(true, 0, OP_BINARY, 1 << 63, Some(MASK)))
                .await;
            stalled.push(raw);
        }
        for raw in &mut stalled {
            assert!(raw.reaction().await.code().is_some());
        }
        // 150 half-open handshakes, closed by the 1 s handshake timeout.
        let mut half = Vec::new();
        for _ in 0..150 {
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET / HTTP/1.1\r\n").await;
            half.push(raw);
        }
        for raw in &mut half {
            assert!(matches!(
                raw.http_reaction().await,
                Reaction::Eof | Reaction::Reset
            ));
        }
        // A storm of 200 clients.
        let mut set = JoinSet::new();
        for i in 0..200 {
            set.spawn(timeout(GUARD, storm_client(addr, i)));
        }
        while let Some(done) = set.join_next().await {
            done.unwrap().expect("in time").expect("served");
        }
        honest_chat(addr).await;
    });
    let (rss_after, peak) = serve.memory_kib();
    let log = serve.stderr_text();
    eprintln!(
        "wsdeck serve memory: RSS {rss_before} KiB before, {rss_after} KiB after, peak {peak} KiB"
    );
    // Generous bounds, far below what buffering the attacks would take (80 MB of headers
    // alone, or 80 MiB of frames).
    assert!(
        peak < rss_before + 48 * 1024,
        "peak RSS {peak} KiB vs {rss_before} KiB before the attacks"
    );
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS {rss_after} KiB after vs {rss_before} KiB before"
    );
    assert!(!log.contains("panicked"), "{log}");
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
fn write_cert(dir: &Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (ck.cert.pem(), cert, key)
}

fn trusting(cert_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[test]
fn tls_serve_with_a_self_signed_cert() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, cert, key) = write_cert(dir.path());
    let serve = Serve::spawn(
        &[
            "--user",
            USER,
            "--password-env",
            "WSDECK_HOSTILE_PW",
            "--handshake-timeout",
            "1",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &[("WSDECK_HOSTILE_PW", PASSWORD)],
    );
    let addr = serve.addr;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A wss client that trusts the certificate logs in and chats.
        let connector = tokio_tungstenite::Connector::Rustls(trusting(&cert_pem));
        let (mut ws, resp) = timeout(
            GUARD,
            tokio_tungstenite::connect_async_tls_with_config(
                format!("wss://127.0.0.1:{}/", addr.port()),
                None,
                false,
                Some(connector),
            ),
        )
        .await
        .expect("in time")
        .expect("wss handshake with the trusted certificate");
        assert_eq!(resp.status(), 101);
        ws_send(&mut ws, &format!("{USER}:{PASSWORD}")).await;
        assert_eq!(ws_text(&mut ws).await, LOGIN_OK_REPLY);
        ws_send(&mut ws, "over tls").await;
        assert_eq!(ws_text(&mut ws).await, "your submit context: over tls");
        ws_close(ws).await;

        // A client that does not trust it is refused by its own TLS check.
        let connector = tokio_tungstenite::Connector::Rustls(trusting(
            &rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])
                .unwrap()
                .cert
                .pem(),
        ));
        let refused = timeout(
            GUARD,
            tokio_tungstenite::connect_async_tls_with_config(
                format!("wss://127.0.0.1:{}/", addr.port()),
                None,
                false,
                Some(connector),
            ),
        )
        .await
        .expect("in time");
        assert!(refused.is_err());

        // Plain ws:// and raw bytes at the TLS port are cut off, not left hanging.
        let mut raw = Raw::connect(addr).await;
        raw.send(UPGRADE_REQUEST.as_bytes()).await;
        let mut sink = Vec::new();
        let _ = timeout(GUARD, raw.tcp.read_to_end(&mut sink))
            .await
            .expect("plain HTTP at the TLS port is closed");
        assert!(!String::from_utf8_lossy(&sink).contains("101"));
        let mut raw = Raw::connect(addr).await;
        let _ = raw.try_send(&noise(7, 2048)).await;
        let _ = timeout(GUARD, raw.tcp.read_to_end(&mut sink))
            .await
            .expect("noise at the TLS port is closed");
        // A TLS client that never sends its hello is closed by the handshake timeout.
        let mut raw = Raw::connect(addr).await;
        let _ = timeout(GUARD, raw.tcp.read_to_end(&mut sink))
            .await
            .expect("a silent connection at the TLS port is closed");
    });
    // The wsdeck client itself, with --insecure (the certificate is self-signed).
    let out = run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .args(["pipe", "--insecure", "--user", USER])
            .arg(format!("wss://127.0.0.1:{}", addr.port()))
            .env("WSDECK_PASSWORD", PASSWORD),
        b"wsdeck over tls\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("your submit context: wsdeck over tls"),
        "pipe: {stdout:?} / {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = serve.stderr_text();
    assert!(
        log.contains("scheme=\"wss\"") || log.contains("wss"),
        "{log}"
    );
    assert!(!log.contains(PASSWORD), "password in the log: {log}");
}

#[test]
fn allow_origin_answers_403_to_other_origins() {
    let serve = Serve::spawn(
        &[
            "--user",
            USER,
            "--password-env",
            "WSDECK_HOSTILE_PW",
            "--allow-origin",
            "https://chat.example",
            "--allow-origin",
            "http://localhost:8080/",
        ],
        &[("WSDECK_HOSTILE_PW", PASSWORD)],
    );
    let addr = serve.addr;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let with_origin = |origin: &str| {
            UPGRADE_REQUEST.replace("\r\n\r\n", &format!("\r\nOrigin: {origin}\r\n\r\n"))
        };
        for (origin, status) in [
            ("https://evil.example", 403),
            ("https://chat.example.evil.example", 403),
            ("http://chat.example", 403),
            ("null", 403),
            ("https://chat.example", 101),
            ("HTTPS://CHAT.EXAMPLE", 101),
            ("http://localhost:8080", 101),
        ] {
            let mut raw = Raw::connect(addr).await;
            raw.send(with_origin(origin).as_bytes()).await;
            assert_eq!(
                raw.http_reaction().await,
                Reaction::Http(status),
                "{origin}"
            );
            if status == 101 {
                raw.login().await;
            }
        }
        // Non-browser clients send no Origin and are not affected.
        honest_chat(addr).await;
    });
}

/// Run `cmd` with `stdin` as its input, collecting its output (guarded).
fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wsdeck");
    {
        let mut input = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut input, stdin).unwrap();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(common::GUARD)
        .expect("wsdeck finished in time")
        .unwrap()
}

/// `wsdeck hash-password` with `stdin` as input.
fn hash_password(stdin: &[u8], extra: &[&str]) -> std::process::Output {
    run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_wsdeck"))
            .arg("hash-password")
            .args(extra),
        stdin,
    )
}

#[test]
fn hash_password_reads_stdin_and_refuses_unusable_passwords() {
    let out = hash_password(b"wonderland\n", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("wonderland"));

    let out = hash_password(b"wonderland\r\n", &["--user", "alice"]);
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.starts_with("alice:$argon2id$"), "{line}");

    for (input, want) in [
        (&b""[..], "empty"),
        (&b"\n"[..], "empty"),
        (&b"a:b\n"[..], "':'"),
    ] {
        let out = hash_password(input, &[]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{input:?}: {err}");
    }
    let out = hash_password(b"pw\n", &["--user", "bad name"]);
    assert!(!out.status.success());
}

#[test]
fn users_file_with_argon2_hashes_logs_in_and_hides_which_part_was_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let alice = hash_password(b"wonderland\n", &["--user", "alice"]);
    let bob = hash_password(b"builder\n", &["--user", "bob"]);
    assert!(alice.status.success() && bob.status.success());
    let users = dir.path().join("users");
    std::fs::write(
        &users,
        format!(
            "# wsdeck users\n{}{}",
            String::from_utf8(alice.stdout).unwrap(),
            String::from_utf8(bob.stdout).unwrap()
        ),
    )
    .unwrap();
    let serve = Serve::spawn(&["--users-file", users.to_str().unwrap()], &[]);
    let addr = serve.addr;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("ws://{addr}/");
        let (mut a, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let (mut b, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        // Wrong password, unknown user, no password: the very same reply.
        for wrong in ["alice:builder", "mallory:wonderland", "alice"] {
            ws_send(&mut a, wrong).await;
            assert_eq!(ws_text(&mut a).await, LOGIN_FAIL_REPLY, "{wrong}");
        }
        ws_send(&mut a, "alice:wonderland").await;
        assert_eq!(ws_text(&mut a).await, LOGIN_OK_REPLY);
        ws_send(&mut b, "bob:builder").await;
        assert_eq!(ws_text(&mut b).await, LOGIN_OK_REPLY);
        // Broadcasts carry the user's own name.
        ws_send(&mut a, "hi bob").await;
        assert_eq!(ws_text(&mut a).await, "your submit context: hi bob");
        assert_eq!(ws_text(&mut b).await, "alice: hi bob");
        ws_close(a).await;
        ws_close(b).await;
    });
    let log = serve.stderr_text();
    assert!(log.contains("user=alice"), "{log}");
    for secret in ["wonderland", "builder"] {
        assert!(
            !log.contains(secret),
            "a password leaked into the log: {log}"
        );
    }

    // A broken users file is refused at start with the line named.
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "alice:not-a-hash\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--users-file"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1"), "{err}");
}

/// Run `wsdeck ARGS` in a pseudo-terminal, answering each prompt in `answers`; returns
/// everything the terminal showed and the exit status.
fn in_pty(args: &[&str], answers: &[&str]) -> (String, bool) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_wsdeck"));
    cmd.args(args);
    let mut child = pair.slave.spawn_command(cmd).expect("spawn wsdeck");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    let deadline = Instant::now() + common::GUARD;
    let wait_for = |shown: &mut Vec<u8>, what: &str| {
        while !String::from_utf8_lossy(shown).contains(what) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(bytes) => shown.extend(bytes),
                Err(_) => panic!(
                    "waiting for {what:?}; the terminal shows {:?}",
                    String::from_utf8_lossy(shown)
                ),
            }
        }
    };
    for (answer, prompt) in answers.iter().zip(["Password: ", "Again: "]) {
        wait_for(&mut shown, prompt);
        // Type only once the program has turned echo off, as a person reading the prompt
        // would (the prompt is printed just before); otherwise the terminal itself echoes.
        while pair
            .master
            .get_termios()
            .is_some_and(|t| t.local_flags.contains(nix::sys::termios::LocalFlags::ECHO))
        {
            assert!(Instant::now() < deadline, "echo never turned off");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::io::Write::write_all(&mut writer, format!("{answer}\r").as_bytes()).unwrap();
    }
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "wsdeck hash-password did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    while let Ok(bytes) = rx.recv_timeout(Duration::from_millis(300)) {
        shown.extend(bytes);
    }
    (
        String::from_utf8_lossy(&shown).into_owned(),
        status.success(),
    )
}

#[test]
fn hash_password_prompts_without_echo_on_a_terminal() {
    let (shown, ok) = in_pty(
        &["hash-password", "--user", "carol"],
        &["t0p-secret", "t0p-secret"],
    );
    assert!(ok, "{shown:?}");
    assert!(shown.contains("carol:$argon2id$"), "{shown:?}");
    assert!(
        !shown.contains("t0p-secret"),
        "the password was echoed: {shown:?}"
    );

    let (shown, ok) = in_pty(&["hash-password"], &["one", "two"]);
    assert!(!ok);
    assert!(shown.contains("differ"), "{shown:?}");
    assert!(!shown.contains("$argon2"), "{shown:?}");
}
