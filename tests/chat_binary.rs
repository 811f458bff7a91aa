//! Binary from the message input, against websockify (a WebSocket-to-TCP bridge that takes
//! only binary frames and closes with 1003 on a text frame) in front of a TCP echo server:
//! `/hex`, `/b64` and `/send-file` send what the user says, and say what they sent.

mod common;

use common::peers::{spawn_websockify, websockify_available};
use common::runtime::launch;
use crossterm::event::KeyCode;
use wsdeck::app::AppInit;
use wsdeck::runtime::RunOptions;
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn init(url: &str) -> AppInit {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    spec.ping_interval = None;
    let mut init = AppInit::new(spec);
    init.connect_now = true;
    init
}

#[tokio::test(flavor = "current_thread")]
async fn hex_b64_and_files_go_out_as_binary_and_a_text_file_only_when_asked() {
    if !websockify_available() {
        return;
    }
    let w = spawn_websockify();
    let dir = tempfile::tempdir().unwrap();
    // An MQTT PUBLISH: valid UTF-8, but not text.
    let publish = dir.path().join("publish.bin");
    std::fs::write(&publish, b"\x30\x0b\x00\x03a/bhello").unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "plain words\n").unwrap();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (h, handle) = launch(init(&w.url()), RunOptions::default(), (110, 30));
            // No login: the status says connected, not logged in.
            let shown = h.wait_for("● connected").await;
            assert!(!shown.contains("logged in"), "{shown}");
            h.type_text("/hex 68 69 21");
            h.press(KeyCode::Enter);
            h.wait_for("sent 3 bytes as a binary frame").await;
            // The echo comes back as binary: the bridge took it (a text frame closes it).
            h.wait_for("68 69 21").await;
            h.type_text("/b64 3q2+7w==");
            h.press(KeyCode::Enter);
            h.wait_for("de ad be ef").await;
            h.type_text(&format!("/send-file {}", publish.display()));
            h.press(KeyCode::Enter);
            h.wait_for("as a binary frame (it is not plain text").await;
            h.wait_for("30 0b 00 03").await;
            h.type_text(&format!("/send-file --binary {}", notes.display()));
            h.press(KeyCode::Enter);
            h.wait_for("12 bytes as a binary frame").await;
            // Plain text goes out as text by default — which this server refuses, as it says.
            h.type_text(&format!("/send-file {}", notes.display()));
            h.press(KeyCode::Enter);
            let shown = h.wait_for("1003 Unsupported Data").await;
            assert!(shown.contains("you       plain words"), "{shown}");
            h.quit(handle).await;
        })
        .await;
}
