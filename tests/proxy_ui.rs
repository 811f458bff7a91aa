//! `wsdeck proxy`'s UI: the connection list and a connection's monitor, driven by keys
//! between a real WebSocket client and the seed's Python server: hold, edit, drop, forward,
//! inject towards either peer, resend, `$EDITOR`, back to the list, the recording.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wsdeck::app::proxy::{ProxyApp, ProxyInfo};
use wsdeck::proxy::{ProxyConfig, Redaction};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn recv_text(ws: &mut Ws) -> String {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("the connection stays open")
            .expect("no error");
        if let Message::Text(t) = m {
            return t.to_string();
        }
    }
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_messages_are_edited_dropped_and_forwarded_and_either_peer_is_injected_into() {
    if !common::peers::peers_available() {
        return common::peers::skip_or_fail("the seed's Python server (pip install websockets)");
    }
    let seed = common::peers::spawn_seed_server("admin", "123456");
    let mut cfg = ProxyConfig::new("127.0.0.1:0".parse().unwrap(), Some(seed.url()));
    cfg.redaction = Redaction::new(
        wsdeck::spec::DEFAULT_LOGIN_TEMPLATE,
        regex::Regex::new(wsdeck::spec::DEFAULT_LOGIN_OK).unwrap(),
        Vec::new(),
    );
    let proxy = wsdeck::proxy::start(cfg).await.unwrap();
    let addr = proxy.local_addr();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("proxy.jsonl");
    let ui = ProxyApp::new(
        ProxyInfo {
            listen: addr.to_string(),
            upstream: Some(seed.url()),
            mitm: false,
            record: Some(record.clone()),
            remote: false,
        },
        None,
        0,
    );
    let opts = wsdeck::runtime::proxy::ProxyRunOptions {
        record: Some(record.clone()),
        // `$EDITOR` as a function: what a user would type into it.
        editor: Some(Box::new(|text: &str| Ok(text.replace("typo", "fixed")))),
        ..Default::default()
    };
    let (h, handle) = common::runtime::launch_proxy(ui, proxy, opts, (120, 40));
    h.wait_for("No connections yet").await;

    // The client logs in through the proxy: the list shows it, its monitor the login masked.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    send(&mut ws, "admin:123456").await;
    assert!(recv_text(&mut ws).await.starts_with("congratulation"));
    let list = h.wait_for("Connections (1)").await;
    assert!(list.contains("open"), "{list}");
    h.press(KeyCode::Enter);
    let monitor = h.wait_for("admin:***").await;
    assert!(monitor.contains("congratulation"), "{monitor}");
    assert!(!monitor.contains("123456"), "{monitor}");

    // Intercept on: the client's message waits, a row of the table marked held, the keys
    // in the status bar; edited, it reaches the server, whose echo is held in turn until
    // forwarded.
    h.press(KeyCode::Char('i'));
    h.wait_for("intercept: all").await;
    send(&mut ws, "secret plan").await;
    let held = h.wait_for("⏸ 1 held").await;
    assert!(
        held.lines()
            .any(|l| l.contains("⏸ text") && l.contains("secret plan")),
        "the held message is a marked row:\n{held}"
    );
    // The notice that intercept is on has the room; once it is gone, the keys have it.
    assert!(held.contains("f forward"), "{held}");
    h.press(KeyCode::End);
    h.wait_for("f forward · d drop · E edit").await;
    h.press(KeyCode::Char('E'));
    h.wait_for("Enter forwards · Esc keeps it held").await;
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text("edited plan");
    h.press(KeyCode::Enter);
    h.wait_for("your submit context: edited plan").await;
    h.press(KeyCode::Char('f'));
    assert_eq!(recv_text(&mut ws).await, "your submit context: edited plan");

    // Dropped: never delivered (the next echo is of the message after it).
    send(&mut ws, "drop me").await;
    h.wait_for("drop me").await;
    h.press(KeyCode::Char('d'));
    h.wait_for("dropped message").await;
    // `$EDITOR` (O) edits a held message and forwards it when saved.
    send(&mut ws, "a typo here").await;
    h.wait_for("a typo here").await;
    h.press(KeyCode::Char('O'));
    h.wait_for("your submit context: a fixed here").await;
    h.press(KeyCode::Char('F'));
    assert_eq!(
        recv_text(&mut ws).await,
        "your submit context: a fixed here"
    );
    // The keys act on the selected held row, else on the oldest.
    send(&mut ws, "first held").await;
    send(&mut ws, "second held").await;
    h.wait_for("⏸ 2 held").await;
    h.press(KeyCode::End);
    h.press(KeyCode::Char('k'));
    h.press(KeyCode::Char('j'));
    h.press(KeyCode::Char('d'));
    let one = h.wait_for("⏸ 1 held").await;
    assert!(
        one.lines()
            .any(|l| l.contains("✗ text") && l.contains("second held")),
        "the selected row was dropped, in its place:\n{one}"
    );
    h.press(KeyCode::Char('f'));
    h.wait_for("your submit context: first held").await;
    h.press(KeyCode::Char('F'));
    assert_eq!(recv_text(&mut ws).await, "your submit context: first held");
    let shown = h.wait_for("✗").await;
    assert!(shown.contains("✎"), "edited messages are marked:\n{shown}");
    h.press(KeyCode::Char('i'));
    h.wait_for("intercept off").await;

    // Injected towards the client (Tab picks the peer), then towards the server.
    h.press(KeyCode::Char('m'));
    h.wait_for("→ server (text)").await;
    h.type_text("hello client");
    h.press(KeyCode::Tab);
    h.wait_for("→ client (text)").await;
    h.press(KeyCode::Enter);
    assert_eq!(recv_text(&mut ws).await, "hello client");
    h.press(KeyCode::Char('m'));
    h.wait_for("→ server (text)").await;
    h.type_text("from wsdeck");
    h.press(KeyCode::Enter);
    assert_eq!(recv_text(&mut ws).await, "your submit context: from wsdeck");
    h.wait_for("✚").await;

    // Resend (Repeater): the selected message again, to the peer it went to.
    h.wait_for("Frames 13").await;
    h.press(KeyCode::End);
    h.press(KeyCode::Char('k'));
    h.press(KeyCode::Char('R'));
    h.wait_for("→ server (text) ▸ from wsdeck").await;
    h.press(KeyCode::Enter);
    assert_eq!(recv_text(&mut ws).await, "your submit context: from wsdeck");

    // Back to the list; the client leaves and its row says how each side closed.
    h.press(KeyCode::Esc);
    h.wait_for("Connections (1)").await;
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    let list = h.wait_for("closed · client 1000").await;
    assert!(list.contains("server 1000"), "{list}");
    h.quit(handle).await;

    // Every message is in the recording, marked as the table marks it; no password.
    let jsonl = std::fs::read_to_string(&record).unwrap();
    assert!(!jsonl.contains("123456"), "{jsonl}");
    assert!(jsonl.contains("admin:***"), "{jsonl}");
    for origin in ["\"modified\"", "\"dropped\"", "\"injected\""] {
        assert!(jsonl.contains(origin), "no {origin} message in\n{jsonl}");
    }
    assert!(jsonl.contains("\"leg\":\"client\""), "{jsonl}");
}

