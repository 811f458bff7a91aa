//! Recording (JSONL), HAR export, redaction and the bounded frame store, checked through the
//! files a user would open and the frames the views would show.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde_json::Value;
use wsdeck::model::{CloseInfo, Direction, FrameRecord, HandshakeInfo, HttpHead, Opcode};
use wsdeck::record::har::{self, HarOptions};
use wsdeck::record::jsonl::{self, Recorder};
use wsdeck::record::store::FrameStore;

const PASSWORD: &str = "123456";
/// base64("admin:123456"), what Basic auth puts in the Authorization header.
const BASIC_CRED: &str = "YWRtaW46MTIzNDU2";
const BEARER: &str = "tok-9f8e7d6c5b";
/// 2026-11-25T18:01:02Z
const T0: u64 = 1_795_629_662;

fn at(micros_after_t0: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_micros(micros_after_t0)
}

fn frame(seq: u64, t: u64, dir: Direction, opcode: Opcode, payload: &[u8]) -> FrameRecord {
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at: at(t),
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

const MULTILINE: &str = "your submit context: hi\r\nsecond line\n\"quoted\" \u{1b}[31m red ☃ 🎉";
const BINARY: [u8; 6] = [0xff, 0x00, 0xfe, b'a', 0xc3, 0x28];

/// A session as the network task would report it: redacted login, a multi-line reply,
/// binary with invalid UTF-8, ping/pong, and a close with code and reason.
fn session() -> Vec<FrameRecord> {
    let mut login = frame(1, 0, Direction::ClientToServer, Opcode::Text, b"admin:***");
    login.len = "admin:123456".len();
    login.redacted = true;
    let mut close = frame(
        7,
        3_000_001,
        Direction::ServerToClient,
        Opcode::Close,
        b"bye",
    );
    close.len = 5;
    close.close = Some(CloseInfo {
        code: 1000,
        reason: "bye".into(),
    });
    vec![
        login,
        frame(
            2,
            1_500,
            Direction::ServerToClient,
            Opcode::Text,
            MULTILINE.as_bytes(),
        ),
        frame(
            3,
            250_000,
            Direction::ServerToClient,
            Opcode::Binary,
            &BINARY,
        ),
        frame(4, 999_999, Direction::ClientToServer, Opcode::Ping, b"1234"),
        frame(
            5,
            1_000_123,
            Direction::ServerToClient,
            Opcode::Pong,
            b"1234",
        ),
        frame(6, 2_000_000, Direction::ClientToServer, Opcode::Text, b""),
        close,
    ]
}

fn handshake() -> HandshakeInfo {
    let h = |n: &str, v: &str| (n.to_string(), v.to_string());
    HandshakeInfo {
        conn: 1,
        leg: Default::default(),
        url: format!("ws://admin:{PASSWORD}@127.0.0.1:5678/chat?room=a%20b&x=1"),
        request: HttpHead {
            start_line: "GET /chat?room=a%20b&x=1 HTTP/1.1".into(),
            headers: vec![
                h("Host", "127.0.0.1:5678"),
                h("Connection", "Upgrade"),
                h("Upgrade", "websocket"),
                h("Sec-WebSocket-Version", "13"),
                h("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                h("Authorization", &format!("Basic {BASIC_CRED}")),
                h("proxy-authorization", &format!("Bearer {BEARER}")),
                h("Cookie", &format!("session={BEARER}")),
            ],
        },
        response: HttpHead {
            start_line: "HTTP/1.1 101 Switching Protocols".into(),
            headers: vec![
                h("Upgrade", "websocket"),
                h("Connection", "Upgrade"),
                h("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                h("Sec-WebSocket-Protocol", "chat"),
                h("Set-Cookie", &format!("sid={BEARER}; HttpOnly")),
            ],
        },
        started: Some(at(0) - Duration::from_micros(2_500)),
        finished: Some(at(0) - Duration::from_micros(1_000)),
        ..Default::default()
    }
}

fn record_session(path: &Path) {
    let mut r = Recorder::create(path).unwrap();
    r.write_handshake(&handshake()).unwrap();
    for f in session() {
        r.write(&f).unwrap();
    }
    assert_eq!(r.frames_written(), 7);
}

fn assert_same_frames(got: &[FrameRecord], want: &[FrameRecord]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.seq, w.seq);
        assert_eq!(g.at, w.at, "time of frame {}", w.seq);
        assert_eq!(g.dir, w.dir, "dir of frame {}", w.seq);
        assert_eq!(g.opcode, w.opcode, "opcode of frame {}", w.seq);
        assert_eq!(g.len, w.len, "len of frame {}", w.seq);
        assert_eq!(g.payload, w.payload, "payload of frame {}", w.seq);
        assert_eq!(g.close, w.close, "close of frame {}", w.seq);
        assert_eq!(g.redacted, w.redacted, "redacted of frame {}", w.seq);
    }
    assert_eq!(got, want);
}

#[test]
fn jsonl_round_trips_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    record_session(&path);

    let rec = jsonl::read(&path).unwrap();
    assert_same_frames(&rec.frames, &session());
    assert_eq!(rec.truncated_lines, 0);
    assert!(rec.reconnects.is_empty());

    let hs = rec.handshake.expect("handshake line read back");
    let want = handshake();
    assert_eq!(hs.started, want.started);
    assert_eq!(hs.finished, want.finished);
    assert_eq!(hs.request.start_line, want.request.start_line);
    assert_eq!(hs.response.start_line, want.response.start_line);
    assert_eq!(hs.url, "ws://admin:***@127.0.0.1:5678/chat?room=a%20b&x=1");
    let names: Vec<&str> = hs.request.headers.iter().map(|(n, _)| n.as_str()).collect();
    let want_names: Vec<&str> = want
        .request
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, want_names, "header order and spelling kept");
    let value = |head: &HttpHead, n: &str| {
        head.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(value(&hs.request, "Authorization"), "***");
    assert_eq!(value(&hs.request, "proxy-authorization"), "***");
    assert_eq!(value(&hs.request, "Cookie"), "***");
    assert_eq!(value(&hs.response, "Set-Cookie"), "***");
    assert_eq!(
        value(&hs.response, "Sec-WebSocket-Accept"),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn jsonl_lines_have_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    record_session(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "one handshake line and one line per frame");

    let hs: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(hs["type"], "handshake");
    assert_eq!(
        hs["request"]["start_line"],
        "GET /chat?room=a%20b&x=1 HTTP/1.1"
    );
    assert_eq!(hs["request"]["headers"][0]["name"], "Host");
    assert_eq!(hs["request"]["headers"][0]["value"], "127.0.0.1:5678");
    assert_eq!(hs["started"], "2026-11-25T18:01:01.997500Z");
    assert_eq!(
        hs["response"]["start_line"],
        "HTTP/1.1 101 Switching Protocols"
    );

    let v: Vec<Value> = lines[1..]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys = |o: &Value| -> Vec<String> { o.as_object().unwrap().keys().cloned().collect() };

    // Login: redacted text frame.
    assert_eq!(v[0]["seq"], 1);
    assert_eq!(v[0]["ts"], "2026-11-25T18:01:02.000000Z");
    assert_eq!(v[0]["dir"], "c2s");
    assert_eq!(v[0]["opcode"], "text");
    assert_eq!(v[0]["len"], 12);
    assert_eq!(v[0]["text"], "admin:***");
    assert_eq!(v[0]["redacted"], true);
    assert!(v[0].get("base64").is_none());
    // The frame's fields come in the documented order.
    let pos: Vec<usize> = [
        "\"seq\"",
        "\"conn\"",
        "\"ts\"",
        "\"dir\"",
        "\"opcode\"",
        "\"len\"",
        "\"text\"",
    ]
    .iter()
    .map(|k| lines[1].find(&format!("{k}:")).unwrap())
    .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{}", lines[1]);

    // Multi-line text is one JSON line with escapes, and comes back exact.
    assert_eq!(v[1]["ts"], "2026-11-25T18:01:02.001500Z");
    assert_eq!(v[1]["dir"], "s2c");
    assert_eq!(v[1]["text"], MULTILINE);
    assert!(
        !lines[2].contains('\u{1b}'),
        "control bytes are escaped in the file"
    );
    assert!(v[1].get("redacted").is_none(), "redacted only when true");

    // Binary with invalid UTF-8: base64, no text.
    assert_eq!(v[2]["opcode"], "binary");
    assert_eq!(v[2]["len"], 6);
    assert_eq!(v[2]["base64"], B64.encode(BINARY));
    assert!(v[2].get("text").is_none());

    // Ping and pong payloads are base64 even when printable.
    assert_eq!(v[3]["opcode"], "ping");
    assert_eq!(v[3]["base64"], "MTIzNA==");
    assert_eq!(v[3]["ts"], "2026-11-25T18:01:02.999999Z");
    assert_eq!(v[4]["opcode"], "pong");
    assert_eq!(v[4]["dir"], "s2c");

    // Empty text frame still has its `text`.
    assert_eq!(v[5]["text"], "");

    // Close: code and reason.
    assert_eq!(
        keys(&v[6]),
        [
            "code", "conn", "dir", "len", "opcode", "reason", "seq", "text", "ts"
        ]
    );
    assert_eq!(v[6]["opcode"], "close");
    assert_eq!(v[6]["code"], 1000);
    assert_eq!(v[6]["reason"], "bye");
    assert_eq!(v[6]["len"], 5);
    assert_eq!(v[6]["ts"], "2026-11-25T18:01:05.000001Z");
}

#[test]
fn sub_microsecond_digits_are_cut_not_rounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns.jsonl");
    let mut f = frame(1, 0, Direction::ClientToServer, Opcode::Text, b"x");
    f.at = UNIX_EPOCH + Duration::new(T0, 123_456_999);
    let mut r = Recorder::create(&path).unwrap();
    r.write(&f).unwrap();
    let line = std::fs::read_to_string(&path).unwrap();
    assert!(
        line.contains("\"ts\":\"2026-11-25T18:01:02.123456Z\""),
        "{line}"
    );
    let back = jsonl::read(&path).unwrap();
    assert_eq!(
        back.frames[0].at,
        UNIX_EPOCH + Duration::new(T0, 123_456_000)
    );
}

