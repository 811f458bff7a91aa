//! Reconnecting after a drop (issue 5): the embedded demo server killed and restarted on the
//! same port under a connected client, lines sent meanwhile delivered once after the new
//! login, the backoff, the cases that must not reconnect, cancelling, and a silent peer found
//! by the ping timeout. Also the App's side: queued lines shown as pending, then as sent once.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use clap::Parser as _;
use common::GUARD;
use common::client::Client;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::net::TcpListener;
use tokio::time::timeout;
use wsdeck::app::{App, AppInit, Command, Event};
use wsdeck::model::{
    ConnState, Direction, FrameRecord, LoginOutcome, NetCommand, NetErrorKind, NetEvent, Opcode,
    Secret,
};
use wsdeck::server::{LOGIN_OK_REPLY, RunningServer, SHUTDOWN_REASON, ServerConfig};
use wsdeck::spec::{AuthMethod, ConnectSpec};

const USER: &str = "admin";
const PASSWORD: &str = "123456";

// ---------------------------------------------------------------- helpers

/// What these tests ask of a session beyond `common::client::Client`.
trait ReconnectWatch {
    /// The next `Reconnecting` state: (attempt, retry_at, reason, when it was seen).
    async fn until_reconnecting(&mut self) -> (u32, SystemTime, String, SystemTime);
    /// Frames sent with exactly this text.
    fn sent(&self, text: &str) -> usize;
    /// Frames received containing this text.
    fn received(&self, needle: &str) -> usize;
    fn reconnecting_count(&self) -> usize;
    /// The session ended on the server's shutdown Close (1001).
    fn assert_closed_by_shutdown(&self);
}

impl ReconnectWatch for Client {
    fn assert_closed_by_shutdown(&self) {
        assert_eq!(
            self.states().last(),
            Some(&ConnState::Closed {
                code: Some(1001),
                reason: SHUTDOWN_REASON.into()
            }),
            "{:#?}",
            self.states()
        );
    }

    async fn until_reconnecting(&mut self) -> (u32, SystemTime, String, SystemTime) {
        let s = self
            .until_state("reconnecting", |s| {
                matches!(s, ConnState::Reconnecting { .. })
            })
            .await;
        let seen_at = self.seen.last().unwrap().0;
        match s {
            ConnState::Reconnecting {
                attempt,
                retry_at,
                reason,
                ..
            } => (attempt, retry_at, reason, seen_at),
            _ => unreachable!(),
        }
    }

    fn sent(&self, text: &str) -> usize {
        self.frames()
            .iter()
            .filter(|f| f.dir == Direction::ClientToServer && f.text() == Some(text))
            .count()
    }

    fn received(&self, needle: &str) -> usize {
        self.frames()
            .iter()
            .filter(|f| {
                f.dir == Direction::ServerToClient && f.text().is_some_and(|t| t.contains(needle))
            })
            .count()
    }

    fn reconnecting_count(&self) -> usize {
        self.states()
            .iter()
            .filter(|s| matches!(s, ConnState::Reconnecting { .. }))
            .count()
    }
}

/// The embedded server on a free loopback port, with the test password.
async fn server() -> RunningServer {
    server_on("127.0.0.1:0".parse().unwrap(), PASSWORD).await
}

async fn server_on(addr: SocketAddr, password: &str) -> RunningServer {
    let cfg = ServerConfig::new(addr, USER, Secret::new(password));
    wsdeck::server::start(cfg)
        .await
        .expect("start the demo server")
}

/// Start the demo server again on the port the killed one had (retrying briefly while the
/// old socket is let go).
async fn restart_on(addr: SocketAddr, password: &str) -> RunningServer {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let cfg = ServerConfig::new(addr, USER, Secret::new(password));
        match wsdeck::server::start(cfg).await {
            Ok(s) => return s,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("rebinding {addr}: {e:#}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot listen on {addr} again: {e:#}"),
        }
    }
}

