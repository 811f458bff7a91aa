//! `wsdeck pipe` as a script uses it: the built binary against `wsdeck serve` (a child
//! process), the in-process demo server, and small scripted servers on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use wsdeck::model::{Direction, Opcode, Secret};
use wsdeck::server::{LOGIN_FAIL_REPLY, ServerConfig};

mod common;

use common::GUARD;

const BIN: &str = env!("CARGO_BIN_EXE_wsdeck");

/// `wsdeck serve` (admin / 123456, no pushes) on a free port; killed when dropped.
fn serve() -> common::serve::ServeProcess {
    common::serve::spawn_serve("admin", "123456", &["--tick", "0"])
}

use common::pipe::{Outcome, pipe};

#[test]
fn echoes_are_printed_and_stdin_end_closes_cleanly() {
    let serve = serve();
    let mut child = Command::new(BIN)
        .args(["pipe", &serve.url(), "--user", "admin"])
        .env("WSDECK_PASSWORD", "123456")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = Vec::new();
        while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            line.clear();
        }
    });
    let expect = |want: &str| {
        let got = rx
            .recv_timeout(GUARD)
            .unwrap_or_else(|e| panic!("waiting for {want:?}: {e}"));
        assert_eq!(got, want);
    };
    // Printed byte for byte (stdout is not a terminal): the reply's \r\n stays.
    expect("congratulation, you have connect with server\r\n");
    expect("now, you can do something else\n");
    for line in ["hello", "second line"] {
        writeln!(stdin, "{line}").unwrap();
        expect(&format!("your submit context: {line}\n"));
    }
    drop(stdin);
    let mut child = child;
    let status = common::wait_guarded(&mut child, "wsdeck pipe");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert_eq!(err, "");
    assert!(rx.recv_timeout(GUARD).is_err(), "nothing after the echoes");
}

#[test]
fn wrong_password_fails_with_the_servers_reply() {
    let serve = serve();
    let o = pipe(&[&serve.url(), "--user", "admin"], Some("nope"), "hello\n");
    assert!(!o.status.success());
    assert_eq!(
        o.stderr,
        format!("wsdeck: login rejected: {LOGIN_FAIL_REPLY}\n")
    );
    // The reply was printed too, and the line was never sent.
    assert_eq!(o.stdout, format!("{LOGIN_FAIL_REPLY}\n"));
}

#[test]
fn refused_connection_names_the_address() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = pipe(
        &[&format!("ws://127.0.0.1:{port}"), "--auth", "none"],
        None,
        "",
    );
    assert!(!o.status.success());
    assert_eq!(
        o.stderr,
        format!(
            "wsdeck: connection refused to 127.0.0.1:{port} — check that the server is running \
             and the URL's port is right\n"
        )
    );
    assert_eq!(o.stdout, "");
}

#[test]
fn bad_url_is_a_clear_error() {
    let o = pipe(&["http://127.0.0.1:1/", "--auth", "none"], None, "");
    assert!(!o.status.success());
    assert!(
        o.stderr
            .starts_with("wsdeck: bad URL \"http://127.0.0.1:1/\"")
            && o.stderr.contains("ws:// or wss://")
            && o.stderr.lines().count() == 1,
        "{}",
        o.stderr
    );
}

#[test]
fn missing_user_or_password_says_what_to_do() {
    let o = pipe(&["ws://127.0.0.1:1/"], Some("pw"), "");
    assert!(!o.status.success());
    assert!(
        o.stderr.contains("--user is required") && o.stderr.contains("--auth none"),
        "{}",
        o.stderr
    );
    let o = pipe(&["ws://127.0.0.1:1/", "--user", "admin"], None, "");
    assert!(!o.status.success());
    assert!(o.stderr.contains("WSDECK_PASSWORD"), "{}", o.stderr);
}

#[test]
fn http_status_on_the_upgrade_is_reported() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    let o = pipe(
        &[&format!("ws://127.0.0.1:{port}"), "--auth", "none"],
        None,
        "",
    );
    assert!(!o.status.success());
    assert_eq!(o.stderr, "wsdeck: server answered HTTP/1.1 403 Forbidden\n");
}

/// A one-connection server (`--auth none`) that runs `script` and then waits for the client.
async fn scripted_server<F, Fut>(script: F) -> u16
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        script(ws).await;
    });
    port
}

