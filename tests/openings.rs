//! What application protocols need beyond the login, against a real socket.io 4 server
//! (node, tests/peers/sio_server.js) that pings every 300 ms and drops a client that does not
//! answer: `--preset socketio` opens the namespace and answers the pings from the network
//! task; `--on-connect` and `--auto-reply` do the same by hand.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::peers::{PeerServer, node_ws_available, test_peers_dir};

fn sio_server() -> PeerServer {
    sio_server_with(&[])
}

fn sio_server_with(args: &[&str]) -> PeerServer {
    let mut cmd = Command::new("node");
    cmd.arg(test_peers_dir().join("sio_server.js")).args(args);
    PeerServer::start_cmd(cmd, "sio_server.js")
}

/// `wsdeck pipe` with `args` and `input` on stdin from the start, stdin closed a second
/// later; (exit code, stdout, stderr).
fn pipe_at_once(url: &str, args: &[&str], input: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .arg("pipe")
        .arg(url)
        .args(["--auth", "none", "--ping-interval", "0"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsdeck pipe");
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input.as_bytes());
    std::thread::sleep(Duration::from_millis(1000));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `wsdeck pipe` with `args`, a chat event sent 1.5 s in (five ping periods), stdin closed
/// half a second later; (exit success, stdout, stderr).
fn chat_after_pings(url: &str, args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .arg("pipe")
        .arg(url)
        .args(["--auth", "none", "--ping-interval", "0"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsdeck pipe");
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = stdin.write_all(b"42[\"chat\",\"hi\"]\n");
    std::thread::sleep(Duration::from_millis(500));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_socketio_preset_keeps_the_session_alive_and_opens_the_namespace() {
    if !node_ws_available() {
        return;
    }
    let s = sio_server();
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let (ok, out, err) = chat_after_pings(&url, &["--preset", "socketio"]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains(r#"42["echo","hi"]"#), "{out}\n{err}");
    // The pings were answered, so they kept coming.
    assert!(
        out.matches("\n2\n").count() + usize::from(out.starts_with("2\n")) >= 3,
        "{out}"
    );

    // The same by hand.
    let (ok, out, err) = chat_after_pings(&url, &["--on-connect", "40", "--auto-reply", "^2$=3"]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains(r#"42["echo","hi"]"#), "{out}\n{err}");
}

/// A line given before the server has opened the namespace waits for its `40{"sid":…}`
/// (socket.io drops a client whose event comes first); a server that refuses the namespace
/// is named with its answer.
#[test]
fn the_socketio_preset_holds_lines_until_the_namespace_is_open() {
    if !node_ws_available() {
        return;
    }
    let s = sio_server();
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let (code, out, err) = pipe_at_once(&url, &["--preset", "socketio"], "42[\"chat\",\"hi\"]\n");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let open = out.find("40{\"sid\"").expect("the namespace opened");
    let echo = out
        .find(r#"42["echo","hi"]"#)
        .expect("the event was answered");
    assert!(open < echo, "{out}");

    let s = sio_server_with(&["refuse"]);
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let (code, out, err) = pipe_at_once(&url, &["--preset", "socketio"], "42[\"chat\",\"hi\"]\n");
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        err.contains("the server refused the session instead of sending socket.io's 40"),
        "{err}"
    );
    assert!(err.contains("not authorized"), "{err}");
}

#[test]
fn without_the_answers_socketio_drops_the_session() {
    if !node_ws_available() {
        return;
    }
    let s = sio_server();
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let (_, out, err) = chat_after_pings(&url, &["--on-connect", "40"]);
    assert!(!out.contains(r#"42["echo","hi"]"#), "{out}\n{err}");
}

/// The UI over the same server with `--preset socketio`: the pings and their answers are one
/// dim line each in the chat (`2 → 3 · auto-reply`), counted in the status bar, and marked
/// `↺` in the monitor; the chat's real messages stay as they are.
#[tokio::test(flavor = "current_thread")]
async fn auto_replies_are_quiet_in_the_chat_counted_and_marked_in_the_monitor() {
    use common::runtime::launch;
    use crossterm::event::KeyCode;
    if !node_ws_available() {
        return;
    }
    let s = sio_server();
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let mut spec = wsdeck::spec::ConnectSpec::new(url);
    spec.auth = wsdeck::spec::AuthMethod::None;
    spec.ping_interval = None;
    wsdeck::spec::Overrides {
        preset: Some(wsdeck::openings::Preset::Socketio),
        ..Default::default()
    }
    .apply(&mut spec)
    .unwrap();
    let mut init = wsdeck::app::AppInit::new(spec);
    init.connect_now = true;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (h, handle) = launch(init, wsdeck::runtime::RunOptions::default(), (110, 30));
            let shown = h.wait_for("2 → 3 · auto-reply").await;
            assert!(shown.contains("↺ "), "{shown}");
            // Two pings answered, counted apart from what the user sent.
            h.wait_for("↺2 auto").await;
            h.type_text("42[\"chat\",\"hi\"]");
            h.press(KeyCode::Enter);
            let shown = h.wait_for("42[\"echo\",\"hi\"]").await;
            // Sent: the opening 40 and the user's line, not the answers.
            assert!(shown.contains("↑2 "), "{shown}");
            h.press(KeyCode::F(3));
            let shown = h.wait_for("↺ text").await;
            assert!(!shown.contains("✚"), "not marked as injected: {shown}");
            h.quit(handle).await;
        })
        .await;
}
