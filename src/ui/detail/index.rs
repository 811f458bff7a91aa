//! The detail pane's document: a payload of any size as lines that scroll, with cost
//! proportional to what is on screen. Opening a message indexes it once (where each line
//! starts: text lines, pretty-printed JSON lines with their depth, hex rows); a draw lays out
//! only the lines it shows. Long lines are cut into chunks about a row wide, so that one
//! 50 MB line scrolls row by row too.
//! JSON objects and arrays fold (`z`): a folded block shows as one line.

use std::collections::BTreeSet;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::{hexdump, theme};
use crate::text::sanitize_line;

/// What a piece of a pretty-printed JSON line is (for colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Indent,
    Punct,
    Key,
    Str,
    Num,
    /// `true`, `false`, `null`
    Lit,
}

/// One pretty-printed JSON line: where its tokens start in the source, how deep it is, and
/// whether it continues a string cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct JsonLine {
    start: usize,
    depth: u32,
    in_string: bool,
}

/// How the payload's lines are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Line (or chunk) start offsets of a UTF-8 text.
    Text(Vec<usize>),
    /// Pretty-printed JSON lines.
    Json(Vec<JsonLineRef>),
    /// A hex dump, `per` bytes a row.
    Hex { per: usize, len: usize },
    /// A decoded message (MessagePack, CBOR, protobuf, MQTT, socket.io…), one line a node.
    Tree(crate::decode::Tree),
    /// Nothing beyond the header lines.
    None,
}

/// A JSON line as stored (kept opaque outside this module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLineRef(JsonLine);

