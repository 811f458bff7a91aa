//! The chat pane: the message history and the input box.

use crate::model::Opcode;
use crate::record::FrameLog;

use super::{COPY_MAX_BYTES, ChatGeometry, ChatInput, History, host_of};

#[derive(Default)]
pub struct ChatPane {
    pub(super) input: ChatInput,
    pub(super) history: History,
    /// The chat view's size, from the last draw (and resizes), for paging.
    pub(super) geometry: ChatGeometry,
}

impl ChatPane {
    /// Empty the history; `url` is the session's, whose host is the sender shown.
    pub fn clear(&mut self, url: Option<&str>) {
        self.history = History::new();
        if let Some(url) = url {
            self.history.set_peer(&host_of(url));
        }
    }

    /// The message at the bottom of the history view: its full payload from the log's store
    /// (`None` when the store no longer keeps it).
    pub fn last_message_clip(&self, log: &FrameLog) -> Option<(String, usize, &'static str)> {
        let store = log.store();
        let window = self.history.window(&self.geometry, store);
        let abs = window
            .items
            .iter()
            .rev()
            .find_map(|it| self.history.get(it.index, store)?.frame)?;
        let v = log.frame(abs)?;
        Some(clip_payload(v.opcode, v.payload, None))
    }
}

/// What copying a payload puts on the clipboard: (text, length of the full text, what it is).
/// Text frames as text, binary as hex; only about [`COPY_MAX_BYTES`] are rendered.
pub(super) fn clip_payload(
    opcode: Opcode,
    payload: &[u8],
    close_code: Option<u16>,
) -> (String, usize, &'static str) {
    let text =
        |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(COPY_MAX_BYTES + 4)]).into_owned();
    let hex = |b: &[u8]| {
        let s = crate::fmt::hex(&b[..b.len().min(COPY_MAX_BYTES / 2)]);
        (s, b.len() * 2, "hex")
    };
    let printable = std::str::from_utf8(payload).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    });
    match opcode {
        Opcode::Text => (text(payload), payload.len(), "text"),
        Opcode::Close => {
            let reason = String::from_utf8_lossy(payload);
            let s = match close_code {
                Some(c) if reason.is_empty() => c.to_string(),
                Some(c) => format!("{c} {reason}"),
                None => String::new(),
            };
            let n = s.len();
            (s, n, "close code and reason")
        }
        Opcode::Ping | Opcode::Pong if printable => (text(payload), payload.len(), "text"),
        Opcode::Binary | Opcode::Ping | Opcode::Pong => hex(payload),
    }
}
