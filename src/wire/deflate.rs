//! permessage-deflate (RFC 7692): negotiating it in the upgrade, and compressing and inflating
//! one message at a time with the agreed window and context-takeover rules.
//!
//! tungstenite has no extension hook, so the pieces are used around it:
//! - the client offers [`Offer::header_value`] and checks the 101 with [`Offer::accept`];
//!   a server answers an offer with [`negotiate`];
//! - incoming compressed frames are inflated beneath tungstenite by
//!   [`super::deflate_stream::DeflateStream`], bounded while inflating by the message limit;
//! - outgoing messages go through [`Deflater::message`], which turns a text or binary message
//!   into one RSV1 frame that tungstenite sends as it is.

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// The extension's token in `Sec-WebSocket-Extensions`.
pub const NAME: &str = "permessage-deflate";
/// The four bytes a sync flush ends with: left off on the wire, put back before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Largest window (and the one used when no `*_max_window_bits` is agreed).
const MAX_BITS: u8 = 15;
/// Smallest window the compressor can honour; with a smaller agreed window we send messages
/// uncompressed (RFC 7692 lets an endpoint leave any message uncompressed).
const MIN_COMPRESS_BITS: u8 = 9;

/// What both ends agreed to in the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params {
    /// The server starts each message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts each message with an empty window.
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window (as a power of two, 8..=15) the server compresses with.
    pub server_max_window_bits: Option<u8>,
    /// Largest LZ77 window the client compresses with.
    pub client_max_window_bits: Option<u8>,
}

impl Params {
    /// The response header value: `permessage-deflate; server_no_context_takeover; …`.
    pub fn header_value(&self) -> String {
        let mut v = NAME.to_string();
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            v.push_str(&format!("; server_max_window_bits={b}"));
        }
        if let Some(b) = self.client_max_window_bits {
            v.push_str(&format!("; client_max_window_bits={b}"));
        }
        v
    }

    /// One line for people: `permessage-deflate (client window 2^10, server no context takeover)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = self.client_max_window_bits {
            parts.push(format!("client window 2^{b}"));
        }
        if let Some(b) = self.server_max_window_bits {
            parts.push(format!("server window 2^{b}"));
        }
        if self.client_no_context_takeover {
            parts.push("client no context takeover".to_string());
        }
        if self.server_no_context_takeover {
            parts.push("server no context takeover".to_string());
        }
        if parts.is_empty() {
            NAME.to_string()
        } else {
            format!("{NAME} ({})", parts.join(", "))
        }
    }

    /// The no-context-takeover flag and window of the side playing `role`.
    fn side(&self, role: Role) -> (bool, u8) {
        match role {
            Role::Client => (
                self.client_no_context_takeover,
                self.client_max_window_bits.unwrap_or(MAX_BITS),
            ),
            Role::Server => (
                self.server_no_context_takeover,
                self.server_max_window_bits.unwrap_or(MAX_BITS),
            ),
        }
    }
}

/// What a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    /// `Some(None)`: the bare parameter (the server may pick any client window);
    /// `Some(Some(n))`: at most `n`; `None`: the server may not limit the client's window.
    pub client_max_window_bits: Option<Option<u8>>,
}

impl Default for Offer {
    /// What browsers send: `permessage-deflate; client_max_window_bits`.
    fn default() -> Self {
        Offer {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: Some(None),
        }
    }
}