#[test]
fn batch_writes_match_single_writes() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.jsonl");
    let batch = dir.path().join("batch.jsonl");
    record_session(&one);
    let mut r = Recorder::create(&batch).unwrap();
    r.write_handshake(&handshake()).unwrap();
    r.write_batch(session()).unwrap();
    assert_eq!(r.frames_written(), 7);
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&batch).unwrap());
}

#[test]
fn a_recording_cut_mid_line_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.jsonl");
    record_session(&path);
    // The process was killed while writing the next line.
    let mut partial = Vec::new();
    jsonl::encode_frame(
        &mut partial,
        &frame(
            8,
            4_000_000,
            Direction::ServerToClient,
            Opcode::Text,
            b"never finished",
        ),
    )
    .unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&partial[..partial.len() / 2]).unwrap();
    drop(file);

    let rec = jsonl::read(&path).unwrap();
    assert_same_frames(&rec.frames, &session());
    assert_eq!(rec.truncated_lines, 1);

    // Turning recording back on repairs the file before appending.
    let mut r = Recorder::append(&path).unwrap();
    r.write(&frame(
        8,
        4_000_000,
        Direction::ServerToClient,
        Opcode::Text,
        b"after restart",
    ))
    .unwrap();
    let rec = jsonl::read(&path).unwrap();
    assert_eq!(rec.truncated_lines, 0);
    assert_eq!(rec.frames.len(), 8);
    assert_eq!(&rec.frames[7].payload[..], b"after restart");
}

