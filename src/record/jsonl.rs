//! The `--record FILE.jsonl` format: one JSON object per line, written and flushed to the
//! operating system as each frame passes, so a killed process loses nothing already seen.
//!
//! # Schema
//!
//! **Frame lines** (the common case) have no `type` field (readers also accept
//! `"type":"frame"`). Fields, in this order:
//!
//! | field      | type    | meaning |
//! |------------|---------|---------|
//! | `seq`      | integer | sequence number in the session, from 1, also across reconnects |
//! | `conn`     | integer | the connection it passed on: 1, 2… (a reconnect, or each proxied connection) |
//! | `ts`       | string  | RFC 3339 UTC with microseconds: `2026-11-25T18:01:02.123456Z` |
//! | `dir`      | string  | which peer sent it: `c2s` client→server, `s2c` server→client (our own client is the client) |
//! | `origin`   | string  | present only when not sent as-is by its peer: `injected`, `modified`, `dropped` (the proxy) or `auto` (an `--auto-reply`) |
//! | `opcode`   | string  | `text`, `binary`, `ping`, `pong` or `close` |
//! | `len`      | integer | payload length on the wire, before any redaction |
//! | `text`     | string  | the payload, for `text`/`close` frames whose payload is valid UTF-8 |
//! | `base64`   | string  | otherwise the payload, standard base64 with padding |
//! | `code`     | integer | close frames with a status code: the code |
//! | `reason`   | string  | close frames with a status code: the reason (may be empty) |
//! | `redacted` | `true`  | present only when a secret in the payload was replaced by `***` |
//!
//! Recordings written before `conn` and `origin` existed (with `dir` `send`/`receive`) still
//! read: `send` is `c2s`, `receive` is `s2c`, and a frame without `conn` belongs to the
//! connection of the last handshake line before it (the first is 1).
//!
//! Exactly one of `text` and `base64` is present. For close frames the payload is the
//! reason's bytes, so `text` repeats `reason`.
//!
//! ```json
//! {"seq":1,"conn":1,"ts":"2026-11-25T18:01:02.123456Z","dir":"c2s","opcode":"text","len":12,"text":"admin:***","redacted":true}
//! {"seq":2,"conn":1,"ts":"2026-11-25T18:01:02.125001Z","dir":"s2c","opcode":"binary","len":3,"base64":"AP/+"}
//! {"seq":3,"conn":1,"ts":"2026-11-25T18:01:03.000000Z","dir":"c2s","opcode":"text","len":5,"text":"hello","origin":"injected"}
//! {"seq":9,"conn":1,"ts":"2026-11-25T18:05:00.000000Z","dir":"s2c","opcode":"close","len":5,"text":"bye","code":1000,"reason":"bye"}
//! ```
//!
//! **Handshake lines** carry the HTTP upgrade, written before the frames of the connection it
//! opened (a reconnect writes another one). `conn` numbers the connection as frames do; `leg`
//! is `server` for the upgrade wsdeck sent (our client, or the proxy's upstream side) and
//! `client` for the upgrade a client sent to wsdeck's proxy (omitted when `server`):
//!
//! ```json
//! {"type":"handshake","conn":1,"url":"ws://127.0.0.1:5678/","started":"2026-11-25T18:01:02.100000Z",
//!  "finished":"2026-11-25T18:01:02.101500Z",
//!  "request":{"start_line":"GET / HTTP/1.1","headers":[{"name":"Host","value":"127.0.0.1:5678"}]},
//!  "response":{"start_line":"HTTP/1.1 101 Switching Protocols","headers":[…]}}
//! ```
//! (on one line in the file). `started` and `finished` are omitted when unknown. Credential
//! headers and a URL password are written as `***` unless redaction is turned off
//! ([`Recorder::set_redact`]).
//!
//! **Several sessions in one file**: recording to a file that already holds one appends
//! (nothing is overwritten unless `--overwrite`). Each run numbers its connections and frames
//! from 1 again; the reader takes a handshake line of connection 1 whose leg was already seen
//! as the start of the next session and numbers its connections (and its `seq`, when it
//! restarted) after the earlier ones, so a replay shows the sessions one after the other.
//!
//! Readers ignore unknown fields. A last line without its newline that does not parse (the
//! writer was killed mid-line) is skipped and counted in [`Recording::truncated_lines`].

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{FrameLike, format_ts, parse_ts, redact};
use crate::model::{
    CloseInfo, Direction, FrameRecord, HandshakeInfo, HttpHead, Leg, Opcode, Origin, TlsInfo,
};

