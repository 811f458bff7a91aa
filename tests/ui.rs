//! The UI driven by key events and synthetic network events into ratatui's `TestBackend`.
//!
//! Snapshots are in tests/snapshots/; review changes by eye (`INSTA_UPDATE=always` rewrites).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Command, Event, Focus};
use wsdeck::model::{
    CloseInfo, ConnState, Direction, FrameRecord, LoginOutcome, NetCommand, NetError, NetErrorKind,
    NetEvent, Opcode, Secret,
};
use wsdeck::spec::{AuthMethod, ConnectSpec};

const URL: &str = "ws://127.0.0.1:40123";
const PASSWORD: &str = "123456";
const SEED_OK: &str =
    "congratulation, you have connect with server\r\nnow, you can do something else";
const SEED_NO: &str = "sorry, the username or password is wrong, please submit again";

// ---------- helpers ----------

fn spec(user: &str, password: &str) -> ConnectSpec {
    let mut s = ConnectSpec::new(URL);
    s.user = user.into();
    s.password = Secret::new(password);
    s
}

fn app_with(spec: ConnectSpec, connect_now: bool) -> (App, Vec<Command>) {
    let (mut app, cmds) = App::new(AppInit {
        connect_now,
        banner: Some("demo server listening on 127.0.0.1:40123".into()),
        ..AppInit::new(spec)
    });
    app.set_utc_offset(0);
    (app, cmds)
}

/// `wsdeck demo`: everything prefilled.
fn demo() -> App {
    app_with(spec("admin", PASSWORD), false).0
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(key(code))
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        assert!(app.update(key(KeyCode::Char(c))).is_empty());
    }
}

fn net(app: &mut App, ev: NetEvent) {
    assert!(app.update(Event::Net(ev)).is_empty());
}

/// 2023-11-14 22:13:20 UTC plus `s` seconds.
fn t(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
}

fn frame(seq: u64, at: u64, dir: Direction, text: &str) -> FrameRecord {
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: t(at),
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

fn login_frame(seq: u64, at: u64) -> FrameRecord {
    FrameRecord {
        redacted: true,
        ..frame(seq, at, Direction::ClientToServer, "admin:***")
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

fn connecting(app: &mut App) {
    for s in [ConnState::Connecting, ConnState::Handshaking] {
        net(app, NetEvent::State(s));
    }
    net(app, NetEvent::State(ConnState::LoggingIn));
}

/// Demo app logged in after one rejected attempt, as in the seed.
/// The session connects, sends the login (frame 1) and the seed server rejects it (frame 2):
/// the connection stays open, awaiting another login.
fn connect_and_reject(app: &mut App) {
    connecting(app);
    net(app, NetEvent::Frame(login_frame(1, 0)));
    net(
        app,
        NetEvent::Frame(frame(2, 0, Direction::ServerToClient, SEED_NO)),
    );
    net(
        app,
        NetEvent::Login(LoginOutcome::Rejected {
            reply: SEED_NO.into(),
        }),
    );
    net(app, NetEvent::State(ConnState::AwaitingLogin));
}

fn logged_in_after_retry() -> App {
    let mut app = app_with(spec("admin", ""), false).0;
    type_str(&mut app, "wrong1");
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]));
    connect_and_reject(&mut app);
    type_str(&mut app, PASSWORD);
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        &cmds[..],
        [Command::Net(NetCommand::Login { .. })]
    ));
    net(&mut app, NetEvent::Frame(login_frame(3, 4)));
    net(
        &mut app,
        NetEvent::Frame(frame(4, 4, Direction::ServerToClient, SEED_OK)),
    );
    net(
        &mut app,
        NetEvent::Login(LoginOutcome::Accepted {
            reply: SEED_OK.into(),
        }),
    );
    net(&mut app, NetEvent::State(ConnState::LoggedIn));
    app
}

fn send_line(app: &mut App, line: &str, seq: u64, at: u64) {
    type_str(app, line);
    let cmds = press(app, KeyCode::Enter);
    match &cmds[..] {
        [Command::Net(NetCommand::SendText(s))] => assert_eq!(s, line),
        other => panic!("expected SendText, got {other:?}"),
    }
    net(
        app,
        NetEvent::Frame(frame(seq, at, Direction::ClientToServer, line)),
    );
    net(
        app,
        NetEvent::Frame(frame(
            seq + 1,
            at,
            Direction::ServerToClient,
            &format!("your submit context: {line}"),
        )),
    );
}

// ---------- login pane ----------

#[test]
fn demo_login_pane_prefilled_with_focus_on_password() {
    let mut app = demo();
    assert_eq!(app.focus(), Focus::Password);
    let term = render(&mut app, 100, 30);
    assert!(!screen(&term).contains(PASSWORD), "password drawn in clear");
    assert!(screen(&term).contains("••••••"));
    insta::assert_snapshot!("login_demo_initial", term.backend());
}

