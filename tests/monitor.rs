//! The session monitor (F3) driven by key events and synthetic network events into ratatui's
//! `TestBackend`: table, detail pane (JSON, hex, close), handshake panel, filter, pause,
//! dropped marker, stats, keys that ask the runtime for something, replay, redaction, and the
//! O(visible rows) draw.
//!
//! Snapshots are in tests/snapshots/; review changes by eye (`INSTA_UPDATE=always` rewrites).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use wsdeck::app::{App, AppInit, Command, Event, NoteLevel, View};
use wsdeck::model::{
    CertInfo, CloseInfo, ConnState, Direction, FrameRecord, HandshakeInfo, HttpHead, LoginOutcome,
    NetCommand, NetEvent, Opcode, Secret, TlsInfo,
};
use wsdeck::spec::ConnectSpec;

const URL: &str = "ws://127.0.0.1:40123";
const PASSWORD: &str = "pw-Zq81x";
const SEED_OK: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";
const JSON: &str =
    r#"{"type":"tick","n":3,"ok":true,"tags":["a","b"],"data":{"load":0.25,"note":null}}"#;

// ---------- helpers ----------

fn spec(user: &str, password: &str) -> ConnectSpec {
    let mut s = ConnectSpec::new(URL);
    s.user = user.into();
    s.password = Secret::new(password);
    s
}

fn new_app(spec: ConnectSpec) -> App {
    let (mut app, _) = App::new(AppInit::new(spec));
    app.set_utc_offset(0);
    app
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(key(code))
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

fn net(app: &mut App, ev: NetEvent) {
    assert!(app.update(Event::Net(ev)).is_empty());
}

/// 2023-11-14 22:13:20 UTC plus `ms` milliseconds.
fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
}

fn frame(seq: u64, ms: u64, dir: Direction, op: Opcode, payload: impl Into<Bytes>) -> FrameRecord {
    let payload = payload.into();
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: at(ms),
        dir,
        opcode: op,
        len: payload.len(),
        payload,
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

fn text(seq: u64, ms: u64, dir: Direction, s: &str) -> FrameRecord {
    frame(seq, ms, dir, Opcode::Text, s.to_string())
}

fn close(seq: u64, ms: u64, dir: Direction, code: u16, reason: &str) -> FrameRecord {
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        close: Some(CloseInfo {
            code,
            reason: reason.into(),
        }),
        ..frame(seq, ms, dir, Opcode::Close, reason.to_string())
    }
}

fn binary() -> Vec<u8> {
    let mut b = vec![0x00, 0x01, 0xff, 0x7f];
    b.extend_from_slice(b"GIF89a");
    b.extend((0u8..30).map(|i| i.wrapping_mul(37)));
    b
}

fn head(start: &str, headers: &[(&str, &str)]) -> HttpHead {
    HttpHead {
        start_line: start.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn handshake(ms: u64) -> HandshakeInfo {
    HandshakeInfo {
        conn: 1,
        leg: Default::default(),
        url: format!("{URL}/"),
        request: head(
            "GET / HTTP/1.1",
            &[
                ("Host", "127.0.0.1:40123"),
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Protocol", "chat"),
                (
                    "Sec-WebSocket-Extensions",
                    "permessage-deflate; client_max_window_bits",
                ),
                ("Cookie", "session=abc123"),
            ],
        ),
        response: head(
            "HTTP/1.1 101 Switching Protocols",
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ("Sec-WebSocket-Protocol", "chat"),
            ],
        ),
        started: Some(at(ms)),
        finished: Some(at(ms) + Duration::from_micros(1500)),
        ..Default::default()
    }
}

/// Logged in to the demo server after the seed's login; a mix of frames both ways.
/// Frames 1..=10; the connection stays open.
fn session() -> App {
    let mut app = new_app(spec("admin", PASSWORD));
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]));
    net(&mut app, NetEvent::State(ConnState::Connecting));
    net(&mut app, NetEvent::State(ConnState::Handshaking));
    net(&mut app, NetEvent::Handshake(Box::new(handshake(0))));
    net(&mut app, NetEvent::State(ConnState::LoggingIn));
    let login = FrameRecord {
        redacted: true,
        len: "admin:".len() + PASSWORD.len(),
        ..text(1, 2, Direction::ClientToServer, "admin:***")
    };
    for f in mixed_frames(login) {
        net(&mut app, NetEvent::Frame(f.clone()));
        if f.seq == 2 {
            net(
                &mut app,
                NetEvent::Login(LoginOutcome::Accepted {
                    reply: SEED_OK.into(),
                }),
            );
            net(&mut app, NetEvent::State(ConnState::LoggedIn));
        }
        if f.seq == 9 {
            net(&mut app, NetEvent::Rtt(Duration::from_millis(12)));
        }
    }
    app
}

fn mixed_frames(login: FrameRecord) -> Vec<FrameRecord> {
    use Direction::{ClientToServer as Out, ServerToClient as In};
    vec![
        login,
        text(2, 5, In, SEED_OK),
        text(3, 1200, Out, "hello there"),
        text(4, 1201, In, "your submit context: hello there"),
        text(5, 2000, In, JSON),
        frame(6, 2500, In, Opcode::Binary, binary()),
        frame(7, 3000, Out, Opcode::Ping, "wsdeck-1"),
        frame(8, 3012, In, Opcode::Pong, "wsdeck-1"),
        text(9, 4000, In, "\u{1b}[2Jcleared? \u{202e}desrever"),
        text(10, 4100, In, "server push #1"),
    ]
}

