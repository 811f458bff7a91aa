//! WebSocket frames as they cross the proxy: parsed just enough to log and steer them, and
//! passed on byte for byte (mask, fragmentation and all) unless the user changes them.

use std::hash::{BuildHasher, Hasher};

/// A parsed frame header; the payload follows it in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub fin: bool,
    /// RSV1..3 bits (`0x70` of the first byte).
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// Bytes of the header itself (2 to 14).
    pub header_len: usize,
    pub payload_len: usize,
}

impl Header {
    /// Header plus payload.
    pub fn total_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

pub(crate) const OP_CONTINUATION: u8 = 0;
pub(crate) const OP_TEXT: u8 = 1;
pub(crate) const OP_BINARY: u8 = 2;
pub(crate) const OP_CLOSE: u8 = 8;
pub(crate) const OP_PING: u8 = 9;
pub(crate) const OP_PONG: u8 = 10;

/// Why a frame cannot be relayed; each maps to the close code sent back to its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// 1002: a broken frame (unknown opcode, wrong masking, reserved bits, bad control frame).
    Protocol(&'static str),
    /// 1009: a frame or message over the limit.
    TooBig { limit: usize },
    /// 1007: a message whose data cannot be read (compressed data that does not inflate).
    Data(&'static str),
}

impl FrameError {
    pub fn close_code(&self) -> u16 {
        match self {
            FrameError::Protocol(_) => 1002,
            FrameError::TooBig { .. } => 1009,
            FrameError::Data(_) => 1007,
        }
    }
    /// The reason of the Close the sender gets (with [`Self::close_code`]).
    pub fn reason(&self) -> String {
        match self {
            FrameError::Protocol(why) => format!("protocol error: {why}"),
            FrameError::TooBig { limit } => format!("message over the proxy's {limit}-byte limit"),
            FrameError::Data(why) => format!("invalid data: {why}"),
        }
    }

    /// The reason of the 1001 the other peer gets: what the `sender` ("client", "server")
    /// did, no more — a message over the limit broke only the proxy's rule, not the
    /// protocol. At most 123 bytes, as a Close reason must be.
    pub fn reason_for_peer(&self, sender: &str) -> String {
        match self {
            FrameError::Protocol(why) => {
                format!("wsdeck: the {sender} broke the WebSocket protocol: {why}")
            }
            FrameError::TooBig { limit } => {
                format!("wsdeck: the {sender} sent a message over the proxy's {limit}-byte limit")
            }
            FrameError::Data(why) => {
                format!("wsdeck: the {sender} sent a message that cannot be read: {why}")
            }
        }
    }
}

/// RSV1: the message is compressed (permessage-deflate), set on its first frame only.
pub(crate) const RSV1: u8 = 0x40;

/// Parse the frame header at the start of `buf`. `Ok(None)`: not all of the header is there
/// yet. `masked` says whether this direction's frames must be masked (client to server) or
/// must not be (server to client); `max` bounds the payload; `deflate`: the sender's leg
/// agreed to permessage-deflate, so RSV1 may start a text or binary message.
pub(crate) fn parse_header(
    buf: &[u8],
    masked: bool,
    max: usize,
    deflate: bool,
) -> Result<Option<Header>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let fin = b0 & 0x80 != 0;
    let rsv = b0 & 0x70;
    let opcode = b0 & 0x0f;
    let has_mask = b1 & 0x80 != 0;
    if !matches!(
        opcode,
        OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(FrameError::Protocol("unknown opcode"));
    }
    if rsv & !RSV1 != 0 || (rsv == RSV1 && !deflate) {
        return Err(FrameError::Protocol(
            "reserved bits set without an extension",
        ));
    }
    if rsv == RSV1 && !matches!(opcode, OP_TEXT | OP_BINARY) {
        return Err(FrameError::Protocol(
            "a control or continuation frame marked compressed",
        ));
    }
    if has_mask != masked {
        return Err(FrameError::Protocol(if masked {
            "a client frame was not masked"
        } else {
            "a server frame was masked"
        }));
    }
    let (len, mut at) = match b1 & 0x7f {
        126 => {
            let Some(b) = buf.get(2..4) else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([b[0], b[1]])), 4)
        }
        127 => {
            let Some(b) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            (u64::from_be_bytes(a), 10)
        }
        n => (u64::from(n), 2),
    };
    if opcode & 0x8 != 0 && (!fin || len > 125) {
        return Err(FrameError::Protocol(
            "a control frame was fragmented or over 125 bytes",
        ));
    }
    let payload_len = match usize::try_from(len) {
        // Control frames are at most 125 bytes (checked above), whatever the limit.
        // Never so long that header plus payload overflows.
        Ok(n) if (n <= max && n <= usize::MAX - 14) || opcode & 0x8 != 0 => n,
        _ => return Err(FrameError::TooBig { limit: max }),
    };
    let mask = if has_mask {
        let Some(m) = buf.get(at..at + 4) else {
            return Ok(None);
        };
        at += 4;
        Some([m[0], m[1], m[2], m[3]])
    } else {
        None
    };
    Ok(Some(Header {
        fin,
        rsv,
        opcode,
        mask,
        header_len: at,
        payload_len,
    }))
}

