//! The monitor: a view over one source's [`FrameLog`] — the filter with its incrementally kept
//! list of matching frames, the selection, pause, detail and handshake toggles. It knows no
//! source: our client session, a recording and a proxied connection each own their log, and
//! the same view shows any of them. [`Monitor`] is the view's own state; [`MonitorView`] pairs
//! it with the log it is shown over, for reading.
//!
//! Cost model (issue 4): a frame costs O(1) to take in (plus one filter match of its payload
//! when a filter is active); a draw costs O(visible rows). Rows are addressed by the frame's
//! *absolute index* (frames ever pushed before it, see [`FrameStore::dropped`]), which stays
//! valid while old frames are dropped. With a filter the rows are the sorted list of matching
//! absolute indices, appended as frames arrive and trimmed at the front as frames are dropped;
//! positions in it are found by binary search.

use std::collections::VecDeque;
use std::path::PathBuf;

use tui_input::Input;

pub use filter::Filter;

use crate::model::FrameRecord;
use crate::record::stats::Stats;
use crate::record::{FrameLog, FrameStore, FrameView};

pub mod filter;

/// The filter line while it is being typed.
#[derive(Debug, Default)]
pub struct FilterEdit {
    pub input: Input,
    /// Why the text does not parse (checked as it is typed), if it does not.
    pub error: Option<String>,
}

/// The view's own state; see the module docs.
#[derive(Debug)]
pub struct Monitor {
    pub(crate) filter: Option<Filter>,
    /// Absolute indices of kept frames matching `filter`, ascending.
    pub(crate) matches: VecDeque<u64>,
    pub(crate) edit: Option<FilterEdit>,
    /// Absolute index of the selected frame; `None` follows the newest row.
    pub(crate) selected: Option<u64>,
    /// `total_pushed` when the display was paused.
    pub(crate) pause_mark: Option<u64>,
    pub(crate) hex: bool,
    /// The decoder the user picked with `v` (`None`: the one the connection implies, else
    /// text, JSON or hex).
    pub(crate) decoder: Option<crate::decode::Format>,
    pub(crate) handshake_panel: bool,
    /// The selected message's frames are listed under its row (`f`).
    pub(crate) frames_open: bool,
    pub(crate) detail_scroll: usize,
    pub(crate) recording: Option<PathBuf>,
    /// Why the last recording stopped by itself (a write failed), until a new one starts.
    pub(crate) recording_stopped: Option<String>,
    pub(crate) pings: u64,
    /// A ping the user asked for (`p`, `/ping`) waits for its pong.
    pub(crate) ping_waiting: bool,
    pub(crate) last_export: Option<(String, u32)>,
    // What the last draw measured (handed back as a [`Drawn`] value):
    pub(crate) top: u64,
    pub(crate) page: u16,
    pub(crate) detail_page: u16,
    pub(crate) detail_max: usize,
    /// The JSON block the last draw offered to fold (`z`).
    pub(crate) fold_at: Option<u64>,
    /// Folded JSON blocks of the frame in the detail pane (their opening lines).
    pub(crate) folds: std::collections::BTreeSet<u64>,
}

/// What a draw of the detail pane measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetailDrawn {
    /// Rows the pane showed (paging uses it).
    pub rows: u16,
    /// How far it can scroll (in lines).
    pub max: usize,
    /// The JSON block `z` folds or unfolds now (its opening line), if any.
    pub fold_at: Option<u64>,
}

/// What a draw of the monitor measured, handed back to the view state (the app's
/// `Event::Drawn`): nothing is written into the state while it is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    /// Absolute index of the table's top row (the viewport keeps it while it can).
    pub top: Option<u64>,
    /// Rows the table showed (paging uses it).
    pub page: Option<u16>,
    /// What the detail pane measured.
    pub detail: Option<DetailDrawn>,
    /// Table rows formatted by this draw (drawing is O(visible rows)).
    pub rows: u64,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            filter: None,
            matches: VecDeque::new(),
            edit: None,
            selected: None,
            pause_mark: None,
            hex: false,
            decoder: None,
            handshake_panel: false,
            frames_open: false,
            detail_scroll: 0,
            recording: None,
            recording_stopped: None,
            pings: 0,
            ping_waiting: false,
            last_export: None,
            top: 0,
            page: 10,
            detail_page: 10,
            detail_max: usize::MAX,
            fold_at: None,
            folds: Default::default(),
        }
    }
}

impl Monitor {
    /// The view over `log`, for reading.
    pub fn view<'a>(&'a self, log: &'a FrameLog) -> MonitorView<'a> {
        MonitorView { state: self, log }
    }

    // ---- frames ----