#[test]
fn enter_in_demo_pane_connects_with_typed_credentials() {
    let mut app = demo();
    let cmds = press(&mut app, KeyCode::Enter);
    let [Command::Connect(spec)] = &cmds[..] else {
        panic!("expected Connect, got {cmds:?}");
    };
    assert_eq!(spec.url, URL);
    assert_eq!(spec.user, "admin");
    assert_eq!(spec.password.expose(), PASSWORD);
    assert_eq!(spec.auth, AuthMethod::FirstMessage);
    assert_eq!(*app.conn(), ConnState::Connecting);
}

#[test]
fn connect_spec_keeps_rules_headers_and_flags_from_init() {
    let mut s = spec("admin", PASSWORD);
    s.headers.push(("X-Test".into(), "1".into()));
    s.subprotocols = vec!["chat".into()];
    s.login.template = "LOGIN {user} {password}".into();
    s.insecure = true;
    let (mut app, _) = app_with(s, false);
    let cmds = press(&mut app, KeyCode::Enter);
    let [Command::Connect(spec)] = &cmds[..] else {
        panic!("expected Connect");
    };
    assert_eq!(spec.headers, vec![("X-Test".to_string(), "1".to_string())]);
    assert_eq!(spec.subprotocols, ["chat"]);
    assert_eq!(spec.login.template, "LOGIN {user} {password}");
    assert!(spec.insecure);
}

#[test]
fn connect_now_returns_connect_at_once() {
    let mut s = spec("", "");
    s.auth = AuthMethod::None;
    let (_, cmds) = app_with(s, true);
    let [Command::Connect(spec)] = &cmds[..] else {
        panic!("expected Connect, got {cmds:?}");
    };
    assert_eq!(spec.auth, AuthMethod::None);
}

#[test]
fn focus_starts_on_first_empty_field() {
    let (app, _) = app_with(
        ConnectSpec {
            url: String::new(),
            ..spec("", "")
        },
        false,
    );
    assert_eq!(app.focus(), Focus::Url);
    assert_eq!(app_with(spec("", ""), false).0.focus(), Focus::User);
    assert_eq!(
        app_with(spec("admin", ""), false).0.focus(),
        Focus::Password
    );
}

#[test]
fn typed_password_is_masked_and_reveal_toggles() {
    let mut app = app_with(spec("admin", ""), false).0;
    type_str(&mut app, "s3cr€t");
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    assert!(!s.contains("s3cr€t"));
    assert!(s.contains("••••••"));
    assert!(s.contains("F6 show"));

    app.update(key(KeyCode::F(6)));
    let term = render(&mut app, 100, 30);
    assert!(screen(&term).contains("s3cr€t"));
    assert!(screen(&term).contains("F6 hide"));
    insta::assert_snapshot!("login_password_revealed", term.backend());

    // Ctrl-R hides it again.
    app.update(ctrl('r'));
    assert!(!screen(&render(&mut app, 100, 30)).contains("s3cr€t"));
}

#[test]
fn tab_and_shift_tab_cycle_fields_skipping_unused_ones() {
    let mut app = demo();
    assert_eq!(app.focus(), Focus::Password);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Auth);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Input);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Url);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus(), Focus::Input);
    // Auth none: user and password are dimmed and skipped.
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus(), Focus::Auth);
    press(&mut app, KeyCode::Left);
    assert_eq!(app.login().auth(), AuthMethod::None);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus(), Focus::Url);
    let term = render(&mut app, 100, 30);
    assert!(screen(&term).contains("not used with none"));
    insta::assert_snapshot!("login_auth_none_dims_fields", term.backend());
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Auth);
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.login().auth(), AuthMethod::FirstMessage);
}

#[test]
fn missing_password_is_asked_for_not_sent() {
    let mut app = app_with(spec("admin", ""), false).0;
    press(&mut app, KeyCode::Tab);
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(cmds.is_empty());
    assert_eq!(app.focus(), Focus::Password);
    assert!(app.notice().unwrap().text.contains("password"));
}

#[test]
fn bad_url_is_explained_in_the_pane() {
    let mut app = app_with(
        ConnectSpec {
            url: "http://example.com".into(),
            ..spec("admin", PASSWORD)
        },
        false,
    )
    .0;
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(app.focus(), Focus::Url);
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("scheme must be ws:// or"), "{s}");
}