/// `session()` plus a clean close both ways.
fn closed_session() -> App {
    let mut app = session();
    net(
        &mut app,
        NetEvent::Frame(close(
            11,
            5000,
            Direction::ServerToClient,
            1000,
            "bye for now",
        )),
    );
    net(
        &mut app,
        NetEvent::Frame(close(
            12,
            5001,
            Direction::ClientToServer,
            1000,
            "bye for now",
        )),
    );
    net(
        &mut app,
        NetEvent::State(ConnState::Closed {
            code: Some(1000),
            reason: "bye for now".into(),
        }),
    );
    net(&mut app, NetEvent::Ended);
    app
}

fn monitor(app: &mut App) {
    press(app, KeyCode::F(3));
    assert_eq!(app.view(), View::Monitor);
}

/// Select the row `row` (0 = oldest shown).
fn select(app: &mut App, row: usize) {
    press(app, KeyCode::Home);
    for _ in 0..row {
        press(app, KeyCode::Char('j'));
    }
}

/// Draw `app` on a `w`×`h` terminal and hand the draw's feedback back, as the runtime does.
fn render(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    redraw(&mut term, app);
    term
}

/// Draw again on `term`; the feedback goes back to `app`.
fn redraw(term: &mut Terminal<TestBackend>, app: &mut App) {
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    app.update(Event::Drawn(fb.unwrap()));
}

fn screen(term: &Terminal<TestBackend>) -> String {
    term.backend().to_string()
}

fn lines(term: &Terminal<TestBackend>) -> Vec<String> {
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Foreground colour of the first cell of `needle` on the screen, searching from the bottom
/// (the detail pane is below the table).
fn fg_of(term: &Terminal<TestBackend>, needle: &str) -> Color {
    let buf = term.backend().buffer();
    for (y, l) in lines(term).iter().enumerate().rev() {
        if let Some(byte) = l.find(needle) {
            let x = l[..byte].chars().count() as u16;
            return buf[(x, y as u16)].fg;
        }
    }
    panic!("{needle:?} not on screen:\n{}", screen(term));
}

// ---------- table ----------

#[test]
fn table_shows_every_frame_both_ways() {
    let mut app = closed_session();
    monitor(&mut app);
    let term = render(&mut app, 100, 32);
    let s = screen(&term);
    insta::assert_snapshot!("monitor_table_mixed", s);
    // Login frame redacted, control frames listed, the escape sequence defused.
    assert!(s.contains("admin:***"));
    assert!(s.contains("ping"));
    assert!(s.contains("pong"));
    assert!(s.contains("1000 Normal Closure · bye for now"));
    assert!(s.contains("␛[2Jcleared? \\u{202e}desrever"));
    assert!(s.contains("22:13:21.200"), "time with milliseconds");
    assert!(!s.contains('\u{1b}'));
}

#[test]
fn f2_f3_switch_views() {
    let mut app = session();
    assert_eq!(app.view(), View::Chat);
    press(&mut app, KeyCode::F(3));
    assert_eq!(app.view(), View::Monitor);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("Frames 10"), "{s}");
    assert!(s.contains("F2 chat"));
    press(&mut app, KeyCode::F(2));
    assert_eq!(app.view(), View::Chat);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("Messages"));
    // Alt-digits are the sessions' (issue 14 item 9), not the views'.
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('3'),
        KeyModifiers::ALT,
    )));
    assert_eq!(app.view(), View::Chat);
    press(&mut app, KeyCode::F(3));
    assert_eq!(app.view(), View::Monitor);
    press(&mut app, KeyCode::F(2));
    assert_eq!(app.view(), View::Chat);
    // Frames keep arriving into the monitor while the chat is shown.
    net(
        &mut app,
        NetEvent::Frame(text(11, 6000, Direction::ServerToClient, "while chatting")),
    );
    assert_eq!(app.frames().len(), 11);
}

#[test]
fn table_follows_newest_and_selection_stops_following() {
    let mut app = session();
    monitor(&mut app);
    // A short terminal: only a few rows fit.
    for i in 0..40 {
        net(
            &mut app,
            NetEvent::Frame(text(
                11 + i,
                5000 + i * 10,
                Direction::ServerToClient,
                &format!("push {i}"),
            )),
        );
    }
    let s = screen(&render(&mut app, 100, 24));
    assert!(s.contains("push 39"), "{s}");
    assert!(!s.contains("push 20"));
    // Up stops following: new frames do not move the selection.
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Up);
    assert_eq!(app.monitor().selected_abs(), Some(47));
    net(
        &mut app,
        NetEvent::Frame(text(51, 9000, Direction::ServerToClient, "push 40")),
    );
    assert_eq!(app.monitor().selected_abs(), Some(47));
    let s = screen(&render(&mut app, 100, 24));
    assert!(s.contains("End follows newest"), "{s}");
    assert!(s.contains("#48"), "detail shows the selected frame: {s}");
    // PgUp / Home / End.
    press(&mut app, KeyCode::PageUp);
    assert!(app.monitor().selected_abs().unwrap() < 47);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.monitor().selected_abs(), Some(0));
    let s = screen(&render(&mut app, 100, 24));
    assert!(s.contains("admin:***"), "top row visible: {s}");
    press(&mut app, KeyCode::End);
    assert!(app.monitor().following());
    let s = screen(&render(&mut app, 100, 24));
    assert!(s.contains("push 40"));
}

// ---------- detail pane ----------

