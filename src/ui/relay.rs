//! What a relayed connection's monitor adds (`wsdeck proxy`): the inject / edit line,
//! origin marks (held messages are rows marked ⏸) and the status bar that names both
//! peers and says what the keys do with a held message.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{field_view, shown_value, theme};
use crate::app::App;
use crate::app::action::{Action, Context};
use crate::app::keymap::key_for;
use crate::app::relay::{LinePurpose, Relay, peer_name};
use crate::model::{CloseInfo, Direction, Opcode, Origin, close_code_name};
use crate::text::sanitize_line;

/// Rows the line takes.
pub(super) fn line_height(r: &Relay) -> u16 {
    u16::from(r.line().is_some())
}

/// Who sent a message, as the proxy's screens say it.
pub(super) fn sender(dir: Direction) -> &'static str {
    match dir {
        Direction::ClientToServer => "client→server",
        Direction::ServerToClient => "server→client",
    }
}

/// The mark a message's origin gets in the table (two cells, blank when as sent).
pub(super) fn origin_mark(o: Origin) -> (&'static str, Style) {
    match o {
        Origin::Wire => ("  ", Style::new()),
        Origin::Injected => (
            "✚ ",
            Style::new().fg(theme::ACCENT).add_modifier(Modifier::BOLD),
        ),
        Origin::Modified => (
            "✎ ",
            Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
        ),
        Origin::Dropped => (
            "✗ ",
            Style::new().fg(theme::ERROR).add_modifier(Modifier::BOLD),
        ),
        Origin::Auto => ("↺ ", theme::dim().fg(theme::ACCENT)),
        Origin::Held => (
            "⏸ ",
            Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
        ),
    }
}

/// The inject / edit line, with the cursor in it.
pub(super) fn draw_line(frame: &mut Frame, app: &App, r: &Relay, area: Rect) {
    let Some(purpose) = r.line() else { return };
    let kind = match r.line_opcode() {
        Opcode::Binary => "binary (hex)",
        _ => "text",
    };
    let (label, hint) = match purpose {
        LinePurpose::Inject => (
            format!("→ {} ({kind}) ▸ ", peer_name(r.target())),
            format!(
                "Enter sends · Tab: to the {} · Esc closes",
                peer_name(r.target().reverse())
            ),
        ),
        LinePurpose::Edit { seq } => (
            format!("✎ #{seq} → {} ▸ ", peer_name(r.target())),
            "Enter forwards · Esc keeps it held".to_string(),
        ),
    };
    let label_w = unicode_width::UnicodeWidthStr::width(label.as_str()) as u16;
    let total = area.width as usize;
    let (hint, hint_w) = super::line_message(&hint, false, total, label_w as usize + 1);
    let field_w = (total.saturating_sub(hint_w + label_w as usize + 1)).max(1) as u16;
    let input = app.input().input();
    let shown = shown_value(input.value());
    let (visible, col) = field_view(&shown, input.cursor(), field_w);
    let pad =
        (field_w as usize).saturating_sub(unicode_width::UnicodeWidthStr::width(visible.as_str()));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(label, theme::accent().add_modifier(Modifier::BOLD)),
            Span::raw(visible),
            Span::raw(" ".repeat(pad + 1)),
            Span::styled(hint, theme::dim()),
        ])),
        area,
    );
    if !app.help_open() {
        frame.set_cursor_position(Position::new(area.x + label_w + col, area.y));
    }
}

/// "f forward · d drop", from the keymap of a relayed connection's monitor.
fn key_hints(keys: &[(Action, &str)]) -> String {
    keys.iter()
        .filter_map(|(a, what)| Some(format!("{} {what}", key_for(Context::Relayed, a)?)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn close_text(c: &Option<CloseInfo>) -> String {
    match c {
        Some(c) if c.reason.is_empty() => format!("{} {}", c.code, close_code_name(c.code)),
        Some(c) => format!(
            "{} {}: {}",
            c.code,
            close_code_name(c.code),
            sanitize_line(&c.reason)
        ),
        None => "no Close".into(),
    }
}

/// The status bar of a relayed connection: which connection, its state, held messages,
/// the intercept rule, the keys back. A notice wins the room: the key hints give way first.
pub(super) fn draw_status(frame: &mut Frame, app: &App, r: &Relay, area: Rect) {
    use super::bar::{Give, part};
    let mut left = vec![part(
        Span::styled(
            format!(" #{} {} ", r.conn(), sanitize_line(r.client())),
            theme::bold(),
        ),
        Give::Keep,
    )];
    match r.closed() {
        None => left.push(part(
            Span::styled("● open ", Style::new().fg(theme::GOOD)),
            Give::Keep,
        )),
        Some((client, server)) => left.push(part(
            Span::styled(
                format!(
                    "● closed · client {} · server {} ",
                    close_text(client),
                    close_text(server)
                ),
                theme::dim(),
            ),
            Give::Detail,
        )),
    }
    if !r.held().is_empty() {
        // What the keys do with a held message comes first: it waits for them.
        left.push(part(
            Span::styled(
                format!("⏸ {} held ", r.held().len()),
                Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
            ),
            Give::Keep,
        ));
        left.push(part(
            Span::styled(
                format!(
                    "{} ",
                    key_hints(&[
                        (Action::ForwardHeld, "forward"),
                        (Action::DropHeld, "drop"),
                        (Action::EditHeld, "edit"),
                        (Action::EditHeldExternal, "$EDITOR"),
                        (Action::ForwardAllHeld, "forward all"),
                    ])
                ),
                theme::key(),
            ),
            Give::Hint(1),
        ));
    }
    let rule = match r.intercept() {
        Some("") => Some("intercept: all ".to_string()),
        Some(rule) => Some(format!("intercept: {} ", sanitize_line(rule))),
        None => None,
    };
    if let Some(rule) = rule {
        left.push(part(
            Span::styled(rule, Style::new().fg(theme::WARN)),
            Give::Detail,
        ));
    }
    if let Some(n) = app.notice() {
        left.push(part(
            Span::styled(format!(" {}", sanitize_line(&n.text)), theme::note(n.level)),
            Give::Notice,
        ));
    } else if r.held().is_empty() {
        let keys = key_hints(&[
            (Action::Inject, "inject"),
            (Action::Resend, "resend"),
            (Action::ToggleIntercept, "intercept"),
        ]);
        left.push(part(
            Span::styled(format!(" {keys}"), theme::dim()),
            Give::Hint(0),
        ));
    }
    let right = vec![part(
        Span::styled(" Esc connections · F1 help ", theme::key()),
        Give::Hint(2),
    )];
    let line = super::bar::line(left, right, area.width as usize);
    frame.render_widget(Paragraph::new(line), area);
}
