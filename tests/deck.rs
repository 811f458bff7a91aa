//! The whole runtime (event loop, App, network task, embedded server) driven by key events
//! into a `TestBackend`, the way slumber tests its TUI: several sessions at once, recording,
//! redraw coalescing.

mod common;

use std::time::Duration;

use common::runtime::launch;

use crossterm::event::{KeyCode, KeyModifiers};
use wsdeck::app::AppInit;
use wsdeck::model::Secret;
use wsdeck::runtime::RunOptions;
use wsdeck::spec::ConnectSpec;

fn demo_init(url: &str) -> AppInit {
    let mut spec = ConnectSpec::new(url);
    spec.user = "admin".into();
    spec.password = Secret::new("123456");
    spec.ping_interval = None;
    AppInit::new(spec)
}

/// Ctrl-T opens sessions like the first.
fn opts_with_tabs(url: &str, opts: RunOptions) -> RunOptions {
    RunOptions {
        new_session: Some(demo_init(url)),
        ..opts
    }
}

#[tokio::test(flavor = "current_thread")]
async fn two_sessions_have_separate_histories_and_see_each_other() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let server = common::runtime::demo_server().await;
            let url = format!("ws://{}", server.local_addr());
            let (h, handle) = launch(
                demo_init(&url),
                opts_with_tabs(&url, RunOptions::default()),
                (110, 30),
            );

            // Session 1 logs in and sends a line.
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.type_text("only in one");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: only in one").await;

            // Ctrl-T: a second session with its own login pane; it logs in too.
            h.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
            let s = h.wait_for(" 2 ").await;
            assert!(s.contains(" 1 "), "tab bar lists both sessions:\n{s}");
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            let s = h.screen();
            assert!(
                !s.contains("only in one"),
                "session 2 shows session 1's history:\n{s}"
            );
            h.type_text("hello from two");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: hello from two").await;

            // Session 1 got the broadcast while hidden: an unread count, then the text.
            h.wait_for("(1)").await;
            h.key(KeyCode::Left, KeyModifiers::ALT);
            let s = h.wait_for("admin: hello from two").await;
            assert!(s.contains("your submit context: only in one"), "{s}");
            assert!(!s.contains("(1)"), "unread count cleared on switch:\n{s}");

            h.quit(handle).await;
            server.shutdown().await;
        })
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn record_key_writes_frames_and_idle_means_no_redraws() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let server = common::runtime::demo_server().await;
            let url = format!("ws://{}", server.local_addr());
            let dir = tempfile::tempdir().unwrap();
            let rec = dir.path().join("session.jsonl");
            let har = dir.path().join("session.har");
            let opts = RunOptions {
                record: Some(rec.clone()),
                har: Some(har.clone()),
                ..RunOptions::default()
            };
            let (h, handle) = launch(demo_init(&url), opts_with_tabs(&url, opts), (110, 30));
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.type_text("recorded line");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: recorded line").await;

            // Nothing arrives and no key is pressed: no more draws (no tick in the chat view).
            tokio::time::sleep(Duration::from_millis(200)).await;
            let before = h.draws();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(h.draws(), before, "redraws while idle");

            h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .unwrap()
                .unwrap()
                .unwrap();

            let recording = wsdeck::record::jsonl::read(&rec).unwrap();
            let texts: Vec<_> = recording.frames.iter().filter_map(|f| f.text()).collect();
            assert!(texts.contains(&"recorded line"), "{texts:?}");
            assert!(texts.contains(&"your submit context: recorded line"));
            // The quit's Close 1000 and the server's reply are recorded too.
            assert_eq!(
                recording
                    .frames
                    .iter()
                    .filter(|f| f.close.as_ref().is_some_and(|c| c.code == 1000))
                    .count(),
                2
            );
            let raw = std::fs::read_to_string(&rec).unwrap();
            assert!(!raw.contains("123456"), "password in the recording");
            let har: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
            let msgs = har["log"]["entries"][0]["_webSocketMessages"]
                .as_array()
                .unwrap();
            assert!(msgs.iter().any(|m| m["data"] == "recorded line"));
            assert!(!har.to_string().contains("123456"));
            server.shutdown().await;
        })
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn opening_the_monitor_shows_the_clock_of_now_not_of_the_last_event() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let server = common::runtime::demo_server().await;
            let url = format!("ws://{}", server.local_addr());
            let (h, handle) = launch(demo_init(&url), RunOptions::default(), (110, 30));
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            // Quiet for over two seconds: no frame, no tick (the chat view does not tick).
            tokio::time::sleep(Duration::from_millis(2300)).await;
            h.press(KeyCode::F(3));
            let s = h.wait_for("connected 00:00:").await;
            assert!(
                !s.contains("connected 00:00:00") && !s.contains("connected 00:00:01"),
                "the first monitor frame shows a stale connected time:\n{s}"
            );
            h.quit(handle).await;
            server.shutdown().await;
        })
        .await;
}

/// Issue 14 item 9: tabs say who and where (user@host:port); Alt-N shows session N; Alt-W
/// closes the shown one; a Ctrl-T session records beside the first (FILE-tab2.jsonl) and
/// says so.
#[tokio::test(flavor = "current_thread")]
async fn tabs_name_their_sessions_alt_digits_switch_alt_w_closes_and_new_tabs_record() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let server = common::runtime::demo_server().await;
            let url = format!("ws://{}", server.local_addr());
            let dir = tempfile::tempdir().unwrap();
            let rec = dir.path().join("s.jsonl");
            let opts = RunOptions {
                record: Some(rec.clone()),
                ..RunOptions::default()
            };
            let (h, handle) = launch(demo_init(&url), opts_with_tabs(&url, opts), (120, 30));
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.key(KeyCode::Char('t'), KeyModifiers::CONTROL);
            let s = h.wait_for("s-tab2.jsonl").await;
            assert!(s.contains("this session records to"), "{s}");
            let host = url.trim_start_matches("ws://");
            assert!(s.contains(&format!(" 1 ● admin@{host} ")), "{s}");
            assert!(s.contains(&format!(" 2 ○ admin@{host} ")), "{s}");
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.type_text("from tab two");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: from tab two").await;
            // Alt-1 shows session 1 (its history, not session 2's line).
            h.key(KeyCode::Char('1'), KeyModifiers::ALT);
            let s = h.wait_for("admin: from tab two").await;
            assert!(!s.contains("your submit context: from tab two"), "{s}");
            h.key(KeyCode::Char('9'), KeyModifiers::ALT);
            h.wait_for("there is no session 9: 2 sessions open").await;
            // Alt-W closes it: session 2 is left, alone (no tab bar).
            h.key(KeyCode::Char('w'), KeyModifiers::ALT);
            let s = h.wait_for("session closed; showing session 1").await;
            assert!(s.contains("your submit context: from tab two"), "{s}");
            assert!(!s.contains(" 2 ●"), "{s}");
            h.key(KeyCode::Char('w'), KeyModifiers::ALT);
            h.wait_for("this is the only session — Ctrl-Q quits").await;
            h.quit(handle).await;
            let two = wsdeck::record::jsonl::read(dir.path().join("s-tab2.jsonl")).unwrap();
            assert!(
                two.frames.iter().any(|f| f.text() == Some("from tab two")),
                "the second session's own recording"
            );
            let one = wsdeck::record::jsonl::read(&rec).unwrap();
            assert!(!one.frames.iter().any(|f| f.text() == Some("from tab two")));
            server.shutdown().await;
        })
        .await;
}
