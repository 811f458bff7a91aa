//! The outgoing side of the network task: numbered frame records and state events.

use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use crate::model::{CloseInfo, ConnState, Direction, FrameRecord, NetEvent, Opcode};

/// Sends events to the UI and numbers frames (1, 2, 3, … for a new session).
pub(crate) struct Out {
    tx: UnboundedSender<NetEvent>,
    /// The number of the next frame.
    next_seq: u64,
}

impl Out {
    pub fn new(tx: UnboundedSender<NetEvent>, first_seq: u64) -> Self {
        Out {
            tx,
            next_seq: first_seq,
        }
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
        let len = payload.len();
        self.record(dir, opcode, len, payload, None, false);
    }

    /// Record a close frame (`close` is `None` for one without a status code).
    pub fn close_frame(&mut self, dir: Direction, close: Option<CloseInfo>) {
        let (payload, len) = match &close {
            // On the wire: two bytes of code, then the reason.
            Some(c) => (Bytes::from(c.reason.clone()), 2 + c.reason.len()),
            None => (Bytes::new(), 0),
        };
        self.record(dir, Opcode::Close, len, payload, close, false);
    }

    /// Record a frame whose shown payload differs from what went on the wire.
    pub fn redacted_text(&mut self, len: usize, shown: String) {
        self.record(
            Direction::Send,
            Opcode::Text,
            len,
            Bytes::from(shown),
            None,
            true,
        );
    }

    fn record(
        &mut self,
        dir: Direction,
        opcode: Opcode,
        len: usize,
        payload: Bytes,
        close: Option<CloseInfo>,
        redacted: bool,
    ) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.emit(NetEvent::Frame(FrameRecord {
            seq,
            at: SystemTime::now(),
            dir,
            opcode,
            len,
            payload,
            close,
            redacted,
        }));
    }
}
