//! `wsdeck pipe` as a script uses it: the built binary against `wsdeck serve` (a child
//! process), the in-process demo server, and small scripted servers on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use wsdeck::model::Secret;
use wsdeck::server::{LOGIN_FAIL_REPLY, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_wsdeck");
/// Hang guard (never a speed assertion).
const GUARD: Duration = Duration::from_secs(20);
const SERVE_PW_VAR: &str = "WSDECK_TEST_SERVE_PASSWORD";

/// `wsdeck serve` on a free port; killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--user",
                "admin",
                "--password-env",
                SERVE_PW_VAR,
                "--tick",
                "0",
            ])
            .env(SERVE_PW_VAR, "123456")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wsdeck serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(GUARD).expect("serve printed nothing");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Serve { child, addr }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Run `wsdeck pipe ARGS` with `stdin` as its whole input and the password (if any) in the
/// environment; wait (bounded) for it to exit.
fn pipe(args: &[&str], password: Option<&str>, stdin: &str) -> Outcome {
    let mut cmd = Command::new(BIN);
    cmd.arg("pipe")
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("WSDECK_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("start wsdeck pipe");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = String::new();
        let mut stderr = String::new();
        let _ = out.read_to_string(&mut stdout);
        let _ = err.read_to_string(&mut stderr);
        let _ = tx.send((stdout, stderr));
    });
    let (stdout, stderr) = match rx.recv_timeout(GUARD) {
        Ok(o) => o,
        Err(_) => {
            let _ = child.kill();
            panic!("wsdeck pipe {args:?} did not finish within {GUARD:?}");
        }
    };
    let status = child.wait().unwrap();
    Outcome {
        status,
        stdout,
        stderr,
    }
}

#[test]
fn echoes_are_printed_and_stdin_end_closes_cleanly() {
    let serve = Serve::start();
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
    let status = wait(&mut child);
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

/// Wait (bounded) for a child to exit.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("wsdeck pipe did not exit within {GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn wrong_password_fails_with_the_servers_reply() {
    let serve = Serve::start();
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
        format!("wsdeck: connection refused to 127.0.0.1:{port}\n")
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
    let mut child = pipe_open_stdin(&[&format!("ws://127.0.0.1:{port}/"), "--auth", "none"]);
    let stdin = child.stdin.take();
    let (out, stdout, stderr) = finish(child).await;
    drop(stdin);
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
    let mut child = pipe_open_stdin(&[&format!("ws://127.0.0.1:{port}/"), "--auth", "none"]);
    let stdin = child.stdin.take();
    let (out, _, stderr) = finish(child).await;
    drop(stdin);
    assert!(!out.status.success());
    assert_eq!(
        stderr,
        "wsdeck: server closed the connection: 1011 Internal Error: boom\n"
    );
}

#[tokio::test]
async fn replies_stream_out_while_stdin_stays_open_and_shutdown_exits_0() {
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
    assert!(
        status.success(),
        "a 1001 shutdown is a clean close: {status:?}"
    );
}