/// Writes a session as JSONL, one line per frame, each handed to the OS before `write` returns.
pub struct Recorder {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
    redact: bool,
    frames: u64,
    bytes: u64,
    /// File length after the last complete line.
    good_len: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("frames", &self.frames)
            .finish()
    }
}

impl Recorder {
    /// Create (or truncate) `path`.
    pub fn create(path: impl AsRef<Path>) -> anyhow::Result<Recorder> {
        let path = path.as_ref();
        let file = File::create(path)
            .with_context(|| format!("cannot create recording file {}", path.display()))?;
        Ok(Recorder::from_file(file, path, 0))
    }

    /// Open `path` for appending (creating it if missing), e.g. when recording is toggled back
    /// on. A partial last line left by a killed writer is cut off first so new lines stay
    /// readable.
    pub fn append(path: impl AsRef<Path>) -> anyhow::Result<Recorder> {
        let path = path.as_ref();
        let verb = if path.exists() { "open" } else { "create" };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("cannot {verb} recording file {}", path.display()))?;
        let len = cut_partial_last_line(&mut file)
            .with_context(|| format!("cannot repair recording file {}", path.display()))?;
        Ok(Recorder::from_file(file, path, len))
    }

    fn from_file(file: File, path: &Path, good_len: u64) -> Recorder {
        Recorder {
            file,
            path: path.to_path_buf(),
            line: Vec::with_capacity(256),
            redact: true,
            frames: 0,
            bytes: 0,
            good_len,
        }
    }

    /// Whether handshake lines get credential headers and URL passwords replaced by `***`
    /// (on by default; `--no-redact` turns it off). Frame payloads are written as given.
    pub fn set_redact(&mut self, on: bool) {
        self.redact = on;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frame lines written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Bytes written so far (all lines).
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Write the handshake line of a (re)connection.
    pub fn write_handshake(&mut self, h: &HandshakeInfo) -> io::Result<()> {
        self.line.clear();
        encode_handshake(&mut self.line, h, self.redact)?;
        self.flush_line()
    }

    /// Write one frame line and hand it to the OS.
    pub fn write<F: FrameLike + ?Sized>(&mut self, f: &F) -> io::Result<()> {
        self.line.clear();
        encode_frame(&mut self.line, f)?;
        self.flush_line()?;
        self.frames += 1;
        Ok(())
    }

    /// Write several frames with one system call (for a batch from the network task).
    pub fn write_batch<I>(&mut self, frames: I) -> io::Result<()>
    where
        I: IntoIterator,
        I::Item: FrameLike,
    {
        self.line.clear();
        let mut n = 0;
        for f in frames {
            encode_frame(&mut self.line, &f)?;
            n += 1;
        }
        self.flush_line()?;
        self.frames += n;
        Ok(())
    }

    fn flush_line(&mut self) -> io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        // Unbuffered file: this is the flush.
        if let Err(e) = self.file.write_all(&self.line) {
            // Disk full or similar: take back the partial line (best effort) so that later
            // lines still start on a line of their own.
            let _ = self.file.set_len(self.good_len);
            let _ = self.file.seek(SeekFrom::Start(self.good_len));
            return Err(e);
        }
        self.bytes += self.line.len() as u64;
        self.good_len += self.line.len() as u64;
        Ok(())
    }

    /// Ask the OS to put the file on disk (for a clean stop; not needed to survive a kill).
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Truncate the file after its last newline, if its last byte is not one; returns the length.
fn cut_partial_last_line(file: &mut File) -> io::Result<u64> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(0);
    }
    let mut keep = len;
    let mut buf = [0u8; 4096];
    loop {
        let start = keep.saturating_sub(buf.len() as u64);
        let n = (keep - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        keep = start;
        if start == 0 {
            break;
        }
    }
    if keep != len {
        file.set_len(keep)?;
    }
    Ok(keep)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_server_leg(l: &Leg) -> bool {
    *l == Leg::Server
}

/// Append one frame line (with its newline) to `out` (written by hand: `line.rs`).
pub fn encode_frame<F: FrameLike + ?Sized>(out: &mut Vec<u8>, f: &F) -> io::Result<()> {
    super::line::encode_frame(out, f);
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct HeaderJson<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
struct HeadJson<'a> {
    #[serde(default)]
    start_line: Cow<'a, str>,
    #[serde(default)]
    headers: Vec<HeaderJson<'a>>,
}

impl<'a> HeadJson<'a> {
    fn from_head(h: &'a HttpHead) -> Self {
        HeadJson {
            start_line: Cow::Borrowed(&h.start_line),
            headers: h
                .headers
                .iter()
                .map(|(n, v)| HeaderJson {
                    name: Cow::Borrowed(n),
                    value: Cow::Borrowed(v),
                })
                .collect(),
        }
    }
    fn into_head(self) -> HttpHead {
        HttpHead {
            start_line: self.start_line.into_owned(),
            headers: self
                .headers
                .into_iter()
                .map(|h| (h.name.into_owned(), h.value.into_owned()))
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct HandshakeOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "is_zero")]
    conn: u64,
    #[serde(skip_serializing_if = "is_server_leg")]
    leg: Leg,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished: Option<String>,
    request: HeadJson<'a>,
    response: HeadJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<&'a TlsInfo>,
}

/// Append one handshake line (with its newline) to `out`.
pub fn encode_handshake(out: &mut Vec<u8>, h: &HandshakeInfo, redact: bool) -> io::Result<()> {
    let redacted;
    let h = if redact {
        let mut copy = h.clone();
        redact::redact_handshake(&mut copy);
        redacted = copy;
        &redacted
    } else {
        h
    };
    let rec = HandshakeOut {
        kind: "handshake",
        conn: h.conn,
        leg: h.leg,
        url: &h.url,
        started: h.started.map(format_ts),
        finished: h.finished.map(format_ts),
        request: HeadJson::from_head(&h.request),
        response: HeadJson::from_head(&h.response),
        proxy: h.proxy.as_deref(),
        tls: h.tls.as_deref(),
    };
    serde_json::to_writer(&mut *out, &rec)?;
    out.push(b'\n');
    Ok(())
}

/// A recording read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    /// The handshake written before the first frame, if there is one.
    pub handshake: Option<HandshakeInfo>,
    /// Later handshakes (reconnects, or a first one written after frames), each with the index
    /// in `frames` of the first frame after it.
    pub reconnects: Vec<(usize, HandshakeInfo)>,
    pub frames: Vec<FrameRecord>,
    /// Unparsable last lines without a newline (a writer killed mid-line) that were skipped.
    pub truncated_lines: usize,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Handshake(HandshakeInfo),
    Frame(FrameRecord),
}

