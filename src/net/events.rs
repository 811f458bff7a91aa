//! The outgoing side of the network task: numbered frame records and state events.

use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use crate::model::{
    CloseInfo, ConnState, Direction, FrameRecord, HandshakeInfo, NetEvent, Opcode, Origin,
};

/// Sends events to the UI and numbers frames (1, 2, 3, … for a new session) and connections
/// (each upgrade that got an answer starts the next one).
pub(crate) struct Out {
    tx: UnboundedSender<NetEvent>,
    /// The number of the next frame.
    next_seq: u64,
    /// The current connection's number (0 before the first upgrade).
    conn: u64,
}

impl Out {
    /// Frames numbered from `first_seq`, connections after `conns_before`.
    pub fn new(tx: UnboundedSender<NetEvent>, first_seq: u64, conns_before: u64) -> Self {
        Out {
            tx,
            next_seq: first_seq,
            conn: conns_before,
        }
    }

    /// An upgrade got its answer: emit its handshake as the next connection's.
    pub fn handshake(&mut self, mut info: HandshakeInfo) {
        self.conn += 1;
        info.conn = self.conn;
        self.emit(NetEvent::Handshake(info));
    }

    /// Send one event. A receiver that went away is not an error: the session then ends
    /// through its command channel.
    pub fn emit(&self, event: NetEvent) {
        let _ = self.tx.send(event);
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
        let len = payload.len();
        self.record(dir, opcode, len, payload, None, false, wire_len);
    }

    /// Record a close frame (`close` is `None` for one without a status code).
    pub fn close_frame(&mut self, dir: Direction, close: Option<CloseInfo>) {
        let (payload, len) = match &close {
            // On the wire: two bytes of code, then the reason.
            Some(c) => (Bytes::from(c.reason.clone()), 2 + c.reason.len()),
            None => (Bytes::new(), 0),
        };
        self.record(dir, Opcode::Close, len, payload, close, false, None);
    }

    /// Record a frame whose shown payload differs from what went on the wire.
    pub fn redacted_text(&mut self, len: usize, shown: String, wire_len: Option<usize>) {
        self.record(
            Direction::ClientToServer,
            Opcode::Text,
            len,
            Bytes::from(shown),
            None,
            true,
            wire_len,
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
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.emit(NetEvent::Frame(FrameRecord {
            seq,
            conn: self.conn.max(1),
            at: SystemTime::now(),
            dir,
            origin: Origin::Wire,
            opcode,
            len,
            payload,
            close,
            redacted,
            wire_len,
        }));
    }
}
