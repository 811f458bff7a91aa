//! Issue 14 item 7, the small ones, each as a user meets it: counts in the singular, one RTT
//! format, `--no-redact`'s help telling the truth, `replay` naming a missing file first,
//! `pipe --insecure` warning, and a bad slash command not glued onto the next one.

use std::process::{Command, Output, Stdio};

mod common;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Event, View};
use wsdeck::model::{ConnState, Direction, FrameRecord, NetEvent, Opcode};
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn wsdeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args(args)
        .env_remove("WSDECK_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run wsdeck")
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_line(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
    press(app, KeyCode::Enter);
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    app.update(Event::Drawn(fb.unwrap()));
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn frame(seq: u64, dir: Direction, text: &str) -> FrameRecord {
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(seq),
        dir,
        opcode: Opcode::Text,
        len: text.len(),
        payload: Bytes::from(text.to_string()),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

/// Connected (no login step) with one frame each way and a 0.2 ms round trip.
fn connected() -> App {
    let mut spec = ConnectSpec::new("ws://127.0.0.1:40123/");
    spec.auth = AuthMethod::None;
    let (mut app, _) = App::new(AppInit::new(spec));
    app.set_utc_offset(0);
    press(&mut app, KeyCode::Enter);
    for s in [ConnState::Connecting, ConnState::LoggedIn] {
        app.update(Event::Net(NetEvent::State(s)));
    }
    app.update(Event::Net(NetEvent::Frame(frame(
        1,
        Direction::ClientToServer,
        "hi",
    ))));
    app.update(Event::Net(NetEvent::Frame(frame(
        2,
        Direction::ServerToClient,
        "hello",
    ))));
    app.update(Event::Net(NetEvent::Rtt(Duration::from_micros(200))));
    app.update(Event::Tick(SystemTime::now()));
    app
}

#[test]
fn one_frame_is_one_frame_and_the_rtt_reads_the_same_everywhere() {
    let mut app = connected();
    press(&mut app, KeyCode::F(3));
    assert_eq!(app.view(), View::Monitor);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("↑ 1 frame 2 B"), "{s}");
    assert!(s.contains("↓ 1 frame 5 B"), "{s}");
    assert!(!s.contains("1 frames"), "{s}");
    // The stats strip and the status bar say the same round trip.
    assert_eq!(s.matches("0.2 ms").count(), 2, "{s}");
    assert!(!s.contains("rtt 0 ms"), "{s}");
}

#[test]
fn no_redact_help_says_the_screen_always_hides_secrets() {
    for cmd in ["connect", "pipe", "proxy"] {
        let o = wsdeck(&[cmd, "--help"]);
        let help = String::from_utf8_lossy(&o.stdout);
        let at = help.find("--no-redact").expect("--no-redact in help");
        let text: String = help[at..].chars().take(300).collect();
        assert!(
            text.contains("the screen always shows ***"),
            "{cmd}: {text}"
        );
        assert!(!text.contains("Show passwords"), "{cmd}: {text}");
    }
}

#[test]
fn replay_of_a_missing_file_says_so_before_asking_for_a_terminal() {
    let o = wsdeck(&["replay", "nope.jsonl"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("nope.jsonl") && err.contains("No such file"),
        "{err}"
    );
    assert!(!err.contains("terminal"), "{err}");
}

#[test]
fn pipe_insecure_warns_on_ws_and_wss_alike() {
    for url in ["ws://127.0.0.1:9/", "wss://127.0.0.1:9/"] {
        let o = wsdeck(&["pipe", url, "--insecure", "--auth", "none"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("wsdeck: warning: --insecure"), "{url}: {err}");
        assert!(err.contains("anyone on the way can read"), "{url}: {err}");
    }
}

#[test]
fn a_bad_slash_command_is_not_glued_onto_the_next_one() {
    let mut app = connected();
    press(&mut app, KeyCode::F(2));
    type_line(&mut app, "/foo");
    let n = app.notice().map(|n| n.text.clone()).unwrap_or_default();
    assert!(n.contains("unknown command /foo"), "{n}");
    // The refused line stays, selected (shown reversed): typing replaces it.
    assert_eq!(app.input().value(), "/foo");
    assert!(app.input().is_selected());
    type_line(&mut app, "/help");
    assert!(app.help_open(), "{:?}", app.notice().map(|n| &n.text));
    press(&mut app, KeyCode::Esc);
    // An editing key keeps it to fix: ← then typing inserts.
    type_line(&mut app, "/bar");
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.input().value(), "/baxr");
    assert!(!app.input().is_selected());
}

/// Issue 14 item 11: `p` (and `/ping`) answer where the user looks: "pong in 0.2 ms".
#[test]
fn a_ping_asked_for_says_its_round_trip() {
    let mut app = connected();
    press(&mut app, KeyCode::F(3));
    press(&mut app, KeyCode::Char('p'));
    app.update(Event::Net(NetEvent::Rtt(Duration::from_micros(230))));
    let n = app.notice().map(|n| n.text.clone()).unwrap_or_default();
    assert_eq!(n, "pong in 0.2 ms");
    // An automatic ping's pong says nothing.
    press(&mut app, KeyCode::Esc);
    app.update(Event::Net(NetEvent::Rtt(Duration::from_micros(300))));
    assert!(app.notice().is_none_or(|n| !n.text.starts_with("pong")));
}

/// Issue 14 item 11: `--log` has the client's lifecycle at info — connecting, the handshake,
/// the login, the close — and never a payload or the password.
#[test]
fn the_log_tells_the_clients_lifecycle_without_payloads_or_secrets() {
    let server = common::serve::spawn_serve("admin", "pw-Lg7q2", &["--tick", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("wsdeck.log");
    let out = Command::new(env!("CARGO_BIN_EXE_wsdeck"))
        .args([
            "--log",
            log.to_str().unwrap(),
            "pipe",
            &server.url(),
            "--user",
            "admin",
        ])
        .args(["--ping-interval", "0"])
        .env("WSDECK_PASSWORD", "pw-Lg7q2")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"secret payload text\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    for want in [
        "connecting",
        "handshake",
        "101",
        "login accepted",
        "logged in",
        "closed",
    ] {
        assert!(text.contains(want), "{want} missing from the log:\n{text}");
    }
    assert!(!text.contains("pw-Lg7q2"), "{text}");
    assert!(!text.contains("secret payload text"), "{text}");
}
