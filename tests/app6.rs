//! Everyday-use features of the UI: slash commands, snippets (F5…F12), the command palette,
//! saved profiles in the login pane, copy (OSC 52), NO_COLOR, mouse clicks — on the App with
//! synthetic events, and end to end through the runtime against the embedded server.
//!
//! Snapshots are in tests/snapshots/ (review by eye; `INSTA_UPDATE=always` rewrites).

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use wsdeck::app::{App, AppInit, Command, Event, Focus, View};
use wsdeck::config::Config;
use wsdeck::model::{ConnState, Direction, FrameRecord, NetCommand, NetEvent, Opcode, Secret};
use wsdeck::spec::{AuthMethod, ConnectSpec};

const URL: &str = "ws://127.0.0.1:40123";

const CONFIG: &str = r#"
[[snippets]]
name = "hello"
text = "hello from wsdeck"

[[snippets]]
name = "binary probe"
hex = "de ad be ef"

[[snippets]]
name = "json ping"
text = '{"type":"ping","id":1}'

[profiles.seed]
url = "ws://127.0.0.1:5678"
user = "admin"
login_template = "LOGIN {user} {password}"
login_ok = "^welcome"
headers = ["X-Team: blue"]
subprotocol = "chat.v2"
password_env = "WSDECK_APP6_TEST_UNSET_VARIABLE"
record = "seed-session.jsonl"

[[profiles.seed.snippets]]
name = "seed hello"
text = "hello seed"

[profiles.api]
url = "wss://api.example.test/socket"
auth = "bearer"
password_env = "PATH"
"#;

// ---------- helpers ----------

fn config() -> Config {
    Config::parse(CONFIG, Path::new("app6.toml")).unwrap()
}

fn init_with(spec: ConnectSpec, with_config: bool) -> AppInit {
    let cfg = config();
    AppInit {
        snippets: if with_config {
            cfg.snippets
        } else {
            Vec::new()
        },
        profiles: if with_config {
            cfg.profiles.into_iter().collect()
        } else {
            Vec::new()
        },
        ..AppInit::new(spec)
    }
}

fn spec(user: &str, password: &str) -> ConnectSpec {
    let mut s = ConnectSpec::new(URL);
    s.user = user.into();
    s.password = Secret::new(password);
    s
}

fn app(init: AppInit) -> App {
    let (mut app, _) = App::new(init);
    app.set_utc_offset(0);
    app
}

fn ev_key(code: KeyCode, mods: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, mods))
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(ev_key(code, KeyModifiers::NONE))
}

fn ctrl(app: &mut App, c: char) -> Vec<Command> {
    app.update(ev_key(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        assert!(press(app, KeyCode::Char(c)).is_empty(), "typing {c:?}");
    }
}

fn t(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
}

fn frame(seq: u64, dir: Direction, opcode: Opcode, payload: &[u8]) -> FrameRecord {
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: t(seq),
        dir,
        opcode,
        len: payload.len(),
        payload: Bytes::copy_from_slice(payload),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

/// The network task's states from connect to logged in.
fn log_in(a: &mut App) {
    for s in [
        ConnState::Connecting,
        ConnState::Handshaking,
        ConnState::LoggingIn,
        ConnState::LoggedIn,
    ] {
        a.update(Event::Net(NetEvent::State(s)));
    }
}

/// Logged in (first-message, as admin) with the config's snippets and profiles.
fn logged_in(with_config: bool) -> App {
    let mut a = app(init_with(spec("admin", "123456"), with_config));
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]), "{cmds:?}");
    log_in(&mut a);
    assert_eq!(a.focus(), Focus::Input);
    a
}

fn notice(app: &App) -> String {
    app.notice().map(|n| n.text.clone()).unwrap_or_default()
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

/// Screen cell of the first occurrence of `needle` (by characters, one cell each).
fn find(term: &Terminal<TestBackend>, needle: &str) -> (u16, u16) {
    let buf = term.backend().buffer();
    for y in 0..buf.area.height {
        let row: Vec<String> = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        let n: Vec<String> = needle.chars().map(|c| c.to_string()).collect();
        if let Some(x) = row.windows(n.len()).position(|w| w == n.as_slice()) {
            return (x as u16, y);
        }
    }
    panic!("{needle:?} not on screen:\n{}", screen(term));
}

fn click(app: &mut App, (x, y): (u16, u16)) {
    app.update(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    }));
}

fn sent_text(cmds: &[Command]) -> Option<&str> {
    match cmds {
        [Command::Net(NetCommand::SendText(s))] => Some(s),
        _ => None,
    }
}

