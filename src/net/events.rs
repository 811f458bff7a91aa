//! The outgoing side of the network task: numbered frame records and state events, and the
//! backlog that keeps the task from running ahead of the UI.
//!
//! # Backpressure
//!
//! Events travel on an unbounded channel (sending never waits), but the task counts what the
//! receiver has not taken yet ([`Backlog`]). Above [`MAX_QUEUED_EVENTS`] events or
//! [`MAX_QUEUED_BYTES`] of payload the session stops reading the socket until the UI has
//! taken half of it, so a peer that floods tiny frames (a ping flood answered by the pongs it
//! reads) meets TCP backpressure instead of growing the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::model::{
    CloseInfo, ConnState, Direction, FrameRecord, HandshakeInfo, NetEvent, Opcode, Origin,
};
use crate::record::redact::Masker;
use crate::wire::deflate_stream::WireMsg;

/// Events sent and not yet taken above which the session stops reading.
pub const MAX_QUEUED_EVENTS: usize = 16 * 1024;
/// Payload bytes sent and not yet taken above which the session stops reading.
pub const MAX_QUEUED_BYTES: usize = 32 << 20;

/// What the UI has not taken yet, shared by both ends of one session's event channel.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    events: AtomicUsize,
    bytes: AtomicUsize,
    /// The session, waiting for the UI to catch up.
    waker: AtomicWaker,
}

/// The payload an event carries (what the queue holds besides the event itself).
fn weight(ev: &NetEvent) -> usize {
    match ev {
        NetEvent::Frame(f) => f.payload.len(),
        _ => 0,
    }
}

impl Backlog {
    fn sent(&self, ev: &NetEvent) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(weight(ev), Ordering::Relaxed);
    }

    fn taken(&self, evs: &[NetEvent]) {
        if evs.is_empty() {
            return;
        }
        let bytes = evs.iter().map(weight).sum();
        let events = self.events.fetch_sub(evs.len(), Ordering::Relaxed) - evs.len();
        let bytes = self.bytes.fetch_sub(bytes, Ordering::Relaxed) - bytes;
        if events <= MAX_QUEUED_EVENTS / 2 && bytes <= MAX_QUEUED_BYTES / 2 {
            self.waker.wake();
        }
    }

    fn over(&self) -> bool {
        self.events.load(Ordering::Relaxed) > MAX_QUEUED_EVENTS
            || self.bytes.load(Ordering::Relaxed) > MAX_QUEUED_BYTES
    }
}

/// The UI's end of a session's events: a channel receiver that tells the session what it
/// took (see the module docs). Dropping it is how the UI stops listening.
#[derive(Debug)]
pub struct Events {
    rx: UnboundedReceiver<NetEvent>,
    backlog: Arc<Backlog>,
}

impl Events {
    /// The next event; `None` once the task has ended and everything was taken.
    pub async fn recv(&mut self) -> Option<NetEvent> {
        let ev = self.rx.recv().await;
        if let Some(ev) = &ev {
            self.backlog.taken(std::slice::from_ref(ev));
        }
        ev
    }

    /// No event is waiting.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<NetEvent, TryRecvError> {
        let ev = self.rx.try_recv()?;
        self.backlog.taken(std::slice::from_ref(&ev));
        Ok(ev)
    }

    /// Up to `limit` events appended to `buf`, waiting for the first; 0 once ended.
    pub async fn recv_many(&mut self, buf: &mut Vec<NetEvent>, limit: usize) -> usize {
        let start = buf.len();
        let n = self.rx.recv_many(buf, limit).await;
        self.backlog.taken(&buf[start..]);
        n
    }

    /// [`Events::recv_many`] as a poll.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<NetEvent>,
        limit: usize,
    ) -> Poll<usize> {
        let start = buf.len();
        let got = self.rx.poll_recv_many(cx, buf, limit);
        if got.is_ready() {
            self.backlog.taken(&buf[start..]);
        }
        got
    }
}

/// A channel for one session's events: the task's sender and the UI's [`Events`].
pub(crate) fn channel() -> (UnboundedSender<NetEvent>, Arc<Backlog>, Events) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog::default());
    let events = Events {
        rx,
        backlog: backlog.clone(),
    };
    (tx, backlog, events)
}

/// Sends events to the UI and numbers frames (1, 2, 3, … for a new session) and connections
/// (each upgrade that got an answer starts the next one).
pub(crate) struct Out {
    tx: UnboundedSender<NetEvent>,
    backlog: Arc<Backlog>,
    /// The number of the next frame.
    next_seq: u64,
    /// The current connection's number (0 before the first upgrade).
    conn: u64,
    /// The files' redaction policy, applied to every event sent (see `record::redact`).
    masker: Masker,
}

