//! The monitor's decoders as a user meets them, through the app model and a drawn screen:
//! `v` steps a binary frame through MessagePack, CBOR, protobuf and MQTT trees and a text
//! frame through base64-in-JSON and socket.io; the `mqtt` subprotocol and a socket.io URL
//! name packets in the table by themselves; a tree folds with `z`; what does not decode says
//! why; decoded strings never carry control characters to the screen.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Event, View};
use wsdeck::model::{ConnState, Direction, FrameRecord, HandshakeInfo, HttpHead, NetEvent, Opcode};
use wsdeck::spec::{AuthMethod, ConnectSpec};

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
}

fn frame(seq: u64, dir: Direction, op: Opcode, payload: impl Into<Bytes>) -> FrameRecord {
    let payload = payload.into();
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: at(seq * 10),
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

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn handshake(url: &str, subprotocol: Option<&str>) -> HandshakeInfo {
    let mut response = HttpHead {
        start_line: "HTTP/1.1 101 Switching Protocols".into(),
        headers: vec![("Upgrade".into(), "websocket".into())],
    };
    if let Some(p) = subprotocol {
        response
            .headers
            .push(("Sec-WebSocket-Protocol".into(), p.into()));
    }
    HandshakeInfo {
        conn: 1,
        url: url.into(),
        response,
        ..Default::default()
    }
}

/// A connected session to `url` (the server agreeing to `subprotocol`) that passed `frames`;
/// the monitor is shown.
fn session(url: &str, subprotocol: Option<&str>, frames: Vec<FrameRecord>) -> App {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    let mut init = AppInit::new(spec);
    init.connect_now = true;
    let (mut app, _) = App::new(init);
    app.set_utc_offset(0);
    for ev in [
        NetEvent::State(ConnState::Connecting),
        NetEvent::State(ConnState::Handshaking),
        NetEvent::Handshake(Box::new(handshake(url, subprotocol))),
        NetEvent::State(ConnState::LoggedIn),
    ] {
        app.update(Event::Net(ev));
    }
    for f in frames {
        app.update(Event::Net(NetEvent::Frame(f)));
    }
    press(&mut app, KeyCode::F(3));
    assert_eq!(app.view(), View::Monitor);
    app
}

fn select(app: &mut App, row: usize) {
    press(app, KeyCode::Home);
    for _ in 0..row {
        press(app, KeyCode::Char('j'));
    }
}

/// Draw on a `w`×`h` terminal (feedback handed back as the runtime does); the screen text.
fn draw(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut fb = None;
    term.draw(|f| fb = Some(wsdeck::ui::draw(f, app))).unwrap();
    app.update(Event::Drawn(fb.unwrap()));
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let mut l: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            l.push('\n');
            l
        })
        .collect()
}

/// `{"type":"tick","n":[1,-2.5],"raw":bin de ad}` as MessagePack.
fn msgpack() -> Vec<u8> {
    let mut b = vec![0x83, 0xa4];
    b.extend_from_slice(b"type");
    b.push(0xa4);
    b.extend_from_slice(b"tick");
    b.extend_from_slice(&[0xa1, b'n', 0x92, 0x01, 0xcb]);
    b.extend_from_slice(&(-2.5f64).to_be_bytes());
    b.extend_from_slice(&[0xa3, b'r', b'a', b'w', 0xc4, 0x02, 0xde, 0xad]);
    b
}

/// `{1: "a", "b": [true, null]}` as CBOR.
const CBOR: &[u8] = &[0xa2, 0x01, 0x61, b'a', 0x61, b'b', 0x82, 0xf5, 0xf6];

/// `1: 150, 2: "hi", 3: {1: 1}` as protobuf.
const PROTOBUF: &[u8] = &[
    0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1a, 0x02, 0x08, 0x01,
];

