//! A frame's JSON line written by hand: the same bytes `serde_json` writes for the recording's
//! frame object (the test below holds the two together), at a fraction of the cost. Every
//! frame of `wsdeck proxy --no-ui` and of each recording goes through here, so it is on the
//! proxy's hot path (issue 13: 300,000 messages in about the time of a direct connection).

use std::cell::RefCell;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::{FrameLike, format_ts};
use crate::model::{Direction, Opcode};

thread_local! {
    /// The last timestamp formatted on this thread, as its `,"ts":"…"` field: the frames of
    /// one read share their time.
    static LAST_TS: RefCell<Option<(SystemTime, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Append the `,"ts":"…"` field of `at` (RFC 3339), reusing the text when `at` is the time
/// just formatted.
fn push_ts_field(out: &mut Vec<u8>, at: SystemTime) {
    LAST_TS.with(|last| {
        let mut last = last.borrow_mut();
        let field = match &mut *last {
            Some((t, field)) if *t == at => field,
            slot => {
                let field = format!(",\"ts\":\"{}\"", format_ts(at)).into_bytes();
                &mut slot.insert((at, field)).1
            }
        };
        out.extend_from_slice(field);
    });
}

/// `,"dir":"…","opcode":"…","len":` of a frame passed on as sent: the commonest line's
/// middle in one piece.
fn dir_opcode_len(dir: Direction, opcode: Opcode) -> &'static [u8] {
    macro_rules! piece {
        ($d:literal, $o:literal) => {
            concat!(",\"dir\":\"", $d, "\",\"opcode\":\"", $o, "\",\"len\":").as_bytes()
        };
    }
    use Direction::{ClientToServer as C2s, ServerToClient as S2c};
    match (dir, opcode) {
        (C2s, Opcode::Text) => piece!("c2s", "text"),
        (C2s, Opcode::Binary) => piece!("c2s", "binary"),
        (C2s, Opcode::Ping) => piece!("c2s", "ping"),
        (C2s, Opcode::Pong) => piece!("c2s", "pong"),
        (C2s, Opcode::Close) => piece!("c2s", "close"),
        (S2c, Opcode::Text) => piece!("s2c", "text"),
        (S2c, Opcode::Binary) => piece!("s2c", "binary"),
        (S2c, Opcode::Ping) => piece!("s2c", "ping"),
        (S2c, Opcode::Pong) => piece!("s2c", "pong"),
        (S2c, Opcode::Close) => piece!("s2c", "close"),
    }
}

/// Append `n` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// What a byte becomes inside a JSON string, as serde_json writes it: 0 as it is, `u` as
/// `\u00XX`, else `\` and that letter.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether any of the 8 bytes of `w` needs escaping (below 0x20, `"` or `\\`).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    // A byte below 0x20 (bytes of 0x80 and more, as in UTF-8, never count).
    let low = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (low | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))) != 0
}

/// How many leading bytes are ASCII that a JSON string takes as they are (no escape).
fn plain_ascii_prefix(bytes: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    while let Some(chunk) = bytes.get(n..n + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        if w & HIGH != 0 || word_needs_escape(w) {
            break;
        }
        n += 8;
    }
    n + bytes[n..]
        .iter()
        .take_while(|&&b| b < 0x80 && ESCAPE[usize::from(b)] == 0)
        .count()
}

