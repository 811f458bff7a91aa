//! Widgets over `&App`: the login pane, the chat history and input, the monitor, the status
//! bar and the help overlay. Drawing reads the state only; what it measured (clickable
//! regions, the chat view's size, how far the help scrolls) comes back as a [`Feedback`]
//! value for the app's next update (`Event::Drawn`).

mod bar;
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
mod strip;
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

/// Cells a one-line text field keeps beside its message, so what is typed stays in view.
pub(crate) const FIELD_MIN: usize = 16;

/// The message beside a one-line field of `total` cells (`used` of them taken by its label
/// and gaps): an error gets all the room the field can spare, a hint at most half the line
/// and only whole parts. Returns the message as drawn and its width.
pub(crate) fn line_message(msg: &str, error: bool, total: usize, used: usize) -> (String, usize) {
    let spare = total.saturating_sub(used + FIELD_MIN);
    let msg = if error {
        truncate(msg, spare)
    } else {
        fit_hint(msg, spare.min(total / 2))
    };
    let w = unicode_width::UnicodeWidthStr::width(msg.as_str());
    (msg, w)
}

/// A hint of parts joined by " · ", as many whole parts as fit in `width`: a part is never
/// cut (no hint ends in a dangling "· Esc"), except the first when even it does not fit.
pub(crate) fn fit_hint(hint: &str, width: usize) -> String {
    let mut out = String::new();
    for part in hint.split(" · ") {
        let next = if out.is_empty() {
            part.to_string()
        } else {
            format!("{out} · {part}")
        };
        if unicode_width::UnicodeWidthStr::width(next.as_str()) > width {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        truncate(hint, width)
    } else {
        out
    }
}

/// `spans` laid left to right into `room` cells. The first that does not fit is cut (with
/// one ellipsis), or left out when the span before already ends in one or fewer than three
/// cells are left; nothing after it is drawn. Returns the spans and the cells they take.
pub(crate) fn fit_spans(
    spans: Vec<ratatui::text::Span<'static>>,
    room: usize,
) -> (Vec<ratatui::text::Span<'static>>, usize) {
    let mut used = 0usize;
    let mut out: Vec<ratatui::text::Span<'static>> = Vec::new();
    for s in spans {
        let w = unicode_width::UnicodeWidthStr::width(s.content.as_ref());
        if used + w <= room {
            used += w;
            out.push(s);
            continue;
        }
        let left = room - used;
        let cut_before = out
            .last()
            .is_some_and(|p| p.content.trim_end().ends_with('…'));
        let cut = truncate(s.content.as_ref(), left);
        if left >= 3 && !cut_before && cut.trim_start() != "…" {
            used += unicode_width::UnicodeWidthStr::width(cut.as_str());
            out.push(ratatui::text::Span::styled(cut, s.style));
        }
        break;
    }
    (out, used)
}

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
    fn hints_keep_whole_parts_and_errors_take_the_room() {
        let hint = "Enter sends · Tab: to the client · Esc closes";
        assert_eq!(fit_hint(hint, 60), hint);
        assert_eq!(fit_hint(hint, 40), "Enter sends · Tab: to the client");
        assert_eq!(fit_hint(hint, 20), "Enter sends");
        assert_eq!(fit_hint(hint, 6), "Enter…");
        let err = "unterminated regex /x — end it with /, or quote it to search for it as text";
        let (shown, w) = line_message(err, true, 120, 4);
        assert_eq!((shown.as_str(), w), (err, err.chars().count()));
        let (shown, _) = line_message(err, true, 60, 4);
        assert!(
            shown.ends_with('…') && shown.matches('…').count() == 1,
            "{shown}"
        );
    }

    #[test]
    fn spans_that_do_not_fit_are_cut_once() {
        use ratatui::text::Span;
        let spans = || {
            vec![
                Span::raw("abcdef"),
                Span::raw("state…"),
                Span::raw("  ↑0 ↓0"),
            ]
        };
        let text =
            |v: Vec<Span<'static>>| v.iter().map(|s| s.content.to_string()).collect::<String>();
        // One cell left after an already cut span: nothing more, not a second ellipsis.
        assert_eq!(text(fit_spans(spans(), 13).0), "abcdefstate…");
        assert_eq!(text(fit_spans(spans(), 9).0), "abcdefst…");
        assert_eq!(text(fit_spans(spans(), 7).0), "abcdef");
        assert_eq!(fit_spans(spans(), 100).1, 19);
    }

    #[test]
    fn shown_value_hides_controls_one_cell_each() {
        assert_eq!(shown_value("a\u{1b}b"), "a\u{fffd}b");
    }
}
