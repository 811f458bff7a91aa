//! The monitor's decoders against real peers, started by the tests: mosquitto (an MQTT broker
//! with a WebSocket listener) behind `--preset mqtt`, a Python server sending what the
//! `msgpack`, `cbor2` and `protobuf` packages encode, and a socket.io 4 server behind
//! `--preset socketio`. What is asserted is what a user sees on the monitor's screen.

mod common;

use std::process::{Command, Stdio};

use common::netpeers::{have, mosquitto};
use common::peers::{
    PeerServer, node_ws_available, python, skip_or_fail, spawn_py_script, test_peers_dir,
};
use common::runtime::launch;
use crossterm::event::KeyCode;
use wsdeck::app::AppInit;
use wsdeck::openings::Preset;
use wsdeck::runtime::RunOptions;
use wsdeck::spec::{AuthMethod, ConnectSpec, Overrides};

fn init(url: &str, overrides: Overrides) -> AppInit {
    let mut spec = ConnectSpec::new(url);
    spec.auth = AuthMethod::None;
    spec.ping_interval = None;
    overrides.apply(&mut spec).unwrap();
    let mut init = AppInit::new(spec);
    init.connect_now = true;
    init
}

/// An MQTT 3.1.1 CONNECT: client id `wsdeck`, clean session, keep-alive 0 (no PINGREQ due).
const CONNECT: &str = "10 12 00 04 4d 51 54 54 04 02 00 00 00 06 77 73 64 65 63 6b";
/// SUBSCRIBE packet id 1 to `test/#`, QoS 0.
const SUBSCRIBE: &str = "82 0b 00 01 00 06 74 65 73 74 2f 23 00";
/// PUBLISH `hi` to `test/x`, QoS 0.
const PUBLISH: &str = "30 0a 00 06 74 65 73 74 2f 78 68 69";

#[tokio::test(flavor = "current_thread")]
async fn mosquitto_behind_the_mqtt_preset_shows_named_packets() {
    if !have("mosquitto", "apt-get install mosquitto") {
        return;
    }
    let broker = mosquitto();
    let url = broker.url("ws", None);
    let overrides = Overrides {
        preset: Some(Preset::Mqtt),
        on_connect_hex: vec![CONNECT.into(), SUBSCRIBE.into()],
        ..Default::default()
    };
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (h, handle) = launch(init(&url, overrides), RunOptions::default(), (120, 40));
            // The preset asked for the subprotocol and the broker agreed.
            h.wait_for("⇄ mqtt").await;
            h.press(KeyCode::F(3));
            h.wait_for("CONNECT \"wsdeck\" · keep-alive 0 s").await;
            h.wait_for("CONNACK accepted").await;
            h.wait_for("SUBSCRIBE test/#").await;
            h.wait_for("SUBACK granted qos 0").await;
            // Publish to the subscription from the chat: it comes back from the broker, and
            // the monitor (following the newest frame) shows it decoded.
            h.press(KeyCode::F(2));
            h.type_text(&format!("/hex {PUBLISH}"));
            h.press(KeyCode::Enter);
            h.press(KeyCode::F(3));
            let s = h.wait_for("#6 ↓ received binary · 12 B · MQTT").await;
            assert!(s.contains("payload: \"hi\""), "{s}");
            assert!(s.contains("topic: \"test/x\""), "{s}");
            assert!(s.contains("· MQTT"), "{s}");
            assert!(s.contains("↓ binary      12 PUBLISH test/x"), "{s}");
            assert!(s.contains("↑ binary      12 PUBLISH test/x"), "{s}");
            // MQTT's keep-alive is the client's: a PINGREQ sent by hand is answered.
            h.press(KeyCode::F(2));
            h.type_text("/hex c0 00");
            h.press(KeyCode::Enter);
            h.press(KeyCode::F(3));
            h.wait_for("PINGRESP · the broker answers").await;
            h.quit(handle).await;
        })
        .await;
}

