//! The command palette (Ctrl-P): snippets, views, ping, recording, export, clear, help, quit
//! and "connect @profile", narrowed by a fuzzy match as the user types.
//!
//! The matcher is a scored subsequence match (pure, unit-tested): every query character must
//! appear in order; consecutive runs, word starts and an early first hit score higher.

use tui_input::Input;

use super::action::{Action, Context, EditOp};
use super::monitor::View;
use super::{App, keymap};

/// One entry of the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What the fuzzy match runs over ("snippet: hello", "Monitor view").
    pub label: String,
    /// A dim hint after the label: the snippet's text, a key.
    pub detail: String,
    /// The key that does the same from anywhere, if any ("F5"; from the keymap).
    pub key: Option<String>,
    pub action: Action,
}

/// An item that matches the query, with the label's matched char positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub item: usize,
    pub score: i32,
    pub positions: Vec<usize>,
}

/// The open palette.
#[derive(Debug)]
pub struct Palette {
    pub(crate) query: Input,
    items: Vec<Item>,
    matches: Vec<Match>,
    selected: usize,
}

impl Palette {
    pub fn new(items: Vec<Item>) -> Palette {
        let mut p = Palette {
            query: Input::default(),
            items,
            matches: Vec::new(),
            selected: 0,
        };
        p.refilter();
        p
    }

    pub fn query(&self) -> &Input {
        &self.query
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The items that match, best first.
    pub fn matches(&self) -> &[Match] {
        &self.matches
    }

    /// Index into `matches` of the highlighted one.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The highlighted item.
    pub fn current(&self) -> Option<&Item> {
        self.matches
            .get(self.selected)
            .and_then(|m| self.items.get(m.item))
    }

    fn refilter(&mut self) {
        let q = self.query.value();
        let mut ms: Vec<Match> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| {
                fuzzy_match(q, &it.label).map(|(score, positions)| Match {
                    item: i,
                    score,
                    positions,
                })
            })
            .collect();
        // Stable: equal scores keep the palette's order.
        ms.sort_by_key(|m| std::cmp::Reverse(m.score));
        self.matches = ms;
        self.selected = 0;
    }

    pub(crate) fn move_by(&mut self, d: isize) {
        let n = self.matches.len();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as isize + d).rem_euclid(n as isize) as usize;
    }

    /// A key typed into the query.
    pub(crate) fn edit(&mut self, op: EditOp, k: crossterm::event::KeyEvent) {
        if super::input::apply_edit(&mut self.query, op, &k).is_some_and(|c| c.value) {
            self.refilter();
        }
    }

    pub(crate) fn paste(&mut self, s: &str) {
        super::input::insert_text(&mut self.query, s);
        self.refilter();
    }
}

/// Score `query` against `text`: `None` unless every query char appears in order (case is
/// ignored unless the query has capitals). Returns the score and the matched char positions
/// in `text`. An empty query matches everything with score 0.
pub fn fuzzy_match(query: &str, text: &str) -> Option<(i32, Vec<usize>)> {
    let q: Vec<char> = query.chars().filter(|c| !c.is_whitespace()).collect();
    if q.is_empty() {
        return Some((0, Vec::new()));
    }
    let smart = q.iter().any(|c| c.is_uppercase());
    let fold = |c: char| {
        if smart {
            c
        } else {
            c.to_lowercase().next().unwrap_or(c)
        }
    };
    let t: Vec<char> = text.chars().collect();
    let tf: Vec<char> = t.iter().map(|&c| fold(c)).collect();
    let qf: Vec<char> = q.iter().map(|&c| fold(c)).collect();
    // Quick reject: is it a subsequence at all?
    let mut k = 0;
    for &c in &tf {
        if k < qf.len() && c == qf[k] {
            k += 1;
        }
    }
    if k < qf.len() {
        return None;
    }
    let word_start = |i: usize| {
        i == 0 || {
            let p = t[i - 1];
            !p.is_alphanumeric() || (p.is_lowercase() && t[i].is_uppercase())
        }
    };
    // Best alignment by dynamic programming: `best[a*m + i]` is the score of matching
    // q[..=a] with q[a] at text position i. Labels are short, so O(n·m) is nothing.
    const NONE: i32 = i32::MIN / 2;
    let (n, m) = (qf.len(), tf.len());
    let mut best = vec![NONE; n * m];
    let mut from = vec![usize::MAX; n * m];
    let hit = |i: usize| 16 + if word_start(i) { 12 } else { 0 };
    for i in 0..m {
        if tf[i] == qf[0] {
            // Earlier first hits rank higher; a hit at the very start most of all.
            best[i] = hit(i) + 8 - (i as i32).min(8);
        }
    }
    for a in 1..n {
        // max over j < i-1 of best[a-1][j] + j (a gap from j to i costs 3 + skipped chars).
        let mut gap_best = NONE;
        let mut gap_at = usize::MAX;
        for i in 1..m {
            if i >= 2 {
                let j = i - 2;
                let v = best[(a - 1) * m + j];
                if v > NONE && v + j as i32 > gap_best {
                    gap_best = v + j as i32;
                    gap_at = j;
                }
            }
            if tf[i] != qf[a] {
                continue;
            }
            let mut cand = NONE;
            let mut cand_from = usize::MAX;
            let prev = best[(a - 1) * m + i - 1];
            if prev > NONE {
                cand = prev + 10;
                cand_from = i - 1;
            }
            if gap_best > NONE {
                let g = gap_best - (i as i32 - 1) - 3;
                if g > cand {
                    cand = g;
                    cand_from = gap_at;
                }
            }
            if cand > NONE {
                best[a * m + i] = cand + hit(i);
                from[a * m + i] = cand_from;
            }
        }
    }
    let last = n - 1;
    let (mut i, score) = (0..m)
        .map(|i| (i, best[last * m + i]))
        .filter(|(_, s)| *s > NONE)
        .max_by_key(|&(i, s)| (s, std::cmp::Reverse(i)))?;
    let mut positions = vec![0; n];
    for a in (0..n).rev() {
        positions[a] = i;
        if a > 0 {
            i = from[a * m + i];
        }
    }
    // Shorter labels win ties: a little off for length.
    Some((score - (m as i32) / 8, positions))
}