/// Append `s` as a JSON string (quotes included), escaped as serde_json escapes it.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Eight bytes at a time up to the first that needs escaping (most text has none).
    let mut clean = 0;
    while let Some(chunk) = bytes.get(clean..clean + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        if word_needs_escape(w) {
            break;
        }
        clean += 8;
    }
    out.extend_from_slice(&bytes[..clean]);
    let mut start = clean;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        let e = ESCAPE[usize::from(b)];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match e {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            e => out.extend_from_slice(&[b'\\', e]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Append one frame line (with its newline): `seq`, `conn`, `ts`, `dir`, `origin` (when not
/// as sent), `opcode`, `len`, `text` or `base64`, `code` and `reason` (a close with a code),
/// `redacted` (when true), `compressed` (when it was). See the schema in `jsonl.rs`.
pub fn encode_frame<F: FrameLike + ?Sized>(out: &mut Vec<u8>, f: &F) {
    let payload = f.payload();
    out.extend_from_slice(b"{\"seq\":");
    push_u64(out, f.seq());
    out.extend_from_slice(b",\"conn\":");
    push_u64(out, f.conn());
    push_ts_field(out, f.at());
    let origin = f.origin();
    if origin.is_wire() {
        out.extend_from_slice(dir_opcode_len(f.dir(), f.opcode()));
    } else {
        out.extend_from_slice(b",\"dir\":\"");
        out.extend_from_slice(f.dir().code().as_bytes());
        out.extend_from_slice(b"\",\"origin\":\"");
        out.extend_from_slice(origin.name().as_bytes());
        out.extend_from_slice(b"\",\"opcode\":\"");
        out.extend_from_slice(f.opcode().name().as_bytes());
        out.extend_from_slice(b"\",\"len\":");
    }
    push_u64(out, f.wire_len() as u64);
    let is_text = matches!(f.opcode(), Opcode::Text | Opcode::Close);
    // Most text is plain ASCII: it is valid UTF-8 and goes in as it is, checked in one pass.
    let plain = is_text && plain_ascii_prefix(payload) == payload.len();
    let text = match is_text && !plain {
        true => std::str::from_utf8(payload).ok(),
        false => None,
    };
    match text {
        _ if plain => {
            out.extend_from_slice(b",\"text\":\"");
            out.extend_from_slice(payload);
            out.push(b'"');
        }
        Some(t) => {
            out.extend_from_slice(b",\"text\":");
            push_str(out, t);
        }
        None => {
            out.extend_from_slice(b",\"base64\":\"");
            let at = out.len();
            out.resize(at + payload.len().div_ceil(3) * 4, 0);
            let n = B64
                .encode_slice(payload, &mut out[at..])
                .unwrap_or_default();
            out.truncate(at + n);
            out.push(b'"');
        }
    }
    if let Some((code, reason)) = f.close() {
        out.extend_from_slice(b",\"code\":");
        push_u64(out, u64::from(code));
        out.extend_from_slice(b",\"reason\":");
        push_str(out, &reason);
    }
    if f.redacted() {
        out.extend_from_slice(b",\"redacted\":true");
    }
    if let Some(n) = f.compressed_len() {
        out.extend_from_slice(b",\"compressed\":");
        push_u64(out, n as u64);
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CloseInfo, Direction, FrameRecord, Origin};
    use bytes::Bytes;
    use serde::Serialize;

    /// The frame object as serde_json writes it: the format the hand-written line must keep.
    #[derive(Serialize)]
    struct FrameOut<'a> {
        seq: u64,
        conn: u64,
        ts: String,
        dir: Direction,
        #[serde(skip_serializing_if = "Origin::is_wire")]
        origin: Origin,
        opcode: Opcode,
        len: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        base64: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        redacted: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        compressed: Option<usize>,
    }

    fn by_serde(f: &FrameRecord) -> Vec<u8> {
        let text = match f.opcode {
            Opcode::Text | Opcode::Close => std::str::from_utf8(&f.payload).ok(),
            _ => None,
        };
        let mut v = serde_json::to_vec(&FrameOut {
            seq: f.seq,
            conn: f.conn,
            ts: format_ts(f.at),
            dir: f.dir,
            origin: f.origin,
            opcode: f.opcode,
            len: f.len,
            text,
            base64: text.is_none().then(|| B64.encode(&f.payload)),
            code: f.close.as_ref().map(|c| c.code),
            reason: f.close.as_ref().map(|c| c.reason.as_str()),
            redacted: f.redacted,
            compressed: f.wire_len,
        })
        .unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn the_line_is_what_serde_json_writes_for_every_kind_of_frame_and_every_byte() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let texts = [
            String::new(),
            "plain".into(),
            every_ascii,
            "quote \" backslash \\ slash / tab\t nl\n cr\r bs\u{8} ff\u{c} nul\0 esc\u{1b} del\u{7f}"
                .into(),
            "ünïcödé 😀 \u{2028}\u{2029}".into(),
        ];
        let mut frames = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            for (opcode, origin) in [
                (Opcode::Text, Origin::Wire),
                (Opcode::Binary, Origin::Injected),
                (Opcode::Ping, Origin::Dropped),
                (Opcode::Close, Origin::Modified),
                (Opcode::Pong, Origin::Auto),
                // Passed on as sent, every opcode (written with one piece for the middle).
                (Opcode::Binary, Origin::Wire),
                (Opcode::Ping, Origin::Wire),
                (Opcode::Pong, Origin::Wire),
                (Opcode::Close, Origin::Wire),
            ] {
                frames.push(FrameRecord {
                    seq: u64::MAX - i as u64,
                    conn: i as u64,
                    at: SystemTime::UNIX_EPOCH
                        + std::time::Duration::from_nanos(1_234_567_890 * i as u64),
                    dir: if i % 2 == 0 {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    },
                    origin,
                    opcode,
                    len: t.len() + i,
                    payload: Bytes::from(t.clone()),
                    close: (opcode == Opcode::Close).then(|| CloseInfo {
                        code: 1000 + i as u16,
                        reason: t.clone(),
                    }),
                    redacted: i % 2 == 1,
                    wire_len: (i % 3 == 0).then_some(i * 7),
                    fragments: None,
                });
            }
        }
        // Not UTF-8: a text frame falls back to base64, as serde's writer does.
        frames.push(FrameRecord {
            payload: Bytes::from_static(b"\xff\xfe\x00 not utf-8"),
            ..frames[0].clone()
        });
        for f in &frames {
            let mut ours = Vec::new();
            encode_frame(&mut ours, f);
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&by_serde(f)),
                "{f:?}"
            );
        }
    }

    #[test]
    fn the_word_check_finds_every_byte_that_needs_escaping_wherever_it_is() {
        for b in 0u8..=255 {
            for at in 0..8 {
                let mut w = [b'a'; 8];
                w[at] = b;
                let needs = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(
                    word_needs_escape(u64::from_le_bytes(w)),
                    needs,
                    "{b:#x} at {at}"
                );
            }
        }
        assert_eq!(plain_ascii_prefix(b"abcdefghij"), 10);
        assert_eq!(plain_ascii_prefix(b"abcdefgh\x7f\xc3\xbc"), 9);
        assert_eq!(plain_ascii_prefix(b"abc\n"), 3);
        // Escapes past the first eight bytes, and after a clean word.
        for s in [
            "abcdefgh\"ij",
            "abcdefghijklmnop\n",
            "0123456\t",
            "ünïcödé\u{1}",
        ] {
            let mut ours = Vec::new();
            push_str(&mut ours, s);
            assert_eq!(ours, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn numbers_are_written_in_full() {
        for n in [
            0,
            7,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            12345,
            123456,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut v = Vec::new();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().into_bytes());
        }
    }
}