#[test]
fn v_steps_a_binary_frame_through_the_decoders_and_back_to_hex() {
    use Direction::ServerToClient as In;
    let mut app = session(
        "ws://127.0.0.1:1/",
        None,
        vec![frame(1, In, Opcode::Binary, msgpack())],
    );
    select(&mut app, 0);
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("83 a4 74 79 70 65"), "binary opens as hex:\n{s}");
    assert!(s.contains("v decode"), "{s}");
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    insta::assert_snapshot!("decoders_msgpack_tree", s);
    assert!(s.contains("· MessagePack"), "{s}");
    assert!(s.contains("map · 3 entries"), "{s}");
    assert!(s.contains("  \"type\": \"tick\""), "{s}");
    assert!(s.contains("    [1]: -2.5"), "{s}");
    assert!(s.contains("  \"raw\": bin 2 B: de ad"), "{s}");
    // z folds the map at the top into one line.
    press(&mut app, KeyCode::Char('z'));
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("map · 3 entries … 5 lines folded (z)"), "{s}");
    assert!(!s.contains("\"tick\""), "{s}");
    // CBOR cannot read these bytes as one item and says so; the hex stays below.
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("not CBOR:"), "{s}");
    assert!(s.contains("v tries the next decoder"), "{s}");
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(
        s.contains("not MQTT: a SUBSCRIBE packet that continues"),
        "{s}"
    );
    // Past the last decoder: the plain hex view again.
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(!s.contains("not MQTT"), "{s}");
    assert!(s.contains("· hex"), "{s}");
}

#[test]
fn cbor_and_protobuf_frames_as_trees() {
    use Direction::ServerToClient as In;
    let mut app = session(
        "ws://127.0.0.1:1/",
        None,
        vec![
            frame(1, In, Opcode::Binary, CBOR),
            frame(2, In, Opcode::Binary, PROTOBUF),
        ],
    );
    select(&mut app, 0);
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("· CBOR"), "{s}");
    assert!(s.contains("  1: \"a\""), "{s}");
    assert!(s.contains("    [0]: true"), "{s}");
    // The choice stays as the selection moves: the next binary frame, as protobuf.
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('j'));
    let s = draw(&mut app, 100, 32);
    insta::assert_snapshot!("decoders_protobuf_tree", s);
    assert!(s.contains("· protobuf, no schema"), "{s}");
    assert!(s.contains("1: 150"), "{s}");
    assert!(s.contains("2: \"hi\""), "{s}");
    assert!(s.contains("3: message? · 2 B, 1 field"), "{s}");
    assert!(s.contains("  1: 1"), "{s}");
}

#[test]
fn the_mqtt_subprotocol_names_packets_in_the_table_and_decodes_them() {
    use Direction::{ClientToServer as Out, ServerToClient as In};
    let mut connect = vec![
        0x10, 0x0f, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c,
    ];
    connect.extend_from_slice(b"\x00\x03dev");
    let frames = vec![
        frame(1, Out, Opcode::Binary, connect),
        frame(2, In, Opcode::Binary, &b"\x20\x02\x00\x00"[..]),
        frame(
            3,
            Out,
            Opcode::Binary,
            &b"\x82\x08\x00\x01\x00\x03a/b\x00"[..],
        ),
        frame(4, In, Opcode::Binary, &b"\x90\x03\x00\x01\x00"[..]),
        frame(5, In, Opcode::Binary, &b"\x30\x0b\x00\x03a/b21.5\x1b["[..]),
        frame(6, Out, Opcode::Binary, &b"\xc0\x00"[..]),
        frame(7, In, Opcode::Binary, &b"\xd0\x00"[..]),
    ];
    let mut app = session("ws://127.0.0.1:1/", Some("mqtt"), frames);
    let s = draw(&mut app, 110, 36);
    insta::assert_snapshot!("decoders_mqtt_table", s);
    for name in [
        "CONNECT \"dev\" · keep-alive 60 s",
        "CONNACK accepted",
        "SUBSCRIBE a/b",
        "SUBACK granted qos 0",
        "PUBLISH a/b",
        "PINGREQ",
        "PINGRESP",
    ] {
        assert!(s.contains(name), "{name} missing:\n{s}");
    }
    // The detail decodes by itself too; the escape in the payload stays inert.
    select(&mut app, 4);
    let s = draw(&mut app, 110, 36);
    assert!(s.contains("· MQTT"), "{s}");
    assert!(s.contains("PUBLISH · qos 0"), "{s}");
    assert!(s.contains("topic: \"a/b\""), "{s}");
    assert!(s.contains("payload: "), "{s}");
    assert!(!s.contains('\u{1b}'), "{s}");
}

