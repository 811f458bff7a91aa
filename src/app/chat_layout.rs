//! How a chat entry is laid out: the geometry of the chat view (time, sender and text columns)
//! and the wrapping of one sanitised line into rows of cells.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::history::EntryKind;
use crate::text::cell_width;

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
    pub(super) fn wrap_key(&self) -> (u16, u16) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(line: &str, width: usize) -> Vec<&str> {
        wrap(line, width).into_iter().map(|r| &line[r]).collect()
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
}