    /// `log` just took in `f` (its newest frame): match it and forget dropped matches.
    pub(crate) fn pushed(&mut self, log: &FrameLog, f: &FrameRecord) {
        if self.filter.is_some() {
            self.trim_matches(log);
        }
        if let Some(filter) = &self.filter
            && filter.matches(f.dir, f.opcode, &f.payload)
        {
            self.matches.push_back(log.store().total_pushed() - 1);
        }
    }

    /// The frame at `abs` changed in place (a held message settled): it matches the
    /// filter or not as it is now.
    pub(crate) fn settled(&mut self, log: &FrameLog, abs: u64) {
        let (Some(filter), Some(v)) = (&self.filter, log.frame(abs)) else {
            return;
        };
        let now = filter.matches(v.dir, v.opcode, v.payload);
        match (self.matches.binary_search(&abs), now) {
            (Ok(i), false) => {
                self.matches.remove(i);
            }
            (Err(i), true) => self.matches.insert(i, abs),
            _ => {}
        }
    }

    /// `log` let old frames go (its limits shrank).
    pub(crate) fn trim_matches(&mut self, log: &FrameLog) {
        let dropped = log.store().dropped();
        while self.matches.front().is_some_and(|&a| a < dropped) {
            self.matches.pop_front();
        }
    }

    /// Apply a filter (`None` or an empty one shows every frame). Scans the kept frames once.
    pub(crate) fn set_filter(&mut self, log: &FrameLog, filter: Option<Filter>) {
        let keep = self.view(log).selected_abs();
        self.matches.clear();
        self.filter = filter.filter(|f| !f.is_empty());
        if let Some(f) = &self.filter {
            let first = log.store().dropped();
            for (i, v) in log.store().iter().enumerate() {
                if f.matches(v.dir, v.opcode, v.payload) {
                    self.matches.push_back(first + i as u64);
                }
            }
        }
        if self.selected.is_some() {
            self.selected = keep;
        }
        self.detail_scroll = 0;
        self.folds.clear();
    }

    // ---- selection and toggles ----

    pub(crate) fn select_row(&mut self, log: &FrameLog, row: usize) {
        if let Some(abs) = self.view(log).row_abs(row) {
            if self.selected != Some(abs) {
                self.detail_scroll = 0;
                self.folds.clear();
            }
            self.selected = Some(abs);
        }
    }

    pub(crate) fn move_selection(&mut self, log: &FrameLog, delta: isize) {
        let v = self.view(log);
        let Some(cur) = v.selected_row() else {
            return;
        };
        let n = v.row_count();
        let row = cur.saturating_add_signed(delta).min(n.saturating_sub(1));
        self.select_row(log, row);
    }

    pub(crate) fn select_first(&mut self, log: &FrameLog) {
        self.select_row(log, 0);
    }

    /// Select the newest row and follow new ones.
    pub(crate) fn follow(&mut self) {
        if self.selected.is_some() {
            self.detail_scroll = 0;
            self.folds.clear();
        }
        self.selected = None;
    }

    pub(crate) fn toggle_pause(&mut self, log: &FrameLog) {
        self.pause_mark = match self.pause_mark {
            Some(_) => None,
            None => Some(log.store().total_pushed()),
        };
    }

    pub fn filter_edit(&self) -> Option<&FilterEdit> {
        self.edit.as_ref()
    }

    pub fn recording(&self) -> Option<&PathBuf> {
        self.recording.as_ref()
    }

    // ---- measured by the draw ----

    /// What the last draw measured replaces what an earlier one did.
    pub fn drawn(&mut self, d: Drawn) {
        if let Some(top) = d.top {
            self.top = top;
        }
        if let Some(rows) = d.page {
            self.page = rows.max(1);
        }
        if let Some(d) = d.detail {
            self.detail_page = d.rows.max(1);
            self.detail_max = d.max;
            self.fold_at = d.fold_at;
        }
    }

    pub(crate) fn scroll_detail(&mut self, delta: isize) {
        let cur = self.detail_scroll.min(self.detail_max);
        self.detail_scroll = cur.saturating_add_signed(delta).min(self.detail_max);
    }

    /// `v`: the next decoder for the selected frame's kind — binary: MessagePack, CBOR,
    /// protobuf, MQTT; text: JSON with base64 decoded, socket.io — then back to the automatic
    /// view. `None` when no text or binary frame is selected.
    pub(crate) fn cycle_decoder(
        &mut self,
        log: &FrameLog,
    ) -> Option<Option<crate::decode::Format>> {
        use crate::decode::Format;
        use crate::model::Opcode;
        let abs = self.view(log).selected_abs()?;
        let list = match log.frame(abs)?.opcode {
            Opcode::Text => Format::TEXT,
            Opcode::Binary => Format::BINARY,
            _ => return None,
        };
        let at = self.decoder.and_then(|f| list.iter().position(|&x| x == f));
        self.decoder = match at {
            None => list.first().copied(),
            Some(i) => list.get(i + 1).copied(),
        };
        self.hex = false;
        self.detail_scroll = 0;
        self.folds.clear();
        Some(self.decoder)
    }

