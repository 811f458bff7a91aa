//! Issue 14 item 2: a recording or export never destroys a file that is already there. A JSONL
//! recording gets the new session appended (and `wsdeck replay` reads both); a HAR export goes
//! to the next free name and says which; `--overwrite` is the explicit way to replace. Driven
//! through `pipe` (with a profile's `record =`), the headless proxy and the UI's runtime
//! (`--record`, `/record on FILE`, `/export FILE.har`, `--har` at exit).

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use wsdeck::app::AppInit;
use wsdeck::model::Secret;
use wsdeck::runtime::RunOptions;
use wsdeck::spec::ConnectSpec;

mod common;

use common::pipe::pipe;

fn texts(path: &Path) -> Vec<String> {
    wsdeck::record::jsonl::read(path)
        .unwrap()
        .frames
        .iter()
        .filter_map(|f| f.text().map(str::to_string))
        .collect()
}

fn har_texts(path: &Path) -> Vec<String> {
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["_webSocketMessages"].as_array().unwrap().clone())
        .filter_map(|m| m["data"].as_str().map(str::to_string))
        .collect()
}

/// Two recorded sessions read back as one recording: two connections, one numbering.
fn assert_two_sessions(path: &Path, first: &str, second: &str) {
    let rec = wsdeck::record::jsonl::read(path).unwrap();
    let conns: Vec<u64> = std::iter::once(rec.handshake.as_ref().unwrap().conn)
        .chain(rec.reconnects.iter().map(|(_, h)| h.conn))
        .collect();
    assert_eq!(conns, [1, 2], "each session is its own connection");
    let seqs: Vec<u64> = rec.frames.iter().map(|f| f.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "one numbering: {seqs:?}"
    );
    let t = texts(path);
    let at = |s: &str| {
        t.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s}: {t:?}"))
    };
    assert!(at(first) < at(second), "{t:?}");
    let f = rec
        .frames
        .iter()
        .find(|f| f.text() == Some(second))
        .unwrap();
    assert_eq!(f.conn, 2);
}

#[test]
fn pipe_appends_to_a_profiles_recording_and_gives_a_taken_har_the_next_name() {
    let server = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("seed-session.jsonl");
    let har = dir.path().join("seed.har");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.seed]\nurl = \"{}\"\nuser = \"admin\"\nrecord = \"{}\"\n",
            server.url(),
            rec.display()
        ),
    )
    .unwrap();
    let run = |line: &str, extra: &[&str]| {
        let mut args = vec![
            "@seed",
            "--config",
            config.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
            "--ping-interval",
            "0",
        ];
        args.extend_from_slice(extra);
        let out = pipe(&args, Some("123456"), format!("{line}\n"));
        assert!(out.status.success(), "{}", out.stderr);
        out.stderr
    };
    let err = run("first session", &[]);
    assert!(!err.contains("already"), "{err}");
    let err = run("second session", &[]);
    assert!(
        err.contains(&format!("{} already holds a recording", rec.display())),
        "{err}"
    );
    let har1 = dir.path().join("seed-1.har");
    assert!(
        err.contains(&format!("written to {}", har1.display())),
        "{err}"
    );
    assert_two_sessions(&rec, "first session", "second session");
    assert!(har_texts(&har).contains(&"first session".to_string()));
    assert!(!har_texts(&har).contains(&"second session".to_string()));
    assert!(har_texts(&har1).contains(&"second session".to_string()));

    // Asked for: --overwrite replaces both files, and says so.
    let err = run("third session", &["--overwrite"]);
    assert!(err.contains("replaced as asked (--overwrite)"), "{err}");
    let t = texts(&rec);
    assert!(t.contains(&"third session".to_string()));
    assert!(!t.contains(&"first session".to_string()), "{t:?}");
    assert!(har_texts(&har).contains(&"third session".to_string()));
    assert!(!dir.path().join("seed-2.har").exists());
}

