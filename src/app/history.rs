//! The message history: a compact append-only index over the monitor's frame store and a
//! scroll anchor (the chat view's geometry and wrapping are `chat_layout.rs`).
//!
//! Cost model (issue 4): nothing here is proportional to the history size except memory.
//! - A message entry is a fixed 24-byte record holding the *absolute index* of its frame in the
//!   monitor's bounded [`FrameStore`] (see [`FrameStore::get_absolute`]); the payload is never
//!   copied here. Views pass the store in to read the bytes. Only a bounded preview of a text
//!   ([`TEXT_PREVIEW_BYTES`]) is laid out; the rest is counted as "… N bytes more".
//! - An entry whose frame the store let go (it keeps the newest frames within its limits) shows
//!   [`NOT_KEPT`] in one dim line; its time, direction and sender stay.
//! - System notes are the only text kept here, in a small arena of their own.
//! - Scroll position is an [`Anchor`] (entry index + row inside that entry), never a global
//!   line number, so scrolling and drawing touch only the entries passed or shown.
//! - Wrapped heights are computed per entry for the current geometry and cached in a bounded
//!   map that is dropped when the width changes (an entry whose frame was let go since is laid
//!   out again).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::{Direction, Opcode};
use crate::record::FrameStore;
use crate::text::display_lines;

pub use super::chat_layout::{ChatGeometry, EntryLayout, Row, TIME_COLUMNS, wrap};

/// Bytes of a text message shown; the rest is counted and shown as "… N bytes more".
pub const TEXT_PREVIEW_BYTES: usize = 8 * 1024;
/// Characters of each side of an auto-reply's line.
const AUTO_SIDE_CHARS: usize = 40;

/// `2 → 3 · auto-reply`: the first line of the message and of its answer, each cut; just
/// `→ 3 · auto-reply` when the message it answered is not beside it.
fn auto_line(first: &[u8], reply: Option<&[u8]>) -> String {
    let side = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        let line = display_lines(&text).into_iter().next().unwrap_or_default();
        match line.char_indices().nth(AUTO_SIDE_CHARS) {
            Some((i, _)) => format!("{}…", &line[..i]),
            None => line,
        }
    };
    match reply {
        Some(r) => format!("{} → {} · auto-reply", side(first), side(r)),
        None => format!("→ {} · auto-reply", side(first)),
    }
}

/// Bytes of a binary message shown in its hex preview.
pub const BINARY_PREVIEW_BYTES: usize = 16;
/// Shown instead of a message whose frame is no longer in the bounded frame store.
pub const NOT_KEPT: &str = "(not kept in memory — see the recording)";
/// Cached heights kept before the cache is dropped and rebuilt from what is visible.
const HEIGHT_CACHE_MAX: usize = 64 * 1024;

/// Severity of a system note (drawn dim, green or red).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteLevel {
    Info,
    Good,
    Warn,
    Error,
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Text(Direction),
    Binary(Direction),
    Note(NoteLevel),
    /// An `--auto-reply` answer, one quiet line; `answered`: folded into the server's message
    /// it answers (the entry's frame; the answer is the next one).
    Auto {
        answered: bool,
    },
}

/// Fixed-size record of one entry.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Milliseconds since the Unix epoch, or `i64::MIN` when unknown.
    at_ms: i64,
    /// A message: the absolute index of its frame in the [`FrameStore`]. A note: its index in
    /// `History::notes`.
    target: u64,
    /// Payload length (saturating), also for a frame the store let go.
    total: u32,
    peer: u16,
    kind: EntryKind,
}

const _: () = assert!(std::mem::size_of::<Record>() == 24);

/// Where a note's (possibly cut) text is in the note arena.
#[derive(Debug, Clone, Copy)]
struct NoteSpan {
    start: usize,
    stored: usize,
}