#[test]
fn rejected_login_shows_reply_clears_and_focuses_password() {
    let mut app = app_with(spec("admin", ""), false).0;
    type_str(&mut app, "wrong1");
    let cmds = press(&mut app, KeyCode::Enter);
    let [Command::Connect(s)] = &cmds[..] else {
        panic!("expected Connect");
    };
    assert_eq!(s.password.expose(), "wrong1");
    connect_and_reject(&mut app);

    assert_eq!(app.focus(), Focus::Password);
    assert!(app.login().password_is_empty());
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    assert!(!s.contains("wrong1"));
    assert!(s.contains("Login rejected"));
    assert!(s.contains("please submit"));
    insta::assert_snapshot!("login_rejected", term.backend());

    // Retrying on the same connection sends a Login command, not a new connection.
    type_str(&mut app, PASSWORD);
    let cmds = press(&mut app, KeyCode::Enter);
    match &cmds[..] {
        [Command::Net(NetCommand::Login { user, password })] => {
            assert_eq!(user, "admin");
            assert_eq!(password.expose(), PASSWORD);
        }
        other => panic!("expected Login, got {other:?}"),
    }
}

#[test]
fn logged_in_clears_password_and_focuses_input() {
    let app = logged_in_after_retry();
    assert_eq!(*app.conn(), ConnState::LoggedIn);
    assert_eq!(app.focus(), Focus::Input);
    assert!(app.login().password_is_empty());
    let mut app = app;
    app.update(key(KeyCode::F(6)));
    assert!(!screen(&render(&mut app, 100, 30)).contains(PASSWORD));
}

#[test]
fn password_in_unredacted_login_frame_is_never_drawn() {
    // With --no-redact the network task reports the real login frame; the chat still hides it.
    let (mut app, _) = app_with(spec("admin", PASSWORD), false);
    press(&mut app, KeyCode::Enter);
    connecting(&mut app);
    net(
        &mut app,
        NetEvent::Frame(frame(1, 0, Direction::ClientToServer, "admin:123456")),
    );
    let s = screen(&render(&mut app, 100, 30));
    assert!(!s.contains(PASSWORD), "{s}");
    assert!(s.contains("admin:***"));
}

/// The demo's login after Enter, refused by nothing listening.
fn refused_demo() -> App {
    let mut app = demo();
    press(&mut app, KeyCode::Enter);
    net(&mut app, NetEvent::State(ConnState::Connecting));
    net(
        &mut app,
        NetEvent::State(ConnState::Failed(NetError::new(
            NetErrorKind::Refused,
            "connection refused: nothing listens on 127.0.0.1:40123",
        ))),
    );
    net(&mut app, NetEvent::Ended);
    app
}

#[test]
fn connection_failure_is_shown_in_red_with_full_message() {
    let mut app = refused_demo();
    let term = render(&mut app, 100, 30);
    assert!(screen(&term).contains("nothing listens on"));
    insta::assert_snapshot!("login_connection_refused", term.backend());
}

/// The status bar of a narrow terminal after a refused connection: the failure takes the
/// room (the URL is left out), cut once, and nothing after it leaves a second ellipsis.
#[test]
fn a_failure_in_a_narrow_status_bar_is_cut_once_and_before_the_url() {
    let mut app = refused_demo();
    for w in 40..=100 {
        let term = render(&mut app, w, 30);
        let s = screen(&term);
        let bar = s.lines().last().unwrap();
        assert!(!bar.contains("……"), "{w} columns: {bar}");
        assert!(bar.matches('…').count() <= 1, "{w} columns: {bar}");
        assert!(
            bar.contains("failed: connection refused"),
            "{w} columns: {bar}"
        );
    }
    let term = render(&mut app, 60, 30);
    let bar = screen(&term).lines().last().unwrap().to_string();
    assert!(!bar.contains("ws://"), "{bar}");
    assert!(
        bar.contains("failed: connection refused: nothing listens"),
        "{bar}"
    );
}

#[test]
fn http_status_failure_keeps_progress_at_handshake() {
    let mut app = demo();
    press(&mut app, KeyCode::Enter);
    net(&mut app, NetEvent::State(ConnState::Connecting));
    net(&mut app, NetEvent::State(ConnState::Handshaking));
    net(
        &mut app,
        NetEvent::State(ConnState::Failed(NetError::new(
            NetErrorKind::Http(401),
            "the server refused the upgrade: HTTP/1.1 401 Unauthorized",
        ))),
    );
    let s = screen(&render(&mut app, 100, 30));
    assert!(s.contains("✓ connect"));
    assert!(s.contains("✗ handshake"), "{s}");
    assert!(s.contains("401"), "{s}");
    assert!(
        app.login()
            .error()
            .unwrap()
            .contains("HTTP/1.1 401 Unauthorized")
    );
}

// ---------- chat ----------

