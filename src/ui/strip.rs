//! The monitor's stats strip: frames and bytes each way, message rates over 1 s and 10 s,
//! a sparkline of what is received, and how long the session has been connected.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::monitor::{hms, per_sec};
use super::theme;
use crate::app::App;
use crate::fmt::bytes;

/// The two rows over the monitor's table: counts and rates each way, the received
/// sparkline, and how the session stands.
pub(super) fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let m = app.monitor();
    let st = m.stats();
    let (fs, fr) = st.frames();
    let (bs, br) = st.bytes();
    let r1 = st.rate(1);
    let r10 = st.rate(10);
    let dim = theme::dim();
    let rate = |label: &'static str, r: crate::record::stats::Rate| {
        vec![
            Span::styled(label, dim),
            Span::raw(format!(
                "{} msg/s {}/s",
                per_sec(r.frames_per_sec),
                bytes(r.bytes_per_sec)
            )),
        ]
    };
    let line1 = fit(
        vec![
            vec![
                Span::styled("↑ ", Style::new().fg(theme::SENT)),
                Span::raw(format!(
                    "{} {}",
                    crate::fmt::count(fs, "frame"),
                    bytes(bs as f64)
                )),
            ],
            vec![
                Span::styled("↓ ", Style::new().fg(theme::RECEIVED)),
                Span::raw(format!(
                    "{} {}",
                    crate::fmt::count(fr, "frame"),
                    bytes(br as f64)
                )),
            ],
            rate("1 s ", r1),
            rate("10 s ", r10),
        ],
        " ",
        "   ",
        area.width as usize,
    );
    let row1 = Rect { height: 1, ..area };
    frame.render_widget(Paragraph::new(line1), row1);
    if area.height < 2 {
        return;
    }
    let row2 = Rect {
        y: area.y + 1,
        height: 1,
        ..area
    };
    let segments = session_segments(app);
    let mut right = fit(segments, "", " · ", (row2.width as usize).saturating_sub(1));
    right.push_span(Span::raw(" "));
    let label = " ↓ msg/s ";
    let label_w = label.chars().count() as u16;
    let right_w = (right.width() as u16).min(row2.width);
    let spark_w = row2.width.saturating_sub(label_w + right_w + 1);
    let [l, s, _, r] = Layout::horizontal([
        Constraint::Length(if spark_w > 0 { label_w } else { 0 }),
        Constraint::Length(spark_w),
        Constraint::Length(u16::from(spark_w > 0)),
        Constraint::Min(0),
    ])
    .areas(row2);
    if spark_w > 0 {
        frame.render_widget(Paragraph::new(Span::styled(label, dim)), l);
        let data = st.received_per_second(spark_w as usize);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(Style::new().fg(theme::RECEIVED)),
            s,
        );
    }
    frame.render_widget(Paragraph::new(right).right_aligned(), r);
}

/// The strip's second row, right: how long connected, reconnects, rtt. A relayed
/// connection is the proxy's: no reconnects of wsdeck's own, no ping of its own unless `p`
/// measured one; its status bar says whether it is open.
fn session_segments(app: &App) -> Vec<Vec<Span<'static>>> {
    let st = app.monitor().stats();
    let dim = theme::dim();
    let rtt = app.rtt().map_or_else(|| "–".to_string(), crate::fmt::rtt);
    if app.relay().is_some() {
        return app
            .rtt()
            .map(|_| vec![Span::styled("rtt ", dim), Span::raw(rtt)])
            .into_iter()
            .collect();
    }
    let connected = match st.connected_for() {
        Some(d) if st.connected() => vec![Span::styled("connected ", dim), Span::raw(hms(d))],
        Some(d) => vec![Span::styled("was connected ", dim), Span::raw(hms(d))],
        None => vec![Span::styled("not connected", dim)],
    };
    vec![
        connected,
        vec![
            Span::styled("reconnects ", dim),
            Span::raw(st.reconnects().to_string()),
        ],
        vec![Span::styled("rtt ", dim), Span::raw(rtt)],
    ]
}

/// Whole segments, joined by `sep`, while they fit in `width` cells (after `lead`).
fn fit(
    segments: Vec<Vec<Span<'static>>>,
    lead: &'static str,
    sep: &'static str,
    width: usize,
) -> Line<'static> {
    let mut spans = vec![Span::raw(lead)];
    let mut used = lead.len();
    for (i, seg) in segments.into_iter().enumerate() {
        let w: usize = seg.iter().map(|s| s.width()).sum();
        let extra = if i > 0 { sep.chars().count() } else { 0 };
        if used + extra + w > width {
            break;
        }
        if i > 0 {
            spans.push(Span::raw(sep));
        }
        spans.extend(seg);
        used += extra + w;
    }
    Line::from(spans)
}
