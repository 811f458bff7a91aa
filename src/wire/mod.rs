//! Below the WebSocket protocol proper: what the client, the demo server and the proxy share
//! about the bytes on the wire.

pub mod deflate;
pub mod deflate_stream;
pub mod stream;
