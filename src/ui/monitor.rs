//! The monitor view: stats strip, frame table, detail pane (or handshake panel) and the
//! filter line. Only the visible rows are formatted; the detail pane's lines are built once
//! per selected frame and width (bounded) and kept in the monitor's cache.

use std::borrow::Cow;
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use unicode_segmentation::UnicodeSegmentation;

use super::{field_view, shown_value, theme, truncate};
use crate::app::history::cell_width;
use crate::app::{App, Feedback};
use crate::model::{Direction, Opcode, close_code_name};
use crate::record::FrameView;
use crate::text::{hidden_count, sanitize_line};

const BINARY: Color = Color::Magenta;
const CONTROL: Color = Color::Blue;

/// Draw the monitor into `area` (everything above the status bar).
pub(super) fn draw(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    fb: &mut Feedback,
    cache: &mut Option<super::detail::DetailCache>,
) {
    let m = app.monitor();
    let editing = m.filter_edit().is_some();
    let strip_h = if area.height >= 10 { 2 } else { 0 };
    let line_h = app.relay().map_or(0, super::relay::line_height);
    let [strip, body, filter_line, relay_line] = Layout::vertical([
        Constraint::Length(strip_h),
        Constraint::Min(0),
        Constraint::Length(u16::from(editing)),
        Constraint::Length(line_h),
    ])
    .areas(area);
    if let Some(r) = app.relay() {
        super::relay::draw_line(frame, app, r, relay_line);
    }
    // The handshake panel gets more room: a dozen headers each way.
    let detail_h = match body.height {
        h if h < 14 => 0,
        h if m.handshake_panel() => h * 2 / 3,
        h => h / 2,
    };
    let [table, detail] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail_h)]).areas(body);
    if strip_h > 0 {
        super::strip::draw(frame, app, strip);
    }
    draw_table(frame, app, table, fb);
    if detail_h > 0 {
        let d = super::detail::draw(frame, app, detail, cache);
        fb.monitor.get_or_insert_default().detail = Some(d);
    }
    if editing {
        draw_filter_line(frame, app, filter_line);
    }
}

// ---------- formatting helpers ----------

pub use crate::fmt::{bytes, clock_ms, thousands};

pub(super) fn per_sec(v: f64) -> String {
    if v > 0.0 && v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{}", v.round() as u64)
    }
}

/// Time between frames in milliseconds, at most 7 cells.
fn delta(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else if ms < 100_000.0 {
        format!("{}", ms as u64)
    } else if d.as_secs() < 1_000_000 {
        format!("{}s", d.as_secs())
    } else {
        "≥1e6s".to_string()
    }
}

/// Rows the frames of a message take when listed (one per frame; the sizes kept).
fn frame_rows(f: &crate::model::Fragments) -> usize {
    f.sizes.len() + usize::from(f.count > f.sizes.len() as u64)
}

/// `└ 1/3 text           4 096 B`, `└ 3/3 continuation FIN 12 B`: at most `rows` lines, the
/// last saying how many more there are.
fn frame_lines(f: &crate::model::Fragments, opcode: Opcode, rows: usize) -> Vec<String> {
    let total = f.count;
    let mut out = Vec::with_capacity(rows);
    if rows == 0 {
        return out;
    }
    for (i, size) in f.sizes.iter().enumerate() {
        let left = total - i as u64;
        if out.len() + 1 == rows && left > 1 {
            out.push(format!("└ … {left} more frames"));
            break;
        }
        let op = if i == 0 {
            opcode.name()
        } else {
            "continuation"
        };
        let fin = if i as u64 + 1 == total { "FIN" } else { "" };
        out.push(format!(
            "└ {}/{total} {op:<12} {fin:<3} {:>7} B",
            i + 1,
            length(*size as usize)
        ));
    }
    if out.len() < rows && total > f.sizes.len() as u64 {
        out.push(format!("└ … {} more frames", total - f.sizes.len() as u64));
    }
    out
}

fn length(n: usize) -> String {
    if n < 10_000_000 {
        n.to_string()
    } else {
        bytes(n as f64).replace(' ', "")
    }
}

pub(super) fn hms(d: Duration) -> String {
    let s = d.as_secs();
    let (days, s) = (s / 86_400, s % 86_400);
    let t = format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60);
    if days > 0 { format!("{days}d {t}") } else { t }
}

fn dir_color(d: Direction) -> Color {
    match d {
        Direction::ClientToServer => theme::SENT,
        Direction::ServerToClient => theme::RECEIVED,
    }
}