#[test]
fn detail_pretty_prints_json_with_colour() {
    let mut app = session();
    monitor(&mut app);
    select(&mut app, 4);
    let term = render(&mut app, 100, 32);
    let s = screen(&term);
    insta::assert_snapshot!("monitor_detail_json", s);
    assert!(s.contains("· JSON"));
    assert!(s.contains("\"tags\": ["));
    assert!(s.contains("  \"data\": {"));
    assert!(s.contains("    \"load\": 0.25,"));
    // Keys, strings, numbers and literals are coloured differently.
    assert_eq!(fg_of(&term, "\"type\":"), Color::Cyan);
    assert_eq!(fg_of(&term, "\"tick\""), Color::Green);
    assert_eq!(fg_of(&term, "0.25"), Color::Magenta);
    assert_eq!(fg_of(&term, "null"), Color::Yellow);
    // x shows the same frame as hex.
    press(&mut app, KeyCode::Char('x'));
    let s = screen(&render(&mut app, 100, 32));
    assert!(s.contains("7b 22 74 79 70 65"), "{s}");
    assert!(s.contains("{\"type\":\"tick\",\""));
}

#[test]
fn detail_shows_binary_as_hex_dump() {
    let mut app = session();
    monitor(&mut app);
    select(&mut app, 5);
    let s = screen(&render(&mut app, 100, 32));
    insta::assert_snapshot!("monitor_detail_binary", s);
    assert!(s.contains(
        "00000000 │ 00 01 ff 7f 47 49 46 38  39 61 00 25 4a 6f 94 b9 │ ....GIF89a.%Jo.."
    ));
    assert!(s.contains("00000020 │"));
    assert!(s.contains("· hex"));
}

#[test]
fn detail_of_a_close_frame_has_code_name_and_reason() {
    let mut app = closed_session();
    monitor(&mut app);
    select(&mut app, 10);
    let s = screen(&render(&mut app, 100, 32));
    insta::assert_snapshot!("monitor_detail_close", s);
    assert!(s.contains("code    1000 Normal Closure"));
    assert!(s.contains("reason  bye for now"));
}

#[test]
fn detail_of_an_unusual_close_code() {
    let mut app = session();
    net(
        &mut app,
        NetEvent::Frame(close(11, 5000, Direction::ServerToClient, 4001, "")),
    );
    net(
        &mut app,
        NetEvent::Frame(FrameRecord {
            close: None,
            ..frame(12, 5001, Direction::ClientToServer, Opcode::Close, "")
        }),
    );
    monitor(&mut app);
    select(&mut app, 10);
    let s = screen(&render(&mut app, 100, 32));
    assert!(s.contains("code    4001 Private Use"), "{s}");
    assert!(s.contains("reason  (none)"));
    press(&mut app, KeyCode::Char('j'));
    let s = screen(&render(&mut app, 100, 32));
    assert!(s.contains("no status code"), "{s}");
}

#[test]
fn detail_of_multiline_text_and_huge_payloads_is_bounded() {
    let mut app = session();
    monitor(&mut app);
    select(&mut app, 1);
    let s = screen(&render(&mut app, 100, 32));
    // The seed's reply is two lines (\r\n).
    assert!(
        s.contains("│congratulation, you have connect with server "),
        "{s}"
    );
    assert!(s.contains("│now, you can do something else"));
    // 200 kB of text: a bounded preview that says how much is left out.
    let big = "lorem ipsum dolor sit amet ".repeat(8000);
    net(
        &mut app,
        NetEvent::Frame(text(11, 9000, Direction::ServerToClient, &big)),
    );
    press(&mut app, KeyCode::End);
    let s = screen(&render(&mut app, 100, 32));
    assert!(s.contains("216,000 B"), "{s}");
    assert!(s.contains("lines 1–"), "scroll position shown: {s}");
    for _ in 0..200 {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::PageDown,
            KeyModifiers::SHIFT,
        )));
    }
    // The whole message scrolls: the end of it is reached, its last line shown.
    let s = screen(&render(&mut app, 100, 32));
    let (_, last, total) = detail_lines(&s);
    assert_eq!(last, total, "{s}");
    assert!(
        total > 2_000,
        "216 kB at 98 columns is over 2,000 rows: {total}"
    );
    assert!(s.contains("sit amet"), "{s}");
    // K scrolls back up.
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('K'));
    }
    let s = screen(&render(&mut app, 100, 32));
    let (_, last, _) = detail_lines(&s);
    assert!(last < total, "{s}");
}

/// The detail pane's "lines FIRST–LAST of TOTAL".
fn detail_lines(screen: &str) -> (usize, usize, usize) {
    let re = regex::Regex::new(r"lines ([\d,]+)–([\d,]+) of ([\d,]+)").unwrap();
    let c = re
        .captures(screen)
        .unwrap_or_else(|| panic!("no line counter in {screen}"));
    let n = |i: usize| c[i].replace(',', "").parse::<usize>().unwrap();
    (n(1), n(2), n(3))
}

#[test]
fn handshake_panel_shows_request_and_response() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char('h'));
    let s = screen(&render(&mut app, 100, 40));
    insta::assert_snapshot!("monitor_handshake", s);
    assert!(s.contains("GET / HTTP/1.1"));
    assert!(s.contains("HTTP/1.1 101 Switching Protocols"));
    assert!(s.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert!(s.contains("subprotocol chat"));
    assert!(s.contains("extensions  none"));
    assert!(s.contains("took        1.5 ms"));
    // Credentials are never on screen.
    assert!(s.contains("Cookie: ***"));
    assert!(!s.contains("abc123"));
    // Esc closes it.
    press(&mut app, KeyCode::Esc);
    assert!(!app.monitor().handshake_panel());
}