#[derive(Deserialize)]
struct LineIn<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    seq: Option<u64>,
    conn: Option<u64>,
    #[serde(default)]
    leg: Leg,
    #[serde(default)]
    origin: Origin,
    #[serde(borrow, default)]
    ts: Option<Cow<'a, str>>,
    dir: Option<Direction>,
    opcode: Option<Opcode>,
    len: Option<usize>,
    text: Option<String>,
    #[serde(borrow, default)]
    base64: Option<Cow<'a, str>>,
    code: Option<u16>,
    reason: Option<String>,
    #[serde(default)]
    redacted: bool,
    #[serde(default)]
    compressed: Option<usize>,
    url: Option<String>,
    #[serde(borrow, default)]
    started: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    finished: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    request: Option<HeadJson<'a>>,
    #[serde(borrow, default)]
    response: Option<HeadJson<'a>>,
    #[serde(default)]
    proxy: Option<String>,
    #[serde(default)]
    tls: Option<TlsInfo>,
}

/// What is wrong with one line of a recording (its line number is the reader's to add).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not JSON, or not the shape of a record.
    #[error("column {column}: {message}")]
    Json { column: usize, message: String },
    #[error("unknown record type {0:?}")]
    UnknownType(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("missing field `text` or `base64`")]
    NoPayload,
    #[error("both `text` and `base64` given")]
    TwoPayloads,
    #[error("field `base64` is not valid base64: {0}")]
    Base64(String),
    #[error(transparent)]
    Timestamp(#[from] super::BadTimestamp),
}

