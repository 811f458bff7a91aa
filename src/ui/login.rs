//! The login pane: fields, the Enter hint, connection progress and errors.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::{field_view, shown_value, theme, truncate};
use crate::app::history::wrap;
use crate::app::{App, Feedback, Focus, Hit, Step};
use crate::model::ConnState;
use crate::spec::AuthMethod;
use crate::text::sanitize_line;

/// Most error rows the compact (top) pane shows.
const COMPACT_ERROR_ROWS: usize = 3;

/// One row of the pane; spacers are dropped first when space is short.
struct Item {
    line: Line<'static>,
    spacer: bool,
    /// Cursor column in this row, for the focused text field.
    cursor: Option<u16>,
    /// The field a click on this row focuses.
    field: Option<Focus>,
}

impl Item {
    fn line(line: Line<'static>) -> Self {
        Item {
            line,
            spacer: false,
            cursor: None,
            field: None,
        }
    }
    fn spacer() -> Self {
        Item {
            line: Line::default(),
            spacer: true,
            cursor: None,
            field: None,
        }
    }
    fn field(line: Line<'static>, f: Focus, cursor: Option<u16>) -> Self {
        Item {
            line,
            spacer: false,
            cursor,
            field: Some(f),
        }
    }
}

/// The fields of the pane, top to bottom (Profile only when there are profiles).
fn fields(app: &App) -> Vec<Focus> {
    let mut v = Vec::with_capacity(5);
    if app.login().relevant(Focus::Profile) {
        v.push(Focus::Profile);
    }
    v.extend([Focus::Url, Focus::User, Focus::Password, Focus::Auth]);
    v
}

pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect, wide: bool, fb: &mut Feedback) {
    if app.login_folded() {
        draw_folded(frame, app, area, fb);
        return;
    }
    let focused = app.focus().is_login();
    let title = if app.replay_file().is_some() {
        " Recording "
    } else {
        " Login "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(focused))
        .title(Span::styled(title, theme::title(focused)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let mut items = if let Some(file) = app.replay_file() {
        recording_items(app, file, inner.width)
    } else if wide {
        wide_items(app, inner.width)
    } else {
        compact_items(app, inner.width)
    };
    let mut spacers = items.iter().filter(|i| i.spacer).count();
    while items.len() > inner.height as usize && spacers > 0 {
        if let Some(p) = items.iter().rposition(|i| i.spacer) {
            items.remove(p);
        }
        spacers -= 1;
    }
    // Still too tall: start where the focused field stays in view (at any size).
    let focus_row = items
        .iter()
        .rposition(|i| i.field == Some(app.focus()) && app.focus().is_login());
    if let Some(r) = focus_row
        && r >= inner.height as usize
    {
        items.drain(..=r - inner.height as usize);
    }
    let mut cursor = None;
    for (row, it) in items.iter().enumerate().take(inner.height as usize) {
        if let Some(c) = it.cursor {
            cursor = Some(Position::new(inner.x + c, inner.y + row as u16));
        }
        if let Some(f) = it.field {
            fb.hit(
                Rect::new(inner.x, inner.y + row as u16, inner.width, 1),
                Hit::Field(f),
            );
        }
    }
    let lines: Vec<Line> = items.into_iter().map(|i| i.line).collect();
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some(c) = cursor
        && !app.help_open()
        && c.x < inner.right()
    {
        frame.set_cursor_position(c);
    }
}

/// The folded pane: one line saying who is logged in where, and the key that unfolds it
/// (a click unfolds it too, at the URL field).
fn draw_folded(frame: &mut Frame, app: &App, area: Rect, fb: &mut Feedback) {
    use crate::app::action::{Action, Context};
    let key =
        crate::app::keymap::key_for(Context::Client, &Action::ToggleLoginPane).unwrap_or_default();
    let user = app.login().user();
    let who = if user.is_empty() {
        String::new()
    } else {
        format!("{}@", sanitize_line(user))
    };
    let url = app.url();
    let host = url.split_once("://").map_or(url.as_ref(), |(_, rest)| {
        rest.split('/').next().unwrap_or(rest)
    });
    let state = app.state_label(std::time::SystemTime::now());
    let text = format!(" ▸ {who}{} · {state} ", sanitize_line(host));
    let w = area.width as usize;
    let hint = if w >= 80 {
        format!(" {key} shows the login pane ")
    } else if w >= 60 {
        format!(" {key} login ")
    } else {
        format!(" {key} ")
    };
    let hint_w = unicode_width::UnicodeWidthStr::width(hint.as_str());
    let text = truncate(&text, w.saturating_sub(hint_w).max(1));
    let used = unicode_width::UnicodeWidthStr::width(text.as_str());
    let line = Line::from(vec![
        Span::styled(text, theme::dim()),
        Span::raw(" ".repeat(w.saturating_sub(used + hint_w))),
        Span::styled(hint, theme::dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    fb.hit(area, Hit::Field(Focus::Url));
}

/// Height of the compact pane (borders included) at this width.
pub(super) fn compact_height(app: &App, width: u16) -> u16 {
    let inner = width.saturating_sub(2).max(1);
    let errors = error_rows(app, inner.saturating_sub(5) as usize).min(COMPACT_ERROR_ROWS);
    let profile = u16::from(app.login().relevant(Focus::Profile));
    2 + 6 + profile + errors as u16
}

fn label_style(app: &App, f: Focus) -> Style {
    if app.focus() == f {
        theme::accent().add_modifier(Modifier::BOLD)
    } else if app.login().relevant(f) {
        theme::bold()
    } else {
        theme::dim()
    }
}

fn marker(app: &App, f: Focus) -> Span<'static> {
    if app.focus() == f {
        Span::styled("▸ ", theme::accent())
    } else {
        Span::raw("  ")
    }
}

fn label(app: &App, f: Focus) -> &'static str {
    match f {
        Focus::Profile => "Profile",
        Focus::Url => "URL",
        Focus::User => "User",
        Focus::Password => app.login().password_label(),
        Focus::Auth => "Auth",
        Focus::Input => "",
    }
}

/// The value of a field as spans fitted to `width` cells, and the cursor column when focused.
fn value_spans(app: &App, f: Focus, width: u16) -> (Vec<Span<'static>>, Option<u16>) {
    let login = app.login();
    let focused = app.focus() == f;
    let style = if focused {
        theme::field_focused()
    } else if login.relevant(f) {
        Style::new()
    } else {
        theme::dim()
    };
    let pad = |text: String, style: Style| -> Vec<Span<'static>> {
        let used: usize = unicode_width::UnicodeWidthStr::width(text.as_str());
        let fill = (width as usize).saturating_sub(used);
        if focused {
            vec![
                Span::styled(text, style),
                Span::styled(" ".repeat(fill), style),
            ]
        } else {
            vec![Span::styled(text, style)]
        }
    };
    if f == Focus::Auth {
        let name = login.auth().label();
        let text = if focused {
            format!("‹ {name} ›")
        } else {
            name.to_string()
        };
        return (pad(truncate(&text, width as usize), style), None);
    }
    if f == Focus::Profile {
        let n = login.profiles().len();
        let text = match login.profile() {
            Some(name) if focused => format!("‹ @{} ›", sanitize_line(name)),
            Some(name) => format!("@{}", sanitize_line(name)),
            None if focused => format!("‹ choose one of {n} ›"),
            None => format!("{n} saved — ←/→ picks"),
        };
        let style = if login.profile().is_none() && !focused {
            theme::dim()
        } else {
            style
        };
        return (pad(truncate(&text, width as usize), style), None);
    }
    let Some(input) = login.input(f) else {
        return (Vec::new(), None);
    };
    if !login.relevant(f) {
        let text = format!("not used with {}", login.auth().label());
        return (pad(truncate(&text, width as usize), theme::dim()), None);
    }
    let shown = if f == Focus::Password && !login.revealed() {
        "•".repeat(login.password_chars())
    } else if f == Focus::Url && !focused {
        // A password in the URL shows as *** until the field is edited.
        shown_value(&crate::record::redact_url(input.value()))
    } else {
        shown_value(input.value())
    };
    let (visible, col) = field_view(&shown, input.cursor(), width);
    (pad(visible, style), focused.then_some(col))
}

fn reveal_hint(app: &App) -> Span<'static> {
    let word = if app.login().revealed() {
        "hide"
    } else {
        "show"
    };
    Span::styled(format!("F6 {word}"), theme::dim())
}

fn enter_hint(app: &App) -> (&'static str, &'static str) {
    let auth = app.login().auth();
    let action = match app.conn() {
        ConnState::AwaitingLogin if auth == AuthMethod::FirstMessage => "retry the login",
        ConnState::LoggedIn => "reconnect",
        ConnState::Connecting | ConnState::Handshaking | ConnState::LoggingIn => "start over",
        _ if auth == AuthMethod::None => "connect",
        _ => "connect & log in",
    };
    ("Enter", action)
}

fn enter_line(app: &App) -> Line<'static> {
    let (key, action) = enter_hint(app);
    Line::from(vec![
        Span::raw("  "),
        Span::styled(format!(" {key} "), theme::key()),
        Span::raw(" "),
        Span::styled(action, theme::dim()),
    ])
}