#[test]
fn chat_history_with_seed_reply_wrapping_and_wide_chars() {
    let mut app = logged_in_after_retry();
    send_line(&mut app, "hello", 5, 10);
    send_line(
        &mut app,
        "a long line that is much wider than the message column so it has to wrap onto more rows",
        7,
        12,
    );
    send_line(&mut app, "中文消息和表情 🙂🎉 混合 text", 9, 15);
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    assert!(s.contains("now, you can do something else"));
    assert!(!s.contains(PASSWORD));
    assert_eq!(app.counts(), (5, 5));
    insta::assert_snapshot!("chat_logged_in", term.backend());
}

#[test]
fn narrow_terminal_puts_login_on_top() {
    let mut app = logged_in_after_retry();
    send_line(&mut app, "hello from a narrow terminal", 5, 10);
    let term = render(&mut app, 64, 24);
    insta::assert_snapshot!("chat_narrow", term.backend());
}

#[test]
fn binary_and_close_frames() {
    let mut app = logged_in_after_retry();
    net(
        &mut app,
        NetEvent::Frame(FrameRecord {
            opcode: Opcode::Binary,
            payload: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2]),
            len: 7,
            ..frame(5, 20, Direction::ServerToClient, "")
        }),
    );
    // A ping is not a chat line.
    net(
        &mut app,
        NetEvent::Frame(FrameRecord {
            opcode: Opcode::Ping,
            ..frame(6, 21, Direction::ServerToClient, "")
        }),
    );
    net(
        &mut app,
        NetEvent::Frame(FrameRecord {
            conn: 1,
            origin: Default::default(),
            opcode: Opcode::Close,
            payload: Bytes::from_static(b"bye"),
            close: Some(CloseInfo {
                code: 1000,
                reason: "bye".into(),
            }),
            ..frame(7, 22, Direction::ServerToClient, "")
        }),
    );
    net(
        &mut app,
        NetEvent::State(ConnState::Closed {
            code: Some(1000),
            reason: "bye".into(),
        }),
    );
    net(&mut app, NetEvent::Ended);
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    assert!(s.contains("<binary 7 bytes> de ad be ef 00 01 02"));
    assert!(s.contains("the server closed the connection:"));
    assert!(s.contains("closed 1000 Normal Closure: bye"));
    // The close frame is noted once; the Closed state that follows adds no second note.
    assert_eq!(s.matches("closed the connection").count(), 1, "{s}");
    assert!(!s.contains("connection closed:"), "{s}");
    insta::assert_snapshot!("chat_binary_and_close", term.backend());
}

#[test]
fn the_reply_to_a_close_adds_no_second_note() {
    let mut app = logged_in_after_retry();
    let close = |seq, dir, code| FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: t(20),
        dir,
        opcode: Opcode::Close,
        len: 2,
        payload: Bytes::new(),
        close: Some(CloseInfo {
            code,
            reason: String::new(),
        }),
        redacted: false,
        wire_len: None,
        fragments: None,
    };
    net(
        &mut app,
        NetEvent::Frame(close(10, Direction::ClientToServer, 4000)),
    );
    net(
        &mut app,
        NetEvent::Frame(close(11, Direction::ServerToClient, 4000)),
    );
    let s = screen(&render(&mut app, 100, 30));
    // One note per close (issue 14 item 10): the server's answer only confirms it.
    assert_eq!(
        s.matches("you closed the connection: 4000").count(),
        1,
        "{s}"
    );
    assert!(!s.contains("confirmed the close"), "{s}");
    assert!(!s.contains("the server closed the connection"), "{s}");
}

#[test]
fn server_text_cannot_inject_terminal_sequences() {
    let mut app = logged_in_after_retry();
    let corpus = [
        "\u{1b}]0;pwned\u{7}title",
        "\u{1b}]52;c;Y3VybCBldmlsfHNo\u{7}clip",
        "\u{1b}[2J\u{1b}[Hcleared?",
        "\u{1b}[31mred\u{1b}[0m and \u{9b}2J",
        "report\u{202e}txt.exe",
        "ok\rFAIL\u{8}\u{8}",
    ];
    for (i, s) in corpus.iter().enumerate() {
        net(
            &mut app,
            NetEvent::Frame(frame(10 + i as u64, 30, Direction::ServerToClient, s)),
        );
    }
    let term = render(&mut app, 100, 30);
    let buf = term.backend().buffer();
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(!c.is_control(), "control char {c:?} reached the screen");
            assert!(!('\u{202a}'..='\u{202e}').contains(&c));
        }
    }
    let s = screen(&term);
    assert!(s.contains("␛]0;pwned␇title"));
    assert!(s.contains("report\\u{202e}txt.exe"));
    insta::assert_snapshot!("chat_injection_inert", term.backend());
}

