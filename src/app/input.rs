//! The chat input box: one line of Emacs-style editing (tui-input) plus recall of sent lines.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::{Input, InputRequest, StateChanged};

use super::action::EditOp;

/// Sent lines remembered for Up/Down recall.
const RECALL_MAX: usize = 1000;

#[derive(Debug, Default)]
pub struct ChatInput {
    pub(crate) input: Input,
    recall: Vec<String>,
    /// Index into `recall` while browsing it.
    pos: Option<usize>,
    /// What was typed before browsing started; Down past the newest line restores it.
    draft: String,
    /// The whole line is selected (a refused command): a typed character replaces it, any
    /// other editing key keeps it.
    selected: bool,
}

impl ChatInput {
    pub fn value(&self) -> &str {
        self.input.value()
    }

    pub fn input(&self) -> &Input {
        &self.input
    }

    /// Editing other than recall ends browsing (the edited line becomes the draft).
    pub fn edited(&mut self) {
        self.pos = None;
    }

    /// Select the whole line (see [`ChatInput::is_selected`]).
    pub fn select_all(&mut self) {
        self.selected = !self.input.value().is_empty();
    }

    /// Whether the line is selected: the next typed character replaces it.
    pub fn is_selected(&self) -> bool {
        self.selected
    }

    /// An editing key in the input: a typed character replaces a selected line.
    pub fn edit(&mut self, op: EditOp, k: &KeyEvent) -> Option<StateChanged> {
        if std::mem::take(&mut self.selected)
            && op == EditOp::Type
            && matches!(k.code, KeyCode::Char(_))
        {
            self.input.reset();
        }
        let changed = apply_edit(&mut self.input, op, k);
        if changed.is_some_and(|c| c.value) {
            self.edited();
        }
        changed
    }

    /// Take the line to send and remember it for recall.
    pub fn take(&mut self) -> String {
        self.selected = false;
        let line = self.input.value_and_reset();
        if self.recall.last() != Some(&line) {
            self.recall.push(line.clone());
            if self.recall.len() > RECALL_MAX {
                self.recall.remove(0);
            }
        }
        self.pos = None;
        self.draft.clear();
        line
    }

    /// Up: an older sent line. Returns false when there is none.
    pub fn recall_older(&mut self) -> bool {
        self.selected = false;
        let next = match self.pos {
            None if self.recall.is_empty() => return false,
            None => {
                self.draft = self.input.value().to_string();
                self.recall.len() - 1
            }
            Some(0) => return false,
            Some(p) => p - 1,
        };
        self.pos = Some(next);
        self.input = Input::new(self.recall[next].clone());
        true
    }

    /// Down: a newer sent line, then back to the draft.
    pub fn recall_newer(&mut self) -> bool {
        self.selected = false;
        let Some(p) = self.pos else { return false };
        if p + 1 < self.recall.len() {
            self.pos = Some(p + 1);
            self.input = Input::new(self.recall[p + 1].clone());
        } else {
            self.pos = None;
            self.input = Input::new(std::mem::take(&mut self.draft));
        }
        true
    }

    /// Insert pasted text at the cursor (line breaks become spaces, controls are dropped).
    pub fn paste(&mut self, text: &str) {
        if std::mem::take(&mut self.selected) {
            self.input.reset();
        }
        insert_text(&mut self.input, text);
        self.pos = None;
    }
}

/// Carry out an editing key on a single-line field: `op` is what the keymap says the key does;
/// `EditOp::Type` types the key's character (plain, Shift, or AltGr's Ctrl-Alt). Returns what
/// changed, `None` when nothing did.
pub fn apply_edit(input: &mut Input, op: EditOp, k: &KeyEvent) -> Option<StateChanged> {
    use InputRequest as R;
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let req = match op {
        EditOp::Type => match k.code {
            KeyCode::Char(c)
                if !c.is_control() && (k.modifiers - KeyModifiers::SHIFT).is_empty()
                    || k.modifiers == KeyModifiers::CONTROL | KeyModifiers::ALT =>
            {
                R::InsertChar(c)
            }
            _ => return None,
        },
        EditOp::Start => R::GoToStart,
        EditOp::End => R::GoToEnd,
        EditOp::PrevChar => R::GoToPrevChar,
        EditOp::NextChar => R::GoToNextChar,
        EditOp::PrevWord => R::GoToPrevWord,
        EditOp::NextWord => R::GoToNextWord,
        EditOp::DeletePrev => R::DeletePrevChar,
        EditOp::DeleteNext => R::DeleteNextChar,
        EditOp::DeletePrevWord => R::DeletePrevWord,
        EditOp::DeleteNextWord => R::DeleteNextWord,
        EditOp::DeleteToEnd => R::DeleteTillEnd,
        EditOp::DeleteLine => R::DeleteLine,
        EditOp::Yank => R::Yank,
    };
    input.handle(req)
}

/// Insert text at the cursor of a single-line input: line breaks and tabs become spaces,
/// other control characters are dropped.
pub fn insert_text(input: &mut Input, text: &str) {
    use tui_input::InputRequest;
    let text = text.replace("\r\n", "\n");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    for c in text.chars() {
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        input.handle(InputRequest::InsertChar(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> ChatInput {
        let mut c = ChatInput::default();
        c.paste(s);
        c
    }

    #[test]
    fn recall_walks_back_and_restores_draft() {
        let mut c = ChatInput::default();
        for l in ["one", "two", "three"] {
            c.paste(l);
            assert_eq!(c.take(), l);
        }
        c.paste("dra");
        assert!(c.recall_older());
        assert_eq!(c.value(), "three");
        assert!(c.recall_older());
        assert!(c.recall_older());
        assert_eq!(c.value(), "one");
        assert!(!c.recall_older());
        assert_eq!(c.value(), "one");
        assert!(c.recall_newer());
        assert_eq!(c.value(), "two");
        assert!(c.recall_newer());
        assert!(c.recall_newer());
        assert_eq!(c.value(), "dra");
        assert!(!c.recall_newer());
    }

    #[test]
    fn repeated_lines_are_recalled_once() {
        let mut c = ChatInput::default();
        for l in ["a", "a", "b"] {
            c.paste(l);
            c.take();
        }
        c.recall_older();
        c.recall_older();
        assert_eq!(c.value(), "a");
        assert!(!c.recall_older());
    }

    #[test]
    fn paste_flattens_lines_and_drops_controls() {
        assert_eq!(typed("a\r\nb\nc\n").value(), "a b c");
        assert_eq!(typed("x\u{1b}[2Jy\tz").value(), "x[2Jy z");
    }
}
