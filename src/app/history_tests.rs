//! Tests of the module above, in their own file so that the module stays readable (under ~800 lines).

use super::*;
use crate::model::FrameRecord;

/// A history with its frame store, as the App holds them.
struct Chat {
    h: History,
    s: FrameStore,
}

impl std::ops::Deref for Chat {
    type Target = History;
    fn deref(&self) -> &History {
        &self.h
    }
}

impl std::ops::DerefMut for Chat {
    fn deref_mut(&mut self) -> &mut History {
        &mut self.h
    }
}

impl Chat {
    fn new() -> Self {
        Chat::with_store(FrameStore::default())
    }
    fn with_store(s: FrameStore) -> Self {
        Chat {
            h: History::new(),
            s,
        }
    }
    fn push(&mut self, at: SystemTime, dir: Direction, opcode: Opcode, payload: &[u8]) {
        self.s.push(&FrameRecord {
            conn: 1,
            origin: Default::default(),
            seq: self.s.total_pushed() + 1,
            at,
            dir,
            opcode,
            len: payload.len(),
            payload: bytes::Bytes::copy_from_slice(payload),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        });
        self.h.push_frame(&self.s);
    }
    /// An `--auto-reply` answer, as the network task records it.
    fn push_auto(&mut self, at: SystemTime, text: &str) {
        self.s.push(&FrameRecord {
            conn: 1,
            origin: crate::model::Origin::Auto,
            seq: self.s.total_pushed() + 1,
            at,
            dir: Direction::ClientToServer,
            opcode: Opcode::Text,
            len: text.len(),
            payload: bytes::Bytes::copy_from_slice(text.as_bytes()),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        });
        self.h.push_frame(&self.s);
    }
    fn push_text(&mut self, at: SystemTime, dir: Direction, text: &str) {
        self.push(at, dir, Opcode::Text, text.as_bytes());
    }
    fn push_binary(&mut self, at: SystemTime, dir: Direction, bytes: &[u8]) {
        self.push(at, dir, Opcode::Binary, bytes);
    }
    fn get(&self, i: usize) -> Option<Entry<'_>> {
        self.h.get(i, &self.s)
    }
    fn display(&self, i: usize) -> (Vec<String>, Option<usize>) {
        self.h.display(i, &self.s)
    }
    fn height(&self, i: usize, g: &ChatGeometry) -> usize {
        self.h.height(i, g, &self.s)
    }
    fn window(&self, g: &ChatGeometry) -> Window {
        self.h.window(g, &self.s)
    }
    fn scroll_up(&mut self, n: usize, g: &ChatGeometry) {
        self.h.scroll_up(n, g, &self.s)
    }
    fn scroll_down(&mut self, n: usize, g: &ChatGeometry) {
        self.h.scroll_down(n, g, &self.s)
    }
    fn scroll_top(&mut self, g: &ChatGeometry) {
        self.h.scroll_top(g, &self.s)
    }
    /// The text of each visible row, top to bottom.
    fn screen(&self, g: &ChatGeometry) -> Vec<String> {
        self.window(g)
            .items
            .iter()
            .flat_map(|it| {
                it.layout.rows[it.skip..]
                    .iter()
                    .map(|r| it.layout.row_text(r).to_string())
                    .collect::<Vec<_>>()
            })
            .take(g.height as usize)
            .collect()
    }
}