fn login_spec(addr: SocketAddr) -> ConnectSpec {
    let mut spec = ConnectSpec::new(format!("ws://{addr}/"));
    spec.user = USER.into();
    spec.password = Secret::new(PASSWORD);
    // Keep the frame list to what the tests do (pings have their own test).
    spec.ping_interval = None;
    spec
}

fn assert_numbered_from_1(frames: &[FrameRecord]) {
    let seqs: Vec<u64> = frames.iter().map(|f| f.seq).collect();
    assert_eq!(seqs, (1..=frames.len() as u64).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- the restart

#[tokio::test]
async fn server_restart_reconnects_logs_in_again_and_delivers_the_queued_line_once() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::start(login_spec(addr));
    c.until_logged_in().await;
    c.send(NetCommand::SendText("before the restart".into()));
    c.until_text("your submit context: before the restart")
        .await;

    server.shutdown().await;
    // The server said 1001 Going Away: that invites a retry.
    let (a1, at1, why1, seen1) = c.until_reconnecting().await;
    assert_eq!(a1, 1);
    assert!(
        why1.contains("1001") && why1.contains(SHUTDOWN_REASON),
        "{why1}"
    );
    // Sent while nothing is connected: queued by the task.
    c.send(NetCommand::SendText("while you were away".into()));
    c.send(NetCommand::SendText("and a second line".into()));

    // Nobody listens: the tries are refused and the delays grow.
    let (a2, at2, why2, _) = c.until_reconnecting().await;
    let (a3, at3, _, _) = c.until_reconnecting().await;
    assert_eq!((a2, a3), (2, 3));
    assert!(why2.contains("refused"), "{why2}");
    // One-sided bounds that hold however slow the machine: the first delay is at most 0.5 s;
    // each later try is announced only after the previous one started and waits at least
    // 80 % of its doubled delay.
    assert!(at1.duration_since(seen1).unwrap_or_default() <= Duration::from_millis(500));
    assert!(at2.duration_since(at1).unwrap() >= Duration::from_millis(800));
    assert!(at3.duration_since(at2).unwrap() >= Duration::from_millis(1600));

    let _server = restart_on(addr, PASSWORD).await;
    c.until("the new login", |e| {
        matches!(e, NetEvent::Login(LoginOutcome::Accepted { .. }))
    })
    .await;
    c.until_logged_in().await;
    c.until_text("your submit context: while you were away")
        .await;
    c.until_text("your submit context: and a second line").await;
    // Anything sent twice would be echoed before this one.
    c.send(NetCommand::SendText("after".into()));
    c.until_text("your submit context: after").await;

    assert_eq!(c.sent("while you were away"), 1);
    assert_eq!(c.sent("and a second line"), 1);
    assert_eq!(c.received("your submit context: while you were away"), 1);
    assert_eq!(c.received("your submit context: and a second line"), 1);

    // The queued lines went out right after the new login, in order, and nothing was sent
    // while disconnected.
    let events = c.events();
    let pos = |pred: &dyn Fn(&NetEvent) -> bool| events.iter().rposition(pred).unwrap();
    let relogin = pos(&|e| matches!(e, NetEvent::State(ConnState::LoggedIn)));
    let first =
        pos(&|e| matches!(e, NetEvent::Frame(f) if f.text() == Some("while you were away")));
    let second = pos(&|e| matches!(e, NetEvent::Frame(f) if f.text() == Some("and a second line")));
    assert!(relogin < first && first < second, "{events:#?}");

    // Frame numbers go on across the reconnection; two handshakes, two logins (redacted).
    let frames = c.frames();
    assert_numbered_from_1(&frames);
    let handshakes = events
        .iter()
        .filter(|e| matches!(e, NetEvent::Handshake(_)))
        .count();
    assert_eq!(handshakes, 2);
    let logins: Vec<&FrameRecord> = frames
        .iter()
        .filter(|f| f.dir == Direction::ClientToServer && f.redacted)
        .collect();
    assert_eq!(logins.len(), 2);
    assert!(logins.iter().all(|f| f.text() == Some("admin:***")));
    assert_eq!(c.received(LOGIN_OK_REPLY), 2);
    assert!(!format!("{events:?}").contains(PASSWORD));

    // The states in between: each try goes through the usual steps.
    let states = c.states();
    let from = states
        .iter()
        .position(|s| matches!(s, ConnState::Reconnecting { .. }))
        .unwrap();
    let tail = &states[from..];
    assert!(matches!(tail.last(), Some(ConnState::LoggedIn)));
    assert!(
        tail.iter().filter(|s| **s == ConnState::Connecting).count() >= 3,
        "{tail:#?}"
    );
    assert!(
        !tail
            .iter()
            .any(|s| matches!(s, ConnState::Failed(_) | ConnState::Closed { .. })),
        "{tail:#?}"
    );
}

#[tokio::test]
async fn a_lost_connection_reconnects_at_once_when_the_server_is_back() {
    // Dropping the server cuts every connection without a Close frame.
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::start(login_spec(addr));
    c.until_logged_in().await;
    drop(server);
    let (attempt, _, why, _) = c.until_reconnecting().await;
    assert_eq!(attempt, 1);
    assert!(why.starts_with("connection lost"), "{why}");
    let _server = restart_on(addr, PASSWORD).await;
    c.until_logged_in().await;
    c.send(NetCommand::SendText("still here".into()));
    c.until_text("your submit context: still here").await;
    assert_numbered_from_1(&c.frames());
}

// ---------------------------------------------------------------- no reconnect

#[tokio::test]
async fn a_rejected_login_after_reconnecting_is_not_retried() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::start(login_spec(addr));
    c.until_logged_in().await;
    server.shutdown().await;
    c.until_reconnecting().await;
    // The password changed while the server was down.
    let server = restart_on(addr, "changed").await;
    c.until("the rejection", |e| {
        matches!(e, NetEvent::Login(LoginOutcome::Rejected { .. }))
    })
    .await;
    c.until_state("awaiting login", |s| *s == ConnState::AwaitingLogin)
        .await;
    let tries = c.reconnecting_count();
    // The user has to act: a drop now ends the session.
    server.shutdown().await;
    c.until_ended().await;
    assert_eq!(c.reconnecting_count(), tries, "{:#?}", c.states());
    c.assert_closed_by_shutdown();
}

