//! The monitor's detail pane: the selected frame's whole payload (text, pretty JSON that
//! folds, hex) or the connection's handshake. A frame is indexed once when it is opened
//! ([`index`]); each draw lays out only the lines on screen, so a 50 MB message opens and
//! scrolls like a small one.

pub mod index;

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::handshake::handshake_lines;
use super::monitor::{HIDDEN_MARK, frame_title, printable, wrap_styled};
use super::theme;
use crate::app::App;
use crate::decode::Format;
use crate::model::{Opcode, close_code_name};
use crate::monitor::DetailDrawn;
use crate::record::FrameView;
use crate::text::{hidden_count, sanitize_line};
use index::Body;

/// What the detail pane shows, for the cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKind {
    Frame {
        abs: u64,
        hex: bool,
        decoder: Option<Format>,
    },
    Handshake {
        generation: u64,
    },
}

/// A frame (or handshake) opened in the pane, kept between draws in the view layer's
/// [`crate::ui::ViewCache`]: the header lines laid out for one width, and the body's index.
#[derive(Debug)]
pub struct DetailCache {
    kind: DetailKind,
    width: u16,
    /// Notes and fields above the payload, laid out (one row each).
    header: Vec<Line<'static>>,
    body: Body,
    /// How the payload is shown ("text", "JSON", "hex", …), for the pane's title.
    what: &'static str,
    /// The folds these hidden ranges were computed for.
    folds: BTreeSet<u64>,
    hidden: Vec<(usize, usize)>,
    /// The payload as text (text and JSON bodies), checked once when opened: a draw must
    /// not run over a 50 MB message again to find the lines it shows.
    text: String,
}

impl DetailCache {
    /// Visible lines: the header rows, then the body's lines outside folded blocks.
    fn visible(&self) -> usize {
        self.header.len() + index::visible_count(self.body.len(), &self.hidden)
    }
}

/// The payload's text, when the body is text or JSON (lossy for the odd invalid byte).
fn payload_text(payload: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(payload)
}

/// A close frame's code and reason, as header lines.
fn close_header(v: &FrameView<'_>, width: usize, header: &mut Vec<Line<'static>>) {
    match v.close_code {
        Some(c) => {
            header.push(Line::from(vec![
                Span::styled("code    ", theme::dim()),
                Span::styled(format!("{c} "), theme::bold()),
                Span::styled(close_code_name(c), Style::new().fg(theme::WARN)),
            ]));
            let reason = sanitize_line(&payload_text(v.payload));
            let mut pieces = vec![("reason  ".to_string(), theme::dim())];
            if reason.is_empty() {
                pieces.push(("(none)".into(), theme::dim()));
            } else {
                pieces.push((reason, Style::new()));
            }
            header.extend(wrap_styled(pieces, width));
        }
        None => header.push(Line::from(Span::styled(
            "no status code (empty close frame)",
            theme::dim(),
        ))),
    }
}

/// Index a frame for the pane: header lines, body, and what it shows.
fn frame_doc(
    v: &FrameView<'_>,
    hex: bool,
    (decoder, mqtt_level): (Option<Format>, Option<u8>),
    width: usize,
) -> (Vec<Line<'static>>, Body, &'static str) {
    let mut header = Vec::new();
    if v.redacted {
        header.push(index::note_line("a secret in this frame is shown as ***"));
    }
    let hex_body = |len| Body::Hex {
        per: super::hexdump::bytes_per_line(width),
        len,
    };
    if v.opcode == Opcode::Close {
        close_header(v, width, &mut header);
        if hex && !v.payload.is_empty() {
            header.push(Line::default());
            return (header, hex_body(v.payload.len()), "hex");
        }
        return (header, Body::None, "close");
    }
    if v.payload.is_empty() {
        header.push(Line::from(Span::styled("(empty payload)", theme::dim())));
        return (header, Body::None, "empty");
    }
    if let Some(f) = decoder.filter(|_| !hex) {
        match f.tree_in(v.payload, mqtt_level) {
            Ok(tree) => {
                if tree.cut {
                    header.push(index::note_line(format!(
                        "the first {} lines are shown · x shows the whole message as hex",
                        crate::fmt::thousands(tree.lines.len() as u64)
                    )));
                }
                return (header, Body::Tree(tree), f.name());
            }
            Err(why) => header.extend(wrap_styled(
                vec![(
                    sanitize_line(&format!(
                        "not {}: {why} · v tries the next decoder",
                        f.name()
                    )),
                    Style::new().fg(theme::WARN),
                )],
                width,
            )),
        }
    }
    let as_hex = hex
        || v.opcode == Opcode::Binary
        || (matches!(v.opcode, Opcode::Ping | Opcode::Pong) && !printable(v.payload));
    if as_hex {
        return (header, hex_body(v.payload.len()), "hex");
    }
    let text = payload_text(v.payload);
    let hidden = hidden_count(&text);
    if hidden > 0 {
        let note = format!(
            "{HIDDEN_MARK}{hidden} hidden character{} (bidi, zero-width or format), shown as \\u{{…}}",
            if hidden == 1 { "" } else { "s" }
        );
        header.extend(wrap_styled(
            vec![(note, Style::new().fg(theme::WARN))],
            width,
        ));
    }
    if v.opcode == Opcode::Text
        && let Some(lines) = index::index_json(&text, width)
    {
        if decoder.is_none() {
            let n = crate::decode::json::base64_strings(&text);
            if n > 0 {
                header.push(index::note_line(format!(
                    "{} here look{} like base64 · v shows {} decoded",
                    crate::fmt::count(n as u64, "string"),
                    if n == 1 { "s" } else { "" },
                    if n == 1 { "it" } else { "them" }
                )));
            }
        }
        return (header, Body::Json(lines), "JSON");
    }
    (header, Body::Text(index::index_text(&text, width)), "text")
}

