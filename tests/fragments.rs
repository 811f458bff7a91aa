//! The monitor shows how many frames made each message our client received, and lists them:
//! against a node `ws` server that sends one message as several frames (`ws.send(data,
//! {fin:false})`), with and without compression.

mod common;

use common::peers::{node_ws_available, spawn_node_ws};
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
async fn a_fragmented_message_shows_its_frame_count_and_f_lists_the_frames() {
    if !node_ws_available() {
        return;
    }
    for deflate in ["off", "{}"] {
        let s = spawn_node_ws(deflate);
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let (h, handle) = launch(init(&s.url()), RunOptions::default(), (110, 30));
                h.wait_for("● connected").await;
                h.type_text("frags 3");
                h.press(KeyCode::Enter);
                h.wait_for("part1 part2 part3").await;
                h.type_text("hello");
                h.press(KeyCode::Enter);
                h.press(KeyCode::F(3));
                let shown = h.wait_for("×3").await;
                // One mark: the echo of "hello" and what we sent came in one frame each.
                assert_eq!(shown.matches('×').count(), 1, "{deflate}: {shown}");
                // Select the fragmented message (the newest rows are: it, hello, its echo).
                h.press(KeyCode::Up);
                h.press(KeyCode::Up);
                h.type_text("f");
                let shown = h.wait_for("└ 3/3").await;
                for want in ["└ 1/3 text", "└ 2/3 continuation", "continuation FIN"] {
                    assert!(shown.contains(want), "{deflate}: no {want:?} in\n{shown}");
                }
                if deflate == "off" {
                    // Uncompressed, each frame's payload is its part: "partN " is 6 bytes.
                    assert_eq!(shown.matches("      6 B").count(), 3, "{shown}");
                }
                h.type_text("f");
                let mut folded = h.screen();
                for _ in 0..100 {
                    if !folded.contains("└ 1/3") {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    folded = h.screen();
                }
                assert!(!folded.contains("└ 1/3"), "f folds them back: {folded}");
                h.quit(handle).await;
            })
            .await;
    }
}
