//! The message history: a compact append-only store, its line layout, and a scroll anchor.
//!
//! Cost model (issue 4): nothing here is proportional to the history size except memory.
//! - Storage is one byte arena plus a fixed-size record per entry. Huge messages keep only a
//!   bounded preview ([`TEXT_PREVIEW_BYTES`]) and remember how many bytes were left out.
//! - Scroll position is an [`Anchor`] (entry index + row inside that entry), never a global
//!   line number, so scrolling and drawing touch only the entries passed or shown.
//! - Wrapped heights are computed per entry for the current geometry and cached in a bounded
//!   map that is dropped when the width changes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Range;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ratatui::buffer::CellWidth;
use unicode_segmentation::UnicodeSegmentation;

use crate::model::Direction;
use crate::text::display_lines;

/// Bytes of a text message kept for display; the rest is counted and shown as "… N bytes more".
pub const TEXT_PREVIEW_BYTES: usize = 8 * 1024;
/// Bytes of a binary message kept for its hex preview.
pub const BINARY_PREVIEW_BYTES: usize = 16;
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
}

/// Fixed-size record; the payload lives in the arena.
#[derive(Debug, Clone, Copy)]
struct Record {
    start: u64,
    /// Total payload length (may exceed the stored preview).
    total: u64,
    /// Milliseconds since the Unix epoch, or `i64::MIN` when unknown.
    at_ms: i64,
    stored: u32,
    peer: u16,
    kind: EntryKind,
}

/// One entry as the views see it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub at: Option<SystemTime>,
    pub kind: EntryKind,
    /// Who sent it: `you`, the server host, or empty for notes.
    pub sender: &'a str,
    /// The stored (possibly truncated) payload.
    pub bytes: &'a [u8],
    /// The full payload length.
    pub total: u64,
}

/// Where the chat view's text goes; set by the last draw (or a resize).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatGeometry {
    /// Columns inside the history block.
    pub width: u16,
    /// Rows inside the history block.
    pub height: u16,
    /// Columns of the sender column (0 hides it).
    pub sender: u16,
}

impl Default for ChatGeometry {
    fn default() -> Self {
        ChatGeometry {
            width: 66,
            height: 20,
            sender: 9,
        }
    }
}

/// Columns of the `HH:MM:SS ` time column.
pub const TIME_COLUMNS: u16 = 9;
/// Below this width the time and sender columns are dropped.
const COMPACT_BELOW: u16 = 40;

impl ChatGeometry {
    /// Geometry for a history block of `width` × `height` inner cells and this sender label.
    pub fn new(width: u16, height: u16, longest_sender: usize) -> Self {
        let sender = if width < 48 {
            0
        } else {
            longest_sender.clamp(3, 16) as u16
        };
        ChatGeometry {
            width,
            height,
            sender,
        }
    }
    /// True when the time column is shown.
    pub fn show_time(&self) -> bool {
        self.width >= COMPACT_BELOW
    }
    /// Columns before the text of an entry of this kind.
    pub fn prefix(&self, kind: EntryKind) -> u16 {
        let time = if self.show_time() { TIME_COLUMNS } else { 0 };
        match kind {
            // "↑ " + sender + " "
            EntryKind::Text(_) | EntryKind::Binary(_) if self.sender > 0 && self.show_time() => {
                time + 2 + self.sender + 1
            }
            _ => time + 2,
        }
    }
    /// Columns available to an entry's text.
    pub fn text_width(&self, kind: EntryKind) -> usize {
        self.width.saturating_sub(self.prefix(kind)).max(1) as usize
    }
    fn wrap_key(&self) -> (u16, u16) {
        (self.width, self.sender)
    }
}

/// One drawn row of an entry: a slice of one of its display lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub range: Range<usize>,
}

/// An entry broken into display lines (sanitised) and wrapped rows.
#[derive(Debug, Clone)]
pub struct EntryLayout {
    pub lines: Vec<String>,
    pub rows: Vec<Row>,
    /// Index in `lines` of the "… N bytes more" line, if any.
    pub more_line: Option<usize>,
}

impl EntryLayout {
    pub fn height(&self) -> usize {
        self.rows.len()
    }
    pub fn row_text(&self, row: &Row) -> &str {
        &self.lines[row.line][row.range.clone()]
    }
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
    heights: HashMap<usize, u32>,
}

