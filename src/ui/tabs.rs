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
    /// The user logged in as (or to log in as); empty for none.
    pub user: &'a str,
    /// The profile the session was filled from.
    pub profile: Option<&'a str>,
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

/// `host:port` of a URL (the path and query left out).
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// A tab's label in full (` 2 ● admin@127.0.0.1:5678 seed (3) `) and at its shortest
/// (` 2 ● (3) `): the number, state and unread count are never left out.
fn labels(i: usize, t: &TabInfo<'_>) -> (String, String) {
    let (mark, _) = short(t.state);
    let unread = if t.unread > 0 {
        format!(" ({})", t.unread)
    } else {
        String::new()
    };
    let who = if t.user.is_empty() {
        String::new()
    } else {
        format!("{}@", t.user)
    };
    let profile = t.profile.map(|p| format!(" {p}")).unwrap_or_default();
    let body = sanitize_line(&format!("{who}{}{profile}", host_port(&t.url)));
    (
        format!(" {} {mark} {body}{unread} ", i + 1),
        format!(" {} {mark}{unread} ", i + 1),
    )
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Which label each tab gets and which tabs are shown, for `room` columns: all in full; else
/// the shown one in full and the others short; else a window of short tabs around the shown
/// one (the shown one cut to fit last of all, its number, state and unread kept).
fn fit(tabs: &[TabInfo<'_>], active: usize, room: usize) -> (usize, usize, Vec<String>) {
    let all: Vec<(String, String)> = tabs.iter().enumerate().map(|(i, t)| labels(i, t)).collect();
    let total = |v: &[String]| v.iter().map(|l| width(l) + 1).sum::<usize>();
    let full: Vec<String> = all.iter().map(|(f, _)| f.clone()).collect();
    if total(&full) <= room {
        return (0, tabs.len(), full);
    }
    let mut shown: Vec<String> = all.iter().map(|(_, s)| s.clone()).collect();
    let others: usize = total(&shown) - width(&shown[active]) - 1;
    let (full, short) = &all[active];
    // The shown one in `avail` columns: in full, else cut (its number, state and unread
    // kept), never shorter than its short form.
    let at_most = |avail: usize| {
        if width(full) <= avail {
            full.clone()
        } else if width(short) < avail {
            cut_keeping_end(full, short, avail)
        } else {
            short.clone()
        }
    };
    if others + width(short) < room {
        // Every tab, the others short.
        shown[active] = at_most(room - others - 1);
        return (0, tabs.len(), shown);
    }
    // A window around the shown one (markers take up to 4 columns).
    shown[active] = at_most(room.saturating_sub(5).max(width(short)));
    // A window of tabs around the shown one, with room for the ‹ › markers.
    let (mut lo, mut hi) = (active, active + 1);
    let mut used = width(&shown[active]) + 1 + 4;
    loop {
        let mut grew = false;
        if hi < tabs.len() && used + width(&shown[hi]) < room {
            used += width(&shown[hi]) + 1;
            hi += 1;
            grew = true;
        }
        if lo > 0 && used + width(&shown[lo - 1]) < room {
            used += width(&shown[lo - 1]) + 1;
            lo -= 1;
            grew = true;
        }
        if !grew {
            break;
        }
    }
    (lo, hi, shown)
}

/// `full` cut to `keep` columns, ending like `short` does (the unread count).
fn cut_keeping_end(full: &str, short: &str, keep: usize) -> String {
    if width(full) <= keep {
        return full.to_string();
    }
    let tail = short
        .rfind(" (")
        .map_or(" ".to_string(), |i| short[i..].to_string());
    let head_room = keep.saturating_sub(width(&tail) + 1);
    let head: String = full
        .trim_end()
        .strip_suffix(tail.trim_end())
        .unwrap_or(full.trim_end())
        .chars()
        .scan(0, |w, c| {
            *w += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            (*w <= head_room).then_some(c)
        })
        .collect();
    format!("{head}…{tail}")
}

pub fn draw(frame: &mut Frame, area: Rect, tabs: &[TabInfo<'_>], active: usize) {
    const HINT: &str = " Alt-1…9 · Alt-←/→ · Ctrl-T new · Alt-W close";
    let w = area.width as usize;
    let (lo, hi, labels) = fit(tabs, active, w);
    let mut spans = Vec::new();
    if lo > 0 {
        spans.push(Span::styled(format!("‹{lo}"), theme::dim()));
    }
    let mut used = 0;
    for i in lo..hi {
        let (_, color) = short(tabs[i].state);
        let style = if i == active {
            Style::new()
                .fg(color)
                .add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else if tabs[i].unread > 0 {
            Style::new().fg(color).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(color)
        };
        used += width(&labels[i]) + 1;
        spans.push(Span::styled(labels[i].clone(), style));
        spans.push(Span::styled("│", theme::dim()));
    }
    if hi < tabs.len() {
        spans.push(Span::styled(format!("{}›", tabs.len() - hi), theme::dim()));
    } else if lo == 0 && used + width(HINT) <= w {
        spans.push(Span::styled(HINT, theme::dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    theme::finish(frame.buffer_mut(), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab<'a>(url: &'a str, state: &'a ConnState, unread: usize) -> TabInfo<'a> {
        TabInfo {
            url: url.into(),
            user: "admin",
            profile: None,
            state,
            unread,
        }
    }

    #[test]
    fn labels_tell_ports_users_and_profiles_apart() {
        let on = ConnState::LoggedIn;
        let a = tab("ws://127.0.0.1:5678/chat", &on, 0);
        let b = TabInfo {
            user: "bob",
            profile: Some("lab"),
            ..tab("wss://127.0.0.1:9443/", &on, 4)
        };
        assert_eq!(labels(0, &a).0, " 1 ● admin@127.0.0.1:5678 ");
        assert_eq!(labels(1, &b).0, " 2 ● bob@127.0.0.1:9443 lab (4) ");
        assert_eq!(labels(1, &b).1, " 2 ● (4) ");
    }

    /// Ten tabs on 80 columns: every number shows, and the shown tab keeps its name and its
    /// unread count whichever it is.
    #[test]
    fn ten_tabs_never_cut_the_shown_one_or_its_unread() {
        let on = ConnState::LoggedIn;
        let urls: Vec<String> = (0..10)
            .map(|i| format!("ws://127.0.0.1:{}/", 5600 + i))
            .collect();
        let tabs: Vec<TabInfo> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| tab(u, &on, i * 3))
            .collect();
        for active in 0..10 {
            for room in [80, 60, 40] {
                let (lo, hi, labels) = fit(&tabs, active, room);
                assert!(lo <= active && active < hi, "{active} {room}");
                let used: usize = (lo..hi).map(|i| width(&labels[i]) + 1).sum();
                assert!(used + 4 <= room || (lo == 0 && hi == 10 && used <= room));
                let shown = &labels[active];
                if active > 0 {
                    assert!(shown.contains(&format!("({})", active * 3)), "{shown}");
                }
                assert!(shown.starts_with(&format!(" {} ●", active + 1)), "{shown}");
                if room == 80 {
                    assert!(shown.contains(&format!(":{}", 5600 + active)), "{shown}");
                }
            }
        }
    }
}