/// True when Python has the encoders the peer uses; else a skip note (or a failure under
/// `WSDECK_REQUIRE_PEERS=1`).
fn python_encoders() -> bool {
    let ok = Command::new(python())
        .args([
            "-c",
            "import msgpack, cbor2, google.protobuf, websockets.asyncio.server",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip_or_fail(
            "python3 lacks msgpack, cbor2, protobuf or websockets \
             (pip install msgpack cbor2 protobuf websockets)",
        );
    }
    ok
}

/// Sends four messages on connect: MessagePack, CBOR, a protobuf `Struct`, JSON with base64.
const ENCODERS: &str = r#"
import asyncio, base64, json
import cbor2, msgpack
from google.protobuf import struct_pb2
from websockets.asyncio.server import serve

async def handler(ws):
    await ws.send(msgpack.packb({"type": "tick", "n": [1, 2.5], "raw": b"\xde\xad"}, use_bin_type=True))
    await ws.send(cbor2.dumps({1: "a", "when": cbor2.CBORTag(1, 1700000000), "ok": [True, None]}))
    s = struct_pb2.Struct()
    s.update({"name": "wsdeck", "n": 3})
    await ws.send(s.SerializeToString())
    await ws.send(json.dumps({"id": 7, "body": base64.b64encode(b"hello from python").decode()}))
    async for _ in ws:
        pass

async def main():
    async with serve(handler, "127.0.0.1", 0) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()

asyncio.run(main())
"#;

#[tokio::test(flavor = "current_thread")]
async fn what_python_encodes_shows_as_trees() {
    if !python_encoders() {
        return;
    }
    let peer = spawn_py_script(ENCODERS, "python encoders");
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (h, handle) = launch(
                init(&peer.url(), Overrides::default()),
                RunOptions::default(),
                (120, 44),
            );
            h.wait_for("● connected").await;
            h.press(KeyCode::F(3));
            h.wait_for("Frames 4").await;
            h.press(KeyCode::Home);
            h.press(KeyCode::Char('v'));
            let s = h.wait_for("· MessagePack").await;
            for line in [
                "map · 3 entries",
                "\"type\": \"tick\"",
                "[1]: 2.5",
                "\"raw\": bin 2 B: de ad",
            ] {
                assert!(s.contains(line), "{line}:\n{s}");
            }
            // The next frame, and the next decoder: CBOR.
            h.press(KeyCode::Char('j'));
            h.press(KeyCode::Char('v'));
            let s = h.wait_for("· CBOR").await;
            for line in [
                "1: \"a\"",
                "\"when\": tag 1 (epoch time)",
                "1700000000",
                "[0]: true",
            ] {
                assert!(s.contains(line), "{line}:\n{s}");
            }
            // protobuf's Struct: map entries as nested messages, a double, a string.
            h.press(KeyCode::Char('j'));
            h.press(KeyCode::Char('v'));
            let s = h.wait_for("· protobuf, no schema").await;
            for line in ["1: \"name\"", "3: \"wsdeck\"", "1: \"n\"", "double 3"] {
                assert!(s.contains(line), "{line}:\n{s}");
            }
            // JSON with a base64 body: offered, then shown decoded.
            h.press(KeyCode::Char('j'));
            h.wait_for("1 string here looks like base64 · v shows it decoded")
                .await;
            h.press(KeyCode::Char('v'));
            h.wait_for("↳ base64: \"hello from python\"").await;
            h.quit(handle).await;
        })
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_socketio_server_behind_the_preset_shows_packet_names() {
    if !node_ws_available() {
        return;
    }
    let mut cmd = Command::new("node");
    cmd.arg(test_peers_dir().join("sio_server.js"));
    let s = PeerServer::start_cmd(cmd, "sio_server.js");
    let url = format!("{}/socket.io/?EIO=4&transport=websocket", s.url());
    let overrides = Overrides {
        preset: Some(Preset::Socketio),
        ..Default::default()
    };
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let (h, handle) = launch(init(&url, overrides), RunOptions::default(), (120, 40));
            h.wait_for("● connected").await;
            h.press(KeyCode::F(3));
            h.wait_for("open 0{").await;
            // The preset's 40, and the server's answer: the namespace is open.
            h.wait_for("CONNECT / 40{\"sid\"").await;
            h.press(KeyCode::F(2));
            h.type_text(r#"42["chat","hi"]"#);
            h.press(KeyCode::Enter);
            h.press(KeyCode::F(3));
            h.wait_for("EVENT chat 42[\"chat\",\"hi\"]").await;
            h.wait_for("EVENT echo 42[\"echo\",\"hi\"]").await;
            // The server's pings and the preset's answers.
            h.wait_for("ping 2").await;
            h.wait_for("pong 3").await;
            h.quit(handle).await;
        })
        .await;
}