impl Body {
    pub fn len(&self) -> usize {
        match self {
            Body::Text(s) => s.len(),
            Body::Json(l) => l.len(),
            Body::Hex { per, len } => len.div_ceil((*per).max(1)),
            Body::Tree(t) => t.lines.len(),
            Body::None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Index a text: a line starts after each `\n`, and every `chunk` bytes (at a character
/// boundary) within a long line.
pub fn index_text(s: &str, chunk: usize) -> Vec<usize> {
    let chunk = chunk.max(4);
    let b = s.as_bytes();
    let mut starts = vec![0];
    let mut line_start = 0;
    for nl in memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        let mut at = line_start;
        while nl - at > chunk {
            let mut cut = at + chunk;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            starts.push(cut);
            at = cut;
        }
        if nl < b.len() {
            starts.push(nl + 1);
        }
        line_start = nl + 1;
    }
    // A text ending in a newline has no empty last line to show.
    if starts.len() > 1 && starts.last() == Some(&b.len()) {
        starts.pop();
    }
    starts
}

fn memchr_iter(needle: u8, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    hay.iter()
        .enumerate()
        .filter_map(move |(i, &c)| (c == needle).then_some(i))
}

/// The text of line `i` of an indexed text (without its newline).
pub fn text_line<'a>(s: &'a str, starts: &[usize], i: usize) -> &'a str {
    let start = starts[i];
    let end = starts.get(i + 1).copied().unwrap_or(s.len());
    let line = s[start..end].strip_suffix('\n').unwrap_or(&s[start..end]);
    line.strip_suffix('\r').unwrap_or(line)
}

/// Index a JSON object or array as pretty-printed lines (one pass); `None` when `src` is not
/// one (what is worth pretty-printing). Key order and number spelling are the source's; a
/// string longer than `chunk` bytes continues on further lines.
pub fn index_json(src: &str, chunk: usize) -> Option<Vec<JsonLineRef>> {
    let chunk = chunk.max(4);
    let first = src.trim_start().as_bytes().first()?;
    if !matches!(first, b'{' | b'[') || serde_json::from_str::<serde::de::IgnoredAny>(src).is_err()
    {
        return None;
    }
    let b = src.as_bytes();
    let skip_ws = |mut j: usize| {
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r') {
            j += 1;
        }
        j
    };
    let mut lines = Vec::new();
    let mut depth = 0u32;
    let mut line_start = skip_ws(0);
    let push = |lines: &mut Vec<JsonLineRef>, start: usize, depth: u32, in_string: bool| {
        lines.push(JsonLineRef(JsonLine {
            start,
            depth,
            in_string,
        }));
    };
    push(&mut lines, line_start, 0, false);
    let mut i = line_start;
    loop {
        i = skip_ws(i);
        if i >= b.len() {
            break;
        }
        match b[i] {
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let j = skip_ws(i + 1);
                if b.get(j) == Some(&close) {
                    i = j + 1;
                } else {
                    depth += 1;
                    i += 1;
                    line_start = skip_ws(i);
                    push(&mut lines, line_start, depth, false);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if i != line_start {
                    line_start = i;
                    push(&mut lines, i, depth, false);
                } else if let Some(last) = lines.last_mut() {
                    // The line opened after a `,` or `{` starts with this close.
                    last.0.depth = depth;
                }
                i += 1;
            }
            b',' => {
                i += 1;
                line_start = skip_ws(i);
                push(&mut lines, line_start, depth, false);
            }
            b'"' => {
                let mut j = i + 1;
                let mut since = i;
                while j < b.len() && b[j] != b'"' {
                    if j - since >= chunk && b[j] != b'\\' && src.is_char_boundary(j) {
                        push(&mut lines, j, depth, true);
                        since = j;
                    }
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                i = (j + 1).min(b.len());
            }
            _ => i += 1,
        }
    }
    // The last push may be for the whitespace after the closing bracket.
    if lines.len() > 1 && lines.last().is_some_and(|l| l.0.start >= b.len()) {
        lines.pop();
    }
    Some(lines)
}

/// The styled pieces of JSON line `i`: its indent, then its tokens.
pub fn json_line(src: &str, lines: &[JsonLineRef], i: usize) -> Vec<(String, Tok)> {
    let JsonLine {
        start,
        depth,
        in_string,
    } = lines[i].0;
    let end = lines.get(i + 1).map_or(src.len(), |l| l.0.start);
    let seg = &src[start..end];
    let mut out = Vec::new();
    let indent = depth as usize + usize::from(in_string);
    if indent > 0 {
        out.push(("  ".repeat(indent.min(64)), Tok::Indent));
    }
    let b = seg.as_bytes();
    let mut k = 0;
    if in_string {
        // The rest of a long string: up to its closing quote (or the chunk's end).
        let mut j = 0;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = (j + 1).min(b.len());
        out.push((seg[..end].to_string(), Tok::Str));
        k = end;
    }
    while k < b.len() {
        match b[k] {
            b' ' | b'\t' | b'\n' | b'\r' => k += 1,
            c @ (b'{' | b'[' | b'}' | b']' | b',') => {
                // An empty `{}` / `[]` stays on its line as a pair.
                let close = match c {
                    b'{' => Some(b'}'),
                    b'[' => Some(b']'),
                    _ => None,
                };
                let mut j = k + 1;
                while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r') {
                    j += 1;
                }
                if close.is_some() && b.get(j).copied() == close {
                    let pair = if c == b'{' { "{}" } else { "[]" };
                    out.push((pair.into(), Tok::Punct));
                    k = j + 1;
                } else {
                    out.push(((c as char).to_string(), Tok::Punct));
                    k += 1;
                }
            }
            b':' => {
                out.push((": ".into(), Tok::Punct));
                k += 1;
            }
            b'"' => {
                let mut j = k + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                let mut after = end;
                while after < b.len() && matches!(b[after], b' ' | b'\t' | b'\n' | b'\r') {
                    after += 1;
                }
                let kind = if b.get(after) == Some(&b':') {
                    Tok::Key
                } else {
                    Tok::Str
                };
                out.push((seg[k..end].to_string(), kind));
                k = end;
            }
            _ => {
                let mut j = k;
                while j < b.len()
                    && !matches!(
                        b[j],
                        b',' | b':' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    j += 1;
                }
                let j = j.max(k + 1);
                let kind = if matches!(b[k], b'-' | b'0'..=b'9') {
                    Tok::Num
                } else {
                    Tok::Lit
                };
                // Valid JSON: a token ends at an ASCII byte, so this is a char boundary.
                out.push((seg[k..j].to_string(), kind));
                k = j;
            }
        }
    }
    out
}

/// Does JSON line `i` open a block (end with `{` or `[`)? Then the matching close line.
pub fn block_end(src: &str, lines: &[JsonLineRef], i: usize) -> Option<usize> {
    if !opens(src, lines, i) {
        return None;
    }
    let l = lines.get(i)?.0;
    lines[i + 1..]
        .iter()
        .position(|n| {
            n.0.depth == l.depth
                && !n.0.in_string
                && matches!(src.as_bytes()[n.0.start], b'}' | b']')
        })
        .map(|p| i + 1 + p)
}

/// Line `i` opens a block (it ends with `{` or `[` outside a string).
fn opens(src: &str, lines: &[JsonLineRef], i: usize) -> bool {
    let Some(l) = lines.get(i).map(|l| l.0) else {
        return false;
    };
    let end = lines.get(i + 1).map_or(src.len(), |n| n.0.start);
    !l.in_string && src[l.start..end].trim_end().ends_with(['{', '['])
}

