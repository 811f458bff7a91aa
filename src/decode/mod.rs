//! Payload decoders for the monitor: MessagePack, CBOR and protobuf (no schema) as trees,
//! MQTT packets and socket.io/Engine.IO packets by name, and base64 strings inside JSON
//! decoded. Each turns a payload into a [`Tree`] of sanitised lines once (when the detail
//! pane opens a frame); the table's one-line summaries read a bounded prefix only.
//!
//! Which decoder applies is the user's choice (`v` in the monitor) except where the
//! connection says it: the `mqtt` subprotocol, or a socket.io URL ([`implied`]). Nothing
//! else is guessed from the bytes: most byte strings are valid MessagePack or CBOR.

pub mod cbor;
pub mod json;
pub mod mqtt;
pub mod msgpack;
pub mod protobuf;
pub mod socketio;
pub mod tree;

pub use tree::{Kind, Node, Tree};

/// Messages larger than this are not decoded as a tree (the pane says so; hex still works).
pub const MAX_INPUT: usize = 4 << 20;

/// A decoded view of a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    MsgPack,
    Cbor,
    Protobuf,
    Mqtt,
    SocketIo,
    /// JSON with base64 strings decoded beneath them.
    Base64Json,
}

impl Format {
    /// The views `v` steps through for a binary message, in order.
    pub const BINARY: &[Format] = &[
        Format::MsgPack,
        Format::Cbor,
        Format::Protobuf,
        Format::Mqtt,
    ];
    /// The views `v` steps through for a text message, in order.
    pub const TEXT: &[Format] = &[Format::Base64Json, Format::SocketIo];

    /// How the pane's title names it.
    pub fn name(self) -> &'static str {
        match self {
            Format::MsgPack => "MessagePack",
            Format::Cbor => "CBOR",
            Format::Protobuf => "protobuf, no schema",
            Format::Mqtt => "MQTT",
            Format::SocketIo => "socket.io",
            Format::Base64Json => "JSON, base64 decoded",
        }
    }

    /// Does it read text messages (else binary ones)?
    pub fn reads_text(self) -> bool {
        Format::TEXT.contains(&self)
    }

    /// The payload as a tree, or why it is not one.
    pub fn tree(self, payload: &[u8]) -> Result<Tree, Undecodable> {
        self.tree_in(payload, None)
    }

    /// As [`Format::tree`], on a connection whose MQTT CONNECT named `mqtt_level`.
    pub fn tree_in(self, payload: &[u8], mqtt_level: Option<u8>) -> Result<Tree, Undecodable> {
        if payload.len() > MAX_INPUT {
            return Err(format!(
                "this view decodes messages up to {} (this one is {})",
                crate::fmt::bytes(MAX_INPUT as f64),
                crate::fmt::bytes(payload.len() as f64)
            )
            .into());
        }
        let text = || std::str::from_utf8(payload).map_err(|_| "it is not UTF-8 text".to_string());
        match self {
            Format::MsgPack => msgpack::decode(payload),
            Format::Cbor => cbor::decode(payload),
            Format::Protobuf => protobuf::decode(payload),
            Format::Mqtt => mqtt::decode(payload, mqtt_level),
            Format::SocketIo => socketio::decode(text()?),
            Format::Base64Json => json::decode(text()?),
        }
    }
}

/// Why a payload does not decode as the chosen format: a phrase the detail view shows after
/// "does not decode as …:" (e.g. "it is not UTF-8 text").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Undecodable(pub String);

impl From<String> for Undecodable {
    fn from(s: String) -> Undecodable {
        Undecodable(s)
    }
}

impl From<&str> for Undecodable {
    fn from(s: &str) -> Undecodable {
        Undecodable(s.to_string())
    }
}

/// The decoder a connection implies: MQTT when the server agreed to the `mqtt` subprotocol
/// (or `mqttv3.1`), socket.io when the URL is socket.io's (`/socket.io/…EIO=`).
pub fn implied(subprotocol: Option<&str>, url: &str) -> Option<Format> {
    if subprotocol
        .is_some_and(|p| p.eq_ignore_ascii_case("mqtt") || p.eq_ignore_ascii_case("mqttv3.1"))
    {
        return Some(Format::Mqtt);
    }
    (url.contains("/socket.io/") && url.contains("EIO=")).then_some(Format::SocketIo)
}

/// The table's one-line summary of a payload under the implied decoder (MQTT and
/// socket.io only; the others have no cheap summary), unsanitised. `mqtt_level`: the level
/// the connection's MQTT CONNECT named, if known.
pub fn summary(format: Format, payload: &[u8], mqtt_level: Option<u8>) -> Option<String> {
    match format {
        Format::Mqtt => mqtt::summary(payload, mqtt_level),
        Format::SocketIo => {
            let head = &payload[..payload.len().min(600)];
            let text = match std::str::from_utf8(head) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
            };
            socketio::summary(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_implies_mqtt_or_socketio_and_nothing_else() {
        assert_eq!(implied(Some("mqtt"), "ws://h/"), Some(Format::Mqtt));
        assert_eq!(
            implied(None, "ws://h/socket.io/?EIO=4&transport=websocket"),
            Some(Format::SocketIo)
        );
        assert_eq!(implied(Some("chat"), "ws://h/mqtt"), None);
        assert_eq!(implied(None, "ws://h/"), None);
    }

    #[test]
    fn big_messages_are_refused_with_a_reason() {
        let e = Format::MsgPack
            .tree(&vec![0xc0; MAX_INPUT + 1])
            .unwrap_err()
            .to_string();
        assert!(e.contains("up to 4.0 MiB"), "{e}");
        assert!(
            Format::SocketIo
                .tree(&[0xff])
                .unwrap_err()
                .0
                .contains("not UTF-8")
        );
    }
}