impl Offer {
    /// The request header value.
    pub fn header_value(&self) -> String {
        let mut v = NAME.to_string();
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            v.push_str(&format!("; server_max_window_bits={b}"));
        }
        match self.client_max_window_bits {
            Some(Some(b)) => v.push_str(&format!("; client_max_window_bits={b}")),
            Some(None) => v.push_str("; client_max_window_bits"),
            None => {}
        }
        v
    }

    /// Check the server's `Sec-WebSocket-Extensions` answer (every header line of it) against
    /// this offer (`None`: nothing was offered). No header means no compression.
    pub fn accept(
        offer: Option<&Offer>,
        values: &[&str],
    ) -> Result<Option<Params>, ExtensionError> {
        let answers = parse_header(values)?;
        let Some(first) = answers.first() else {
            return Ok(None);
        };
        let Some(offer) = offer else {
            return Err(ExtensionError(format!(
                "the server turned on the extension {:?}, which wsdeck did not ask for \
                 (RFC 6455 §4.1); the connection was dropped",
                first.name
            )));
        };
        if let Some(other) = answers.iter().find(|e| !e.name.eq_ignore_ascii_case(NAME)) {
            return Err(ExtensionError(format!(
                "the server turned on the extension {:?}, which wsdeck did not ask for \
                 (RFC 6455 §4.1); the connection was dropped",
                other.name
            )));
        }
        if answers.len() > 1 {
            return Err(ExtensionError(
                "the server turned on permessage-deflate more than once; the connection was \
                 dropped"
                    .into(),
            ));
        }
        let p = read_params(&first.params, Side::Response).map_err(|why| {
            ExtensionError(format!(
                "the server's permessage-deflate answer is malformed ({why}); the connection \
                 was dropped (--no-compression connects without it)"
            ))
        })?;
        let refuse = |why: &str| {
            Err(ExtensionError(format!(
                "the server's permessage-deflate answer {why}, which wsdeck did not offer; the \
                 connection was dropped (--no-compression connects without it)"
            )))
        };
        match (p.client_max_window_bits, offer.client_max_window_bits) {
            (Some(_), None) => return refuse("limits the client's window"),
            (Some(got), Some(Some(max))) if got.unwrap_or(MAX_BITS) > max => {
                return refuse("allows a bigger client window than offered");
            }
            _ => {}
        }
        if let (Some(got), Some(max)) = (p.server_max_window_bits, offer.server_max_window_bits)
            && got.unwrap_or(MAX_BITS) > max
        {
            return refuse("uses a bigger server window than offered");
        }
        if offer.server_no_context_takeover && !p.server_no_context_takeover {
            return refuse("keeps the server's context although asked not to, ");
        }
        Ok(Some(Params {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover
                || offer.client_no_context_takeover,
            server_max_window_bits: p
                .server_max_window_bits
                .flatten()
                .or(offer.server_max_window_bits),
            client_max_window_bits: p.client_max_window_bits.flatten(),
        }))
    }
}

/// How a server answers offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerPolicy {
    /// Always reset our compressor between messages (less memory per connection, worse
    /// ratio).
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its compressor between messages (RFC 7692 §7.1.1.2 lets a
    /// server add this to any offer): our inflater then keeps no window between messages.
    pub client_no_context_takeover: bool,
}

impl ServerPolicy {
    /// Neither side keeps a window between messages: a connection holds compression memory
    /// only while a message is being compressed or inflated.
    pub const LEAN: ServerPolicy = ServerPolicy {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
    };
}

/// A server's choice among the client's offers (every `Sec-WebSocket-Extensions` line of the
/// request): the first valid permessage-deflate offer, as the parameters and the response
/// header value. Invalid offers are declined, as RFC 7692 §5 says.
pub fn negotiate(values: &[&str], policy: &ServerPolicy) -> Option<(Params, String)> {
    let offers = parse_header(values).ok()?;
    offers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(NAME))
        .find_map(|e| {
            let p = read_params(&e.params, Side::Offer).ok()?;
            let params = Params {
                server_no_context_takeover: p.server_no_context_takeover
                    || policy.server_no_context_takeover,
                client_no_context_takeover: p.client_no_context_takeover
                    || policy.client_no_context_takeover,
                server_max_window_bits: p.server_max_window_bits.flatten(),
                // The client's hint is not a limit: we do not limit its window.
                client_max_window_bits: None,
            };
            let header = params.header_value();
            Some((params, header))
        })
}

/// A failed extension negotiation, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionError(pub String);

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExtensionError {}

/// One extension of a `Sec-WebSocket-Extensions` list with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Extension {
    name: String,
    params: Vec<(String, Option<String>)>,
}