#[test]
fn enter_sends_only_when_logged_in_and_up_recalls() {
    let mut app = logged_in_after_retry();
    send_line(&mut app, "first", 5, 10);
    send_line(&mut app, "second", 7, 11);
    assert_eq!(app.input().value(), "");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.input().value(), "second");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.input().value(), "first");
    press(&mut app, KeyCode::Down);
    assert_eq!(app.input().value(), "second");
    // Emacs editing: Ctrl-A, then type at the start.
    app.update(ctrl('a'));
    type_str(&mut app, ">> ");
    assert_eq!(app.input().value(), ">> second");
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Net(NetCommand::SendText(s))] if s == ">> second"));
}

#[test]
fn input_is_kept_when_the_connection_drops() {
    let mut app = logged_in_after_retry();
    type_str(&mut app, "half-typed line");
    net(
        &mut app,
        NetEvent::State(ConnState::Closed {
            code: Some(1006),
            reason: String::new(),
        }),
    );
    net(&mut app, NetEvent::Ended);
    assert_eq!(app.input().value(), "half-typed line");
    // Enter now explains instead of sending, and keeps the text.
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(cmds.is_empty());
    assert_eq!(app.input().value(), "half-typed line");
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    assert!(s.contains("half-typed line"));
    assert!(s.contains("not connected"));
    insta::assert_snapshot!("chat_dropped_input_kept", term.backend());
}

#[test]
fn enter_before_login_explains_in_status_line() {
    let mut app = demo();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Input);
    type_str(&mut app, "too early");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(app.notice().is_some());
    assert_eq!(app.input().value(), "too early");
    // The next key dismisses the notice.
    press(&mut app, KeyCode::Left);
    assert!(app.notice().is_none());
}

#[test]
fn paste_goes_to_the_focused_field() {
    let mut app = logged_in_after_retry();
    app.update(Event::Paste("pasted\ntext".into()));
    assert_eq!(app.input().value(), "pasted text");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus(), Focus::Url);
    app.update(ctrl('u'));
    app.update(Event::Paste("ws://example.com:9000".into()));
    assert_eq!(app.login().url(), "ws://example.com:9000");
}

// ---------- scrolling ----------

fn chat_with(n: u64) -> App {
    let mut app = logged_in_after_retry();
    for i in 0..n {
        net(
            &mut app,
            NetEvent::Frame(frame(
                100 + i,
                60 + i,
                Direction::ServerToClient,
                &format!("server push #{i}"),
            )),
        );
    }
    app
}

#[test]
fn scrolled_up_shows_new_indicator_and_end_follows() {
    let mut app = chat_with(60);
    let mut term = render(&mut app, 100, 30);
    assert!(screen(&term).contains("server push #59"));
    press(&mut app, KeyCode::PageUp);
    redraw(&mut term, &mut app);
    assert!(!screen(&term).contains("server push #59"));
    for i in 60..63 {
        net(
            &mut app,
            NetEvent::Frame(frame(
                100 + i,
                60 + i,
                Direction::ServerToClient,
                &format!("server push #{i}"),
            )),
        );
    }
    redraw(&mut term, &mut app);
    let s = screen(&term);
    assert!(s.contains("3 new ↓"), "{s}");
    assert!(!s.contains("server push #62"));
    insta::assert_snapshot!("chat_scrolled_new_indicator", term.backend());

    press(&mut app, KeyCode::End);
    redraw(&mut term, &mut app);
    let s = screen(&term);
    assert!(s.contains("server push #62"));
    assert!(!s.contains("new ↓"));
}

#[test]
fn paging_and_home_reach_the_top_and_back() {
    let mut app = chat_with(200);
    let mut term = render(&mut app, 100, 30);
    press(&mut app, KeyCode::Home);
    redraw(&mut term, &mut app);
    let s = screen(&term);
    assert!(s.contains("demo server listening"), "{s}");
    assert!(s.contains("more below"));
    for _ in 0..30 {
        press(&mut app, KeyCode::PageDown);
    }
    redraw(&mut term, &mut app);
    assert!(screen(&term).contains("server push #199"));
    assert!(app.history().following());
}