/// Spawn the pipe with stdin kept open (it must exit because the server closed).
fn pipe_open_stdin(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .arg("pipe")
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn finish(child: tokio::process::Child) -> (std::process::Output, String, String) {
    let out = tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("pipe did not exit")
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    (out, stdout, stderr)
}

/// `wsdeck pipe --auth none` against `port`, stdin kept open (no input) until it exits.
async fn pipe_to_the_end(port: u16) -> (std::process::Output, String, String) {
    let mut child = pipe_open_stdin(&[&format!("ws://127.0.0.1:{port}/"), "--auth", "none"]);
    let stdin = child.stdin.take();
    let done = finish(child).await;
    drop(stdin);
    done
}

#[tokio::test]
async fn binary_frames_are_hex_and_a_server_close_1000_exits_0() {
    let port = scripted_server(|mut ws| async move {
        ws.send(Message::Binary(Bytes::from_static(&[
            0xde, 0xad, 0x00, 0x0f,
        ])))
        .await
        .unwrap();
        ws.send(Message::text("two\r\nlines")).await.unwrap();
        ws.send(Message::Close(Some(CloseFrame {
            code: 1000.into(),
            reason: "done".into(),
        })))
        .await
        .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let (out, stdout, stderr) = pipe_to_the_end(port).await;
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    // Not a terminal: text is passed through byte for byte.
    assert_eq!(stdout, "dead000f\ntwo\r\nlines\n");
}

#[tokio::test]
async fn a_server_error_close_exits_non_zero_with_the_code() {
    let port = scripted_server(|mut ws| async move {
        ws.send(Message::Close(Some(CloseFrame {
            code: 1011.into(),
            reason: "boom".into(),
        })))
        .await
        .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    let (out, _, stderr) = pipe_to_the_end(port).await;
    assert!(!out.status.success());
    assert_eq!(
        stderr,
        "wsdeck: server closed the connection: 1011 Internal Error: boom\n"
    );
}

#[tokio::test]
async fn replies_stream_out_while_stdin_stays_open_and_a_shutdown_exits_3_gone() {
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap(), "admin", Secret::new("pw"));
    cfg.tick = None;
    let server = wsdeck::server::start(cfg).await.unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let mut child = tokio::process::Command::new(BIN)
        .args(["pipe", &url, "--user", "admin"])
        .env("WSDECK_PASSWORD", "pw")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(GUARD, lines.next_line())
            .await
            .expect("no output")
            .unwrap()
            .expect("stdout closed")
    };
    // Each reply is visible before stdin ends: the output is flushed when idle.
    // (`lines()` drops the reply's \r\n like a \n.)
    assert_eq!(
        next_line().await,
        "congratulation, you have connect with server"
    );
    assert_eq!(next_line().await, "now, you can do something else");
    stdin.write_all(b"ping one\n").await.unwrap();
    assert_eq!(next_line().await, "your submit context: ping one");
    stdin.write_all(b"ping two\n").await.unwrap();
    assert_eq!(next_line().await, "your submit context: ping two");
    server.shutdown().await;
    let status = tokio::time::timeout(GUARD, child.wait())
        .await
        .expect("pipe did not exit")
        .unwrap();
    // 1001 Going Away: not a failure of ours, not a clean end of the work either.
    assert_eq!(
        status.code(),
        Some(3),
        "a 1001 shutdown: the server went away"
    );
}

// ------------------------------------------------------------ recording (--record, --har)

/// Run a pipe against `wsdeck serve` with these extra flags and stdin; returns the outcome.
fn pipe_to_serve(extra: &[&str], stdin: &str) -> Outcome {
    let serve = serve();
    let url = serve.url();
    let mut args = vec![url.as_str(), "--user", "admin", "--ping-interval", "0"];
    args.extend_from_slice(extra);
    pipe(&args, Some("123456"), stdin)
}

fn har_messages(har: &serde_json::Value) -> &Vec<serde_json::Value> {
    har["log"]["entries"][0]["_webSocketMessages"]
        .as_array()
        .expect("_webSocketMessages is an array")
}

#[test]
fn record_and_har_keep_every_frame_and_hide_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("session.jsonl");
    let har = dir.path().join("session.har");
    let o = pipe_to_serve(
        &[
            "--record",
            jsonl.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
        ],
        "one\ntwo\n",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert_eq!(
        o.stdout,
        "congratulation, you have connect with server\r\nnow, you can do something else\n\
         your submit context: one\nyour submit context: two\n"
    );

    let rec = wsdeck::record::jsonl::read(&jsonl).unwrap();
    let hs = rec.handshake.as_ref().expect("the handshake line");
    assert_eq!(hs.request.start_line, "GET / HTTP/1.1");
    assert_eq!(hs.response.start_line, "HTTP/1.1 101 Switching Protocols");
    assert!(rec.reconnects.is_empty());
    let frames: Vec<(u64, Direction, Opcode, String, bool)> = rec
        .frames
        .iter()
        .map(|f| {
            (
                f.seq,
                f.dir,
                f.opcode,
                String::from_utf8_lossy(&f.payload).into_owned(),
                f.redacted,
            )
        })
        .collect();
    let (s, r) = (Direction::ClientToServer, Direction::ServerToClient);
    let t = |x: &str| x.to_string();
    let seqs: Vec<u64> = frames.iter().map(|f| f.0).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    let just = |dir| -> Vec<(Opcode, String, bool)> {
        frames
            .iter()
            .filter(|f| f.1 == dir)
            .map(|f| (f.2, f.3.clone(), f.4))
            .collect()
    };
    // Both lines may go out before the first echo comes back: check each direction's order.
    assert_eq!(
        just(s),
        [
            (Opcode::Text, t("admin:***"), true),
            (Opcode::Text, t("one"), false),
            (Opcode::Text, t("two"), false),
            (Opcode::Close, t(""), false),
        ]
    );
    assert_eq!(
        just(r),
        [
            (Opcode::Text, t(wsdeck::server::LOGIN_OK_REPLY), false),
            (Opcode::Text, t("your submit context: one"), false),
            (Opcode::Text, t("your submit context: two"), false),
            (Opcode::Close, t(""), false),
        ]
    );
    assert_eq!(frames[6].2, Opcode::Close);
    assert_eq!(frames[7].2, Opcode::Close);
    // The login frame's length is the real one's; the close frames carry their code.
    assert_eq!(rec.frames[0].len, "admin:123456".len());
    assert_eq!(rec.frames[6].close.as_ref().map(|c| c.code), Some(1000));
    let raw = std::fs::read_to_string(&jsonl).unwrap();
    assert!(!raw.contains("123456"), "{raw}");

    let raw_har = std::fs::read_to_string(&har).unwrap();
    assert!(!raw_har.contains("123456"));
    let doc: serde_json::Value = serde_json::from_str(&raw_har).unwrap();
    assert_eq!(doc["log"]["version"], "1.2");
    let entry = &doc["log"]["entries"][0];
    assert!(
        entry["request"]["url"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );
    assert_eq!(entry["response"]["status"], 101);
    let msgs = har_messages(&doc);
    // The same frames, in the same order as the recording.
    let kinds: Vec<(&str, u64, &str)> = msgs
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap(),
                m["opcode"].as_u64().unwrap(),
                m["data"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(&str, u64, &str)> = rec
        .frames
        .iter()
        .map(|f| {
            (
                if f.dir == s { "send" } else { "receive" },
                u64::from(f.opcode.number()),
                f.text().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, want);
}

#[test]
fn no_redact_reaches_the_recording_and_the_har() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("open.jsonl");
    let har = dir.path().join("open.har");
    // Basic auth puts the credential in a header: the recorder and the HAR exporter redact
    // it themselves unless told not to.
    let o = pipe_to_serve(
        &[
            "--auth",
            "basic",
            "--no-redact",
            "--record",
            jsonl.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    // base64("admin:123456")
    let credential = "Basic YWRtaW46MTIzNDU2";
    let rec = wsdeck::record::jsonl::read(&jsonl).unwrap();
    let hs = rec.handshake.unwrap();
    assert!(
        hs.request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == credential),
        "{:?}",
        hs.request.headers
    );
    let raw_har = std::fs::read_to_string(&har).unwrap();
    assert!(raw_har.contains(credential));

    // The same without --no-redact (replacing the files: by default they would be kept).
    let o = pipe_to_serve(
        &[
            "--auth",
            "basic",
            "--overwrite",
            "--record",
            jsonl.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    let raw = std::fs::read_to_string(&jsonl).unwrap();
    assert!(
        !raw.contains("YWRtaW46MTIzNDU2") && raw.contains("***"),
        "{raw}"
    );
    let raw_har = std::fs::read_to_string(&har).unwrap();
    assert!(!raw_har.contains("YWRtaW46MTIzNDU2"));
}

#[test]
fn an_unwritable_recording_path_fails_before_connecting() {
    let o = pipe(
        &[
            "ws://127.0.0.1:9/",
            "--auth",
            "none",
            "--record",
            "/nonexistent-dir/x.jsonl",
        ],
        None,
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", o.stderr);
    assert!(
        o.stderr
            .starts_with("wsdeck: cannot create recording file /nonexistent-dir/x.jsonl"),
        "{}",
        o.stderr
    );
}

#[test]
fn bad_ping_intervals_are_refused() {
    for bad in ["-1", "nan", "0.001"] {
        let flag = format!("--ping-interval={bad}");
        let o = pipe(&["ws://127.0.0.1:9/", "--auth", "none", &flag], None, "");
        assert!(!o.status.success(), "{bad}");
        assert!(o.stderr.contains("--ping-interval"), "{bad}: {}", o.stderr);
    }
}

// ------------------------------------------------------------ reconnecting

#[tokio::test]
async fn a_lost_connection_is_reconnected_and_stdin_goes_on() {
    use wsdeck::server::RunningServer;
    async fn start(addr: std::net::SocketAddr) -> RunningServer {
        let deadline = tokio::time::Instant::now() + GUARD;
        loop {
            let cfg = ServerConfig::new(addr, "admin", Secret::new("pw"));
            match wsdeck::server::start(cfg).await {
                Ok(s) => return s,
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                Err(e) => panic!("{e:#}"),
            }
        }
    }
    let server = start("127.0.0.1:0".parse().unwrap()).await;
    let addr = server.local_addr();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("s.jsonl");
    let mut child = tokio::process::Command::new(BIN)
        .args(["pipe", &format!("ws://{addr}/"), "--user", "admin"])
        .args(["--ping-interval", "0", "--record", jsonl.to_str().unwrap()])
        .env("WSDECK_PASSWORD", "pw")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    async fn next<R: tokio::io::AsyncBufRead + Unpin>(l: &mut tokio::io::Lines<R>) -> String {
        tokio::time::timeout(GUARD, l.next_line())
            .await
            .expect("no line")
            .unwrap()
            .expect("stream closed")
    }
    assert_eq!(
        next(&mut out).await,
        "congratulation, you have connect with server"
    );
    assert_eq!(next(&mut out).await, "now, you can do something else");
    stdin.write_all(b"one\n").await.unwrap();
    assert_eq!(next(&mut out).await, "your submit context: one");

    // Cut every connection without a Close frame.
    drop(server);
    let note = next(&mut err).await;
    assert!(
        note.starts_with("wsdeck: connection lost") && note.contains("reconnecting in"),
        "{note}"
    );
    // Typed while disconnected: sent once after the new login.
    stdin.write_all(b"during\n").await.unwrap();
    let _server = start(addr).await;
    loop {
        let line = next(&mut err).await;
        if line == "wsdeck: reconnected" {
            break;
        }
        assert!(line.starts_with("wsdeck: reconnect failed"), "{line}");
    }
    assert_eq!(
        next(&mut out).await,
        "congratulation, you have connect with server"
    );
    assert_eq!(next(&mut out).await, "now, you can do something else");
    assert_eq!(next(&mut out).await, "your submit context: during");
    stdin.write_all(b"after\n").await.unwrap();
    assert_eq!(next(&mut out).await, "your submit context: after");
    drop(stdin);
    let status = tokio::time::timeout(GUARD, child.wait())
        .await
        .expect("pipe did not exit")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        tokio::time::timeout(GUARD, out.next_line())
            .await
            .unwrap()
            .unwrap(),
        None,
        "nothing more on stdout"
    );

    // The recording has both handshakes and one numbering.
    let rec = wsdeck::record::jsonl::read(&jsonl).unwrap();
    assert!(rec.handshake.is_some());
    assert_eq!(rec.reconnects.len(), 1);
    let seqs: Vec<u64> = rec.frames.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, (1..=rec.frames.len() as u64).collect::<Vec<_>>());
    let sent_during = rec
        .frames
        .iter()
        .filter(|f| f.dir == Direction::ClientToServer && f.payload.as_ref() == b"during")
        .count();
    assert_eq!(sent_during, 1);
}

// ------------------------------------------------------------ the close handshake

#[tokio::test]
async fn a_close_the_server_never_answers_exits_non_zero_and_says_so() {
    let port = common::raw::mute_server(common::raw::Mute::Forever).await;
    let url = format!("ws://127.0.0.1:{port}/");
    let child = pipe_open_stdin(&[&url, "--auth", "none", "--ping-interval", "0"]);
    // stdin ends at once: the pipe sends its Close and waits for the answer.
    let (out, stdout, stderr) = finish(child).await;
    assert!(!out.status.success(), "{:?} {stderr}", out.status);
    assert_eq!(
        stderr,
        "wsdeck: the close handshake did not finish: no Close reply within 5 s\n"
    );
    assert_eq!(stdout, "");
}

#[tokio::test]
async fn a_server_that_drops_instead_of_answering_the_close_exits_non_zero() {
    let port = common::raw::mute_server(common::raw::Mute::DropOnFirstFrame).await;
    let url = format!("ws://127.0.0.1:{port}/");
    let child = pipe_open_stdin(&[&url, "--auth", "none", "--ping-interval", "0"]);
    let (out, _, stderr) = finish(child).await;
    assert!(!out.status.success(), "{:?} {stderr}", out.status);
    assert_eq!(
        stderr,
        "wsdeck: the close handshake did not finish: the server ended the connection \
         without a Close reply\n"
    );
}