impl From<serde_json::Error> for LineError {
    /// serde_json's message without its " at line 1 column N" tail (the reader reports its
    /// own line).
    fn from(e: serde_json::Error) -> Self {
        let mut message = e.to_string();
        if let Some(p) = message.rfind(" at line ") {
            message.truncate(p);
        }
        LineError::Json {
            column: e.column(),
            message,
        }
    }
}

/// Parse one line of a recording (without its newline). The error says what is wrong,
/// without the line number.
pub fn parse_line(line: &str) -> Result<Line, LineError> {
    let l: LineIn = serde_json::from_str(line)?;
    match l.kind.as_deref() {
        None | Some("frame") => parse_frame(l).map(Line::Frame),
        Some("handshake") => parse_handshake(l).map(Line::Handshake),
        Some(other) => Err(LineError::UnknownType(other.to_string())),
    }
}

fn parse_frame(l: LineIn) -> Result<FrameRecord, LineError> {
    let seq = l.seq.ok_or(LineError::Missing("seq"))?;
    let ts = l.ts.ok_or(LineError::Missing("ts"))?;
    let at = parse_ts(&ts)?;
    let dir = l.dir.ok_or(LineError::Missing("dir"))?;
    let opcode = l.opcode.ok_or(LineError::Missing("opcode"))?;
    let len = l.len.ok_or(LineError::Missing("len"))?;
    let payload = match (l.text, l.base64) {
        (Some(t), None) => Bytes::from(t),
        (None, Some(b)) => Bytes::from(
            B64.decode(b.as_bytes())
                .map_err(|e| LineError::Base64(e.to_string()))?,
        ),
        (Some(_), Some(_)) => return Err(LineError::TwoPayloads),
        (None, None) => return Err(LineError::NoPayload),
    };
    let close = l.code.map(|code| CloseInfo {
        code,
        reason: l.reason.unwrap_or_default(),
    });
    Ok(FrameRecord {
        seq,
        // 0 = not in the line (an older recording): the reader fills it in.
        conn: l.conn.unwrap_or(0),
        at,
        dir,
        origin: l.origin,
        opcode,
        len,
        payload,
        close,
        redacted: l.redacted,
        wire_len: l.compressed,
        fragments: None,
    })
}

fn parse_handshake(l: LineIn) -> Result<HandshakeInfo, LineError> {
    let started = l.started.map(|s| parse_ts(&s)).transpose()?;
    let finished = l.finished.map(|s| parse_ts(&s)).transpose()?;
    Ok(HandshakeInfo {
        conn: l.conn.unwrap_or(0),
        leg: l.leg,
        url: l.url.unwrap_or_default(),
        request: l.request.map(HeadJson::into_head).unwrap_or_default(),
        response: l.response.map(HeadJson::into_head).unwrap_or_default(),
        started,
        finished,
        proxy: l.proxy,
        tls: l.tls.map(Box::new),
    })
}

