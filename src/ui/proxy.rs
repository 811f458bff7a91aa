//! `wsdeck proxy`'s screens: the connection list (header, table, status line, the intercept
//! rule line) or, when one is open, that connection's App drawn like any session.

use std::time::SystemTime;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::{ViewCache, field_view, shown_value, theme, truncate};
use crate::app::Feedback;
use crate::app::keymap::HelpScope;
use crate::app::proxy::{ProxyApp, Row, RowKind};
use crate::fmt::{bytes, thousands};
use crate::model::CloseInfo;
use crate::text::sanitize_line;

/// What the proxy's draw measured: the open App's feedback, or the list's page size.
#[derive(Debug, Default)]
pub struct ProxyDrawn {
    pub app: Option<Feedback>,
    pub list_page: Option<u16>,
    pub help_max: Option<u16>,
}

/// Draw the proxy's screen into `area`, with times as of `now`; `cache` is the open
/// connection's view cache.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    p: &ProxyApp,
    now: SystemTime,
    cache: &mut ViewCache,
) -> ProxyDrawn {
    let mut out = ProxyDrawn::default();
    let rule_h = u16::from(p.rule_line().is_some());
    let [main, rule] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(rule_h)]).areas(area);
    if let Some(app) = p.open_app() {
        out.app = Some(super::draw_in(frame, main, app, now, cache));
    } else {
        let [header, table, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(main);
        draw_header(frame, p, header);
        out.list_page = Some(draw_table(frame, p, table));
        draw_status(frame, p, status);
        if p.help_open() {
            out.help_max = Some(super::help::draw_keys(
                frame,
                area,
                p.help_scroll(),
                HelpScope::Proxy,
            ));
        }
    }
    if rule_h > 0 {
        draw_rule_line(frame, p, rule);
    }
    theme::finish(frame.buffer_mut(), area);
    out
}