fn at(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

#[test]
fn huge_text_keeps_a_bounded_preview() {
    let mut h = Chat::new();
    let big = "x".repeat(1 << 20);
    h.push_text(at(0), Direction::ServerToClient, &big);
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
    let mut h = Chat::new();
    let big = "中".repeat(TEXT_PREVIEW_BYTES); // 3 bytes each
    h.push_text(at(0), Direction::ServerToClient, &big);
    let e = h.get(0).unwrap();
    assert!(std::str::from_utf8(e.bytes).is_ok());
}

#[test]
fn binary_shows_length_and_hex() {
    let mut h = Chat::new();
    h.push_binary(at(0), Direction::ServerToClient, &[0, 1, 0xab, 0xff]);
    assert_eq!(h.display(0).0, vec!["<binary 4 bytes> 00 01 ab ff"]);
    h.push_binary(at(0), Direction::ServerToClient, &[7u8; 40]);
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

fn filled(n: usize) -> Chat {
    let mut h = Chat::new();
    h.set_peer("host");
    for i in 0..n {
        h.push_text(
            at(i as u64),
            Direction::ServerToClient,
            &format!("message {i}"),
        );
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
    let mut h = Chat::new();
    h.set_peer("host");
    for i in 0..20 {
        h.push_text(
            at(i),
            Direction::ServerToClient,
            &format!("m{i}\nsecond\nthird"),
        );
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
    h.push_text(at(1000), Direction::ServerToClient, "late 1");
    h.push_text(at(1001), Direction::ServerToClient, "late 2");
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

#[test]
fn messages_read_their_bytes_from_the_store() {
    let mut h = Chat::new();
    h.set_peer("host");
    h.push_text(at(5), Direction::ServerToClient, "hello");
    h.push_note(None, NoteLevel::Info, "a note");
    h.push_binary(at(6), Direction::ClientToServer, &[1, 2]);
    // Control frames are not messages.
    h.push(at(7), Direction::ClientToServer, Opcode::Ping, b"p");
    assert_eq!(h.len(), 3);
    let e = h.get(0).unwrap();
    assert_eq!(e.bytes, b"hello");
    assert_eq!(
        (e.frame, e.kept, e.sender, e.at),
        (Some(0), true, "host", Some(at(5)))
    );
    let note = h.get(1).unwrap();
    assert_eq!((note.frame, note.sender, note.at), (None, "", None));
    assert_eq!(h.display(1).0, vec!["a note"]);
    let e = h.get(2).unwrap();
    assert_eq!((e.frame, e.sender), (Some(1), "you"));
    assert_eq!(h.display(2).0, vec!["<binary 2 bytes> 01 02"]);
}

#[test]
fn entries_whose_frames_were_let_go_show_a_placeholder() {
    let mut h = Chat::with_store(FrameStore::new(3, usize::MAX));
    h.set_peer("host");
    h.push_note(None, NoteLevel::Info, "start");
    for i in 0..3 {
        h.push_text(
            at(i),
            Direction::ServerToClient,
            &format!("m{i}\nsecond\nthird"),
        );
    }
    let g = geo(20);
    assert_eq!(h.height(1, &g), 3);
    // Two more frames: the store lets m0 and m1 go.
    h.push_binary(at(10), Direction::ServerToClient, &[9; 4]);
    h.push_text(at(11), Direction::ServerToClient, "m4");
    let e = h.get(1).unwrap();
    assert!(!e.kept);
    assert!(e.bytes.is_empty());
    assert_eq!(e.total, "m0\nsecond\nthird".len() as u64);
    assert_eq!(
        (e.at, e.sender),
        (Some(at(0)), "host"),
        "time and sender stay"
    );
    assert_eq!(h.display(1).0, vec![NOT_KEPT]);
    assert_eq!(
        h.height(1, &g),
        1,
        "the height cached while kept is not reused"
    );
    assert_eq!(
        h.height(1, &ChatGeometry::new(12, 5, 4)),
        1,
        "one row at any width"
    );
    assert_eq!(
        h.screen(&g),
        vec![
            "start",
            NOT_KEPT,
            NOT_KEPT,
            "m2",
            "second",
            "third",
            "<binary 4 bytes> 09 09 09 09",
            "m4"
        ]
    );
    // Notes keep their own text; a let-go binary keeps its length.
    h.push_text(at(12), Direction::ServerToClient, "m5");
    h.push_text(at(13), Direction::ServerToClient, "m6");
    assert_eq!(h.display(0).0, vec!["start"]);
    assert_eq!(h.display(4).0, vec![format!("<binary 4 bytes> {NOT_KEPT}")]);
    // Placeholders are one row each at any width: m2 (three rows while kept, let go by
    // now) and the binary are passed in one row each.
    let small = geo(3);
    h.scroll_top(&small);
    assert_eq!(h.screen(&small), vec!["start", NOT_KEPT, NOT_KEPT]);
    h.scroll_down(4, &small);
    assert_eq!(h.anchor(), Some(Anchor { entry: 4, row: 0 }));
    assert_eq!(h.screen(&small)[1], "m4");
    h.scroll_up(3, &small);
    assert_eq!(h.anchor(), Some(Anchor { entry: 1, row: 0 }));
}

/// Issue 4's budget: 10^6 frames of 100 B through `App::update`, every one in the chat
/// history and the monitor's store, hold at most 1.5 × payload + 48 B per message.
#[test]
fn history_and_store_memory_stay_within_budget() {
    use crate::app::{App, AppInit, Event};
    use crate::model::{ConnState, NetEvent};
    use crate::spec::ConnectSpec;
    const N: usize = 1_000_000;
    const PAYLOAD: usize = 100;
    let (mut app, _) = App::new(AppInit::new(ConnectSpec::new("ws://127.0.0.1:5678")));
    app.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
    let before = app.history().len();
    for i in 0..N {
        let mut payload = format!("message {i:>8} ").into_bytes();
        payload.resize(PAYLOAD, b'x');
        app.update(Event::Net(NetEvent::Frame(FrameRecord {
            conn: 1,
            origin: Default::default(),
            seq: i as u64 + 1,
            at: at(i as u64),
            dir: Direction::ServerToClient,
            opcode: Opcode::Text,
            len: PAYLOAD,
            payload: payload.into(),
            close: None,
            redacted: false,
            wire_len: None,
            fragments: None,
        })));
    }
    let (history, store) = (app.history(), app.frames());
    assert_eq!(history.len() - before, N, "every message is in the history");
    assert_eq!(store.len(), N, "and in the store");
    let last = history.len() - 1;
    let newest = format!("message {:>8} xxx", N - 1);
    assert!(history.display(last, store).0[0].starts_with(&newest));
    let (h, s) = (history.approx_heap_bytes(), store.approx_heap_bytes());
    println!(
        "{N} × {PAYLOAD} B: history {h} B + store {s} B = {:.1} B/message",
        (h + s) as f64 / N as f64
    );
    assert!(s >= N * PAYLOAD, "the store holds the payloads ({s} B)");
    assert!(
        h <= 32 * N,
        "the history keeps fixed-size records, not payloads: {h} B"
    );
    let budget = N * PAYLOAD * 3 / 2 + 48 * N;
    assert!(h + s <= budget, "{h} + {s} B over the budget of {budget} B");
}

#[test]
fn an_auto_reply_is_one_quiet_line_folded_into_the_message_it_answers() {
    let mut c = Chat::new();
    c.push_text(at(1), Direction::ServerToClient, "2");
    c.push_auto(at(1), "3");
    c.push_text(at(2), Direction::ServerToClient, "42[\"chat\",\"hi\"]");
    assert_eq!(c.len(), 2, "the ping and its answer are one entry");
    assert_eq!(c.get(0).unwrap().kind, EntryKind::Auto { answered: true });
    assert_eq!(c.display(0).0, ["2 → 3 · auto-reply"]);
    c.push_text(at(3), Direction::ClientToServer, "hello");
    // Not beside the message it answered: a line of its own.
    c.push_auto(at(3), "pong");
    c.push_auto(at(3), &format!("{}\nsecond line", "x".repeat(200)));
    assert_eq!(c.len(), 5);
    assert_eq!(c.display(3).0, ["→ pong · auto-reply"]);
    let long = c.display(4).0;
    assert_eq!(long.len(), 1);
    assert!(
        long[0].starts_with(&format!("→ {}…", "x".repeat(40))),
        "{long:?}"
    );
    // One row even where it would wrap.
    let narrow = ChatGeometry::new(20, 10, 4);
    assert_eq!(c.height(4, &narrow), 1);
    // Sent and received messages are untouched.
    assert_eq!(
        c.get(1).unwrap().kind,
        EntryKind::Text(Direction::ServerToClient)
    );
    assert_eq!(
        c.get(2).unwrap().kind,
        EntryKind::Text(Direction::ClientToServer)
    );
}