/// Progress marks: ✓ done, ◌ in progress, ✗ failed there, · not reached.
fn progress_marks(app: &App) -> Vec<(Span<'static>, &'static str)> {
    let Some(p) = app.progress() else {
        return Vec::new();
    };
    // Once a logged-in connection is closed, the state line below says so; a checklist
    // ending in "✓ logged in" would say the opposite.
    if p.step == Step::Ready
        && !p.failed
        && matches!(app.conn(), ConnState::Closed { .. } | ConnState::Failed(_))
    {
        return Vec::new();
    }
    let auth = app.login().auth();
    let mut steps = vec![(Step::Connect, "connect"), (Step::Handshake, "handshake")];
    if auth == AuthMethod::FirstMessage || p.step == Step::Login {
        steps.push((Step::Login, "log in"));
    }
    let last = if auth == AuthMethod::None {
        "ready"
    } else {
        "logged in"
    };
    steps.push((Step::Ready, last));
    steps
        .into_iter()
        .map(|(s, name)| {
            let mark = if s < p.step || (s == p.step && s == Step::Ready && !p.failed) {
                Span::styled("✓", Style::new().fg(theme::GOOD))
            } else if s == p.step && p.failed {
                Span::styled("✗", theme::error())
            } else if s == p.step {
                Span::styled("◌", Style::new().fg(theme::WARN))
            } else {
                Span::styled("·", theme::dim())
            };
            (mark, name)
        })
        .collect()
}

/// Position of a step in the marks (the login step is left out when not used).
fn step_index(app: &App, s: Step) -> usize {
    let has_login = app.login().auth() == AuthMethod::FirstMessage
        || app.progress().is_some_and(|p| p.step == Step::Login);
    match s {
        Step::Connect => 0,
        Step::Handshake => 1,
        Step::Login => 2,
        Step::Ready if has_login => 3,
        Step::Ready => 2,
    }
}

/// The state under the progress marks, when the marks don't say it (idle, closed), wrapped.
fn state_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some((text, style)) = state_text(app) else {
        return Vec::new();
    };
    let w = width.saturating_sub(3).max(1) as usize;
    wrap(&text, w)
        .into_iter()
        .map(|r| {
            Line::from(vec![
                Span::raw("  "),
                Span::styled(text[r].trim_end().to_string(), style),
            ])
        })
        .collect()
}

fn state_text(app: &App) -> Option<(String, Style)> {
    let c = app.conn();
    // Only a reconnect's label depends on the time, and it is not shown here.
    let label = |c: &ConnState| c.label(std::time::UNIX_EPOCH);
    let (text, style) = match c {
        ConnState::Idle => ("not connected".to_string(), theme::dim()),
        ConnState::Closing => (label(c), theme::dim()),
        ConnState::Closed { code, .. } => {
            let clean = matches!(code, Some(1000) | Some(1001));
            let style = if clean {
                theme::dim()
            } else {
                Style::new().fg(theme::WARN)
            };
            (sanitize_line(&label(c)), style)
        }
        _ => return None,
    };
    Some((text, style))
}

