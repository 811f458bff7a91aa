//! The session tab bar, shown above the screen when several sessions are open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::model::ConnState;
use crate::text::sanitize_line;

/// What the bar shows of one session.
pub struct TabInfo<'a> {
    pub url: std::borrow::Cow<'a, str>,
    pub state: &'a ConnState,
    /// Messages received while the session was not shown.
    pub unread: usize,
}

/// A short word for a connection state.
fn short(state: &ConnState) -> (&'static str, ratatui::style::Color) {
    match state {
        ConnState::LoggedIn => ("●", theme::GOOD),
        ConnState::Idle => ("○", theme::DIM),
        ConnState::Closed { .. } => ("■", theme::DIM),
        ConnState::Failed(_) => ("✗", theme::ERROR),
        ConnState::AwaitingLogin => ("!", theme::WARN),
        _ => ("◌", theme::WARN),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, tabs: &[TabInfo<'_>], active: usize) {
    let mut spans = Vec::new();
    let per = (area.width as usize / tabs.len().max(1)).clamp(12, 40);
    for (i, t) in tabs.iter().enumerate() {
        let (mark, color) = short(t.state);
        let host = crate::app::host_of(&t.url);
        let mut label = format!(" {} {mark} {}", i + 1, sanitize_line(&host));
        if t.unread > 0 {
            label.push_str(&format!(" ({})", t.unread));
        }
        label.push(' ');
        let label: String = label.chars().take(per).collect();
        let style = if i == active {
            Style::new()
                .fg(color)
                .add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else if t.unread > 0 {
            Style::new().fg(color).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(color)
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::styled("│", theme::dim()));
    }
    spans.push(Span::styled(" Alt-←/→ switch · Ctrl-T new", theme::dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    theme::finish(frame.buffer_mut(), area);
}
