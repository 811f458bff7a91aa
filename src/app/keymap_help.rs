//! The help overlay's and the README's view of the key table: sections by scope, the line a
//! section starts at, the Markdown table. Part of [`super`] (the one keymap).

use super::{KEYMAP, SECTIONS, Section};

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

/// [`help_sections`] for one kind of screen.
pub fn help_sections_for(scope: HelpScope) -> Vec<HelpSection> {
    SECTIONS
        .iter()
        .filter(|(section, _)| section.in_scope(scope))
        .map(|&(section, title)| HelpSection {
            title,
            rows: if section == Section::Slash {
                crate::app::slash::SLASH_COMMANDS
                    .iter()
                    .map(|(k, a)| (k.to_string(), *a))
                    .collect()
            } else {
                KEYMAP
                    .iter()
                    .filter(|b| b.section == section)
                    .map(|b| (b.keys_label(), b.help))
                    .collect()
            },
        })
        .collect()
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
