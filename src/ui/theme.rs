//! Colours and styles, in one place.

use ratatui::style::{Color, Modifier, Style};

use crate::app::NoteLevel;

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

/// The value cell of a focused form field.
pub fn field_focused() -> Style {
    Style::new().bg(Color::Indexed(236)).fg(Color::White)
}

/// A key name in a hint ("F1", "Enter").
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
