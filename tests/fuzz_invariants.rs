//! Stable-Rust stand-in for the cargo-fuzz targets in `fuzz/`: the same invariant checks
//! (`fuzz/src/lib.rs`, compiled in here) on a bounded number of generated hostile inputs.
//!
//! The generator is a small seeded xorshift over a palette of terminal escapes, bidi and
//! zero-width characters, line breaks, multi-byte text, regex pieces and recording lines,
//! mutated byte-wise. The seed is printed; set `WSDECK_PROP_SEED` to replay one.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod invariants;

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use wsdeck::model::{CloseInfo, Direction, FrameRecord, HandshakeInfo, HttpHead, Opcode};
use wsdeck::record::jsonl;

const CASES: usize = 3000;

struct Gen(u64);

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Pieces of hostile and odd text.
const TEXT: &[&str] = &[
    "a",
    "hello ",
    "\x1b[2J",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    "\x1bP1$r\x1b\\",
    "\x1b_apc\x1b\\",
    "\u{9b}2J",
    "\u{9d}0;t\u{9c}",
    "\u{90}",
    "\u{7f}",
    "\0",
    "\x07",
    "\x08",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\u{202e}",
    "\u{202d}",
    "\u{2066}",
    "\u{2069}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\u{ad}",
    "\u{2028}",
    "\u{61c}",
    "é",
    "e\u{301}",
    "漢字",
    "🎉",
    "👩\u{200d}💻",
    "👨\u{200d}👩\u{200d}👧\u{200d}👦",
    "🇯🇵",
    "🇯",
    "👍",
    "🏽",
    "1\u{fe0f}\u{20e3}",
    "\u{fe0f}",
    "\u{fe0e}",
    "⌚",
    "❤",
    "\u{180b}",
    "\u{e0100}",
    "\u{1bca0}",
    "\u{13430}",
    "\u{600}",
    "🏴",
    "\u{e0067}",
    "\u{e007f}",
    "\u{fffd}",
    "\\u{202e}",
    "␛",
    ":",
    "congratulation",
    "sorry",
    "wrong",
];

/// Pieces of regexes, valid and not.
const REGEX: &[&str] = &[
    "congrat",
    "sorry|wrong",
    "(a+)+$",
    "[",
    "\\",
    "^",
    "$",
    ".*",
    "(?i)",
    "\\p{L}",
    "\\d{2,5}",
    "(?s).",
    "[^a]",
    "a{1000}",
    "\\b",
    "|",
    ")",
    "(",
    "é",
    "\u{202e}",
    "\\x1b",
];

fn text(g: &mut Gen, max_pieces: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..g.below(max_pieces + 1) {
        if g.below(8) == 0 {
            out.extend(g.bytes(4));
        } else {
            out.extend_from_slice(g.pick(TEXT).as_bytes());
        }
    }
    out
}

fn frame(g: &mut Gen) -> FrameRecord {
    let opcode = *g.pick(&[
        Opcode::Text,
        Opcode::Binary,
        Opcode::Ping,
        Opcode::Pong,
        Opcode::Close,
    ]);
    let payload = Bytes::from(text(g, 6));
    FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq: g.next() % 1_000_000,
        at: UNIX_EPOCH + Duration::from_nanos(g.next() % (4_000_000_000 * 1_000_000_000)),
        dir: *g.pick(&[Direction::ClientToServer, Direction::ServerToClient]),
        opcode,
        len: payload.len(),
        close: (opcode == Opcode::Close && g.below(2) == 0).then(|| CloseInfo {
            code: g.next() as u16,
            reason: String::from_utf8_lossy(&text(g, 3)).into_owned(),
        }),
        payload,
        redacted: g.below(4) == 0,
        wire_len: None,
        fragments: None,
    }
}