#[test]
fn the_proxy_appends_to_its_recording_and_numbers_its_har() {
    let server = common::serve::spawn_serve("admin", "123456", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("proxy.jsonl");
    let har = dir.path().join("proxy.har");
    let session = |line: &str| {
        let mut proxy = common::proxy::spawn_proxy(&[
            &server.url(),
            "--record",
            rec.to_str().unwrap(),
            "--har",
            har.to_str().unwrap(),
        ]);
        let out = pipe(
            &[&proxy.url(), "--user", "admin", "--ping-interval", "0"],
            Some("123456"),
            format!("{line}\n"),
        );
        assert!(out.status.success(), "{}", out.stderr);
        proxy.until_closed(1);
        assert!(proxy.terminate().success());
        proxy.stderr_lines().join("\n")
    };
    let err = session("through the proxy once");
    assert!(!err.contains("already"), "{err}");
    let err = session("through the proxy again");
    assert!(err.contains("already holds a recording"), "{err}");
    assert!(err.contains("proxy-1.har"), "{err}");
    let t = texts(&rec);
    assert!(t.contains(&"through the proxy once".to_string()), "{t:?}");
    assert!(t.contains(&"through the proxy again".to_string()), "{t:?}");
    let rec_read = wsdeck::record::jsonl::read(&rec).unwrap();
    let again = rec_read
        .frames
        .iter()
        .find(|f| f.text() == Some("through the proxy again"))
        .unwrap();
    assert_eq!(
        again.conn, 2,
        "the second run's connection follows the first"
    );
    assert!(har_texts(&har).contains(&"through the proxy once".to_string()));
    assert!(har_texts(&dir.path().join("proxy-1.har")).contains(&"through the proxy again".into()));
}

fn demo_init(url: &str) -> AppInit {
    let mut spec = ConnectSpec::new(url);
    spec.user = "admin".into();
    spec.password = Secret::new("123456");
    spec.ping_interval = None;
    AppInit::new(spec)
}

#[tokio::test(flavor = "current_thread")]
async fn the_ui_appends_recordings_and_never_overwrites_an_export() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let server = common::runtime::demo_server().await;
            let url = format!("ws://{}", server.local_addr());
            let dir = tempfile::tempdir().unwrap();
            let rec = dir.path().join("ui.jsonl");
            let har = dir.path().join("ui.har");
            let other = dir.path().join("other.jsonl");
            let export = dir.path().join("export.har");
            // Evidence from an earlier run.
            let (u, r) = (url.clone(), rec.clone());
            let run1 = tokio::task::spawn_blocking(move || {
                pipe(
                    &[&u, "--user", "admin", "--record", r.to_str().unwrap()],
                    Some("123456"),
                    "earlier run\n",
                )
            })
            .await
            .unwrap();
            assert!(run1.status.success(), "{}", run1.stderr);
            std::fs::copy(&rec, &other).unwrap();
            std::fs::write(&har, "{\"earlier\": true}").unwrap();
            std::fs::write(&export, "{\"earlier\": true}").unwrap();

            let opts = RunOptions {
                record: Some(rec.clone()),
                har: Some(har.clone()),
                ..RunOptions::default()
            };
            let notes = opts.exit_notes.clone();
            let (h, handle) = common::runtime::launch(demo_init(&url), opts, (220, 30));
            h.wait_for("already holds a recording").await;
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.type_text("in the ui");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: in the ui").await;
            // `/record on FILE` on an existing recording: appended, and said.
            h.type_text("/record off");
            h.press(KeyCode::Enter);
            h.wait_for("recording stopped").await;
            h.type_text(&format!("/record on {}", other.display()));
            h.press(KeyCode::Enter);
            h.wait_for("other.jsonl already holds a recording").await;
            h.type_text("second file");
            h.press(KeyCode::Enter);
            h.wait_for("your submit context: second file").await;
            // `/export FILE.har` on an existing file: the next free name, and said.
            h.type_text(&format!("/export {}", export.display()));
            h.press(KeyCode::Enter);
            h.wait_for("export-1.har").await;
            h.key(KeyCode::Char('q'), KeyModifiers::CONTROL);
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .unwrap()
                .unwrap()
                .unwrap();

            assert_two_sessions(&rec, "earlier run", "in the ui");
            let t = texts(&other);
            assert!(t.contains(&"earlier run".to_string()), "{t:?}");
            assert!(t.contains(&"second file".to_string()), "{t:?}");
            for kept in [&har, &export] {
                assert_eq!(
                    std::fs::read_to_string(kept).unwrap(),
                    "{\"earlier\": true}"
                );
            }
            assert!(har_texts(&dir.path().join("export-1.har")).contains(&"in the ui".into()));
            assert!(har_texts(&dir.path().join("ui-1.har")).contains(&"in the ui".into()));
            // The exit's HAR went elsewhere too: said once the terminal is back.
            let notes = notes.lock().unwrap().join("\n");
            assert!(notes.contains("ui-1.har"), "{notes}");
            server.shutdown().await;
        })
        .await;
}