// ---------- slash commands ----------

#[test]
fn close_with_code_and_reason_closes_the_session() {
    let mut a = logged_in(false);
    type_str(&mut a, "/close 4000 bye");
    let cmds = press(&mut a, KeyCode::Enter);
    match &cmds[..] {
        [Command::Net(NetCommand::Close { code, reason })] => {
            assert_eq!((*code, reason.as_str()), (4000, "bye"));
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert_eq!(a.input().value(), "", "the command line is taken");
}

#[test]
fn invalid_close_code_is_explained_and_the_line_kept() {
    let mut a = logged_in(false);
    type_str(&mut a, "/close 1006 gone");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert!(
        notice(&a).contains("1000 (normal) or 3000–4999"),
        "{}",
        notice(&a)
    );
    assert_eq!(a.input().value(), "/close 1006 gone");
}

#[test]
fn double_slash_sends_a_literal_slash_and_plain_lines_go_as_typed() {
    let mut a = logged_in(false);
    type_str(&mut a, "//x");
    assert_eq!(sent_text(&press(&mut a, KeyCode::Enter)), Some("/x"));
    type_str(&mut a, "a /b");
    assert_eq!(sent_text(&press(&mut a, KeyCode::Enter)), Some("a /b"));
    // ↑ recalls what was typed, not what was sent.
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Up);
    assert_eq!(a.input().value(), "//x");
}

#[test]
fn unknown_command_keeps_the_input_and_says_so() {
    let mut a = logged_in(false);
    type_str(&mut a, "/frobnicate now");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert_eq!(a.input().value(), "/frobnicate now");
    let n = notice(&a);
    assert!(n.contains("unknown command /frobnicate"), "{n}");
    assert!(n.contains("//frobnicate"), "says how to send it: {n}");
    let term = render(&mut a, 120, 24);
    assert!(screen(&term).contains("unknown command /frobnicate"));
}

#[test]
fn ping_send_file_record_export_help_and_clear() {
    let mut a = logged_in(false);
    type_str(&mut a, "/ping");
    assert!(matches!(
        &press(&mut a, KeyCode::Enter)[..],
        [Command::Net(NetCommand::Ping(_))]
    ));
    type_str(&mut a, "/send-file notes/today.txt");
    match &press(&mut a, KeyCode::Enter)[..] {
        [Command::SendFile { path, as_ }] => {
            assert_eq!(path, Path::new("notes/today.txt"));
            assert_eq!(*as_, wsdeck::model::SendAs::Auto);
        }
        other => panic!("{other:?}"),
    }
    type_str(&mut a, "/record on s.jsonl");
    match &press(&mut a, KeyCode::Enter)[..] {
        [Command::Record(Some(p))] => assert_eq!(p, Path::new("s.jsonl")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        a.recording().map(|p| p.as_path()),
        Some(Path::new("s.jsonl"))
    );
    type_str(&mut a, "/record on");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert!(notice(&a).contains("already recording"), "{}", notice(&a));
    a.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    type_str(&mut a, "/record off");
    assert!(matches!(
        &press(&mut a, KeyCode::Enter)[..],
        [Command::Record(None)]
    ));
    // Export needs something to export.
    a.update(Event::Net(NetEvent::Frame(frame(
        1,
        Direction::ServerToClient,
        Opcode::Text,
        b"server says hi",
    ))));
    type_str(&mut a, "/export out.har");
    match &press(&mut a, KeyCode::Enter)[..] {
        [Command::ExportHar(p)] => assert_eq!(p, Path::new("out.har")),
        other => panic!("{other:?}"),
    }
    type_str(&mut a, "/help");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert!(a.help_open());
    press(&mut a, KeyCode::Esc);
    // /clear empties the chat view; the monitor keeps its frames.
    assert!(screen(&render(&mut a, 120, 24)).contains("server says hi"));
    type_str(&mut a, "/clear");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    let s = screen(&render(&mut a, 120, 24));
    assert!(!s.contains("server says hi"), "{s}");
    assert_eq!(a.frames().len(), 1);
    press(&mut a, KeyCode::F(3));
    assert!(screen(&render(&mut a, 120, 24)).contains("server says hi"));
}

#[test]
fn send_file_waits_for_login_and_keeps_the_line() {
    let mut a = app(init_with(spec("admin", ""), false));
    press(&mut a, KeyCode::Tab); // password → auth
    press(&mut a, KeyCode::Tab); // → input
    assert_eq!(a.focus(), Focus::Input);
    type_str(&mut a, "/send-file x.bin");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert_eq!(a.input().value(), "/send-file x.bin");
    assert!(notice(&a).contains("not logged in"), "{}", notice(&a));
}

// ---------- snippets ----------

#[test]
fn function_keys_send_snippets_when_logged_in() {
    let mut a = logged_in(true);
    assert_eq!(
        sent_text(&press(&mut a, KeyCode::F(5))),
        Some("hello from wsdeck")
    );
    // F6 in the chat input is snippet 2 (binary).
    match &press(&mut a, KeyCode::F(6))[..] {
        [Command::Net(NetCommand::SendBinary(b))] => assert_eq!(b, &[0xde, 0xad, 0xbe, 0xef]),
        other => panic!("{other:?}"),
    }
    // In the monitor too.
    press(&mut a, KeyCode::F(3));
    assert_eq!(
        sent_text(&press(&mut a, KeyCode::F(7))),
        Some(r#"{"type":"ping","id":1}"#)
    );
    // Beyond the list: a notice.
    assert!(press(&mut a, KeyCode::F(12)).is_empty());
    assert!(notice(&a).contains("only 3 snippets"), "{}", notice(&a));
}

#[test]
fn snippets_before_login_give_a_notice_and_f6_still_reveals_the_password() {
    let mut a = app(init_with(spec("admin", "123456"), true));
    assert_eq!(a.focus(), Focus::Password);
    assert!(press(&mut a, KeyCode::F(5)).is_empty());
    assert!(notice(&a).contains("not logged in"), "{}", notice(&a));
    assert!(!a.login().revealed());
    assert!(press(&mut a, KeyCode::F(6)).is_empty());
    assert!(
        a.login().revealed(),
        "F6 on the login pane shows the password"
    );
    // Without snippets: the notice says where they come from.
    let mut b = logged_in(false);
    assert!(press(&mut b, KeyCode::F(5)).is_empty());
    assert!(notice(&b).contains("no snippets"), "{}", notice(&b));
}

// ---------- palette ----------

#[test]
fn palette_filters_and_enter_runs_the_chosen_item() {
    let mut a = logged_in(true);
    assert!(ctrl(&mut a, 'p').is_empty());
    let p = a.palette().expect("Ctrl-P opens the palette");
    let labels: Vec<&str> = p.items().iter().map(|i| i.label.as_str()).collect();
    for want in [
        "snippet: hello",
        "Monitor view",
        "Send ping",
        "Export HAR",
        "Quit",
        "connect @seed",
        "connect @api",
    ] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    type_str(&mut a, "monv");
    let p = a.palette().unwrap();
    assert_eq!(p.current().unwrap().label, "Monitor view");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert!(a.palette().is_none(), "Enter closes the palette");
    assert_eq!(a.view(), View::Monitor);

    // A snippet by name; ↓ picks the second match.
    ctrl(&mut a, 'p');
    type_str(&mut a, "snip");
    assert_eq!(
        a.palette().unwrap().current().unwrap().label,
        "snippet: hello"
    );
    press(&mut a, KeyCode::Down);
    assert_eq!(
        a.palette().unwrap().current().unwrap().label,
        "snippet: binary probe"
    );
    press(&mut a, KeyCode::Up);
    assert_eq!(
        sent_text(&press(&mut a, KeyCode::Enter)),
        Some("hello from wsdeck")
    );

    // Esc closes without running anything; nothing matching: Enter does nothing.
    ctrl(&mut a, 'p');
    type_str(&mut a, "qqqzzz");
    assert!(a.palette().unwrap().matches().is_empty());
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert!(a.palette().is_some());
    assert!(press(&mut a, KeyCode::Esc).is_empty());
    assert!(a.palette().is_none());

    // Quit from the palette.
    ctrl(&mut a, 'p');
    type_str(&mut a, "quit");
    assert!(matches!(
        &press(&mut a, KeyCode::Enter)[..],
        [Command::Quit]
    ));
}

#[test]
fn palette_connect_profile_fills_the_pane_and_connects() {
    let mut a = app(init_with(spec("", ""), true));
    ctrl(&mut a, 'p');
    type_str(&mut a, "@api");
    let cmds = press(&mut a, KeyCode::Enter);
    // The api profile's token comes from $PATH here, so it connects at once.
    match &cmds[..] {
        [Command::Connect(s)] => {
            assert_eq!(s.url, "wss://api.example.test/socket");
            assert_eq!(s.auth, AuthMethod::Bearer);
            assert_eq!(s.password.expose(), std::env::var("PATH").unwrap());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn palette_snapshot() {
    let mut a = logged_in(true);
    ctrl(&mut a, 'p');
    let term = render(&mut a, 100, 30);
    insta::assert_snapshot!("palette_open", term.backend());
    type_str(&mut a, "rec");
    let term = render(&mut a, 100, 30);
    let s = screen(&term);
    assert!(s.contains("Start recording"), "{s}");
    assert!(!s.contains("Monitor view"), "filtered out:\n{s}");
    insta::assert_snapshot!("palette_filtered", term.backend());
}

// ---------- profiles in the login pane ----------

#[test]
fn picking_a_profile_fills_the_pane_and_focuses_the_empty_password() {
    let mut a = app(init_with(ConnectSpec::new(URL), true));
    assert_eq!(a.focus(), Focus::User, "first empty field");
    // The Profile field is at the top of the pane.
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Up);
    assert_eq!(a.focus(), Focus::Profile);
    // → picks the first profile (alphabetical: api), → again the next (seed).
    press(&mut a, KeyCode::Right);
    assert_eq!(a.login().profile(), Some("api"));
    assert_eq!(a.login().auth(), AuthMethod::Bearer);
    press(&mut a, KeyCode::Right);
    assert_eq!(a.login().profile(), Some("seed"));
    assert_eq!(a.login().url(), "ws://127.0.0.1:5678");
    assert_eq!(a.login().user(), "admin");
    assert_eq!(a.login().auth(), AuthMethod::FirstMessage);
    assert!(a.login().password_is_empty(), "its password_env is unset");
    let term = render(&mut a, 100, 30);
    let s = screen(&term);
    assert!(s.contains("‹ @seed ›"), "{s}");
    insta::assert_snapshot!("login_profile_picked", term.backend());

    // Enter: the password is missing, so it is focused.
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    assert_eq!(a.focus(), Focus::Password);
    type_str(&mut a, "s3cret");
    let cmds = press(&mut a, KeyCode::Enter);
    match &cmds[..] {
        // The profile's `record` file first, so the handshake is in it.
        [Command::Record(Some(p)), Command::Connect(s)] => {
            assert_eq!(p, Path::new("seed-session.jsonl"));
            assert_eq!(s.url, "ws://127.0.0.1:5678");
            assert_eq!(s.user, "admin");
            assert_eq!(s.password.expose(), "s3cret");
            assert_eq!(s.login.template, "LOGIN {user} {password}");
            assert!(s.login.ok.is_match("welcome aboard"));
            assert_eq!(s.headers, vec![("X-Team".into(), "blue".into())]);
            assert_eq!(s.subprotocols, ["chat.v2"]);
        }
        other => panic!("{other:?}"),
    }
}

/// The login pane with the seed profile picked (→ → from the Profile field) and a password.
fn seed_picked() -> App {
    let mut a = app(init_with(ConnectSpec::new(URL), true));
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Right);
    press(&mut a, KeyCode::Right);
    assert_eq!(a.login().profile(), Some("seed"));
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.focus(), Focus::Password);
    type_str(&mut a, "s3cret");
    a
}

#[test]
fn a_picked_profile_records_once_and_never_over_a_running_recording() {
    let mut a = seed_picked();
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Command::Record(Some(p)), Command::Connect(_)] if p == Path::new("seed-session.jsonl")),
        "{cmds:?}"
    );
    a.update(Event::Recording(Some("seed-session.jsonl".into())));
    assert_eq!(a.recording(), Some(&"seed-session.jsonl".into()));
    // The user stops recording (`r` in the monitor) and connects again: the profile does
    // not start it over (that would truncate the file).
    a.update(Event::Recording(None));
    a.update(Event::Net(NetEvent::Ended));
    press(&mut a, KeyCode::Tab);
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]), "{cmds:?}");

    // Already recording elsewhere (`--record FILE`): that recording is kept.
    let mut b = app(init_with(ConnectSpec::new(URL), true));
    b.update(Event::Recording(Some("flag.jsonl".into())));
    press(&mut b, KeyCode::Up);
    press(&mut b, KeyCode::Up);
    press(&mut b, KeyCode::Right);
    press(&mut b, KeyCode::Right);
    press(&mut b, KeyCode::Enter);
    type_str(&mut b, "s3cret");
    let cmds = press(&mut b, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Command::Connect(_)]), "{cmds:?}");
    assert_eq!(b.recording(), Some(&"flag.jsonl".into()));
}