/// Sessions appended to one file (a later run recording to the same file): each starts again
/// at connection 1 and sequence 1, so the reader numbers them after the earlier ones — its
/// connections continue from the last one seen, its frames' `seq` too when they restart.
/// A session starts at a handshake line of connection 1 whose leg the current session
/// already had.
#[derive(Default)]
struct Sessions {
    /// Legs of connection 1 seen in the current session.
    first_legs: Vec<Leg>,
    conn_base: u64,
    seq_base: u64,
    /// The first frame of a new session decides whether its `seq` restarted.
    check_seq: bool,
    max_conn: u64,
    max_seq: u64,
}

impl Sessions {
    fn handshake(&mut self, h: &mut HandshakeInfo) {
        if h.conn == 1 {
            if self.first_legs.contains(&h.leg) {
                self.first_legs.clear();
                self.conn_base = self.max_conn;
                self.check_seq = true;
            }
            self.first_legs.push(h.leg);
        }
        h.conn += self.conn_base;
        self.max_conn = self.max_conn.max(h.conn);
    }

    fn frame(&mut self, f: &mut FrameRecord) {
        if std::mem::take(&mut self.check_seq) {
            self.seq_base = if f.seq <= self.max_seq {
                self.max_seq
            } else {
                0
            };
        }
        f.conn += self.conn_base;
        f.seq += self.seq_base;
        self.max_conn = self.max_conn.max(f.conn);
        self.max_seq = self.max_seq.max(f.seq);
    }
}

/// Read a whole recording file.
pub fn read(path: impl AsRef<Path>) -> anyhow::Result<Recording> {
    let path = path.as_ref();
    let file = crate::files::open_regular(path)
        .with_context(|| format!("cannot open recording {}", path.display()))?;
    read_from(BufReader::with_capacity(1 << 16, file))
        .with_context(|| format!("cannot read recording {}", path.display()))
}

/// The longest line a recording may have: a 64 MiB message (the default `--max-message`)
/// base64-encoded or JSON-escaped, with room to spare. A longer line is not a recording's.
pub const MAX_LINE: usize = 128 << 20;

/// Read a recording from any reader (errors name the 1-based line; a line over [`MAX_LINE`]
/// is an error, read no further than the limit).
pub fn read_from(mut r: impl BufRead) -> anyhow::Result<Recording> {
    let mut rec = Recording::default();
    let mut buf = Vec::with_capacity(512);
    let mut lineno = 0usize;
    // Older recordings number no connections: each handshake line starts the next one.
    let mut handshakes = 0u64;
    let mut conn = 1u64;
    let mut sessions = Sessions::default();
    loop {
        buf.clear();
        let n = (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("line {}: read error", lineno + 1))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        let complete = buf.last() == Some(&b'\n');
        if !complete && buf.len() > MAX_LINE {
            bail!(
                "line {lineno} is longer than {} MiB without a line break: this is not a wsdeck \
                 recording",
                MAX_LINE >> 20
            );
        }
        let mut bytes = &buf[..];
        if complete {
            bytes = &bytes[..bytes.len() - 1];
        }
        if bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = std::str::from_utf8(bytes)
            .map_err(|e| format!("not UTF-8 text ({e})"))
            .and_then(|l| parse_line(l).map_err(|e| e.to_string()));
        match parsed {
            Ok(Line::Frame(mut f)) => {
                if f.conn == 0 {
                    f.conn = conn;
                } else {
                    sessions.frame(&mut f);
                }
                rec.frames.push(f)
            }
            Ok(Line::Handshake(mut h)) => {
                handshakes += 1;
                if h.conn == 0 {
                    h.conn = handshakes;
                } else {
                    sessions.handshake(&mut h);
                }
                conn = h.conn;
                if rec.handshake.is_none() && rec.frames.is_empty() {
                    rec.handshake = Some(h);
                } else {
                    rec.reconnects.push((rec.frames.len(), h));
                }
            }
            Err(_) if !complete => {
                // Killed mid-write: nothing can follow a line without its newline.
                rec.truncated_lines += 1;
            }
            Err(e) => bail!("line {lineno}: {e}"),
        }
    }
    Ok(rec)
}