#[test]
fn a_complete_last_line_without_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonl.jsonl");
    record_session(&path);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.pop();
    std::fs::write(&path, text).unwrap();
    let rec = jsonl::read(&path).unwrap();
    assert_eq!(rec.frames.len(), 7);
    assert_eq!(rec.truncated_lines, 0);
}

#[test]
fn bad_lines_are_reported_with_their_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    record_session(&path);
    let good = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = good.lines().collect();

    let with_line = |n: usize, bad: &str| {
        let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        out.insert(n - 1, bad.to_string());
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        format!("{:#}", jsonl::read(&path).unwrap_err())
    };

    let e = with_line(4, "this is not json");
    assert!(e.contains("line 4"), "{e}");
    assert!(e.contains("bad.jsonl"), "names the file: {e}");

    let e = with_line(
        2,
        r#"{"seq":1,"dir":"send","opcode":"text","len":1,"text":"x"}"#,
    );
    assert!(e.contains("line 2") && e.contains("`ts`"), "{e}");

    let e = with_line(
        6,
        r#"{"seq":1,"ts":"2026-11-25T18:01:02.000000Z","dir":"send","opcode":"binary","len":1,"base64":"!!"}"#,
    );
    assert!(e.contains("line 6") && e.contains("base64"), "{e}");

    let e = with_line(
        3,
        r#"{"seq":1,"ts":"2026-11-25T18:01:02.000000Z","dir":"sideways","opcode":"text","len":1,"text":"x"}"#,
    );
    assert!(e.contains("line 3") && e.contains("sideways"), "{e}");

    let e = with_line(
        2,
        r#"{"seq":1,"ts":"last tuesday","dir":"send","opcode":"text","len":1,"text":"x"}"#,
    );
    assert!(e.contains("line 2") && e.contains("last tuesday"), "{e}");
}