fn draw_header(frame: &mut Frame, p: &ProxyApp, area: Rect) {
    let info = p.info();
    let mut spans = vec![
        Span::styled(" wsdeck proxy ", theme::title(true)),
        Span::raw(format!(" {} ", sanitize_line(&info.listen))),
    ];
    match &info.upstream {
        Some(u) => spans.push(Span::styled(
            format!("→ {} ", sanitize_line(u)),
            theme::accent(),
        )),
        None => spans.push(Span::styled("HTTP proxy ", theme::accent())),
    }
    if info.mitm {
        spans.push(Span::styled("· TLS decrypted (--mitm) ", theme::dim()));
    }
    if info.remote {
        spans.push(Span::styled(
            "· ⚠ other machines can use this proxy and see its traffic ",
            theme::error().add_modifier(Modifier::BOLD),
        ));
    }
    let (on, rule) = p.intercept();
    if on {
        let what = if rule.is_empty() {
            "every message".to_string()
        } else {
            sanitize_line(rule)
        };
        spans.push(Span::styled(
            format!("· ⏸ intercept: {what} "),
            Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
        ));
    } else {
        spans.push(Span::styled("· intercept off ", theme::dim()));
    }
    let held = p.held_total();
    if held > 0 {
        spans.push(Span::styled(
            format!("· {held} held "),
            Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(r) = &info.record {
        spans.push(Span::styled(
            format!("· ● REC {} ", sanitize_line(&r.display().to_string())),
            Style::new().fg(theme::ERROR),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Which columns fit.
struct Cols {
    client: bool,
    bytes: bool,
}

fn close_text(c: &Option<CloseInfo>) -> String {
    match c {
        Some(c) => c.code.to_string(),
        None => "no Close".into(),
    }
}

fn state(r: &Row) -> (String, Style) {
    match (&r.kind, &r.closed) {
        (_, None) if r.held > 0 => (
            format!("⏸ {} held", r.held),
            Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
        ),
        (RowKind::WebSocket { .. }, None) => ("open".into(), Style::new().fg(theme::GOOD)),
        // What a row is stays said once it ended: only Enter could tell otherwise.
        (RowKind::BlindTls, None) => (BLIND_TLS.into(), theme::dim()),
        (RowKind::BlindTls, Some(_)) => (format!("{BLIND_TLS} · ended"), theme::dim()),
        (RowKind::Http { method }, None) => {
            (format!("HTTP {}", sanitize_line(method)), theme::dim())
        }
        (RowKind::Http { method }, Some(_)) => (
            format!("HTTP {} · ended", sanitize_line(method)),
            theme::dim(),
        ),
        (RowKind::WebSocket { .. }, Some((client, server))) => (
            format!(
                "closed · client {} · server {}",
                close_text(client),
                close_text(server)
            ),
            theme::dim(),
        ),
    }
}

/// The state of a CONNECT tunnel to a TLS port relayed without decrypting (no --mitm).
const BLIND_TLS: &str = "tls (blind)";

fn count(c: (u64, u64), with_bytes: bool, kind: &RowKind) -> String {
    match kind {
        RowKind::WebSocket { .. } if with_bytes => {
            format!("{:>6} {:>8}", thousands(c.0), bytes(c.1 as f64))
        }
        RowKind::WebSocket { .. } => format!("{:>6}", thousands(c.0)),
        _ if with_bytes => format!("{:>6} {:>8}", "", bytes(c.1 as f64)),
        _ => format!("{:>6}", ""),
    }
}

/// The table of connections; returns the rows per page.
fn draw_table(frame: &mut Frame, p: &ProxyApp, area: Rect) -> u16 {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(true))
        .title(Span::styled(
            format!(" Connections ({}) ", p.rows().len()),
            theme::title(true),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return 1;
    }
    let cols = Cols {
        client: inner.width >= 90,
        bytes: inner.width >= 110,
    };
    let width = inner.width as usize;
    let mut head = format!("{:>4}  ", "#");
    if cols.client {
        head.push_str(&format!("{:<22}", "client"));
    }
    let counts_w = if cols.bytes { 15 } else { 6 };
    head.push_str(&format!(
        "{:>w$} {:>w$}  state / url",
        "↑ c→s",
        "↓ s→c",
        w = counts_w
    ));
    frame.render_widget(
        Paragraph::new(Span::styled(
            truncate(&head, width),
            theme::dim().add_modifier(Modifier::BOLD),
        )),
        Rect { height: 1, ..inner },
    );
    let rows_area = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let h = rows_area.height as usize;
    if p.rows().is_empty() {
        let info = p.info();
        let now = if p.cleared() {
            "Closed connections cleared; waiting for new ones."
        } else {
            "No connections yet."
        };
        let how = match &info.upstream {
            Some(_) => format!(
                "{now} Point a WebSocket client at ws://{}/ — every message both ways shows here.",
                info.listen
            ),
            None => format!(
                "{now} Set a client's HTTP proxy to http://{} (Chromium: --proxy-server=http://{} --proxy-bypass-list='<-loopback>').",
                info.listen, info.listen
            ),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(sanitize_line(&how), theme::dim()))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            rows_area,
        );
        return rows_area.height.max(1);
    }
    let n = p.rows().len();
    let sel = p.selected().unwrap_or(0);
    let top = if sel >= h { sel + 1 - h } else { 0 }.min(n.saturating_sub(h));
    for (i, r) in p.rows().iter().enumerate().skip(top).take(h) {
        let y = rows_area.y + (i - top) as u16;
        let mut spans = vec![Span::styled(format!("{:>4}  ", r.conn), theme::dim())];
        if cols.client {
            spans.push(Span::raw(format!("{:<22}", r.client.to_string())));
        }
        spans.push(Span::styled(
            format!("{} ", count(r.up, cols.bytes, &r.kind)),
            Style::new().fg(theme::SENT),
        ));
        spans.push(Span::styled(
            format!("{}  ", count(r.down, cols.bytes, &r.kind)),
            Style::new().fg(theme::RECEIVED),
        ));
        let (st, style) = state(r);
        spans.push(Span::styled(format!("{st}  "), style));
        spans.push(Span::raw(sanitize_line(&r.target)));
        let line = Line::from(spans);
        let rect = Rect::new(rows_area.x, y, rows_area.width, 1);
        frame.buffer_mut().set_line(rect.x, y, &line, rect.width);
        if i == sel {
            frame.buffer_mut().set_style(rect, theme::selected());
        }
    }
    rows_area.height.max(1)
}

/// The list's status line: a notice (the key hints give way to it) or the counts.
fn draw_status(frame: &mut Frame, p: &ProxyApp, area: Rect) {
    use super::bar::{Give, part};
    let left = match p.notice() {
        Some(n) => part(
            Span::styled(format!(" {}", sanitize_line(&n.text)), theme::note(n.level)),
            Give::Notice,
        ),
        None => {
            let open = p.rows().iter().filter(|r| r.is_open()).count();
            let mut s = format!(" {open} open");
            if p.refused() > 0 {
                s.push_str(&format!(" · {} refused", p.refused()));
            }
            part(Span::styled(s, theme::dim()), Give::Keep)
        }
    };
    let right = part(
        Span::styled(" Enter open · i intercept · F1 help ", theme::key()),
        Give::Hint(0),
    );
    let line = super::bar::line(vec![left], vec![right], area.width as usize);
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_rule_line(frame: &mut Frame, p: &ProxyApp, area: Rect) {
    let Some((input, err)) = p.rule_line() else {
        return;
    };
    let (msg, style) = match err {
        Some(e) => (sanitize_line(e), theme::error()),
        None => (
            "Enter holds what matches (empty: all) · Esc cancels".to_string(),
            theme::dim(),
        ),
    };
    let label = "intercept ";
    let total = area.width as usize;
    let (msg, msg_w) = super::line_message(&msg, err.is_some(), total, label.len() + 2);
    let field_w = total.saturating_sub(msg_w + label.len() + 2).max(1) as u16;
    let shown = shown_value(input.value());
    let (visible, col) = field_view(&shown, input.cursor(), field_w);
    let pad =
        (field_w as usize).saturating_sub(unicode_width::UnicodeWidthStr::width(visible.as_str()));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                label,
                Style::new().fg(theme::WARN).add_modifier(Modifier::BOLD),
            ),
            Span::raw(visible),
            Span::raw(" ".repeat(pad + 1)),
            Span::styled(msg, style),
        ])),
        area,
    );
    frame.set_cursor_position(Position::new(area.x + label.len() as u16 + col, area.y));
}
