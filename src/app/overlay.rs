//! What lies over the panes: the help, the command palette and the status bar's notice.

use super::{NoteLevel, Palette};

/// A one-line message in the status bar until the next key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: NoteLevel,
    pub text: String,
}

#[derive(Debug)]
pub struct Overlays {
    pub(super) help: bool,
    /// First help line shown, and the largest useful value (from the last draw).
    pub(super) help_scroll: u16,
    pub(super) help_max: u16,
    /// The command palette, while open (Ctrl-P).
    pub(super) palette: Option<Palette>,
    pub(super) notice: Option<Notice>,
}

impl Default for Overlays {
    fn default() -> Self {
        Overlays {
            help: false,
            help_scroll: 0,
            help_max: u16::MAX,
            palette: None,
            notice: None,
        }
    }
}