#[test]
fn handshake_panel_shows_the_proxy_tls_session_and_certificate_chain() {
    let mut app = new_app(spec("admin", PASSWORD));
    press(&mut app, KeyCode::Enter);
    net(&mut app, NetEvent::State(ConnState::Connecting));
    let mut h = handshake(0);
    h.url = "wss://chat.example/".into();
    h.proxy = Some("http://alice:***@127.0.0.1:8888".into());
    h.tls = Some(Box::new(TlsInfo {
        version: "TLS 1.3".into(),
        cipher: "TLS13_AES_256_GCM_SHA384".into(),
        alpn: Some("http/1.1".into()),
        unverified: false,
        chain: vec![CertInfo {
            subject: "CN=chat.example".into(),
            issuer: "CN=Example CA".into(),
            names: vec!["chat.example".into(), "*.chat.example".into()],
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            sha256: "AB:CD:EF".into(),
        }],
    }));
    net(&mut app, NetEvent::Handshake(Box::new(h)));
    monitor(&mut app);
    press(&mut app, KeyCode::Char('h'));
    let s = screen(&render(&mut app, 100, 48));
    assert!(
        s.contains("proxy       http://alice:***@127.0.0.1:8888"),
        "{s}"
    );
    assert!(
        s.contains("tls         TLS 1.3 TLS13_AES_256_GCM_SHA384 (ALPN http/1.1)"),
        "{s}"
    );
    assert!(s.contains("Server certificate"), "{s}");
    assert!(s.contains("subject     CN=chat.example"), "{s}");
    assert!(s.contains("issuer      CN=Example CA"), "{s}");
    assert!(
        s.contains("names       chat.example, *.chat.example"),
        "{s}"
    );
    assert!(
        s.contains("valid       2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z"),
        "{s}"
    );
    assert!(s.contains("sha256      AB:CD:EF"), "{s}");
}

#[test]
fn handshake_panel_before_any_connection() {
    let mut app = new_app(spec("admin", PASSWORD));
    monitor(&mut app);
    press(&mut app, KeyCode::Char('h'));
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("No handshake yet"), "{s}");
    assert!(s.contains("No frames yet"));
}

// ---------- filter ----------

#[test]
fn filter_narrows_rows_and_counts_matches() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "dir:in op:text hello");
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("/ dir:in op:text hello"), "{s}");
    assert!(s.contains("filters as you type"));
    press(&mut app, KeyCode::Enter);
    let s = screen(&render(&mut app, 100, 30));
    insta::assert_snapshot!("monitor_filtered", s);
    assert!(s.contains("filter dir:in op:text hello · 1 match"), "{s}");
    assert!(s.contains("your submit context: hello there"));
    assert!(
        !s.contains("│22:13:21.200"),
        "the sent hello is filtered out"
    );
    // New frames are matched as they arrive.
    net(
        &mut app,
        NetEvent::Frame(text(11, 9000, Direction::ServerToClient, "HELLO again")),
    );
    net(
        &mut app,
        NetEvent::Frame(text(12, 9001, Direction::ClientToServer, "hello from me")),
    );
    assert_eq!(app.monitor().match_count(), Some(2));
    assert_eq!(app.monitor().row_count(), 2);
    // / reopens with the filter to edit; Esc clears it.
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(
        app.monitor().filter_edit().unwrap().input.value(),
        "dir:in op:text hello"
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.monitor().filter().is_none());
    assert_eq!(app.monitor().row_count(), 12);
}

#[test]
fn filter_searches_the_whole_payload_not_a_prefix() {
    let mut app = session();
    monitor(&mut app);
    let long = format!("{}NEEDLE at the end", "x".repeat(100_000));
    net(
        &mut app,
        NetEvent::Frame(text(11, 9000, Direction::ServerToClient, &long)),
    );
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "needle");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.monitor().match_count(), Some(1));
    assert_eq!(app.monitor().row_abs(0), Some(10));
    // Regex, close reasons, binary bytes.
    for (f, n) in [
        ("re:\"^your .* there$\"", 1),
        ("re:^your\\s.*there$", 1),
        ("/wsdeck-\\d/", 2),
        ("op:ping,pong", 2),
        ("GIF89a", 1),
        ("dir:out", 3),
        ("op:close", 0),
    ] {
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Char('/'));
        chars(&mut app, f);
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.monitor().match_count(), Some(n), "{f}");
    }
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("No frame matches the filter"), "{s}");
}

#[test]
fn invalid_regex_shows_why_and_keeps_the_typed_filter() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "dir:in re:err(or");
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(cmds.is_empty());
    let edit = app.monitor().filter_edit().expect("still editing");
    assert_eq!(edit.input.value(), "dir:in re:err(or");
    let s = screen(&render(&mut app, 100, 30));
    insta::assert_snapshot!("monitor_filter_invalid", s);
    assert!(
        s.contains("invalid regex \"err(or\": unclosed group"),
        "{s}"
    );
    // While it does not parse, the last text that did filters (as typed, live).
    assert_eq!(
        app.monitor().filter().map(|f| f.source()),
        Some("dir:in re:err")
    );
    // Fix it: close the group.
    chars(&mut app, ")");
    assert!(app.monitor().filter_edit().unwrap().error.is_none());
    press(&mut app, KeyCode::Enter);
    assert!(app.monitor().filter_edit().is_none());
    assert_eq!(app.monitor().match_count(), Some(0));
}