fn op_style(o: Opcode) -> Style {
    match o {
        Opcode::Text => Style::new(),
        Opcode::Binary => Style::new().fg(BINARY),
        Opcode::Ping | Opcode::Pong => Style::new().fg(CONTROL),
        Opcode::Close => Style::new().fg(theme::WARN),
    }
}

/// At most `max` bytes of `b` as text: valid UTF-8 up to a cut character, lossy otherwise.
fn text_prefix(b: &[u8], max: usize) -> Cow<'_, str> {
    let part = &b[..b.len().min(max)];
    match std::str::from_utf8(part) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) if e.error_len().is_none() => {
            Cow::Borrowed(std::str::from_utf8(&part[..e.valid_up_to()]).unwrap_or(""))
        }
        Err(_) => String::from_utf8_lossy(part),
    }
}

/// Printable text (valid UTF-8 without control characters other than line breaks and tabs)?
pub(super) fn printable(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    })
}

fn hex_preview(b: &[u8], width: usize) -> String {
    let n = (width / 3).max(1);
    let mut s = crate::fmt::hex_spaced(&b[..b.len().min(n)]);
    if b.len() > n {
        s.push_str(" …");
    }
    s
}

/// The decoder the shown connection implies (the `mqtt` subprotocol, a socket.io URL),
/// from its handshake: a header lookup, cheap on every draw.
pub(super) fn implied(app: &App) -> Option<crate::decode::Format> {
    let h = match app.relay() {
        Some(r) => app
            .source()
            .log
            .handshake(r.conn(), crate::model::Leg::Server)?,
        None => app.handshake()?,
    };
    let sub = h
        .response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"))
        .map(|(_, v)| v.as_str());
    crate::decode::implied(sub, &h.url)
}

/// The MQTT protocol level (4: 3.1.1, 5: 5) of the connection frame `abs` passed on: what
/// the nearest CONNECT before it, on the same connection, named. Looks at most 4,096 frames
/// back (a byte or two of each), so it is cheap enough for every draw.
pub(super) fn mqtt_level(app: &App, abs: u64) -> Option<u8> {
    let m = app.monitor();
    let conn = m.frame(abs)?.conn;
    let first = m.dropped().max(abs.saturating_sub(4096));
    (first..=abs).rev().find_map(|a| {
        let f = m.frame(a)?;
        if f.conn != conn || f.opcode != Opcode::Binary || f.dir != Direction::ClientToServer {
            return None;
        }
        crate::decode::mqtt::connect_level(f.payload)
    })
}

/// The packet name an implied decoder gives a row (`PUBLISH a/b`, `EVENT chat`), read from a
/// bounded prefix of the payload, sanitised. `mqtt_level`: see [`mqtt_level`].
pub fn decoded_label(
    v: &FrameView<'_>,
    implied: Option<crate::decode::Format>,
    mqtt_level: Option<u8>,
) -> Option<String> {
    use crate::decode::Format;
    let f = match (implied?, v.opcode) {
        (Format::Mqtt, Opcode::Binary) => Format::Mqtt,
        (Format::SocketIo, Opcode::Text) => Format::SocketIo,
        _ => return None,
    };
    crate::decode::summary(f, v.payload, mqtt_level).map(|s| sanitize_line(&s))
}

/// Starts the preview of a text that carried invisible characters (shown as `\u{…}`).
pub const HIDDEN_MARK: &str = "⚑ ";

/// The table's one-line preview of a frame, sanitised and cut to `width` cells; a text that
/// carried invisible characters starts with [`HIDDEN_MARK`].
pub fn preview(v: &FrameView<'_>, width: usize) -> (String, Style) {
    let text = |b: &[u8]| {
        let budget = width * 4 + 4;
        let raw = text_prefix(b, budget);
        let mut s = sanitize_line(&raw);
        if hidden_count(&raw) > 0 {
            s.insert_str(0, HIDDEN_MARK);
        }
        if b.len() > budget {
            s.push('…');
        }
        truncate(&s, width)
    };
    match v.opcode {
        Opcode::Close => {
            let s = match v.close_code {
                Some(c) if v.payload.is_empty() => format!("{c} {}", close_code_name(c)),
                Some(c) => format!("{c} {} · {}", close_code_name(c), text(v.payload)),
                None => "no status code".to_string(),
            };
            (truncate(&s, width), Style::new().fg(theme::WARN))
        }
        _ if v.payload.is_empty() => ("(empty)".into(), theme::dim()),
        Opcode::Binary => (hex_preview(v.payload, width), Style::new().fg(BINARY)),
        Opcode::Ping | Opcode::Pong if !printable(v.payload) => {
            (hex_preview(v.payload, width), Style::new().fg(CONTROL))
        }
        Opcode::Ping | Opcode::Pong => (text(v.payload), Style::new().fg(CONTROL)),
        Opcode::Text => (text(v.payload), Style::new()),
    }
}