#[tokio::test]
async fn a_drop_before_the_first_login_is_not_retried() {
    let server = server().await;
    let mut spec = login_spec(server.local_addr());
    spec.password = Secret::new("wrong");
    let mut c = Client::start(spec);
    c.until_state("awaiting login", |s| *s == ConnState::AwaitingLogin)
        .await;
    server.shutdown().await;
    c.until_ended().await;
    assert_eq!(c.reconnecting_count(), 0, "{:#?}", c.states());
    assert!(matches!(
        c.states().last(),
        Some(ConnState::Closed {
            code: Some(1001),
            ..
        })
    ));
}

#[tokio::test]
async fn the_users_close_is_not_followed_by_a_reconnect() {
    let server = server().await;
    let mut c = Client::start(login_spec(server.local_addr()));
    c.until_logged_in().await;
    c.send(NetCommand::Close {
        code: 1000,
        reason: "bye".into(),
    });
    c.until_ended().await;
    assert_eq!(c.reconnecting_count(), 0);
    let states = c.states();
    assert_eq!(
        states[states.len() - 2..],
        [
            ConnState::Closing,
            ConnState::Closed {
                code: Some(1000),
                reason: "bye".into()
            }
        ]
    );
}

#[tokio::test]
async fn no_reconnect_flag_ends_with_the_servers_close() {
    let server = server().await;
    let url = format!("ws://{}/", server.local_addr());
    let cli = wsdeck::cli::Cli::parse_from([
        "wsdeck",
        "pipe",
        &url,
        "--user",
        USER,
        "--no-reconnect",
        "--ping-interval",
        "0",
    ]);
    let Some(wsdeck::cli::Command::Pipe(args)) = cli.command else {
        panic!("not a pipe command")
    };
    let mut spec = wsdeck::spec::ConnectSpec::new(&url);
    args.conn.overrides().apply(&mut spec).unwrap();
    assert!(!spec.reconnect);
    assert_eq!(spec.ping_interval, None);
    spec.password = Secret::new(PASSWORD);
    let mut c = Client::start(spec);
    c.until_logged_in().await;
    server.shutdown().await;
    c.until_ended().await;
    assert_eq!(c.reconnecting_count(), 0);
    c.assert_closed_by_shutdown();
}