/// Parse header lines `ext; a; b=1, ext2; c="2"` (RFC 6455 §9.1 with quoted values).
fn parse_header(values: &[&str]) -> Result<Vec<Extension>, ExtensionError> {
    let bad = |v: &str| {
        ExtensionError(format!(
            "the server's Sec-WebSocket-Extensions header {:?} is malformed; the connection \
             was dropped",
            crate::text::sanitize_line(v)
        ))
    };
    let mut out = Vec::new();
    for value in values {
        for ext in split_outside_quotes(value, ',') {
            if ext.trim().is_empty() {
                continue;
            }
            let mut parts = split_outside_quotes(ext, ';').into_iter();
            let name = parts.next().unwrap_or_default().trim();
            if !is_token(name) {
                return Err(bad(value));
            }
            let mut params = Vec::new();
            for p in parts {
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim())),
                    None => (p.trim(), None),
                };
                if !is_token(k) {
                    return Err(bad(value));
                }
                let v = match v {
                    Some(v) if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
                        Some(v[1..v.len() - 1].to_string())
                    }
                    Some(v) if is_token(v) => Some(v.to_string()),
                    Some(_) => return Err(bad(value)),
                    None => None,
                };
                params.push((k.to_ascii_lowercase(), v));
            }
            out.push(Extension {
                name: name.to_string(),
                params,
            });
        }
    }
    Ok(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

/// The parameters as read: `Some(None)` for a window parameter without a value.
#[derive(Default)]
struct Read {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

/// What is wrong with one permessage-deflate parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ParamError {
    #[error("{0} is given twice")]
    Twice(String),
    #[error("{0} takes no value")]
    TakesNoValue(String),
    #[error("{0} needs a value")]
    NeedsValue(String),
    #[error("{name}={value} is not a window size from 8 to 15")]
    BadWindow { name: String, value: String },
    #[error("unknown parameter {0}")]
    Unknown(String),
}

fn read_params(params: &[(String, Option<String>)], side: Side) -> Result<Read, ParamError> {
    let mut r = Read::default();
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in params {
        if seen.contains(&k.as_str()) {
            return Err(ParamError::Twice(k.clone()));
        }
        seen.push(k);
        let flag = |v: &Option<String>| match v {
            None => Ok(true),
            Some(_) => Err(ParamError::TakesNoValue(k.clone())),
        };
        let bits = |v: &Option<String>, optional: bool| match v.as_deref() {
            None if optional => Ok(None),
            None => Err(ParamError::NeedsValue(k.clone())),
            Some(s) => match s.parse::<u8>() {
                Ok(n @ 8..=15) if !s.starts_with('0') => Ok(Some(n)),
                _ => Err(ParamError::BadWindow {
                    name: k.clone(),
                    value: s.to_string(),
                }),
            },
        };
        match k.as_str() {
            "server_no_context_takeover" => r.server_no_context_takeover = flag(v)?,
            "client_no_context_takeover" => r.client_no_context_takeover = flag(v)?,
            "server_max_window_bits" => r.server_max_window_bits = Some(bits(v, false)?),
            // Only an offer may carry the bare parameter.
            "client_max_window_bits" => {
                r.client_max_window_bits = Some(bits(v, side == Side::Offer)?)
            }
            other => return Err(ParamError::Unknown(other.to_string())),
        }
    }
    Ok(r)
}

/// Compresses the messages one side sends.
pub struct Deflater {
    /// Made on the first message (a connection that never sends keeps no window).
    compress: Option<Compress>,
    window_bits: u8,
    no_context_takeover: bool,
}

impl Deflater {
    /// The compressor of the side playing `role` (our own role).
    pub fn new(params: &Params, role: Role) -> Self {
        let (no_context_takeover, window_bits) = params.side(role);
        Deflater {
            compress: None,
            window_bits,
            no_context_takeover,
        }
    }

    /// The compressed payload of one message, without the final `00 00 ff ff`; `None` when
    /// this message goes uncompressed (an agreed window smaller than the compressor supports).
    pub fn compress(&mut self, payload: &[u8]) -> Option<Vec<u8>> {
        if self.window_bits < MIN_COMPRESS_BITS {
            return None;
        }
        let bits = self.window_bits;
        let c = self.compress.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::default(), false, bits)
        });
        let mut out = Vec::with_capacity(payload.len() / 2 + 64);
        let start = c.total_in();
        loop {
            let done = (c.total_in() - start) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            if c.compress_vec(&payload[done..], &mut out, FlushCompress::Sync)
                .is_err()
            {
                // Cannot happen with a well-formed stream state; send this one plain.
                self.compress = None;
                return None;
            }
            // The flush is complete once all input is in and the output had room to spare.
            if (c.total_in() - start) as usize == payload.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            // Nothing carries over: give the compressor's memory back until the next message.
            self.compress = None;
        }
        Some(out)
    }

    /// A text or binary message as the frame to send (compressed, RSV1 set) and its payload
    /// size on the wire when compressed; any other message unchanged.
    pub fn message(&mut self, m: Message) -> (Message, Option<usize>) {
        let (opcode, payload) = match &m {
            Message::Text(t) => (Data::Text, t.as_bytes()),
            Message::Binary(b) => (Data::Binary, b.as_ref()),
            _ => return (m, None),
        };
        let Some(compressed) = self.compress(payload) else {
            return (m, None);
        };
        let len = compressed.len();
        let mut frame = Frame::message(compressed, OpCode::Data(opcode), true);
        frame.header_mut().rsv1 = true;
        (Message::Frame(frame), Some(len))
    }
}

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// It inflates past the message limit (answer with close 1009).
    TooBig { limit: usize },
    /// Not a valid DEFLATE stream (answer with close 1007).
    Corrupt,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InflateError::TooBig { limit } => write!(
                f,
                "a compressed message inflates past the {limit}-byte message limit"
            ),
            InflateError::Corrupt => f.write_str("a compressed message is not valid DEFLATE data"),
        }
    }
}

