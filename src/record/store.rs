//! The bounded in-memory frame store the monitor and chat views read.
//!
//! Append-only (but for a held message settling in its place); keeps the newest frames within a frame-count and a payload-byte limit and counts
//! the older frames it let go ([`FrameStore::dropped`]) so the views can show "N older frames
//! not kept". The recording file keeps everything; this is only what is on screen.
//!
//! Layout: payload bytes are copied into chunked arenas (`Vec<u8>` of up to 1 MiB, payloads over
//! 128 KiB get a chunk of their own), and each frame is one fixed 48-byte [`Slot`] in a ring
//! (`VecDeque`) holding its chunk, offset, length, sequence number, time, direction, opcode and
//! close code, connection id and origin. A chunk is freed when its last frame is dropped. For 10^6 frames of 100 B this is
//! about 100 MB of arena plus 48-50 MB of slots, within the "1.5 × payload + 48 B per message"
//! budget. Frames come back as borrowed [`FrameView`]s (no copying) in O(1) by position.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;
use std::time::SystemTime;

use bytes::Bytes;

use super::{FrameLike, from_unix_nanos, unix_nanos};
use crate::model::{CloseInfo, Direction, FrameRecord, Opcode, Origin};

/// Default bound on kept frames.
pub const DEFAULT_MAX_FRAMES: usize = 1_000_000;
/// Default bound on kept payload bytes (512 MiB).
pub const DEFAULT_MAX_BYTES: usize = 512 * 1024 * 1024;

/// Largest arena chunk shared by small payloads.
const MAX_CHUNK: usize = 1 << 20;
/// First arena chunk size; later ones double up to [`MAX_CHUNK`].
const MIN_CHUNK: usize = 4 << 10;
/// Payloads above this get a chunk of their own (bounds the slack at a chunk's end to 1/8).
const BIG_PAYLOAD: usize = MAX_CHUNK / 8;

const F_RECEIVE: u8 = 1;
const F_CLOSE: u8 = 2;
const F_REDACTED: u8 = 4;
/// The payload is empty and references no chunk.
const F_NO_CHUNK: u8 = 8;
/// Three bits of origin (`Origin` as its index in `Origin::ALL`), above the flags.
const ORIGIN_SHIFT: u8 = 4;

/// One kept frame: fixed size, no heap of its own.
#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u64,
    at_ns: i64,
    wire_len: u64,
    /// Connection id (ids past `u32::MAX` wrap; no source opens that many).
    conn: u32,
    chunk: u32,
    offset: u32,
    payload_len: u32,
    close_code: u16,
    flags: u8,
    opcode: u8,
    /// Frames the message came in (0 or 1: one; saturating).
    fragments: u32,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 48);

fn origin_to_bits(o: Origin) -> u8 {
    (Origin::ALL.iter().position(|x| *x == o).unwrap_or(0) as u8) << ORIGIN_SHIFT
}

fn origin_from_flags(flags: u8) -> Origin {
    Origin::ALL
        .get(usize::from((flags >> ORIGIN_SHIFT) & 7))
        .copied()
        .unwrap_or_default()
}

/// The part of a payload the store keeps: its first 4 GiB.
fn kept(payload: &[u8]) -> &[u8] {
    &payload[..payload.len().min(u32::MAX as usize)]
}

/// Frames a message came in, as a slot keeps it (0: one).
fn fragment_count<F: FrameLike + ?Sized>(f: &F) -> u32 {
    f.fragments()
        .map_or(0, |g| u32::try_from(g.count).unwrap_or(u32::MAX))
}

/// A frame's flags (origin, direction, redaction, close; not `F_NO_CHUNK`) and close code.
fn flags_of<F: FrameLike + ?Sized>(f: &F) -> (u8, u16) {
    let mut flags = origin_to_bits(f.origin());
    if f.dir() == Direction::ServerToClient {
        flags |= F_RECEIVE;
    }
    if f.redacted() {
        flags |= F_REDACTED;
    }
    let close_code = match f.close() {
        Some((code, _)) => {
            flags |= F_CLOSE;
            code
        }
        None => 0,
    };
    (flags, close_code)
}

fn opcode_to_u8(o: Opcode) -> u8 {
    match o {
        Opcode::Text => 0,
        Opcode::Binary => 1,
        Opcode::Ping => 2,
        Opcode::Pong => 3,
        Opcode::Close => 4,
    }
}

fn opcode_from_u8(o: u8) -> Opcode {
    match o {
        0 => Opcode::Text,
        1 => Opcode::Binary,
        2 => Opcode::Ping,
        3 => Opcode::Pong,
        _ => Opcode::Close,
    }
}

