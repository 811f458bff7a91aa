//! permessage-deflate through the proxy. Each leg negotiates its own compression: wsdeck
//! answers the client as a server would and offers the server what wsdeck's client offers.
//! Passing the compressed bytes through end to end would break both peers' compression
//! contexts (kept per connection) as soon as one message is edited, dropped or injected, so
//! a compressed message is inflated as it arrives (logged and held inflated, its compressed
//! size in `wire_len`) and compressed again by the other leg's compressor in the order
//! messages reach that leg. Messages a peer sends uncompressed pass as they are: they touch
//! neither context.

use tokio_tungstenite::tungstenite::protocol::Role;

use super::frame::{self, FrameError};
use super::http::Request;
use crate::model::Direction;
use crate::wire::deflate::{self, Deflater, InflateError, Inflater, Offer, Params, ServerPolicy};

/// Every `Sec-WebSocket-Extensions` line of the client's request.
fn offers(req: &Request) -> Vec<&str> {
    req.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// What wsdeck offers the server: its own client offer, when the client offered
/// permessage-deflate (a client that did not gets no compression on either leg).
pub(crate) fn server_offer(req: &Request) -> Option<Offer> {
    deflate::negotiate(&offers(req), &ServerPolicy::default()).map(|_| Offer::default())
}

/// wsdeck's answer to the client's offer: compression only when the server agreed to it on
/// its leg, with the server's context-takeover choices passed on (a server that keeps no
/// window between messages gets a client leg that keeps none either).
pub(crate) fn client_answer(req: &Request, server: Option<&Params>) -> Option<(Params, String)> {
    let s = server?;
    let policy = ServerPolicy {
        server_no_context_takeover: s.server_no_context_takeover,
        client_no_context_takeover: s.client_no_context_takeover,
    };
    deflate::negotiate(&offers(req), &policy)
}

/// The compression state of one direction: inflating what its source sends and compressing
/// what goes to its destination. Both are made on their first message.
pub(crate) struct Codec {
    inflate: Option<Inflater>,
    deflate: Option<Deflater>,
}

impl Codec {
    /// For the pump of `dir`, given what each leg agreed to (`None`: not compressed).
    pub fn new(dir: Direction, client_leg: Option<&Params>, server_leg: Option<&Params>) -> Self {
        // On the client leg wsdeck is the server; on the server leg, the client.
        let (src, src_role, dst, dst_role) = match dir {
            Direction::ClientToServer => (client_leg, Role::Server, server_leg, Role::Client),
            Direction::ServerToClient => (server_leg, Role::Client, client_leg, Role::Server),
        };
        Codec {
            inflate: src.map(|p| Inflater::new(p, src_role)),
            deflate: dst.map(|p| Deflater::new(p, dst_role)),
        }
    }

    /// The source's leg agreed to compression (RSV1 is allowed on its messages).
    pub fn source_compresses(&self) -> bool {
        self.inflate.is_some()
    }

    /// Inflate one whole compressed message, at most `limit` bytes.
    pub fn inflate(&mut self, compressed: &[u8], limit: usize) -> Result<Vec<u8>, FrameError> {
        let Some(inf) = self.inflate.as_mut() else {
            return Err(FrameError::Protocol(
                "reserved bits set without an extension",
            ));
        };
        inf.message(compressed, limit).map_err(|e| match e {
            InflateError::TooBig { limit } => FrameError::TooBig { limit },
            InflateError::Corrupt => FrameError::Data("a compressed message is not valid DEFLATE"),
        })
    }

    /// Append one whole data message for the destination to `out`: compressed (RSV1) when
    /// its leg agreed to compression. The compressed payload size, if it was compressed.
    pub fn encode(
        &mut self,
        out: &mut Vec<u8>,
        opcode: u8,
        payload: &[u8],
        masked: bool,
    ) -> Option<usize> {
        match self.deflate.as_mut().and_then(|d| d.compress(payload)) {
            Some(c) => {
                frame::encode_compressed(out, opcode, &c, masked);
                Some(c.len())
            }
            None => {
                frame::encode(out, opcode, payload, masked);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ext: &[&str]) -> Request {
        Request {
            method: "GET".into(),
            target: "/".into(),
            headers: ext
                .iter()
                .map(|v| ("Sec-WebSocket-Extensions".to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn each_leg_negotiates_and_the_client_leg_follows_the_servers_choice() {
        let browser = req(&["permessage-deflate; client_max_window_bits"]);
        assert_eq!(server_offer(&browser), Some(Offer::default()));
        assert_eq!(server_offer(&req(&[])), None, "no offer, no compression");
        assert_eq!(server_offer(&req(&["x-webkit-deflate-frame"])), None);
        let server = Params {
            server_no_context_takeover: true,
            ..Params::default()
        };
        let (p, header) = client_answer(&browser, Some(&server)).unwrap();
        assert!(p.server_no_context_takeover && !p.client_no_context_takeover);
        assert_eq!(header, "permessage-deflate; server_no_context_takeover");
        assert_eq!(client_answer(&browser, None), None, "the server declined");
    }

    #[test]
    fn a_message_compressed_for_one_leg_inflates_on_the_other_and_contexts_stay_in_step() {
        let kept = Params::default();
        // Client → wsdeck (compressed by a "client"), wsdeck → server (compressed by us).
        let mut client = Deflater::new(&kept, Role::Client);
        let mut c2s = Codec::new(Direction::ClientToServer, Some(&kept), Some(&kept));
        let mut server = Inflater::new(&kept, Role::Server);
        assert!(c2s.source_compresses());
        for text in [
            "hello hello hello",
            "hello again hello",
            "dropped",
            "last hello",
        ] {
            let on_wire = client.compress(text.as_bytes()).unwrap();
            let inflated = c2s.inflate(&on_wire, 1 << 20).unwrap();
            assert_eq!(inflated, text.as_bytes());
            if text == "dropped" {
                // Never reaches the server: its context must not have it either.
                continue;
            }
            let mut out = Vec::new();
            let n = c2s
                .encode(&mut out, frame::OP_TEXT, &inflated, true)
                .unwrap();
            let h = frame::parse_header(&out, true, 1 << 20, true)
                .unwrap()
                .unwrap();
            assert_eq!((h.rsv, h.payload_len), (frame::RSV1, n));
            let mut body = out[h.header_len..].to_vec();
            frame::apply_mask(&mut body, h.mask.unwrap(), 0);
            assert_eq!(server.message(&body, 1 << 20).unwrap(), text.as_bytes());
        }
        assert_eq!(
            c2s.inflate(b"\xff\xff\xff", 100),
            Err(FrameError::Data(
                "a compressed message is not valid DEFLATE"
            ))
        );
        let mut plain = Codec::new(Direction::ServerToClient, None, None);
        let mut out = Vec::new();
        assert_eq!(plain.encode(&mut out, frame::OP_TEXT, b"hi", false), None);
        assert_eq!(out, b"\x81\x02hi");
    }
}