/// At 120 columns the filter's error is read whole: it takes the room its hint would not.
#[test]
fn a_filter_error_is_not_cut_at_120_columns() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "/unterminated");
    let err = app
        .monitor()
        .filter_edit()
        .unwrap()
        .error
        .clone()
        .expect("an error");
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains(&err), "{err}\n{s}");
    // The hint, shorter than half the line, is whole too.
    chars(&mut app, "/");
    let s = screen(&render(&mut app, 120, 30));
    assert!(
        s.contains("filters as you type · Enter done · Esc clears · F1 syntax"),
        "{s}"
    );
}

/// Issue 14 item 3: a `/…/` regex with a space is one term; an unterminated one is an error
/// on screen; the filter applies as it is typed (no Enter); F1 from the filter line opens the
/// help at the filter's syntax.
#[test]
fn a_regex_with_a_space_filters_live_and_f1_opens_the_filter_syntax() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "/server push #");
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("unterminated regex /server push #"), "{s}");
    chars(&mut app, "[0-9]/");
    assert!(app.monitor().filter_edit().unwrap().error.is_none());
    // Live: no Enter pressed.
    assert_eq!(app.monitor().match_count(), Some(1));
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("server push #1"), "{s}");
    assert!(!s.contains("hello there"), "{s}");
    // re: with a space, then a keyword.
    for _ in 0.."/server push #[0-9]/".len() {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "re:push #[0-9] dir:in");
    assert_eq!(app.monitor().match_count(), Some(1));
    chars(&mut app, " dir:out");
    assert_eq!(app.monitor().match_count(), Some(1), "dir:in or dir:out");
    // F1: the help opens at the filter section.
    press(&mut app, KeyCode::F(1));
    assert!(app.help_open());
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("Monitor filter (/)"), "{s}");
    assert!(s.contains("/PATTERN/"), "{s}");
    assert!(!s.contains("Anywhere"), "the help's top is not shown: {s}");
    // From the chat, F1 opens at the top.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::F(1));
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("Anywhere"), "{s}");
}

// ---------- pause, dropped frames ----------

#[test]
fn pause_keeps_storing_and_counts_new_frames() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::Char(' '));
    for i in 0..5 {
        net(
            &mut app,
            NetEvent::Frame(text(
                11 + i,
                6000 + i,
                Direction::ServerToClient,
                &format!("late {i}"),
            )),
        );
    }
    let s = screen(&render(&mut app, 100, 30));
    insta::assert_snapshot!("monitor_paused", s);
    assert!(s.contains("paused — 5 new"), "{s}");
    assert!(!s.contains("late 0"));
    assert_eq!(app.frames().len(), 15, "frames are still stored");
    press(&mut app, KeyCode::Char(' '));
    let s = screen(&render(&mut app, 100, 30));
    assert!(!s.contains("paused"));
    assert!(s.contains("late 4"));
}

#[test]
fn dropped_frames_leave_a_marker() {
    let mut app = session();
    app.set_frame_limits(6, usize::MAX);
    monitor(&mut app);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("4 older frames not kept"), "{s}");
    assert!(!s.contains("admin:***"));
    for i in 0..3 {
        net(
            &mut app,
            NetEvent::Frame(text(11 + i, 6000, Direction::ServerToClient, "more")),
        );
    }
    let s = screen(&render(&mut app, 100, 30));
    insta::assert_snapshot!("monitor_dropped", s);
    assert!(s.contains("7 older frames not kept"), "{s}");
    assert_eq!(app.frames().len(), 6);
    // A byte limit drops too.
    app.set_frame_limits(1000, 40);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("older frames not kept"));
    assert!(app.frames().payload_bytes() <= 40);
}

// ---------- stats ----------

#[test]
fn stats_strip_counts_rates_connection_and_rtt() {
    let mut app = session();
    monitor(&mut app);
    // 3 more received frames of 100 B in the second after 4.1 s.
    for i in 0..3 {
        net(
            &mut app,
            NetEvent::Frame(text(
                11 + i,
                5000 + i * 100,
                Direction::ServerToClient,
                &"y".repeat(100),
            )),
        );
    }
    app.update(Event::Tick(at(6_000)));
    let s = screen(&render(&mut app, 120, 30));
    insta::assert_snapshot!("monitor_stats", s);
    // Sent: login, hello, ping. Received: 7 + 3.
    assert!(s.contains("↑ 3 frames"), "{s}");
    assert!(s.contains("↓ 10 frames"), "{s}");
    assert!(s.contains("1 s 3.0 msg/s 300 B/s"), "{s}");
    assert!(s.contains("connected 00:00:05"), "{s}");
    assert!(s.contains("reconnects 0"));
    assert!(s.contains("rtt 12 ms"));
    // A reconnect.
    net(
        &mut app,
        NetEvent::State(ConnState::Closed {
            code: Some(1006),
            reason: String::new(),
        }),
    );
    net(&mut app, NetEvent::Ended);
    app.update(Event::Tick(at(60_000)));
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("was connected 00:00:05"), "{s}");
    net(&mut app, NetEvent::State(ConnState::Connecting));
    net(&mut app, NetEvent::Handshake(Box::new(handshake(61_000))));
    app.update(Event::Tick(at(71_000)));
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("reconnects 1"), "{s}");
    assert!(s.contains("connected 00:00:09"), "{s}");
    // Idle for long: rates drop to zero.
    assert!(s.contains("1 s 0 msg/s 0 B/s"), "{s}");
}

// ---------- keys that ask the runtime ----------