#[derive(Debug)]
struct Chunk {
    buf: Vec<u8>,
    /// Kept frames whose payload is in this chunk.
    live: u32,
}

/// A kept frame, borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameView<'a> {
    pub seq: u64,
    pub conn: u64,
    pub at: SystemTime,
    pub dir: Direction,
    pub origin: Origin,
    pub opcode: Opcode,
    /// Payload length on the wire (before any redaction).
    pub len: usize,
    pub payload: &'a [u8],
    /// Status code of a close frame that carried one (the reason is the payload).
    pub close_code: Option<u16>,
    pub redacted: bool,
    /// Frames the message came in (0 or 1: one).
    pub fragments: u32,
}

impl<'a> FrameView<'a> {
    /// Payload as text if it is valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.payload).ok()
    }

    /// Code and reason of a close frame that carried a code.
    pub fn close_info(&self) -> Option<CloseInfo> {
        self.close_code.map(|code| CloseInfo {
            code,
            reason: String::from_utf8_lossy(self.payload).into_owned(),
        })
    }

    /// An owned copy.
    pub fn to_record(&self) -> FrameRecord {
        FrameRecord {
            seq: self.seq,
            conn: self.conn,
            at: self.at,
            dir: self.dir,
            origin: self.origin,
            opcode: self.opcode,
            len: self.len,
            payload: Bytes::copy_from_slice(self.payload),
            close: self.close_info(),
            redacted: self.redacted,
            wire_len: None,
            fragments: None,
        }
    }
}

impl FrameLike for FrameView<'_> {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn conn(&self) -> u64 {
        self.conn
    }
    fn origin(&self) -> Origin {
        self.origin
    }
    fn at(&self) -> SystemTime {
        self.at
    }
    fn dir(&self) -> Direction {
        self.dir
    }
    fn opcode(&self) -> Opcode {
        self.opcode
    }
    fn wire_len(&self) -> usize {
        self.len
    }
    fn payload(&self) -> &[u8] {
        self.payload
    }
    fn close(&self) -> Option<(u16, Cow<'_, str>)> {
        self.close_code
            .map(|c| (c, String::from_utf8_lossy(self.payload)))
    }
    fn redacted(&self) -> bool {
        self.redacted
    }
}

/// Bounded, append-only store of the newest frames. See the module docs.
#[derive(Debug)]
pub struct FrameStore {
    slots: VecDeque<Slot>,
    chunks: VecDeque<Chunk>,
    /// Id of `chunks[0]`; ids grow (wrapping) as chunks are added.
    first_chunk: u32,
    /// Chunk receiving small payloads.
    active: Option<u32>,
    next_chunk_size: usize,
    /// Sum of the capacities of the chunks' buffers.
    chunk_bytes: usize,
    /// Sum of the kept frames' payload lengths.
    payload_bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    dropped: u64,
    /// The frame sizes of kept messages that came in several frames, by absolute index
    /// (oldest first).
    fragments: VecDeque<(u64, std::sync::Arc<crate::model::Fragments>)>,
}

impl Default for FrameStore {
    fn default() -> Self {
        FrameStore::new(DEFAULT_MAX_FRAMES, DEFAULT_MAX_BYTES)
    }
}

