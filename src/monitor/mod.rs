//! The session monitor's state: every frame in a bounded [`FrameStore`], the filter with its
//! incrementally kept list of matching frames, the selection, pause, detail and handshake
//! toggles, and the live [`Stats`].
//!
//! Cost model (issue 4): a frame costs O(1) to take in (plus one filter match of its payload
//! when a filter is active); a draw costs O(visible rows). Rows are addressed by the frame's
//! *absolute index* (frames ever pushed before it, see [`FrameStore::dropped`]), which stays
//! valid while old frames are dropped. With a filter the rows are the sorted list of matching
//! absolute indices, appended as frames arrive and trimmed at the front as frames are dropped;
//! positions in it are found by binary search.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;

use tui_input::Input;

pub use filter::Filter;

use crate::model::FrameRecord;
use crate::record::stats::Stats;
use crate::record::{FrameStore, FrameView};

pub mod filter;

/// What the detail pane shows, for the draw-side cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKind {
    Frame { abs: u64, hex: bool },
    Handshake { generation: u64 },
}

/// Lines of the detail pane laid out for one width, kept between draws (filled by the UI).
#[derive(Debug)]
pub struct DetailCache {
    pub kind: DetailKind,
    pub width: u16,
    pub lines: Vec<ratatui::text::Line<'static>>,
    /// How the payload is shown ("text", "JSON", "hex", …), for the pane's title.
    pub what: &'static str,
}

/// The filter line while it is being typed.
#[derive(Debug, Default)]
pub struct FilterEdit {
    pub input: Input,
    /// Why the text does not parse (checked as it is typed), if it does not.
    pub error: Option<String>,
}

/// Monitor state; see the module docs.
#[derive(Debug)]
pub struct Monitor {
    pub(crate) store: FrameStore,
    pub(crate) stats: Stats,
    pub(crate) filter: Option<Filter>,
    /// Absolute indices of kept frames matching `filter`, ascending.
    pub(crate) matches: VecDeque<u64>,
    pub(crate) edit: Option<FilterEdit>,
    /// Absolute index of the selected frame; `None` follows the newest row.
    pub(crate) selected: Option<u64>,
    /// `total_pushed` when the display was paused.
    pub(crate) pause_mark: Option<u64>,
    pub(crate) hex: bool,
    pub(crate) handshake_panel: bool,
    pub(crate) detail_scroll: usize,
    /// Bumped on each handshake (for the panel's cache).
    pub(crate) handshake_gen: u64,
    pub(crate) recording: Option<PathBuf>,
    pub(crate) pings: u64,
    pub(crate) last_export: Option<(String, u32)>,
    // Kept by the draw:
    pub(crate) top: Cell<u64>,
    pub(crate) page: Cell<u16>,
    pub(crate) detail_page: Cell<u16>,
    pub(crate) detail_max: Cell<usize>,
    pub(crate) rows_drawn: Cell<u64>,
    pub(crate) detail_cache: RefCell<Option<DetailCache>>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            store: FrameStore::default(),
            stats: Stats::new(),
            filter: None,
            matches: VecDeque::new(),
            edit: None,
            selected: None,
            pause_mark: None,
            hex: false,
            handshake_panel: false,
            detail_scroll: 0,
            handshake_gen: 0,
            recording: None,
            pings: 0,
            last_export: None,
            top: Cell::new(0),
            page: Cell::new(10),
            detail_page: Cell::new(10),
            detail_max: Cell::new(usize::MAX),
            rows_drawn: Cell::new(0),
            detail_cache: RefCell::new(None),
        }
    }
}

impl Monitor {
    // ---- frames ----

    /// Take in one frame (already redacted as it should be shown).
    pub(crate) fn push(&mut self, f: &FrameRecord) {
        self.store.push(f);
        self.stats.record(f.at, f.dir, f.len);
        if self.filter.is_some() {
            self.trim_matches();
        }
        if let Some(filter) = &self.filter
            && filter.matches(f.dir, f.opcode, &f.payload)
        {
            self.matches.push_back(self.store.total_pushed() - 1);
        }
    }

    fn trim_matches(&mut self) {
        let dropped = self.store.dropped();
        while self.matches.front().is_some_and(|&a| a < dropped) {
            self.matches.pop_front();
        }
    }

    pub(crate) fn set_limits(&mut self, max_frames: usize, max_bytes: usize) {
        self.store.set_limits(max_frames, max_bytes);
        self.trim_matches();
    }

    pub fn store(&self) -> &FrameStore {
        &self.store
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    pub(crate) fn handshake_seen(&mut self) {
        self.handshake_gen += 1;
    }

    pub fn handshake_generation(&self) -> u64 {
        self.handshake_gen
    }

    /// The frame with this absolute index, if kept.
    pub fn frame(&self, abs: u64) -> Option<FrameView<'_>> {
        self.store.get_absolute(abs)
    }

    // ---- rows ----

    /// One past the last absolute index shown (frames after a pause are held back).
    fn end_abs(&self) -> u64 {
        let total = self.store.total_pushed();
        self.pause_mark.map_or(total, |m| m.min(total))
    }