#[test]
fn p_sends_a_ping_when_connected() {
    let mut app = session();
    monitor(&mut app);
    let cmds = press(&mut app, KeyCode::Char('p'));
    match &cmds[..] {
        [Command::Net(NetCommand::Ping(p))] => assert_eq!(p, b"wsdeck-1"),
        other => panic!("{other:?}"),
    }
    let cmds = press(&mut app, KeyCode::Char('p'));
    assert!(matches!(&cmds[..], [Command::Net(NetCommand::Ping(p))] if p == b"wsdeck-2"));
    let mut app = closed_session();
    monitor(&mut app);
    assert!(press(&mut app, KeyCode::Char('p')).is_empty());
    assert!(app.notice().unwrap().text.contains("not connected"));
}

#[test]
fn r_toggles_recording_and_e_exports_har() {
    let mut app = session();
    monitor(&mut app);
    // Ctrl-R (reveal password in the chat view) is not `r`.
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )));
    assert!(cmds.is_empty());
    let cmds = press(&mut app, KeyCode::Char('r'));
    let path = match &cmds[..] {
        [Command::Record(Some(p))] => p.clone(),
        other => panic!("{other:?}"),
    };
    // Named from the latest frame time (22:13:24.100 UTC).
    assert_eq!(path, PathBuf::from("wsdeck-20231114-221324.jsonl"));
    assert_eq!(app.recording(), Some(&path));
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("● REC"), "{s}");
    let cmds = press(&mut app, KeyCode::Char('r'));
    assert!(matches!(&cmds[..], [Command::Record(None)]));
    assert_eq!(app.recording(), None);
    // The runtime reports what really happened.
    app.update(Event::Recording(Some(PathBuf::from("from-cli.jsonl"))));
    assert!(screen(&render(&mut app, 100, 30)).contains("● REC"));
    app.update(Event::Recording(None));
    assert!(!screen(&render(&mut app, 100, 30)).contains("● REC"));

    let cmds = press(&mut app, KeyCode::Char('e'));
    match &cmds[..] {
        [Command::ExportHar(p)] => assert_eq!(p, &PathBuf::from("wsdeck-20231114-221324.har")),
        other => panic!("{other:?}"),
    }
    // A second export in the same second does not overwrite the first.
    let cmds = press(&mut app, KeyCode::Char('e'));
    assert!(
        matches!(&cmds[..], [Command::ExportHar(p)] if p == &PathBuf::from("wsdeck-20231114-221324-2.har"))
    );
    app.update(Event::Notice(NoteLevel::Good, "HAR written: x.har".into()));
    assert!(screen(&render(&mut app, 100, 30)).contains("HAR written: x.har"));
    // What the runtime exports: the kept frames and the handshake.
    assert_eq!(app.frames().len(), 10);
    assert_eq!(
        app.handshake().unwrap().response.start_line,
        "HTTP/1.1 101 Switching Protocols"
    );
    let har = wsdeck::record::har::to_har_with(
        app.handshake().unwrap(),
        app.frames().iter(),
        Default::default(),
    );
    assert_eq!(
        har["log"]["entries"][0]["_webSocketMessages"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[test]
fn help_lists_the_monitor_keys() {
    let mut app = session();
    monitor(&mut app);
    press(&mut app, KeyCode::F(1));
    let mut all = String::new();
    for _ in 0..8 {
        all.push_str(&screen(&render(&mut app, 100, 60)));
        press(&mut app, KeyCode::PageDown);
    }
    for k in [
        "F3",
        "Space",
        "/PATTERN/",
        "re:PATTERN",
        "dir:in, dir:out",
        "export frames to",
    ] {
        assert!(all.contains(k), "{k} missing from help");
    }
}

// ---------- replay ----------

#[test]
fn replay_shows_the_same_frame_list_as_the_live_session() {
    let mut live = closed_session();
    monitor(&mut live);
    // Record what the network task reported, as --record does, and read it back.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.jsonl");
    {
        let mut rec = wsdeck::record::Recorder::create(&file).unwrap();
        rec.write_handshake(live.handshake().unwrap()).unwrap();
        for f in live.frames().iter() {
            rec.write(&f).unwrap();
        }
    }
    let recording = wsdeck::record::jsonl::read(&file).unwrap();
    let mut replay = App::replay(recording, "session.jsonl");
    replay.set_utc_offset(0);
    assert_eq!(replay.view(), View::Monitor);
    let a: Vec<FrameRecord> = live.frames().iter().map(|v| v.to_record()).collect();
    let b: Vec<FrameRecord> = replay.frames().iter().map(|v| v.to_record()).collect();
    assert_eq!(a, b);
    // The table on screen is the same, row for row.
    let table = |app: &mut App| {
        let l = lines(&render(app, 100, 40));
        l[2..22].join("\n")
    };
    assert_eq!(table(&mut live), table(&mut replay));
    let s = screen(&render(&mut replay, 100, 40));
    insta::assert_snapshot!("monitor_replay", s);
    assert!(s.contains("replay: session.jsonl"), "{s}");
    // Same selection, detail, filter and stats.
    for app in [&mut live, &mut replay] {
        select(app, 4);
        press(app, KeyCode::Char('/'));
        chars(app, "dir:in tick");
        press(app, KeyCode::Enter);
    }
    assert_eq!(table(&mut live), table(&mut replay));
    assert_eq!(replay.monitor().match_count(), Some(1));
    assert_eq!(
        replay.monitor().stats().frames(),
        live.monitor().stats().frames()
    );
    // RTT from the recorded ping/pong.
    assert_eq!(replay.rtt(), Some(Duration::from_millis(12)));
    // Read-only: nothing to connect, send or ping.
    assert!(press(&mut replay, KeyCode::Char('p')).is_empty());
    assert!(press(&mut replay, KeyCode::Char('r')).is_empty());
    press(&mut replay, KeyCode::F(2));
    chars(&mut replay, "hi");
    assert!(press(&mut replay, KeyCode::Enter).is_empty());
    assert!(replay.notice().unwrap().text.contains("read-only"));
    // Chat history filled from the recording.
    let s = screen(&render(&mut replay, 100, 40));
    assert!(s.contains("your submit context: hello there"), "{s}");
    // Export still works (convert a recording to HAR).
    press(&mut replay, KeyCode::F(3));
    assert!(matches!(
        &press(&mut replay, KeyCode::Char('e'))[..],
        [Command::ExportHar(_)]
    ));
}

#[test]
fn replay_with_reconnects_and_limits() {
    let rec = wsdeck::record::Recording {
        handshake: Some(handshake(0)),
        frames: (1..=20)
            .map(|i| text(i, i * 100, Direction::ServerToClient, &format!("m{i}")))
            .collect(),
        reconnects: vec![(10, handshake(950))],
        truncated_lines: 0,
    };
    let mut app = App::replay_with_limits(rec, "r.jsonl", 5, usize::MAX);
    app.set_utc_offset(0);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("15 older frames not kept"), "{s}");
    assert!(s.contains("reconnects 1"), "{s}");
    assert_eq!(app.monitor().stats().frames(), (0, 20));
}

// ---------- redaction ----------

fn assert_no_password(term: &Terminal<TestBackend>, what: &str) {
    let s = screen(term);
    assert!(!s.contains(PASSWORD), "password on screen ({what}):\n{s}");
    // Also not in the hex dump's bytes.
    let hex: String = PASSWORD
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!s.contains(&hex), "password bytes on screen ({what})");
}