#[test]
fn mouse_wheel_scrolls_history() {
    let mut app = chat_with(60);
    let mut term = render(&mut app, 100, 30);
    let wheel = |kind| {
        Event::Mouse(MouseEvent {
            kind,
            column: 50,
            row: 10,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(wheel(MouseEventKind::ScrollUp));
    assert!(!app.history().following());
    redraw(&mut term, &mut app);
    assert!(!screen(&term).contains("server push #59"));
    app.update(wheel(MouseEventKind::ScrollDown));
    assert!(app.history().following());
}

#[test]
fn messages_whose_frames_were_dropped_keep_a_dim_one_row_placeholder() {
    const NOT_KEPT: &str = "(not kept in memory — see the recording)";
    let mut app = logged_in_after_retry();
    // The chat reads payloads from the monitor's bounded frame store: keep only 3 frames.
    app.set_frame_limits(3, usize::MAX);
    for i in 0..8 {
        net(
            &mut app,
            NetEvent::Frame(frame(
                100 + i,
                60 + i,
                Direction::ServerToClient,
                &format!("server push #{i}"),
            )),
        );
    }
    let term = render(&mut app, 100, 30);
    let s = screen(&term);
    for i in 5..8 {
        assert!(s.contains(&format!("server push #{i}")), "{s}");
    }
    assert!(!s.contains("server push #4"), "{s}");
    // Every older message (2 login frames, 2 replies, pushes 0-4) is one placeholder row with
    // its time and sender; the seed's two-row replies shrink to one row.
    assert_eq!(s.matches(NOT_KEPT).count(), 9, "{s}");
    assert!(
        s.contains(&format!("22:14:24 ↓ 127.0.0.1 {NOT_KEPT}")),
        "{s}"
    );
    assert!(!s.contains("now, you can do something else"), "{s}");
    // Notes keep their own text.
    assert!(s.contains("demo server listening") && s.contains("logged in as admin"));
    // The placeholder is drawn dim.
    let buf = term.backend().buffer();
    let (w, h) = (buf.area.width, buf.area.height);
    let first: Vec<char> = NOT_KEPT.chars().take(9).collect();
    let at = (0..h)
        .flat_map(|y| (0..w.saturating_sub(9)).map(move |x| (x, y)))
        .find(|&(x, y)| {
            (0..9u16).all(|i| buf[(x + i, y)].symbol() == first[i as usize].to_string())
        })
        .expect("a placeholder on screen");
    assert_eq!(buf[at].fg, ratatui::style::Color::DarkGray);
}

// ---------- keys ----------

#[test]
fn help_overlay_opens_with_f1_and_closes_with_esc() {
    let mut app = logged_in_after_retry();
    press(&mut app, KeyCode::F(1));
    assert!(app.help_open());
    let mut term = render(&mut app, 100, 30);
    insta::assert_snapshot!("help_overlay", term.backend());
    // What does not fit scrolls into view; together every binding is shown.
    let mut seen = screen(&term);
    for _ in 0..8 {
        press(&mut app, KeyCode::PageDown);
        redraw(&mut term, &mut app);
        seen.push_str(&screen(&term));
    }
    press(&mut app, KeyCode::End);
    redraw(&mut term, &mut app);
    seen.push_str(&screen(&term));
    use wsdeck::app::keymap::{HelpScope, help_sections_for};
    for sec in help_sections_for(HelpScope::Client) {
        for (k, a) in &sec.rows {
            assert!(seen.contains(k) && seen.contains(a), "help lacks {k}");
        }
    }
    insta::assert_snapshot!("help_overlay_scrolled", term.backend());
    // A tall terminal shows the first sections at once.
    press(&mut app, KeyCode::Home);
    let tall = screen(&render(&mut app, 100, 50));
    assert!(tall.contains("Ctrl-C, Ctrl-Q") && tall.contains("Ctrl-Y"));
    // Keys do not leak into the input while help is open.
    type_str(&mut app, "x");
    assert_eq!(app.input().value(), "");
    press(&mut app, KeyCode::Esc);
    assert!(!app.help_open());
    assert!(!screen(&render(&mut app, 100, 30)).contains("Esc closes"));
}

#[test]
fn ctrl_c_and_ctrl_q_quit_from_anywhere() {
    let mut app = demo();
    assert!(matches!(&app.update(ctrl('c'))[..], [Command::Quit]));
    assert!(matches!(&app.update(ctrl('q'))[..], [Command::Quit]));
    press(&mut app, KeyCode::F(1));
    assert!(matches!(&app.update(ctrl('c'))[..], [Command::Quit]));
    let mut app = logged_in_after_retry();
    type_str(&mut app, "abc");
    assert!(matches!(&app.update(ctrl('q'))[..], [Command::Quit]));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut app = chat_with(20);
    for (w, h) in [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 12),
        (80, 8),
        (200, 60),
    ] {
        render(&mut app, w, h);
    }
}

#[test]
fn revealed_password_is_hidden_again_once_sent() {
    let mut app = demo();
    app.update(key(KeyCode::F(6)));
    assert!(screen(&render(&mut app, 100, 30)).contains(PASSWORD));
    press(&mut app, KeyCode::Enter);
    assert!(!app.login().revealed());
    assert!(!screen(&render(&mut app, 100, 30)).contains(PASSWORD));
}

#[test]
fn resize_sets_the_page_size_before_any_draw() {
    let mut app = chat_with(100);
    // What the runtime hands the app on a resize.
    app.update(Event::Drawn(wsdeck::ui::layout(
        &app,
        ratatui::layout::Rect::new(0, 0, 100, 30),
    )));
    // 30 rows - status bar - folded login line - input box (3) - history borders (2); the
    // whole width but the borders.
    assert_eq!(app.chat_geometry().height, 23);
    assert_eq!(app.chat_geometry().width, 98);
    press(&mut app, KeyCode::PageUp);
    let s = screen(&render(&mut app, 100, 30));
    // One page up keeps one row of overlap: push #77 was the top row (#99 the bottom) and
    // is now the bottom one.
    assert!(s.contains("server push #55"), "{s}");
    assert!(s.contains("server push #77"), "{s}");
    assert!(!s.contains("server push #78 "), "{s}");
}

#[test]
fn dns_failure_points_at_the_url_and_ended_closes() {
    let mut app = demo();
    press(&mut app, KeyCode::Enter);
    net(
        &mut app,
        NetEvent::State(ConnState::Failed(NetError::new(
            NetErrorKind::Dns,
            "cannot resolve nowhere.invalid",
        ))),
    );
    assert_eq!(app.focus(), Focus::Url);
    let mut app = logged_in_after_retry();
    net(&mut app, NetEvent::Ended);
    assert!(matches!(app.conn(), ConnState::Closed { code: None, .. }));
    assert!(screen(&render(&mut app, 100, 30)).contains("connection ended"));
}

/// Each row of the buffer as the terminal lays it out: the cells' symbols, skipping the cells
/// hidden under a wide symbol, with the column each symbol starts at.
fn cells(term: &Terminal<TestBackend>) -> Vec<Vec<(u16, String)>> {
    use ratatui::buffer::CellWidth;
    let buf = term.backend().buffer();
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let mut row = Vec::new();
            let mut x = 0;
            while x < area.width {
                let sym = buf[(x, y)].symbol().to_string();
                let w = sym.as_str().cell_width().max(1);
                row.push((x, sym));
                x += w;
            }
            row
        })
        .collect()
}