#[test]
fn reconnect_handshakes_are_placed_between_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("re.jsonl");
    let frames = session();
    let mut r = Recorder::create(&path).unwrap();
    r.write_handshake(&handshake()).unwrap();
    r.write_batch(&frames[..3]).unwrap();
    let mut second = handshake();
    second.started = Some(at(10_000_000));
    second.finished = None;
    r.write_handshake(&second).unwrap();
    r.write_batch(&frames[3..]).unwrap();
    let rec = jsonl::read(&path).unwrap();
    assert_eq!(rec.frames.len(), 7);
    assert_eq!(rec.reconnects.len(), 1);
    assert_eq!(rec.reconnects[0].0, 3);
    assert_eq!(rec.reconnects[0].1.started, Some(at(10_000_000)));
    assert_eq!(rec.reconnects[0].1.finished, None);
}

#[test]
fn file_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("rec.jsonl");
    let e = format!("{:#}", Recorder::create(&missing).unwrap_err());
    assert!(e.contains("no-such-dir/rec.jsonl"), "{e}");
    let e = format!("{:#}", jsonl::read(&missing).unwrap_err());
    assert!(e.contains("no-such-dir/rec.jsonl"), "{e}");
    let e = format!(
        "{:#}",
        har::write_har(dir.path().join("nope/x.har"), &handshake(), &session()).unwrap_err()
    );
    assert!(e.contains("nope/x.har"), "{e}");
}

fn find_header<'a>(headers: &'a Value, name: &str) -> &'a str {
    headers
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("header {name} missing in {headers}"))["value"]
        .as_str()
        .unwrap()
}

