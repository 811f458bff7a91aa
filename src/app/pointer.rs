//! Mouse, paste and typing: where input that is not a key binding lands.

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::action::{Action, EditOp};
use super::input::apply_edit;
use super::{App, Focus, Hit, View, input};

/// Rows the mouse wheel scrolls.
const WHEEL_ROWS: i32 = 3;

impl App {
    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        if let MouseEventKind::Down(MouseButton::Left) = m.kind {
            if !self.overlays.help && self.overlays.palette.is_none() {
                self.on_click(m.column, m.row);
            }
            return;
        }
        if self.overlays.palette.is_some() {
            return;
        }
        let rows = match m.kind {
            MouseEventKind::ScrollUp => -WHEEL_ROWS,
            MouseEventKind::ScrollDown => WHEEL_ROWS,
            _ => return,
        };
        let action = match self.view {
            View::Monitor if !self.overlays.help => Action::MoveSelection(rows),
            _ => Action::HistoryScroll(rows),
        };
        let _ = self.apply(action);
    }

    /// A left click: focus the login field or the input, or select the monitor row, drawn
    /// at that cell by the last draw.
    fn on_click(&mut self, x: u16, y: u16) {
        let hit = self
            .hits
            .iter()
            .rev()
            .find(|(r, _)| r.contains(Position::new(x, y)))
            .map(|(_, h)| *h);
        match hit {
            Some(Hit::Field(f)) if self.login.relevant(f) => self.focus = f,
            Some(Hit::Field(_)) | None => {}
            Some(Hit::Chat) => self.focus = Focus::Input,
            Some(Hit::Frame(abs)) => {
                let log = &self.source.log;
                let v = self.monitor.view(log);
                if let (Some(cur), Some(row)) = (v.selected_row(), v.row_of(abs)) {
                    self.monitor
                        .move_selection(log, row as isize - cur as isize);
                }
            }
        }
    }

    pub(super) fn on_paste(&mut self, s: &str) {
        if self.overlays.help {
            return;
        }
        if let Some(p) = self.overlays.palette.as_mut() {
            p.paste(s);
            return;
        }
        if self.relay.as_ref().is_some_and(|r| r.line.is_some()) {
            self.chat.input.paste(s);
            return;
        }
        if self.view == View::Monitor {
            self.on_monitor_paste(s);
            return;
        }
        match self.focus {
            Focus::Input => self.chat.input.paste(s),
            Focus::Profile | Focus::Auth => {}
            f => {
                if let Some(i) = self.login.input_mut(f) {
                    input::insert_text(i, s);
                }
            }
        }
    }

    /// A key typed into the focused text field.
    pub(super) fn edit(&mut self, op: EditOp, k: KeyEvent) {
        if let Some(p) = self.overlays.palette.as_mut() {
            p.edit(op, k);
        } else if self.relay.as_ref().is_some_and(|r| r.line.is_some()) {
            apply_edit(&mut self.chat.input.input, op, &k);
        } else if self.view == View::Monitor {
            self.edit_filter(op, k);
        } else if self.focus == Focus::Input {
            self.chat.input.edit(op, &k);
        } else if let Some(i) = self.login.input_mut(self.focus) {
            apply_edit(i, op, &k);
        }
    }

    /// Move focus to the next/previous relevant field; `wrap` lets it cycle around.
    pub(super) fn move_focus(&mut self, forward: bool, wrap: bool) {
        // A replay's login pane shows the recording: no field to go to.
        if self.read_only() {
            self.focus = Focus::Input;
            return;
        }
        let order = Focus::ORDER;
        let n = order.len();
        let mut i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        for _ in 0..n {
            if forward {
                if i + 1 == n && !wrap {
                    return;
                }
                i = (i + 1) % n;
            } else {
                if i == 0 && !wrap {
                    return;
                }
                i = (i + n - 1) % n;
            }
            if self.login.relevant(order[i]) {
                self.focus = order[i];
                return;
            }
        }
    }
}
