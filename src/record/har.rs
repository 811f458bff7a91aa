//! HAR 1.2 export of a session, in the form Chrome DevTools writes for WebSockets: one entry per
//! connection (its HTTP upgrade, `_resourceType: "websocket"`), in order, whose
//! `_webSocketMessages` array holds that connection's frames:
//! `{"type":"send"|"receive","time":<epoch seconds>,"opcode":1,"data":"…"}` (`send` is
//! client→server). A session that reconnected has one entry per connection; a proxy one per
//! proxied connection.
//!
//! Every field HAR 1.2 requires is present (so HAR viewers open the file); a few `_`-prefixed
//! custom fields (allowed by the spec) add what Chrome has no place for:
//!
//! - `data` is the text for opcode 1 (text) and 8 (close, the reason); for opcode 2 (binary)
//!   it is standard base64, as Chrome writes it; ping (9) and pong (10) payloads are base64 too.
//! - `"_encoding": "base64"` marks base64 `data` on anything but a binary frame (ping, pong, and
//!   a text frame that was not valid UTF-8).
//! - `"_closeCode"` carries a close frame's status code.
//! - `"_origin"` marks a frame that was not passed on as its peer sent it (`injected`,
//!   `modified`, `dropped`: the proxy; `auto`: an `--auto-reply`); `"_conn"` on each entry is its connection id.
//!
//! The request URL stays in its `ws://`/`wss://` form, which is what Chrome puts in
//! `request.url` for WebSocket entries.
//!
//! The export streams: [`write_har_to`] serialises frames one by one, so a million-frame session
//! is not first built as a JSON tree in memory.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::target::{Opened, create_new_or_numbered};
use super::{FrameLike, epoch_secs_f64, format_ts, redact};
use crate::model::{Direction, FrameRecord, HandshakeInfo, HttpHead, Leg, Opcode, Origin};

/// Export settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HarOptions {
    /// Replace credential headers and a URL password with `***` (default on; `--no-redact`
    /// turns it off). Frame payloads are exported as given.
    pub redact: bool,
    /// Replace a file already at the path (`--overwrite`); otherwise the next free name
    /// (`x-1.har`) is used and the old file kept.
    pub overwrite: bool,
}

impl Default for HarOptions {
    fn default() -> Self {
        HarOptions {
            redact: true,
            overwrite: false,
        }
    }
}

/// Where a HAR file went: the path written and what was found at the path asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub opened: Opened,
}

/// The HAR document as a JSON value (redaction on).
pub fn to_har(handshake: &HandshakeInfo, frames: &[FrameRecord]) -> Value {
    to_har_with(handshake, frames, HarOptions::default())
}

/// The HAR document as a JSON value, from any frames (records or store views).
pub fn to_har_with<I>(handshake: &HandshakeInfo, frames: I, opts: HarOptions) -> Value
where
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let doc = Doc::new(handshake, frames.into_iter(), opts);
    // Serialising string-keyed maps and finite numbers into a Value cannot fail.
    serde_json::to_value(&doc).unwrap_or(Value::Null)
}

/// Write the HAR file (redaction on).
pub fn write_har(
    path: impl AsRef<Path>,
    handshake: &HandshakeInfo,
    frames: &[FrameRecord],
) -> anyhow::Result<Written> {
    write_har_with(path, handshake, frames, HarOptions::default())
}

/// Write the HAR file from any frames (records or store views).
pub fn write_har_with<I>(
    path: impl AsRef<Path>,
    handshake: &HandshakeInfo,
    frames: I,
    opts: HarOptions,
) -> anyhow::Result<Written>
where
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let (file, path, opened) = create_new_or_numbered(path.as_ref(), opts.overwrite)?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    write_har_to(&mut w, handshake, frames, opts)
        .and_then(|()| w.flush())
        .with_context(|| format!("cannot write HAR file {}", path.display()))?;
    Ok(Written { path, opened })
}

/// Stream the HAR document (pretty-printed, as Chrome does) into `w`.
pub fn write_har_to<W, I>(
    w: W,
    handshake: &HandshakeInfo,
    frames: I,
    opts: HarOptions,
) -> io::Result<()>
where
    W: Write,
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let doc = Doc::new(handshake, frames.into_iter(), opts);
    serde_json::to_writer_pretty(w, &doc).map_err(io::Error::other)
}

/// Write the HAR file with one entry per connection: `handshakes` are every upgrade of the
/// source (both legs; a connection's entry is its server leg, or its client leg when the
/// server was never reached), `frames` all its frames in order.
pub fn write_har_conns<'h, H, I>(
    path: impl AsRef<Path>,
    handshakes: H,
    frames: I,
    opts: HarOptions,
) -> anyhow::Result<Written>
where
    H: IntoIterator<Item = &'h HandshakeInfo>,
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let (file, path, opened) = create_new_or_numbered(path.as_ref(), opts.overwrite)?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    write_har_conns_to(&mut w, handshakes, frames, opts)
        .and_then(|()| w.flush())
        .with_context(|| format!("cannot write HAR file {}", path.display()))?;
    Ok(Written { path, opened })
}