/// A server that upgrades and sends one text message in three frames, then stays.
/// The seed's login held by `--intercept dir:client`, edited as shown (`admin:***`) and sent
/// on; a masked resend refused; `c` tidies the list but the HAR keeps every connection; quit
/// closes the open one with 1000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_login_forwards_as_sent_and_quitting_closes_the_open_connection_with_1000() {
    if !common::peers::peers_available() {
        return common::peers::skip_or_fail("the seed's Python server (pip install websockets)");
    }
    let seed = common::peers::spawn_seed_server("admin", "123456");
    let mut cfg = ProxyConfig::new("127.0.0.1:0".parse().unwrap(), Some(seed.url()));
    cfg.intercept = Some(wsdeck::proxy::intercept_rule("dir:client").unwrap());
    let proxy = wsdeck::proxy::start(cfg).await.unwrap();
    let addr = proxy.local_addr();
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("proxy.har");
    let ui = ProxyApp::new(
        ProxyInfo {
            listen: addr.to_string(),
            upstream: Some(seed.url()),
            ..Default::default()
        },
        Some(wsdeck::monitor::filter::Filter::parse("dir:client").unwrap()),
        0,
    );
    let opts = wsdeck::runtime::proxy::ProxyRunOptions {
        har: Some(har.clone()),
        ..Default::default()
    };
    let (h, handle) = common::runtime::launch_proxy(ui, proxy, opts, (200, 40));
    h.wait_for("No connections yet").await;

    // A first client comes and goes: its row is cleared with `c`, its entry stays in the HAR.
    let (mut gone, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/first"))
        .await
        .unwrap();
    gone.close(None).await.unwrap();
    while let Some(Ok(_)) = gone.next().await {}
    h.wait_for("closed").await;
    h.press(KeyCode::Char('c'));
    h.wait_for("Closed connections cleared").await;

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    send(&mut ws, "admin:123456").await;
    h.wait_for("⏸ 1 held").await;
    h.press(KeyCode::Enter);
    h.wait_for("admin:***").await;
    h.press(KeyCode::Char('E'));
    h.wait_for("*** stands for a secret: Enter as it is").await;
    h.press(KeyCode::Enter);
    // The server got the password the client sent, not the mask.
    assert!(recv_text(&mut ws).await.starts_with("congratulation"));
    let shown = h.wait_for("forwarded message #3 as sent").await;
    assert!(!shown.contains("123456"), "{shown}");

    // Resending the masked login would send the mask: refused, with the way out.
    h.press(KeyCode::Home);
    h.press(KeyCode::Char('R'));
    h.wait_for("*** stands for a secret the proxy").await;
    h.press(KeyCode::Enter);
    h.wait_for("nothing was sent: ***").await;

    // Quit: the client is told 1000, as the help promises, and the HAR has both connections.
    h.quit(handle).await;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(c)))) => break c,
            Ok(Some(Ok(_))) => {}
            other => panic!("no close from the proxy: {other:?}"),
        }
    };
    let close = close.expect("a close code");
    assert_eq!(u16::from(close.code), 1000);
    assert_eq!(close.reason, "wsdeck proxy shut down");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    let urls: Vec<&str> = doc["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].ends_with("/first"), "{urls:?}");
    let all = doc.to_string();
    assert!(!all.contains("123456"), "{all}");
}