/// Issue 14.5: ordinary emoji are text, in the received echo and in our own line, and the
/// border stays where it is on every row.
#[test]
fn emoji_sequences_show_intact_and_keep_the_border_aligned() {
    const LINE: &str =
        "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 flag 🇯🇵 skin 👍🏽 keycap 1\u{fe0f}\u{20e3}";
    let mut app = logged_in_after_retry();
    send_line(&mut app, LINE, 5, 10);
    // Typed again: the input field shows it intact too.
    type_str(&mut app, "👨\u{200d}👩\u{200d}👧\u{200d}👦 🇯🇵");
    let term = render(&mut app, 100, 30);
    let rows = cells(&term);
    let emoji = [
        "👨\u{200d}👩\u{200d}👧\u{200d}👦",
        "👍🏽",
        "1\u{fe0f}\u{20e3}",
    ];
    let rows_with = |sym: &str| {
        rows.iter()
            .filter(|r| r.iter().any(|(_, s)| s == sym))
            .count()
    };
    for e in emoji {
        // Our line, the server's echo, and (for the family) the input field.
        let want = if e.contains('1') || e.contains('🏽') {
            2
        } else {
            3
        };
        assert_eq!(
            rows_with(e),
            want,
            "{e:?} drawn as one symbol on {want} rows"
        );
    }
    let s = screen(&term);
    assert!(!s.contains("\\u{200d}"), "{s}");
    assert!(!s.contains("\\u{1f3fd}"), "{s}");
    // Every row ends at the same column with the same border symbol as an emoji-free row.
    let last = |r: &Vec<(u16, String)>| r.last().cloned().unwrap_or_default();
    for (y, r) in rows.iter().enumerate() {
        let (x, _) = last(r);
        assert_eq!(x, 99, "row {y} ends at column {x}: {r:?}");
    }
    let emoji_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.iter().any(|(_, s)| s == "👍🏽"))
        .collect();
    assert!(!emoji_rows.is_empty());
    for r in emoji_rows {
        assert_eq!(last(r).1, "│", "border symbol on {r:?}");
    }
}

