//! Hostile clients against the built `wsdeck serve` (issue 15.2, 15.8, 14.6): a burst of
//! password guesses against a users file, and a broadcast flood read by real Python readers.
//! Memory is read from the server process's `/proc/PID/status`; nothing here asserts a speed.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use common::GUARD;
use common::serve::{ServeProcess, spawn_serve_with};
use wsdeck::server::{LOGIN_FAIL_REPLY, LOGIN_OK_REPLY};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const MIB: u64 = 1024;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A users file with `alice:wonderland`, hashed by `wsdeck hash-password` (argon2id with the
/// default parameters: 19 MiB of memory per verification).
fn users_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(["hash-password", "--user", "alice"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"wonderland\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.contains("$m=19456,"), "{line}");
    let path = dir.join("users");
    std::fs::write(&path, line).unwrap();
    path
}

/// Open a WebSocket to `server` from the local address `from` (any 127.0.0.0/8 address works
/// on Linux's loopback), so the server sees different clients.
async fn connect_from(from: &str, server: SocketAddr) -> Ws {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let tcp = timeout(GUARD, sock.connect(server))
        .await
        .expect("connect in time")
        .expect("connect");
    let (ws, _) = timeout(
        GUARD,
        tokio_tungstenite::client_async(format!("ws://{server}/"), MaybeTlsStream::Plain(tcp)),
    )
    .await
    .expect("upgrade in time")
    .expect("upgrade");
    ws
}

/// What the server answered to one login.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Accepted,
    Rejected,
    /// Closed with this code and reason without judging the password.
    Closed(u16, String),
}

async fn send_login(ws: &mut Ws, login: &str) {
    timeout(GUARD, ws.send(Message::text(login)))
        .await
        .expect("send in time")
        .expect("send");
}

async fn answer(ws: &mut Ws) -> Answer {
    loop {
        match timeout(GUARD, ws.next()).await.expect("an answer in time") {
            Some(Ok(Message::Text(t))) if t.as_str() == LOGIN_OK_REPLY => return Answer::Accepted,
            Some(Ok(Message::Text(t))) if t.as_str() == LOGIN_FAIL_REPLY => {
                return Answer::Rejected;
            }
            Some(Ok(Message::Close(Some(f)))) => {
                return Answer::Closed(f.code.into(), f.reason.as_str().to_string());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("unexpected answer to a login: {other:?}"),
        }
    }
}

async fn login_from(from: &str, server: SocketAddr, login: &str) -> (Answer, Ws) {
    let mut ws = connect_from(from, server).await;
    send_login(&mut ws, login).await;
    (answer(&mut ws).await, ws)
}

async fn close(mut ws: Ws) {
    let _ = timeout(GUARD, ws.close(None)).await;
    while let Ok(Some(Ok(_))) = timeout(GUARD, ws.next()).await {}
}

/// Wait (a hang guard, not a speed bound) until the server's RSS is under `bound` KiB.
fn wait_for_rss_below(serve: &ServeProcess, bound: u64) -> u64 {
    let deadline = Instant::now() + GUARD;
    loop {
        let (rss, _) = serve.memory_kib();
        if rss <= bound || Instant::now() >= deadline {
            return rss;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_burst_of_guesses_gets_no_more_than_the_limit_judged_and_memory_stays_bounded() {
    const BURST: usize = 300;
    const LIMIT: usize = 20; // --max-failures-per-ip default
    const ARGON2_KIB: u64 = 19 * MIB; // m=19456 KiB
    const VERIFIERS: u64 = 2;
    let dir = tempfile::tempdir().unwrap();
    let users = users_file(dir.path());
    let serve = spawn_serve_with(
        &["--users-file", users.to_str().unwrap(), "--tick", "0"],
        &[],
    );
    let addr = serve.addr;
    let (rss_before, _) = serve.memory_kib();
    let rt = runtime();

    // Logins one after the other keep at most one argon2 working area per verifier, however
    // many there are (not one per thread that ever verified).
    rt.block_on(async {
        for i in 0..12 {
            let login = if i == 11 {
                "alice:wonderland".to_string()
            } else {
                format!("bob:{i}")
            };
            let (a, ws) = login_from("127.0.0.4", addr, &login).await;
            assert_eq!(a == Answer::Accepted, i == 11, "{login}");
            close(ws).await;
        }
    });
    let kept = rss_before + VERIFIERS * ARGON2_KIB + 4 * MIB;
    let rss_sequential = wait_for_rss_below(&serve, kept);
    eprintln!("wsdeck serve RSS: {rss_before} KiB, after 12 logins {rss_sequential} KiB");
    assert!(
        rss_sequential <= kept,
        "RSS {rss_sequential} KiB after 12 logins vs {rss_before} KiB before"
    );

    let (burst, honest) = rt.block_on(async {
        // Every attacker connection is upgraded first; then all send their guess at once.
        let go = Arc::new(Barrier::new(BURST + 1));
        let mut set = JoinSet::new();
        for i in 0..BURST {
            let go = go.clone();
            set.spawn(async move {
                let mut ws = connect_from("127.0.0.1", addr).await;
                go.wait().await;
                send_login(&mut ws, &format!("alice:guess-{i}")).await;
                (answer(&mut ws).await, ws)
            });
        }
        go.wait().await;
        // Meanwhile an honest user from another address logs in.
        let started = Instant::now();
        let (honest, ws) = login_from("127.0.0.2", addr, "alice:wonderland").await;
        let honest_took = started.elapsed();
        let mut answers = Vec::new();
        let mut held = Vec::new();
        while let Some(done) = set.join_next().await {
            let (a, ws) = done.unwrap();
            answers.push(a);
            held.push(ws);
        }
        eprintln!("honest login during the burst answered after {honest_took:?}");
        close(ws).await;
        for ws in held {
            close(ws).await;
        }
        (answers, honest)
    });
    assert_eq!(
        honest,
        Answer::Accepted,
        "the honest login during the burst"
    );
    let judged = burst
        .iter()
        .filter(|a| matches!(a, Answer::Accepted | Answer::Rejected))
        .count();
    assert!(!burst.contains(&Answer::Accepted));
    eprintln!(
        "burst of {BURST}: {judged} judged, {} closed at once",
        BURST - judged
    );
    assert!(
        judged <= LIMIT,
        "{judged} guesses of a burst of {BURST} were judged (limit {LIMIT})"
    );
    for a in &burst {
        if let Answer::Closed(code, reason) = a {
            assert_eq!(*code, 1008, "{reason}");
            assert!(
                reason.contains("too many failed logins") || reason.contains("try again later"),
                "{reason:?}"
            );
        }
    }
    let (_, peak) = serve.memory_kib();

    // One guess at a time from the attacking address: judged until the limit is reached in
    // all, then refused — also for the right password.
    let (more, last, other) = rt.block_on(async {
        let mut more = 0;
        loop {
            let (a, ws) = login_from("127.0.0.1", addr, "alice:one-more-guess").await;
            close(ws).await;
            match a {
                Answer::Rejected => more += 1,
                Answer::Closed(1008, r) if r.contains("too many failed logins") => break,
                other => panic!("unexpected answer {other:?}"),
            }
            assert!(more <= LIMIT, "more than {LIMIT} guesses judged");
        }
        let (last, ws) = login_from("127.0.0.1", addr, "alice:wonderland").await;
        close(ws).await;
        let (other, ws) = login_from("127.0.0.2", addr, "alice:wonderland").await;
        close(ws).await;
        (more, last, other)
    });
    assert_eq!(
        judged + more,
        LIMIT,
        "guesses judged in all from one address"
    );
    assert!(
        matches!(&last, Answer::Closed(1008, r) if r.contains("too many failed logins")),
        "{last:?}"
    );
    assert_eq!(other, Answer::Accepted);

    // Peak: argon2's memory per verifier, plus a little for 300 connections.
    let bound = rss_before + VERIFIERS * ARGON2_KIB + 24 * MIB;
    eprintln!("wsdeck serve RSS: {rss_before} KiB before, peak {peak} KiB (bound {bound} KiB)");
    assert!(
        peak <= bound,
        "peak RSS {peak} KiB over {bound} KiB (before: {rss_before} KiB)"
    );
    // After the burst the verifiers' memory goes back; what 300 connections came and went
    // leave in the allocator is bounded as in the hostile suite.
    let after = wait_for_rss_below(&serve, rss_before + 32 * MIB);
    eprintln!("wsdeck serve RSS after the burst: {after} KiB");
    assert!(
        after <= rss_before + 32 * MIB,
        "RSS {after} KiB after the burst vs {rss_before} KiB before"
    );
    let log = serve.stderr_text();
    assert!(
        !log.contains("wonderland"),
        "a password leaked into the log"
    );
    assert!(!log.contains("panicked"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// Broadcast floods against real readers

/// A Python `websockets` reader: logs in, prints `ready`, then reads up to N broadcasts and
/// prints `{"got": …, "order_ok": …, "code": …, "reason": …}`. Modes: `steady` reads flat
/// out; `pause` stops for PAUSE seconds after a quarter (a burst it catches up with);
/// `stuck` reads nothing (tiny receive buffer) until a line arrives on stdin.
const READER_PY: &str = r#"
import asyncio, json, socket, sys
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

async def main(url, login, n, mode, pause):
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if mode == "stuck":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    # No compression: the flood's 1 KiB messages must weigh 1 KiB on the wire.
    async with connect(url, sock=sock, max_size=None, compression=None,
                       max_queue=1 if mode == "stuck" else 16,
                       ping_interval=None) as ws:
        await ws.send(login)
        reply = await ws.recv()
        assert reply.startswith("congratulation"), reply
        print("ready", flush=True)
        if mode == "stuck":
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        got, order_ok, code, reason = 0, True, None, None
        try:
            while got < n:
                msg = await ws.recv()
                if not msg.startswith("admin: %05d " % got):
                    order_ok = False
                got += 1
                if mode == "pause" and got == n // 4:
                    await asyncio.sleep(pause)
        except ConnectionClosed as e:
            if e.rcvd is not None:
                code, reason = e.rcvd.code, e.rcvd.reason
        print(json.dumps({"got": got, "order_ok": order_ok, "code": code, "reason": reason}),
              flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])))
"#;

struct Reader {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    mode: &'static str,
}

impl Reader {
    fn spawn(url: &str, login: &str, n: usize, mode: &'static str, pause: f64) -> Reader {
        let mut child = Command::new(common::peers::python())
            .args(["-c", READER_PY, url, login, &n.to_string(), mode])
            .arg(pause.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let lines = common::lines_of(child.stdout.take().unwrap());
        let ready = lines.recv_timeout(GUARD).expect("reader logged in");
        assert_eq!(ready, "ready", "{mode} reader");
        Reader { child, lines, mode }
    }

    fn resume(&mut self) {
        use std::io::Write as _;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Its final report (waits, guarded).
    fn report(&mut self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("the {} reader printed no report", self.mode));
        common::wait_guarded(&mut self.child, "python reader");
        serde_json::from_str(&line).unwrap()
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send `n` 1 KiB messages `00000 bbbb…` as fast as the server takes them, reading the
/// echoes at the same time; returns once every echo is back.
async fn flood(ws: Ws, n: usize) {
    let (mut tx, mut rx) = ws.split();
    let echoes = tokio::spawn(async move {
        let mut got = 0;
        while got < n {
            match timeout(GUARD, rx.next()).await.expect("echoes keep coming") {
                Some(Ok(Message::Text(t))) => {
                    assert!(t.as_str().starts_with("your submit context: "), "{t}");
                    got += 1;
                }
                Some(Ok(_)) => {}
                other => panic!("sender's connection ended: {other:?}"),
            }
        }
        rx
    });
    for i in 0..n {
        let mut text = format!("{i:05} ");
        text.push_str(&"b".repeat(1024 - text.len()));
        timeout(GUARD, tx.send(Message::text(text)))
            .await
            .expect("the server takes the next message in time (slowed, never stuck)")
            .expect("send");
    }
    let rx = timeout(GUARD, echoes).await.expect("every echo").unwrap();
    close(tx.reunite(rx).unwrap()).await;
}

#[test]
fn a_broadcast_flood_slows_the_sender_instead_of_dropping_readers_and_closes_a_stuck_one() {
    if !common::peers::peers_available() {
        return;
    }
    const N: usize = 10_000;
    let serve = common::serve::spawn_serve("admin", "pw", &["--tick", "0"]);
    let url = serve.url();
    let login = "admin:pw";
    let mut steady: Vec<Reader> = (0..3)
        .map(|_| Reader::spawn(&url, login, N, "steady", 0.0))
        .collect();
    // Stops for 2 s (less than the 5 s slow-reader timeout) a quarter of the way in.
    let mut pausing = Reader::spawn(&url, login, N, "pause", 2.0);
    let mut stuck = Reader::spawn(&url, login, N, "stuck", 0.0);
    let (rss_before, _) = serve.memory_kib();

    let rt = runtime();
    let addr = serve.addr;
    let sending = rt.spawn(async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
            .await
            .unwrap();
        send_login(&mut ws, login).await;
        assert_eq!(answer(&mut ws).await, Answer::Accepted);
        flood(ws, N).await;
    });
    // The stuck reader is dropped once its queue made no room for the timeout; it reads
    // again only then, and must find a Close with a code and reason after what was in flight.
    let deadline = Instant::now() + GUARD;
    while !serve.stderr_text().contains("client too slow") {
        assert!(
            Instant::now() < deadline,
            "the stuck reader was never dropped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stuck.resume();
    rt.block_on(async { timeout(GUARD, sending).await.expect("flood sent").unwrap() });
    let (_, peak) = serve.memory_kib();

    for r in steady.iter_mut().chain([&mut pausing]) {
        let report = r.report();
        assert_eq!(
            report["got"], N,
            "the {} reader was cut off: {report}",
            r.mode
        );
        assert_eq!(report["order_ok"], true, "{report}");
    }
    let report = stuck.report();
    assert!(report["got"].as_u64().unwrap() < N as u64, "{report}");
    assert_eq!(report["code"], 1008, "the stuck reader's Close: {report}");
    assert_eq!(report["reason"], wsdeck::server::SLOW_REASON, "{report}");
    let log = serve.stderr_text();
    assert_eq!(
        log.matches("client too slow").count(),
        1,
        "only the stuck reader is dropped: {log}"
    );
    // Every queue is bounded: 4 MiB per reader plus tungstenite's 4 MiB write buffer.
    eprintln!("wsdeck serve RSS {rss_before} KiB before the flood, peak {peak} KiB");
    assert!(
        peak <= rss_before + 48 * MIB,
        "peak RSS {peak} KiB vs {rss_before} KiB before the flood"
    );
}