#[test]
fn a_profiles_own_snippets_come_first_while_it_is_in_use() {
    // Picked in the login pane.
    let mut a = seed_picked();
    press(&mut a, KeyCode::Enter);
    log_in(&mut a);
    assert_eq!(sent_text(&press(&mut a, KeyCode::F(5))), Some("hello seed"));
    assert_eq!(
        sent_text(&press(&mut a, KeyCode::F(6))),
        Some("hello from wsdeck")
    );
    // The palette offers it too.
    ctrl(&mut a, 'p');
    type_str(&mut a, "seed hello");
    assert!(screen(&render(&mut a, 100, 30)).contains("seed hello"));

    // Started as `connect @seed`.
    let mut s = ConnectSpec::new("ws://127.0.0.1:5678");
    s.user = "admin".into();
    s.password = Secret::new("s3cret");
    let mut b = app(AppInit {
        profile: Some("seed".into()),
        ..init_with(s, true)
    });
    assert_eq!(b.login().profile(), Some("seed"));
    let cmds = press(&mut b, KeyCode::Enter);
    // Its recording is the runtime's (`--record`/profile at start), not asked again here.
    assert!(matches!(&cmds[..], [Command::Connect(_)]), "{cmds:?}");
    log_in(&mut b);
    assert_eq!(sent_text(&press(&mut b, KeyCode::F(5))), Some("hello seed"));

    // No profile in use: the global snippets only.
    let mut c = logged_in(true);
    assert_eq!(
        sent_text(&press(&mut c, KeyCode::F(5))),
        Some("hello from wsdeck")
    );
}