/// A flag of regional indicators, whose width terminals disagree on (tmux left stray `🇵`
/// cells over the screen), is drawn as its region code: `[JP]` in the history, the monitor's
/// table, detail and hex dump, `JP` in the input; no cell holds a regional indicator. What
/// was sent is the flag itself.
#[test]
fn a_flag_is_drawn_as_its_region_code_and_sent_as_it_is() {
    let mut app = logged_in_after_retry();
    type_str(&mut app, "flag 🇯🇵");
    let input = screen(&render(&mut app, 100, 30));
    assert!(input.contains("flag JP"), "{input}");
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Net(NetCommand::SendText(t)) if t == "flag 🇯🇵")),
        "{cmds:?}"
    );
    net(
        &mut app,
        NetEvent::Frame(frame(5, 10, Direction::ClientToServer, "flag 🇯🇵")),
    );
    net(
        &mut app,
        NetEvent::Frame(frame(
            6,
            11,
            Direction::ServerToClient,
            "your submit context: flag 🇯🇵",
        )),
    );
    let is_ri = |s: &str| s.chars().any(|c| ('\u{1f1e6}'..='\u{1f1ff}').contains(&c));
    let chat = render(&mut app, 100, 30);
    assert_eq!(
        screen(&chat).matches("flag [JP]").count(),
        2,
        "{}",
        screen(&chat)
    );
    // The monitor: table, detail, its hex dump (x), the help over it.
    press(&mut app, KeyCode::F(3));
    for key in [None, Some(KeyCode::Char('x')), Some(KeyCode::F(1))] {
        if let Some(k) = key {
            press(&mut app, k);
        }
        let term = render(&mut app, 100, 30);
        let buf = term.backend().buffer();
        assert!(
            buf.content().iter().all(|c| !is_ri(c.symbol())),
            "{key:?}:\n{}",
            screen(&term)
        );
    }
}

/// Issue 15.4: invisible characters never display as the word they hide, in the chat.
#[test]
fn invisible_characters_are_placeholders_on_screen() {
    let mut app = logged_in_after_retry();
    for (i, s) in [
        "ad\u{180b}min",
        "ad\u{200b}min",
        "ad\u{fe0f}min",
        "ad\u{e0100}min",
        "ad\u{1bca0}min",
    ]
    .iter()
    .enumerate()
    {
        net(
            &mut app,
            NetEvent::Frame(frame(10 + i as u64, 30, Direction::ServerToClient, s)),
        );
    }
    let s = screen(&render(&mut app, 100, 30));
    for shown in [
        "ad\\u{180b}min",
        "ad\\u{200b}min",
        "ad\\u{fe0f}min",
        "ad\\u{e0100}min",
        "ad\\u{1bca0}min",
    ] {
        assert!(s.contains(shown), "{shown} missing:\n{s}");
    }
}

/// The README's first screenshot ("the chat view, `wsdeck demo`, after Enter and one line"),
/// drawn by the program: tests/readme.rs checks the README shows this snapshot.
#[test]
fn readme_chat_view() {
    let url = "ws://127.0.0.1:39113";
    let mut s = ConnectSpec::new(url);
    s.user = "admin".into();
    s.password = Secret::new(PASSWORD);
    let (mut app, _) = App::new(AppInit {
        banner: Some(format!(
            "demo server listening on {url} — user admin, password filled in: press Enter to log in"
        )),
        ..AppInit::new(s)
    });
    app.set_utc_offset(0);
    let cmds = press(&mut app, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]));
    connecting(&mut app);
    net(&mut app, NetEvent::Frame(login_frame(1, 0)));
    net(
        &mut app,
        NetEvent::Frame(frame(2, 0, Direction::ServerToClient, SEED_OK)),
    );
    net(
        &mut app,
        NetEvent::Login(LoginOutcome::Accepted {
            reply: SEED_OK.into(),
        }),
    );
    net(&mut app, NetEvent::State(ConnState::LoggedIn));
    send_line(&mut app, "hello, server", 3, 1);
    net(
        &mut app,
        NetEvent::Frame(frame(
            5,
            4,
            Direction::ServerToClient,
            "server push #1 at 22:13:24 UTC — 1 client online",
        )),
    );
    let term = render(&mut app, 100, 23);
    insta::assert_snapshot!("readme_chat_view", term.backend());
}

/// A notice in the status bar has the room before the help keys: they give way to it.
#[test]
fn a_notice_in_the_status_bar_is_whole_when_the_help_keys_make_room() {
    let mut app = logged_in_after_retry();
    press(&mut app, KeyCode::F(3));
    let text = "HAR written: wsdeck-20231114-221320.har (12 frames) in /home/user/captures";
    app.update(Event::Notice(wsdeck::app::NoteLevel::Good, text.into()));
    let s = screen(&render(&mut app, 100, 30));
    let bar = s.lines().last().unwrap();
    assert!(bar.contains(text), "{bar}");
    assert!(bar.contains("F1 help") && !bar.contains("F2 chat"), "{bar}");
    // Without the notice the keys are back.
    press(&mut app, KeyCode::End);
    let s = screen(&render(&mut app, 100, 30));
    assert!(
        s.lines().last().unwrap().contains("F2 chat · F1 help"),
        "{s}"
    );
}