/// XOR `data` with the mask, starting at byte `offset` of the payload.
pub(crate) fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[(i + offset) & 3];
    }
}

/// Append one whole frame (FIN set) to `out`, masked with a fresh key when `masked`.
pub(crate) fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8], masked: bool) {
    encode_first(out, 0x80 | (opcode & 0x0f), payload, masked);
}

/// Append one whole compressed message (FIN and RSV1 set) to `out`.
pub(crate) fn encode_compressed(out: &mut Vec<u8>, opcode: u8, payload: &[u8], masked: bool) {
    encode_first(out, 0x80 | RSV1 | (opcode & 0x0f), payload, masked);
}

fn encode_first(out: &mut Vec<u8>, first: u8, payload: &[u8], masked: bool) {
    out.push(first);
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let mask = random_mask();
        out.extend_from_slice(&mask);
        let start = out.len();
        out.extend_from_slice(payload);
        apply_mask(&mut out[start..], mask, 0);
    } else {
        out.extend_from_slice(payload);
    }
}

/// The payload of a close frame: code (big endian) and reason; none for `None`.
pub(crate) fn close_payload(code: Option<u16>, reason: &str) -> Vec<u8> {
    let Some(code) = code else {
        return Vec::new();
    };
    let mut p = code.to_be_bytes().to_vec();
    // A control frame carries at most 125 bytes: cut the reason on a character boundary.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    p.extend_from_slice(&reason.as_bytes()[..end]);
    p
}

/// Code and reason of a close payload; `None` for an empty one. A malformed one (one byte,
/// or a reason that is not UTF-8) reads as 1002 with the bytes shown lossily.
pub(crate) fn parse_close(payload: &[u8]) -> Option<(u16, String)> {
    match payload {
        [] => None,
        [_] => Some((1002, String::new())),
        [a, b, rest @ ..] => Some((
            u16::from_be_bytes([*a, *b]),
            String::from_utf8_lossy(rest).into_owned(),
        )),
    }
}

