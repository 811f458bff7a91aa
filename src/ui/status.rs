//! The status bar: URL, connection state, message counts, notices, the help key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::bar::{Give, Part, part};
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

/// Draw the bar: what the session is doing on the left, the help key on the right.
pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect, now: std::time::SystemTime) {
    let width = area.width as usize;
    let right = match app.view() {
        View::Chat => " F1 help ",
        View::Monitor => " F2 chat · F1 help ",
    };
    let room = width.saturating_sub(right.len() + 1);
    let bar = Style::new().bg(BAR_BG);

    let left = left_parts(app, room, now, bar);
    let line = if app.notice().is_some() {
        // A notice wins the room: the help keys give way to it.
        let right = vec![part(Span::styled(right, theme::key()), Give::Hint(0))];
        super::bar::line(left, right, width)
    } else {
        Line::from(fit(
            left.into_iter().map(|p| p.span).collect(),
            room,
            width,
            right,
            bar,
        ))
    };
    frame.render_widget(Paragraph::new(line).style(bar), area);
}

/// The left part in order: session, subprotocol, recording, notice or counts, TLS warning.
fn left_parts(app: &App, room: usize, now: std::time::SystemTime, bar: Style) -> Vec<Part> {
    let mut left = session_spans(app, room, now, bar);
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
    left.extend(recording_span(app, bar));
    if app.reconnecting() {
        left.push(Span::styled(" · Esc cancels", bar.fg(theme::DIM)));
    }
    let notice = app.notice().map(|n| {
        Span::styled(
            format!("  {}", sanitize_line(&n.text)),
            theme::note(n.level).bg(BAR_BG),
        )
    });
    if notice.is_none() {
        left.extend(count_spans(app, bar));
    }
    if app.insecure() {
        left.push(Span::styled(
            "  ⚠ TLS not verified (--insecure)",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ));
    }
    let mut parts: Vec<Part> = left.into_iter().map(|s| part(s, Give::Keep)).collect();
    if let Some(n) = notice {
        // After the session's state, before the TLS warning (drawn as before).
        let at = parts.len() - usize::from(app.insecure());
        parts.insert(at, part(n, Give::Notice));
    }
    parts
}

/// The replayed file, or the URL (unless a notice needs the room) and the connection state.
fn session_spans(
    app: &App,
    room: usize,
    now: std::time::SystemTime,
    bar: Style,
) -> Vec<Span<'static>> {
    let state = sanitize_line(&app.state_label(now));
    // A failure is the sentence to read: the URL (which the login pane shows) gives it room,
    // and is left out when fewer than 12 cells would be left for it.
    let mut url_w = (room / 2).clamp(12, 48);
    let mut state_w = (room / 2).max(12);
    if matches!(app.conn(), ConnState::Failed(_)) {
        let need = unicode_width::UnicodeWidthStr::width(state.as_str());
        url_w = url_w.min(room.saturating_sub(need + 5));
        state_w = room.saturating_sub(if url_w >= 12 { url_w + 5 } else { 3 });
    }
    let url = truncate(&sanitize_line(&app.url()), url_w);
    let state = truncate(&state, state_w);
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
        if app.notice().is_none() && url_w >= 12 {
            left.push(Span::styled(
                format!(" {url} "),
                bar.add_modifier(Modifier::BOLD),
            ));
        }
        left.push(Span::styled(" ● ", bar.fg(color)));
        left.push(Span::styled(state, bar.fg(color)));
    }
    left
}

/// `● REC` while recording, `○ REC stopped` after a recording stopped.
fn recording_span(app: &App, bar: Style) -> Option<Span<'static>> {
    if app.recording().is_some() {
        Some(Span::styled(
            "  ● REC",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ))
    } else if app.recording_stopped().is_some() {
        // Until a new recording starts: what is seen now is not being recorded.
        Some(Span::styled(
            "  ○ REC stopped",
            bar.fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ))
    } else {
        None
    }
}

/// Messages sent and received, auto-replies, round-trip time.
fn count_spans(app: &App, bar: Style) -> Vec<Span<'static>> {
    let (sent, received) = app.counts();
    let mut spans = vec![Span::styled(
        format!("  ↑{sent} ↓{received}"),
        bar.fg(theme::DIM),
    )];
    let auto = app.auto_replies();
    if auto > 0 {
        spans.push(Span::styled(format!(" ↺{auto} auto"), bar.fg(theme::DIM)));
    }
    if let Some(rtt) = app.rtt() {
        spans.push(Span::styled(
            format!("  rtt {}", crate::fmt::rtt(rtt)),
            bar.fg(theme::DIM),
        ));
    }
    spans
}

/// Fit the left part into `room`, then pad up to the right-hand hint.
fn fit(
    left: Vec<Span<'static>>,
    room: usize,
    width: usize,
    right: &'static str,
    bar: Style,
) -> Vec<Span<'static>> {
    let (mut spans, used) = super::fit_spans(left, room);
    spans.push(Span::styled(
        " ".repeat(width.saturating_sub(used + right.len())),
        bar,
    ));
    spans.push(Span::styled(right, theme::key()));
    spans
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
