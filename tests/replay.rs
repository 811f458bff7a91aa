//! Issue 14 item 4: `wsdeck replay` shows what the recording holds — each connection's close
//! labelled by who sent it, a login pane that shows the recording and takes no typing, an
//! empty recording said to be empty — and opens HAR files (wsdeck's own and Chrome's).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, Event, Focus};
use wsdeck::model::{CloseInfo, Direction, FrameRecord, HandshakeInfo, HttpHead, Opcode};
use wsdeck::record::Recording;

const URL: &str = "ws://127.0.0.1:40123/";

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
}

fn frame(seq: u64, conn: u64, dir: Direction, op: Opcode, payload: &str) -> FrameRecord {
    FrameRecord {
        conn,
        origin: Default::default(),
        seq,
        at: at(seq * 100),
        dir,
        opcode: op,
        len: payload.len(),
        payload: Bytes::from(payload.to_string()),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

fn close(seq: u64, conn: u64, dir: Direction, code: u16, reason: &str) -> FrameRecord {
    FrameRecord {
        close: Some(CloseInfo {
            code,
            reason: reason.into(),
        }),
        ..frame(seq, conn, dir, Opcode::Close, reason)
    }
}

fn handshake(conn: u64) -> HandshakeInfo {
    HandshakeInfo {
        conn,
        url: URL.into(),
        request: HttpHead {
            start_line: "GET / HTTP/1.1".into(),
            headers: vec![("Host".into(), "127.0.0.1:40123".into())],
        },
        response: HttpHead {
            start_line: "HTTP/1.1 101 Switching Protocols".into(),
            headers: vec![("Upgrade".into(), "websocket".into())],
        },
        ..Default::default()
    }
}

/// `/close 4001`, a re-login and a quit, as recorded.
fn two_connections() -> Recording {
    use Direction::{ClientToServer as Out, ServerToClient as In};
    let login = |seq, conn| FrameRecord {
        redacted: true,
        ..frame(seq, conn, Out, Opcode::Text, "admin:***")
    };
    Recording {
        handshake: Some(handshake(1)),
        frames: vec![
            login(1, 1),
            frame(2, 1, In, Opcode::Text, "congratulation"),
            close(3, 1, Out, 4001, "testing"),
            close(4, 1, In, 4001, "testing"),
            login(5, 2),
            frame(6, 2, In, Opcode::Text, "congratulation"),
            close(7, 2, Out, 1000, "bye"),
            close(8, 2, In, 1000, "bye"),
        ],
        reconnects: vec![(4, handshake(2))],
        truncated_lines: 0,
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
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

#[test]
fn each_recorded_connections_close_is_labelled_by_who_sent_it() {
    let mut app = App::replay(two_connections(), "s.jsonl");
    app.set_utc_offset(0);
    press(&mut app, KeyCode::F(2));
    let s = screen(&mut app, 150, 40);
    assert_eq!(
        s.matches("you closed the connection: 4001").count(),
        1,
        "{s}"
    );
    assert_eq!(
        s.matches("you closed the connection: 1000").count(),
        1,
        "{s}"
    );
    // The server's answers only confirm: one note per close.
    assert!(!s.contains("confirmed the close"), "{s}");
}

#[test]
fn the_login_pane_shows_the_recording_and_takes_no_typing() {
    let mut app = App::replay(two_connections(), "s.jsonl");
    app.set_utc_offset(0);
    press(&mut app, KeyCode::F(2));
    let url_before = app.login().url().to_string();
    for k in [
        KeyCode::Char('x'),
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Up,
    ] {
        press(&mut app, k);
        assert_eq!(app.focus(), Focus::Input, "{k:?} moved to a login field");
    }
    assert_eq!(app.login().url(), url_before);
    let s = screen(&mut app, 150, 40);
    assert!(s.contains(" Recording "), "{s}");
    assert!(s.contains("s.jsonl"), "{s}");
    assert!(s.contains(URL), "{s}");
    assert!(s.contains("Connections"), "{s}");
    assert!(s.contains("8 (↑ 4 sent, ↓ 4"), "{s}");
    assert!(s.contains("#1 admin:***"), "{s}");
    assert!(s.contains("read-only"), "{s}");
    // Nothing of a live login: no auth choice, no password field, no "Enter connects".
    assert!(!s.contains("Auth"), "{s}");
    assert!(!s.contains("Password"), "{s}");
}

#[test]
fn an_empty_recording_says_it_is_empty() {
    let mut app = App::replay(Recording::default(), "empty.jsonl");
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("This recording holds no frames"), "{s}");
    assert!(!s.contains("No frames yet"), "{s}");
    press(&mut app, KeyCode::F(2));
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("none: the recording holds no"), "{s}");
}

#[test]
fn a_har_wsdeck_wrote_replays_with_the_same_frames() {
    let rec = two_connections();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.har");
    let handshakes = [handshake(1), handshake(2)];
    wsdeck::record::har::write_har_conns(&path, handshakes.iter(), &rec.frames, Default::default())
        .unwrap();
    // By its name, and by its content under another name.
    let other = dir.path().join("export.json");
    std::fs::copy(&path, &other).unwrap();
    for p in [&path, &other] {
        let back = wsdeck::record::read_any(p).unwrap_or_else(|e| panic!("{e:#}"));
        let got: Vec<_> = back
            .frames
            .iter()
            .map(|f| {
                (
                    f.seq,
                    f.conn,
                    f.dir,
                    f.opcode,
                    f.payload.clone(),
                    f.close.clone(),
                )
            })
            .collect();
        let want: Vec<_> = rec
            .frames
            .iter()
            .map(|f| {
                (
                    f.seq,
                    f.conn,
                    f.dir,
                    f.opcode,
                    f.payload.clone(),
                    f.close.clone(),
                )
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(back.handshake.as_ref().unwrap().url, URL);
        assert_eq!(back.reconnects.len(), 1);
        assert_eq!(back.reconnects[0].0, 4);
        let mut app = App::replay(back, "s.har");
        press(&mut app, KeyCode::F(2));
        let s = screen(&mut app, 150, 40);
        assert!(s.contains("you closed the connection: 4001"), "{s}");
    }
}

#[test]
fn a_json_lines_file_is_not_taken_for_a_har_and_a_broken_har_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.har");
    std::fs::write(&bad, "{\"log\": {\"entries\": []}}").unwrap();
    let e = format!("{:#}", wsdeck::record::read_any(&bad).unwrap_err());
    assert!(e.contains("no WebSocket entries"), "{e}");
    let jsonl = dir.path().join("x.jsonl");
    let mut r = wsdeck::record::Recorder::create(&jsonl).unwrap();
    r.write_handshake(&handshake(1)).unwrap();
    r.write(&frame(1, 1, Direction::ServerToClient, Opcode::Text, "hi"))
        .unwrap();
    drop(r);
    assert_eq!(wsdeck::record::read_any(&jsonl).unwrap().frames.len(), 1);
}
