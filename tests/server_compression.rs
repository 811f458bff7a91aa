//! The demo server (`wsdeck serve`, `wsdeck demo`) accepts permessage-deflate (RFC 7692):
//! against node `ws` as a client (tests/peers/ws_client.js, started by the test) with the
//! parameters it can offer, against wsdeck's own client, and in the demo's handshake panel.

mod common;

use common::client::Client;
use common::peers::{node_ws_available, run_node_ws_client};
use wsdeck::model::{ConnState, Direction, NetCommand, Opcode, Secret};
use wsdeck::server::{RunningServer, ServerConfig, ServerPolicy};
use wsdeck::spec::ConnectSpec;

async fn server(adjust: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap(), "admin", Secret::new("pw"));
    cfg.tick = None;
    adjust(&mut cfg);
    wsdeck::server::start(cfg).await.unwrap()
}

fn url(s: &RunningServer) -> String {
    format!("ws://{}/", s.local_addr())
}

/// Run the node client (3 texts of 20,000 bytes) in a blocking thread; its output lines.
async fn node_client(url: String, deflate: &'static str) -> Vec<String> {
    tokio::task::spawn_blocking(move || run_node_ws_client(&url, deflate, "admin:pw", 20_000, 3))
        .await
        .unwrap()
}

/// The client got every echo, read far fewer bytes than the 3 × 2 × 20 KB of text it
/// exchanged (the server compressed), and closed cleanly; returns the extension answer.
fn check_compressed_session(out: &[String]) -> String {
    for i in 0..3 {
        assert!(out.contains(&format!("echo {i} ok")), "{out:#?}");
    }
    let read: usize = out
        .iter()
        .find_map(|l| l.strip_prefix("bytes read: "))
        .unwrap_or_else(|| panic!("no byte count: {out:#?}"))
        .parse()
        .unwrap();
    assert!(
        read < 20_000,
        "the server's echoes were not compressed: {read} bytes"
    );
    assert_eq!(out.last().map(String::as_str), Some("closed: 1000 done"));
    out.iter()
        .find_map(|l| l.strip_prefix("extensions: "))
        .unwrap_or_else(|| panic!("no extension line: {out:#?}"))
        .to_string()
}