impl FrameStore {
    /// A store keeping at most `max_frames` frames (at least 1) and `max_bytes` of payload.
    /// The newest frame is always kept, even when its payload alone exceeds `max_bytes`.
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        FrameStore {
            slots: VecDeque::new(),
            chunks: VecDeque::new(),
            first_chunk: 0,
            active: None,
            next_chunk_size: MIN_CHUNK,
            chunk_bytes: 0,
            payload_bytes: 0,
            max_frames: max_frames.max(1),
            max_bytes,
            dropped: 0,
            fragments: VecDeque::new(),
        }
    }

    pub fn max_frames(&self) -> usize {
        self.max_frames
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Change the limits, dropping the oldest frames now if they are exceeded.
    pub fn set_limits(&mut self, max_frames: usize, max_bytes: usize) {
        self.max_frames = max_frames.max(1);
        self.max_bytes = max_bytes;
        while self.slots.len() > self.max_frames
            || (self.slots.len() > 1 && self.payload_bytes > self.max_bytes)
        {
            self.drop_oldest();
        }
        self.retire_dead_chunks();
    }

    /// Frames kept.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Older frames let go to stay within the limits. This is also the absolute index (count of
    /// frames ever pushed before it) of the oldest kept frame.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Frames ever pushed (`dropped() + len()`).
    pub fn total_pushed(&self) -> u64 {
        self.dropped + self.slots.len() as u64
    }

    /// Payload bytes of the kept frames.
    pub fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }

    /// Heap bytes the store holds: slot ring, chunk list and arena buffers (by capacity).
    pub fn approx_heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.chunk_bytes
    }

    /// Append a frame (its payload is copied), dropping the oldest frames as needed first.
    /// Payloads over 4 GiB keep only their first 4 GiB here.
    pub fn push<F: FrameLike + ?Sized>(&mut self, f: &F) {
        let payload = kept(f.payload());
        while !self.slots.is_empty()
            && (self.slots.len() >= self.max_frames
                || self.payload_bytes + payload.len() > self.max_bytes)
        {
            self.drop_oldest();
        }
        let (mut flags, close_code) = flags_of(f);
        let (chunk, offset) = self.hold(payload, &mut flags);
        let at_ns = unix_nanos(f.at()).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        self.slots.push_back(Slot {
            seq: f.seq(),
            at_ns,
            wire_len: f.wire_len() as u64,
            conn: f.conn() as u32,
            chunk,
            offset,
            payload_len: payload.len() as u32,
            close_code,
            flags,
            opcode: opcode_to_u8(f.opcode()),
            fragments: fragment_count(f),
        });
        if let Some(g) = f.fragments() {
            let abs = self.dropped + self.slots.len() as u64 - 1;
            self.fragments.push_back((abs, g.clone()));
        }
        self.payload_bytes += payload.len();
        self.retire_dead_chunks();
    }

    /// Rewrite the kept frame at absolute index `n` as `f`, in place: a held message
    /// settled (passed on, edited or dropped) keeps its row. False when it is not kept any
    /// more. The payload is copied again only when it changed.
    pub fn settle<F: FrameLike + ?Sized>(&mut self, n: u64, f: &F) -> bool {
        let Some(i) = n
            .checked_sub(self.dropped)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < self.slots.len())
        else {
            return false;
        };
        let old = self.slots[i];
        let payload = kept(f.payload());
        let (mut flags, close_code) = flags_of(f);
        let (chunk, offset) = if self.view(&old).payload == payload {
            flags |= old.flags & F_NO_CHUNK;
            (old.chunk, old.offset)
        } else {
            self.release(&old);
            self.payload_bytes += payload.len();
            self.hold(payload, &mut flags)
        };
        self.slots[i] = Slot {
            wire_len: f.wire_len() as u64,
            chunk,
            offset,
            payload_len: payload.len() as u32,
            close_code,
            flags,
            fragments: fragment_count(f),
            ..old
        };
        let at = self.fragments.binary_search_by_key(&n, |(abs, _)| *abs);
        match (at, f.fragments()) {
            (Ok(k), Some(g)) => self.fragments[k].1 = g.clone(),
            (Ok(k), None) => {
                self.fragments.remove(k);
            }
            (Err(k), Some(g)) => self.fragments.insert(k, (n, g.clone())),
            (Err(_), None) => {}
        }
        self.retire_dead_chunks();
        true
    }

    /// Where a kept payload lives: nowhere for an empty one (flagged), else an arena chunk.
    fn hold(&mut self, payload: &[u8], flags: &mut u8) -> (u32, u32) {
        if payload.is_empty() {
            *flags |= F_NO_CHUNK;
            (0, 0)
        } else {
            self.place(payload)
        }
    }

    /// Copy `payload` into an arena chunk; returns (chunk id, offset).
    fn place(&mut self, payload: &[u8]) -> (u32, u32) {
        let len = payload.len();
        if len <= BIG_PAYLOAD
            && let Some(id) = self.active
        {
            let idx = id.wrapping_sub(self.first_chunk) as usize;
            let c = &mut self.chunks[idx];
            if c.buf.capacity() - c.buf.len() >= len {
                let offset = c.buf.len() as u32;
                c.buf.extend_from_slice(payload);
                c.live += 1;
                return (id, offset);
            }
        }
        let cap = if len > BIG_PAYLOAD {
            len
        } else {
            let cap = self
                .next_chunk_size
                .min(self.max_bytes.max(MIN_CHUNK))
                .max(len);
            self.next_chunk_size = (self.next_chunk_size * 2).min(MAX_CHUNK);
            cap
        };
        let mut buf = Vec::with_capacity(cap);
        buf.extend_from_slice(payload);
        self.chunk_bytes += buf.capacity();
        let id = self.first_chunk.wrapping_add(self.chunks.len() as u32);
        self.chunks.push_back(Chunk { buf, live: 1 });
        if len <= BIG_PAYLOAD {
            self.active = Some(id);
        }
        (id, 0)
    }

    fn drop_oldest(&mut self) {
        let Some(s) = self.slots.pop_front() else {
            return;
        };
        self.dropped += 1;
        while self
            .fragments
            .front()
            .is_some_and(|(abs, _)| *abs < self.dropped)
        {
            self.fragments.pop_front();
        }
        self.release(&s);
    }

    /// A slot's payload is no longer kept: its bytes leave the count, its chunk loses a
    /// frame (and is freed now when that was its last and it is not the active one).
    fn release(&mut self, s: &Slot) {
        self.payload_bytes -= s.payload_len as usize;
        if s.flags & F_NO_CHUNK != 0 {
            return;
        }
        let idx = s.chunk.wrapping_sub(self.first_chunk) as usize;
        if let Some(c) = self.chunks.get_mut(idx) {
            c.live = c.live.saturating_sub(1);
            if c.live == 0 && self.active != Some(s.chunk) {
                // Dead in the middle (a big payload's own chunk): free it now.
                self.chunk_bytes -= c.buf.capacity();
                c.buf = Vec::new();
            }
        }
    }

    /// Pop dead chunks off the front (they may be freed already) and free a dead former
    /// active chunk.
    fn retire_dead_chunks(&mut self) {
        for (i, c) in self.chunks.iter_mut().enumerate() {
            let id = self.first_chunk.wrapping_add(i as u32);
            if c.live == 0 && c.buf.capacity() > 0 && self.active != Some(id) {
                self.chunk_bytes -= c.buf.capacity();
                c.buf = Vec::new();
            }
            if c.live != 0 {
                break;
            }
        }
        while let Some(c) = self.chunks.front() {
            if c.live != 0 || self.active == Some(self.first_chunk) {
                break;
            }
            self.chunk_bytes -= c.buf.capacity();
            self.chunks.pop_front();
            self.first_chunk = self.first_chunk.wrapping_add(1);
        }
    }

    fn view(&self, s: &Slot) -> FrameView<'_> {
        let payload: &[u8] = if s.flags & F_NO_CHUNK != 0 {
            &[]
        } else {
            let idx = s.chunk.wrapping_sub(self.first_chunk) as usize;
            let start = s.offset as usize;
            let end = start + s.payload_len as usize;
            self.chunks
                .get(idx)
                .and_then(|c| c.buf.get(start..end))
                .unwrap_or(&[])
        };
        FrameView {
            seq: s.seq,
            conn: u64::from(s.conn),
            origin: origin_from_flags(s.flags),
            at: from_unix_nanos(s.at_ns as i128),
            dir: if s.flags & F_RECEIVE != 0 {
                Direction::ServerToClient
            } else {
                Direction::ClientToServer
            },
            opcode: opcode_from_u8(s.opcode),
            len: usize::try_from(s.wire_len).unwrap_or(usize::MAX),
            payload,
            close_code: (s.flags & F_CLOSE != 0).then_some(s.close_code),
            redacted: s.flags & F_REDACTED != 0,
            fragments: s.fragments,
        }
    }

    /// The frames the kept message at absolute index `n` came in, when more than one.
    pub fn fragments(&self, n: u64) -> Option<&crate::model::Fragments> {
        let i = self
            .fragments
            .binary_search_by_key(&n, |(abs, _)| *abs)
            .ok()?;
        Some(&self.fragments[i].1)
    }

    /// The `i`-th kept frame, oldest first (0 ≤ i < `len()`).
    pub fn get(&self, i: usize) -> Option<FrameView<'_>> {
        self.slots.get(i).map(|s| self.view(s))
    }

    /// The frame with absolute index `n` (counting every frame ever pushed from 0), if kept.
    pub fn get_absolute(&self, n: u64) -> Option<FrameView<'_>> {
        let i = n.checked_sub(self.dropped)?;
        self.get(usize::try_from(i).ok()?)
    }

    /// The newest frame.
    pub fn last(&self) -> Option<FrameView<'_>> {
        self.slots.back().map(|s| self.view(s))
    }

    /// Position of the kept frame with sequence number `seq` (`Err` with the insertion point
    /// when it is not kept). Relies on sequence numbers growing, as they do.
    pub fn position_of_seq(&self, seq: u64) -> Result<usize, usize> {
        self.slots.binary_search_by_key(&seq, |s| s.seq)
    }

    /// Frames at positions in `range` (clamped to `0..len()`), oldest first.
    pub fn iter_range(
        &self,
        range: Range<usize>,
    ) -> impl DoubleEndedIterator<Item = FrameView<'_>> + ExactSizeIterator + Clone + '_ {
        let end = range.end.min(self.slots.len());
        let start = range.start.min(end);
        self.slots.range(start..end).map(move |s| self.view(s))
    }

    /// All kept frames, oldest first.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = FrameView<'_>> + ExactSizeIterator + Clone + '_ {
        self.iter_range(0..self.slots.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn frame(seq: u64, payload: &[u8]) -> FrameRecord {
        FrameRecord {
            conn: 1,
            origin: Default::default(),
            seq,
            at: UNIX_EPOCH + Duration::new(1_795_629_662, seq as u32 * 1000 + 7),
            dir: if seq.is_multiple_of(2) {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            },
            opcode: Opcode::Text,
            len: payload.len(),
            payload: Bytes::copy_from_slice(payload),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        }
    }

    #[test]
    fn records_round_trip_exactly() {
        let mut s = FrameStore::default();
        let fs = [
            frame(1, b"hello"),
            FrameRecord {
                conn: 1,
                origin: Default::default(),
                opcode: Opcode::Close,
                close: Some(CloseInfo {
                    code: 1000,
                    reason: "bye".into(),
                }),
                ..frame(2, b"bye")
            },
            FrameRecord {
                opcode: Opcode::Ping,
                ..frame(3, b"")
            },
            FrameRecord {
                opcode: Opcode::Binary,
                redacted: true,
                len: 99,
                ..frame(4, &[0, 255, 254])
            },
        ];
        for f in &fs {
            s.push(f);
        }
        let back: Vec<FrameRecord> = s.iter().map(|v| v.to_record()).collect();
        assert_eq!(back, fs);
        assert_eq!(s.payload_bytes(), 5 + 3 + 3);
    }

    #[test]
    fn big_payload_chunks_are_freed_when_dropped_out_of_order() {
        // Small frames share the active chunk; big ones get their own. Dropping the big one
        // frees its chunk even though an older-id chunk is still alive.
        let mut s = FrameStore::new(3, usize::MAX);
        let big = vec![7u8; BIG_PAYLOAD + 1];
        s.push(&frame(1, b"a"));
        s.push(&frame(2, &big));
        s.push(&frame(3, b"b"));
        let with_big = s.approx_heap_bytes();
        s.push(&frame(4, b"c")); // drops 1
        s.push(&frame(5, b"d")); // drops 2 (the big one)
        assert!(s.approx_heap_bytes() + big.len() <= with_big);
        let seqs: Vec<u64> = s.iter().map(|v| v.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(s.get(0).unwrap().payload, b"b");
        assert_eq!(s.get(2).unwrap().payload, b"d");
    }

    #[test]
    fn a_held_message_settles_in_its_row() {
        let mut s = FrameStore::new(10, usize::MAX);
        let big = vec![7u8; BIG_PAYLOAD + 1];
        s.push(&frame(1, b"a"));
        s.push(&FrameRecord {
            origin: Origin::Held,
            ..frame(2, &big)
        });
        s.push(&frame(3, b"c"));
        let with_big = s.approx_heap_bytes();
        // Edited: a new, short payload in the same row; the big one's chunk goes.
        let edited = FrameRecord {
            origin: Origin::Modified,
            fragments: Some(std::sync::Arc::new(crate::model::Fragments {
                count: 2,
                sizes: vec![1, 2],
            })),
            ..frame(2, b"xyz")
        };
        assert!(s.settle(1, &edited));
        assert!(s.approx_heap_bytes() + big.len() <= with_big);
        let back: Vec<FrameRecord> = s.iter().map(|v| v.to_record()).collect();
        assert_eq!(back[1].payload, &b"xyz"[..]);
        assert_eq!(back[1].origin, Origin::Modified);
        assert_eq!(s.get(1).unwrap().fragments, 2);
        assert_eq!(s.fragments(1).unwrap().sizes, [1, 2]);
        assert_eq!((back[0].seq, back[2].seq), (1, 3));
        assert_eq!(s.payload_bytes(), 1 + 3 + 1);
        // Passed on unchanged: only the mark changes.
        assert!(s.settle(
            1,
            &FrameRecord {
                origin: Origin::Wire,
                ..edited.clone()
            }
        ));
        assert_eq!(s.get(1).unwrap().origin, Origin::Wire);
        assert_eq!(s.get(1).unwrap().payload, b"xyz");
        assert_eq!(s.payload_bytes(), 5);
        // A row the store let go is not settled.
        assert!(!s.settle(7, &edited));
    }
}