#[tokio::test]
async fn cancel_reconnect_stops_trying_and_drops_the_queue() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::start(login_spec(addr));
    c.until_logged_in().await;
    server.shutdown().await;
    c.until_reconnecting().await;
    c.send(NetCommand::SendText("never sent".into()));
    c.send(NetCommand::CancelReconnect);
    c.until_ended().await;
    // It ends the way the drop left it: the server's 1001.
    c.assert_closed_by_shutdown();
    assert_eq!(c.sent("never sent"), 0);
    // A server back on the port sees no new connection from this client.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let l = TcpListener::bind(addr).await;
    if let Ok(l) = l {
        tokio::spawn(async move {
            if let Ok((s, _)) = l.accept().await {
                let _ = tx.send(s);
            }
        });
        assert!(
            timeout(Duration::from_millis(1500), rx.recv())
                .await
                .is_err(),
            "the client connected again after the cancel"
        );
    }
}

#[tokio::test]
async fn cancel_during_a_try_ends_it_too() {
    // A port where a connection is accepted but never upgraded: the try hangs in the
    // handshake until cancelled.
    let server = server().await;
    let addr = server.local_addr();
    let mut spec = login_spec(addr);
    spec.connect_timeout = GUARD * 2;
    let mut c = Client::start(spec);
    c.until_logged_in().await;
    server.shutdown().await;
    let (accepted_tx, accepted_rx) = tokio::sync::oneshot::channel();
    let l = loop {
        match TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let _ = accepted_tx.send(());
        tokio::time::sleep(GUARD).await;
        drop(s);
    });
    c.until_state("handshaking again", |s| *s == ConnState::Handshaking)
        .await;
    timeout(GUARD, accepted_rx).await.unwrap().unwrap();
    c.send(NetCommand::CancelReconnect);
    c.until_ended().await;
    assert!(matches!(
        c.states().last(),
        Some(ConnState::Closed {
            code: Some(1001),
            ..
        })
    ));
}

#[tokio::test]
async fn an_http_refusal_on_reconnect_ends_the_session() {
    let server = server().await;
    let addr = server.local_addr();
    let mut c = Client::start(login_spec(addr));
    c.until_logged_in().await;
    server.shutdown().await;
    c.until_reconnecting().await;
    // Whatever is on the port now answers 403.
    let l = loop {
        match TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    c.until_ended().await;
    let last = c.states().last().cloned();
    assert!(
        matches!(&last, Some(ConnState::Failed(e)) if e.kind == NetErrorKind::Http(403)),
        "{last:?}"
    );
}

// ---------------------------------------------------------------- the ping timeout

#[tokio::test]
async fn a_silent_peer_is_found_by_the_ping_timeout() {
    // Completes the upgrade, then never reads or writes again (so no pong either).
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        // One connection only: later tries are refused.
        drop(l);
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        tokio::time::sleep(GUARD).await;
        drop(ws);
    });
    let mut spec = ConnectSpec::new(format!("ws://{addr}/"));
    spec.auth = AuthMethod::None;
    spec.ping_interval = Some(Duration::from_millis(100));
    spec.ping_timeout = Some(Duration::from_millis(600));
    let mut c = Client::start(spec);
    c.until_logged_in().await;
    let (attempt, _, why, _) = c.until_reconnecting().await;
    assert_eq!(attempt, 1);
    assert_eq!(
        why,
        "connection lost: no pong or other frame within 600 ms (ping timeout)"
    );
    // Pings went out and none was answered.
    let frames = c.frames();
    assert!(frames.iter().any(|f| f.dir == Direction::ClientToServer
        && f.opcode == Opcode::Ping
        && f.payload.as_ref() == b"wsdeck 1"));
    assert!(!frames.iter().any(|f| f.opcode == Opcode::Pong));
    c.send(NetCommand::CancelReconnect);
    c.until_ended().await;
    let last = c.states().last().cloned();
    assert!(
        matches!(&last, Some(ConnState::Failed(e)) if e.kind == NetErrorKind::Timeout
            && e.message.contains("ping timeout")),
        "{last:?}"
    );
}