#[test]
fn profile_password_comes_from_its_environment_variable() {
    let mut a = app(init_with(ConnectSpec::new(URL), true));
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus(), Focus::Url);
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus(), Focus::Profile);
    press(&mut a, KeyCode::Left); // from none, ← goes to the last: seed
    press(&mut a, KeyCode::Left); // api
    assert_eq!(a.login().profile(), Some("api"));
    assert_eq!(
        a.login().password_chars(),
        std::env::var("PATH").unwrap().chars().count()
    );
    // The token is masked on screen.
    let s = screen(&render(&mut a, 100, 30));
    assert!(!s.contains(&std::env::var("PATH").unwrap()[..8]), "{s}");
}

#[test]
fn profile_picker_in_a_narrow_terminal() {
    let mut a = app(init_with(ConnectSpec::new(URL), true));
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Up);
    let term = render(&mut a, 70, 24);
    let s = screen(&term);
    assert!(s.contains("Profile"), "{s}");
    assert!(s.contains("choose one of 2"), "{s}");
    insta::assert_snapshot!("login_profile_narrow", term.backend());
}

#[test]
fn a_session_started_from_a_profile_shows_it_picked() {
    // `connect @seed` fills the spec from the profile.
    let mut s = ConnectSpec::new("ws://127.0.0.1:5678");
    s.user = "admin".into();
    let mut a = app(init_with(s, true));
    assert_eq!(a.login().profile(), Some("seed"));
    assert!(screen(&render(&mut a, 100, 30)).contains("@seed"));
    // Any other spec: none picked.
    let b = app(init_with(spec("admin", ""), true));
    assert_eq!(b.login().profile(), None);
}