    /// `z`: fold the JSON block the pane offers, or unfold it. False when there is none.
    pub(crate) fn toggle_fold(&mut self) -> bool {
        let Some(at) = self.fold_at else {
            return false;
        };
        if !self.folds.remove(&at) {
            self.folds.insert(at);
        }
        true
    }

    /// `Z`: unfold every block.
    pub(crate) fn unfold_all(&mut self) {
        self.folds.clear();
    }

    pub(crate) fn set_recording(&mut self, path: Option<PathBuf>) {
        if path.is_some() {
            self.recording_stopped = None;
        }
        self.recording = path;
    }

    /// The recording stopped by itself (a write failed): `why` is the sentence shown.
    pub(crate) fn set_recording_stopped(&mut self, why: String) {
        self.recording = None;
        self.recording_stopped = Some(why);
    }

    /// Why the last recording stopped by itself, until a new one starts.
    pub fn recording_stopped(&self) -> Option<&str> {
        self.recording_stopped.as_deref()
    }
}

/// A [`Monitor`] over the [`FrameLog`] it shows: everything a draw or a test reads.
#[derive(Debug, Clone, Copy)]
pub struct MonitorView<'a> {
    pub state: &'a Monitor,
    pub log: &'a FrameLog,
}

impl<'a> MonitorView<'a> {
    pub fn store(&self) -> &'a FrameStore {
        self.log.store()
    }

    pub fn stats(&self) -> &'a Stats {
        self.log.stats()
    }

    pub fn handshake_generation(&self) -> u64 {
        self.log.handshake_generation()
    }

    /// The frame with this absolute index, if kept.
    pub fn frame(&self, abs: u64) -> Option<FrameView<'a>> {
        self.log.frame(abs)
    }

    // ---- rows ----

    /// One past the last absolute index shown (frames after a pause are held back).
    fn end_abs(&self) -> u64 {
        let total = self.store().total_pushed();
        self.state.pause_mark.map_or(total, |m| m.min(total))
    }

    /// Rows in the table (respecting filter and pause).
    pub fn row_count(&self) -> usize {
        let end = self.end_abs();
        match &self.state.filter {
            Some(_) => self.state.matches.partition_point(|&a| a < end),
            None => end.saturating_sub(self.store().dropped()) as usize,
        }
    }

    /// Absolute index of the frame in row `row`.
    pub fn row_abs(&self, row: usize) -> Option<u64> {
        if row >= self.row_count() {
            return None;
        }
        match &self.state.filter {
            Some(_) => self.state.matches.get(row).copied(),
            None => Some(self.store().dropped() + row as u64),
        }
    }

    /// The row of the frame `abs`, or of the first shown frame after it, clamped to the
    /// last row. `None` when there are no rows.
    pub fn row_of(&self, abs: u64) -> Option<usize> {
        let n = self.row_count();
        if n == 0 {
            return None;
        }
        let r = match &self.state.filter {
            Some(_) => self.state.matches.partition_point(|&a| a < abs),
            None => abs.saturating_sub(self.store().dropped()) as usize,
        };
        Some(r.min(n - 1))
    }

    /// The selected row (the last one while following).
    pub fn selected_row(&self) -> Option<usize> {
        match self.state.selected {
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
        self.state.selected.is_none()
    }

    pub fn paused(&self) -> bool {
        self.state.pause_mark.is_some()
    }

    /// While paused: rows that arrived since (matching the filter, if any).
    pub fn paused_new(&self) -> Option<u64> {
        let mark = self.state.pause_mark?;
        let total = self.store().total_pushed();
        let matches = &self.state.matches;
        Some(match &self.state.filter {
            Some(_) => (matches.len() - matches.partition_point(|&a| a < mark)) as u64,
            None => total.saturating_sub(mark),
        })
    }

    /// Older frames let go to stay within the store's limits.
    pub fn dropped(&self) -> u64 {
        self.store().dropped()
    }

    // ---- filter ----

    pub fn filter(&self) -> Option<&'a Filter> {
        self.state.filter.as_ref()
    }

    /// Matching kept frames (all of them, pause or not), when a filter is active.
    pub fn match_count(&self) -> Option<usize> {
        self.state.filter.as_ref().map(|_| self.state.matches.len())
    }

    /// The filter line being typed, if open.
    pub fn filter_edit(&self) -> Option<&'a FilterEdit> {
        self.state.edit.as_ref()
    }

    pub fn hex(&self) -> bool {
        self.state.hex
    }

    /// The decoder picked with `v`, if any.
    pub fn decoder(&self) -> Option<crate::decode::Format> {
        self.state.decoder
    }

    pub fn handshake_panel(&self) -> bool {
        self.state.handshake_panel
    }

    /// The selected message's frames are listed under its row.
    pub fn frames_open(&self) -> bool {
        self.state.frames_open
    }

    pub fn detail_scroll(&self) -> usize {
        self.state.detail_scroll.min(self.state.detail_max)
    }

    pub fn recording(&self) -> Option<&'a PathBuf> {
        self.state.recording.as_ref()
    }

    /// Folded JSON blocks of the frame in the detail pane.
    pub fn detail_folds(&self) -> &'a std::collections::BTreeSet<u64> {
        &self.state.folds
    }

    /// Absolute index of the top row last drawn.
    pub fn top(&self) -> u64 {
        self.state.top
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
            wire_len: None,
            fragments: None,
        }
    }

    /// A monitor and the log it shows, driven as a source drives them.
    #[derive(Default)]
    struct Pair {
        m: Monitor,
        log: FrameLog,
    }

    impl Pair {
        fn v(&self) -> MonitorView<'_> {
            self.m.view(&self.log)
        }
        fn push(&mut self, f: &FrameRecord) {
            self.log.push(f);
            self.m.pushed(&self.log, f);
        }
        fn set_filter(&mut self, f: Option<Filter>) {
            self.m.set_filter(&self.log, f);
        }
        fn set_limits(&mut self, frames: usize, bytes: usize) {
            self.log.set_limits(frames, bytes);
            self.m.trim_matches(&self.log);
        }
        fn move_selection(&mut self, d: isize) {
            self.m.move_selection(&self.log, d);
        }
        fn select_first(&mut self) {
            self.m.select_first(&self.log);
        }
        fn follow(&mut self) {
            self.m.follow();
        }
        fn toggle_pause(&mut self) {
            self.m.toggle_pause(&self.log);
        }
    }

    fn filled(n: u64) -> Pair {
        let mut m = Pair::default();
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
        assert_eq!(m.v().row_count(), 10);
        assert_eq!(m.v().selected_abs(), Some(9));
        m.set_filter(Some(Filter::parse("error").unwrap()));
        // 0, 3, 6, 9
        assert_eq!(m.v().row_count(), 4);
        assert_eq!(m.v().row_abs(1), Some(3));
        assert_eq!(m.v().match_count(), Some(4));
        // New frames are matched as they arrive.
        m.push(&frame(
            11,
            Direction::ServerToClient,
            Opcode::Text,
            "another error",
        ));
        m.push(&frame(12, Direction::ServerToClient, Opcode::Text, "fine"));
        assert_eq!(m.v().row_count(), 5);
        assert_eq!(m.v().row_abs(4), Some(10));
        assert_eq!(m.v().selected_abs(), Some(10));
    }

    #[test]
    fn matches_are_trimmed_when_frames_are_dropped() {
        let mut m = filled(10);
        m.set_filter(Some(Filter::parse("error").unwrap()));
        m.set_limits(5, usize::MAX); // keeps 5..10
        assert_eq!(m.v().dropped(), 5);
        assert_eq!(m.v().row_count(), 2); // 6, 9
        assert_eq!(m.v().row_abs(0), Some(6));
        for i in 0..5 {
            m.push(&frame(
                20 + i,
                Direction::ClientToServer,
                Opcode::Text,
                "error again",
            ));
        }
        assert_eq!(m.v().dropped(), 10);
        assert_eq!(m.v().row_count(), 5);
        assert_eq!(m.v().row_abs(0), Some(10));
    }

    #[test]
    fn selection_moves_and_survives_drops() {
        let mut m = filled(10);
        m.move_selection(-3);
        assert_eq!(m.v().selected_abs(), Some(6));
        assert!(!m.v().following());
        m.push(&frame(11, Direction::ClientToServer, Opcode::Text, "x"));
        assert_eq!(m.v().selected_abs(), Some(6), "stays on its frame");
        m.set_limits(3, usize::MAX);
        // Frame 6 is gone: the selection lands on the oldest kept.
        assert_eq!(m.v().selected_abs(), Some(8));
        m.follow();
        assert_eq!(m.v().selected_abs(), Some(10));
        m.move_selection(100);
        assert_eq!(m.v().selected_abs(), Some(10));
        m.select_first();
        assert_eq!(m.v().selected_abs(), Some(8));
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
        assert_eq!(m.v().row_count(), 4);
        assert_eq!(m.v().paused_new(), Some(3));
        assert_eq!(m.v().selected_abs(), Some(3));
        assert_eq!(m.v().store().len(), 7, "frames are still stored");
        m.set_filter(Some(Filter::parse("late").unwrap()));
        assert_eq!(m.v().row_count(), 0);
        assert_eq!(m.v().paused_new(), Some(3));
        m.toggle_pause();
        assert_eq!(m.v().row_count(), 3);
        assert_eq!(m.v().paused_new(), None);
    }
}