/// The rows of visible line `v` (header or body), laid out for `width`.
fn line_rows(
    c: &DetailCache,
    payload: &[u8],
    text: &str,
    v: usize,
    width: usize,
) -> Vec<Line<'static>> {
    if v < c.header.len() {
        return vec![c.header[v].clone()];
    }
    let line = index::visible_to_line(&c.hidden, v - c.header.len());
    let pieces = match &c.body {
        Body::Text(starts) => vec![(
            sanitize_line(index::text_line(text, starts, line)),
            Style::new(),
        )],
        Body::Json(lines) => {
            let folded = c
                .hidden
                .iter()
                .find(|&&(a, _)| a == line + 1)
                .map(|&(a, b)| b - a + 1);
            index::json_pieces(text, lines, line, folded)
        }
        Body::Hex { per, .. } => index::hex_pieces(payload, *per, line),
        Body::Tree(tree) => {
            let folded = c
                .hidden
                .iter()
                .find(|&&(a, _)| a == line + 1)
                .map(|&(a, b)| b - a + 1);
            index::tree_pieces(tree, line, folded)
        }
        Body::None => Vec::new(),
    };
    wrap_styled(pieces, width)
}

/// Open (or reuse) the pane's document for what is selected.
fn open(app: &App, kind: DetailKind, width: u16, cache: &mut Option<DetailCache>) {
    let m = app.monitor();
    let fresh = cache
        .as_ref()
        .is_none_or(|c| c.kind != kind || c.width != width);
    if fresh {
        let (header, body, what) = match kind {
            DetailKind::Frame { abs, hex, decoder } => match m.frame(abs) {
                Some(v) => {
                    let level = (decoder == Some(Format::Mqtt))
                        .then(|| super::monitor::mqtt_level(app, abs))
                        .flatten();
                    frame_doc(&v, hex, (decoder, level), width as usize)
                }
                None => (Vec::new(), Body::None, ""),
            },
            DetailKind::Handshake { .. } => (handshake_doc(app, width as usize), Body::None, ""),
        };
        let text = match (&body, kind) {
            (Body::Text(_) | Body::Json(_), DetailKind::Frame { abs, .. }) => m
                .frame(abs)
                .map(|v| payload_text(v.payload).into_owned())
                .unwrap_or_default(),
            _ => String::new(),
        };
        *cache = Some(DetailCache {
            kind,
            width,
            header,
            body,
            what,
            folds: BTreeSet::new(),
            hidden: Vec::new(),
            text,
        });
    }
    let Some(c) = cache.as_mut() else { return };
    let folds = m.detail_folds();
    if c.folds != *folds {
        c.folds = folds.clone();
        c.hidden = match &c.body {
            Body::Json(lines) => index::hidden_ranges(&c.text, lines, folds),
            Body::Tree(tree) => index::tree_hidden(tree, folds),
            _ => Vec::new(),
        };
    }
}

/// The handshake panel's lines: the session's upgrade, or both legs of a relayed
/// connection (the client's with wsdeck, then wsdeck's with the server).
fn handshake_doc(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(conn) = app.relay().map(|r| r.conn()) else {
        return app
            .handshake()
            .map(|h| handshake_lines(h, width))
            .unwrap_or_default();
    };
    let log = &app.source().log;
    let mut out = Vec::new();
    for (leg, title) in [
        (
            crate::model::Leg::Client,
            "Client ⇄ wsdeck (the client's upgrade)",
        ),
        (
            crate::model::Leg::Server,
            "wsdeck ⇄ server (the upgrade wsdeck sent on)",
        ),
    ] {
        if let Some(h) = log.handshake(conn, leg) {
            if !out.is_empty() {
                out.push(Line::default());
            }
            out.push(Line::from(Span::styled(
                title,
                theme::accent().add_modifier(ratatui::style::Modifier::BOLD),
            )));
            out.extend(handshake_lines(h, width));
        }
    }
    out
}

