//! The one key table: the help overlay draws it and the README mirrors it.

/// A group of key bindings.
pub struct KeySection {
    pub title: &'static str,
    /// (keys, action)
    pub keys: &'static [(&'static str, &'static str)],
}

pub const KEY_TABLE: &[KeySection] = &[
    KeySection {
        title: "Anywhere",
        keys: &[
            ("Ctrl-C, Ctrl-Q", "quit (closes the connection with 1000)"),
            ("F1", "show / hide this help"),
            ("Esc", "close this help, dismiss a notice"),
            ("Tab, Shift-Tab", "next / previous field"),
            ("F6, Ctrl-R", "show / hide the password"),
            ("PgUp, PgDn", "scroll the history by a page"),
            ("Home, End", "history top / bottom (End follows)"),
            ("Mouse wheel", "scroll the history"),
            ("Paste", "insert into the focused field"),
        ],
    },
    KeySection {
        title: "Login pane",
        keys: &[
            ("Enter", "connect and log in (after a rejection: retry)"),
            ("↑, ↓", "previous / next field"),
            ("←, →, Space", "change the auth method (on Auth)"),
        ],
    },
    KeySection {
        title: "Message input (and login fields)",
        keys: &[
            ("Enter", "send the line (when logged in)"),
            ("↑, ↓", "recall earlier sent lines"),
            ("Ctrl-A, Ctrl-E", "start / end of the line"),
            ("←, →, Ctrl-B, Ctrl-F", "back / forward a character"),
            ("Alt-B, Alt-F, Ctrl-←/→", "back / forward a word"),
            ("Backspace, Ctrl-H, Delete", "delete a character"),
            ("Ctrl-W, Alt-Backspace", "delete the word before the cursor"),
            ("Ctrl-Delete", "delete the word after the cursor"),
            ("Ctrl-K", "delete to the end of the line"),
            ("Ctrl-U", "delete the whole line"),
            ("Ctrl-Y", "paste what was deleted last"),
        ],
    },
];

/// The key table as Markdown (for the README).
pub fn key_table_markdown() -> String {
    let mut s = String::new();
    for sec in KEY_TABLE {
        s.push_str(&format!(
            "**{}**\n\n| Keys | Action |\n|---|---|\n",
            sec.title
        ));
        for (k, a) in sec.keys {
            s.push_str(&format!("| {k} | {a} |\n"));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_lists_every_binding() {
        let md = key_table_markdown();
        for sec in KEY_TABLE {
            assert!(md.contains(sec.title));
            for (k, a) in sec.keys {
                assert!(md.contains(&format!("| {k} | {a} |")));
            }
        }
    }
}
