//! A decoded payload as a tree of lines: each line has its depth, a key (a map key, an array
//! index, a field number) and a value, both sanitised when the line is made, so drawing a
//! line is only laying out two short strings. Building stops at [`MAX_LINES`] lines and cuts
//! a value at [`MAX_VALUE`] bytes, saying so: a decoded message costs memory bounded by
//! those, never by what its length fields claim.

use super::Undecodable;
use crate::text::sanitize_line;

/// Most lines one decoded message becomes.
pub const MAX_LINES: usize = 100_000;
/// Most bytes of one value shown (a longer string or byte string is cut and says how much
/// is left).
pub const MAX_VALUE: usize = 2048;
/// Deepest nesting decoded (deeper data is an error, never a deep recursion).
pub const MAX_DEPTH: usize = 64;

/// What a value is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A map, array, message or packet: the value says what and how many.
    Container,
    Str,
    Num,
    /// `true`, `false`, `null`, `nil`, `undefined`.
    Lit,
    /// Bytes shown as hex.
    Bytes,
    /// A remark of the decoder (a tag, a guess, a cut).
    Note,
}

/// One line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub depth: u16,
    /// Sanitised; empty for none.
    pub key: String,
    /// Sanitised.
    pub value: String,
    pub kind: Kind,
}

/// A decoded message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub lines: Vec<Node>,
    /// Set when [`MAX_LINES`] cut the tree short.
    pub cut: bool,
}

impl Tree {
    /// Add a line (sanitising key and value); false once the tree is full.
    pub fn push(&mut self, depth: usize, key: &str, value: &str, kind: Kind) -> bool {
        if self.lines.len() >= MAX_LINES {
            self.cut = true;
            return false;
        }
        self.lines.push(Node {
            depth: depth.min(u16::MAX as usize) as u16,
            key: sanitize_line(key),
            value: sanitize_line(value),
            kind,
        });
        true
    }

    pub fn full(&self) -> bool {
        self.cut || self.lines.len() >= MAX_LINES
    }

    /// Does line `i` open a block (the next line is deeper)?
    pub fn opens(&self, i: usize) -> bool {
        match (self.lines.get(i), self.lines.get(i + 1)) {
            (Some(a), Some(b)) => b.depth > a.depth,
            _ => false,
        }
    }

    /// The last line of the block line `i` opens.
    pub fn block_end(&self, i: usize) -> Option<usize> {
        if !self.opens(i) {
            return None;
        }
        let d = self.lines[i].depth;
        let n = self.lines[i + 1..]
            .iter()
            .take_while(|l| l.depth > d)
            .count();
        Some(i + n)
    }

    /// The block `z` folds with line `i` at the top of the pane: the one line `i` opens, else
    /// the innermost one containing it (the nearest shallower line above; the cost is that
    /// distance).
    pub fn block_at(&self, i: usize) -> Option<usize> {
        if self.opens(i) {
            return Some(i);
        }
        let d = self.lines.get(i)?.depth;
        (0..i).rev().find(|&k| self.lines[k].depth < d)
    }
}

/// A string value quoted and cut at [`MAX_VALUE`] bytes (at a character), saying how much
/// was left out.
pub fn quoted(s: &str) -> String {
    if s.len() <= MAX_VALUE {
        return format!("\"{s}\"");
    }
    let mut cut = MAX_VALUE;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "\"{}\" … {} more bytes",
        &s[..cut],
        crate::fmt::thousands((s.len() - cut) as u64)
    )
}

/// Bytes as `N B: de ad be ef …` (UTF-8 text among them is not guessed here), cut at
/// [`MAX_VALUE`] / 3 bytes.
pub fn bytes_value(b: &[u8]) -> String {
    let shown = b.len().min(MAX_VALUE / 3);
    let mut s = format!("{} B", crate::fmt::thousands(b.len() as u64));
    if !b.is_empty() {
        s.push_str(": ");
        s.push_str(&crate::fmt::hex_spaced(&b[..shown]));
        if shown < b.len() {
            s.push_str(" …");
        }
    }
    s
}

/// Printable text (valid UTF-8 without control characters other than line breaks and tabs)?
pub fn printable(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok().filter(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    })
}

/// `1 entry`, `3 entries`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        crate::fmt::thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

/// A payload holding one or more self-delimiting values (a CBOR sequence, a MessagePack
/// stream), read by `read` until the bytes end (at most 1,000 values) and laid out by `node`;
/// several are keyed `{noun} 1`, `{noun} 2`, …. A value that does not decode is the error,
/// with how many did before it and where.
pub(super) fn sequence<V, E>(
    payload: &[u8],
    noun: &str,
    mut read: impl FnMut(&mut &[u8]) -> Result<V, E>,
    why: impl Fn(&E) -> String,
    node: impl Fn(&mut Tree, usize, &str, &V) -> bool,
) -> Result<Tree, Undecodable> {
    let mut rd = payload;
    let mut values = Vec::new();
    while !rd.is_empty() && values.len() < 1000 {
        let at = payload.len() - rd.len();
        match read(&mut rd) {
            Ok(v) => values.push(v),
            Err(e) if values.is_empty() => return Err(why(&e).into()),
            Err(e) => {
                return Err(format!(
                    "{} {noun}{} decoded, then at byte {at}: {}",
                    values.len(),
                    if values.len() == 1 { "" } else { "s" },
                    why(&e)
                )
                .into());
            }
        }
    }
    let mut t = Tree::default();
    let many = values.len() > 1;
    for (i, v) in values.iter().enumerate() {
        let key = if many {
            format!("{noun} {}", i + 1)
        } else {
            String::new()
        };
        if !node(&mut t, 0, &key, v) {
            break;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_fold_by_depth_and_lines_are_sanitised() {
        let mut t = Tree::default();
        t.push(0, "", "map", Kind::Container);
        t.push(1, "a", "1", Kind::Num);
        t.push(1, "b", "array", Kind::Container);
        t.push(2, "0", "\u{1b}[31mred", Kind::Str);
        t.push(1, "c", "x", Kind::Str);
        assert_eq!(t.block_end(0), Some(4));
        assert_eq!(t.block_end(2), Some(3));
        assert_eq!(t.block_end(1), None);
        assert_eq!(t.block_at(3), Some(2));
        assert_eq!(t.block_at(4), Some(0));
        assert!(!t.lines[3].value.contains('\u{1b}'), "{:?}", t.lines[3]);
    }

    #[test]
    fn long_values_are_cut_and_say_so() {
        let s = "é".repeat(MAX_VALUE);
        let q = quoted(&s);
        assert!(q.ends_with("… 2,048 more bytes"), "{q}");
        let b = bytes_value(&[0xab; 4000]);
        assert!(b.starts_with("4,000 B: ab ab"), "{b}");
        assert!(b.ends_with(" …"));
    }
}