/// The chat history.
#[derive(Debug, Default)]
pub struct History {
    arena: Vec<u8>,
    records: Vec<Record>,
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

    fn push(&mut self, at: Option<SystemTime>, kind: EntryKind, bytes: &[u8], total: u64) {
        let start = self.arena.len() as u64;
        self.arena.extend_from_slice(bytes);
        self.records.push(Record {
            start,
            total,
            at_ms: at.map(to_ms).unwrap_or(i64::MIN),
            stored: bytes.len() as u32,
            peer: self.peer_index(),
            kind,
        });
    }

    /// Append a text message (only a bounded preview is kept).
    pub fn push_text(&mut self, at: SystemTime, dir: Direction, text: &str) {
        let cut = text.floor_char_boundary(TEXT_PREVIEW_BYTES.min(text.len()));
        self.push(
            Some(at),
            EntryKind::Text(dir),
            &text.as_bytes()[..cut],
            text.len() as u64,
        );
    }

    /// Append a binary message (only a short preview is kept).
    pub fn push_binary(&mut self, at: SystemTime, dir: Direction, bytes: &[u8]) {
        let keep = bytes.len().min(BINARY_PREVIEW_BYTES);
        self.push(
            Some(at),
            EntryKind::Binary(dir),
            &bytes[..keep],
            bytes.len() as u64,
        );
    }

    /// Append a system note.
    pub fn push_note(&mut self, at: Option<SystemTime>, level: NoteLevel, text: &str) {
        let cut = text.floor_char_boundary(TEXT_PREVIEW_BYTES.min(text.len()));
        self.push(
            at,
            EntryKind::Note(level),
            &text.as_bytes()[..cut],
            text.len() as u64,
        );
    }

