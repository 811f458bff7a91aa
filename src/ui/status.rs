//! The status bar: URL, connection state, message counts, notices, the help key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{theme, truncate};
use crate::app::{App, View};
use crate::model::ConnState;
use crate::text::sanitize_line;

/// The bar keeps the terminal's background (a fixed dark grey would hide dark text on a
/// light terminal).
const BAR_BG: Color = Color::Reset;

fn state_color(c: &ConnState) -> Color {
    match c {
        ConnState::LoggedIn => theme::GOOD,
        ConnState::Connecting
        | ConnState::Reconnecting { .. }
        | ConnState::Handshaking
        | ConnState::LoggingIn
        | ConnState::Closing => theme::WARN,
        ConnState::AwaitingLogin | ConnState::Failed(_) => theme::ERROR,
        ConnState::Closed {
            code: Some(1000) | Some(1001),
            ..
        } => theme::DIM,
        ConnState::Closed { .. } => theme::WARN,
        ConnState::Idle => theme::DIM,
    }
}

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect, now: std::time::SystemTime) {
    let width = area.width as usize;
    let right = match app.view() {
        View::Chat => " F1 help ",
        View::Monitor => " F2 chat · F1 help ",
    };
    let room = width.saturating_sub(right.len() + 1);
    let bar = Style::new().bg(BAR_BG);

    let url = truncate(&sanitize_line(&app.url()), (room / 2).clamp(12, 48));
    let state = truncate(&sanitize_line(&app.state_label(now)), (room / 2).max(12));
    let color = state_color(app.conn());
    let mut left = Vec::new();
    if let Some(file) = app.replay_file() {
        let file = truncate(&sanitize_line(file), (room / 2).max(12));
        left.push(Span::styled(
            format!(" replay: {file} "),
            bar.fg(theme::ACCENT).add_modifier(Modifier::BOLD),
        ));
    } else {
        // A notice needs the room more than the URL does.
        if app.notice().is_none() {
            left.push(Span::styled(
                format!(" {url} "),
                bar.add_modifier(Modifier::BOLD),
            ));
        }
        left.push(Span::styled(" ● ", bar.fg(color)));
        left.push(Span::styled(state, bar.fg(color)));
    }
    // The subprotocol the server chose, while connected.
    let connected = matches!(
        app.conn(),
        ConnState::LoggedIn | ConnState::LoggingIn | ConnState::AwaitingLogin
    );
    if let Some(p) = app.handshake().and_then(chosen_subprotocol)
        && connected
        && app.replay_file().is_none()
    {
        left.push(Span::styled(
            format!("  ⇄ {}", truncate(&sanitize_line(p), 24)),
            bar.fg(theme::ACCENT),
        ));
    }
    if app.recording().is_some() {
        left.push(Span::styled(
            "  ● REC",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ));
    } else if app.recording_stopped().is_some() {
        // Until a new recording starts: what is seen now is not being recorded.
        left.push(Span::styled(
            "  ○ REC stopped",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ));
    }
    if app.reconnecting() {
        left.push(Span::styled(" · Esc cancels", bar.fg(theme::DIM)));
    }
    if let Some(n) = app.notice() {
        left.push(Span::styled("  ", bar));
        left.push(Span::styled(
            sanitize_line(&n.text),
            theme::note(n.level).bg(BAR_BG),
        ));
    } else {
        let (sent, received) = app.counts();
        left.push(Span::styled(
            format!("  ↑{sent} ↓{received}"),
            bar.fg(theme::DIM),
        ));
        let auto = app.auto_replies();
        if auto > 0 {
            left.push(Span::styled(format!(" ↺{auto} auto"), bar.fg(theme::DIM)));
        }
        if let Some(rtt) = app.rtt() {
            left.push(Span::styled(
                format!("  rtt {}", crate::fmt::rtt(rtt)),
                bar.fg(theme::DIM),
            ));
        }
    }
    if app.insecure() {
        left.push(Span::styled(
            "  ⚠ TLS not verified (--insecure)",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ));
    }
    // Fit the left part, then pad up to the right-hand hint.
    let mut used = 0usize;
    let mut spans = Vec::new();
    for s in left {
        let w = unicode_width::UnicodeWidthStr::width(s.content.as_ref());
        if used + w > room {
            let cut = truncate(s.content.as_ref(), room - used);
            used += unicode_width::UnicodeWidthStr::width(cut.as_str());
            spans.push(Span::styled(cut, s.style));
            break;
        }
        used += w;
        spans.push(s);
    }
    spans.push(Span::styled(
        " ".repeat(width.saturating_sub(used + right.len())),
        bar,
    ));
    spans.push(Span::styled(right, theme::key()));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// The `Sec-WebSocket-Protocol` of the server's 101, if it chose one.
fn chosen_subprotocol(h: &crate::model::HandshakeInfo) -> Option<&str> {
    h.response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}