impl std::error::Error for InflateError {}

impl InflateError {
    /// The inflate failure carried by a read error from [`super::deflate_stream`], if that is
    /// what the error is.
    pub fn from_io(e: &std::io::Error) -> Option<&InflateError> {
        e.get_ref().and_then(|i| i.downcast_ref::<InflateError>())
    }
}

/// Inflates the messages the other side sends.
pub struct Inflater {
    /// Made on the first compressed message.
    decompress: Option<Decompress>,
    no_context_takeover: bool,
    /// The current message's stream ended (a block with BFINAL): ignore the rest of it.
    ended: bool,
    /// Bytes of the `00 00 ff ff` already fed at the end of the current message.
    tail_used: usize,
}

impl Inflater {
    /// The inflater for what the peer of `role` (our own role) sends.
    pub fn new(params: &Params, role: Role) -> Self {
        let peer = match role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        Inflater {
            decompress: None,
            no_context_takeover: params.side(peer).0,
            ended: false,
            tail_used: 0,
        }
    }

    /// Inflate compressed bytes of the current message into the spare room of `out`, stopping
    /// when `out.len()` reaches `max_len`. Returns how many input bytes were used: fewer than
    /// `input.len()` only when `out` is full (call again after taking the output).
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_len: usize,
    ) -> Result<usize, InflateError> {
        if self.ended {
            return Ok(input.len());
        }
        // A 32 KiB window inflates what any agreed window compressed.
        let d = self
            .decompress
            .get_or_insert_with(|| Decompress::new(false));
        let start = d.total_in();
        loop {
            let used = (d.total_in() - start) as usize;
            let room = max_len.saturating_sub(out.len());
            if room == 0 {
                return Ok(used);
            }
            let step = room.min(64 * 1024);
            let before = out.len();
            out.resize(before + step, 0);
            let out_before = d.total_out();
            let status = d.decompress(&input[used..], &mut out[before..], FlushDecompress::None);
            let produced = (d.total_out() - out_before) as usize;
            out.truncate(before + produced);
            match status {
                Err(_) => return Err(InflateError::Corrupt),
                Ok(Status::StreamEnd) => {
                    self.ended = true;
                    return Ok(input.len());
                }
                Ok(_) => {}
            }
            let used_now = (d.total_in() - start) as usize;
            // Done once all input is in and the output was not what stopped it.
            if used_now == input.len() && produced < step {
                return Ok(used_now);
            }
            if produced == 0 && used_now == used {
                // No progress although there is room: the stream wants more input.
                return Ok(used_now);
            }
        }
    }

    /// End the current message: put back the `00 00 ff ff` and inflate what it releases.
    /// Returns false when `out` filled up first (take the output, call again).
    pub fn finish(&mut self, out: &mut Vec<u8>, max_len: usize) -> Result<bool, InflateError> {
        if !self.ended {
            self.tail_used += self.inflate(&TAIL[self.tail_used..], out, max_len)?;
            if self.tail_used < TAIL.len() || out.len() >= max_len {
                return Ok(false);
            }
        }
        // After a final block the stream cannot go on: the next message starts a new one.
        if self.no_context_takeover {
            // Nothing carries over: give the window's memory back until the next message.
            self.decompress = None;
        } else if self.ended
            && let Some(d) = self.decompress.as_mut()
        {
            d.reset(false);
        }
        self.ended = false;
        self.tail_used = 0;
        Ok(true)
    }

    /// Inflate one whole message's compressed payload, failing rather than going past `limit`.
    pub fn message(&mut self, compressed: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        let mut used = 0;
        // One byte over the limit proves the message too big without inflating further.
        let max = limit.saturating_add(1);
        while used < compressed.len() {
            used += self.inflate(&compressed[used..], &mut out, max)?;
            if out.len() > limit {
                return Err(InflateError::TooBig { limit });
            }
        }
        if !self.finish(&mut out, max)? || out.len() > limit {
            return Err(InflateError::TooBig { limit });
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "deflate_tests.rs"]
mod tests;