async fn fragmenting_server() -> u16 {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        if !common::raw::accept_upgrade(&mut tcp).await {
            return;
        }
        // text "frag-" (no FIN), continuation "one ", continuation "two" (FIN).
        let mut out = vec![0x01, 5];
        out.extend_from_slice(b"frag-");
        out.extend_from_slice(&[0x00, 4]);
        out.extend_from_slice(b"one ");
        out.extend_from_slice(&[0x80, 3]);
        out.extend_from_slice(b"two");
        tcp.write_all(&out).await.unwrap();
        let _ = tokio::io::copy(&mut tcp, &mut tokio::io::sink()).await;
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_message_through_the_proxy_says_how_many_frames_it_came_in() {
    let port = fragmenting_server().await;
    let upstream = format!("ws://127.0.0.1:{port}/");
    let cfg = ProxyConfig::new("127.0.0.1:0".parse().unwrap(), Some(upstream.clone()));
    let proxy = wsdeck::proxy::start(cfg).await.unwrap();
    let addr = proxy.local_addr();
    let ui = ProxyApp::new(
        ProxyInfo {
            listen: addr.to_string(),
            upstream: Some(upstream),
            mitm: false,
            record: None,
            remote: false,
        },
        None,
        0,
    );
    let (h, handle) = common::runtime::launch_proxy(ui, proxy, Default::default(), (120, 40));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    assert_eq!(recv_text(&mut ws).await, "frag-one two");
    h.wait_for("Connections (1)").await;
    h.press(KeyCode::Enter);
    let shown = h.wait_for("frag-one two").await;
    assert!(
        shown
            .lines()
            .any(|l| l.contains("×3") && l.contains("frag-one two")),
        "the row says the message came in 3 frames:\n{shown}"
    );
    // `l` lists them under the row, with their sizes (`f` forwards here).
    h.press(KeyCode::Char('k'));
    h.press(KeyCode::Char('l'));
    let frames = h.wait_for("continuation").await;
    assert!(frames.contains("5 B") && frames.contains("3 B"), "{frames}");
    h.quit(handle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_redact_the_recording_keeps_the_login_and_the_screen_still_hides_it() {
    if !common::peers::peers_available() {
        return common::peers::skip_or_fail("the seed's Python server (pip install websockets)");
    }
    let seed = common::peers::spawn_seed_server("admin", "123456");
    // As `wsdeck proxy --no-redact` sets it up (src/cmd/proxy.rs).
    let policy = Redaction::new(
        wsdeck::spec::DEFAULT_LOGIN_TEMPLATE,
        regex::Regex::new(wsdeck::spec::DEFAULT_LOGIN_OK).unwrap(),
        Vec::new(),
    );
    let mut cfg = ProxyConfig::new("127.0.0.1:0".parse().unwrap(), Some(seed.url()));
    cfg.redaction = policy.switched_off();
    let screen = cfg.redaction.for_screen();
    let proxy = wsdeck::proxy::start(cfg).await.unwrap();
    let addr = proxy.local_addr();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("clear.jsonl");
    let mut ui = ProxyApp::new(
        ProxyInfo {
            listen: addr.to_string(),
            upstream: Some(seed.url()),
            mitm: false,
            record: Some(record.clone()),
            remote: false,
        },
        None,
        0,
    );
    ui.hide_on_screen(screen);
    let opts = wsdeck::runtime::proxy::ProxyRunOptions {
        record: Some(record.clone()),
        no_redact: true,
        ..Default::default()
    };
    let (h, handle) = common::runtime::launch_proxy(ui, proxy, opts, (120, 40));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    send(&mut ws, "admin:123456").await;
    assert!(recv_text(&mut ws).await.starts_with("congratulation"));
    // After the login, a message of the same shape is not a login: shown as sent.
    send(&mut ws, "note:taken").await;
    recv_text(&mut ws).await;
    h.wait_for("Connections (1)").await;
    h.press(KeyCode::Enter);
    let monitor = h.wait_for("note:taken").await;
    assert!(monitor.contains("admin:***"), "{monitor}");
    assert!(!monitor.contains("123456"), "{monitor}");
    h.quit(handle).await;
    let jsonl = std::fs::read_to_string(&record).unwrap();
    assert!(
        jsonl.contains("admin:123456"),
        "--no-redact keeps it:\n{jsonl}"
    );
}

// ---------- a relayed connection's App, drawn into a TestBackend ----------

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, Event};
use wsdeck::model::{Direction, FrameRecord, HandshakeInfo, Opcode};

/// 2023-11-14 22:13:20 UTC plus `ms` milliseconds.
fn at(ms: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
}

fn text_frame(seq: u64, ms: u64, dir: Direction, s: &str) -> FrameRecord {
    FrameRecord {
        seq,
        conn: 1,
        at: at(ms),
        dir,
        origin: Default::default(),
        opcode: Opcode::Text,
        len: s.len(),
        payload: s.to_string().into(),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

/// A connection the proxy relays, with a login and the server's answer passed on.
fn relayed() -> App {
    let url = "ws://127.0.0.1:5678/";
    let leg = || HandshakeInfo {
        conn: 1,
        url: url.into(),
        ..Default::default()
    };
    let mut app = App::relayed(wsdeck::app::relay::RelayInit {
        conn: 1,
        client: "127.0.0.1:50000".parse().unwrap(),
        url: url.into(),
        client_leg: leg(),
        server_leg: leg(),
        intercept: None,
        utc_offset: 0,
    });
    app.relay_frames([
        text_frame(1, 0, Direction::ClientToServer, "admin:***"),
        text_frame(2, 5, Direction::ServerToClient, "congratulation"),
    ]);
    app
}

fn draw(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    app.update(Event::Drawn(fb.unwrap()));
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// One key pressed in a relayed App.
fn key(app: &mut App, code: KeyCode) {
    app.update(Event::Key(crossterm::event::KeyEvent::new(
        code,
        KeyModifiers::NONE,
    )));
}

/// The column (in cells) where `needle` starts on `line`.
fn col(line: &str, needle: &str) -> usize {
    let byte = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {line:?}"));
    unicode_width::UnicodeWidthStr::width(&line[..byte])
}

#[test]
fn a_relayed_connections_table_header_lines_up_with_its_rows() {
    let mut app = relayed();
    let lines = draw(&mut app, 120, 30);
    let header = lines
        .iter()
        .find(|l| l.contains("payload"))
        .expect("a header");
    let row = lines
        .iter()
        .find(|l| l.contains("admin:***") && l.contains("text"))
        .expect("the login's row");
    assert_eq!(col(header, "op"), col(row, "text"), "\n{header}\n{row}");
    assert_eq!(
        col(header, "payload"),
        col(row, "admin"),
        "\n{header}\n{row}"
    );
}

#[test]
fn a_relayed_connection_has_no_login_pane_chat_or_snippet_keys_and_its_help_starts_with_the_proxy()
{
    let mut app = relayed();
    for (code, mods) in [
        (KeyCode::Char('l'), KeyModifiers::CONTROL),
        (KeyCode::F(2), KeyModifiers::NONE),
        (KeyCode::F(5), KeyModifiers::NONE),
        (KeyCode::F(6), KeyModifiers::NONE),
        (KeyCode::Char('p'), KeyModifiers::CONTROL),
    ] {
        let cmds = app.update(Event::Key(crossterm::event::KeyEvent::new(code, mods)));
        assert!(cmds.is_empty(), "{code:?}: {cmds:?}");
        assert_eq!(app.view(), wsdeck::app::View::Monitor, "{code:?}");
        let screen = draw(&mut app, 120, 30).join("\n");
        for client in ["Enter  reconnect", "Auth ‹", "snippet", "palette"] {
            assert!(
                !screen.contains(client),
                "{code:?} shows {client:?}:\n{screen}"
            );
        }
    }
    app.update(Event::Key(crossterm::event::KeyEvent::new(
        KeyCode::F(1),
        KeyModifiers::NONE,
    )));
    let help = draw(&mut app, 120, 40);
    let first = help
        .iter()
        .find(|l| l.contains("Proxy") || l.contains("Anywhere"))
        .expect("a section title");
    assert!(
        first.contains("Proxy: connection list"),
        "{}",
        help.join("\n")
    );
    let help = help.join("\n");
    // The filter's direction by the peer that sent it, as the proxy's filter and rule take it.
    let tall = draw(&mut app, 120, 100).join("\n");
    assert!(
        tall.contains("dir:client, dir:server") && !tall.contains("dir:in, dir:out"),
        "{tall}"
    );
    for client in ["Ctrl-T", "Ctrl-L", "F5 … F12", "login pane"] {
        assert!(
            !help.contains(client),
            "{client} in the proxy's help:\n{help}"
        );
    }
}

fn list() -> ProxyApp {
    ProxyApp::new(
        ProxyInfo {
            listen: "127.0.0.1:9000".into(),
            upstream: Some("ws://127.0.0.1:5678/".into()),
            mitm: false,
            record: None,
            remote: false,
        },
        None,
        0,
    )
}

#[test]
fn a_monitor_key_in_the_connection_list_says_which_key_works_where() {
    use wsdeck::app::proxy::ProxyIn;
    let mut p = list();
    p.update(ProxyIn::Key(crossterm::event::KeyEvent::new(
        KeyCode::F(4),
        KeyModifiers::NONE,
    )));
    let n = p.notice().expect("a notice");
    assert_eq!(
        n.text,
        "F4 works in a connection's monitor — Enter opens the selected connection"
    );
}

#[test]
fn the_relay_and_rule_lines_show_whole_hints_at_120_columns() {
    use wsdeck::app::proxy::ProxyIn;
    let mut app = relayed();
    key(&mut app, KeyCode::Char('m'));
    let line = draw(&mut app, 120, 30).join("\n");
    assert!(
        line.contains("Enter sends · Tab: to the client · Esc closes"),
        "{line}"
    );
    key(&mut app, KeyCode::Esc);
    app.relay_held(text_frame(3, 10, Direction::ClientToServer, "held one"));
    key(&mut app, KeyCode::Char('E'));
    let line = draw(&mut app, 120, 30).join("\n");
    assert!(
        line.contains("Enter forwards · Esc keeps it held"),
        "{line}"
    );
    // Narrower: whole parts only, never a dangling "· Esc".
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('m'));
    let lines = draw(&mut app, 70, 30);
    let line = lines
        .iter()
        .find(|l| l.contains("→ server"))
        .expect("the line");
    assert!(
        line.trim_end()
            .ends_with("Enter sends · Tab: to the client"),
        "{line}"
    );

    let mut p = list();
    p.update(ProxyIn::Key(crossterm::event::KeyEvent::new(
        KeyCode::Char('I'),
        KeyModifiers::NONE,
    )));
    let draw_list = |p: &ProxyApp| {
        let mut term = Terminal::new(TestBackend::new(120, 20)).unwrap();
        let mut cache = wsdeck::ui::ViewCache::default();
        term.draw(|f| {
            wsdeck::ui::proxy::draw(f, f.area(), p, std::time::SystemTime::now(), &mut cache);
        })
        .unwrap();
        term.backend().to_string()
    };
    let s = draw_list(&p);
    assert!(
        s.contains("Enter holds what matches (empty: all) · Esc cancels"),
        "{s}"
    );
    for c in "/unterminated".chars() {
        p.update(ProxyIn::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    let err = p
        .rule_line()
        .and_then(|(_, e)| e)
        .expect("an error")
        .to_string();
    let s = draw_list(&p);
    assert!(s.contains(&err), "{err}\n{s}");
}

#[test]
fn clearing_closed_connections_says_so_in_the_list_and_counts_in_words() {
    use wsdeck::app::proxy::ProxyIn;
    use wsdeck::proxy::{ProxyEvent, TunnelKind};
    let mut p = list();
    let key = |p: &mut ProxyApp, c: char| {
        p.update(ProxyIn::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    };
    key(&mut p, 'c');
    assert_eq!(
        p.notice().unwrap().text,
        "no connection has closed — nothing to take off the list"
    );
    p.update(ProxyIn::Proxy(ProxyEvent::TunnelOpened {
        conn: 1,
        client: "127.0.0.1:50000".parse().unwrap(),
        target: "example.com:443".into(),
        kind: TunnelKind::BlindTls,
    }));
    p.update(ProxyIn::Proxy(ProxyEvent::TunnelClosed {
        conn: 1,
        up: 10,
        down: 20,
    }));
    key(&mut p, 'c');
    assert_eq!(
        p.notice().unwrap().text,
        "took 1 closed connection off the list"
    );
    let mut term = Terminal::new(TestBackend::new(120, 20)).unwrap();
    let mut cache = wsdeck::ui::ViewCache::default();
    term.draw(|f| {
        wsdeck::ui::proxy::draw(f, f.area(), &p, std::time::SystemTime::now(), &mut cache);
    })
    .unwrap();
    let s = term.backend().to_string();
    assert!(
        s.contains("Closed connections cleared; waiting for new ones."),
        "{s}"
    );
    assert!(!s.contains("No connections yet"), "{s}");
}

#[test]
fn a_relayed_connection_counts_its_lost_message_in_words_and_shows_no_reconnects() {
    let mut app = relayed();
    let screen = draw(&mut app, 120, 30).join("\n");
    for gone in ["reconnects", "rtt –", "not connected"] {
        assert!(!screen.contains(gone), "{gone}:\n{screen}");
    }
    app.relay_held(text_frame(3, 10, Direction::ClientToServer, "held one"));
    app.relay_closed(None, None, 1);
    assert_eq!(
        app.notice().unwrap().text,
        "the connection closed with 1 held message never delivered — it is in the table as dropped"
    );
}

/// The status bar's last line of a drawn screen, trimmed.
fn status_bar(lines: &[String]) -> String {
    lines.last().expect("a status bar").trim_end().to_string()
}

#[test]
fn a_notice_in_the_status_bar_wins_the_room_from_the_key_hints() {
    // Two held messages and an intercept rule: the held keys and the rule fill the bar.
    let mut app = relayed();
    app.relay_intercept(Some("dir:client order".into()));
    app.relay_held(text_frame(3, 10, Direction::ClientToServer, "order 1"));
    app.relay_held(text_frame(4, 20, Direction::ClientToServer, "order 2"));
    let bar = status_bar(&draw(&mut app, 160, 30));
    assert!(bar.contains("f forward · d drop · E edit"), "{bar}");
    app.relay_edited(3, Ok("order 3".into()));
    let lines = draw(&mut app, 160, 30);
    let bar = status_bar(&lines);
    assert!(bar.contains("forwarded message #3 as edited"), "{bar}");
    assert!(!bar.contains('…'), "nothing cut: {bar}");
    // (Still held until the proxy says it passed.)
    assert!(bar.contains("⏸ 2 held"), "{bar}");
    // A sentence too long to fit beside the hints: they give way, the sentence is whole.
    let long = "the server closed its side with 1011 Internal Error: \"worker restarted\"; \
                the client's side is still open";
    app.relay_notice(long);
    let bar = status_bar(&draw(&mut app, 160, 30));
    assert!(bar.contains(long), "{bar}");
    assert!(bar.contains("#1 127.0.0.1:50000"), "{bar}");
    // Only when the notice alone does not fit is it cut, once.
    let bar = status_bar(&draw(&mut app, 100, 30));
    assert!(
        bar.contains("the server closed its side with 1011"),
        "{bar}"
    );
    assert_eq!(bar.matches('…').count(), 1, "{bar}");

    // The list: a refusal's sentence gets the whole line, the keys give way; only a line
    // too narrow for the sentence alone cuts it.
    use wsdeck::app::proxy::ProxyIn;
    use wsdeck::proxy::ProxyEvent;
    let mut p = list();
    let why = "wss://localhost:25443/: the server's certificate (CN=localhost) is self-signed, \
               so no CA vouches for it: trust it with --cacert FILE (that certificate in PEM), \
               or skip every check with --insecure";
    p.update(ProxyIn::Proxy(ProxyEvent::Refused {
        client: "127.0.0.1:35974".parse().unwrap(),
        status: 502,
        message: why.into(),
    }));
    let list_bar = |p: &ProxyApp, w: u16| {
        let mut term = Terminal::new(TestBackend::new(w, 20)).unwrap();
        let mut cache = wsdeck::ui::ViewCache::default();
        term.draw(|f| {
            wsdeck::ui::proxy::draw(f, f.area(), p, std::time::SystemTime::now(), &mut cache);
        })
        .unwrap();
        let buf = term.backend().buffer().clone();
        let y = buf.area.height - 1;
        (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    let sentence = format!("refused 127.0.0.1:35974 with 502: {why}");
    let bar = list_bar(&p, 240);
    assert!(bar.contains(&sentence), "{bar}");
    assert!(!bar.contains('…'), "{bar}");
    let bar = list_bar(&p, 160);
    assert!(!bar.contains("F1 help"), "{bar}");
    assert!(bar.trim_end().ends_with('…'), "{bar}");
    assert!(
        bar.contains("is self-signed, so no CA vouches for it: trust it with --c"),
        "{bar}"
    );
}

#[test]
fn a_blind_tls_tunnel_says_so_in_the_list_open_and_ended_and_a_plain_request_too() {
    use wsdeck::app::proxy::ProxyIn;
    use wsdeck::proxy::{ProxyEvent, TunnelKind};
    let mut p = list();
    let open = |p: &mut ProxyApp, conn: u64, target: &str, kind: TunnelKind| {
        p.update(ProxyIn::Proxy(ProxyEvent::TunnelOpened {
            conn,
            client: "127.0.0.1:50000".parse().unwrap(),
            target: target.into(),
            kind,
        }));
    };
    open(&mut p, 1, "localhost:25444", TunnelKind::BlindTls);
    open(
        &mut p,
        2,
        "example.com:80",
        TunnelKind::Http {
            method: "GET".into(),
            url: "http://example.com/page".into(),
        },
    );
    let rows = |p: &ProxyApp| {
        let mut term = Terminal::new(TestBackend::new(120, 20)).unwrap();
        let mut cache = wsdeck::ui::ViewCache::default();
        term.draw(|f| {
            wsdeck::ui::proxy::draw(f, f.area(), p, std::time::SystemTime::now(), &mut cache);
        })
        .unwrap();
        let s = term.backend().to_string();
        let row = |needle: &str| {
            s.lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("a row for {needle}:\n{s}"))
                .to_string()
        };
        (row("localhost:25444"), row("example.com/page"))
    };
    let (tls, http) = rows(&p);
    assert!(tls.contains("tls (blind)  localhost:25444"), "{tls}");
    assert!(http.contains("HTTP GET  http://example.com/page"), "{http}");
    for conn in [1, 2] {
        p.update(ProxyIn::Proxy(ProxyEvent::TunnelClosed {
            conn,
            up: 10,
            down: 20,
        }));
    }
    let (tls, http) = rows(&p);
    assert!(
        tls.contains("tls (blind) · ended  localhost:25444"),
        "{tls}"
    );
    assert!(
        http.contains("HTTP GET · ended  http://example.com/page"),
        "{http}"
    );
}