// ---------- table ----------

struct Cols {
    time: bool,
    delta: bool,
}

impl Cols {
    fn for_width(w: u16) -> Cols {
        Cols {
            time: w >= 60,
            delta: w >= 44,
        }
    }
    fn fixed(&self) -> usize {
        13 * usize::from(self.time) + 8 * usize::from(self.delta) + 2 + 7 + 8
    }
}

fn table_block(app: &App) -> Block<'static> {
    let m = app.monitor();
    let kept = m.store().len() as u64;
    let mut title = vec![
        Span::styled(" Frames ", theme::title(true)),
        Span::styled(format!("{} ", thousands(kept)), theme::dim()),
    ];
    if let Some(f) = m.filter() {
        let n = m.match_count().unwrap_or(0) as u64;
        title.push(Span::styled("· filter ", theme::dim()));
        title.push(Span::styled(
            truncate(&sanitize_line(f.source()), 40),
            theme::accent(),
        ));
        title.push(Span::styled(
            format!(
                " · {} match{} ",
                thousands(n),
                if n == 1 { "" } else { "es" }
            ),
            theme::bold(),
        ));
    }
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(true))
        .title(Line::from(title));
    if m.dropped() > 0 {
        block = block.title(
            Line::from(Span::styled(
                format!(" {} older frames not kept ", thousands(m.dropped())),
                Style::new().fg(theme::WARN),
            ))
            .right_aligned(),
        );
    }
    if let Some(n) = m.paused_new() {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" paused — {} new · Space resumes ", thousands(n)),
                Style::new()
                    .fg(Color::Black)
                    .bg(theme::WARN)
                    .add_modifier(Modifier::BOLD),
            ))
            .right_aligned(),
        );
    } else if !m.following() {
        block = block.title_bottom(
            Line::from(Span::styled(" End follows newest ", theme::dim())).right_aligned(),
        );
    }
    block
}

/// How every row of one draw is laid out: which columns, and the decoder's view of them.
struct RowLayout {
    cols: Cols,
    relayed: bool,
    utc_offset: i32,
    implied: Option<crate::decode::Format>,
    mqtt_level: Option<u8>,
    preview_w: usize,
}

/// The column titles, over the rows' columns.
fn table_header(cols: &Cols, relayed: bool) -> String {
    let mut header = String::new();
    if cols.time {
        header.push_str(&format!("{:<13}", "time"));
    }
    if cols.delta {
        header.push_str(&format!("{:>7} ", "Δ ms"));
    }
    // Under the arrow; a relayed connection's rows have the origin marks' column after it.
    header.push_str(if relayed { "    " } else { "  " });
    header.push_str(&format!("{:<6} {:>7} payload", "op", "len"));
    header
}

/// What an empty table says, by why it is empty.
fn empty_table_text(app: &App) -> &'static str {
    let m = app.monitor();
    if m.filter().is_some() {
        "No frame matches the filter. / edits it, Esc clears it."
    } else if m.paused() {
        "Paused before the first frame. Space resumes."
    } else if app.replay_file().is_some() {
        "This recording holds no frames (nothing was sent or received while it recorded)."
    } else {
        "No frames yet. Every frame both ways appears here as it passes."
    }
}

/// The first row shown: the selection in view, following the newest when asked.
fn first_row(app: &App, n: usize, h: usize, sel: usize) -> usize {
    let m = app.monitor();
    let mut top = if m.following() {
        n.saturating_sub(h)
    } else {
        m.row_of(m.top()).unwrap_or(0)
    };
    if sel < top {
        top = sel;
    } else if sel >= top + h {
        top = sel + 1 - h;
    }
    top.min(n.saturating_sub(h))
}