/// One entry as the views see it (borrowed from the history and the frame store).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub at: Option<SystemTime>,
    pub kind: EntryKind,
    /// Who sent it: `you`, the server host, or empty for notes.
    pub sender: &'a str,
    /// The part shown: a bounded preview of the payload (empty when the frame is not kept).
    pub bytes: &'a [u8],
    /// The full payload length.
    pub total: u64,
    /// A message's absolute frame index in the monitor's [`FrameStore`].
    pub frame: Option<u64>,
    /// False when the store let the message's frame go (only [`NOT_KEPT`] is shown).
    pub kept: bool,
}

/// Top of the view: a row inside an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub entry: usize,
    pub row: usize,
}

/// One entry in the visible window.
#[derive(Debug, Clone)]
pub struct WindowItem {
    pub index: usize,
    pub layout: EntryLayout,
    /// Rows of this entry above the top of the view.
    pub skip: usize,
}

/// What the chat view shows for a geometry.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub items: Vec<WindowItem>,
    /// Entries that arrived since the user scrolled up and are below the view.
    pub new_below: usize,
    /// The view is pinned somewhere above the bottom.
    pub scrolled: bool,
}

#[derive(Debug, Default)]
struct HeightCache {
    key: Option<(u16, u16)>,
    /// Entry index → (rows, whether its frame was kept when laid out).
    heights: HashMap<usize, (u32, bool)>,
}

/// The chat history. Message entries refer to frames of the monitor's [`FrameStore`]: the
/// methods that read text take that store (always the same one for one history).
#[derive(Debug, Default)]
pub struct History {
    records: Vec<Record>,
    /// Text of the system notes (each cut to [`TEXT_PREVIEW_BYTES`]).
    note_arena: Vec<u8>,
    notes: Vec<NoteSpan>,
    peers: Vec<String>,
    /// `None` follows the bottom.
    anchor: Option<Anchor>,
    /// Entries at or past this index are "new" while scrolled up.
    unseen_from: usize,
    cache: RefCell<HeightCache>,
    layouts: Cell<u64>,
}