    /// Rows in the table (respecting filter and pause).
    pub fn row_count(&self) -> usize {
        let end = self.end_abs();
        match &self.filter {
            Some(_) => self.matches.partition_point(|&a| a < end),
            None => end.saturating_sub(self.store.dropped()) as usize,
        }
    }

    /// Absolute index of the frame in row `row`.
    pub fn row_abs(&self, row: usize) -> Option<u64> {
        if row >= self.row_count() {
            return None;
        }
        match &self.filter {
            Some(_) => self.matches.get(row).copied(),
            None => Some(self.store.dropped() + row as u64),
        }
    }

    /// The row of the frame `abs`, or of the first shown frame after it, clamped to the
    /// last row. `None` when there are no rows.
    pub fn row_of(&self, abs: u64) -> Option<usize> {
        let n = self.row_count();
        if n == 0 {
            return None;
        }
        let r = match &self.filter {
            Some(_) => self.matches.partition_point(|&a| a < abs),
            None => abs.saturating_sub(self.store.dropped()) as usize,
        };
        Some(r.min(n - 1))
    }

    /// The selected row (the last one while following).
    pub fn selected_row(&self) -> Option<usize> {
        match self.selected {
            Some(abs) => self.row_of(abs),
            None => self.row_count().checked_sub(1),
        }
    }

    /// Absolute index of the selected frame.
    pub fn selected_abs(&self) -> Option<u64> {
        self.selected_row().and_then(|r| self.row_abs(r))
    }

    /// True while the selection follows the newest row.
    pub fn following(&self) -> bool {
        self.selected.is_none()
    }

    pub fn paused(&self) -> bool {
        self.pause_mark.is_some()
    }

    /// While paused: rows that arrived since (matching the filter, if any).
    pub fn paused_new(&self) -> Option<u64> {
        let mark = self.pause_mark?;
        let total = self.store.total_pushed();
        Some(match &self.filter {
            Some(_) => (self.matches.len() - self.matches.partition_point(|&a| a < mark)) as u64,
            None => total.saturating_sub(mark),
        })
    }

    /// Older frames let go to stay within the store's limits.
    pub fn dropped(&self) -> u64 {
        self.store.dropped()
    }

    // ---- filter ----

    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// Matching kept frames (all of them, pause or not), when a filter is active.
    pub fn match_count(&self) -> Option<usize> {
        self.filter.as_ref().map(|_| self.matches.len())
    }

    /// The filter line being typed, if open.
    pub fn filter_edit(&self) -> Option<&FilterEdit> {
        self.edit.as_ref()
    }

    /// Apply a filter (`None` or an empty one shows every frame). Scans the kept frames once.
    pub(crate) fn set_filter(&mut self, filter: Option<Filter>) {
        let keep = self.selected_abs();
        self.matches.clear();
        self.filter = filter.filter(|f| !f.is_empty());
        if let Some(f) = &self.filter {
            let first = self.store.dropped();
            for (i, v) in self.store.iter().enumerate() {
                if f.matches(v.dir, v.opcode, v.payload) {
                    self.matches.push_back(first + i as u64);
                }
            }
        }
        if self.selected.is_some() {
            self.selected = keep;
        }
        self.detail_scroll = 0;
    }

    // ---- selection and toggles ----

    pub(crate) fn select_row(&mut self, row: usize) {
        if let Some(abs) = self.row_abs(row) {
            if self.selected != Some(abs) {
                self.detail_scroll = 0;
            }
            self.selected = Some(abs);
        }
    }

    pub(crate) fn move_selection(&mut self, delta: isize) {
        let Some(cur) = self.selected_row() else {
            return;
        };
        let n = self.row_count();
        let row = cur.saturating_add_signed(delta).min(n.saturating_sub(1));
        self.select_row(row);
    }

    pub(crate) fn select_first(&mut self) {
        self.select_row(0);
    }

    /// Select the newest row and follow new ones.
    pub(crate) fn follow(&mut self) {
        if self.selected.is_some() {
            self.detail_scroll = 0;
        }
        self.selected = None;
    }

    pub(crate) fn toggle_pause(&mut self) {
        self.pause_mark = match self.pause_mark {
            Some(_) => None,
            None => Some(self.store.total_pushed()),
        };
    }

    pub fn hex(&self) -> bool {
        self.hex
    }

    pub fn handshake_panel(&self) -> bool {
        self.handshake_panel
    }

    pub fn detail_scroll(&self) -> usize {
        self.detail_scroll.min(self.detail_max.get())
    }

    pub fn recording(&self) -> Option<&PathBuf> {
        self.recording.as_ref()
    }

    // ---- kept by the draw ----

    /// Absolute index of the top row last drawn.
    pub fn top(&self) -> u64 {
        self.top.get()
    }

    pub(crate) fn set_top(&self, abs: u64) {
        self.top.set(abs);
    }

    /// Rows the table showed in the last draw (paging uses it).
    pub(crate) fn set_page(&self, rows: u16) {
        self.page.set(rows.max(1));
    }