/// A masking key no script on the page can predict: std's per-instance random hash keys.
fn random_mask() -> [u8; 4] {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    let v = h.finish();
    [(v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_frames_parse_back_masked_or_not() {
        for len in [0usize, 5, 125, 126, 65_535, 65_536] {
            let payload = vec![b'x'; len];
            for masked in [false, true] {
                let mut out = Vec::new();
                encode(&mut out, OP_BINARY, &payload, masked);
                let h = parse_header(&out, masked, 1 << 20, false).unwrap().unwrap();
                assert_eq!((h.fin, h.opcode, h.payload_len), (true, OP_BINARY, len));
                assert_eq!(h.total_len(), out.len());
                let mut body = out[h.header_len..].to_vec();
                if let Some(m) = h.mask {
                    apply_mask(&mut body, m, 0);
                }
                assert_eq!(body, payload);
            }
        }
    }

    #[test]
    fn partial_headers_wait_and_broken_ones_are_refused() {
        let mut out = Vec::new();
        encode(&mut out, OP_TEXT, &[b'a'; 300], true);
        for cut in 0..8 {
            assert_eq!(
                parse_header(&out[..cut], true, 1 << 20, false),
                Ok(None),
                "{cut}"
            );
        }
        assert_eq!(
            parse_header(&out, false, 1 << 20, false),
            Err(FrameError::Protocol("a server frame was masked"))
        );
        assert_eq!(
            parse_header(&out, true, 100, false),
            Err(FrameError::TooBig { limit: 100 })
        );
        assert!(
            parse_header(&[0x83, 0x00], false, 10, false).is_err(),
            "opcode 3"
        );
        assert!(
            parse_header(&[0xc1, 0x00], false, 10, false).is_err(),
            "rsv1"
        );
        assert!(
            parse_header(&[0xc1, 0x00], false, 10, true).is_ok(),
            "deflate"
        );
        assert!(
            parse_header(&[0xa1, 0x00], false, 10, true).is_err(),
            "rsv2"
        );
        assert!(
            parse_header(&[0xc9, 0x00], false, 10, true).is_err(),
            "ping"
        );
        assert!(
            parse_header(&[0xc0, 0x00], false, 10, true).is_err(),
            "cont."
        );
        assert!(
            parse_header(&[0x09, 0x00], false, 10, false).is_err(),
            "fragmented ping"
        );
        assert!(parse_header(&[0x89, 126, 0, 200], false, 1000, false).is_err());
        let close = [0x88, 100];
        assert!(
            matches!(parse_header(&close, false, 10, false), Ok(Some(_))),
            "over the limit"
        );
        // A length that does not fit in memory is over any limit, never an overflow.
        let huge = [0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            parse_header(&huge, false, usize::MAX, false),
            Err(FrameError::TooBig { limit: usize::MAX })
        );
    }

    #[test]
    fn close_reasons_say_what_the_sender_did_within_123_bytes() {
        let big = FrameError::TooBig { limit: 1000 };
        assert_eq!(big.reason(), "message over the proxy's 1000-byte limit");
        assert_eq!(
            big.reason_for_peer("client"),
            "wsdeck: the client sent a message over the proxy's 1000-byte limit"
        );
        assert_eq!(
            FrameError::Protocol("a client frame was not masked").reason_for_peer("client"),
            "wsdeck: the client broke the WebSocket protocol: a client frame was not masked"
        );
        let every = [
            FrameError::TooBig { limit: usize::MAX },
            FrameError::Protocol("a control or continuation frame marked compressed"),
            FrameError::Protocol("a control frame was fragmented or over 125 bytes"),
            FrameError::Data("a compressed message is not valid DEFLATE"),
        ];
        for e in every {
            for who in ["client", "server"] {
                let peer = e.reason_for_peer(who);
                assert!(peer.len() <= 123, "{} bytes: {peer}", peer.len());
                assert!(!peer.contains("protocol") || matches!(e, FrameError::Protocol(_)));
            }
            assert!(e.reason().len() <= 123, "{}", e.reason());
        }
    }

    #[test]
    fn close_payloads_round_trip_and_reasons_are_cut_on_characters() {
        assert_eq!(
            parse_close(&close_payload(Some(4000), "bye")),
            Some((4000, "bye".into()))
        );
        assert_eq!(close_payload(None, "ignored"), Vec::<u8>::new());
        assert_eq!(parse_close(&[]), None);
        assert_eq!(parse_close(&[3]), Some((1002, String::new())));
        let long = "é".repeat(100);
        let p = close_payload(Some(1000), &long);
        assert!(p.len() <= 125);
        assert!(std::str::from_utf8(&p[2..]).is_ok());
    }
}