#[tokio::test]
async fn the_ping_timeout_defaults_to_twice_the_interval_at_least_10_s() {
    let mut spec = ConnectSpec::new("ws://127.0.0.1:1/");
    assert_eq!(spec.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(spec.effective_ping_timeout(), Some(Duration::from_secs(40)));
    spec.ping_interval = Some(Duration::from_secs(2));
    assert_eq!(spec.effective_ping_timeout(), Some(Duration::from_secs(10)));
    spec.ping_timeout = Some(Duration::from_secs(3));
    assert_eq!(spec.effective_ping_timeout(), Some(Duration::from_secs(3)));
    spec.ping_interval = None;
    assert_eq!(spec.effective_ping_timeout(), None);
}

// ---------------------------------------------------------------- the App's side

fn render(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(100, 24)).unwrap();
    term.draw(|f| {
        wsdeck::ui::draw(f, app);
    })
    .unwrap();
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

/// Feed a session's events to the App and carry out its commands, like the runtime does.
async fn pump(app: &mut App, c: &mut Client, what: &str, pred: impl Fn(&NetEvent) -> bool) {
    loop {
        let ev = c.next().await;
        let done = pred(&ev);
        for cmd in app.update(Event::Net(ev)) {
            if let Command::Net(n) = cmd {
                c.send(n);
            }
        }
        if done {
            return;
        }
        assert!(
            !matches!(c.seen.last(), Some((_, NetEvent::Ended))),
            "ended before {what}"
        );
    }
}

fn type_line(app: &mut App, c: &Client, line: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for ch in line.chars() {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char(ch),
            KeyModifiers::NONE,
        )));
    }
    for cmd in app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    ))) {
        match cmd {
            Command::Net(n) => c.send(n),
            other => panic!("unexpected command {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_app_shows_queued_lines_as_pending_then_as_sent_once() {
    let server = server().await;
    let addr = server.local_addr();
    let (mut app, cmds) = App::new(AppInit {
        connect_now: true,
        ..AppInit::new(login_spec(addr))
    });
    app.set_utc_offset(0);
    let spec = match cmds.as_slice() {
        [Command::Connect(spec)] => spec.clone(),
        other => panic!("expected one Connect, got {other:?}"),
    };
    let mut c = Client::start(spec);
    pump(&mut app, &mut c, "logged in", |e| {
        matches!(e, NetEvent::State(ConnState::LoggedIn))
    })
    .await;

    server.shutdown().await;
    pump(&mut app, &mut c, "reconnecting", |e| {
        matches!(e, NetEvent::State(ConnState::Reconnecting { .. }))
    })
    .await;
    assert!(app.reconnecting());
    let screen = render(&app);
    assert!(screen.contains("reconnecting in"), "{screen}");
    assert!(screen.contains("Esc cancels"), "{screen}");
    // The gap is marked in the history: the close's note says why, the line below it when.
    assert!(
        screen.contains("server shutting down") && screen.contains("! reconnecting in"),
        "the gap is marked in the history:\n{screen}"
    );

    type_line(&mut app, &c, "queued hello");
    assert_eq!(app.pending().iter().collect::<Vec<_>>(), ["queued hello"]);
    assert_eq!(app.input().value(), "", "the line left the input box");
    let screen = render(&app);
    assert!(screen.contains("⧗ queued  queued hello"), "{screen}");
    assert_eq!(screen.matches("queued hello").count(), 1, "{screen}");

    let _server = restart_on(addr, PASSWORD).await;
    pump(&mut app, &mut c, "the queued line sent", |e| {
        matches!(e, NetEvent::Frame(f) if f.dir == Direction::ClientToServer && f.text() == Some("queued hello"))
    })
    .await;
    pump(&mut app, &mut c, "its echo", |e| {
        matches!(e, NetEvent::Frame(f) if f.text().is_some_and(|t| t.contains("context: queued hello")))
    })
    .await;
    assert!(app.pending().is_empty());
    assert!(!app.reconnecting());
    assert_eq!(*app.conn(), ConnState::LoggedIn);
    let screen = render(&app);
    assert!(!screen.contains('⧗'), "{screen}");
    assert!(
        screen.contains("reconnected, logged in as admin"),
        "{screen}"
    );
    // Once as sent, once inside the server's echo.
    assert_eq!(screen.matches("queued hello").count(), 2, "{screen}");
    assert_eq!(c.sent("queued hello"), 1);
}

#[test]
fn esc_while_reconnecting_cancels_and_unsent_lines_are_reported() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let (mut app, _) = App::new(AppInit {
        connect_now: true,
        ..AppInit::new(login_spec("127.0.0.1:9".parse().unwrap()))
    });
    let feed = |app: &mut App, s: ConnState| {
        assert!(app.update(Event::Net(NetEvent::State(s))).is_empty());
    };
    feed(&mut app, ConnState::LoggedIn);
    // Esc means nothing special while connected.
    let cmds = app.update(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(cmds.is_empty());
    feed(
        &mut app,
        ConnState::Reconnecting {
            attempt: 1,
            retry_at: SystemTime::now() + Duration::from_millis(2500),
            delay: Duration::from_millis(2500),
            reason: "connection lost: the stream ended".into(),
        },
    );
    let wake = app.redraw_after(SystemTime::now()).unwrap();
    assert!(wake <= Duration::from_millis(1001), "{wake:?}");
    for ch in "later".chars() {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char(ch),
            KeyModifiers::NONE,
        )));
    }
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(matches!(cmds.as_slice(), [Command::Net(NetCommand::SendText(t))] if t == "later"));
    let cmds = app.update(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(
        matches!(cmds.as_slice(), [Command::Net(NetCommand::CancelReconnect)]),
        "{cmds:?}"
    );
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::CONTROL,
    )));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Net(NetCommand::CancelReconnect)]
    ));
    feed(
        &mut app,
        ConnState::Failed(wsdeck::model::NetError::new(
            NetErrorKind::Io,
            "connection lost: the stream ended",
        )),
    );
    assert!(!app.reconnecting());
    assert!(app.pending().is_empty());
    assert_eq!(app.redraw_after(SystemTime::now()), None);
    let screen = render(&app);
    assert!(screen.contains("1 queued line was not sent"), "{screen}");
    assert!(screen.contains("reconnect cancelled"), "{screen}");
}

