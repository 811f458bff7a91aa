//! Below the WebSocket protocol proper: what the client, the demo server and the proxy share
//! about the bytes on the wire.

pub mod deflate;
pub mod deflate_stream;
mod frames;
pub mod stream;

use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};

/// What a read error means for the connection — the one mapping our client and our server
/// share: the Close code and reason to answer with, or `None` when the connection is simply
/// gone (no Close can be sent).
pub fn close_for_read_error(e: &WsError) -> Option<(u16, &'static str)> {
    match e {
        WsError::Io(io) => match deflate::InflateError::from_io(io)? {
            deflate::InflateError::TooBig { .. } => Some((1009, "message too big")),
            deflate::InflateError::Corrupt => Some((1007, "invalid compressed data")),
        },
        WsError::Capacity(_) => Some((1009, "message too big")),
        WsError::Utf8(_) => Some((1007, "invalid UTF-8")),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(_) | WsError::AttackAttempt => Some((1002, "protocol error")),
        _ => None,
    }
}
