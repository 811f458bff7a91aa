//! Secrets a server hands back (issue 15.3): a Python `websockets` server that echoes the
//! login frame and repeats the client's credential headers in its 101 and in a message.
//! The password, the URL's password and the header values must never be drawn, and must not
//! reach the JSONL, the HAR or pipe's stdout unless `--no-redact`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::peers::{PeerServer, python_websockets_available, skip_or_fail, spawn_py_script};
use common::runtime::launch;
use crossterm::event::{KeyCode, KeyModifiers};
use wsdeck::app::AppInit;
use wsdeck::model::Secret;
use wsdeck::runtime::RunOptions;
use wsdeck::spec::ConnectSpec;

const PASSWORD: &str = "S3cr3t-Pa55word";
const URL_PASSWORD: &str = "hunter2";
const COOKIE: &str = "sid=c00kie-v4lue";
const TOKEN: &str = "t0k3n-abcdef";

/// Every secret of the session, and a part of each that must not show either.
const SECRETS: [&str; 5] = [PASSWORD, URL_PASSWORD, COOKIE, "c00kie-v4lue", TOKEN];

/// Echoes every message as `echo: …`; after the login frame (`ops:…`) it says which cookie
/// and credential it saw; its 101 repeats them as headers, as debug servers do.
const HANDS_BACK: &str = r#"
import asyncio
from websockets.asyncio.server import serve

def hand_back(connection, request, response):
    response.headers["X-Seen-Cookie"] = request.headers.get("Cookie", "")
    response.headers["X-Seen-Authorization"] = request.headers.get("Authorization", "")
    return response

async def echo(ws):
    seen = "you came with %s and %s" % (
        ws.request.headers.get("Cookie", ""), ws.request.headers.get("Authorization", ""))
    async for m in ws:
        await ws.send("echo: %s" % m)
        if isinstance(m, str) and m.startswith("ops:"):
            await ws.send(seen)

async def main():
    async with serve(echo, "127.0.0.1", 0, process_response=hand_back, compression=None) as s:
        host, port = s.sockets[0].getsockname()[:2]
        print("listening on %s:%d" % (host, port), flush=True)
        await asyncio.Future()

asyncio.run(main())
"#;

fn hands_back() -> Option<PeerServer> {
    if !python_websockets_available() {
        skip_or_fail("python3 with the `websockets` module is not available");
        return None;
    }
    Some(spawn_py_script(HANDS_BACK, "hands-back server"))
}

fn url(server: &PeerServer) -> String {
    format!("ws://ops:{URL_PASSWORD}@{}/", server.addr)
}