    pub fn get(&self, index: usize) -> Option<Entry<'_>> {
        let r = self.records.get(index)?;
        let start = r.start as usize;
        let sender = match r.kind {
            EntryKind::Text(Direction::Send) | EntryKind::Binary(Direction::Send) => "you",
            EntryKind::Text(Direction::Receive) | EntryKind::Binary(Direction::Receive) => self
                .peers
                .get(r.peer as usize)
                .map(String::as_str)
                .unwrap_or(""),
            EntryKind::Note(_) => "",
        };
        Some(Entry {
            at: (r.at_ms != i64::MIN).then(|| from_ms(r.at_ms)),
            kind: r.kind,
            sender,
            bytes: &self.arena[start..start + r.stored as usize],
            total: r.total,
        })
    }

    /// Display lines of an entry (sanitised), and the index of its "… more" line.
    pub fn display(&self, index: usize) -> (Vec<String>, Option<usize>) {
        let Some(e) = self.get(index) else {
            return (vec![String::new()], None);
        };
        let more = e.total.saturating_sub(e.bytes.len() as u64);
        match e.kind {
            EntryKind::Binary(_) => {
                let mut s = format!("<binary {} bytes>", e.total);
                for b in e.bytes {
                    s.push_str(&format!(" {b:02x}"));
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
    pub fn layout(&self, index: usize, geo: &ChatGeometry) -> EntryLayout {
        self.layouts.set(self.layouts.get() + 1);
        let kind = self
            .records
            .get(index)
            .map(|r| r.kind)
            .unwrap_or(EntryKind::Note(NoteLevel::Info));
        let width = geo.text_width(kind);
        let (lines, more_line) = self.display(index);
        let mut rows = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            for range in wrap(line, width) {
                rows.push(Row { line: i, range });
            }
        }
        self.remember_height(index, geo, rows.len());
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

    fn remember_height(&self, index: usize, geo: &ChatGeometry, h: usize) {
        let mut c = self.cache.borrow_mut();
        if c.key != Some(geo.wrap_key()) || c.heights.len() >= HEIGHT_CACHE_MAX {
            c.key = Some(geo.wrap_key());
            c.heights.clear();
        }
        c.heights.insert(index, h as u32);
    }

    /// Wrapped height of one entry (cached per geometry).
    pub fn height(&self, index: usize, geo: &ChatGeometry) -> usize {
        {
            let c = self.cache.borrow();
            if c.key == Some(geo.wrap_key())
                && let Some(h) = c.heights.get(&index)
            {
                return *h as usize;
            }
        }
        self.layout(index, geo).height()
    }

    /// True when the view follows the newest entry.
    pub fn following(&self) -> bool {
        self.anchor.is_none()
    }

    pub fn anchor(&self) -> Option<Anchor> {
        self.anchor
    }

    /// Rows from `a` to the end, counting no further than `limit`.
    fn rows_below(&self, a: Anchor, geo: &ChatGeometry, limit: usize) -> usize {
        let mut rows = 0;
        let mut i = a.entry;
        let mut skip = a.row;
        while i < self.len() && rows <= limit {
            rows += self.height(i, geo).saturating_sub(skip);
            skip = 0;
            i += 1;
        }
        rows
    }

    /// The top row when following the bottom, or `None` if everything fits with room to spare.
    fn bottom_top(&self, geo: &ChatGeometry) -> Option<Anchor> {
        let h = geo.height.max(1) as usize;
        let mut rows = 0;
        let mut i = self.len();
        while i > 0 {
            i -= 1;
            rows += self.height(i, geo);
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
    pub fn scroll_up(&mut self, n: usize, geo: &ChatGeometry) {
        let mut a = match self.anchor {
            Some(a) => self.clamp(a, geo),
            None => match self.bottom_top(geo) {
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
            a.row = self.height(a.entry, geo).saturating_sub(1);
        }
        self.leave_bottom(a);
        self.settle(geo);
    }

    /// Scroll towards newer entries by `n` rows; reaching the bottom follows again.
    pub fn scroll_down(&mut self, n: usize, geo: &ChatGeometry) {
        let Some(a) = self.anchor else { return };
        let mut a = self.clamp(a, geo);
        let mut left = n;
        while left > 0 && a.entry < self.len() {
            let h = self.height(a.entry, geo);
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
        self.settle(geo);
    }

    /// Jump to the oldest entry.
    pub fn scroll_top(&mut self, geo: &ChatGeometry) {
        if self.bottom_top(geo).is_some() {
            self.leave_bottom(Anchor { entry: 0, row: 0 });
            self.settle(geo);
        }
    }

    /// Jump to the newest entry and follow it.
    pub fn scroll_bottom(&mut self) {
        self.anchor = None;
    }

    fn clamp(&self, a: Anchor, geo: &ChatGeometry) -> Anchor {
        if self.is_empty() {
            return Anchor { entry: 0, row: 0 };
        }
        let entry = a.entry.min(self.len() - 1);
        let row = a.row.min(self.height(entry, geo).saturating_sub(1));
        Anchor { entry, row }
    }

    /// Follow the bottom again when the anchored view would show it anyway.
    fn settle(&mut self, geo: &ChatGeometry) {
        if let Some(a) = self.anchor {
            let h = geo.height.max(1) as usize;
            if self.rows_below(a, geo, h) <= h {
                self.anchor = None;
            }
        }
    }

    /// The entries visible in `geo`, laid out. Touches only what is shown (plus, when an
    /// anchored view runs out of entries, the bottom page).
    pub fn window(&self, geo: &ChatGeometry) -> Window {
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
                let layout = self.layout(i, geo);
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
            let layout = self.layout(i, geo);
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

/// Break one sanitised line into rows of at most `width` cells: at spaces when possible, else
/// between grapheme clusters (never inside one). Spaces at a break hang past the edge.
pub fn wrap(line: &str, width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut start = 0;
    let mut col = 0;
    // Byte just after the last space in the current row, and the row's width up to it.
    let mut brk: Option<(usize, usize)> = None;
    for (i, g) in line.grapheme_indices(true) {
        let w = cell_width(g);
        if g == " " {
            if col + w > width {
                rows.push(start..i + 1);
                start = i + 1;
                col = 0;
                brk = None;
            } else {
                col += w;
                brk = Some((i + 1, col));
            }
            continue;
        }
        while col + w > width && col > 0 {
            match brk.take() {
                Some((b, bc)) if b > start => {
                    rows.push(start..b);
                    start = b;
                    col -= bc;
                }
                _ => {
                    rows.push(start..i);
                    start = i;
                    col = 0;
                }
            }
        }
        col += w;
    }
    rows.push(start..line.len());
    rows
}

/// Cells a grapheme takes when ratatui draws it (control characters are skipped by ratatui).
pub fn cell_width(g: &str) -> usize {
    if g.chars().any(char::is_control) {
        0
    } else {
        g.cell_width() as usize
    }
}

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

/// `HH:MM:SS` of `t` at `offset_secs` east of UTC.
pub fn clock(t: SystemTime, offset_secs: i32) -> String {
    let secs = to_ms(t).div_euclid(1000) + offset_secs as i64;
    let sod = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(line: &str, width: usize) -> Vec<&str> {
        wrap(line, width).into_iter().map(|r| &line[r]).collect()
    }

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(rows("hello world foo", 11), vec!["hello world ", "foo"]);
        assert_eq!(rows("hello world foo", 8), vec!["hello ", "world ", "foo"]);
        assert_eq!(rows("short", 20), vec!["short"]);
        assert_eq!(rows("", 5), vec![""]);
    }

    #[test]
    fn wrap_hard_breaks_long_words() {
        assert_eq!(rows("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(rows("ab abcdefghij", 4), vec!["ab ", "abcd", "efgh", "ij"]);
    }

    #[test]
    fn wrap_counts_wide_characters_and_keeps_clusters() {
        // Each CJK character is two cells: three fit in 7 columns, not four.
        assert_eq!(rows("中文字符测试", 7), vec!["中文字", "符测试"]);
        assert_eq!(rows("🙂🙂🙂", 5), vec!["🙂🙂", "🙂"]);
        // Combining marks stay with their base character.
        assert_eq!(
            rows("e\u{301}e\u{301}e\u{301}", 2),
            vec!["e\u{301}e\u{301}", "e\u{301}"]
        );
        for line in ["中文字符测试 mixed ascii 和中文", "🙂 emoji 🎉 party"] {
            for w in 1..12 {
                for r in wrap(line, w) {
                    let cells: usize = line[r.clone()]
                        .trim_end_matches(' ')
                        .graphemes(true)
                        .map(cell_width)
                        .sum();
                    assert!(
                        cells <= w.max(2),
                        "{line:?} at {w}: row {r:?} is {cells} wide"
                    );
                }
            }
        }
    }

    #[test]
    fn wrap_never_loses_text() {
        let line = "the quick  brown fox 中文 jumps🙂over   the lazy dog";
        for w in 1..30 {
            let joined: String = rows(line, w).concat();
            assert_eq!(joined, line, "width {w}");
        }
    }

    #[test]
    fn huge_text_keeps_a_bounded_preview() {
        let mut h = History::new();
        let big = "x".repeat(1 << 20);
        h.push_text(at(0), Direction::Receive, &big);
        let e = h.get(0).unwrap();
        assert_eq!(e.bytes.len(), TEXT_PREVIEW_BYTES);
        assert_eq!(e.total, 1 << 20);
        let (lines, more) = h.display(0);
        assert_eq!(
            lines.last().unwrap(),
            &format!("… {} bytes more", (1 << 20) - TEXT_PREVIEW_BYTES)
        );
        assert_eq!(more, Some(lines.len() - 1));
    }

    #[test]
    fn preview_cut_respects_char_boundaries() {
        let mut h = History::new();
        let big = "中".repeat(TEXT_PREVIEW_BYTES); // 3 bytes each
        h.push_text(at(0), Direction::Receive, &big);
        let e = h.get(0).unwrap();
        assert!(std::str::from_utf8(e.bytes).is_ok());
    }

    #[test]
    fn binary_shows_length_and_hex() {
        let mut h = History::new();
        h.push_binary(at(0), Direction::Receive, &[0, 1, 0xab, 0xff]);
        assert_eq!(h.display(0).0, vec!["<binary 4 bytes> 00 01 ab ff"]);
        h.push_binary(at(0), Direction::Receive, &[7u8; 40]);
        let (lines, _) = h.display(1);
        assert!(lines[0].starts_with("<binary 40 bytes> 07 07"));
        assert!(lines[0].ends_with(" …"));
    }

    #[test]
    fn clock_formats_with_offset() {
        assert_eq!(clock(at(0), 0), "00:00:00");
        assert_eq!(clock(at(13 * 3600 + 5 * 60 + 9), 0), "13:05:09");
        assert_eq!(clock(at(23 * 3600), 2 * 3600), "01:00:00");
        assert_eq!(clock(at(3600), -2 * 3600), "23:00:00");
    }

    fn filled(n: usize) -> History {
        let mut h = History::new();
        h.set_peer("host");
        for i in 0..n {
            h.push_text(at(i as u64), Direction::Receive, &format!("message {i}"));
        }
        h
    }

    fn geo(height: u16) -> ChatGeometry {
        ChatGeometry::new(60, height, 4)
    }

    fn top(w: &Window) -> (usize, usize) {
        let f = &w.items[0];
        (f.index, f.skip)
    }

    #[test]
    fn follows_bottom_and_scrolls_by_rows() {
        let mut h = filled(100);
        let g = geo(10);
        let w = h.window(&g);
        assert_eq!(top(&w), (90, 0));
        assert_eq!(w.items.last().unwrap().index, 99);
        h.scroll_up(5, &g);
        assert!(!h.following());
        assert_eq!(top(&h.window(&g)), (85, 0));
        h.scroll_down(3, &g);
        assert_eq!(top(&h.window(&g)), (88, 0));
        h.scroll_down(2, &g);
        assert!(h.following(), "reaching the bottom follows again");
        h.scroll_top(&g);
        assert_eq!(top(&h.window(&g)), (0, 0));
        h.scroll_up(5, &g);
        assert_eq!(top(&h.window(&g)), (0, 0));
        h.scroll_bottom();
        assert!(h.following());
    }

    #[test]
    fn scrolling_through_multi_row_entries() {
        let mut h = History::new();
        h.set_peer("host");
        for i in 0..20 {
            h.push_text(at(i), Direction::Receive, &format!("m{i}\nsecond\nthird"));
        }
        let g = geo(5);
        // Bottom: 60 rows, 5 visible: entry 18 from row 1.
        assert_eq!(top(&h.window(&g)), (18, 1));
        h.scroll_up(1, &g);
        assert_eq!(h.anchor(), Some(Anchor { entry: 18, row: 0 }));
        h.scroll_up(1, &g);
        assert_eq!(h.anchor(), Some(Anchor { entry: 17, row: 2 }));
        h.scroll_up(7, &g);
        assert_eq!(h.anchor(), Some(Anchor { entry: 15, row: 1 }));
        h.scroll_down(8, &g);
        assert_eq!(h.anchor(), Some(Anchor { entry: 18, row: 0 }));
    }

    #[test]
    fn new_below_counts_arrivals_after_scrolling_up() {
        let mut h = filled(50);
        let g = geo(10);
        h.scroll_up(20, &g);
        assert_eq!(h.window(&g).new_below, 0);
        h.push_text(at(1000), Direction::Receive, "late 1");
        h.push_text(at(1001), Direction::Receive, "late 2");
        let w = h.window(&g);
        assert!(w.scrolled);
        assert_eq!(w.new_below, 2);
        // The view did not move.
        assert_eq!(top(&w), (20, 0));
        h.scroll_bottom();
        assert_eq!(h.window(&g).new_below, 0);
    }

    #[test]
    fn everything_fits_means_no_scrolling() {
        let mut h = filled(3);
        let g = geo(10);
        h.scroll_up(5, &g);
        assert!(h.following());
        h.scroll_top(&g);
        assert!(h.following());
        let w = h.window(&g);
        assert_eq!(top(&w), (0, 0));
        assert_eq!(w.items.len(), 3);
    }

    #[test]
    fn window_touches_only_visible_entries() {
        let mut h = filled(100_000);
        let g = geo(30);
        let before = h.layouts_computed();
        let w = h.window(&g);
        assert_eq!(w.items.len(), 30);
        assert!(h.layouts_computed() - before <= 30);
        // Jump to the top and to the middle: still only a screenful.
        h.scroll_top(&g);
        let before = h.layouts_computed();
        h.window(&g);
        assert!(h.layouts_computed() - before <= 30);
        h.scroll_down(50_000, &g);
        let before = h.layouts_computed();
        let w = h.window(&g);
        assert_eq!(top(&w), (50_000, 0));
        assert!(h.layouts_computed() - before <= 30);
    }

    #[test]
    fn height_cache_is_dropped_on_resize() {
        let h = filled(10);
        let g = geo(5);
        h.window(&g);
        assert!(h.cached_heights() > 0);
        let narrow = ChatGeometry::new(50, 5, 4);
        h.height(0, &narrow);
        assert_eq!(h.cached_heights(), 1);
    }
}