#[test]
fn har_export_has_every_required_field_and_the_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.har");
    har::write_har(&path, &handshake(), &session()).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        doc,
        har::to_har(&handshake(), &session()),
        "file and value agree"
    );

    let log = &doc["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "wsdeck");
    assert!(log["creator"]["version"].is_string());
    assert_eq!(log["pages"][0]["id"], "page_1");
    assert!(log["pages"][0]["pageTimings"].is_object());
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["pageref"], "page_1");
    assert_eq!(e["startedDateTime"], "2026-11-25T18:01:01.997500Z");
    assert_eq!(e["time"], 1.5);
    assert_eq!(e["_resourceType"], "websocket");
    assert!(e["cache"].is_object());
    for k in ["send", "wait", "receive"] {
        assert!(e["timings"][k].as_f64().unwrap() >= 0.0, "timings.{k}");
    }
    assert_eq!(e["timings"]["wait"], 1.5);

    let req = &e["request"];
    assert_eq!(req["method"], "GET");
    assert_eq!(
        req["url"],
        "ws://admin:***@127.0.0.1:5678/chat?room=a%20b&x=1"
    );
    assert_eq!(req["httpVersion"], "HTTP/1.1");
    assert_eq!(find_header(&req["headers"], "Host"), "127.0.0.1:5678");
    assert_eq!(
        find_header(&req["headers"], "Sec-WebSocket-Key"),
        "dGhlIHNhbXBsZSBub25jZQ=="
    );
    assert_eq!(find_header(&req["headers"], "Authorization"), "***");
    assert_eq!(
        req["queryString"],
        serde_json::json!([{"name": "room", "value": "a b"}, {"name": "x", "value": "1"}])
    );
    assert_eq!(
        req["cookies"],
        serde_json::json!([]),
        "redacted cookies are not listed"
    );
    assert!(req["headersSize"].as_i64().unwrap() > 0);
    assert_eq!(req["bodySize"], 0);

    let resp = &e["response"];
    assert_eq!(resp["status"], 101);
    assert_eq!(resp["statusText"], "Switching Protocols");
    assert_eq!(resp["httpVersion"], "HTTP/1.1");
    assert_eq!(
        find_header(&resp["headers"], "Sec-WebSocket-Accept"),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        find_header(&resp["headers"], "Sec-WebSocket-Protocol"),
        "chat"
    );
    assert!(resp["cookies"].is_array());
    assert_eq!(resp["content"]["size"], 0);
    assert!(resp["content"]["mimeType"].is_string());
    assert_eq!(resp["redirectURL"], "");
    assert!(resp["headersSize"].is_i64());
    assert!(resp["bodySize"].is_i64());

    let msgs = e["_webSocketMessages"].as_array().unwrap();
    assert_eq!(msgs.len(), 7);
    let types: Vec<&str> = msgs.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "send", "receive", "receive", "send", "receive", "send", "receive"
        ]
    );
    let opcodes: Vec<u64> = msgs.iter().map(|m| m["opcode"].as_u64().unwrap()).collect();
    assert_eq!(opcodes, [1, 1, 2, 9, 10, 1, 8]);
    for (m, f) in msgs.iter().zip(session()) {
        let want = f.at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        let got = m["time"].as_f64().unwrap();
        assert!((got - want).abs() < 2e-6, "time {got} vs {want}");
    }
    assert_eq!(msgs[0]["data"], "admin:***");
    assert_eq!(msgs[1]["data"], MULTILINE);
    assert_eq!(
        B64.decode(msgs[2]["data"].as_str().unwrap()).unwrap(),
        BINARY,
        "binary data is base64"
    );
    assert!(
        msgs[2].get("_encoding").is_none(),
        "binary is base64 by convention"
    );
    assert_eq!(msgs[3]["data"], "MTIzNA==");
    assert_eq!(msgs[3]["_encoding"], "base64");
    assert_eq!(msgs[6]["data"], "bye");
    assert_eq!(msgs[6]["_closeCode"], 1000);
}

#[test]
fn har_without_handshake_times_uses_the_first_frame() {
    let hs = HandshakeInfo {
        conn: 1,
        leg: Default::default(),
        url: "wss://example.com/ws".into(),
        ..Default::default()
    };
    let doc = har::to_har(&hs, &session());
    let e = &doc["log"]["entries"][0];
    assert_eq!(e["startedDateTime"], "2026-11-25T18:01:02.000000Z");
    assert_eq!(e["time"], 0.0);
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["response"]["status"], 101);
    assert_eq!(e["request"]["headersSize"], -1);
}

#[test]
fn secrets_never_reach_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl_path = dir.path().join("s.jsonl");
    let har_path = dir.path().join("s.har");
    record_session(&jsonl_path);
    har::write_har(&har_path, &handshake(), &session()).unwrap();
    for path in [&jsonl_path, &har_path] {
        let text = std::fs::read_to_string(path).unwrap();
        for secret in [PASSWORD, BASIC_CRED, BEARER] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {}",
                path.display()
            );
        }
        assert!(text.contains("***"));
    }

    // With redaction off (--no-redact) the same writers do show the headers, so the check
    // above is meaningful.
    let mut r = Recorder::create(&jsonl_path).unwrap();
    r.set_redact(false);
    r.write_handshake(&handshake()).unwrap();
    let text = std::fs::read_to_string(&jsonl_path).unwrap();
    assert!(text.contains(BASIC_CRED) && text.contains(PASSWORD));
    // A new name: an existing HAR is never overwritten.
    let plain_har = dir.path().join("plain.har");
    har::write_har_with(
        &plain_har,
        &handshake(),
        session(),
        // The same file again: replaced on request (by default it would be kept).
        HarOptions {
            redact: false,
            overwrite: true,
        },
    )
    .unwrap();
    let text = std::fs::read_to_string(&plain_har).unwrap();
    assert!(text.contains(BASIC_CRED) && text.contains(BEARER));
}

