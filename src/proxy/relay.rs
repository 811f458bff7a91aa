//! One proxied WebSocket connection: two pumps, one per direction, each reading its peer's
//! frames and writing them to the other peer byte for byte (masking and fragmentation kept),
//! logging every message, holding the ones the intercept rule matches, and writing what the
//! user injects or edits.
//!
//! Each pump owns its source's read half and its destination's write half, so a slow reader
//! stops only the direction it reads (its pump waits on the write; the socket buffers are the
//! only queue), and control frames always pass held messages. A pump tells the other one to
//! write a Close to its destination when its own source broke the protocol.
//!
//! A compressed message (permessage-deflate) is inflated and compressed again for the other
//! leg (`compress.rs`); steering (forward, drop, edit, inject) is in `steer.rs`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};

use super::compress::Codec;
use super::frame::{self, FrameError, Header};
use super::rules::{InterceptRule, LoginPhase, LoginState, Redaction};
use crate::wire::deflate::Params;

#[path = "steer.rs"]
mod steer;
use super::{Closed, ProxyEvent, ProxyFrame};
use crate::model::{CloseInfo, Direction, Fragments, FrameRecord, Opcode, Origin};

pub(crate) use crate::wire::stream::BoxIo;

/// What a pump is told to do (by the user, or by the other pump).
#[derive(Debug, Clone)]
pub(crate) enum PumpCmd {
    Forward(u64),
    Drop(u64),
    Edit(u64, Bytes),
    ForwardAll,
    Inject(Opcode, Bytes),
    /// Write a Close with this code and reason to the destination (the other pump's source
    /// broke the protocol or vanished).
    Close(u16, String),
}

/// What every relay shares with the proxy.
pub(crate) struct RelayShared {
    pub seq: AtomicU64,
    pub events: mpsc::Sender<ProxyEvent>,
    pub rule: watch::Receiver<Option<InterceptRule>>,
    pub redaction: Arc<Redaction>,
    pub max_message: usize,
    pub close_timeout: std::time::Duration,
}

/// The two legs, after both upgrades, and what was read past each head.
pub(crate) struct Legs {
    pub client: BoxIo,
    pub client_rest: Vec<u8>,
    pub server: BoxIo,
    pub server_rest: Vec<u8>,
    /// What each leg agreed to compress with (`None`: not compressed).
    pub client_deflate: Option<Params>,
    pub server_deflate: Option<Params>,
}

/// Relay until both directions end; then report how each side closed.
pub(crate) async fn run(
    shared: Arc<RelayShared>,
    conn: u64,
    legs: Legs,
    to_server: mpsc::UnboundedReceiver<PumpCmd>,
    to_client: mpsc::UnboundedReceiver<PumpCmd>,
    to_server_tx: mpsc::UnboundedSender<PumpCmd>,
    to_client_tx: mpsc::UnboundedSender<PumpCmd>,
) {
    let (cr, cw) = tokio::io::split(legs.client);
    let (sr, sw) = tokio::io::split(legs.server);
    let (closing_tx, closing_rx) = watch::channel(None);
    let closing = Arc::new(closing_tx);
    let login = Arc::new(AtomicU8::new(LoginPhase::Before as u8));
    let login_state = Arc::new(std::sync::Mutex::new(LoginState::default()));
    let common = |dir| Common {
        shared: shared.clone(),
        conn,
        dir,
        closing: closing.clone(),
        closing_rx: closing_rx.clone(),
        login: login.clone(),
        login_state: login_state.clone(),
    };
    let codec = |dir| {
        Codec::new(
            dir,
            legs.client_deflate.as_ref(),
            legs.server_deflate.as_ref(),
        )
    };
    let c2s = Pump::new(
        common(Direction::ClientToServer),
        cr,
        sw,
        legs.client_rest,
        to_server,
        to_client_tx,
        codec(Direction::ClientToServer),
    );
    let s2c = Pump::new(
        common(Direction::ServerToClient),
        sr,
        cw,
        legs.server_rest,
        to_client,
        to_server_tx,
        codec(Direction::ServerToClient),
    );
    let (c2s, s2c) = tokio::join!(c2s.run(), s2c.run());
    let lost_held = c2s.lost + s2c.lost;
    let _ = shared
        .events
        .send(ProxyEvent::Closed(Closed {
            conn,
            client: c2s.src_close,
            server: s2c.src_close,
            lost_held,
        }))
        .await;
}

