//! The message history (only the visible window is laid out) and the input box.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::{field_view, shown_value, theme, truncate};
use crate::app::history::{ChatGeometry, EntryKind, TIME_COLUMNS};
use crate::app::{App, Focus, NoteLevel};
use crate::fmt::clock;
use crate::model::{ConnState, Direction};
use crate::text::sanitize_line;

fn history_block(new_below: usize, scrolled: bool) -> Block<'static> {
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(false))
        .title(Span::styled(" Messages ", theme::title(false)));
    if new_below > 0 {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" {new_below} new ↓ "),
                Style::new()
                    .fg(ratatui::style::Color::Black)
                    .bg(theme::WARN)
                    .add_modifier(Modifier::BOLD),
            ))
            .right_aligned(),
        );
    } else if scrolled {
        block = block.title_bottom(
            Line::from(Span::styled(" more below · End ↓ ", theme::dim())).right_aligned(),
        );
    }
    block
}

/// The area inside the history block.
pub(super) fn history_inner(area: Rect) -> Rect {
    Block::bordered().inner(area)
}

pub(super) fn draw_history(frame: &mut Frame, app: &App, area: Rect, geo: &ChatGeometry) {
    let history = app.history();
    let store = app.frames();
    // Lines queued while reconnecting sit under the history until they are sent.
    let queued = queued_rows(app.pending().len(), geo.height);
    let geo = &ChatGeometry {
        height: geo.height - queued,
        ..*geo
    };
    let window = history.window(geo, store);
    let block = history_block(window.new_below, window.scrolled);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if history.is_empty() {
        let hint = Line::from(Span::styled(
            "No messages yet. Received messages appear here as they arrive.",
            theme::dim(),
        ));
        frame.render_widget(Paragraph::new(hint), inner);
        return;
    }
    let buf = frame.buffer_mut();
    if queued > 0 {
        let rows = Rect {
            y: inner.bottom() - queued,
            height: queued,
            ..inner
        };
        draw_queued(buf, app, rows, geo);
    }
    let inner = Rect {
        height: inner.height - queued,
        ..inner
    };
    let mut y = inner.y;
    let offset = app.utc_offset();
    'outer: for item in &window.items {
        let Some(entry) = history.get(item.index, store) else {
            continue;
        };
        let prefix = geo.prefix(entry.kind) as usize;
        let text_style = match entry.kind {
            EntryKind::Text(_) => Style::new(),
            EntryKind::Binary(_) => Style::new().fg(ratatui::style::Color::Magenta),
            EntryKind::Note(level) => theme::note(level),
            EntryKind::Auto { .. } => theme::dim(),
        };
        // A message the frame store let go: its placeholder is dim.
        let text_style = if entry.kept {
            text_style
        } else {
            theme::dim().add_modifier(Modifier::ITALIC)
        };
        for (r, row) in item.layout.rows.iter().enumerate().skip(item.skip) {
            if y >= inner.bottom() {
                break 'outer;
            }
            let mut spans: Vec<Span> = Vec::with_capacity(6);
            if r == 0 {
                spans.extend(prefix_spans(&entry, geo, offset));
            } else {
                spans.push(Span::raw(" ".repeat(prefix)));
            }
            let style = if item.layout.more_line == Some(row.line) {
                theme::dim().add_modifier(Modifier::ITALIC)
            } else {
                text_style
            };
            spans.push(Span::styled(item.layout.row_text(row), style));
            buf.set_line(inner.x, y, &Line::from(spans), inner.width);
            y += 1;
        }
    }
}

/// Rows given to queued lines: one each, but at most half the view (and none if it is empty).
fn queued_rows(pending: usize, height: u16) -> u16 {
    if pending == 0 || height == 0 {
        return 0;
    }
    (pending.min(u16::MAX as usize) as u16).min((height / 2).max(1))
}

