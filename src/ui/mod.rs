//! Widgets over `&App`: the login pane, the chat history and input, the monitor, the status
//! bar and the help overlay. Drawing reads the state only; what it measured (clickable
//! regions, the chat view's size, how far the help scrolls) comes back as a [`Feedback`]
//! value for the app's next update (`Event::Drawn`).

mod chat;
pub mod detail;
mod handshake;
mod help;
pub mod hexdump;
mod login;
pub mod monitor;
mod palette;
pub mod proxy;
mod relay;
mod status;
pub mod tabs;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use std::time::SystemTime;

use crate::app::{App, ChatGeometry, Feedback, Hit, View};

/// Width of the login column in the wide layout.
pub const LOGIN_COLUMN: u16 = 32;
/// From this width on, the login pane is a column on the left; below, a block on top.
pub const WIDE_FROM: u16 = 80;

/// What the view layer keeps between draws of one session to draw faster: laid-out detail
/// lines. Only a cache — a fresh one draws the same screen.
#[derive(Debug, Default)]
pub struct ViewCache {
    detail: Option<detail::DetailCache>,
}

/// Draw the whole screen now (with a fresh cache); returns what was drawn where (for
/// `Event::Drawn`).
pub fn draw(frame: &mut Frame, app: &App) -> Feedback {
    draw_in(
        frame,
        frame.area(),
        app,
        SystemTime::now(),
        &mut ViewCache::default(),
    )
}

/// Draw the whole screen of one session into `area` (the deck puts its tab bar above), with
/// countdowns shown as of `now`.
pub fn draw_in(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    now: SystemTime,
    cache: &mut ViewCache,
) -> Feedback {
    let mut fb = Feedback {
        hits: Some(Vec::new()),
        ..Feedback::default()
    };
    if app.view() == View::Monitor {
        // The monitor takes everything above the status bar.
        let [main, status] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
        monitor::draw(frame, app, main, &mut fb, &mut cache.detail);
        match app.relay() {
            Some(r) => relay::draw_status(frame, app, r, status),
            None => status::draw(frame, app, status, now),
        }
    } else {
        let a = areas(app, area);
        let geo = geometry_of(app, a.history);
        fb.chat = Some(geo);
        fb.hit(a.history, Hit::Chat);
        fb.hit(a.input, Hit::Chat);
        login::draw(frame, app, a.login, a.wide, &mut fb);
        chat::draw_history(frame, app, a.history, &geo);
        chat::draw_input(frame, app, a.input);
        status::draw(frame, app, a.status, now);
    }
    if app.help_open() {
        fb.help_max = Some(help::draw(frame, app, area));
    } else if let Some(p) = app.palette() {
        palette::draw(frame, p, area);
    }
    theme::finish(frame.buffer_mut(), area);
    fb
}

/// What a draw at this size would measure, without drawing: sent on a resize so paging knows
/// the new size before the next draw.
pub fn layout(app: &App, area: Rect) -> Feedback {
    Feedback {
        chat: Some(geometry_of(app, areas(app, area).history)),
        ..Feedback::default()
    }
}

fn geometry_of(app: &App, history: Rect) -> ChatGeometry {
    let inner = chat::history_inner(history);
    ChatGeometry::new(inner.width, inner.height, app.history().sender_width())
}

pub(crate) struct Areas {
    pub login: Rect,
    pub history: Rect,
    pub input: Rect,
    pub status: Rect,
    pub wide: bool,
}

pub(crate) fn areas(app: &App, area: Rect) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    if app.login_folded() {
        // One summary line on top; the history gets the whole width.
        let [login, history, input] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(3),
        ])
        .areas(main);
        return Areas {
            login,
            history,
            input,
            status,
            wide: false,
        };
    }
    if area.width >= WIDE_FROM {
        let [login, right] =
            Layout::horizontal([Constraint::Length(LOGIN_COLUMN), Constraint::Min(0)]).areas(main);
        let [history, input] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(3)]).areas(right);
        Areas {
            login,
            history,
            input,
            status,
            wide: true,
        }
    } else {
        // Keep at least two history rows (plus borders) and the input box; while a login
        // field has the focus, the pane may take the history's rows (the field must show).
        let keep = if app.focus().is_login() { 3 } else { 3 + 4 };
        let lh = login::compact_height(app, main.width).min(main.height.saturating_sub(keep));
        let [login, history, input] = Layout::vertical([
            Constraint::Length(lh),
            Constraint::Min(0),
            Constraint::Length(3),
        ])
        .areas(main);
        Areas {
            login,
            history,
            input,
            status,
            wide: false,
        }
    }
}

/// The visible part of a one-line field and the cursor's column in it, scrolled so the cursor
/// stays in view. `shown` has one char per char of the value (masked or not); `cursor` counts
/// chars before the cursor.
pub(crate) fn field_view(shown: &str, cursor: usize, width: u16) -> (String, u16) {
    use unicode_segmentation::UnicodeSegmentation;
    let width = width.max(1) as usize;
    let cursor_byte = shown
        .char_indices()
        .nth(cursor)
        .map(|(i, _)| i)
        .unwrap_or(shown.len());
    let cursor_col: usize = shown[..cursor_byte]
        .graphemes(true)
        .map(crate::text::cell_width)
        .sum();
    let scroll = cursor_col.saturating_sub(width - 1);
    let mut skipped = 0;
    let mut used = 0;
    let mut out = String::new();
    for g in shown.graphemes(true) {
        let w = crate::text::cell_width(g);
        if skipped < scroll {
            skipped += w;
            continue;
        }
        if used + w > width {
            break;
        }
        used += w;
        out.push_str(g);
    }
    (out, cursor_col.saturating_sub(skipped) as u16)
}

/// What a typed value looks like on screen: control and invisible characters shown as `�`
/// (one cell each, so the cursor stays aligned); emoji sequences kept whole.
pub(crate) fn shown_value(value: &str) -> String {
    crate::text::mask_unsafe(value, '\u{fffd}')
}

pub(crate) use crate::text::truncate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_view_scrolls_to_keep_cursor_visible() {
        assert_eq!(field_view("hello", 5, 10), ("hello".into(), 5));
        assert_eq!(field_view("hello world", 11, 6), ("world".into(), 5));
        assert_eq!(field_view("hello world", 0, 6), ("hello ".into(), 0));
        assert_eq!(field_view("中文中文", 4, 5), ("中文".into(), 4));
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("中文中文", 5), "中文…");
    }

    #[test]
    fn shown_value_hides_controls_one_cell_each() {
        assert_eq!(shown_value("a\u{1b}b"), "a\u{fffd}b");
    }
}