/// [`write_har_conns`] into any writer.
pub fn write_har_conns_to<'h, W, H, I>(
    w: W,
    handshakes: H,
    frames: I,
    opts: HarOptions,
) -> io::Result<()>
where
    W: Write,
    H: IntoIterator<Item = &'h HandshakeInfo>,
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let doc = Doc::per_connection(handshakes, frames.into_iter(), opts);
    serde_json::to_writer_pretty(w, &doc).map_err(io::Error::other)
}

/// [`write_har_conns`] as a JSON value.
pub fn to_har_conns<'h, H, I>(handshakes: H, frames: I, opts: HarOptions) -> Value
where
    H: IntoIterator<Item = &'h HandshakeInfo>,
    I: IntoIterator,
    I::IntoIter: Clone,
    I::Item: FrameLike,
{
    let doc = Doc::per_connection(handshakes, frames.into_iter(), opts);
    serde_json::to_value(&doc).unwrap_or(Value::Null)
}

/// One handshake per connection, ascending by connection id: its server leg if it has one.
fn entry_handshakes<'h>(all: impl IntoIterator<Item = &'h HandshakeInfo>) -> Vec<HandshakeInfo> {
    let mut by_conn: std::collections::BTreeMap<u64, &HandshakeInfo> = Default::default();
    for h in all {
        match by_conn.get(&h.conn) {
            Some(old) if old.leg == Leg::Server && h.leg != Leg::Server => {}
            _ => {
                by_conn.insert(h.conn, h);
            }
        }
    }
    by_conn.into_values().cloned().collect()
}

const PAGE_ID: &str = "page_1";