struct Common {
    shared: Arc<RelayShared>,
    conn: u64,
    dir: Direction,
    /// Set once the connection is closing: the deadline after which both pumps give up.
    closing: Arc<watch::Sender<Option<Instant>>>,
    closing_rx: watch::Receiver<Option<Instant>>,
    /// The connection's [`LoginPhase`] (both pumps move it on: the client's login, the
    /// server's acceptance).
    login: Arc<AtomicU8>,
    /// The connection's login as the redaction follows it (the passwords seen); `login`
    /// mirrors its phase, so a server message before any login takes no lock.
    login_state: Arc<std::sync::Mutex<LoginState>>,
}

/// A data message being read, fragment by fragment.
struct Partial {
    opcode: Opcode,
    payload: Vec<u8>,
    /// Its frames as read, kept only while it may still be held.
    raw: Vec<u8>,
    buffering: bool,
    /// Its first frame had RSV1: `payload` is compressed.
    compressed: bool,
    /// Its frames so far (their payload sizes on the wire).
    fragments: Fragments,
    at: SystemTime,
}

/// A message held by intercept.
struct Held {
    /// As logged (payload redacted when it had a secret).
    record: FrameRecord,
    /// What the peer sent: the frames to pass on unchanged.
    raw: Vec<u8>,
    /// The whole message, when `raw` cannot be passed on as it is (it was compressed for
    /// the other leg's context).
    plain: Option<Bytes>,
    fragments: u32,
    /// The `Held` event for it was sent.
    reported: bool,
    /// Until then: how many frames of the batch came before it (its event goes out in its
    /// place among them, so a front end lists it where it arrived).
    batch_at: usize,
}

/// A message the rule did not hold that came after one it holds: it waits, in order, until
/// every message held before it is decided (a proxy must not reorder a peer's stream).
struct Waiting {
    record: FrameRecord,
    /// The frames to send.
    bytes: Vec<u8>,
    fragments: u32,
}

/// How a pump ended.
struct PumpEnd {
    /// The close its source sent (1005 without a code), or 1006 if it vanished.
    src_close: Option<CloseInfo>,
    lost: usize,
}

struct Pump {
    c: Common,
    masked: bool,
    src: ReadHalf<BoxIo>,
    dst: WriteHalf<BoxIo>,
    buf: BytesMut,
    out: Vec<u8>,
    batch: Vec<ProxyFrame>,
    /// The mean size of the frames of the last read: how many the next read likely holds.
    frame_size: usize,
    /// An intercept rule was on when this read began (looked up once a read, not per frame).
    rule_on: bool,
    partial: Option<Partial>,
    held: Vec<Held>,
    /// Messages behind a held one, oldest first.
    waiting: VecDeque<Waiting>,
    /// Frames waiting for a message whose first fragments were already passed on.
    pending: VecDeque<Vec<u8>>,
    mid_message: bool,
    cmds: mpsc::UnboundedReceiver<PumpCmd>,
    /// The other pump (it writes to our source).
    peer: mpsc::UnboundedSender<PumpCmd>,
    src_close: Option<CloseInfo>,
    /// A Close went to the destination: no more data may follow it.
    sent_close: bool,
    dst_dead: bool,
    codec: Codec,
}

const READ_CHUNK: usize = 64 * 1024;
/// At most this many frames' room is set aside for a read's batch ahead of time.
const MAX_BATCH_ROOM: usize = 4096;