/// The block that `z` folds when line `i` is at the top of the pane: the block line `i`
/// opens, else the innermost block containing it — the nearest line above with a smaller
/// depth (pretty-printed JSON closes a block at its opener's depth, so nothing shallower
/// comes between). Cost: the distance to that line, never a scan of the blocks themselves
/// (this runs on every draw).
pub fn block_at(src: &str, lines: &[JsonLineRef], i: usize) -> Option<usize> {
    if opens(src, lines, i) {
        return Some(i);
    }
    let depth = lines.get(i)?.0.depth;
    (0..i)
        .rev()
        .find(|&k| lines[k].0.depth < depth && !lines[k].0.in_string)
        .filter(|&k| opens(src, lines, k))
}

/// Which body lines are visible with `folds` (opening lines of folded blocks): a folded
/// block shows its opening line only. Sorted, non-overlapping hidden ranges.
pub fn hidden_ranges(
    src: &str,
    lines: &[JsonLineRef],
    folds: &BTreeSet<u64>,
) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &f in folds {
        let f = f as usize;
        if out.last().is_some_and(|&(_, end)| f <= end) {
            continue; // inside a block folded already
        }
        if let Some(end) = block_end(src, lines, f) {
            out.push((f + 1, end));
        }
    }
    out
}

/// Hidden ranges of a decoded tree with `folds` (as [`hidden_ranges`] for JSON).
pub fn tree_hidden(tree: &crate::decode::Tree, folds: &BTreeSet<u64>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &f in folds {
        let f = f as usize;
        if out.last().is_some_and(|&(_, end)| f <= end) {
            continue;
        }
        if let Some(end) = tree.block_end(f) {
            out.push((f + 1, end));
        }
    }
    out
}

/// The styled pieces of tree line `i`: indent, key, value; a folded block's line ends in
/// `… N lines folded`.
pub fn tree_pieces(
    tree: &crate::decode::Tree,
    i: usize,
    folded_lines: Option<usize>,
) -> Vec<(String, Style)> {
    use crate::decode::Kind;
    let n = &tree.lines[i];
    let mut pieces = Vec::with_capacity(4);
    if n.depth > 0 {
        pieces.push(("  ".repeat((n.depth as usize).min(64)), Style::new()));
    }
    if !n.key.is_empty() {
        pieces.push((n.key.clone(), Style::new().fg(theme::ACCENT)));
        pieces.push((": ".into(), theme::dim()));
    }
    let style = match n.kind {
        Kind::Container => theme::bold(),
        Kind::Str => tok_style(Tok::Str),
        Kind::Num => tok_style(Tok::Num),
        Kind::Lit => tok_style(Tok::Lit),
        Kind::Bytes => Style::new().fg(ratatui::style::Color::Magenta),
        Kind::Note => theme::dim().add_modifier(Modifier::ITALIC),
    };
    pieces.push((n.value.clone(), style));
    if let Some(k) = folded_lines {
        pieces.push((
            format!(" … {k} lines folded (z) "),
            theme::dim().add_modifier(Modifier::ITALIC),
        ));
    }
    pieces
}

/// Visible line `v` → body line, skipping hidden ranges (inclusive).
pub fn visible_to_line(hidden: &[(usize, usize)], v: usize) -> usize {
    let mut line = v;
    for &(a, b) in hidden {
        if line >= a {
            line += b - a + 1;
        } else {
            break;
        }
    }
    line
}

/// How many body lines are visible.
pub fn visible_count(total: usize, hidden: &[(usize, usize)]) -> usize {
    total - hidden.iter().map(|(a, b)| b - a + 1).sum::<usize>()
}

/// Style of a JSON token.
pub fn tok_style(t: Tok) -> Style {
    match t {
        Tok::Indent | Tok::Punct => Style::new(),
        Tok::Key => Style::new().fg(theme::ACCENT),
        Tok::Str => Style::new().fg(theme::GOOD),
        Tok::Num => Style::new().fg(ratatui::style::Color::Magenta),
        Tok::Lit => Style::new().fg(theme::WARN),
    }
}

/// JSON line pieces, sanitised and styled; a folded block's line ends in `… N lines`.
pub fn json_pieces(
    src: &str,
    lines: &[JsonLineRef],
    i: usize,
    folded_lines: Option<usize>,
) -> Vec<(String, Style)> {
    let mut pieces: Vec<(String, Style)> = json_line(src, lines, i)
        .into_iter()
        .map(|(s, t)| (sanitize_line(&s), tok_style(t)))
        .collect();
    if let Some(n) = folded_lines {
        pieces.push((
            format!(" … {n} lines folded (z) "),
            theme::dim().add_modifier(Modifier::ITALIC),
        ));
    }
    pieces
}