impl History {
    pub fn new() -> Self {
        History {
            peers: vec![String::new()],
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Heap bytes held (records, notes, sender labels, height cache), by capacity. Message
    /// payloads are in the frame store and counted there.
    pub fn approx_heap_bytes(&self) -> usize {
        let cache = self.cache.borrow();
        self.records.capacity() * std::mem::size_of::<Record>()
            + self.note_arena.capacity()
            + self.notes.capacity() * std::mem::size_of::<NoteSpan>()
            + self.peers.capacity() * std::mem::size_of::<String>()
            + self.peers.iter().map(String::capacity).sum::<usize>()
            // Entries plus one control byte each (hashbrown).
            + cache.heights.capacity() * (std::mem::size_of::<(usize, (u32, bool))>() + 1)
    }

    /// Set the label shown as the sender of received messages from now on.
    pub fn set_peer(&mut self, label: &str) {
        if self.peers.last().map(String::as_str) != Some(label) {
            self.peers.push(label.to_string());
        }
    }

    fn peer_index(&self) -> u16 {
        (self.peers.len().saturating_sub(1)).min(u16::MAX as usize) as u16
    }

    /// Longest sender label of the current peer (for the sender column).
    pub fn sender_width(&self) -> usize {
        let peer = self.peers.last().map(|p| p.as_str()).unwrap_or("");
        unicode_width::UnicodeWidthStr::width(crate::text::sanitize_line(peer).as_str()).max(3)
    }

    fn push(&mut self, at: Option<SystemTime>, kind: EntryKind, target: u64, total: usize) {
        self.records.push(Record {
            at_ms: at.map(to_ms).unwrap_or(i64::MIN),
            target,
            total: total.min(u32::MAX as usize) as u32,
            peer: self.peer_index(),
            kind,
        });
    }

    /// Append a message entry for the newest frame of `store` (just pushed there) when it is a
    /// text or binary frame; other frames add nothing. The payload is not copied.
    pub fn push_frame(&mut self, store: &FrameStore) {
        let Some(f) = store.last() else { return };
        let abs = store.total_pushed() - 1;
        if f.origin == crate::model::Origin::Auto {
            // Folded into the message it answers when that is the entry before.
            let folds = self.records.last().is_some_and(|r| {
                r.kind == EntryKind::Text(Direction::ServerToClient) && r.target + 1 == abs
            });
            if folds {
                let i = self.records.len() - 1;
                self.records[i].kind = EntryKind::Auto { answered: true };
                self.cache.borrow_mut().heights.remove(&i);
            } else {
                let kind = EntryKind::Auto { answered: false };
                self.push(Some(f.at), kind, abs, f.payload.len());
            }
            return;
        }
        let kind = match f.opcode {
            Opcode::Text => EntryKind::Text(f.dir),
            Opcode::Binary => EntryKind::Binary(f.dir),
            _ => return,
        };
        self.push(Some(f.at), kind, abs, f.payload.len());
    }

    /// Append a system note (only a bounded preview of its text is kept).
    pub fn push_note(&mut self, at: Option<SystemTime>, level: NoteLevel, text: &str) {
        let cut = text.floor_char_boundary(TEXT_PREVIEW_BYTES.min(text.len()));
        let start = self.note_arena.len();
        self.note_arena.extend_from_slice(&text.as_bytes()[..cut]);
        self.notes.push(NoteSpan { start, stored: cut });
        let index = (self.notes.len() - 1) as u64;
        self.push(at, EntryKind::Note(level), index, text.len());
    }

    /// Replace the text of the note at entry `index` (a status line that updates in place);
    /// anything else there is left alone.
    pub fn replace_note(&mut self, index: usize, level: NoteLevel, text: &str) {
        let Some(r) = self.records.get_mut(index) else {
            return;
        };
        if !matches!(r.kind, EntryKind::Note(_)) {
            return;
        }
        let Some(span) = self.notes.get_mut(r.target as usize) else {
            return;
        };
        let cut = text.floor_char_boundary(TEXT_PREVIEW_BYTES.min(text.len()));
        // In place when it fits (a status line's texts are about the same length).
        let start = if cut <= span.stored {
            span.start
        } else {
            self.note_arena.len()
        };
        if start == self.note_arena.len() {
            self.note_arena.extend_from_slice(&text.as_bytes()[..cut]);
        } else {
            self.note_arena[start..start + cut].copy_from_slice(&text.as_bytes()[..cut]);
        }
        *span = NoteSpan { start, stored: cut };
        r.kind = EntryKind::Note(level);
        r.total = text.len().min(u32::MAX as usize) as u32;
        self.cache.borrow_mut().heights.remove(&index);
    }

    /// The frame at `abs` changed in place (a held message settled, perhaps edited): its
    /// entry is laid out again. Looked for from the newest (held messages are recent).
    pub fn frame_settled(&mut self, abs: u64, total: usize) {
        let Some(i) = self.records.iter().rposition(|r| {
            r.target == abs && matches!(r.kind, EntryKind::Text(_) | EntryKind::Binary(_))
        }) else {
            return;
        };
        self.records[i].total = total.min(u32::MAX as usize) as u32;
        self.cache.borrow_mut().heights.remove(&i);
    }

    /// True unless the entry is a message whose frame `store` no longer keeps.
    fn kept(&self, index: usize, store: &FrameStore) -> bool {
        match self.records.get(index) {
            Some(r) if !matches!(r.kind, EntryKind::Note(_)) => {
                r.target >= store.dropped() && r.target < store.total_pushed()
            }
            _ => true,
        }
    }

    pub fn get<'a>(&'a self, index: usize, store: &'a FrameStore) -> Option<Entry<'a>> {
        let r = self.records.get(index)?;
        let sender = match r.kind {
            EntryKind::Text(Direction::ClientToServer)
            | EntryKind::Binary(Direction::ClientToServer) => "you",
            EntryKind::Text(Direction::ServerToClient)
            | EntryKind::Binary(Direction::ServerToClient) => self
                .peers
                .get(r.peer as usize)
                .map(String::as_str)
                .unwrap_or(""),
            EntryKind::Note(_) | EntryKind::Auto { .. } => "",
        };
        let (bytes, total, frame, kept): (&[u8], u64, _, _) = match r.kind {
            EntryKind::Note(_) => {
                let bytes = self
                    .notes
                    .get(r.target as usize)
                    .and_then(|n| self.note_arena.get(n.start..n.start + n.stored))
                    .unwrap_or(&[]);
                (bytes, r.total as u64, None, true)
            }
            EntryKind::Text(_) | EntryKind::Binary(_) | EntryKind::Auto { .. } => {
                match store.get_absolute(r.target) {
                    Some(f) => {
                        let shown = match r.kind {
                            EntryKind::Binary(_) => {
                                &f.payload[..f.payload.len().min(BINARY_PREVIEW_BYTES)]
                            }
                            _ => text_preview(f.payload),
                        };
                        (shown, f.payload.len() as u64, Some(r.target), true)
                    }
                    None => (&[], r.total as u64, Some(r.target), false),
                }
            }
        };
        Some(Entry {
            at: (r.at_ms != i64::MIN).then(|| from_ms(r.at_ms)),
            kind: r.kind,
            sender,
            bytes,
            total,
            frame,
            kept,
        })
    }

    /// Display lines of an entry (sanitised), and the index of its "… more" line.
    pub fn display(&self, index: usize, store: &FrameStore) -> (Vec<String>, Option<usize>) {
        let Some(e) = self.get(index, store) else {
            return (vec![String::new()], None);
        };
        let more = e.total.saturating_sub(e.bytes.len() as u64);
        match e.kind {
            EntryKind::Binary(_) if !e.kept => {
                (vec![format!("<binary {} bytes> {NOT_KEPT}", e.total)], None)
            }
            EntryKind::Text(_) | EntryKind::Auto { .. } if !e.kept => {
                (vec![NOT_KEPT.to_string()], None)
            }
            EntryKind::Auto { answered } => {
                let reply = match (answered, e.frame) {
                    (true, Some(f)) => store.get_absolute(f + 1).map(|r| r.payload),
                    _ => None,
                };
                (vec![auto_line(e.bytes, reply)], None)
            }
            EntryKind::Binary(_) => {
                let mut s = format!("<binary {} bytes>", e.total);
                if !e.bytes.is_empty() {
                    s.push(' ');
                    s.push_str(&crate::fmt::hex_spaced(e.bytes));
                }
                if more > 0 {
                    s.push_str(" …");
                }
                (vec![s], None)
            }
            EntryKind::Text(_) | EntryKind::Note(_) => {
                let text = String::from_utf8_lossy(e.bytes);
                let mut lines = display_lines(&text);
                let more_line = (more > 0).then(|| {
                    lines.push(format!("… {more} bytes more"));
                    lines.len() - 1
                });
                (lines, more_line)
            }
        }
    }

    /// Lay out one entry for `geo`. Counted, so tests can check drawing stays local.
    pub fn layout(&self, index: usize, geo: &ChatGeometry, store: &FrameStore) -> EntryLayout {
        self.layouts.set(self.layouts.get() + 1);
        let kind = self
            .records
            .get(index)
            .map(|r| r.kind)
            .unwrap_or(EntryKind::Note(NoteLevel::Info));
        let width = geo.text_width(kind);
        let (lines, more_line) = self.display(index, store);
        let kept = self.kept(index, store);
        let mut rows = Vec::new();
        if kept {
            for (i, line) in lines.iter().enumerate() {
                for range in wrap(line, width) {
                    rows.push(Row { line: i, range });
                }
            }
        } else {
            // A placeholder is one row at any width (cut at the edge when narrow).
            rows.push(Row {
                line: 0,
                range: 0..lines[0].len(),
            });
        }
        if matches!(kind, EntryKind::Auto { .. }) {
            // Quiet: one row, whatever its length.
            rows.truncate(1);
        }
        self.remember_height(index, geo, rows.len(), kept);
        EntryLayout {
            lines,
            rows,
            more_line,
        }
    }

    /// How many entry layouts were computed so far (for tests and benchmarks).
    pub fn layouts_computed(&self) -> u64 {
        self.layouts.get()
    }

    /// How many heights are cached.
    pub fn cached_heights(&self) -> usize {
        self.cache.borrow().heights.len()
    }

    fn remember_height(&self, index: usize, geo: &ChatGeometry, h: usize, kept: bool) {
        let mut c = self.cache.borrow_mut();
        if c.key != Some(geo.wrap_key()) || c.heights.len() >= HEIGHT_CACHE_MAX {
            c.key = Some(geo.wrap_key());
            c.heights.clear();
        }
        c.heights.insert(index, (h as u32, kept));
    }

    /// Wrapped height of one entry (cached per geometry, and laid out again once the store
    /// lets its frame go).
    pub fn height(&self, index: usize, geo: &ChatGeometry, store: &FrameStore) -> usize {
        {
            let c = self.cache.borrow();
            if c.key == Some(geo.wrap_key())
                && let Some(&(h, kept)) = c.heights.get(&index)
                && kept == self.kept(index, store)
            {
                return h as usize;
            }
        }
        self.layout(index, geo, store).height()
    }

    /// True when the view follows the newest entry.
    pub fn following(&self) -> bool {
        self.anchor.is_none()
    }

    pub fn anchor(&self) -> Option<Anchor> {
        self.anchor
    }

    /// Rows from `a` to the end, counting no further than `limit`.
    fn rows_below(&self, a: Anchor, geo: &ChatGeometry, limit: usize, store: &FrameStore) -> usize {
        let mut rows = 0;
        let mut i = a.entry;
        let mut skip = a.row;
        while i < self.len() && rows <= limit {
            rows += self.height(i, geo, store).saturating_sub(skip);
            skip = 0;
            i += 1;
        }
        rows
    }

    /// The top row when following the bottom, or `None` if everything fits with room to spare.
    fn bottom_top(&self, geo: &ChatGeometry, store: &FrameStore) -> Option<Anchor> {
        let h = geo.height.max(1) as usize;
        let mut rows = 0;
        let mut i = self.len();
        while i > 0 {
            i -= 1;
            rows += self.height(i, geo, store);
            if rows >= h {
                return Some(Anchor {
                    entry: i,
                    row: rows - h,
                });
            }
        }
        None
    }

    fn leave_bottom(&mut self, a: Anchor) {
        if self.anchor.is_none() {
            self.unseen_from = self.len();
        }
        self.anchor = Some(a);
    }

    /// Scroll towards older entries by `n` rows.
    pub fn scroll_up(&mut self, n: usize, geo: &ChatGeometry, store: &FrameStore) {
        let mut a = match self.anchor {
            Some(a) => self.clamp(a, geo, store),
            None => match self.bottom_top(geo, store) {
                Some(a) => a,
                None => return,
            },
        };
        let mut left = n;
        loop {
            if a.row >= left {
                a.row -= left;
                break;
            }
            left -= a.row + 1;
            if a.entry == 0 {
                a.row = 0;
                break;
            }
            a.entry -= 1;
            a.row = self.height(a.entry, geo, store).saturating_sub(1);
        }
        self.leave_bottom(a);
        self.settle(geo, store);
    }

    /// Scroll towards newer entries by `n` rows; reaching the bottom follows again.
    pub fn scroll_down(&mut self, n: usize, geo: &ChatGeometry, store: &FrameStore) {
        let Some(a) = self.anchor else { return };
        let mut a = self.clamp(a, geo, store);
        let mut left = n;
        while left > 0 && a.entry < self.len() {
            let h = self.height(a.entry, geo, store);
            if a.row + left < h {
                a.row += left;
                left = 0;
            } else {
                left -= h - a.row;
                a.entry += 1;
                a.row = 0;
            }
        }
        if a.entry >= self.len() {
            self.anchor = None;
            return;
        }
        self.anchor = Some(a);
        self.settle(geo, store);
    }

    /// Jump to the oldest entry.
    pub fn scroll_top(&mut self, geo: &ChatGeometry, store: &FrameStore) {
        if self.bottom_top(geo, store).is_some() {
            self.leave_bottom(Anchor { entry: 0, row: 0 });
            self.settle(geo, store);
        }
    }

    /// Jump to the newest entry and follow it.
    pub fn scroll_bottom(&mut self) {
        self.anchor = None;
    }

    fn clamp(&self, a: Anchor, geo: &ChatGeometry, store: &FrameStore) -> Anchor {
        if self.is_empty() {
            return Anchor { entry: 0, row: 0 };
        }
        let entry = a.entry.min(self.len() - 1);
        let row = a.row.min(self.height(entry, geo, store).saturating_sub(1));
        Anchor { entry, row }
    }

    /// Follow the bottom again when the anchored view would show it anyway.
    fn settle(&mut self, geo: &ChatGeometry, store: &FrameStore) {
        if let Some(a) = self.anchor {
            let h = geo.height.max(1) as usize;
            if self.rows_below(a, geo, h, store) <= h {
                self.anchor = None;
            }
        }
    }

    /// The entries visible in `geo`, laid out. Touches only what is shown (plus, when an
    /// anchored view runs out of entries, the bottom page).
    pub fn window(&self, geo: &ChatGeometry, store: &FrameStore) -> Window {
        let h = geo.height as usize;
        let n = self.len();
        if h == 0 || n == 0 {
            return Window {
                scrolled: self.anchor.is_some(),
                ..Default::default()
            };
        }
        if let Some(a) = self.anchor {
            let mut items = Vec::new();
            let mut rows = 0;
            let mut i = a.entry.min(n - 1);
            let mut skip = a.row;
            while i < n && rows < h {
                let layout = self.layout(i, geo, store);
                let s = skip.min(layout.height().saturating_sub(1));
                skip = 0;
                rows += layout.height() - s;
                items.push(WindowItem {
                    index: i,
                    layout,
                    skip: s,
                });
                i += 1;
            }
            if rows >= h {
                let last_shown = items.last().map(|it| it.index + 1).unwrap_or(0);
                return Window {
                    items,
                    new_below: n.saturating_sub(last_shown.max(self.unseen_from)),
                    scrolled: true,
                };
            }
        }
        // Bottom-aligned (or top-aligned when everything fits).
        let mut items = Vec::new();
        let mut rows = 0;
        let mut i = n;
        while i > 0 && rows < h {
            i -= 1;
            let layout = self.layout(i, geo, store);
            rows += layout.height();
            items.push(WindowItem {
                index: i,
                layout,
                skip: 0,
            });
        }
        items.reverse();
        if rows > h
            && let Some(first) = items.first_mut()
        {
            first.skip = rows - h;
        }
        Window {
            items,
            new_below: 0,
            scrolled: false,
        }
    }
}

/// The first [`TEXT_PREVIEW_BYTES`] of a text payload, cut at a character boundary when the
/// payload is UTF-8 (it is shown lossily when not).
fn text_preview(payload: &[u8]) -> &[u8] {
    if payload.len() <= TEXT_PREVIEW_BYTES {
        return payload;
    }
    let head = &payload[..TEXT_PREVIEW_BYTES];
    match std::str::from_utf8(head) {
        // Cut inside a character: leave it out.
        Err(e) if e.error_len().is_none() => &head[..e.valid_up_to()],
        _ => head,
    }
}

pub use crate::text::cell_width;

fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis().min(i64::MAX as u128 - 1) as i64,
        Err(e) => -(e.duration().as_millis().min(i64::MAX as u128 - 1) as i64),
    }
}

fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

pub use crate::fmt::clock;

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