/// What the pane shows now (the handshake, the selected frame or nothing) and its title.
fn selected(app: &App) -> (Option<DetailKind>, Line<'static>) {
    let m = app.monitor();
    if m.handshake_panel() {
        (
            app.handshake().map(|_| DetailKind::Handshake {
                generation: m.handshake_generation(),
            }),
            Line::from(vec![
                Span::styled(" Handshake ", theme::title(true)),
                Span::styled("(h closes) ", theme::dim()),
            ]),
        )
    } else {
        match m.selected_abs().and_then(|a| m.frame(a).map(|v| (a, v))) {
            Some((abs, v)) => (
                Some(DetailKind::Frame {
                    abs,
                    hex: m.hex(),
                    decoder: decoder_for(&v, m.decoder(), super::monitor::implied(app)),
                }),
                frame_title(&v, app.relay().is_some()),
            ),
            None => (
                None,
                Line::from(Span::styled(" Detail ", theme::title(false))),
            ),
        }
    }
}

/// The decoder for frame `v`: the one picked with `v` when it reads this kind of frame, else
/// the one the connection implies (MQTT, socket.io) when that does.
pub(super) fn decoder_for(
    v: &FrameView<'_>,
    picked: Option<Format>,
    implied: Option<Format>,
) -> Option<Format> {
    let reads = |f: &Format| match v.opcode {
        Opcode::Text => f.reads_text(),
        Opcode::Binary => !f.reads_text(),
        _ => false,
    };
    picked.filter(reads).or(implied.filter(reads))
}

/// How far the pane scrolls: until its last lines fill it (laid out from the end, so the
/// cost is the pane's height, not the message's length).
fn scroll_limit(c: &DetailCache, payload: &[u8], text: &str, width: usize, h: usize) -> usize {
    let total = c.visible();
    let mut max = total;
    let mut rows_at_end = 0;
    while max > 0 && rows_at_end < h {
        max -= 1;
        rows_at_end += line_rows(c, payload, text, max, width).len();
    }
    if rows_at_end > h {
        max += 1;
    }
    max.min(total.saturating_sub(1))
}

/// Draw the pane; returns its rows, how far it scrolls, and the block `z` would fold.
pub(super) fn draw(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    cache: &mut Option<DetailCache>,
) -> DetailDrawn {
    let m = app.monitor();
    let inner_w = Block::bordered().inner(area).width;
    let (kind, title) = selected(app);
    let mut block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::border(false));
    let inner = block.inner(area);
    let Some(kind) = kind else {
        *cache = None;
        let msg = if m.handshake_panel() {
            "No handshake yet: it shows here once a connection opens."
        } else {
            "Select a frame (j/k, ↑/↓) to see its payload here."
        };
        frame.render_widget(block.title(title), area);
        frame.render_widget(Paragraph::new(Span::styled(msg, theme::dim())), inner);
        return DetailDrawn {
            rows: inner.height,
            max: 0,
            fold_at: None,
        };
    };
    open(app, kind, inner_w, cache);
    let Some(c) = cache.as_ref() else {
        return DetailDrawn::default();
    };
    let payload: &[u8] = match kind {
        DetailKind::Frame { abs, .. } => m.frame(abs).map(|v| v.payload).unwrap_or_default(),
        DetailKind::Handshake { .. } => &[],
    };
    let text: &str = &c.text;
    let width = inner.width as usize;
    let h = inner.height as usize;
    let total = c.visible();
    let max = scroll_limit(c, payload, text, width, h);
    let scroll = m.detail_scroll().min(max);
    let mut shown = Vec::with_capacity(h);
    let mut last = scroll;
    for v in scroll..total {
        if shown.len() >= h {
            break;
        }
        shown.extend(line_rows(c, payload, text, v, width));
        last = v;
    }
    let mut title = title;
    // Say how the payload is shown when that is not plain from the opcode.
    if !matches!(c.what, "text" | "close" | "empty" | "") && !m.handshake_panel() {
        title.push_span(Span::styled(format!("· {} ", c.what), theme::accent()));
    }
    let hint = match (m.handshake_panel(), &c.body) {
        (true, _) => " J/K scroll · Esc closes ",
        (false, Body::Json(_) | Body::Tree(_)) => {
            " x hex · v decode · h handshake · J/K scroll · z fold "
        }
        (false, _) => " x hex · v decode · h handshake · J/K scroll ",
    };
    block = block
        .title(title)
        .title_bottom(Line::from(Span::styled(hint, theme::dim())));
    if total > h || last + 1 < total || scroll > 0 {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" lines {}–{} of {} ", scroll + 1, last + 1, total),
                theme::dim(),
            ))
            .right_aligned(),
        );
    }
    frame.render_widget(block, area);
    let buf = frame.buffer_mut();
    for (i, l) in shown.iter().take(h).enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, l, inner.width);
    }
    let fold_at = match &c.body {
        Body::Json(lines) => {
            let top = scroll.saturating_sub(c.header.len());
            let line = index::visible_to_line(&c.hidden, top);
            index::block_at(text, lines, line).map(|b| b as u64)
        }
        Body::Tree(tree) => {
            let top = scroll.saturating_sub(c.header.len());
            tree.block_at(index::visible_to_line(&c.hidden, top))
                .map(|b| b as u64)
        }
        _ => None,
    };
    DetailDrawn {
        rows: inner.height,
        max,
        fold_at,
    }
}