/// The queued lines, dim, one row each: `⧗ queued  text`; the last row counts the rest.
fn draw_queued(buf: &mut ratatui::buffer::Buffer, app: &App, area: Rect, geo: &ChatGeometry) {
    let pending = app.pending();
    let indent = if geo.show_time() {
        TIME_COLUMNS as usize
    } else {
        0
    };
    let rows = area.height as usize;
    for (i, line) in pending.iter().take(rows).enumerate() {
        let text = if i + 1 == rows && pending.len() > rows {
            format!("⧗ … {} more queued", pending.len() - i)
        } else {
            let first = crate::text::display_lines(line).swap_remove(0);
            format!("⧗ queued  {first}")
        };
        let shown = truncate(&text, (area.width as usize).saturating_sub(indent));
        let row = Line::from(vec![
            Span::raw(" ".repeat(indent)),
            Span::styled(shown, theme::dim().add_modifier(Modifier::ITALIC)),
        ]);
        buf.set_line(area.x, area.y + i as u16, &row, area.width);
    }
}

fn prefix_spans<'a>(
    entry: &crate::app::history::Entry<'_>,
    geo: &ChatGeometry,
    offset: i32,
) -> Vec<Span<'a>> {
    let mut spans = Vec::with_capacity(4);
    if geo.show_time() {
        let time = match entry.at {
            Some(t) => clock(t, offset),
            None => " ".repeat(TIME_COLUMNS as usize - 1),
        };
        spans.push(Span::styled(format!("{time} "), theme::dim()));
    }
    match entry.kind {
        EntryKind::Text(dir) | EntryKind::Binary(dir) => {
            let color = match dir {
                Direction::ClientToServer => theme::SENT,
                Direction::ServerToClient => theme::RECEIVED,
            };
            spans.push(Span::styled(
                format!("{} ", dir.arrow()),
                Style::new().fg(color),
            ));
            if geo.sender > 0 && geo.show_time() {
                let w = geo.sender as usize;
                let name = truncate(&sanitize_line(entry.sender), w);
                let pad = w.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
                spans.push(Span::styled(
                    format!("{name}{} ", " ".repeat(pad)),
                    Style::new().fg(color).add_modifier(Modifier::BOLD),
                ));
            }
        }
        EntryKind::Note(level) => {
            let mark = match level {
                NoteLevel::Error => "✗ ",
                NoteLevel::Good => "✓ ",
                NoteLevel::Warn => "! ",
                NoteLevel::Info => "· ",
            };
            spans.push(Span::styled(mark, theme::note(level)));
        }
        EntryKind::Auto { .. } => spans.push(Span::styled("↺ ", theme::dim())),
    }
    spans
}