    pub(crate) fn set_detail_geometry(&self, rows: u16, max_scroll: usize) {
        self.detail_page.set(rows.max(1));
        self.detail_max.set(max_scroll);
    }

    /// Table rows formatted by draws so far (a test hook: drawing is O(visible rows)).
    pub fn rows_drawn(&self) -> u64 {
        self.rows_drawn.get()
    }

    pub(crate) fn count_row_drawn(&self) {
        self.rows_drawn.set(self.rows_drawn.get() + 1);
    }

    pub(crate) fn detail_cache(&self) -> &RefCell<Option<DetailCache>> {
        &self.detail_cache
    }
}

impl Monitor {
    pub(crate) fn scroll_detail(&mut self, delta: isize) {
        let cur = self.detail_scroll.min(self.detail_max.get());
        self.detail_scroll = cur.saturating_add_signed(delta).min(self.detail_max.get());
    }

    pub(crate) fn set_recording(&mut self, path: Option<PathBuf>) {
        self.recording = path;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Opcode};
    use bytes::Bytes;
    use std::time::{Duration, UNIX_EPOCH};

    fn frame(seq: u64, dir: Direction, op: Opcode, text: &str) -> FrameRecord {
        FrameRecord {
            conn: 1,
            origin: Default::default(),
            seq,
            at: UNIX_EPOCH + Duration::from_millis(seq * 10),
            dir,
            opcode: op,
            len: text.len(),
            payload: Bytes::from(text.to_string()),
            close: None,
            redacted: false,
        }
    }

    fn filled(n: u64) -> Monitor {
        let mut m = Monitor::default();
        for i in 0..n {
            let dir = if i % 2 == 0 {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            let text = if i % 3 == 0 { "error" } else { "ok" };
            m.push(&frame(i + 1, dir, Opcode::Text, &format!("{text} {i}")));
        }
        m
    }

    #[test]
    fn rows_follow_the_store_and_the_filter() {
        let mut m = filled(10);
        assert_eq!(m.row_count(), 10);
        assert_eq!(m.selected_abs(), Some(9));
        m.set_filter(Some(Filter::parse("error").unwrap()));
        // 0, 3, 6, 9
        assert_eq!(m.row_count(), 4);
        assert_eq!(m.row_abs(1), Some(3));
        assert_eq!(m.match_count(), Some(4));
        // New frames are matched as they arrive.
        m.push(&frame(
            11,
            Direction::ServerToClient,
            Opcode::Text,
            "another error",
        ));
        m.push(&frame(12, Direction::ServerToClient, Opcode::Text, "fine"));
        assert_eq!(m.row_count(), 5);
        assert_eq!(m.row_abs(4), Some(10));
        assert_eq!(m.selected_abs(), Some(10));
    }

    #[test]
    fn matches_are_trimmed_when_frames_are_dropped() {
        let mut m = filled(10);
        m.set_filter(Some(Filter::parse("error").unwrap()));
        m.set_limits(5, usize::MAX); // keeps 5..10
        assert_eq!(m.dropped(), 5);
        assert_eq!(m.row_count(), 2); // 6, 9
        assert_eq!(m.row_abs(0), Some(6));
        for i in 0..5 {
            m.push(&frame(
                20 + i,
                Direction::ClientToServer,
                Opcode::Text,
                "error again",
            ));
        }
        assert_eq!(m.dropped(), 10);
        assert_eq!(m.row_count(), 5);
        assert_eq!(m.row_abs(0), Some(10));
    }

    #[test]
    fn selection_moves_and_survives_drops() {
        let mut m = filled(10);
        m.move_selection(-3);
        assert_eq!(m.selected_abs(), Some(6));
        assert!(!m.following());
        m.push(&frame(11, Direction::ClientToServer, Opcode::Text, "x"));
        assert_eq!(m.selected_abs(), Some(6), "stays on its frame");
        m.set_limits(3, usize::MAX);
        // Frame 6 is gone: the selection lands on the oldest kept.
        assert_eq!(m.selected_abs(), Some(8));
        m.follow();
        assert_eq!(m.selected_abs(), Some(10));
        m.move_selection(100);
        assert_eq!(m.selected_abs(), Some(10));
        m.select_first();
        assert_eq!(m.selected_abs(), Some(8));
    }

    #[test]
    fn pause_holds_rows_back_and_counts_new_ones() {
        let mut m = filled(4);
        m.toggle_pause();
        for i in 0..3 {
            m.push(&frame(
                10 + i,
                Direction::ServerToClient,
                Opcode::Text,
                "error late",
            ));
        }
        assert_eq!(m.row_count(), 4);
        assert_eq!(m.paused_new(), Some(3));
        assert_eq!(m.selected_abs(), Some(3));
        assert_eq!(m.store().len(), 7, "frames are still stored");
        m.set_filter(Some(Filter::parse("late").unwrap()));
        assert_eq!(m.row_count(), 0);
        assert_eq!(m.paused_new(), Some(3));
        m.toggle_pause();
        assert_eq!(m.row_count(), 3);
        assert_eq!(m.paused_new(), None);
    }
}