#[test]
fn har_from_store_views_equals_har_from_records() {
    let mut store = FrameStore::default();
    for f in session() {
        store.push(&f);
    }
    assert_eq!(
        har::to_har_with(&handshake(), store.iter(), HarOptions::default()),
        har::to_har(&handshake(), &session())
    );
    // And the JSONL writer takes views too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("views.jsonl");
    let mut r = Recorder::create(&path).unwrap();
    r.write_batch(store.iter()).unwrap();
    assert_same_frames(&jsonl::read(&path).unwrap().frames, &session());
}

fn text_frame(seq: u64, len: usize) -> FrameRecord {
    let payload: Vec<u8> = (0..len)
        .map(|i| b'a' + ((seq as usize + i) % 26) as u8)
        .collect();
    frame(seq, seq, Direction::ServerToClient, Opcode::Text, &payload)
}

#[test]
fn store_keeps_the_newest_frames_by_count() {
    let mut s = FrameStore::new(4, usize::MAX);
    for seq in 1..=10 {
        s.push(&text_frame(seq, 10));
    }
    assert_eq!(s.len(), 4);
    assert_eq!(s.dropped(), 6);
    assert_eq!(s.total_pushed(), 10);
    let seqs: Vec<u64> = s.iter().map(|v| v.seq).collect();
    assert_eq!(seqs, [7, 8, 9, 10]);
    assert_eq!(s.get(0).unwrap().to_record(), text_frame(7, 10));
    assert_eq!(s.last().unwrap().to_record(), text_frame(10, 10));
    assert!(s.get(4).is_none());
    assert_eq!(s.get_absolute(6).unwrap().seq, 7);
    assert!(s.get_absolute(5).is_none(), "dropped frames are gone");
    assert_eq!(s.position_of_seq(9), Ok(2));
    assert_eq!(s.position_of_seq(3), Err(0));
    let mid: Vec<u64> = s.iter_range(1..3).map(|v| v.seq).collect();
    assert_eq!(mid, [8, 9]);
    assert_eq!(s.iter_range(2..100).len(), 2, "ranges are clamped");
    assert_eq!(s.iter_range(7..9).len(), 0);
    let rev: Vec<u64> = s.iter().rev().map(|v| v.seq).collect();
    assert_eq!(rev, [10, 9, 8, 7]);
}

#[test]
fn store_keeps_the_newest_frames_by_payload_bytes() {
    let mut s = FrameStore::new(1_000, 1_000);
    for seq in 1..=10 {
        s.push(&text_frame(seq, 300));
    }
    assert_eq!(s.len(), 3);
    assert_eq!(s.payload_bytes(), 900);
    assert_eq!(s.dropped(), 7);
    let seqs: Vec<u64> = s.iter().map(|v| v.seq).collect();
    assert_eq!(seqs, [8, 9, 10]);
    for v in s.iter() {
        assert_eq!(v.to_record(), text_frame(v.seq, 300));
    }

    // A frame bigger than the whole budget is still shown, alone.
    s.push(&text_frame(11, 5_000));
    assert_eq!(s.len(), 1);
    assert_eq!(s.dropped(), 10);
    assert_eq!(s.get(0).unwrap().payload.len(), 5_000);
    // Empty control frames cost no payload.
    s.push(&frame(12, 0, Direction::ClientToServer, Opcode::Ping, b""));
    assert_eq!(s.len(), 1, "the 5000-byte frame made room");
    assert_eq!(s.get(0).unwrap().opcode, Opcode::Ping);
    assert_eq!(s.get(0).unwrap().payload, b"");
}

#[test]
fn store_limits_can_shrink_later() {
    let mut s = FrameStore::default();
    for seq in 1..=100 {
        s.push(&text_frame(seq, 50));
    }
    s.set_limits(10, usize::MAX);
    assert_eq!(s.len(), 10);
    assert_eq!(s.dropped(), 90);
    s.set_limits(100, 200);
    assert_eq!(s.len(), 4);
    assert_eq!(s.get(0).unwrap().seq, 97);
}