fn error_text(app: &App) -> Option<String> {
    app.login().error().map(|e| {
        crate::text::display_lines(e)
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn error_rows(app: &App, width: usize) -> usize {
    error_text(app).map_or(0, |e| wrap(&e, width).len())
}

fn error_items(app: &App, width: u16, max_rows: usize) -> Vec<Item> {
    let Some(e) = error_text(app) else {
        return Vec::new();
    };
    let w = width.saturating_sub(5).max(1) as usize;
    let ranges = wrap(&e, w);
    let n = ranges.len();
    ranges
        .into_iter()
        .enumerate()
        .take(max_rows)
        .map(|(i, r)| {
            let mut text = e[r].trim_end().to_string();
            if i + 1 == max_rows && n > max_rows {
                text = truncate(&format!("{text} …"), w);
            }
            let lead = if i == 0 { "✗ " } else { "  " };
            Item::line(Line::from(vec![
                Span::raw("  "),
                Span::styled(lead, theme::error().add_modifier(Modifier::BOLD)),
                Span::styled(text, theme::error()),
            ]))
        })
        .collect()
}

/// Label above value, for the left column.
fn wide_items(app: &App, width: u16) -> Vec<Item> {
    let mut items = Vec::new();
    let value_w = width.saturating_sub(3).max(1);
    for f in fields(app) {
        items.push(Item::spacer());
        let mut head = vec![
            marker(app, f),
            Span::styled(label(app, f), label_style(app, f)),
        ];
        let hint = match f {
            Focus::Password if app.login().relevant(f) => Some(reveal_hint(app)),
            Focus::Auth | Focus::Profile if app.focus() == f => {
                Some(Span::styled("←/→", theme::dim()))
            }
            _ => None,
        };
        if let Some(h) = hint {
            let used = 2 + unicode_width::UnicodeWidthStr::width(label(app, f));
            let hw = unicode_width::UnicodeWidthStr::width(h.content.as_ref());
            let gap = (width as usize).saturating_sub(used + hw + 1);
            head.push(Span::raw(" ".repeat(gap)));
            head.push(h);
        }
        items.push(Item::field(Line::from(head), f, None));
        let (mut spans, cursor) = value_spans(app, f, value_w);
        spans.insert(0, Span::raw("  "));
        items.push(Item::field(Line::from(spans), f, cursor.map(|c| c + 2)));
    }
    items.push(Item::spacer());
    items.push(Item::line(enter_line(app)));
    items.push(Item::spacer());
    let marks = progress_marks(app);
    if !marks.is_empty() {
        items.push(Item::line(Line::from(vec![
            Span::raw("  "),
            Span::styled("Connection", theme::bold()),
        ])));
        for (mark, name) in marks {
            items.push(Item::line(Line::from(vec![
                Span::raw("  "),
                mark,
                Span::raw(" "),
                Span::raw(name),
            ])));
        }
    }
    items.extend(state_lines(app, width).into_iter().map(Item::line));
    let errors = error_items(app, width, usize::MAX);
    if !errors.is_empty() {
        items.push(Item::spacer());
        items.extend(errors);
    }
    items
}

/// A replay's pane: what the recording holds (file, server, connections, frames, the time it
/// spans, the login frame as recorded), no fields: nothing here can be typed or sent.
fn recording_items(app: &App, file: &str, width: u16) -> Vec<Item> {
    let log = &app.source().log;
    let store = log.store();
    // Beside its name when it fits, else below it; long values wrap.
    let beside = width >= 40;
    let value_w = if beside {
        width.saturating_sub(13)
    } else {
        width.saturating_sub(2)
    }
    .max(1);
    let row = |name: &str, value: String| -> Vec<Item> {
        let value = sanitize_line(&value);
        let parts: Vec<String> = wrap(&value, value_w as usize)
            .into_iter()
            .map(|r| value[r].to_string())
            .collect();
        let mut out = Vec::new();
        if beside {
            for (i, p) in parts.into_iter().enumerate() {
                let label = if i == 0 { name } else { "" };
                out.push(Item::line(Line::from(vec![
                    Span::styled(format!(" {label:<11} "), theme::bold()),
                    Span::raw(p),
                ])));
            }
        } else {
            out.push(Item::line(Line::from(Span::styled(
                format!(" {name}"),
                theme::bold(),
            ))));
            out.extend(
                parts
                    .into_iter()
                    .map(|p| Item::line(Line::from(format!("  {p}")))),
            );
        }
        out
    };
    let url = log
        .handshakes()
        .next()
        .map(|h| crate::record::redact_url(&h.url).into_owned())
        .unwrap_or_else(|| "(no handshake recorded)".into());
    let conns = log
        .handshakes()
        .filter(|h| h.leg == crate::model::Leg::Server)
        .count();
    let (mut up, mut down) = (0usize, 0usize);
    for v in store.iter() {
        match v.dir {
            crate::model::Direction::ClientToServer => up += 1,
            crate::model::Direction::ServerToClient => down += 1,
        }
    }
    let mut items: Vec<Item> = [
        row("File", file.to_string()),
        row("Server", url),
        row("Connections", conns.to_string()),
        row(
            "Frames",
            if store.is_empty() {
                "none: the recording holds no frames".into()
            } else {
                format!("{} (↑ {up} sent, ↓ {down} received)", store.len())
            },
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let (Some(first), Some(last)) = (store.get(0), store.last()) {
        let off = app.utc_offset();
        items.extend(row(
            "Recorded",
            format!(
                "{} – {}",
                crate::fmt::clock(first.at, off),
                crate::fmt::clock(last.at, off)
            ),
        ));
    }
    if let Some(login) = store
        .iter()
        .find(|v| v.redacted && v.dir == crate::model::Direction::ClientToServer)
    {
        items.extend(row(
            "Login",
            format!("#{} {}", login.seq, login.text().unwrap_or("(binary)")),
        ));
    }
    items.push(Item::spacer());
    items.push(Item::line(Line::from(Span::styled(
        " read-only: nothing is sent",
        theme::dim(),
    ))));
    items
}

/// Label beside value, for the top block of a narrow terminal.
fn compact_items(app: &App, width: u16) -> Vec<Item> {
    const LABEL: usize = 10;
    let mut items = Vec::new();
    for f in fields(app) {
        let name = label(app, f);
        let mut spans = vec![
            marker(app, f),
            Span::styled(format!("{name:<LABEL$}"), label_style(app, f)),
        ];
        let hint = match f {
            Focus::Password if app.login().relevant(f) => Some(reveal_hint(app)),
            Focus::Auth | Focus::Profile if app.focus() == f => {
                Some(Span::styled("←/→", theme::dim()))
            }
            _ => None,
        };
        let hint_w = hint.as_ref().map_or(0, |h| {
            unicode_width::UnicodeWidthStr::width(h.content.as_ref()) + 2
        });
        let value_w = (width as usize).saturating_sub(2 + LABEL + hint_w).max(1) as u16;
        let (vs, cursor) = value_spans(app, f, value_w);
        let used: usize = vs
            .iter()
            .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
            .sum();
        spans.extend(vs);
        if let Some(h) = hint {
            spans.push(Span::raw(
                " ".repeat(value_w as usize - used.min(value_w as usize) + 1),
            ));
            spans.push(h);
        }
        items.push(Item::field(
            Line::from(spans),
            f,
            cursor.map(|c| c + 2 + LABEL as u16),
        ));
    }
    items.push(Item::line(enter_line(app)));
    let mut progress = vec![Span::raw("  ")];
    let marks = progress_marks(app);
    let n = marks.len();
    let full: usize = marks
        .iter()
        .map(|(_, name)| 2 + unicode_width::UnicodeWidthStr::width(*name) + 3)
        .sum();
    if full <= (width as usize).saturating_sub(2) {
        for (i, (mark, name)) in marks.into_iter().enumerate() {
            progress.push(mark);
            progress.push(Span::raw(format!(" {name}")));
            if i + 1 < n {
                progress.push(Span::styled(" › ", theme::dim()));
            }
        }
    } else if n > 0 {
        // Narrow: the marks, then the name of the step reached.
        let current = app.progress().map(|p| p.step);
        let mut reached = "";
        for (i, (mark, name)) in marks.into_iter().enumerate() {
            if current.is_some_and(|s| step_index(app, s) == i) {
                reached = name;
            }
            progress.push(mark);
        }
        progress.push(Span::raw(format!(" {reached}")));
    }
    if let Some((text, style)) = state_text(app) {
        if n > 0 {
            progress.push(Span::raw("  "));
        }
        progress.push(Span::styled(text, style));
    }
    items.push(Item::line(Line::from(progress)));
    items.extend(error_items(app, width, COMPACT_ERROR_ROWS));
    items
}
