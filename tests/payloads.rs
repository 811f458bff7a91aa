//! Huge and odd payloads from a real server, end to end: the embedded server echoes them,
//! the network task hands them to the App, and both views draw them without panicking,
//! bounded, while the recording keeps every byte.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Event};
use wsdeck::model::{ConnState, NetCommand, NetEvent, Opcode, Secret};
use wsdeck::server::{ServerConfig, start};
use wsdeck::spec::ConnectSpec;

/// Draw at several sizes (down to a tiny terminal); returns the 200×50 screen.
fn draw_all_sizes(app: &App) -> String {
    let mut wide = String::new();
    for (w, h) in [(200, 50), (80, 24), (40, 12), (20, 6)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| {
            wsdeck::ui::draw(f, app);
        })
        .unwrap();
        if w == 200 {
            wide = term.backend().to_string();
        }
    }
    wide
}

#[tokio::test]
async fn a_one_mib_line_combining_marks_and_binary_are_shown_bounded() {
    let server = start(ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "admin",
        Secret::new("123456"),
    ))
    .await
    .unwrap();
    let mut spec = ConnectSpec::new(format!("ws://{}", server.local_addr()));
    spec.user = "admin".into();
    spec.password = Secret::new("123456");
    spec.ping_interval = None;
    let (mut app, _) = App::new(AppInit::new(spec.clone()));
    let mut session = wsdeck::net::spawn(spec);

    // The echo adds "your submit context: " (21 B): stay under the server's 1 MiB limit.
    let huge = "x".repeat(1024 * 1024 - 64);
    let zalgo = format!("e{}", "\u{0301}\u{0316}\u{0337}".repeat(300));
    let mixed = "漢字かな🙂👍🏽 ".repeat(500);
    let mut sent = false;
    let mut echoes = 0;
    let mut binary_back = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while echoes < 3 || !binary_back {
        let ev = tokio::time::timeout_at(deadline, session.events.recv())
            .await
            .expect("echoes in time")
            .expect("session alive");
        if let NetEvent::State(ConnState::LoggedIn) = &ev
            && !sent
        {
            sent = true;
            for t in [&huge, &zalgo, &mixed] {
                session
                    .commands
                    .send(NetCommand::SendText(t.clone()))
                    .unwrap();
            }
            session
                .commands
                .send(NetCommand::SendBinary(vec![0xff, 0xfe, 0x00, 0x1b, 0x80]))
                .unwrap();
        }
        if let NetEvent::Frame(f) = &ev
            && f.dir == wsdeck::model::Direction::ServerToClient
        {
            match f.opcode {
                Opcode::Text if f.text().is_some_and(|t| t.starts_with("your submit")) => {
                    echoes += 1;
                    if echoes == 1 {
                        // Every byte arrives.
                        assert_eq!(f.len, huge.len() + "your submit context: ".len());
                    }
                }
                Opcode::Binary => binary_back = true,
                _ => {}
            }
        }
        app.update(Event::Net(ev));
    }

    // Chat view: the huge line is cut to a preview that says how much is left.
    let chat = draw_all_sizes(&app);
    assert!(chat.contains("bytes more"), "{chat}");
    // Monitor view, newest frame selected (the binary echo), then the huge one.
    app.update(Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::F(3),
        crossterm::event::KeyModifiers::NONE,
    )));
    let monitor = draw_all_sizes(&app);
    assert!(
        monitor.contains("ff fe 00 1b 80"),
        "hex dump of the binary echo:\n{monitor}"
    );
    for _ in 0..6 {
        app.update(Event::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('k'),
            crossterm::event::KeyModifiers::NONE,
        )));
        draw_all_sizes(&app);
    }
    assert!(!draw_all_sizes(&app).contains('\u{1b}'));
    server.shutdown().await;
}