/// Hex row `i` of a payload as styled pieces.
pub fn hex_pieces(payload: &[u8], per: usize, i: usize) -> Vec<(String, Style)> {
    let start = i * per;
    let row = &payload[start.min(payload.len())..(start + per).min(payload.len())];
    let (o, h, a) = hexdump::line(row, start, per);
    vec![
        (o, theme::dim()),
        (" │ ".into(), theme::dim()),
        (h, Style::new()),
        (" │ ".into(), theme::dim()),
        (a, Style::new().fg(ratatui::style::Color::Magenta)),
    ]
}

/// A line of dim italic text (notes above the payload).
pub fn note_line(text: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(
        text.into(),
        theme::dim().add_modifier(Modifier::ITALIC),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(src: &str) -> Vec<String> {
        let idx = index_json(src, 4096).unwrap();
        (0..idx.len())
            .map(|i| {
                json_line(src, &idx, i)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn indents_and_keeps_key_order_and_numbers() {
        let src = r#"{"z":1.50,"a":[true,null,"x"],"e":{},"f":[]}"#;
        assert_eq!(
            pretty(src),
            [
                "{",
                "  \"z\": 1.50,",
                "  \"a\": [",
                "    true,",
                "    null,",
                "    \"x\"",
                "  ],",
                "  \"e\": {},",
                "  \"f\": []",
                "}",
            ]
        );
        let idx = index_json(src, 4096).unwrap();
        let kinds: Vec<Tok> = json_line(src, &idx, 1).iter().map(|(_, t)| *t).collect();
        assert_eq!(
            kinds,
            [Tok::Indent, Tok::Key, Tok::Punct, Tok::Num, Tok::Punct]
        );
    }

    #[test]
    fn already_indented_json_and_escaped_strings() {
        let src = "{\n  \"a\" : [ \"x\\\"y:z\" , 2 ] ,\n  \"b\": {\"c\": null}\n}\n";
        assert_eq!(
            pretty(src),
            [
                "{",
                "  \"a\": [",
                "    \"x\\\"y:z\",",
                "    2",
                "  ],",
                "  \"b\": {",
                "    \"c\": null",
                "  }",
                "}",
            ]
        );
    }

    #[test]
    fn only_objects_and_arrays_that_parse() {
        assert!(index_json("42", 64).is_none());
        assert!(index_json("\"str\"", 64).is_none());
        assert!(index_json("{\"a\":", 64).is_none());
        assert!(index_json("{} trailing", 64).is_none());
        assert!(index_json("not json", 64).is_none());
        assert_eq!(pretty("  {\"a\":1}\n"), ["{", "  \"a\": 1", "}"]);
    }

    #[test]
    fn a_long_string_continues_in_chunks() {
        const CHUNK: usize = 4096;
        let long = "é".repeat(CHUNK * 2);
        let src = format!("[\"{long}\",1]");
        let idx = index_json(&src, CHUNK).unwrap();
        let lines: Vec<String> = (0..idx.len())
            .map(|i| {
                json_line(&src, &idx, i)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect()
            })
            .collect();
        assert!(lines.len() >= 5, "{lines:?}");
        let joined: String = lines[1..lines.len() - 2]
            .iter()
            .map(|l| l.trim_start())
            .collect();
        assert_eq!(joined, format!("\"{long}\","));
        assert_eq!(lines[lines.len() - 2], "  1");
    }

    #[test]
    fn folding_hides_a_block_and_maps_visible_lines() {
        let src = r#"{"a":{"b":1,"c":2},"d":3}"#;
        let idx = index_json(src, 4096).unwrap();
        // { / "a": { / "b": 1, / "c": 2 / }, / "d": 3 / }
        assert_eq!(block_end(src, &idx, 1), Some(4));
        assert_eq!(block_at(src, &idx, 2), Some(1));
        assert_eq!(block_at(src, &idx, 0), Some(0));
        let hidden = hidden_ranges(src, &idx, &BTreeSet::from([1]));
        assert_eq!(hidden, [(2, 4)]);
        assert_eq!(visible_count(idx.len(), &hidden), 4);
        assert_eq!(visible_to_line(&hidden, 2), 5);
        // Folding the outer block hides everything but its first line.
        let hidden = hidden_ranges(src, &idx, &BTreeSet::from([0, 1]));
        assert_eq!(visible_count(idx.len(), &hidden), 1);
    }

    #[test]
    fn text_lines_split_at_newlines_and_chunks() {
        let s = "one\ntwo\n";
        let st = index_text(s, 80);
        assert_eq!(st, [0, 4]);
        assert_eq!(text_line(s, &st, 1), "two");
        let long = "x".repeat(80 * 2 + 5);
        let st = index_text(&long, 80);
        assert_eq!(st, [0, 80, 160]);
        assert_eq!(index_text("", 80), [0]);
        let crlf = "a\r\nb";
        assert_eq!(text_line(crlf, &index_text(crlf, 80), 0), "a");
    }
}