#[test]
fn store_memory_stays_bounded_under_churn() {
    let mut s = FrameStore::new(1_000, usize::MAX);
    let mut peak = 0;
    for seq in 1..=200_000 {
        // Mixed sizes, including payloads that get a chunk of their own.
        let len = match seq % 1000 {
            0 => 300_000,
            n if n % 7 == 0 => 4_000,
            n => (n % 200) as usize,
        };
        s.push(&text_frame(seq, len));
        if seq > 10_000 {
            peak = peak.max(s.approx_heap_bytes());
        }
    }
    assert_eq!(s.len(), 1_000);
    assert_eq!(s.dropped(), 199_000);
    // Kept payload is at most ~1000 × 4 KB/7 + 100 B + one 300 KB frame ≈ 0.9 MB; the arena
    // must not keep dead chunks around.
    assert!(peak < 4 * 1024 * 1024, "peak heap {peak}");
    for v in s.iter() {
        assert_eq!(v.payload, &text_frame(v.seq, v.payload.len()).payload[..]);
    }
}

#[test]
fn store_of_a_million_100_byte_messages_fits_the_memory_budget() {
    const N: usize = 1_000_000;
    let mut s = FrameStore::default();
    let mut f = text_frame(0, 100);
    for seq in 1..=N as u64 {
        f.seq = seq;
        s.push(&f);
    }
    assert_eq!(s.len(), N);
    assert_eq!(s.dropped(), 0);
    assert_eq!(s.payload_bytes(), N * 100);
    let heap = s.approx_heap_bytes();
    let budget = N * 100 * 3 / 2 + 48 * N;
    assert!(heap <= budget, "heap {heap} > budget {budget}");
    assert_eq!(s.get(N - 1).unwrap().seq, N as u64);
    assert_eq!(s.get(123_456).unwrap().payload, &f.payload[..]);

    // One more frame drops the oldest (default limit 1,000,000 frames).
    f.seq += 1;
    s.push(&f);
    assert_eq!(s.len(), N);
    assert_eq!(s.dropped(), 1);
    assert_eq!(s.get(0).unwrap().seq, 2);
}