/// Every screen the monitor and chat can show for this app.
fn every_screen(app: &mut App) {
    press(app, KeyCode::F(2));
    assert_no_password(&render(app, 120, 40), "chat");
    press(app, KeyCode::F(3));
    let rows = app.monitor().row_count();
    for hex in [false, true] {
        for r in 0..rows {
            select(app, r);
            assert_no_password(&render(app, 120, 40), &format!("row {r} hex {hex}"));
        }
        press(app, KeyCode::Char('x'));
    }
    press(app, KeyCode::Char('h'));
    assert_no_password(&render(app, 120, 40), "handshake");
    press(app, KeyCode::Char('h'));
}

#[test]
fn password_never_appears_in_the_monitor() {
    // Typed into the login pane; the network task reports the login frame redacted.
    let mut app = new_app(spec("admin", ""));
    chars(&mut app, PASSWORD);
    press(&mut app, KeyCode::F(6)); // revealed while typing…
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]));
    net(&mut app, NetEvent::State(ConnState::Connecting));
    let mut h = handshake(0);
    h.request
        .headers
        .push(("Authorization".into(), "***".into()));
    net(&mut app, NetEvent::Handshake(Box::new(h)));
    net(&mut app, NetEvent::State(ConnState::LoggingIn));
    let login = FrameRecord {
        redacted: true,
        len: 6 + PASSWORD.len(),
        ..text(1, 2, Direction::ClientToServer, "admin:***")
    };
    for f in mixed_frames(login) {
        net(&mut app, NetEvent::Frame(f));
    }
    every_screen(&mut app);
    // A filter for the password finds nothing.
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, PASSWORD);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.monitor().match_count(), Some(0));
    for v in app.frames().iter() {
        assert!(!String::from_utf8_lossy(v.payload).contains(PASSWORD));
    }
}

#[test]
fn password_is_masked_even_when_the_frame_arrives_unredacted() {
    // --no-redact: the network task hands over the login frame as sent. The screen still
    // never shows it (only files keep it).
    let mut s = spec("admin", PASSWORD);
    s.no_redact = true;
    let mut app = new_app(s);
    press(&mut app, KeyCode::Enter);
    net(&mut app, NetEvent::State(ConnState::Connecting));
    let mut h = handshake(0);
    h.request
        .headers
        .push(("Authorization".into(), format!("Bearer {PASSWORD}")));
    h.url = format!("ws://admin:{PASSWORD}@127.0.0.1:40123/");
    net(&mut app, NetEvent::Handshake(Box::new(h)));
    net(&mut app, NetEvent::State(ConnState::LoggingIn));
    let login = text(
        1,
        2,
        Direction::ClientToServer,
        &format!("admin:{PASSWORD}"),
    );
    for f in mixed_frames(login) {
        net(&mut app, NetEvent::Frame(f));
    }
    every_screen(&mut app);
    let first = app.frames().get(0).unwrap();
    assert_eq!(first.payload, b"admin:***");
    assert!(first.redacted);
    assert_eq!(first.len, 6 + PASSWORD.len(), "wire length kept");
}

// ---------- cost ----------

