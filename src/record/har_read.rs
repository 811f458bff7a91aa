//! Reading a HAR file back as a [`Recording`], for `wsdeck replay FILE.har`: the files wsdeck
//! writes (see [`super::har`]) and Chrome DevTools' "Save all as HAR": every entry with a
//! `_webSocketMessages` array is a connection (its request and response the upgrade), each
//! message a frame (`type` send/receive, `time` in epoch seconds, `opcode`, `data`: text, or
//! base64 for binary frames and wherever `_encoding` says so). wsdeck's own `_closeCode`,
//! `_origin` and `_conn` are read when present. Other entries (pages, scripts) are skipped.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde_json::Value;

use super::{Recording, from_unix_nanos, parse_ts};
use crate::model::{
    CloseInfo, Direction, FrameRecord, HandshakeInfo, HttpHead, Leg, Opcode, Origin,
};

/// The largest HAR file read (it is parsed whole).
pub const MAX_HAR: u64 = 1 << 30;

/// Whether `path` holds a HAR document rather than JSON lines: named `.har`, or its first
/// line is a lone `{` (a pretty-printed JSON document; a recording's lines are objects).
pub fn is_har(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("har"))
    {
        return true;
    }
    let Ok(f) = crate::files::open_regular(path) else {
        return false;
    };
    let mut first = String::new();
    let _ = std::io::BufRead::read_line(
        &mut std::io::BufReader::new(std::io::Read::take(f, 4096)),
        &mut first,
    );
    first.trim() == "{"
}