/// JSON fields in the order they are written.
type Fields = Vec<(&'static str, Value)>;

struct Doc<I> {
    /// Fields in the order they are written (serde_json's `Map` would sort them).
    log_head: Vec<(&'static str, Value)>,
    /// Each entry's fields without its messages, and the connection ids whose frames it
    /// lists (`lo..hi`; the first entry also takes any earlier ones, the last any later).
    entries: Vec<(Fields, std::ops::Range<u64>)>,
    frames: I,
}

impl<I> Doc<I>
where
    I: Iterator + Clone,
    I::Item: FrameLike,
{
    /// One entry holding every frame.
    fn new(handshake: &HandshakeInfo, frames: I, opts: HarOptions) -> Self {
        let mut doc = Doc::per_connection([handshake], frames, opts);
        if let Some(e) = doc.entries.first_mut() {
            e.1 = 0..u64::MAX;
        }
        doc
    }

    fn per_connection<'h>(
        handshakes: impl IntoIterator<Item = &'h HandshakeInfo>,
        frames: I,
        opts: HarOptions,
    ) -> Self {
        let mut hs = entry_handshakes(handshakes);
        // Frames with no handshake still get their entry; nothing at all gets none.
        if hs.is_empty() && frames.clone().next().is_some() {
            hs.push(HandshakeInfo::default());
        }
        if opts.redact {
            hs.iter_mut().for_each(redact::redact_handshake);
        }
        let first_frame = frames.clone().next().map(|f| f.at());
        let started_of = |h: &HandshakeInfo| {
            h.started
                .or(h.finished)
                .or(first_frame)
                .unwrap_or_else(SystemTime::now)
        };
        let page_started = format_ts(hs.first().map_or_else(SystemTime::now, started_of));
        let title = hs.first().map(|h| h.url.clone()).unwrap_or_default();
        let n = hs.len();
        let entries = (0..n)
            .map(|i| {
                let lo = if i == 0 { 0 } else { hs[i].conn };
                let hi = hs.get(i + 1).map_or(u64::MAX, |h| h.conn);
                let mut head = entry_head(&hs[i], &format_ts(started_of(&hs[i])));
                if hs[i].conn != 0 {
                    head.push(("_conn", json!(hs[i].conn)));
                }
                (head, lo..hi)
            })
            .collect();
        let log_head = vec![
            ("version", json!("1.2")),
            (
                "creator",
                json!({"name": "wsdeck", "version": env!("CARGO_PKG_VERSION")}),
            ),
            (
                "pages",
                json!([{
                "startedDateTime": page_started,
                "id": PAGE_ID,
                "title": title,
                "pageTimings": {"onContentLoad": -1, "onLoad": -1},
                }]),
            ),
        ];
        Doc {
            log_head,
            entries,
            frames,
        }
    }
}

/// The entry without `_webSocketMessages`.
fn entry_head(h: &HandshakeInfo, started: &str) -> Vec<(&'static str, Value)> {
    let total_ms = match (h.started, h.finished) {
        (Some(s), Some(f)) => f
            .duration_since(s)
            .map(|d| d.as_micros() as f64 / 1000.0)
            .unwrap_or(0.0),
        _ => 0.0,
    };
    let (method, req_version) = request_line(&h.request.start_line);
    let (resp_version, status, status_text) = status_line(&h.response.start_line);
    let redirect = header(&h.response, "location").unwrap_or("");
    let request = json!({
        "method": method,
        "url": h.url,
        "httpVersion": req_version,
        "cookies": request_cookies(&h.request),
        "headers": headers_json(&h.request),
        "queryString": query_string(&h.url),
        "headersSize": headers_size(&h.request),
        "bodySize": 0,
    });
    let response = json!({
        "status": status,
        "statusText": status_text,
        "httpVersion": resp_version,
        "cookies": response_cookies(&h.response),
        "headers": headers_json(&h.response),
        "content": {"size": 0, "mimeType": "x-unknown"},
        "redirectURL": redirect,
        "headersSize": headers_size(&h.response),
        "bodySize": 0,
    });
    vec![
        ("pageref", json!(PAGE_ID)),
        ("startedDateTime", json!(started)),
        ("time", json!(total_ms)),
        ("request", request),
        ("response", response),
        ("cache", json!({})),
        (
            "timings",
            json!({
                "blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                "send": 0, "wait": total_ms, "receive": 0,
            }),
        ),
        ("_resourceType", json!("websocket")),
    ]
}

/// Method and HTTP version of `GET /path HTTP/1.1`.
fn request_line(line: &str) -> (&str, &str) {
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("GET");
    let version = parts
        .nth(1)
        .filter(|v| v.starts_with("HTTP/"))
        .unwrap_or("HTTP/1.1");
    (method, version)
}

/// Version, status and reason of `HTTP/1.1 101 Switching Protocols`.
fn status_line(line: &str) -> (&str, u16, &str) {
    let line = line.trim();
    if line.is_empty() {
        return ("HTTP/1.1", 101, "Switching Protocols");
    }
    let mut parts = line.splitn(3, ' ');
    let version = parts
        .next()
        .filter(|v| v.starts_with("HTTP/"))
        .unwrap_or("HTTP/1.1");
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let text = parts.next().unwrap_or("").trim();
    (version, status, text)
}

fn header<'h>(head: &'h HttpHead, name: &str) -> Option<&'h str> {
    head.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn headers_json(head: &HttpHead) -> Value {
    Value::Array(
        head.headers
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

/// Bytes of the head as sent: start line, headers, blank line; -1 when unknown.
fn headers_size(head: &HttpHead) -> i64 {
    if head.start_line.is_empty() {
        return -1;
    }
    let mut n = head.start_line.len() + 2;
    for (name, value) in &head.headers {
        n += name.len() + 2 + value.len() + 2;
    }
    (n + 2) as i64
}

fn request_cookies(head: &HttpHead) -> Value {
    let mut out = Vec::new();
    for (n, v) in &head.headers {
        if !n.eq_ignore_ascii_case("cookie") || v == redact::REDACTED {
            continue;
        }
        for pair in v.split(';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            out.push(json!({"name": name.trim(), "value": value.trim()}));
        }
    }
    Value::Array(out)
}

fn response_cookies(head: &HttpHead) -> Value {
    let mut out = Vec::new();
    for (n, v) in &head.headers {
        if !n.eq_ignore_ascii_case("set-cookie") || v == redact::REDACTED {
            continue;
        }
        let mut parts = v.split(';');
        let first = parts.next().unwrap_or("").trim();
        let (name, value) = first.split_once('=').unwrap_or((first, ""));
        let mut c = Map::new();
        c.insert("name".into(), json!(name.trim()));
        c.insert("value".into(), json!(value.trim()));
        for attr in parts {
            let attr = attr.trim();
            let (k, val) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" => {
                    c.insert("path".into(), json!(val.trim()));
                }
                "domain" => {
                    c.insert("domain".into(), json!(val.trim()));
                }
                "httponly" => {
                    c.insert("httpOnly".into(), json!(true));
                }
                "secure" => {
                    c.insert("secure".into(), json!(true));
                }
                _ => {}
            }
        }
        out.push(Value::Object(c));
    }
    Value::Array(out)
}

fn query_string(url: &str) -> Value {
    let Some((_, rest)) = url.split_once('?') else {
        return json!([]);
    };
    let query = rest.split('#').next().unwrap_or("");
    Value::Array(
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                json!({"name": percent_decode(n), "value": percent_decode(v)})
            })
            .collect(),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push(hex_val(b[i + 1]) << 4 | hex_val(b[i + 2]));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.to_ascii_uppercase().wrapping_sub(b'A') + 10,
    }
}