// ---------------------------------------------------------------- issue 14 item 10

/// A server shut down for good under a logged-in UI with `--reconnect-max 3`: the close is
/// one note, the tries are one status line that updates (not two lines per try), the task
/// gives up after the third try and says so; then the input's placeholder and the login
/// pane tell the truth (not connected; no "✓ logged in").
#[tokio::test]
async fn a_server_gone_for_good_is_one_close_note_one_updating_line_and_a_give_up() {
    let server = server().await;
    let addr = server.local_addr();
    let mut spec = login_spec(addr);
    spec.reconnect_max = Some(3);
    let (mut app, cmds) = App::new(AppInit {
        connect_now: true,
        ..AppInit::new(spec)
    });
    app.set_utc_offset(0);
    let spec = match cmds.as_slice() {
        [Command::Connect(spec)] => spec.clone(),
        other => panic!("expected one Connect, got {other:?}"),
    };
    let mut c = Client::start(spec);
    pump(&mut app, &mut c, "logged in", |e| {
        matches!(e, NetEvent::State(ConnState::LoggedIn))
    })
    .await;
    server.shutdown().await;
    let mut tries = 0;
    pump(&mut app, &mut c, "the give-up", |e| {
        matches!(e, NetEvent::State(ConnState::Failed(_)))
    })
    .await;
    for (_, ev) in &c.seen {
        if matches!(ev, NetEvent::State(ConnState::Reconnecting { .. })) {
            tries += 1;
        }
    }
    assert_eq!(tries, 3, "three tries announced");
    let mut term = Terminal::new(TestBackend::new(160, 30)).unwrap();
    term.draw(|f| {
        wsdeck::ui::draw(f, &app);
    })
    .unwrap();
    let buf = term.backend().buffer();
    let mut screen = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            screen.push_str(buf[(x, y)].symbol());
        }
        screen.push('\n');
    }
    // One note for the server's close (its Close and our answer are one close).
    assert_eq!(
        screen.matches("the server closed the connection").count(),
        1,
        "{screen}"
    );
    assert!(!screen.contains("you confirmed the close"), "{screen}");
    // One line for all the tries, showing the last one.
    let status_lines = screen
        .lines()
        .filter(|l| l.contains("reconnecting: attempt") || l.contains("— reconnecting in"))
        .count();
    assert_eq!(status_lines, 1, "{screen}");
    assert!(screen.contains("attempt 2 failed"), "{screen}");
    assert!(!screen.contains("attempt 1 failed"), "{screen}");
    assert!(
        screen.contains("gave up reconnecting after 3 tries (--reconnect-max)"),
        "{screen}"
    );
    // The input and the login pane say what is true now.
    assert!(!screen.contains("send once logged in"), "{screen}");
    assert!(
        screen.contains("not connected — Tab to the login pane"),
        "{screen}"
    );
}