fn draw_table(frame: &mut Frame, app: &App, area: Rect, fb: &mut Feedback) {
    let m = app.monitor();
    let block = table_block(app);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let cols = Cols::for_width(inner.width);
    let relayed = app.relay().is_some();
    frame.render_widget(
        Paragraph::new(Span::styled(
            table_header(&cols, relayed),
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
    fb.monitor.get_or_insert_default().page = Some(rows_area.height);
    let n = m.row_count();
    if n == 0 {
        let msg = empty_table_text(app);
        frame.render_widget(Paragraph::new(Span::styled(msg, theme::dim())), rows_area);
        return;
    }
    if h == 0 {
        return;
    }
    let sel = m.selected_row().unwrap_or(n - 1);
    // `f`: the selected message's frames, one row each, under its row.
    let frames = m
        .frames_open()
        .then(|| m.row_abs(sel))
        .flatten()
        .and_then(|abs| app.frames().fragments(abs));
    let extra = frames.map_or(0, |f| frame_rows(f).min(h.saturating_sub(1)));
    let h = h - extra;
    let top = first_row(app, n, h, sel);
    fb.monitor.get_or_insert_default().top = m.row_abs(top);
    let implied = implied(app);
    let layout = RowLayout {
        preview_w: (inner.width as usize)
            .saturating_sub(cols.fixed() + if relayed { 2 } else { 0 })
            .max(1),
        relayed,
        utc_offset: app.utc_offset(),
        implied,
        mqtt_level: match implied {
            Some(crate::decode::Format::Mqtt) => m
                .row_abs(n.min(top + h).saturating_sub(1))
                .and_then(|abs| mqtt_level(app, abs)),
            _ => None,
        },
        cols,
    };
    let mut rows_drawn = 0;
    let buf = frame.buffer_mut();
    for (i, row) in (top..n.min(top + h)).enumerate() {
        let Some(abs) = m.row_abs(row) else {
            break;
        };
        let Some(v) = m.frame(abs) else {
            continue;
        };
        rows_drawn += 1;
        let below = if row > sel { extra } else { 0 };
        let y = rows_area.y + (i + below) as u16;
        let spans = row_spans(app, &v, abs, &layout);
        buf.set_line(rows_area.x, y, &Line::from(spans), rows_area.width);
        fb.hit(
            Rect::new(rows_area.x, y, rows_area.width, 1),
            crate::app::Hit::Frame(abs),
        );
        if row == sel {
            let r = Rect::new(rows_area.x, y, rows_area.width, 1);
            buf.set_style(r, theme::selected());
            if let Some(f) = frames {
                let cols = &layout.cols;
                let indent = if cols.time { 13 } else { 0 } + if cols.delta { 8 } else { 0 };
                for (k, line) in frame_lines(f, v.opcode, extra).into_iter().enumerate() {
                    let line = Line::from(vec![
                        Span::raw(" ".repeat(indent)),
                        Span::styled(line, theme::dim()),
                    ]);
                    buf.set_line(rows_area.x, y + 1 + k as u16, &line, rows_area.width);
                }
            }
        }
    }
    fb.monitor.get_or_insert_default().rows += rows_drawn;
}

/// One frame's row: time, Δ, arrow, origin mark, opcode, length, frames, label, preview.
fn row_spans(app: &App, v: &FrameView<'_>, abs: u64, layout: &RowLayout) -> Vec<Span<'static>> {
    let mut spans = Vec::with_capacity(8);
    if layout.cols.time {
        spans.push(Span::styled(
            format!("{} ", clock_ms(v.at, layout.utc_offset)),
            theme::dim(),
        ));
    }
    if layout.cols.delta {
        let d = abs
            .checked_sub(1)
            .and_then(|p| app.monitor().frame(p))
            .map(|p| delta(v.at.duration_since(p.at).unwrap_or_default()))
            .unwrap_or_default();
        spans.push(Span::styled(format!("{d:>7} "), theme::dim()));
    }
    spans.push(Span::styled(
        format!("{} ", v.dir.arrow()),
        Style::new().fg(dir_color(v.dir)),
    ));
    // A relayed connection keeps a column for the marks; our own session marks only
    // what wsdeck sent by itself (an --auto-reply).
    if layout.relayed || v.origin != crate::model::Origin::Wire {
        let (mark, style) = super::relay::origin_mark(v.origin);
        spans.push(Span::styled(mark, style));
    }
    spans.push(Span::styled(
        format!("{:<6} ", v.opcode.name()),
        op_style(v.opcode),
    ));
    spans.push(Span::styled(format!("{:>7} ", length(v.len)), theme::dim()));
    let mut preview_w = layout.preview_w;
    if v.fragments > 1 {
        // How many frames made it (`f` lists them).
        let mark = format!("×{} ", v.fragments);
        preview_w = preview_w.saturating_sub(mark.chars().count()).max(1);
        spans.push(Span::styled(mark, Style::new().fg(theme::ACCENT)));
    }
    if let Some(label) = decoded_label(v, layout.implied, layout.mqtt_level) {
        let label = truncate(&label, preview_w.saturating_sub(8).max(preview_w / 2));
        preview_w = preview_w
            .saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_str()) + 1)
            .max(1);
        spans.push(Span::styled(
            label,
            theme::accent().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
    }
    let (p, style) = preview(v, preview_w);
    spans.push(Span::styled(p, style));
    spans
}

// ---------- detail pane ----------

/// Hard-wrap styled pieces into rows of at most `width` cells (between grapheme clusters).
pub(super) fn wrap_styled(pieces: Vec<(String, Style)>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut col = 0;
    for (text, style) in pieces {
        let mut run = String::new();
        for g in text.graphemes(true) {
            let w = cell_width(g);
            if col + w > width && col > 0 {
                if !run.is_empty() {
                    cur.push(Span::styled(std::mem::take(&mut run), style));
                }
                rows.push(Line::from(std::mem::take(&mut cur)));
                col = 0;
            }
            run.push_str(g);
            col += w;
        }
        if !run.is_empty() {
            cur.push(Span::styled(run, style));
        }
    }
    rows.push(Line::from(cur));
    rows
}

pub(super) fn frame_title(v: &FrameView<'_>, relayed: bool) -> Line<'static> {
    let dir = match v.dir {
        _ if relayed => super::relay::sender(v.dir),
        Direction::ClientToServer => "sent",
        Direction::ServerToClient => "received",
    };
    let origin = match v.origin {
        crate::model::Origin::Wire => "",
        crate::model::Origin::Injected => "· injected by you ",
        crate::model::Origin::Modified => "· edited by you ",
        crate::model::Origin::Dropped => "· dropped, never delivered ",
        crate::model::Origin::Auto => "· answered by wsdeck (--auto-reply) ",
        crate::model::Origin::Held => "· held: not passed on yet ",
    };
    Line::from(vec![
        Span::styled(format!(" #{} ", v.seq), theme::title(true)),
        Span::styled(
            format!("{} {dir} ", v.dir.arrow()),
            Style::new().fg(dir_color(v.dir)),
        ),
        Span::styled(format!("{} ", v.opcode.name()), op_style(v.opcode)),
        Span::styled(format!("· {} B ", thousands(v.len as u64)), theme::dim()),
        Span::styled(origin, Style::new().fg(theme::WARN)),
    ])
}

// ---------- filter line ----------

fn draw_filter_line(frame: &mut Frame, app: &App, area: Rect) {
    let Some(edit) = app.monitor().filter_edit() else {
        return;
    };
    let (msg, style) = match &edit.error {
        Some(e) => (sanitize_line(e), theme::error()),
        None => (
            "filters as you type · Enter done · Esc clears · F1 syntax".to_string(),
            theme::dim(),
        ),
    };
    let total = area.width as usize;
    let (msg, msg_w) = super::line_message(&msg, edit.error.is_some(), total, 4);
    let field_w = total.saturating_sub(msg_w + 4).max(1) as u16;
    let shown = shown_value(edit.input.value());
    let (visible, col) = field_view(&shown, edit.input.cursor(), field_w);
    let pad =
        (field_w as usize).saturating_sub(unicode_width::UnicodeWidthStr::width(visible.as_str()));
    let line = Line::from(vec![
        Span::styled("/", theme::accent().add_modifier(Modifier::BOLD)),
        Span::raw(" "),
        Span::raw(visible),
        Span::raw(" ".repeat(pad + 1)),
        Span::styled(msg, style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if !app.help_open() {
        frame.set_cursor_position(Position::new(area.x + 2 + col, area.y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
        assert_eq!(per_sec(0.0), "0");
        assert_eq!(per_sec(2.55), "2.5");
        assert_eq!(per_sec(120.4), "120");
        assert_eq!(delta(Duration::from_micros(400)), "0.4");
        assert_eq!(delta(Duration::from_millis(1234)), "1234");
        assert_eq!(delta(Duration::from_secs(500)), "500s");
        assert_eq!(hms(Duration::from_secs(3723)), "01:02:03");
        assert_eq!(hms(Duration::from_secs(86_400 + 5)), "1d 00:00:05");
    }

    #[test]
    fn text_prefix_cuts_at_characters() {
        assert_eq!(text_prefix("héllo".as_bytes(), 2), "h");
        assert_eq!(text_prefix(b"ab\xffcd", 10), "ab\u{fffd}cd");
    }

    #[test]
    fn wrap_styled_breaks_by_cells() {
        let rows = wrap_styled(
            vec![("ab".into(), Style::new()), ("中文x".into(), Style::new())],
            4,
        );
        let text: Vec<String> = rows
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text, ["ab中", "文x"]);
    }
}