#[test]
fn a_socketio_url_names_engine_io_and_socketio_packets() {
    use Direction::{ClientToServer as Out, ServerToClient as In};
    let url = "ws://127.0.0.1:1/socket.io/?EIO=4&transport=websocket";
    let frames = vec![
        frame(
            1,
            In,
            Opcode::Text,
            r#"0{"sid":"abc","pingInterval":300,"pingTimeout":200}"#,
        ),
        frame(2, Out, Opcode::Text, "40"),
        frame(3, In, Opcode::Text, r#"40{"sid":"def"}"#),
        frame(4, In, Opcode::Text, "2"),
        frame(5, Out, Opcode::Text, "3"),
        frame(6, Out, Opcode::Text, r#"42["chat","hi"]"#),
        frame(7, In, Opcode::Text, r#"42["echo","hi"]"#),
    ];
    let mut app = session(url, None, frames);
    let s = draw(&mut app, 110, 36);
    insta::assert_snapshot!("decoders_socketio_table", s);
    for name in [
        "open 0{",
        "CONNECT / 40",
        "ping 2",
        "pong 3",
        "EVENT chat 42[",
        "EVENT echo",
    ] {
        assert!(s.contains(name), "{name} missing:\n{s}");
    }
    select(&mut app, 6);
    let s = draw(&mut app, 110, 36);
    assert!(s.contains("· socket.io"), "{s}");
    assert!(
        s.contains("socket.io EVENT (2) · Engine.IO message (4)"),
        "{s}"
    );
    assert!(s.contains("event: \"echo\""), "{s}");
    assert!(s.contains("[1]: \"hi\""), "{s}");
}

#[test]
fn base64_inside_json_is_offered_and_shown_decoded() {
    use Direction::ServerToClient as In;
    let json = r#"{"id":7,"body":"aGVsbG8gd29ybGQ=","blob":"3q2+7wABAgM="}"#;
    let mut app = session(
        "ws://127.0.0.1:1/",
        None,
        vec![frame(1, In, Opcode::Text, json)],
    );
    select(&mut app, 0);
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("· JSON"), "{s}");
    assert!(
        s.contains("2 strings here look like base64 · v shows them decoded"),
        "{s}"
    );
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("· JSON, base64 decoded"), "{s}");
    assert!(s.contains("\"body\": \"aGVsbG8gd29ybGQ=\""), "{s}");
    assert!(s.contains("↳ base64: \"hello world\""), "{s}");
    assert!(s.contains("↳ base64: 8 B: de ad be ef 00 01 02 03"), "{s}");
}

#[test]
fn a_huge_msgpack_array_draws_only_what_is_visible() {
    use Direction::ServerToClient as In;
    // 60,000 small maps: the tree is built once when opened; each draw lays out a page.
    let mut b = vec![0xdc, 0xea, 0x60];
    for i in 0..60_000u32 {
        b.extend_from_slice(&[0x81, 0xa1, b'i', 0xce]);
        b.extend_from_slice(&i.to_be_bytes());
    }
    let mut app = session(
        "ws://127.0.0.1:1/",
        None,
        vec![frame(1, In, Opcode::Binary, b)],
    );
    select(&mut app, 0);
    press(&mut app, KeyCode::Char('v'));
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("array · 60,000 items"), "{s}");
    // 120,001 lines would be too many: the tree stops at 100,000 and says so.
    assert!(s.contains("the first 100,000 lines are shown"), "{s}");
    assert!(s.contains("of 100001"), "{s}");
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('J'));
    }
    let s = draw(&mut app, 100, 32);
    assert!(s.contains("lines 4–"), "{s}");
}

#[test]
fn an_mqtt_5_connection_reads_its_packets_as_mqtt_5() {
    use Direction::{ClientToServer as Out, ServerToClient as In};
    // CONNECT level 5 (an empty property list), client `dev`, keep-alive 60 s.
    let connect = b"\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x03dev".to_vec();
    let frames = vec![
        frame(1, Out, Opcode::Binary, connect),
        // CONNACK and SUBACK carry a property length in MQTT 5.
        frame(2, In, Opcode::Binary, &b"\x20\x03\x00\x00\x00"[..]),
        frame(3, In, Opcode::Binary, &b"\x90\x04\x00\x01\x00\x00"[..]),
    ];
    let mut app = session("ws://127.0.0.1:1/", Some("mqtt"), frames);
    let s = draw(&mut app, 110, 36);
    assert!(
        s.contains("CONNECT \"dev\" · keep-alive 60 s · MQTT 5"),
        "{s}"
    );
    assert!(s.contains("CONNACK success"), "{s}");
    assert!(s.contains("SUBACK granted qos 0 "), "{s}");
    assert!(!s.contains("granted qos 0, granted"), "{s}");
    select(&mut app, 2);
    let s = draw(&mut app, 110, 36);
    assert!(s.contains("SUBACK · packet id 1 · MQTT 5"), "{s}");
}