/// After `/close 4001` the login pane's checklist no longer says "✓ logged in" under the
/// closed state, and the input says Enter will not send.
#[tokio::test]
async fn after_close_the_checklist_and_the_placeholder_tell_the_truth() {
    let server = server().await;
    let (mut app, cmds) = App::new(AppInit {
        connect_now: true,
        ..AppInit::new(login_spec(server.local_addr()))
    });
    let spec = match cmds.as_slice() {
        [Command::Connect(spec)] => spec.clone(),
        other => panic!("expected one Connect, got {other:?}"),
    };
    let mut c = Client::start(spec);
    pump(&mut app, &mut c, "logged in", |e| {
        matches!(e, NetEvent::State(ConnState::LoggedIn))
    })
    .await;
    let pane = |app: &App| {
        render(app)
            .lines()
            .map(|l| l.chars().take(32).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(pane(&app).contains("✓ logged in"), "{}", pane(&app));
    type_line(&mut app, &c, "/close 4001 done");
    pump(&mut app, &mut c, "closed", |e| matches!(e, NetEvent::Ended)).await;
    let screen = render(&app);
    assert!(screen.contains("closed"), "{screen}");
    assert!(!pane(&app).contains("✓ logged in"), "{}", pane(&app));
    assert!(!screen.contains("send once logged in"), "{screen}");
    assert!(
        screen.contains("not connected — Tab to the login pane"),
        "{screen}"
    );
    // One note for the close, none for the server's answer.
    assert_eq!(
        screen.matches("closed the connection").count(),
        1,
        "{screen}"
    );
    assert!(!screen.contains("confirmed"), "{screen}");
}