fn spec(server: &PeerServer, no_redact: bool) -> ConnectSpec {
    let mut spec = ConnectSpec::new(url(server));
    spec.user = "ops".into();
    spec.password = Secret::new(PASSWORD);
    spec.headers = vec![
        ("Cookie".into(), COOKIE.into()),
        ("Authorization".into(), format!("Bearer {TOKEN}")),
    ];
    spec.login.ok = regex::Regex::new("^echo: ops:").unwrap();
    spec.ping_interval = None;
    spec.no_redact = no_redact;
    spec
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s:?} shown in {what}:\n{text}");
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The whole runtime against the server: log in, look at the chat, the monitor and the
/// handshake panel, quit. Returns every screen seen and the JSONL and HAR written.
async fn ui_session(server: &PeerServer, no_redact: bool) -> (Vec<String>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("s.jsonl");
    let har = dir.path().join("s.har");
    let opts = RunOptions {
        record: Some(rec.clone()),
        har: Some(har.clone()),
        no_redact,
        ..RunOptions::default()
    };
    let mut init = AppInit::new(spec(server, no_redact));
    init.connect_now = false;
    let (h, handle) = launch(init, opts, (140, 60));
    let mut screens = vec![h.wait_for("URL").await];
    h.press(KeyCode::Enter);
    screens.push(h.wait_for("echo: ops:***").await);
    screens.push(h.wait_for("you came with").await);
    h.press(KeyCode::F(3));
    screens.push(h.wait_for("echo: ops:***").await);
    h.press(KeyCode::Char('h'));
    screens.push(h.wait_for("X-Seen-Cookie").await);
    h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("quit in time")
        .unwrap()
        .unwrap();
    (screens, read(&rec), read(&har))
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_a_server_hands_back_are_masked_on_screen_and_in_the_files() {
    let Some(server) = hands_back() else { return };
    let local = tokio::task::LocalSet::new();
    let (screens, jsonl, har) = local.run_until(ui_session(&server, false)).await;
    for s in &screens {
        assert_no_secret("the screen", s);
    }
    // The URL shows with its password masked (login pane, notes, status line).
    assert!(screens[1].contains("ops:***@"), "{}", screens[1]);
    assert_no_secret("the JSONL", &jsonl);
    assert_no_secret("the HAR", &har);
    assert!(jsonl.contains("echo: ops:***"), "{jsonl}");
    assert!(jsonl.contains(r#""redacted":true"#), "{jsonl}");
    assert!(har.contains("echo: ops:***"), "{har}");
}

#[tokio::test(flavor = "current_thread")]
async fn no_redact_keeps_the_recording_and_the_har_clear_but_never_the_screen() {
    let Some(server) = hands_back() else { return };
    let local = tokio::task::LocalSet::new();
    let (screens, jsonl, _) = local.run_until(ui_session(&server, true)).await;
    for s in &screens {
        assert_no_secret("the screen", s);
    }
    for s in [PASSWORD, COOKIE, TOKEN, URL_PASSWORD] {
        assert!(
            jsonl.contains(s),
            "{s} missing from the --no-redact recording:\n{jsonl}"
        );
    }
    assert!(jsonl.contains(&format!("echo: ops:{PASSWORD}")));
}

fn pipe(server: &PeerServer, extra: &[&str], dir: &Path) -> common::pipe::Outcome {
    let rec = dir.join("p.jsonl");
    let har = dir.join("p.har");
    let url = url(server);
    let mut args = vec![
        url.as_str(),
        "--user",
        "ops",
        "--login-ok",
        "^echo: ops:",
        "--ping-interval",
        "0",
        "-H",
        "Cookie: sid=c00kie-v4lue",
        "-H",
        "Authorization: Bearer t0k3n-abcdef",
        "--record",
        rec.to_str().unwrap(),
        "--har",
        har.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::pipe::pipe(&args, Some(PASSWORD), "hello\n")
}

#[test]
fn pipe_masks_what_the_server_hands_back_in_stdout_and_files_unless_no_redact() {
    let Some(server) = hands_back() else { return };
    let dir = tempfile::tempdir().unwrap();
    let o = pipe(&server, &[], dir.path());
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert!(o.stdout.contains("echo: ops:***"), "{}", o.stdout);
    assert!(o.stdout.contains("echo: hello"), "{}", o.stdout);
    assert_no_secret("stdout", &o.stdout);
    assert_no_secret("stderr", &o.stderr);
    assert_no_secret("the JSONL", &read(&dir.path().join("p.jsonl")));
    assert_no_secret("the HAR", &read(&dir.path().join("p.har")));

    // A fresh directory: recordings are appended to, HAR files never overwritten.
    let dir = tempfile::tempdir().unwrap();
    let o = pipe(&server, &["--no-redact"], dir.path());
    assert!(o.status.success(), "{:?}: {}", o.status, o.stderr);
    assert!(
        o.stdout.contains(&format!("echo: ops:{PASSWORD}")),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains(COOKIE), "{}", o.stdout);
    for file in ["p.jsonl", "p.har"] {
        let text = read(&dir.path().join(file));
        for s in [PASSWORD, COOKIE, TOKEN] {
            assert!(text.contains(s), "{s} missing from {file} with --no-redact");
        }
    }
}

/// The app alone on a TestBackend: what the screen shows after each step.
fn drawn(app: &mut wsdeck::app::App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 40)).unwrap();
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    app.update(wsdeck::app::Event::Drawn(fb.unwrap()));
    term.backend().to_string()
}

#[test]
fn a_url_password_never_shows_in_the_login_pane_notes_status_or_errors() {
    use wsdeck::app::{App, Event};
    use wsdeck::model::{ConnState, NetError, NetErrorKind, NetEvent};
    let mut s = ConnectSpec::new(format!("ws://ops:{URL_PASSWORD}@127.0.0.1:9/"));
    s.user = "ops".into();
    s.password = Secret::new(PASSWORD);
    // The network task leaves events clear with --no-redact: the screen still masks.
    s.no_redact = true;
    let (mut app, _) = App::new(AppInit::new(s));
    let mut screens = vec![drawn(&mut app)];
    assert!(
        screens[0].contains("ws://ops:***@127.0.0.1:9/"),
        "{}",
        screens[0]
    );
    app.update(Event::Key(KeyCode::Enter.into()));
    app.update(Event::Net(NetEvent::State(ConnState::Connecting)));
    screens.push(drawn(&mut app));
    assert!(
        screens[1].contains("connecting to ws://ops:***@127.0.0.1:9/"),
        "{}",
        screens[1]
    );
    let why = format!(
        "connection refused: nothing listens at ws://ops:{URL_PASSWORD}@127.0.0.1:9/ \
         (login ops:{PASSWORD})"
    );
    app.update(Event::Net(NetEvent::State(ConnState::Failed(
        NetError::new(NetErrorKind::Refused, why),
    ))));
    app.update(Event::Net(NetEvent::Ended));
    screens.push(drawn(&mut app));
    assert!(
        screens[2].contains("nothing listens at ws://ops:***@"),
        "{}",
        screens[2]
    );
    for s in &screens {
        assert_no_secret("the screen", s);
    }
}

#[test]
fn a_recording_made_with_no_redact_replays_with_its_credentials_masked() {
    use wsdeck::app::{App, Event};
    let mut h = wsdeck::model::HandshakeInfo {
        conn: 1,
        url: format!("ws://ops:{URL_PASSWORD}@127.0.0.1:9/"),
        ..Default::default()
    };
    h.request.start_line = "GET / HTTP/1.1".into();
    h.request
        .headers
        .push(("Authorization".into(), format!("Bearer {TOKEN}")));
    h.request.headers.push(("Cookie".into(), COOKIE.into()));
    let rec = wsdeck::record::Recording {
        handshake: Some(h),
        ..Default::default()
    };
    let mut app = App::replay(rec, "clear.jsonl");
    app.update(Event::Key(KeyCode::Char('h').into()));
    let s = drawn(&mut app);
    assert!(s.contains("Authorization: ***"), "{s}");
    assert_no_secret("the replay's handshake panel", &s);
}