pub(super) fn draw_input(frame: &mut Frame, app: &App, area: Rect) {
    let focused = app.focus() == Focus::Input;
    let logged_in = *app.conn() == ConnState::LoggedIn;
    let mut title = vec![Span::styled(" Message ", theme::title(focused))];
    if app.reconnecting() {
        title.push(Span::styled(
            "· reconnecting: lines are queued ",
            theme::dim(),
        ));
    } else if !logged_in {
        title.push(Span::styled("· not logged in ", theme::dim()));
    }
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(focused))
        .title(Line::from(title));
    let block = if focused {
        block.title_bottom(
            Line::from(Span::styled(" Enter send · ↑↓ recall ", theme::dim())).right_aligned(),
        )
    } else {
        block
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let input = app.input().input();
    let value = input.value();
    let text_x = inner.x + 1;
    let width = inner.width.saturating_sub(1).max(1);
    let prompt = Span::styled(
        "›",
        if focused {
            theme::accent()
        } else {
            theme::dim()
        },
    );
    if value.is_empty() {
        // What Enter will do now, as `Session::accept_line` decides it.
        let hint = if logged_in {
            "type a message"
        } else if app.reconnecting() {
            "type now, Enter queues it until reconnected"
        } else {
            match app.conn() {
                ConnState::Connecting | ConnState::Handshaking | ConnState::LoggingIn => {
                    "type now, Enter sends once logged in"
                }
                ConnState::AwaitingLogin => "login rejected — the password goes in the login pane",
                ConnState::Closing => "the connection is closing",
                _ => "not connected — Tab to the login pane, Enter connects",
            }
        };
        let hint = if focused { hint } else { "" };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                prompt,
                Span::styled(format!(" {hint}"), theme::dim()),
            ])),
            inner,
        );
        if focused && !app.help_open() {
            frame.set_cursor_position(Position::new(text_x + 1, inner.y));
        }
        return;
    }
    let shown = shown_value(value);
    let (visible, col) = field_view(&shown, input.cursor(), width.saturating_sub(1).max(1));
    // A refused line is selected: typing replaces it.
    let text = if app.input().is_selected() {
        Span::styled(visible, Style::new().add_modifier(Modifier::REVERSED))
    } else {
        Span::raw(visible)
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![prompt, Span::raw(" "), text])),
        inner,
    );
    if focused && !app.help_open() {
        frame.set_cursor_position(Position::new(text_x + 1 + col, inner.y));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::{App, AppInit, Event};
    use crate::model::{ConnState, Direction, FrameRecord, NetEvent, Opcode};
    use crate::spec::ConnectSpec;

    fn big_app(n: u64) -> App {
        let (mut app, _) = App::new(AppInit::new(ConnectSpec::new("ws://127.0.0.1:5678")));
        app.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
        for i in 0..n {
            let text = if i % 7 == 0 {
                format!(
                    "#{i} 中文 🙂 a longer message that wraps over more than one row at the usual widths of a terminal"
                )
            } else {
                format!("#{i} short")
            };
            app.update(Event::Net(NetEvent::Frame(FrameRecord {
                conn: 1,
                origin: Default::default(),
                seq: i + 1,
                at: UNIX_EPOCH + Duration::from_secs(i),
                dir: Direction::ServerToClient,
                opcode: Opcode::Text,
                len: text.len(),
                payload: text.into(),
                close: None,
                redacted: false,
                wire_len: None,
                fragments: None,
            })));
        }
        app
    }

    fn key(app: &mut App, code: KeyCode) {
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Entry layouts computed by one full draw.
    fn draw_cost(term: &mut Terminal<TestBackend>, app: &mut App) -> u64 {
        let before = app.history().layouts_computed();
        let mut fb = None;
        term.draw(|f| fb = Some(crate::ui::draw(f, app))).unwrap();
        app.update(Event::Drawn(fb.unwrap()));
        app.history().layouts_computed() - before
    }

    #[test]
    fn drawing_touches_only_visible_messages() {
        let mut app = big_app(100_000);
        assert_eq!(app.history().len(), 100_001, "a note and the messages");
        let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let rows = app.chat_geometry().height as u64;
        // At the bottom: at most one layout per visible row.
        let cost = draw_cost(&mut term, &mut app);
        let rows = rows.max(app.chat_geometry().height as u64);
        assert!(cost <= rows, "bottom: {cost} layouts for {rows} rows");
        assert!(term.backend().to_string().contains("#99999 short"));
        // Top of a 10^5 history: the same.
        key(&mut app, KeyCode::Home);
        let cost = draw_cost(&mut term, &mut app);
        assert!(cost <= rows, "top: {cost} layouts");
        assert!(term.backend().to_string().contains("#0 中文"));
        // Paging down from the top only touches the pages passed.
        let before = app.history().layouts_computed();
        for _ in 0..3 {
            key(&mut app, KeyCode::PageDown);
        }
        assert!(app.history().layouts_computed() - before <= 4 * rows);
        let cost = draw_cost(&mut term, &mut app);
        assert!(cost <= rows, "paged: {cost} layouts");
        // The height cache holds what was seen, not the history.
        assert!(app.history().cached_heights() < 500);
    }
}