#[test]
fn without_profiles_there_is_no_profile_field() {
    let mut a = app(init_with(ConnectSpec::new(URL), false));
    let s = screen(&render(&mut a, 100, 30));
    assert!(!s.contains("Profile"), "{s}");
    press(&mut a, KeyCode::Up);
    assert_eq!(a.focus(), Focus::Url);
    press(&mut a, KeyCode::Up);
    assert_eq!(a.focus(), Focus::Url, "nothing above the URL");
}

// ---------- copy ----------

#[test]
fn y_in_the_monitor_copies_the_selected_frame() {
    let mut a = logged_in(false);
    a.update(Event::Net(NetEvent::Frame(frame(
        1,
        Direction::ServerToClient,
        Opcode::Text,
        b"{\"a\":1}",
    ))));
    a.update(Event::Net(NetEvent::Frame(frame(
        2,
        Direction::ServerToClient,
        Opcode::Binary,
        &[0x00, 0xff, 0x10],
    ))));
    press(&mut a, KeyCode::F(3));
    // The newest (binary) frame is selected: hex.
    match &press(&mut a, KeyCode::Char('y'))[..] {
        [Command::Copy(s)] => assert_eq!(s, "00ff10"),
        other => panic!("{other:?}"),
    }
    assert!(
        notice(&a).contains("copied 6 bytes (hex)"),
        "{}",
        notice(&a)
    );
    press(&mut a, KeyCode::Char('k'));
    match &press(&mut a, KeyCode::Char('y'))[..] {
        [Command::Copy(s)] => assert_eq!(s, "{\"a\":1}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn f4_in_the_chat_copies_the_last_message_shown_in_full() {
    let mut a = logged_in(false);
    // Longer than the history keeps (8 KiB): the monitor's store has all of it.
    let long: String = (0..20_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    a.update(Event::Net(NetEvent::Frame(frame(
        1,
        Direction::ServerToClient,
        Opcode::Text,
        b"older",
    ))));
    a.update(Event::Net(NetEvent::Frame(frame(
        2,
        Direction::ServerToClient,
        Opcode::Text,
        long.as_bytes(),
    ))));
    render(&mut a, 100, 30);
    match &press(&mut a, KeyCode::F(4))[..] {
        [Command::Copy(s)] => assert_eq!(s, &long),
        other => panic!("{other:?}"),
    }
    // Too big for a clipboard sequence: cut, with a notice.
    let huge = "x".repeat(300_000);
    a.update(Event::Net(NetEvent::Frame(frame(
        3,
        Direction::ServerToClient,
        Opcode::Text,
        huge.as_bytes(),
    ))));
    match &press(&mut a, KeyCode::F(4))[..] {
        [Command::Copy(s)] => assert_eq!(s.len(), wsdeck::app::COPY_MAX_BYTES),
        other => panic!("{other:?}"),
    }
    assert!(
        notice(&a).contains("copied the first 100000 of 300000"),
        "{}",
        notice(&a)
    );
    // Nothing to copy in an empty history.
    let mut b = app(init_with(spec("admin", ""), false));
    assert!(press(&mut b, KeyCode::F(4)).is_empty());
    assert!(notice(&b).contains("nothing to copy"), "{}", notice(&b));
}

#[test]
fn copied_login_frame_never_holds_the_password() {
    let mut a = app(init_with(spec("admin", "hunter2"), false));
    press(&mut a, KeyCode::Enter);
    for s in [
        ConnState::Connecting,
        ConnState::Handshaking,
        ConnState::LoggingIn,
    ] {
        a.update(Event::Net(NetEvent::State(s)));
    }
    // An unredacted login frame (as with --no-redact) arrives first.
    a.update(Event::Net(NetEvent::Frame(frame(
        1,
        Direction::ClientToServer,
        Opcode::Text,
        b"admin:hunter2",
    ))));
    a.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
    render(&mut a, 100, 30);
    let chat = press(&mut a, KeyCode::F(4));
    press(&mut a, KeyCode::F(3));
    let monitor = press(&mut a, KeyCode::Char('y'));
    for cmds in [chat, monitor] {
        match &cmds[..] {
            [Command::Copy(s)] => {
                assert!(!s.contains("hunter2"), "{s}");
                assert!(s.contains("admin:"), "{s}");
            }
            other => panic!("{other:?}"),
        }
    }
}

// ---------- NO_COLOR and the default theme ----------

fn cells(term: &Terminal<TestBackend>) -> Vec<ratatui::buffer::Cell> {
    term.backend().buffer().content().to_vec()
}

/// Everything drawn in one place: login pane with an error, chat, monitor with a selection and
/// JSON detail, the palette, the help overlay.
fn colourful_screens() -> Vec<Terminal<TestBackend>> {
    let mut a = logged_in(true);
    for (i, p) in [&b"{\"type\":\"tick\",\"n\":1}"[..], b"plain", &[1, 2, 3]]
        .iter()
        .enumerate()
    {
        let op = if i == 2 { Opcode::Binary } else { Opcode::Text };
        a.update(Event::Net(NetEvent::Frame(frame(
            i as u64 + 1,
            Direction::ServerToClient,
            op,
            p,
        ))));
    }
    type_str(&mut a, "/nope");
    press(&mut a, KeyCode::Enter);
    let mut out = vec![render(&mut a, 110, 30)];
    press(&mut a, KeyCode::F(3));
    press(&mut a, KeyCode::Char('k'));
    press(&mut a, KeyCode::Char('k'));
    out.push(render(&mut a, 110, 30));
    ctrl(&mut a, 'p');
    out.push(render(&mut a, 110, 30));
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::F(1));
    out.push(render(&mut a, 110, 30));
    out
}

#[test]
fn default_theme_reads_on_light_and_dark_and_no_color_has_none() {
    // Default look: colour as accents only. No black or white backgrounds, and a coloured
    // background always comes with its own foreground (so it reads on any terminal).
    wsdeck::ui::theme::set_no_color(false);
    let screens = colourful_screens();
    let mut coloured = 0;
    for term in &screens {
        for c in cells(term) {
            if c.fg != Color::Reset {
                coloured += 1;
            }
            assert!(
                !matches!(c.bg, Color::Black | Color::White),
                "hard-coded {:?} background at {:?}",
                c.bg,
                c.symbol()
            );
            if c.bg != Color::Reset {
                assert_ne!(c.fg, Color::Reset, "background without foreground: {c:?}");
            }
        }
    }
    assert!(coloured > 50, "the default look has colour accents");

    // NO_COLOR: not one colour, but the screen is the same text.
    wsdeck::ui::theme::set_no_color(true);
    let plain = colourful_screens();
    for (term, coloured) in plain.iter().zip(&screens) {
        assert_eq!(screen(term), screen(coloured));
        for c in cells(term) {
            assert_eq!(
                (c.fg, c.bg, c.underline_color),
                (Color::Reset, Color::Reset, Color::Reset),
                "colour in NO_COLOR mode at {:?}",
                c.symbol()
            );
        }
    }
    // Highlights survive as reverse video (the selected monitor row, key hints).
    let monitor = &plain[1];
    assert!(
        cells(monitor)
            .iter()
            .any(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
    );
    wsdeck::ui::theme::set_no_color(false);
}

#[test]
fn no_color_env_value_rules() {
    use std::ffi::OsStr;
    use wsdeck::ui::theme::no_color_requested;
    assert!(!no_color_requested(None));
    assert!(!no_color_requested(Some(OsStr::new(""))));
    assert!(no_color_requested(Some(OsStr::new("1"))));
    assert!(
        no_color_requested(Some(OsStr::new("false"))),
        "any value counts"
    );
}

// ---------- mouse ----------

#[test]
fn clicks_focus_login_fields_and_the_input() {
    let mut a = app(init_with(spec("admin", ""), true));
    assert_eq!(a.focus(), Focus::Password);
    let term = render(&mut a, 110, 30);
    click(&mut a, find(&term, "URL"));
    assert_eq!(a.focus(), Focus::Url);
    let term = render(&mut a, 110, 30);
    // The value row of a field counts too.
    let (x, y) = find(&term, "admin");
    click(&mut a, (x + 1, y));
    assert_eq!(a.focus(), Focus::User);
    let term = render(&mut a, 110, 30);
    click(&mut a, find(&term, "Profile"));
    assert_eq!(a.focus(), Focus::Profile);
    let term = render(&mut a, 110, 30);
    click(&mut a, find(&term, "Messages"));
    assert_eq!(a.focus(), Focus::Input);
    // A dimmed field (not used with this auth method) is not focused.
    let mut b = app(init_with(spec("admin", ""), false));
    press(&mut b, KeyCode::Tab);
    for _ in 0..3 {
        press(&mut b, KeyCode::Left); // auth: … → none
        if b.login().auth() == AuthMethod::None {
            break;
        }
    }
    assert_eq!(b.login().auth(), AuthMethod::None);
    let term = render(&mut b, 110, 30);
    click(&mut b, find(&term, "User"));
    assert_eq!(b.focus(), Focus::Auth);
    // Narrow layout: the pane is on top, one row per field.
    let mut c = app(init_with(spec("admin", ""), false));
    let term = render(&mut c, 70, 24);
    click(&mut c, find(&term, "URL"));
    assert_eq!(c.focus(), Focus::Url);
}

#[test]
fn click_selects_a_monitor_row() {
    let mut a = logged_in(false);
    for i in 1..=5u64 {
        a.update(Event::Net(NetEvent::Frame(frame(
            i,
            Direction::ServerToClient,
            Opcode::Text,
            format!("row number {i}").as_bytes(),
        ))));
    }
    press(&mut a, KeyCode::F(3));
    let term = render(&mut a, 110, 30);
    let newest = a.monitor().selected_abs();
    click(&mut a, find(&term, "row number 2"));
    let sel = a.monitor().selected_abs().unwrap();
    assert_ne!(Some(sel), newest);
    assert_eq!(
        a.monitor().frame(sel).unwrap().payload,
        b"row number 2",
        "the clicked row is selected"
    );
    // Clicks while the palette is open do nothing.
    let row4 = find(&render(&mut a, 110, 30), "row number 4");
    ctrl(&mut a, 'p');
    render(&mut a, 110, 30);
    click(&mut a, row4);
    assert_eq!(a.monitor().selected_abs(), Some(sel));
}

#[test]
fn clicks_in_a_second_tab_land_below_the_tab_bar() {
    // The deck draws a tab bar above the session: the clickable rows move with it.
    let mut a = app(init_with(spec("admin", ""), false));
    let mut term = Terminal::new(TestBackend::new(110, 30)).unwrap();
    let mut fb = None;
    term.draw(|f| {
        let area = f.area();
        let rest = ratatui::layout::Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        fb = Some(wsdeck::ui::draw_in(
            f,
            rest,
            &a,
            std::time::SystemTime::now(),
            &mut wsdeck::ui::ViewCache::default(),
        ));
    })
    .unwrap();
    a.update(Event::Drawn(fb.unwrap()));
    click(&mut a, find(&term, "URL"));
    assert_eq!(a.focus(), Focus::Url);
}

// ---------- end to end: runtime + embedded server ----------

mod e2e {
    use super::*;
    use wsdeck::runtime::{Clipboard, Exit, RunOptions};

    fn launch(
        init: AppInit,
        opts: RunOptions,
    ) -> (
        common::runtime::Harness,
        tokio::task::JoinHandle<anyhow::Result<Exit>>,
    ) {
        common::runtime::launch(init, opts, (140, 30))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn send_file_snippet_and_copy_through_the_runtime() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let server = common::runtime::demo_server().await;
                let url = format!("ws://{}", server.local_addr());
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("note.txt");
                std::fs::write(&file, "contents of the note file").unwrap();

                let mut spec = ConnectSpec::new(&url);
                spec.user = "admin".into();
                spec.password = Secret::new("123456");
                spec.ping_interval = None;
                let copied = Arc::new(Mutex::new(Vec::<String>::new()));
                let sink = copied.clone();
                let opts = RunOptions {
                    clipboard: Some(Clipboard::new(move |s| {
                        sink.lock().unwrap().push(s.to_string());
                        Ok(())
                    })),
                    ..RunOptions::default()
                };
                let (h, handle) = launch(init_with(spec, true), opts);

                h.press(KeyCode::Enter);
                h.wait_for("logged in as admin").await;

                // /send-file: the runtime reads the file and sends it; the server echoes it.
                h.type_text(&format!("/send-file {}", file.display()));
                h.press(KeyCode::Enter);
                h.wait_for("your submit context: contents of the note file")
                    .await;
                // A file that is not there: a notice, nothing sent.
                h.type_text("/send-file /nonexistent/wsdeck-app6.txt");
                h.press(KeyCode::Enter);
                h.wait_for("cannot read /nonexistent/wsdeck-app6.txt").await;

                // F5: the first snippet, echoed.
                h.press(KeyCode::F(5));
                h.wait_for("your submit context: hello from wsdeck").await;

                // F4 copies the newest message shown: the echo.
                tokio::time::sleep(Duration::from_millis(100)).await;
                h.press(KeyCode::F(4));
                h.wait_for("to the clipboard").await;
                let got = copied.lock().unwrap().clone();
                assert_eq!(got.len(), 1, "{got:?}");
                assert!(
                    got[0].starts_with("your submit context: hello from wsdeck"),
                    "{got:?}"
                );

                // /close 4000 bye: the server answers the close; the history says so.
                h.type_text("/close 4000 bye");
                h.press(KeyCode::Enter);
                h.wait_for("you closed the connection: 4000").await;

                h.quit(handle).await;
                server.shutdown().await;
            })
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn copy_without_a_clipboard_says_so() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let server = common::runtime::demo_server().await;
                let mut spec = ConnectSpec::new(format!("ws://{}", server.local_addr()));
                spec.user = "admin".into();
                spec.password = Secret::new("123456");
                spec.ping_interval = None;
                let (h, handle) = launch(init_with(spec, false), RunOptions::default());
                h.press(KeyCode::Enter);
                h.wait_for("logged in as admin").await;
                h.press(KeyCode::F(4));
                h.wait_for("no clipboard in this run").await;
                h.key(KeyCode::Char('c'), KeyModifiers::CONTROL);
                tokio::time::timeout(Duration::from_secs(10), handle)
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap();
                server.shutdown().await;
            })
            .await;
    }
}

#[test]
fn osc52_sequence_is_base64_between_the_escapes() {
    let s = wsdeck::runtime::osc52("héllo");
    assert_eq!(s, "\u{1b}]52;c;aMOpbGxv\u{1b}\\");
}
