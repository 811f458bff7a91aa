//! Colours and styles, in one place.
//!
//! The default look works on dark and on light terminals: text keeps the terminal's own
//! foreground and background, colour is only an accent (arrows, states, JSON), and the few
//! coloured backgrounds always set their foreground too. Focus and selection use underline
//! and reverse video, which every terminal renders readably.
//!
//! `NO_COLOR` (<https://no-color.org>): when [`set_no_color`] was called with `true` at
//! startup, [`finish`] removes every colour from the drawn screen; bold, reverse and underline
//! stay (a cell that had a coloured background is shown in reverse video instead).

use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::app::NoteLevel;

static NO_COLOR: AtomicBool = AtomicBool::new(false);

/// Draw without colours from now on (call once at startup, from `NO_COLOR`).
pub fn set_no_color(on: bool) {
    NO_COLOR.store(on, Ordering::Relaxed);
}

/// Whether screens are drawn without colours.
pub fn no_color() -> bool {
    NO_COLOR.load(Ordering::Relaxed)
}

/// What `NO_COLOR` asks for: set to anything non-empty means no colour.
pub fn no_color_requested(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// The last step of every draw: in no-colour mode, strip colours from `area`.
pub fn finish(buf: &mut Buffer, area: Rect) {
    if !no_color() {
        return;
    }
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            if cell.bg != Color::Reset {
                // Highlights (key hints, "new" markers) stay visible without colour.
                cell.modifier.insert(Modifier::REVERSED);
            }
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
            cell.underline_color = Color::Reset;
        }
    }
}

pub const ACCENT: Color = Color::Cyan;
pub const SENT: Color = Color::Cyan;
pub const RECEIVED: Color = Color::Green;
pub const GOOD: Color = Color::Green;
pub const WARN: Color = Color::Yellow;
pub const ERROR: Color = Color::Red;
pub const DIM: Color = Color::DarkGray;

pub fn dim() -> Style {
    Style::new().fg(DIM)
}

pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn accent() -> Style {
    Style::new().fg(ACCENT)
}

pub fn error() -> Style {
    Style::new().fg(ERROR)
}

/// Border of a block: accent when it holds the focus.
pub fn border(focused: bool) -> Style {
    if focused { accent() } else { dim() }
}

/// Title of a block.
pub fn title(focused: bool) -> Style {
    if focused {
        accent().add_modifier(Modifier::BOLD)
    } else {
        bold()
    }
}

/// The value cell of a focused form field: underlined, in the terminal's own colours.
pub fn field_focused() -> Style {
    Style::new().add_modifier(Modifier::UNDERLINED)
}

/// The selected row of a list or table: reverse video of the terminal's own colours.
pub fn selected() -> Style {
    Style::new()
        .fg(Color::Reset)
        .bg(Color::Reset)
        .add_modifier(Modifier::REVERSED | Modifier::BOLD)
}

/// A key name in a hint ("F1", "Enter"): both colours set, so it reads on any background.
pub fn key() -> Style {
    Style::new().fg(Color::Black).bg(Color::Gray)
}

pub fn note(level: NoteLevel) -> Style {
    match level {
        NoteLevel::Info => dim().add_modifier(Modifier::ITALIC),
        NoteLevel::Good => Style::new().fg(GOOD),
        NoteLevel::Warn => Style::new().fg(WARN),
        NoteLevel::Error => Style::new().fg(ERROR),
    }
}
