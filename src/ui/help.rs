//! The help overlay: the key table generated from `app::keymap`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Padding, Paragraph};

use super::theme;
use crate::app::App;
use crate::app::keymap::{HelpScope, help_sections_for};

/// Draw the overlay; returns how far it can scroll.
pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let scope = if app.relay().is_some() {
        HelpScope::Proxy
    } else {
        HelpScope::Client
    };
    draw_keys(frame, area, app.help_scroll(), scope)
}

/// The key table of `scope` as an overlay scrolled by `scroll` lines; returns how far it
/// can scroll.
pub(crate) fn draw_keys(frame: &mut Frame, area: Rect, scroll: u16, scope: HelpScope) -> u16 {
    let sections = help_sections_for(scope);
    let mut lines = Vec::new();
    for (i, sec) in sections.iter().enumerate() {
        // Each section lines its text up after its own widest keys (the slash commands'
        // would push every other section's text to the right).
        let key_w = sec
            .rows
            .iter()
            .map(|(k, _)| unicode_width::UnicodeWidthStr::width(k.as_str()))
            .max()
            .unwrap_or(10)
            .max(10);
        if i > 0 {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(
            sec.title,
            theme::accent().add_modifier(Modifier::BOLD),
        )));
        for (k, a) in &sec.rows {
            // What does not fit beside the keys continues under the text, word by word.
            let room = (area.width as usize).saturating_sub(key_w + 8).max(20);
            for (j, part) in wrap_words(a, room).into_iter().enumerate() {
                let keys = if j == 0 { k.as_str() } else { "" };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<key_w$}  "), theme::bold()),
                    Span::raw(part),
                ]));
            }
        }
    }
    let text_w = lines.iter().map(|l| l.width()).max().unwrap_or(40) as u16;
    let w = (text_w + 4).min(area.width);
    // Leave a row of the screen visible above and below when possible.
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2).max(area.height.min(3)));
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let visible = h.saturating_sub(2);
    let max = (lines.len() as u16).saturating_sub(visible);
    let scroll = scroll.min(max);
    let hint = if max > 0 {
        " ↑↓ scroll · Esc closes "
    } else {
        " Esc closes "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::accent())
        .padding(Padding::horizontal(1))
        .title(Span::styled(" Keys ", theme::title(true)))
        .title_bottom(Line::from(Span::styled(hint, theme::dim())).right_aligned());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
    max
}

/// `text` in lines of at most `width` columns, broken between words (a longer word alone).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split(' ') {
        let last = out.last_mut().expect("one line");
        let w = unicode_width::UnicodeWidthStr::width(last.as_str());
        if w > 0 && w + 1 + unicode_width::UnicodeWidthStr::width(word) > width {
            out.push(word.to_string());
        } else {
            if w > 0 {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    out
}
