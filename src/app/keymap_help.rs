//! The help overlay's and the README's view of the key table: sections by scope, the line a
//! section starts at, the Markdown table. Part of [`super`] (the one keymap).

use crossterm::event::KeyEvent;

use super::{Binding, KEYMAP, PROXY_STACKS, SECTIONS, Section, resolve};

/// One group of the help overlay: its title and rows (keys, what they do).
#[derive(Debug, Clone)]
pub struct HelpSection {
    pub title: &'static str,
    pub rows: Vec<(String, &'static str)>,
}

/// Which sections a help overlay lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpScope {
    /// Every section (the README).
    All,
    /// wsdeck's own sessions: no proxy sections.
    Client,
    /// `wsdeck proxy`: the proxy's sections, the monitor's and line editing.
    Proxy,
}

impl Section {
    fn in_scope(self, scope: HelpScope) -> bool {
        let proxy = matches!(self, Section::Proxy | Section::Relayed | Section::RelayLine);
        match scope {
            HelpScope::All => true,
            HelpScope::Client => !proxy,
            HelpScope::Proxy => {
                proxy
                    || matches!(
                        self,
                        Section::Anywhere
                            | Section::Monitor
                            | Section::Filter
                            | Section::MessageInput
                    )
            }
        }
    }
}

/// The help overlay's contents: the listed bindings by section, and the slash commands.
pub fn help_sections() -> Vec<HelpSection> {
    help_sections_for(HelpScope::All)
}

/// [`help_sections`] for one kind of screen. The proxy's help starts with the proxy's own
/// sections and lists only the keys that do what their row says on one of its screens.
pub fn help_sections_for(scope: HelpScope) -> Vec<HelpSection> {
    let mut sections: Vec<(Section, &'static str)> = SECTIONS
        .iter()
        .copied()
        .filter(|(section, _)| section.in_scope(scope))
        .collect();
    if scope == HelpScope::Proxy {
        // The proxy's screens first, then what they share with wsdeck's monitor.
        sections.sort_by_key(|(s, _)| match s {
            Section::Proxy | Section::Relayed | Section::RelayLine => 0,
            Section::MessageInput => 2,
            _ => 1,
        });
    }
    sections
        .into_iter()
        .map(|(section, title)| HelpSection {
            title: match (scope, section) {
                (HelpScope::Proxy, Section::MessageInput) => {
                    "Line editing (inject / edit line, filter, rule)"
                }
                _ => title,
            },
            rows: if section == Section::Slash {
                crate::app::slash::SLASH_COMMANDS
                    .iter()
                    .map(|(k, a)| (k.to_string(), *a))
                    .collect()
            } else {
                KEYMAP
                    .iter()
                    .filter(|b| b.section == section)
                    .filter_map(|b| match scope {
                        HelpScope::Proxy => in_proxy(b),
                        HelpScope::Client if proxy_only(b) => None,
                        _ => Some(b.clone()),
                    })
                    .map(|b| (b.keys_label(), b.help))
                    .collect()
            },
        })
        .filter(|sec| !sec.rows.is_empty())
        .collect()
}

/// A row only the proxy's screens have (its contexts are all the proxy's own), in a section
/// wsdeck's own help lists too (the filter's `dir:client, dir:server`).
fn proxy_only(b: &Binding) -> bool {
    use super::Context as C;
    !b.contexts.is_empty()
        && b.contexts
            .iter()
            .all(|c| matches!(c, C::Proxy | C::Relayed | C::RelayLine | C::RuleLine))
}

/// `b` as the proxy's help lists it: only its keys that, on one of the proxy's screens,
/// resolve to what the row says and are not refused there (`None`: no such key). A text
/// row is listed when it is about one of those screens.
fn in_proxy(b: &Binding) -> Option<Binding> {
    let on_screen = |stack: &[super::Context]| stack.iter().any(|c| b.contexts.contains(c));
    if b.keys.is_empty() {
        return PROXY_STACKS
            .iter()
            .any(|stack| on_screen(stack))
            .then(|| b.clone());
    }
    let keys: Vec<_> = b
        .keys
        .iter()
        .filter(|(k, a)| {
            a.needs_own_session().is_none()
                && PROXY_STACKS.iter().any(|stack| {
                    on_screen(stack)
                        && resolve(stack, &KeyEvent::new(k.code, k.mods)).as_ref() == Some(a)
                })
        })
        .cloned()
        .collect();
    (!keys.is_empty()).then(|| Binding {
        keys,
        hint: 0,
        ..b.clone()
    })
}

/// The line of the help overlay where `section`'s title is (the overlay draws each section
/// as its title and rows, a blank line between sections).
pub fn help_line(section: Section) -> u16 {
    let title = SECTIONS
        .iter()
        .find(|(s, _)| *s == section)
        .map(|(_, t)| *t);
    let mut line = 0usize;
    for (i, sec) in help_sections().iter().enumerate() {
        if i > 0 {
            line += 1;
        }
        if Some(sec.title) == title {
            break;
        }
        line += 1 + sec.rows.len();
    }
    line.min(u16::MAX.into()) as u16
}

/// The key table as Markdown (for the README).
pub fn key_table_markdown() -> String {
    let mut s = String::new();
    for sec in help_sections() {
        s.push_str(&format!(
            "**{}**\n\n| Keys | Action |\n|---|---|\n",
            sec.title
        ));
        // A `|` inside a cell would end it: Markdown tables take `\|`.
        let cell = |t: &str| t.replace('|', "\\|");
        for (k, a) in &sec.rows {
            s.push_str(&format!("| {} | {} |\n", cell(k), cell(a)));
        }
        s.push('\n');
    }
    s
}
