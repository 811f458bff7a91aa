//! The frame layer beneath tungstenite that inflates permessage-deflate messages.
//!
//! tungstenite rejects frames with RSV1 set, so [`DeflateStream`] sits between it and the
//! socket: it reads the frames the peer sends, inflates each compressed message (bounded by
//! the message limit *while* inflating: a small frame that would inflate past it fails at once,
//! before any big allocation) and hands tungstenite the same message as plain frames. Control
//! frames and uncompressed messages pass through unchanged. Writing is untouched: compressed
//! messages are sent as ready-made RSV1 frames ([`super::deflate::Deflater::message`]).
//!
//! On the client side it also reads the 101 as it passes, to learn (at the exact byte where
//! the frames start) what the server agreed to; [`DeflateStream::negotiated`] tells the caller,
//! which must fail the connection on an error.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::Role;

use super::deflate::{ExtensionError, InflateError, Inflater, Offer, Params};
use super::frames::FrameCounter;
use crate::model::Fragments;

/// Inflated bytes per frame handed to tungstenite.
const CHUNK: usize = 64 * 1024;
/// The first read buffer; it grows to [`CHUNK`] while reads fill it.
const FIRST_READ: usize = 4 * 1024;
/// Largest HTTP response head looked at for the extension answer.
const MAX_HEAD: usize = 64 * 1024;
/// Most entries kept in a [`WireLog`] nobody reads.
const MAX_LOG: usize = 4096;

/// A data message as it crossed the wire, before tungstenite made one message of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireMsg {
    /// Compressed payload bytes (`None`: sent as it is).
    pub compressed: Option<usize>,
    /// The frames it came in, when more than one.
    pub fragments: Option<Arc<Fragments>>,
}

/// The data messages read, oldest first: how each one tungstenite will return crossed the
/// wire (its compressed size, its frames). Kept on a client's stream (and a server's while
/// compression is on). Only messages with something to say (compressed, or in more than one
/// frame) take an entry, numbered; a plain one-frame message costs two counter bumps, no lock.
#[derive(Debug, Clone, Default)]
pub struct WireLog(Arc<LogInner>);

#[derive(Debug, Default)]
struct LogInner {
    /// (message number, how it came) for the messages worth an entry.
    entries: Mutex<VecDeque<(u64, WireMsg)>>,
    /// Entries waiting (read without the lock).
    queued: AtomicUsize,
    /// Data messages completed by the frame layer, and taken by the reader.
    done: AtomicU64,
    taken: AtomicU64,
}

impl WireLog {
    /// How the next message tungstenite returns crossed the wire.
    pub fn pop(&self) -> WireMsg {
        let n = self.0.taken.fetch_add(1, Ordering::Relaxed);
        if self.0.queued.load(Ordering::Acquire) == 0 {
            return WireMsg::default();
        }
        let mut q = self.lock();
        // Entries of messages never taken (cut off by an error) are stale.
        while q.front().is_some_and(|(i, _)| *i < n) {
            q.pop_front();
        }
        let got = match q.front() {
            Some((i, _)) if *i == n => q.pop_front().map(|(_, m)| m),
            _ => None,
        };
        self.0.queued.store(q.len(), Ordering::Release);
        got.unwrap_or_default()
    }