/// Read a HAR file's WebSocket connections.
pub fn read(path: &Path) -> anyhow::Result<Recording> {
    let f = crate::files::open_regular(path)
        .with_context(|| format!("cannot open HAR file {}", path.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_HAR {
        bail!(
            "cannot read HAR file {}: it is over {} GiB",
            path.display(),
            MAX_HAR >> 30
        );
    }
    let doc: Value = serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| {
        anyhow::anyhow!(
            "cannot read HAR file {}: not JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    from_value(&doc).with_context(|| format!("cannot read HAR file {}", path.display()))
}

/// The WebSocket connections of a parsed HAR document, frames in time order.
pub fn from_value(doc: &Value) -> anyhow::Result<Recording> {
    let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) else {
        bail!("it has no log.entries: not a HAR file");
    };
    let mut conns: Vec<(HandshakeInfo, Vec<FrameRecord>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(msgs) = e.get("_webSocketMessages").and_then(Value::as_array) else {
            continue;
        };
        let conn = e
            .get("_conn")
            .and_then(Value::as_u64)
            .unwrap_or(conns.len() as u64 + 1);
        let h = handshake(e, conn);
        let mut frames = Vec::with_capacity(msgs.len());
        for (j, m) in msgs.iter().enumerate() {
            frames.push(
                message(m, conn)
                    .map_err(|why| anyhow::anyhow!("entry {}, message {}: {why}", i + 1, j + 1))?,
            );
        }
        hide_login(&mut frames);
        conns.push((h, frames));
    }
    if conns.is_empty() {
        bail!(
            "it has no WebSocket entries (no _webSocketMessages): record the session in \
             Chrome's Network tab with the WebSocket open, or with wsdeck --record"
        );
    }
    Ok(recording(conns))
}

/// One recording: frames of all connections in time order (stable), each connection's
/// handshake before its first frame.
fn recording(conns: Vec<(HandshakeInfo, Vec<FrameRecord>)>) -> Recording {
    let mut frames: Vec<FrameRecord> = Vec::new();
    let mut handshakes = Vec::with_capacity(conns.len());
    for (h, fs) in conns {
        handshakes.push(h);
        frames.extend(fs);
    }
    frames.sort_by_key(|f| f.at);
    for (i, f) in frames.iter_mut().enumerate() {
        f.seq = i as u64 + 1;
    }
    let mut rec = Recording::default();
    let mut placed: Vec<(usize, HandshakeInfo)> = handshakes
        .into_iter()
        .map(|h| {
            let at = frames
                .iter()
                .position(|f| f.conn == h.conn)
                .unwrap_or(frames.len());
            (at, h)
        })
        .collect();
    placed.sort_by_key(|(at, _)| *at);
    let mut placed = placed.into_iter();
    if let Some((0, h)) = placed.as_slice().first().cloned() {
        placed.next();
        rec.handshake = Some(h);
    }
    rec.reconnects = placed.collect();
    rec.frames = frames;
    rec
}

/// A connection's first message, sent before the server said anything, in the seed login's
/// `user:password` shape: its password becomes `***` (a HAR from Chrome holds it in clear;
/// wsdeck never shows one).
fn hide_login(frames: &mut [FrameRecord]) {
    let Some(f) = frames
        .iter_mut()
        .take_while(|f| f.dir == Direction::ClientToServer)
        .find(|f| f.opcode == Opcode::Text)
    else {
        return;
    };
    let Ok(text) = std::str::from_utf8(&f.payload) else {
        return;
    };
    if let Some((user, pass)) = text.split_once(':')
        && !user.is_empty()
        && !pass.is_empty()
        && !text.contains(char::is_whitespace)
    {
        f.redacted = true;
        if pass != super::REDACTED {
            f.payload = Bytes::from(format!("{user}:{}", super::REDACTED));
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn head(start_line: String, v: Option<&Value>) -> HttpHead {
    let headers = v
        .and_then(|r| r.get("headers"))
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (
                        str_of(h, "name").to_string(),
                        str_of(h, "value").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    HttpHead {
        start_line,
        headers,
    }
}

fn handshake(e: &Value, conn: u64) -> HandshakeInfo {
    let req = e.get("request");
    let resp = e.get("response");
    let url = req.map(|r| str_of(r, "url")).unwrap_or("").to_string();
    let version = |r: Option<&Value>| {
        let v = r.map(|r| str_of(r, "httpVersion")).unwrap_or("");
        if v.is_empty() || v.eq_ignore_ascii_case("http/1.1") {
            "HTTP/1.1".to_string()
        } else {
            v.to_string()
        }
    };
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let method = req.map(|r| str_of(r, "method")).unwrap_or("");
    let method = if method.is_empty() { "GET" } else { method };
    let status = resp
        .and_then(|r| r.get("status"))
        .and_then(Value::as_u64)
        .unwrap_or(101);
    let status_text = resp.map(|r| str_of(r, "statusText")).unwrap_or("");
    let started = parse_ts(str_of(e, "startedDateTime")).ok();
    let finished = started
        .zip(e.get("time").and_then(Value::as_f64))
        .and_then(|(s, ms)| {
            (ms.is_finite() && ms >= 0.0)
                .then(|| s + std::time::Duration::from_secs_f64(ms / 1000.0))
        });
    HandshakeInfo {
        conn,
        leg: Leg::Server,
        request: head(format!("{method} {path} {}", version(req)), req),
        response: head(
            format!("{} {status} {status_text}", version(resp))
                .trim_end()
                .to_string(),
            resp,
        ),
        url,
        started,
        finished,
        proxy: None,
        tls: None,
    }
}

fn epoch(t: f64) -> Option<SystemTime> {
    (t.is_finite() && t.abs() < 1e12).then(|| from_unix_nanos((t * 1e9).round() as i128))
}

/// A `_webSocketMessages` item that cannot be read back, said as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BadMessage {
    #[error("type {0:?} is neither send nor receive")]
    Type(String),
    #[error("opcode {0} is not a WebSocket frame's")]
    Opcode(u64),
    #[error("no valid time")]
    Time,
    #[error("data is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("close code {0} is too big")]
    CloseCode(u64),
}

fn message(m: &Value, conn: u64) -> Result<FrameRecord, BadMessage> {
    let dir = match str_of(m, "type") {
        "send" => Direction::ClientToServer,
        "receive" => Direction::ServerToClient,
        other => return Err(BadMessage::Type(other.to_string())),
    };
    let opcode = match m.get("opcode").and_then(Value::as_u64) {
        Some(1) | None => Opcode::Text,
        Some(2) => Opcode::Binary,
        Some(8) => Opcode::Close,
        Some(9) => Opcode::Ping,
        Some(10) => Opcode::Pong,
        Some(n) => return Err(BadMessage::Opcode(n)),
    };
    let at = m
        .get("time")
        .and_then(Value::as_f64)
        .and_then(epoch)
        .ok_or(BadMessage::Time)?;
    let data = str_of(m, "data");
    let base64 = opcode == Opcode::Binary || str_of(m, "_encoding") == "base64";
    let payload = if base64 {
        Bytes::from(B64.decode(data.as_bytes())?)
    } else {
        Bytes::from(data.to_string())
    };
    let close = match (opcode, m.get("_closeCode").and_then(Value::as_u64)) {
        (Opcode::Close, Some(code)) => Some(CloseInfo {
            code: u16::try_from(code).map_err(|_| BadMessage::CloseCode(code))?,
            reason: String::from_utf8_lossy(&payload).into_owned(),
        }),
        _ => None,
    };
    let origin = m
        .get("_origin")
        .and_then(|o| serde_json::from_value::<Origin>(o.clone()).ok())
        .unwrap_or_default();
    Ok(FrameRecord {
        seq: 0,
        conn,
        at,
        dir,
        origin,
        opcode,
        len: payload.len(),
        redacted: false,
        payload,
        close,
        wire_len: None,
        fragments: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chrome DevTools' form (Save all as HAR), trimmed to what matters.
    const CHROME: &str = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},
      "pages":[],"entries":[
      {"startedDateTime":"2026-11-25T18:01:02.100Z","time":1.5,"_resourceType":"document",
       "request":{"method":"GET","url":"http://127.0.0.1:5678/","httpVersion":"http/1.1","headers":[]},
       "response":{"status":200,"statusText":"OK","httpVersion":"http/1.1","headers":[]}},
      {"startedDateTime":"2026-11-25T18:01:02.200Z","time":2.0,"_resourceType":"websocket",
       "request":{"method":"GET","url":"ws://127.0.0.1:5678/chat?x=1","httpVersion":"HTTP/1.1",
         "headers":[{"name":"Host","value":"127.0.0.1:5678"}]},
       "response":{"status":101,"statusText":"Switching Protocols","httpVersion":"HTTP/1.1","headers":[]},
       "_webSocketMessages":[
         {"type":"send","time":1795543262.3,"opcode":1,"data":"admin:123456"},
         {"type":"receive","time":1795543262.4,"opcode":1,"data":"congratulation"},
         {"type":"receive","time":1795543262.5,"opcode":2,"data":"AP8="}]}]}}"#;

    #[test]
    fn chromes_har_reads_as_one_connection() {
        let rec = from_value(&serde_json::from_str(CHROME).unwrap()).unwrap();
        let h = rec.handshake.unwrap();
        assert_eq!(h.url, "ws://127.0.0.1:5678/chat?x=1");
        assert_eq!(h.request.start_line, "GET /chat?x=1 HTTP/1.1");
        assert_eq!(h.response.start_line, "HTTP/1.1 101 Switching Protocols");
        assert!(rec.reconnects.is_empty());
        assert!(rec.frames[0].redacted);
        let f: Vec<_> = rec
            .frames
            .iter()
            .map(|f| (f.seq, f.dir, f.opcode, f.payload.to_vec()))
            .collect();
        assert_eq!(
            f,
            [
                // The password Chrome kept is not shown.
                (
                    1,
                    Direction::ClientToServer,
                    Opcode::Text,
                    b"admin:***".to_vec()
                ),
                (
                    2,
                    Direction::ServerToClient,
                    Opcode::Text,
                    b"congratulation".to_vec()
                ),
                (3, Direction::ServerToClient, Opcode::Binary, vec![0, 255]),
            ]
        );
    }

    #[test]
    fn a_har_without_websockets_says_so() {
        let e = from_value(&serde_json::json!({"log": {"entries": []}})).unwrap_err();
        assert!(e.to_string().contains("no WebSocket entries"), "{e}");
        let e = from_value(&serde_json::json!({"x": 1})).unwrap_err();
        assert!(e.to_string().contains("not a HAR file"), "{e}");
    }
}
