//! The network task: one task owns the socket of one session and talks to the UI only over
//! channels. Sending an event never waits: events go out on an unbounded channel that the UI
//! drains in batches (`recv_many`); when the UI falls behind, the task stops reading the
//! socket until it catches up ([`Events`]).
//!
//! Events come in the order things happened: `State(Connecting)`, `State(Handshaking)`,
//! `Handshake(..)`, the login states, every `Frame` both ways, and finally `State(Closed|Failed)`
//! followed by `Ended`.

mod certs;
mod connect;
mod events;
mod reconnect;
mod redirect;
mod refusal;
mod session;
pub(crate) mod tls;
mod via;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use events::{Events, MAX_QUEUED_BYTES, MAX_QUEUED_EVENTS};

use crate::model::NetCommand;
use crate::spec::ConnectSpec;

/// The UI's end of a running session.
pub struct SessionHandle {
    /// Commands into the session. Dropping it means the user quit: the task sends Close 1000,
    /// waits briefly for the reply and ends.
    pub commands: mpsc::UnboundedSender<NetCommand>,
    /// Everything that happens, in order; `NetEvent::Ended` is the last event.
    pub events: Events,
}

/// Spawn the task that owns the socket for one session (call inside a tokio runtime).
/// Its frames are numbered from 1.
pub fn spawn(spec: ConnectSpec) -> SessionHandle {
    spawn_continuing(spec, 1)
}

/// Like [`spawn`], numbering frames from `first_seq`: a reconnect continues the previous
/// session's numbering so sequence numbers are never reused.
pub fn spawn_continuing(spec: ConnectSpec, first_seq: u64) -> SessionHandle {
    spawn_numbered(spec, first_seq, 0)
}

/// Like [`spawn_continuing`], and numbering connections after `conns_before` (the
/// connections the source already had), so connection ids are never reused either.
pub fn spawn_numbered(spec: ConnectSpec, first_seq: u64, conns_before: u64) -> SessionHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, backlog, ev_rx) = events::channel();
    let masker = crate::record::redact::Masker::for_files(&spec);
    tokio::spawn(session::run(
        spec,
        cmd_rx,
        events::Out::new(ev_tx, backlog, first_seq, conns_before, masker),
    ));
    SessionHandle {
        commands: cmd_tx,
        events: ev_rx,
    }
}

/// tungstenite's limits: one frame may be as big as a message.
fn ws_config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

/// Longest message text kept in a `NetError` or a one-line report.
const MAX_LINE_CHARS: usize = 300;

/// Make text (possibly from the network) safe for a one-line message: line breaks become
/// spaces, everything a terminal could act on becomes a visible placeholder (the crate's one
/// sanitiser, [`crate::text::sanitize_line`]), and it is cut to a bounded length.
pub fn clean_line(s: &str) -> String {
    let mut one_line = String::with_capacity(s.len().min(MAX_LINE_CHARS * 4));
    for (n, c) in s.chars().enumerate() {
        if n == MAX_LINE_CHARS {
            break;
        }
        one_line.push(if matches!(c, '\r' | '\n') { ' ' } else { c });
    }
    let mut out = crate::text::sanitize_line(&one_line);
    if s.chars().nth(MAX_LINE_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// "10 s", "1.5 s", "250 ms".
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_line_makes_controls_visible_and_bounds_length() {
        assert_eq!(clean_line("a\x1b[2Jb\r\nc\u{202e}d"), "a␛[2Jb  c\\u{202e}d");
        assert_eq!(clean_line("x\u{7f}\u{9b}"), "x␡\\u{9b}");
        assert_eq!(clean_line("short"), "short");
        let long = "é".repeat(1000);
        let cleaned = clean_line(&long);
        assert_eq!(cleaned.chars().count(), MAX_LINE_CHARS + 1);
        assert!(cleaned.ends_with('…'));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
    }
}