/// `--log`: the client's lifecycle at info (states, handshakes, login outcomes, closes,
/// reconnects), frames at trace (numbers and sizes, never payloads); the event is already
/// masked, and no payload or server reply is written at info.
fn log_event(conn: u64, ev: &NetEvent) {
    use tracing::{debug, info, trace, warn};
    match ev {
        NetEvent::State(s) => match s {
            ConnState::Connecting => info!(conn, "connecting"),
            ConnState::LoggedIn => info!(conn, "logged in"),
            ConnState::Reconnecting {
                attempt,
                delay,
                reason,
                ..
            } => info!(
                conn,
                attempt,
                delay_ms = delay.as_millis() as u64,
                reason = %reason,
                "reconnecting"
            ),
            ConnState::Closed { code, reason } => {
                info!(conn, code = ?code, reason = %reason, "closed")
            }
            ConnState::Failed(e) => warn!(conn, kind = ?e.kind, error = %e.message, "failed"),
            other => debug!(conn, state = ?other, "state"),
        },
        NetEvent::Handshake(h) => info!(
            conn = h.conn,
            url = %h.url,
            response = %h.response.start_line,
            "handshake"
        ),
        NetEvent::Login(crate::model::LoginOutcome::Accepted { .. }) => {
            info!(conn, "login accepted")
        }
        NetEvent::Login(crate::model::LoginOutcome::Rejected { .. }) => {
            info!(conn, "login rejected")
        }
        NetEvent::Frame(f) => trace!(
            seq = f.seq,
            conn = f.conn,
            dir = ?f.dir,
            opcode = f.opcode.name(),
            len = f.len,
            "frame"
        ),
        NetEvent::Rtt(d) => debug!(conn, rtt_us = d.as_micros() as u64, "rtt"),
        NetEvent::Notice { text, .. } => info!(conn, notice = %text, "notice"),
        NetEvent::Ended => info!(conn, "session ended"),
    }
}

impl Out {
    /// Frames numbered from `first_seq`, connections after `conns_before`.
    pub fn new(
        tx: UnboundedSender<NetEvent>,
        backlog: Arc<Backlog>,
        first_seq: u64,
        conns_before: u64,
        masker: Masker,
    ) -> Self {
        Out {
            tx,
            backlog,
            next_seq: first_seq,
            conn: conns_before,
            masker,
        }
    }

    /// The policy events are masked with, to add secrets learnt later (a retried login's
    /// password, the environment's proxy).
    pub fn masker_mut(&mut self) -> &mut Masker {
        &mut self.masker
    }

    /// An upgrade got its answer: emit its handshake as the next connection's.
    pub fn handshake(&mut self, mut info: HandshakeInfo) {
        self.conn += 1;
        info.conn = self.conn;
        self.emit(NetEvent::Handshake(Box::new(info)));
    }

    /// Send one event, masked. A receiver that went away is not an error: the session then
    /// ends through its command channel.
    pub fn emit(&self, mut event: NetEvent) {
        self.masker.event(&mut event);
        log_event(self.conn, &event);
        self.backlog.sent(&event);
        let _ = self.tx.send(event);
    }

    /// The UI is behind (see the module docs): don't read more now.
    pub fn ui_behind(&self) -> bool {
        self.backlog.over()
    }

    /// Like [`Out::ui_behind`], and when it is, `cx` is woken once the UI has caught up.
    pub fn poll_ui_behind(&self, cx: &mut Context<'_>) -> bool {
        if !self.backlog.over() {
            return false;
        }
        self.backlog.waker.register(cx.waker());
        // It may have caught up between the check and the registration.
        self.backlog.over()
    }

    pub fn state(&self, state: ConnState) {
        self.emit(NetEvent::State(state));
    }

    /// Record a data or control frame whose payload is shown as is.
    pub fn frame(&mut self, dir: Direction, opcode: Opcode, payload: Bytes) {
        self.data_frame(dir, opcode, payload, None);
    }

    /// Record a message that crossed the wire compressed as `wire_len` bytes (if `Some`).
    pub fn data_frame(
        &mut self,
        dir: Direction,
        opcode: Opcode,
        payload: Bytes,
        wire_len: Option<usize>,
    ) {
        self.data_frame_from(dir, opcode, payload, wire_len, Origin::Wire);
    }

    /// Record a received data message as the frame layer saw it on the wire (compressed
    /// size, the frames it came in).
    pub fn received(&mut self, opcode: Opcode, payload: Bytes, wire: WireMsg) {
        let len = payload.len();
        let dir = Direction::ServerToClient;
        self.record(
            dir,
            opcode,
            len,
            payload,
            None,
            false,
            wire.compressed,
            Origin::Wire,
            wire.fragments,
        );
    }

    /// Record a data message wsdeck sent by itself (an `--auto-reply`): marked as such.
    pub fn auto_frame(&mut self, opcode: Opcode, payload: Bytes, wire_len: Option<usize>) {
        let dir = Direction::ClientToServer;
        self.data_frame_from(dir, opcode, payload, wire_len, Origin::Auto);
    }

    fn data_frame_from(
        &mut self,
        dir: Direction,
        opcode: Opcode,
        payload: Bytes,
        wire_len: Option<usize>,
        origin: Origin,
    ) {
        let len = payload.len();
        self.record(
            dir, opcode, len, payload, None, false, wire_len, origin, None,
        );
    }

    /// Record a close frame (`close` is `None` for one without a status code).
    pub fn close_frame(&mut self, dir: Direction, close: Option<CloseInfo>) {
        let (payload, len) = match &close {
            // On the wire: two bytes of code, then the reason.
            Some(c) => (Bytes::from(c.reason.clone()), 2 + c.reason.len()),
            None => (Bytes::new(), 0),
        };
        self.record(
            dir,
            Opcode::Close,
            len,
            payload,
            close,
            false,
            None,
            Origin::Wire,
            None,
        );
    }

    #[allow(clippy::too_many_arguments)] // one private constructor of the record
    fn record(
        &mut self,
        dir: Direction,
        opcode: Opcode,
        len: usize,
        payload: Bytes,
        close: Option<CloseInfo>,
        redacted: bool,
        wire_len: Option<usize>,
        origin: Origin,
        fragments: Option<std::sync::Arc<crate::model::Fragments>>,
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.emit(NetEvent::Frame(FrameRecord {
            seq,
            conn: self.conn.max(1),
            at: SystemTime::now(),
            dir,
            origin,
            opcode,
            len,
            payload,
            close,
            redacted,
            wire_len,
            fragments,
        }));
    }
}