impl<I> Serialize for Doc<I>
where
    I: Iterator + Clone,
    I::Item: FrameLike,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("log", &LogSer(self))?;
        m.end()
    }
}

struct LogSer<'d, I>(&'d Doc<I>);

impl<I> Serialize for LogSer<'_, I>
where
    I: Iterator + Clone,
    I::Item: FrameLike,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.log_head.len() + 1))?;
        for (k, v) in &self.0.log_head {
            m.serialize_entry(k, v)?;
        }
        let entries: Vec<EntrySer<'_, I>> = (0..self.0.entries.len())
            .map(|i| EntrySer(self.0, i))
            .collect();
        m.serialize_entry("entries", &entries)?;
        m.end()
    }
}

struct EntrySer<'d, I>(&'d Doc<I>, usize);

impl<I> Serialize for EntrySer<'_, I>
where
    I: Iterator + Clone,
    I::Item: FrameLike,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (head, conns) = &self.0.entries[self.1];
        let mut m = s.serialize_map(Some(head.len() + 1))?;
        for (k, v) in head {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("_webSocketMessages", &MessagesSer(self.0, conns.clone()))?;
        m.end()
    }
}

/// The frames of connections `.1` (each entry scans the frames once: a session has few
/// connections; a proxy's HAR is written per connection as each closes).
struct MessagesSer<'d, I>(&'d Doc<I>, std::ops::Range<u64>);

#[derive(Serialize)]
struct MessageOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: f64,
    opcode: u8,
    data: Cow<'a, str>,
    #[serde(rename = "_encoding", skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(rename = "_closeCode", skip_serializing_if = "Option::is_none")]
    close_code: Option<u16>,
    #[serde(rename = "_origin", skip_serializing_if = "Origin::is_wire")]
    origin: Origin,
}

impl<I> Serialize for MessagesSer<'_, I>
where
    I: Iterator + Clone,
    I::Item: FrameLike,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for f in self.0.frames.clone().filter(|f| self.1.contains(&f.conn())) {
            let opcode = f.opcode();
            let payload = f.payload();
            let text = match opcode {
                Opcode::Text | Opcode::Close => std::str::from_utf8(payload).ok(),
                _ => None,
            };
            let (data, encoding) = match text {
                Some(t) => (Cow::Borrowed(t), None),
                None => (
                    Cow::Owned(B64.encode(payload)),
                    (opcode != Opcode::Binary).then_some("base64"),
                ),
            };
            seq.serialize_element(&MessageOut {
                kind: match f.dir() {
                    Direction::ClientToServer => "send",
                    Direction::ServerToClient => "receive",
                },
                time: epoch_secs_f64(f.at()),
                opcode: opcode.number(),
                data,
                encoding,
                close_code: f.close().map(|c| c.0),
                origin: f.origin(),
            })?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines_are_split_with_fallbacks() {
        assert_eq!(request_line("GET /chat?x=1 HTTP/1.1"), ("GET", "HTTP/1.1"));
        assert_eq!(request_line(""), ("GET", "HTTP/1.1"));
        assert_eq!(
            status_line("HTTP/1.1 101 Switching Protocols"),
            ("HTTP/1.1", 101, "Switching Protocols")
        );
        assert_eq!(
            status_line("HTTP/1.0 403 Forbidden here"),
            ("HTTP/1.0", 403, "Forbidden here")
        );
        assert_eq!(status_line("garbage"), ("HTTP/1.1", 0, ""));
    }

    #[test]
    fn query_and_cookies_are_listed() {
        assert_eq!(
            query_string("wss://h/p?room=a%20b&flag#frag"),
            json!([{"name": "room", "value": "a b"}, {"name": "flag", "value": ""}])
        );
        assert_eq!(query_string("ws://h/"), json!([]));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1%C3%A9"), "%+1é");
        let head = HttpHead {
            start_line: "HTTP/1.1 101 Switching Protocols".into(),
            headers: vec![(
                "Set-Cookie".into(),
                "sid=1; Path=/; HttpOnly; Secure".into(),
            )],
        };
        assert_eq!(
            response_cookies(&head),
            json!([{"name": "sid", "value": "1", "path": "/", "httpOnly": true, "secure": true}])
        );
        let req = HttpHead {
            start_line: "GET / HTTP/1.1".into(),
            headers: vec![("Cookie".into(), "a=1; b=2".into())],
        };
        assert_eq!(
            request_cookies(&req),
            json!([{"name": "a", "value": "1"}, {"name": "b", "value": "2"}])
        );
        assert_eq!(headers_size(&req), 14 + 2 + 6 + 2 + 8 + 2 + 2);
    }
}