#[tokio::test]
async fn node_ws_clients_get_compression_with_the_parameters_they_offer() {
    if !node_ws_available() {
        return;
    }
    // The default: neither side keeps a window between messages.
    let lean = server(|_| {}).await;
    let answer = check_compressed_session(&node_client(url(&lean), "{}").await);
    assert_eq!(
        answer,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );

    // A server keeping its context takes what each offer asks for.
    let keeping = server(|c| c.compression = Some(ServerPolicy::default())).await;
    let cases = [
        ("{}", "permessage-deflate"),
        (
            r#"{"serverNoContextTakeover":true,"clientNoContextTakeover":true}"#,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            r#"{"serverMaxWindowBits":10}"#,
            "permessage-deflate; server_max_window_bits=10",
        ),
        // The client's window hint is not a limit the server needs.
        (r#"{"clientMaxWindowBits":10}"#, "permessage-deflate"),
    ];
    for (offer, want) in cases {
        let out = node_client(url(&keeping), offer).await;
        assert_eq!(check_compressed_session(&out), want, "offer {offer}");
    }
}

#[tokio::test]
async fn node_ws_without_compression_and_a_server_that_declines_it_still_talk() {
    if !node_ws_available() {
        return;
    }
    let declining = server(|c| c.compression = None).await;
    let out = node_client(url(&declining), "{}").await;
    assert!(out.contains(&"extensions: ".to_string()), "{out:#?}");
    assert!(out.contains(&"echo 2 ok".to_string()), "{out:#?}");
    let lean = server(|_| {}).await;
    let out = node_client(url(&lean), "off").await;
    assert!(out.contains(&"extensions: ".to_string()), "{out:#?}");
    assert!(out.contains(&"echo 2 ok".to_string()), "{out:#?}");
}

#[tokio::test]
async fn a_node_message_inflating_past_the_servers_limit_is_closed_with_1009() {
    if !node_ws_available() {
        return;
    }
    let small = server(|c| c.max_message_size = 64 * 1024).await;
    // 200 KB of text goes out as a few KB compressed: judged by its inflated size.
    let url = url(&small);
    let out =
        tokio::task::spawn_blocking(move || run_node_ws_client(&url, "{}", "admin:pw", 200_000, 1))
            .await
            .unwrap();
    assert_eq!(
        out.last().map(String::as_str),
        Some("closed: 1009 message too big"),
        "{out:#?}"
    );
    // The server is fine afterwards.
    let out = node_client(format!("ws://{}/", small.local_addr()), "{}").await;
    check_compressed_session(&out);
}

fn spec(url: &str) -> ConnectSpec {
    let mut spec = ConnectSpec::new(url);
    spec.user = "admin".into();
    spec.password = Secret::new("pw");
    spec.reconnect = false;
    spec.ping_interval = None;
    spec
}

#[tokio::test]
async fn wsdecks_own_client_compresses_both_ways_with_the_demo_server() {
    for policy in [ServerPolicy::LEAN, ServerPolicy::default()] {
        let s = server(|c| c.compression = Some(policy)).await;
        let mut c = Client::start(spec(&url(&s)));
        c.until_logged_in().await;
        let text = "{\"event\":\"tick\",\"value\":12345} ".repeat(1000);
        for _ in 0..3 {
            c.send(NetCommand::SendText(text.clone()));
            c.until_text("your submit context: {\"event\"").await;
        }
        let answer = c
            .handshake()
            .unwrap()
            .response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
            .map(|(_, v)| v.clone());
        assert!(
            answer
                .as_deref()
                .is_some_and(|a| a.starts_with("permessage-deflate")),
            "{answer:?}"
        );
        let big: Vec<_> = c
            .frames()
            .into_iter()
            .filter(|f| f.opcode == Opcode::Text && f.len > 30_000)
            .collect();
        assert_eq!(big.len(), 6, "three texts and three echoes");
        for f in &big {
            let wire = f
                .wire_len
                .unwrap_or_else(|| panic!("{:?} went plain", f.dir));
            assert!(
                wire * 10 < f.len,
                "{:?}: {wire} on the wire for {}",
                f.dir,
                f.len
            );
        }
        assert!(big.iter().any(|f| f.dir == Direction::ServerToClient));
        c.send(NetCommand::Close {
            code: 1000,
            reason: String::new(),
        });
        let state = c
            .until_state("closed", |s| matches!(s, ConnState::Closed { .. }))
            .await;
        assert!(
            matches!(
                state,
                ConnState::Closed {
                    code: Some(1000),
                    ..
                }
            ),
            "{state:?}"
        );
    }
}

#[tokio::test]
async fn a_message_of_ours_inflating_past_the_servers_limit_gets_1009() {
    let s = server(|c| c.max_message_size = 64 * 1024).await;
    let mut c = Client::start(spec(&url(&s)));
    c.until_logged_in().await;
    c.send(NetCommand::SendText("a".repeat(1 << 20)));
    let state = c
        .until_state("closed", |s| {
            matches!(s, ConnState::Closed { .. } | ConnState::Failed(_))
        })
        .await;
    let closes: Vec<_> = c
        .frames()
        .into_iter()
        .filter(|f| f.dir == Direction::ServerToClient && f.opcode == Opcode::Close)
        .filter_map(|f| f.close)
        .collect();
    assert_eq!(
        closes.first().map(|c| (c.code, c.reason.as_str())),
        Some((1009, "message too big")),
        "{state:?}"
    );
    // The 1 MiB went out as about a kilobyte.
    let sent = c
        .frames()
        .into_iter()
        .find(|f| f.dir == Direction::ClientToServer && f.len == 1 << 20)
        .unwrap();
    assert!(
        sent.wire_len.is_some_and(|w| w < 10_000),
        "{:?}",
        sent.wire_len
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_demos_handshake_panel_shows_compression_negotiated() {
    use crossterm::event::KeyCode;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            // The server `wsdeck demo` starts (ServerConfig::new's defaults) and its login.
            let server = common::runtime::demo_server().await;
            let mut spec = ConnectSpec::new(format!("ws://{}", server.local_addr()));
            spec.user = "admin".into();
            spec.password = Secret::new("123456");
            spec.ping_interval = None;
            let (h, handle) = common::runtime::launch(
                wsdeck::app::AppInit::new(spec),
                wsdeck::runtime::RunOptions::default(),
                (150, 40),
            );
            h.press(KeyCode::Enter);
            h.wait_for("logged in as admin").await;
            h.press(KeyCode::F(3));
            h.press(KeyCode::Char('h'));
            let s = h
                .wait_for("permessage-deflate (client no context takeover, server no context")
                .await;
            assert!(
                s.contains("permessage-deflate; server_no_context_takeover"),
                "the response header is shown too:\n{s}"
            );
            h.quit(handle).await;
            server.shutdown().await;
        })
        .await;
}