#[test]
fn drawing_with_100k_frames_touches_only_visible_rows() {
    let mut app = session();
    monitor(&mut app);
    for i in 0..100_000u64 {
        let dir = if i % 3 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let body = if i % 10 == 0 {
            format!("{{\"event\":\"error\",\"i\":{i}}}")
        } else {
            format!("message {i}")
        };
        net(
            &mut app,
            NetEvent::Frame(text(11 + i, 5000 + i, dir, &body)),
        );
    }
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    // Rows formatted by one draw, as the draw reports them.
    let mut cost = |app: &App| {
        let mut fb = None;
        term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
        let rows = fb.and_then(|fb| fb.monitor).map_or(0, |m| m.rows);
        (rows, screen(&term))
    };
    let (n, s) = cost(&app);
    // 40 rows: status 1, strip 2, table 19 with borders and header → 16 rows.
    assert!(n > 0 && n <= 20, "bottom: {n} rows formatted");
    assert!(s.contains("message 99999"));
    press(&mut app, KeyCode::Home);
    let (n, s) = cost(&app);
    assert!(n <= 20, "top: {n}");
    assert!(s.contains("admin:***"));
    for _ in 0..50 {
        press(&mut app, KeyCode::PageDown);
    }
    let (n, _) = cost(&app);
    assert!(n <= 20, "middle: {n}");
    // With a filter: still only the visible rows (matches are kept as frames arrive).
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "dir:in error");
    press(&mut app, KeyCode::Enter);
    let (n, s) = cost(&app);
    assert!(n <= 20, "filtered: {n}");
    assert!(s.contains("6,666 matches"), "{s}");
    press(&mut app, KeyCode::End);
    for i in 0..1000u64 {
        net(
            &mut app,
            NetEvent::Frame(text(
                200_000 + i,
                200_000 + i,
                Direction::ServerToClient,
                "late error",
            )),
        );
    }
    let (n, s) = cost(&app);
    assert!(n <= 20, "filtered after more frames: {n}");
    assert!(s.contains("7,666 matches"), "{s}");
}

#[test]
fn small_terminals_still_show_the_newest_frames() {
    let mut app = closed_session();
    monitor(&mut app);
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 12), (59, 16), (80, 24)] {
        let s = screen(&render(&mut app, w, h));
        if w >= 40 {
            assert!(s.contains("1000 Normal Closure"), "{w}x{h}:\n{s}");
        }
    }
    // Narrow: the time column makes room for the payload.
    let s = screen(&render(&mut app, 50, 20));
    assert!(
        s.contains("1.0 ↑ close       11 1000 Normal Closure"),
        "{s}"
    );
    assert!(!s.contains("22:13:25.001"));
    // Everything else at a small size too: hex, handshake, the filter line with an error.
    select(&mut app, 5);
    press(&mut app, KeyCode::Char('x'));
    for (w, h) in [(20, 8), (40, 16)] {
        render(&mut app, w, h);
    }
    press(&mut app, KeyCode::Char('h'));
    render(&mut app, 30, 20);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "re:(");
    let s = screen(&render(&mut app, 40, 12));
    assert!(s.contains("/ re:("), "{s}");
    assert!(s.contains("invalid"), "{s}");
    // Paste goes into the filter line.
    app.update(Event::Paste("x)".into()));
    assert_eq!(app.monitor().filter_edit().unwrap().input.value(), "re:(x)");
    assert!(app.monitor().filter_edit().unwrap().error.is_none());
}

/// Issue 14.5/15.4: a frame whose text carried invisible characters is flagged in the table
/// and explained in the detail pane; an emoji sequence is not flagged.
#[test]
fn hidden_characters_are_flagged_in_the_table_and_detail() {
    let mut app = session();
    net(
        &mut app,
        NetEvent::Frame(text(11, 7000, Direction::ServerToClient, "ad\u{180b}min")),
    );
    net(
        &mut app,
        NetEvent::Frame(text(
            12,
            7001,
            Direction::ServerToClient,
            "family 👨\u{200d}👩\u{200d}👧\u{200d}👦",
        )),
    );
    monitor(&mut app);
    let s = screen(&render(&mut app, 120, 30));
    assert!(s.contains("⚑ ad\\u{180b}min"), "{s}");
    assert!(!s.contains("⚑ family"), "{s}");
    assert!(s.contains("family 👨\u{200d}👩\u{200d}👧\u{200d}👦"), "{s}");
    // Select the flagged frame: the detail says what was hidden.
    let rows = app.frames().len();
    select(&mut app, rows - 2);
    let s = screen(&render(&mut app, 120, 30));
    assert!(
        s.contains("⚑ 1 hidden character (bidi, zero-width or format)"),
        "{s}"
    );
}

#[test]
fn a_1_mb_json_reply_is_pretty_printed_whole_and_folds() {
    let mut app = session();
    // 1 MB: an object holding an array of 20,000 records, then a last key.
    let items: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"id":{i},"name":"item {i}","tags":["a","b"]}}"#))
        .collect();
    let body = format!(r#"{{"items":[{}],"last":"the end"}}"#, items.join(","));
    assert!(body.len() > 900_000);
    net(
        &mut app,
        NetEvent::Frame(text(11, 9000, Direction::ServerToClient, &body)),
    );
    monitor(&mut app);
    press(&mut app, KeyCode::End);
    let s = screen(&render(&mut app, 100, 40));
    assert!(s.contains("· JSON"), "pretty-printed at 1 MB: {s}");
    assert!(s.contains("\"items\": ["), "{s}");
    let (_, _, total) = detail_lines(&s);
    assert!(total > 100_000, "every record on its own lines: {total}");
    // The end of the message is reachable.
    for _ in 0..20_000 {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::PageDown,
            KeyModifiers::SHIFT,
        )));
    }
    let s = screen(&render(&mut app, 100, 40));
    assert!(s.contains("\"last\": \"the end\""), "{s}");
    // Back at the top, z folds the outer object to one line; z again unfolds it.
    for _ in 0..20_000 {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::PageUp,
            KeyModifiers::SHIFT,
        )));
    }
    render(&mut app, 100, 40);
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&render(&mut app, 100, 40));
    assert!(s.contains("lines folded (z)"), "{s}");
    assert!(!s.contains("\"items\": ["), "{s}");
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&render(&mut app, 100, 40));
    assert!(s.contains("\"items\": ["), "{s}");
}