    fn push(&self, entry: WireMsg) {
        let n = self.0.done.fetch_add(1, Ordering::Relaxed);
        if entry.compressed.is_none() && entry.fragments.is_none() {
            return;
        }
        let mut q = self.lock();
        if q.len() == MAX_LOG {
            q.pop_front();
        }
        q.push_back((n, entry));
        self.0.queued.store(q.len(), Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, WireMsg)>> {
        self.0.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Mode {
    /// Client: the 101 is still coming; then frames or passing through.
    Head(Option<Offer>),
    /// Client: the answer was not a 101. Its head waits in `raw` while (a bounded part of) the
    /// body comes, so tungstenite's refusal carries the server's explanation with it.
    Refused(Box<Refusal>),
    /// Compression is on: frames are looked at.
    Frames,
    /// Bytes go through untouched.
    Pass,
}

/// Most bytes of a refused upgrade's body waited for.
pub const MAX_REFUSAL_BODY: usize = 4 * 1024;
/// How long a refused upgrade's body is waited for past its head.
const REFUSAL_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A non-101 answer whose body is still coming.
pub(crate) struct Refusal {
    /// Bytes of the head (with its blank line) at the start of `raw`.
    head: usize,
    /// The body is complete (or as much of it as is wanted) once `raw` holds this many bytes.
    want: usize,
    /// A chunked body: complete at its last chunk, whatever `want` says.
    chunked: bool,
    wait: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Refusal {
    /// For the head `raw[..head]` (a non-101 answer).
    fn new(raw: &[u8], head: usize) -> Refusal {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut headers);
        let _ = resp.parse(&raw[..head]);
        let value = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .map(str::trim)
        };
        let chunked = value("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let length = value("content-length").and_then(|v| v.parse::<usize>().ok());
        let body = match length {
            Some(n) if !chunked => n.min(MAX_REFUSAL_BODY),
            _ => MAX_REFUSAL_BODY,
        };
        Refusal {
            head,
            want: head + body,
            chunked,
            wait: Box::pin(tokio::time::sleep(REFUSAL_WAIT)),
        }
    }

    fn complete(&self, raw: &[u8], eof: bool) -> bool {
        let body = &raw[self.head.min(raw.len())..];
        eof || raw.len() >= self.want
            || (self.chunked && (body.starts_with(b"0\r\n") || memfind(body, b"\r\n0\r\n")))
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Where the reader is within the current frame.
enum Cur {
    Header,
    /// Copy this many payload bytes through.
    Pass(u64),
    /// Drop this many payload bytes (the rest of a message that failed to inflate).
    Discard(u64),
    /// Compressed payload bytes still to come.
    Inflate {
        left: u64,
        mask: Option<[u8; 4]>,
        pos: usize,
        fin: bool,
    },
    /// The final frame is in: release what the inflater holds.
    Finish,
}

/// What to do with a frame, from its header.
#[derive(Clone, Copy)]
enum Action {
    /// Hand it to tungstenite as it is.
    Through,
    /// Likewise, as part of an uncompressed message.
    Plain,
    Discard,
    Inflate,
}

/// The data message being read.
struct Msg {
    opcode: u8,
    compressed: bool,
    /// Its first frame went to tungstenite (later ones are continuations).
    started: bool,
    /// Payload bytes on the wire so far.
    wire: u64,
    /// Inflated bytes handed to tungstenite so far.
    framed: usize,
    /// Inflating failed: the rest of the message is dropped.
    failed: bool,
    /// Its frames on the wire.
    frames: Fragments,
}

/// A byte stream whose compressed messages are inflated for tungstenite (see module docs).
pub struct DeflateStream<S> {
    inner: S,
    role: Role,
    limit: usize,
    mode: Mode,
    negotiated: Result<Option<Params>, ExtensionError>,
    inflater: Option<Inflater>,
    /// Read from `inner`, not looked at yet.
    raw: BytesMut,
    /// For tungstenite.
    ready: BytesMut,
    /// Inflated bytes of the current message not framed yet.
    pending: Vec<u8>,
    /// A masked frame's payload, unmasked.
    unmasked: Vec<u8>,
    /// Where reads from `inner` land.
    readbuf: Vec<u8>,
    cur: Cur,
    msg: Option<Msg>,
    error: Option<io::Error>,
    eof: bool,
    log: WireLog,
    /// A client's frames while they pass untouched (`Mode::Pass`), for the log.
    counter: Option<FrameCounter>,
}

impl<S> DeflateStream<S> {
    /// A client's stream before the upgrade request is written: it reads the 101 as it passes
    /// and checks its `Sec-WebSocket-Extensions` against `offer` (`None`: nothing offered).
    /// `limit` is the largest message, inflated.
    pub fn client(inner: S, offer: Option<Offer>, limit: usize) -> Self {
        let mut s = Self::new(
            inner,
            Role::Client,
            Mode::Head(offer),
            Ok(None),
            Vec::new(),
            limit,
        );
        s.counter = Some(FrameCounter::default());
        s
    }

    /// A stream whose upgrade was done elsewhere (a server; the proxy): `params` as agreed
    /// (`None`: bytes pass untouched), `read_ahead` the bytes already read past the HTTP head.
    pub fn after_upgrade(
        inner: S,
        role: Role,
        params: Option<Params>,
        read_ahead: Vec<u8>,
        limit: usize,
    ) -> Self {
        let mode = if params.is_some() {
            Mode::Frames
        } else {
            Mode::Pass
        };
        Self::new(inner, role, mode, Ok(params), read_ahead, limit)
    }

    fn new(
        inner: S,
        role: Role,
        mode: Mode,
        negotiated: Result<Option<Params>, ExtensionError>,
        read_ahead: Vec<u8>,
        limit: usize,
    ) -> Self {
        let inflater = match &negotiated {
            Ok(Some(p)) => Some(Inflater::new(p, role)),
            _ => None,
        };
        DeflateStream {
            inner,
            role,
            limit,
            mode,
            negotiated,
            inflater,
            raw: BytesMut::from(&read_ahead[..]),
            ready: BytesMut::new(),
            pending: Vec::new(),
            unmasked: Vec::new(),
            readbuf: Vec::new(),
            cur: Cur::Header,
            msg: None,
            error: None,
            eof: false,
            log: WireLog::default(),
            counter: None,
        }
    }

    /// What the upgrade agreed to (`None`: no compression), or why it must fail.
    pub fn negotiated(&self) -> Result<Option<Params>, &ExtensionError> {
        self.negotiated.as_ref().map(|p| *p)
    }

    /// Wire sizes of the messages read (see [`WireLog`]).
    pub fn wire_log(&self) -> WireLog {
        self.log.clone()
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The stream beneath (bytes read ahead but not handed out are dropped).
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Follow the frames of passing bytes (`raw`'s, or these) for the log (a client's).
    fn count(&mut self, bytes: Option<&[u8]>) {
        let Some(c) = self.counter.as_mut() else {
            return;
        };
        let log = &self.log;
        let done = |fragments| {
            log.push(WireMsg {
                compressed: None,
                fragments,
            })
        };
        match bytes {
            Some(b) => c.feed(b, done),
            None => c.feed(&self.raw, done),
        }
    }

    /// The 101 (or whatever came) is complete in `raw`, or cannot be: decide the mode.
    fn end_head(&mut self, offer: Option<Offer>) {
        let end = self.raw.windows(4).position(|w| w == b"\r\n\r\n");
        let Some(end) = end else {
            if self.raw.len() > MAX_HEAD || self.eof {
                self.mode = Mode::Pass;
            }
            return;
        };
        if !is_101(&self.raw[..end + 4]) {
            self.mode = Mode::Refused(Box::new(Refusal::new(&self.raw, end + 4)));
            return;
        }
        let head = self.raw.split_to(end + 4);
        self.negotiated = check_response(&head, offer.as_ref());
        self.ready.extend_from_slice(&head);
        self.mode = match &self.negotiated {
            Ok(Some(p)) => {
                self.inflater = Some(Inflater::new(p, self.role));
                Mode::Frames
            }
            _ => Mode::Pass,
        };
    }

    /// Move bytes from `raw` to `ready`, inflating, until `ready` holds a chunk or `raw` runs
    /// out.
    fn process(&mut self) {
        while self.ready.len() < CHUNK && self.error.is_none() {
            let progressed = match self.cur {
                Cur::Header => self.header(),
                Cur::Pass(left) => self.copy(left, true),
                Cur::Discard(left) => self.copy(left, false),
                Cur::Inflate {
                    left,
                    mask,
                    pos,
                    fin,
                } => self.inflate(left, mask, pos, fin),
                Cur::Finish => self.finish(),
            };
            if !progressed {
                return;
            }
        }
    }

    fn header(&mut self) -> bool {
        let Some(h) = FrameHead::parse(&self.raw) else {
            return false;
        };
        let bytes = self.raw.split_to(h.len);
        let starts = self.msg.is_none() && (1..8).contains(&h.opcode);
        let action = if h.opcode >= 8 {
            Action::Through
        } else if starts {
            let mut frames = Fragments::default();
            frames.add(h.payload);
            self.msg = Some(Msg {
                opcode: h.opcode,
                compressed: h.rsv1,
                started: false,
                wire: h.payload,
                framed: 0,
                failed: false,
                frames,
            });
            if h.rsv1 {
                Action::Inflate
            } else {
                Action::Plain
            }
        } else {
            match self.msg.as_mut() {
                Some(m) if h.opcode == 0 && !h.rsv1 => {
                    m.wire += h.payload;
                    m.frames.add(h.payload);
                    if !m.compressed {
                        Action::Plain
                    } else if m.failed {
                        Action::Discard
                    } else {
                        Action::Inflate
                    }
                }
                // A stray continuation, a data frame inside a message, RSV1 where it may not
                // be: tungstenite fails the connection on it.
                _ => Action::Through,
            }
        };
        match action {
            Action::Through | Action::Plain => {
                self.ready.extend_from_slice(&bytes);
                self.cur = Cur::Pass(h.payload);
                if matches!(action, Action::Plain)
                    && h.fin
                    && let Some(mut m) = self.msg.take()
                {
                    self.log.push(WireMsg {
                        compressed: None,
                        fragments: m.frames.take(),
                    });
                }
            }
            Action::Discard => {
                self.cur = Cur::Discard(h.payload);
                if h.fin {
                    self.msg = None;
                }
            }
            Action::Inflate => {
                self.cur = Cur::Inflate {
                    left: h.payload,
                    mask: h.mask,
                    pos: 0,
                    fin: h.fin,
                }
            }
        }
        true
    }

    fn copy(&mut self, left: u64, keep: bool) -> bool {
        if left == 0 {
            self.cur = Cur::Header;
            return true;
        }
        let n = left.min(self.raw.len() as u64) as usize;
        if n == 0 {
            return false;
        }
        if keep {
            self.ready.extend_from_slice(&self.raw[..n]);
        }
        self.raw.advance(n);
        let left = left - n as u64;
        self.cur = if left == 0 {
            Cur::Header
        } else if keep {
            Cur::Pass(left)
        } else {
            Cur::Discard(left)
        };
        true
    }

    /// Room left in `pending` under the limit (one byte over proves a message too big).
    fn room(&self) -> usize {
        let framed = self.msg.as_ref().map_or(0, |m| m.framed);
        let allowed = self.limit.saturating_add(1).saturating_sub(framed);
        allowed.min(CHUNK)
    }

    fn inflate(&mut self, left: u64, mask: Option<[u8; 4]>, pos: usize, fin: bool) -> bool {
        if left == 0 {
            self.cur = if fin { Cur::Finish } else { Cur::Header };
            return true;
        }
        let n = left.min(self.raw.len() as u64) as usize;
        if n == 0 {
            return false;
        }
        let input: &[u8] = match mask {
            None => &self.raw[..n],
            Some(key) => {
                self.unmasked.clear();
                self.unmasked.extend(
                    self.raw[..n]
                        .iter()
                        .enumerate()
                        .map(|(i, b)| b ^ key[(pos + i) % 4]),
                );
                &self.unmasked
            }
        };
        let room = self.room();
        let Some(inflater) = self.inflater.as_mut() else {
            return false;
        };
        let used = match inflater.inflate(input, &mut self.pending, room) {
            Ok(used) => used,
            Err(e) => {
                self.fail(e, left, fin);
                return true;
            }
        };
        self.raw.advance(used);
        self.cur = Cur::Inflate {
            left: left - used as u64,
            mask,
            pos: pos + used,
            fin,
        };
        self.after_output();
        true
    }

    fn finish(&mut self) -> bool {
        let room = self.room();
        let Some(inflater) = self.inflater.as_mut() else {
            return false;
        };
        match inflater.finish(&mut self.pending, room) {
            Err(e) => self.fail(e, 0, true),
            Ok(false) => self.after_output(),
            Ok(true) => {
                if self.over_limit() {
                    self.fail(InflateError::TooBig { limit: self.limit }, 0, true);
                } else {
                    let wire = self.msg.as_ref().map_or(0, |m| m.wire as usize);
                    let fragments = self.msg.as_mut().and_then(|m| m.frames.take());
                    self.log.push(WireMsg {
                        compressed: Some(wire),
                        fragments,
                    });
                    self.emit(true);
                    self.msg = None;
                    self.cur = Cur::Header;
                }
            }
        }
        true
    }

    fn over_limit(&self) -> bool {
        let framed = self.msg.as_ref().map_or(0, |m| m.framed);
        framed + self.pending.len() > self.limit
    }

    /// A full chunk goes to tungstenite as a non-final frame; going past the limit fails.
    fn after_output(&mut self) {
        if self.over_limit() {
            let (left, fin) = match self.cur {
                Cur::Inflate { left, fin, .. } => (left, fin),
                _ => (0, true),
            };
            self.fail(InflateError::TooBig { limit: self.limit }, left, fin);
        } else if self.pending.len() >= CHUNK {
            self.emit(false);
        }
    }

    /// Stop inflating this message: drop the rest of it and report the error once.
    fn fail(&mut self, e: InflateError, left: u64, fin: bool) {
        self.pending.clear();
        if let Some(m) = self.msg.as_mut() {
            m.failed = true;
        }
        if fin {
            self.msg = None;
        }
        if let (Some(i), Ok(Some(p))) = (self.inflater.as_mut(), &self.negotiated) {
            // The window is unusable after a failure.
            *i = Inflater::new(p, self.role);
        }
        self.cur = Cur::Discard(left);
        self.error = Some(io::Error::new(io::ErrorKind::InvalidData, e));
    }

    /// Frame `pending` for tungstenite (masked with a zero key where it expects masking).
    fn emit(&mut self, fin: bool) {
        let Some(m) = self.msg.as_mut() else {
            return;
        };
        let opcode = if m.started { 0 } else { m.opcode };
        m.started = true;
        m.framed += self.pending.len();
        let len = self.pending.len();
        let masked = self.role == Role::Server;
        self.ready
            .extend_from_slice(&[(u8::from(fin) << 7) | opcode]);
        let mask_bit = if masked { 0x80 } else { 0 };
        if len < 126 {
            self.ready.extend_from_slice(&[mask_bit | len as u8]);
        } else if len <= usize::from(u16::MAX) {
            self.ready.extend_from_slice(&[mask_bit | 126]);
            self.ready.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            self.ready.extend_from_slice(&[mask_bit | 127]);
            self.ready.extend_from_slice(&(len as u64).to_be_bytes());
        }
        if masked {
            self.ready.extend_from_slice(&[0; 4]);
        }
        self.ready.extend_from_slice(&self.pending);
        self.pending.clear();
    }
}

/// A frame header as read off the wire.
struct FrameHead {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: u64,
    /// Bytes of the header itself.
    len: usize,
}

impl FrameHead {
    fn parse(b: &[u8]) -> Option<FrameHead> {
        if b.len() < 2 {
            return None;
        }
        let masked = b[1] & 0x80 != 0;
        let (payload, mut len) = match b[1] & 0x7f {
            126 => (
                u64::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?)),
                4,
            ),
            127 => (u64::from_be_bytes(b.get(2..10)?.try_into().ok()?), 10),
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            let key: [u8; 4] = b.get(len..len + 4)?.try_into().ok()?;
            len += 4;
            Some(key)
        } else {
            None
        };
        Some(FrameHead {
            fin: b[0] & 0x80 != 0,
            rsv1: b[0] & 0x40 != 0,
            opcode: b[0] & 0x0f,
            mask,
            payload,
            len,
        })
    }
}

/// The head is a `101 Switching Protocols`.
fn is_101(head: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    matches!(resp.parse(head), Ok(httparse::Status::Complete(_))) && resp.code == Some(101)
}

/// The client's check of a complete response head.
fn check_response(head: &[u8], offer: Option<&Offer>) -> Result<Option<Params>, ExtensionError> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    if !matches!(resp.parse(head), Ok(httparse::Status::Complete(_))) || resp.code != Some(101) {
        // Not an upgrade: tungstenite reports that.
        return Ok(None);
    }
    let values: Vec<&str> = resp
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("\u{fffd}"))
        .collect();
    Offer::accept(offer, &values)
}

impl<S: AsyncRead + Unpin> AsyncRead for DeflateStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if let Some(e) = this.error.take() {
                return Poll::Ready(Err(e));
            }
            match std::mem::replace(&mut this.mode, Mode::Pass) {
                Mode::Head(offer) => {
                    this.mode = Mode::Head(offer);
                    if !this.raw.is_empty() {
                        this.end_head(offer);
                        if !this.ready.is_empty() || !matches!(this.mode, Mode::Head(_)) {
                            continue;
                        }
                    }
                }
                Mode::Refused(mut r) => {
                    if r.complete(&this.raw, this.eof) || r.wait.as_mut().poll(cx).is_ready() {
                        // Head and body in one piece: tungstenite's error keeps what came
                        // with the head.
                        this.ready = this.raw.split();
                        continue;
                    }
                    this.mode = Mode::Refused(r);
                }
                Mode::Pass => {
                    if !this.raw.is_empty() {
                        this.count(None);
                        this.ready = this.raw.split();
                        continue;
                    }
                    let before = buf.filled().len();
                    let read = Pin::new(&mut this.inner).poll_read(cx, buf);
                    if let Poll::Ready(Ok(())) = read {
                        this.count(Some(&buf.filled()[before..]));
                    }
                    return read;
                }
                Mode::Frames => {
                    this.mode = Mode::Frames;
                    this.process();
                    if !this.ready.is_empty() || this.error.is_some() {
                        continue;
                    }
                }
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            // Small at first (a server holds one per connection), doubled while reads fill it.
            if this.readbuf.is_empty() {
                this.readbuf.resize(FIRST_READ, 0);
            }
            let mut rb = ReadBuf::new(&mut this.readbuf[..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            let got = rb.filled().len();
            if got == 0 {
                this.eof = true;
            }
            this.raw.extend_from_slice(&this.readbuf[..got]);
            if got == this.readbuf.len() && got < CHUNK {
                this.readbuf.resize(got * 2, 0);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DeflateStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
#[path = "deflate_stream_tests.rs"]
mod tests;