fn handshake(g: &mut Gen) -> HandshakeInfo {
    let s = |g: &mut Gen| String::from_utf8_lossy(&text(g, 3)).into_owned();
    HandshakeInfo {
        conn: 1,
        leg: Default::default(),
        url: s(g),
        request: HttpHead {
            start_line: s(g),
            headers: vec![(s(g), s(g))],
        },
        response: HttpHead::default(),
        started: (g.below(2) == 0)
            .then(|| UNIX_EPOCH + Duration::from_micros(g.next() % (1 << 50))),
        finished: None,
        ..Default::default()
    }
}

/// A recording: valid lines, then mutated (flips, cuts, inserted pieces, blank lines).
fn recording(g: &mut Gen) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..g.below(6) {
        if g.below(4) == 0 {
            jsonl::encode_handshake(&mut out, &handshake(g), g.below(2) == 0).unwrap();
        } else {
            jsonl::encode_frame(&mut out, &frame(g)).unwrap();
        }
    }
    for _ in 0..g.below(4) {
        if out.is_empty() {
            break;
        }
        let at = g.below(out.len());
        match g.below(5) {
            0 => out[at] ^= 1 << g.below(8),
            1 => out.truncate(at),
            2 => {
                let piece = text(g, 2);
                out.splice(at..at, piece);
            }
            3 => {
                let piece = *g.pick(&[&b"\n"[..], b"\r\n", b"  \n", b"{}\n"]);
                out.splice(at..at, piece.iter().copied());
            }
            _ => {
                let piece = *g.pick(&[
                    &b"\"seq\":18446744073709551615,"[..],
                    b"\"ts\":\"9999-12-31T23:59:59.999999999+23:59\",",
                    b"\"ts\":\"0000-01-01T00:00:00-23:59\",",
                    b"\"len\":99999999999999999999,",
                    b"\"base64\":\"!!\",",
                    b"\"type\":\"handshake\",",
                    b"\"code\":70000,",
                ]);
                if let Some(brace) = out[..at].iter().rposition(|&b| b == b'{') {
                    out.splice(brace + 1..brace + 1, piece.iter().copied());
                }
            }
        }
    }
    out
}

fn seed() -> u64 {
    let seed = std::env::var("WSDECK_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("WSDECK_PROP_SEED={seed}");
    seed
}

#[test]
fn sanitizer_invariants_hold_on_hostile_text() {
    let mut g = Gen::new(seed());
    for _ in 0..CASES {
        invariants::sanitizer(&text(&mut g, 12));
    }
    // Fixed cases the generator may not reach.
    for s in [
        &b""[..],
        b"\n",
        b"\r\n",
        b"\n\n",
        b"a\r",
        b"\xff\xfe",
        b"\t\t\tx\ty",
        "\u{1b}]52;c;\u{202e}\u{9b}".as_bytes(),
        "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 flag 🇯🇵 skin 👍🏽 keycap 1\u{fe0f}\u{20e3}"
            .as_bytes(),
        "ad\u{180b}min \u{200b}🏽 🇯🇵🇰 a\u{fe0f} ⌚\u{fe0e}".as_bytes(),
    ] {
        invariants::sanitizer(s);
    }
}

#[test]
fn login_reply_invariants_hold_on_odd_regexes_and_replies() {
    let mut g = Gen::new(seed());
    for _ in 0..CASES {
        let mut data = Vec::new();
        for part in 0..3 {
            if part > 0 {
                data.push(0);
            }
            if part < 2 {
                for _ in 0..g.below(4) {
                    data.extend_from_slice(g.pick(REGEX).as_bytes());
                }
            } else {
                data.extend(text(&mut g, 6).into_iter().filter(|&b| b != 0));
            }
        }
        invariants::login_reply(&data);
    }
}

#[test]
fn recording_reader_invariants_hold_on_mutated_recordings() {
    let mut g = Gen::new(seed());
    let mut read_ok = 0;
    for _ in 0..CASES {
        let data = recording(&mut g);
        if jsonl::read_from(std::io::Cursor::new(&data)).is_ok() {
            read_ok += 1;
        }
        invariants::recording(&data);
    }
    // The generator must exercise both paths: readable and broken recordings.
    assert!(
        read_ok > CASES / 10 && read_ok < CASES,
        "{read_ok} of {CASES} readable"
    );
}