#[test]
fn frames_carry_their_connection_and_origin_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conns.jsonl");
    let mut rec = Recorder::create(&path).unwrap();
    let mut h1 = handshake();
    h1.conn = 1;
    rec.write_handshake(&h1).unwrap();
    rec.write(&frame(1, 0, Direction::ClientToServer, Opcode::Text, b"a"))
        .unwrap();
    let mut h2 = handshake();
    h2.conn = 2;
    h2.leg = wsdeck::model::Leg::Client;
    rec.write_handshake(&h2).unwrap();
    let mut injected = frame(2, 1, Direction::ServerToClient, Opcode::Text, b"b");
    injected.conn = 2;
    injected.origin = wsdeck::model::Origin::Injected;
    rec.write(&injected).unwrap();
    drop(rec);

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].contains(r#""conn":1"#) && lines[1].contains(r#""dir":"c2s""#));
    assert!(
        !lines[1].contains("origin"),
        "a wire frame has no origin field"
    );
    assert!(lines[2].contains(r#""leg":"client""#), "{}", lines[2]);
    assert!(lines[3].contains(r#""origin":"injected""#), "{}", lines[3]);

    let back = wsdeck::record::jsonl::read(&path).unwrap();
    assert_eq!(back.frames[0].conn, 1);
    assert_eq!(back.frames[1].conn, 2);
    assert_eq!(back.frames[1].origin, wsdeck::model::Origin::Injected);
    assert_eq!(back.frames[1].dir, Direction::ServerToClient);
    assert_eq!(back.reconnects[0].1.leg, wsdeck::model::Leg::Client);
}

/// Issue 14 item 2: a later run appended to the same file starts again at connection 1 and
/// seq 1; the reader numbers it after the earlier run. A proxy's legs of one connection (and
/// its connections' legs interleaved) are not mistaken for a new run.
#[test]
fn sessions_appended_to_one_file_read_one_after_the_other() {
    let hs = |conn: u64, leg: &str| {
        format!(
            r#"{{"type":"handshake","conn":{conn},"leg":"{leg}","url":"ws://h/","request":{{"start_line":"GET / HTTP/1.1","headers":[]}},"response":{{"start_line":"HTTP/1.1 101 Switching Protocols","headers":[]}}}}"#
        )
    };
    let fr = |seq: u64, conn: u64, text: &str| {
        format!(
            r#"{{"seq":{seq},"conn":{conn},"ts":"2026-11-25T18:01:02.000000Z","dir":"c2s","opcode":"text","len":{},"text":"{text}"}}"#,
            text.len()
        )
    };
    let lines = [
        hs(1, "client"),
        hs(2, "client"),
        hs(1, "server"),
        fr(1, 1, "a"),
        hs(2, "server"),
        fr(2, 2, "b"),
        // The next run.
        hs(1, "client"),
        hs(1, "server"),
        fr(1, 1, "c"),
    ];
    let rec = wsdeck::record::jsonl::read_from(lines.join("\n").as_bytes()).unwrap();
    let got: Vec<(u64, u64, &str)> = rec
        .frames
        .iter()
        .map(|f| (f.seq, f.conn, f.text().unwrap()))
        .collect();
    assert_eq!(got, [(1, 1, "a"), (2, 2, "b"), (3, 3, "c")]);
    let conns: Vec<u64> = rec.reconnects.iter().map(|(_, h)| h.conn).collect();
    assert_eq!(conns, [2, 1, 2, 3, 3]);
}

#[test]
fn recordings_written_before_connection_ids_still_read() {
    // The format as wsdeck wrote it before `conn`/`origin`: `dir` is send/receive, and each
    // handshake line starts the next connection.
    let old = concat!(
        r#"{"type":"handshake","url":"ws://h/","request":{"start_line":"GET / HTTP/1.1","headers":[]},"response":{"start_line":"HTTP/1.1 101 Switching Protocols","headers":[]}}"#,
        "\n",
        r#"{"seq":1,"ts":"2026-11-25T18:01:02.000000Z","dir":"send","opcode":"text","len":9,"text":"admin:***","redacted":true}"#,
        "\n",
        r#"{"seq":2,"ts":"2026-11-25T18:01:02.100000Z","dir":"receive","opcode":"text","len":2,"text":"ok"}"#,
        "\n",
        r#"{"type":"handshake","url":"ws://h/","request":{"start_line":"GET / HTTP/1.1","headers":[]},"response":{"start_line":"HTTP/1.1 101 Switching Protocols","headers":[]}}"#,
        "\n",
        r#"{"seq":3,"ts":"2026-11-25T18:01:03.000000Z","dir":"receive","opcode":"text","len":5,"text":"again"}"#,
        "\n",
    );
    let rec = wsdeck::record::jsonl::read_from(old.as_bytes()).unwrap();
    let got: Vec<(u64, Direction)> = rec.frames.iter().map(|f| (f.conn, f.dir)).collect();
    assert_eq!(
        got,
        [
            (1, Direction::ClientToServer),
            (1, Direction::ServerToClient),
            (2, Direction::ServerToClient)
        ]
    );
    assert_eq!(rec.handshake.as_ref().unwrap().conn, 1);
    assert_eq!(rec.reconnects[0].1.conn, 2);
    assert!(rec.frames.iter().all(|f| f.origin.is_wire()));
}

#[test]
fn har_has_one_entry_per_connection_in_order_with_its_own_frames() {
    let mut first = handshake();
    first.conn = 1;
    let mut second = handshake();
    second.conn = 2;
    second.url = "ws://127.0.0.1:5678/again".into();
    // A proxied connection has two legs: the entry is the server's.
    let mut client_leg = handshake();
    client_leg.conn = 2;
    client_leg.leg = wsdeck::model::Leg::Client;
    client_leg.url = "ws://127.0.0.1:8080/again".into();
    let mut frames = vec![
        frame(1, 0, Direction::ClientToServer, Opcode::Text, b"one"),
        frame(2, 1, Direction::ServerToClient, Opcode::Text, b"two"),
        frame(3, 2, Direction::ClientToServer, Opcode::Text, b"three"),
    ];
    frames[2].conn = 2;
    frames[2].origin = wsdeck::model::Origin::Injected;
    let har = wsdeck::record::har::to_har_conns(
        [&first, &client_leg, &second],
        &frames,
        HarOptions::default(),
    );
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["_conn"], 1);
    assert_eq!(entries[1]["_conn"], 2);
    assert_eq!(entries[1]["request"]["url"], "ws://127.0.0.1:5678/again");
    let datas = |e: &Value| -> Vec<String> {
        e["_webSocketMessages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["data"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(datas(&entries[0]), ["one", "two"]);
    assert_eq!(datas(&entries[1]), ["three"]);
    assert_eq!(entries[1]["_webSocketMessages"][0]["_origin"], "injected");
    assert!(entries[0]["_webSocketMessages"][0].get("_origin").is_none());
}
