//! What application protocols need beyond the login, against a real socket.io 4 server
//! (node, tests/peers/sio_server.js) that pings every 300 ms and drops a client that does not
//! answer: `--preset socketio` opens the namespace and answers the pings from the network
//! task; `--on-connect` and `--auto-reply` do the same by hand.

mod common;

use std::process::Command;
use std::time::Duration;

use common::peers::{PeerServer, node_ws_available, test_peers_dir};
use common::pipe::{Outcome, pipe_paced};

fn sio_server() -> PeerServer {
    sio_server_with(&[])
}

fn sio_server_with(args: &[&str]) -> PeerServer {
    let mut cmd = Command::new("node");
    cmd.arg(test_peers_dir().join("sio_server.js")).args(args);
    PeerServer::start_cmd(cmd, "sio_server.js")
}

/// `wsdeck pipe URL --auth none --ping-interval 0 ARGS`, paced as in
/// [`common::pipe::pipe_paced`].
fn pipe_to(url: &str, args: &[&str], wait: Duration, input: &str, hold: Duration) -> Outcome {
    let mut all = vec![url, "--auth", "none", "--ping-interval", "0"];
    all.extend_from_slice(args);
    pipe_paced(&all, wait, input, hold)
}

/// A chat event sent 1.5 s in (five ping periods), stdin closed half a second later.
fn chat_after_pings(url: &str, args: &[&str]) -> Outcome {
    let chat = "42[\"chat\",\"hi\"]\n";
    pipe_to(
        url,
        args,
        Duration::from_millis(1500),
        chat,
        Duration::from_millis(500),
    )
}

/// The same event given at once, stdin closed a second later.
fn chat_at_once(url: &str, args: &[&str]) -> Outcome {
    let chat = "42[\"chat\",\"hi\"]\n";
    pipe_to(url, args, Duration::ZERO, chat, Duration::from_millis(1000))
}

#[test]
fn the_socketio_preset_keeps_the_session_alive_and_opens_the_namespace() {
    if !node_ws_available() {
        return;
    }
    let s = sio_server();
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let o = chat_after_pings(&url, &["--preset", "socketio"]);
    let (out, err) = (&o.stdout, &o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains(r#"42["echo","hi"]"#), "{out}\n{err}");
    // The pings were answered, so they kept coming.
    assert!(
        out.matches("\n2\n").count() + usize::from(out.starts_with("2\n")) >= 3,
        "{out}"
    );

    // The same by hand.
    let o = chat_after_pings(&url, &["--on-connect", "40", "--auto-reply", "^2$=3"]);
    let (out, err) = (&o.stdout, &o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
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
    let o = chat_at_once(&url, &["--preset", "socketio"]);
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let open = out.find("40{\"sid\"").expect("the namespace opened");
    let echo = out
        .find(r#"42["echo","hi"]"#)
        .expect("the event was answered");
    assert!(open < echo, "{out}");

    let s = sio_server_with(&["refuse"]);
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let o = chat_at_once(&url, &["--preset", "socketio"]);
    let (out, err) = (&o.stdout, &o.stderr);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
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
    let o = chat_after_pings(&url, &["--on-connect", "40"]);
    let (out, err) = (&o.stdout, &o.stderr);
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