impl Pump {
    fn new(
        c: Common,
        src: ReadHalf<BoxIo>,
        dst: WriteHalf<BoxIo>,
        rest: Vec<u8>,
        cmds: mpsc::UnboundedReceiver<PumpCmd>,
        peer: mpsc::UnboundedSender<PumpCmd>,
        codec: Codec,
    ) -> Pump {
        Pump {
            masked: c.dir == Direction::ClientToServer,
            c,
            src,
            dst,
            buf: BytesMut::from(&rest[..]),
            out: Vec::with_capacity(READ_CHUNK),
            batch: Vec::new(),
            frame_size: 64,
            rule_on: false,
            partial: None,
            held: Vec::new(),
            waiting: VecDeque::new(),
            pending: VecDeque::new(),
            mid_message: false,
            cmds,
            peer,
            src_close: None,
            sent_close: false,
            dst_dead: false,
            codec,
        }
    }

    /// Who this pump reads from, for messages.
    fn src_name(&self) -> &'static str {
        match self.c.dir {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }

    async fn run(mut self) -> PumpEnd {
        let mut cmds_open = true;
        // Bytes read before the upgrade finished may already hold frames.
        let mut alive = self.process().await;
        while alive {
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(READ_CHUNK);
            }
            let mut closing_rx = self.c.closing_rx.clone();
            tokio::select! {
                biased;
                cmd = self.cmds.recv(), if cmds_open => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => cmds_open = false,
                },
                _ = closing_deadline(&mut closing_rx) => break,
                r = self.src.read_buf(&mut self.buf) => match r {
                    Ok(0) | Err(_) => {
                        self.src_ended().await;
                        break;
                    }
                    Ok(_) => alive = self.process().await,
                },
            }
        }
        self.flush_events().await;
        self.end().await
    }

    /// Parse every whole frame in the buffer, write what passes on, report what was seen.
    /// False when the source broke the protocol (the pump ends).
    async fn process(&mut self) -> bool {
        let at = SystemTime::now();
        let mut ok = true;
        // Room for the frames the buffer likely holds, so a long read does not regrow the
        // batch (and copy it) again and again.
        let read = self.buf.len();
        self.batch
            .reserve((read / self.frame_size).min(MAX_BATCH_ROOM));
        let before = self.batch.len();
        self.rule_on = self.c.rule_active();
        loop {
            let h = match frame::parse_header(
                &self.buf,
                self.masked,
                self.c.shared.max_message,
                self.codec.source_compresses(),
            ) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => {
                    self.protocol_failure(e).await;
                    ok = false;
                    break;
                }
            };
            if self.buf.len() < h.total_len() {
                self.buf.reserve(h.total_len() - self.buf.len());
                break;
            }
            let raw = self.buf.split_to(h.total_len()).freeze();
            if let Err(e) = self.frame(h, raw, at) {
                self.protocol_failure(e).await;
                ok = false;
                break;
            }
        }
        let frames = self.batch.len().saturating_sub(before);
        if let Some(size) = (read - self.buf.len()).checked_div(frames) {
            self.frame_size = size.max(2);
        }
        self.write_out().await;
        self.flush_events().await;
        ok
    }

    /// The unmasked payload of a frame.
    fn payload(h: &Header, raw: &Bytes) -> Bytes {
        let body = raw.slice(h.header_len..);
        match h.mask {
            None => body,
            Some(m) => {
                let mut v = body.to_vec();
                frame::apply_mask(&mut v, m, 0);
                Bytes::from(v)
            }
        }
    }

    fn frame(&mut self, h: Header, raw: Bytes, at: SystemTime) -> Result<(), FrameError> {
        let payload = Self::payload(&h, &raw);
        match h.opcode {
            frame::OP_PING | frame::OP_PONG => {
                let opcode = if h.opcode == frame::OP_PING {
                    Opcode::Ping
                } else {
                    Opcode::Pong
                };
                let origin = if self.sent_close {
                    Origin::Dropped
                } else {
                    self.out.extend_from_slice(&raw);
                    Origin::Wire
                };
                let rec = self.record(opcode, payload, at, origin);
                self.batch.push(ProxyFrame {
                    record: rec,
                    fragments: 1,
                });
            }
            frame::OP_CLOSE => {
                let parsed = frame::parse_close(&payload);
                let origin = if self.sent_close {
                    Origin::Dropped
                } else {
                    self.out.extend_from_slice(&raw);
                    self.sent_close = true;
                    Origin::Wire
                };
                self.src_close = Some(match &parsed {
                    Some((code, reason)) => CloseInfo {
                        code: *code,
                        reason: reason.clone(),
                    },
                    None => CloseInfo {
                        code: 1005,
                        reason: String::new(),
                    },
                });
                let mut rec = self.record(
                    Opcode::Close,
                    Bytes::from(parsed.as_ref().map(|p| p.1.clone()).unwrap_or_default()),
                    at,
                    origin,
                );
                rec.len = payload.len();
                rec.close = parsed.map(|(code, reason)| CloseInfo { code, reason });
                self.batch.push(ProxyFrame {
                    record: rec,
                    fragments: 1,
                });
                self.start_closing();
            }
            op => self.data(h, op, raw, payload, at)?,
        }
        Ok(())
    }

    /// A data frame: starts, continues or ends a message (a one-frame message with no rule
    /// to check passes on at once; the rest in `message_done`).
    fn data(
        &mut self,
        h: Header,
        op: u8,
        raw: Bytes,
        payload: Bytes,
        at: SystemTime,
    ) -> Result<(), FrameError> {
        let max = self.c.shared.max_message;
        let compressed = h.rsv & frame::RSV1 != 0;
        match (&mut self.partial, op) {
            (None, frame::OP_CONTINUATION) => {
                return Err(FrameError::Protocol("a continuation frame with no message"));
            }
            (Some(_), frame::OP_TEXT | frame::OP_BINARY) => {
                return Err(FrameError::Protocol(
                    "a new message inside a fragmented one",
                ));
            }
            (None, _) if h.fin && !compressed && !self.rule_on && self.held.is_empty() => {
                // The common case: a whole message in one frame, with no rule to check,
                // passed on at once (`parse_header` held it to the size limit).
                let opcode = match op {
                    frame::OP_TEXT => Opcode::Text,
                    _ => Opcode::Binary,
                };
                let origin = self.pass_on(&raw);
                self.log_whole(opcode, payload, at, origin);
                return Ok(());
            }
            (None, _) => {
                // A compressed message is inflated whole, then compressed again.
                self.partial = Some(Partial {
                    opcode: if op == frame::OP_TEXT {
                        Opcode::Text
                    } else {
                        Opcode::Binary
                    },
                    payload: Vec::new(),
                    raw: Vec::new(),
                    // Read whole when the rule may hold it or a held message is ahead of it.
                    buffering: compressed || self.rule_on || !self.held.is_empty(),
                    compressed,
                    fragments: Fragments::default(),
                    at,
                });
            }
            (Some(_), _) => {}
        }
        let p = self.partial.as_mut().expect("set above");
        if p.payload.len() + payload.len() > max {
            return Err(FrameError::TooBig { limit: max });
        }
        p.fragments.add(payload.len() as u64);
        p.payload.extend_from_slice(&payload);
        if p.buffering {
            p.raw.extend_from_slice(&raw);
        } else {
            self.mid_message = !h.fin;
            self.pass_on(&raw);
        }
        if !h.fin {
            return Ok(());
        }
        let p = self.partial.take().expect("set above");
        self.message_done(p, max)
    }

    /// A message's last frame came: inflated if it was compressed, then logged as passed
    /// on (its frames went already), held by the rule, or passed on now.
    fn message_done(&mut self, p: Partial, max: usize) -> Result<(), FrameError> {
        let (payload, wire_len) = if p.compressed {
            let inflated = self.codec.inflate(&p.payload, max)?;
            (Bytes::from(inflated), Some(p.payload.len()))
        } else {
            (Bytes::from(p.payload), None)
        };
        let mut rec = self.record(p.opcode, payload.clone(), p.at, Origin::Wire);
        rec.wire_len = wire_len;
        let fragments = u32::try_from(p.fragments.count).unwrap_or(u32::MAX);
        if p.fragments.count > 1 {
            rec.fragments = Some(std::sync::Arc::new(p.fragments));
        }
        if !p.buffering {
            self.mid_message = false;
            self.release_pending();
        } else if self.c.matches(&rec) {
            self.held.push(Held {
                record: rec,
                raw: p.raw,
                plain: p.compressed.then_some(payload),
                fragments,
                reported: false,
                batch_at: self.batch.len(),
            });
            return Ok(());
        } else {
            let bytes = match p.compressed {
                true => self.encode_data(p.opcode, &payload).0,
                false => p.raw,
            };
            if !self.held.is_empty() {
                self.waiting.push_back(Waiting {
                    record: rec,
                    bytes,
                    fragments,
                });
                return Ok(());
            }
            rec.origin = self.pass_on(&bytes);
        }
        self.batch.push(ProxyFrame {
            record: rec,
            fragments,
        });
        Ok(())
    }

    /// Queue frames of a data message for the destination; `Dropped` when it cannot take
    /// data any more (it was sent a Close).
    fn pass_on(&mut self, raw: &[u8]) -> Origin {
        if self.sent_close || self.dst_dead {
            return Origin::Dropped;
        }
        self.out.extend_from_slice(raw);
        Origin::Wire
    }

    fn release_pending(&mut self) {
        while let Some(f) = self.pending.pop_front() {
            self.pass_on(&f);
        }
    }

    /// Log a one-frame message: its record goes straight into the batch, redacted there.
    fn log_whole(&mut self, opcode: Opcode, payload: Bytes, at: SystemTime, origin: Origin) {
        let record = self.plain_record(opcode, payload, at, origin);
        self.batch.push(ProxyFrame {
            record,
            fragments: 1,
        });
        if opcode == Opcode::Text {
            let rec = &mut self.batch.last_mut().expect("pushed above").record;
            self.c.redact(rec);
        }
    }

    /// A message's log record as it came: its seq, its payload (not redacted yet).
    #[inline]
    fn plain_record(
        &self,
        opcode: Opcode,
        payload: Bytes,
        at: SystemTime,
        origin: Origin,
    ) -> FrameRecord {
        FrameRecord {
            seq: self.c.shared.seq.fetch_add(1, Ordering::Relaxed) + 1,
            conn: self.c.conn,
            at,
            dir: self.c.dir,
            origin,
            opcode,
            len: payload.len(),
            payload,
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        }
    }

    /// The log record of a message: its seq, redacted copy of the payload.
    fn record(
        &self,
        opcode: Opcode,
        payload: Bytes,
        at: SystemTime,
        origin: Origin,
    ) -> FrameRecord {
        let mut rec = self.plain_record(opcode, payload, at, origin);
        if opcode == Opcode::Text {
            self.c.redact(&mut rec);
        }
        rec
    }

    async fn write_out(&mut self) {
        if self.out.is_empty() || self.dst_dead {
            self.out.clear();
            return;
        }
        let ok = self.dst.write_all(&self.out).await.is_ok() && self.dst.flush().await.is_ok();
        self.out.clear();
        if !ok {
            self.dst_dead = true;
            self.start_closing();
        }
    }

    /// Report the batch and the messages held since the last report, in the order they came.
    async fn flush_events(&mut self) {
        let mut frames = std::mem::take(&mut self.batch);
        let mut newly = Vec::new();
        for h in self.held.iter_mut().filter(|h| !h.reported) {
            h.reported = true;
            newly.push((h.batch_at, h.record.clone()));
        }
        // Frames of the batch already sent (the ones before a held message go first).
        let mut sent = 0;
        for (at, rec) in newly {
            let at = at.clamp(sent, sent + frames.len());
            if at > sent {
                let before: Vec<ProxyFrame> = frames.drain(..at - sent).collect();
                self.send_frames(before).await;
                sent = at;
            }
            let _ = self
                .c
                .shared
                .events
                .send(ProxyEvent::Held {
                    conn: self.c.conn,
                    frame: rec,
                })
                .await;
        }
        self.send_frames(frames).await;
    }

    async fn send_frames(&mut self, frames: Vec<ProxyFrame>) {
        if frames.is_empty() {
            return;
        }
        let _ = self
            .c
            .shared
            .events
            .send(ProxyEvent::Frames {
                conn: self.c.conn,
                frames,
            })
            .await;
    }

    /// The source sent something that cannot be relayed: it gets a Close with the code
    /// (through the other pump), the destination a 1001.
    async fn protocol_failure(&mut self, e: FrameError) {
        let _ = self.peer.send(PumpCmd::Close(e.close_code(), e.reason()));
        let reason = e.reason_for_peer(self.src_name());
        self.write_close(1001, &reason).await;
        if self.src_close.is_none() {
            self.src_close = Some(CloseInfo {
                code: 1006,
                reason: e.reason(),
            });
        }
        self.start_closing();
    }

    /// Write a Close the proxy makes itself (logged as injected).
    async fn write_close(&mut self, code: u16, reason: &str) {
        if self.sent_close {
            return;
        }
        self.sent_close = true;
        let payload = frame::close_payload(Some(code), reason);
        frame::encode(&mut self.out, frame::OP_CLOSE, &payload, self.masked);
        self.write_out().await;
        let mut rec = self.record(
            Opcode::Close,
            Bytes::from(reason.to_string()),
            SystemTime::now(),
            Origin::Injected,
        );
        rec.len = payload.len();
        rec.close = Some(CloseInfo {
            code,
            reason: reason.to_string(),
        });
        self.batch.push(ProxyFrame {
            record: rec,
            fragments: 1,
        });
    }

    /// The source closed its stream (or failed): pass the end on.
    async fn src_ended(&mut self) {
        if self.src_close.is_none() {
            self.src_close = Some(CloseInfo {
                code: 1006,
                reason: format!("the {} went away without a close", self.src_name()),
            });
            let reason = format!("wsdeck: the {} went away", self.src_name());
            self.write_close(1001, &reason).await;
        }
        let _ = self.dst.shutdown().await;
        self.start_closing();
    }

    fn start_closing(&self) {
        let deadline = Instant::now() + self.c.shared.close_timeout;
        self.c.closing.send_if_modified(|d| {
            if d.is_none() {
                *d = Some(deadline);
                true
            } else {
                false
            }
        });
    }

    /// One whole data message for the destination, compressed when its leg agreed to it:
    /// the bytes and the compressed payload size.
    fn encode_data(&mut self, opcode: Opcode, payload: &[u8]) -> (Vec<u8>, Option<usize>) {
        let mut out = Vec::with_capacity(payload.len() + 14);
        let n = self
            .codec
            .encode(&mut out, opcode.number(), payload, self.masked);
        (out, n)
    }
}

impl Common {
    /// Hide what the policy hides in a text message, moving the connection's login on.
    fn redact(&self, rec: &mut FrameRecord) {
        let redaction = &self.shared.redaction;
        let phase = LoginPhase::from_u8(self.login.load(Ordering::Relaxed));
        if phase == LoginPhase::Before
            && rec.dir == Direction::ServerToClient
            && !redaction.may_change_server_text()
        {
            // Before any login nothing in a server message is hidden or looked for.
            return;
        }
        let mut st = self
            .login_state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        redaction.redact(rec, &mut st);
        self.login.store(st.phase as u8, Ordering::Relaxed);
    }

    fn rule_active(&self) -> bool {
        self.shared.rule.borrow().is_some()
    }
    fn matches(&self, rec: &FrameRecord) -> bool {
        match &*self.shared.rule.borrow() {
            Some(rule) => rule(rec),
            None => false,
        }
    }
}

/// Wait until the connection's closing deadline (forever while it is not closing).
async fn closing_deadline(rx: &mut watch::Receiver<Option<Instant>>) {
    loop {
        let d = *rx.borrow_and_update();
        match d {
            Some(d) => {
                tokio::time::sleep_until(d.into()).await;
                return;
            }
            None => {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}