impl App {
    /// The open palette, if any.
    pub fn palette(&self) -> Option<&Palette> {
        self.overlays.palette.as_ref()
    }

    /// Ctrl-P: the palette over this session's snippets and commands.
    pub(super) fn open_palette(&mut self) {
        let hint = |a: &Action| {
            keymap::key_for(Context::Global, a).or_else(|| keymap::key_for(Context::Client, a))
        };
        let mut items = Vec::new();
        for (i, s) in self.profiles.snippets.iter().enumerate() {
            let detail = match (&s.text, &s.hex) {
                (_, Some(h)) => format!("binary {}", h.trim()),
                (Some(t), None) => crate::text::sanitize_line(t),
                (None, None) => String::new(),
            };
            items.push(Item {
                label: format!("snippet: {}", crate::text::sanitize_line(&s.name)),
                detail,
                key: hint(&Action::Snippet(i)),
                action: Action::Snippet(i),
            });
        }
        let record = if self.monitor.recording().is_some() {
            "Stop recording"
        } else {
            "Start recording (JSONL)"
        };
        let copy = match self.view {
            View::Monitor => "Copy the selected frame",
            View::Chat => "Copy the last message shown",
        };
        let fixed: [(&str, &str, Action); 9] = [
            ("Chat view", "history and input", Action::ChatView),
            (
                "Monitor view",
                "every frame, handshake, stats",
                Action::MonitorView,
            ),
            ("Send ping", "RTT shows in the monitor", Action::Ping),
            (record, "", Action::ToggleRecord),
            (
                "Export HAR",
                "the session's frames",
                Action::ExportHar(None),
            ),
            (copy, "to the clipboard (OSC 52)", Action::Copy),
            (
                "Clear chat history",
                "the monitor keeps its frames",
                Action::ClearHistory,
            ),
            ("Help: keys", "", Action::ToggleHelp),
            ("Quit", "close every connection", Action::Quit),
        ];
        for (label, detail, action) in fixed {
            items.push(Item {
                label: label.to_string(),
                detail: detail.to_string(),
                key: hint(&action),
                action,
            });
        }
        for (i, p) in self.profiles.saved.iter().enumerate() {
            items.push(Item {
                label: format!("connect @{}", crate::text::sanitize_line(&p.name)),
                detail: crate::text::sanitize_line(&crate::record::redact_url(&p.url)),
                key: None,
                action: Action::ConnectProfile(i),
            });
        }
        self.overlays.palette = Some(Palette::new(items));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(q: &str, t: &str) -> i32 {
        fuzzy_match(q, t).map(|m| m.0).unwrap_or(i32::MIN)
    }

    #[test]
    fn subsequence_or_nothing() {
        assert!(fuzzy_match("mon", "Monitor view").is_some());
        assert!(fuzzy_match("mnv", "Monitor view").is_some());
        assert!(fuzzy_match("vm", "Monitor view").is_none());
        assert!(fuzzy_match("xyz", "Monitor view").is_none());
        assert_eq!(fuzzy_match("", "anything").map(|m| m.0), Some(0));
    }

    #[test]
    fn positions_point_at_the_best_alignment() {
        let (_, pos) = fuzzy_match("exp", "Export HAR").unwrap();
        assert_eq!(pos, vec![0, 1, 2]);
        // "hr" picks the word start H, not the 'h' of "chat".
        let (_, pos) = fuzzy_match("ha", "chat: HAR").unwrap();
        assert_eq!(pos, vec![6, 7]);
        let (_, pos) = fuzzy_match("cv", "Chat view").unwrap();
        assert_eq!(pos, vec![0, 5]);
    }

    #[test]
    fn better_matches_score_higher() {
        // Consecutive beats scattered.
        assert!(score("ping", "Send ping") > score("ping", "Stop recording in g"));
        // Word starts beat the middle of words.
        assert!(score("mv", "Monitor view") > score("mv", "something move"));
        // A prefix beats a later hit.
        assert!(score("chat", "Chat view") > score("chat", "Clear chat history"));
        // Smart case: capitals must match exactly.
        assert!(fuzzy_match("HAR", "Export HAR").is_some());
        assert!(fuzzy_match("HAR", "share").is_none());
        assert!(fuzzy_match("har", "Export HAR").is_some());
    }

    fn items(labels: &[&str]) -> Vec<Item> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| Item {
                label: l.to_string(),
                detail: String::new(),
                key: None,
                action: Action::Snippet(i),
            })
            .collect()
    }

    #[test]
    fn typing_narrows_and_ranks() {
        let mut p = Palette::new(items(&["Chat view", "Monitor view", "Send ping", "Quit"]));
        assert_eq!(p.matches().len(), 4);
        assert_eq!(p.current().unwrap().label, "Chat view");
        p.paste("vi");
        let labels: Vec<_> = p
            .matches()
            .iter()
            .map(|m| p.items()[m.item].label.as_str())
            .collect();
        assert_eq!(labels, ["Chat view", "Monitor view"]);
        p.move_by(1);
        assert_eq!(p.current().unwrap().label, "Monitor view");
        p.move_by(1);
        assert_eq!(p.current().unwrap().label, "Chat view", "wraps around");
        p.paste("zz");
        assert!(p.current().is_none());
    }
}
