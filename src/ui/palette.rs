//! The command palette overlay (Ctrl-P): the query line, then the matching entries, best
//! first, matched letters highlighted, the selected one in reverse video.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::{field_view, shown_value, theme, truncate};
use crate::app::Palette;

/// Most entries shown at once.
const MAX_ROWS: u16 = 12;
/// Widest the box gets.
const MAX_WIDTH: u16 = 76;

pub(super) fn draw(frame: &mut Frame, p: &Palette, area: Rect) {
    let n = p.matches().len();
    let w = MAX_WIDTH
        .min(area.width.saturating_sub(4))
        .max(area.width.min(20));
    let rows = (n as u16).clamp(1, MAX_ROWS);
    let h = (rows + 4).min(area.height);
    if w < 8 || h < 4 {
        return;
    }
    // Towards the top, like most palettes, at a fixed place while the list narrows.
    let full_h = (MAX_ROWS + 4).min(area.height);
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - full_h) / 4,
        w,
        h,
    );
    let hint = if n == 0 {
        " Esc closes ".to_string()
    } else {
        format!(" {n} · ↑↓ select · Enter runs · Esc closes ")
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::accent())
        .title(Span::styled(" Command palette ", theme::title(true)))
        .title_bottom(Line::from(Span::styled(hint, theme::dim())).right_aligned());
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    if inner.height < 2 || inner.width < 4 {
        return;
    }

    draw_query(frame, p, inner);
    let list = Rect {
        y: inner.y + 2,
        height: inner.height - 2,
        ..inner
    };
    if list.height == 0 {
        return;
    }
    if n == 0 {
        frame.render_widget(
            Paragraph::new(Span::styled("  nothing matches", theme::dim())),
            list,
        );
        return;
    }
    draw_rows(frame, p, list);
}

/// The query line and the rule under it.
fn draw_query(frame: &mut Frame, p: &Palette, inner: Rect) {
    let q = p.query();
    let (visible, col) = field_view(
        &shown_value(q.value()),
        q.cursor(),
        inner.width.saturating_sub(2).max(1),
    );
    let query_line = if q.value().is_empty() {
        Line::from(vec![
            Span::styled("› ", theme::accent()),
            Span::styled("type to filter snippets and commands", theme::dim()),
        ])
    } else {
        Line::from(vec![
            Span::styled("› ", theme::accent()),
            Span::raw(visible),
        ])
    };
    frame.render_widget(Paragraph::new(query_line), Rect { height: 1, ..inner });
    frame.set_cursor_position(Position::new(inner.x + 2 + col, inner.y));
    let sep = Rect {
        y: inner.y + 1,
        height: 1,
        ..inner
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            "─".repeat(inner.width as usize),
            theme::border(false),
        )),
        sep,
    );
}

/// The matching items around the selection: labels in a column, details, keys at the right.
fn draw_rows(frame: &mut Frame, p: &Palette, list: Rect) {
    let visible_rows = list.height as usize;
    let sel = p.selected();
    let top = sel.saturating_sub(visible_rows - 1);
    let width = list.width as usize;
    // Labels in a column (at most half the width), details after them.
    let label_col = p
        .matches()
        .iter()
        .skip(top)
        .take(visible_rows)
        .map(|m| unicode_width::UnicodeWidthStr::width(p.items()[m.item].label.as_str()))
        .max()
        .unwrap_or(0)
        .min(width / 2);
    for (row, (i, m)) in p
        .matches()
        .iter()
        .enumerate()
        .skip(top)
        .take(visible_rows)
        .enumerate()
    {
        let item = &p.items()[m.item];
        let selected = i == sel;
        let key = item
            .key
            .as_ref()
            .map(|k| format!(" {k} "))
            .unwrap_or_default();
        let key_w = key.chars().count();
        let mut spans = vec![Span::raw(if selected { "▸ " } else { "  " })];
        // The label, matched letters highlighted.
        let label_room = width.saturating_sub(2 + key_w + 1);
        let label = truncate(&item.label, label_room);
        let mut used = 2;
        for (ci, c) in label.chars().enumerate() {
            let style = if m.positions.contains(&ci) {
                theme::accent().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            } else {
                Style::new()
            };
            spans.push(Span::styled(c.to_string(), style));
        }
        used += unicode_width::UnicodeWidthStr::width(label.as_str());
        if used < 2 + label_col {
            spans.push(Span::raw(" ".repeat(2 + label_col - used)));
            used = 2 + label_col;
        }
        let detail_room = width.saturating_sub(used + key_w + 3);
        if !item.detail.is_empty() && detail_room > 3 {
            let d = truncate(&item.detail, detail_room);
            used += 2 + unicode_width::UnicodeWidthStr::width(d.as_str());
            spans.push(Span::raw("  "));
            spans.push(Span::styled(d, theme::dim()));
        }
        if !key.is_empty() {
            spans.push(Span::raw(" ".repeat(width.saturating_sub(used + key_w))));
            spans.push(Span::styled(key, theme::key()));
        }
        let y = list.y + row as u16;
        let r = Rect {
            y,
            height: 1,
            ..list
        };
        frame.render_widget(Paragraph::new(Line::from(spans)), r);
        if selected {
            frame.buffer_mut().set_style(r, theme::selected());
        }
    }
}
