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
            ("Ctrl-C, Ctrl-Q", "quit (closes every connection with 1000)"),
            (
                "Ctrl-T",
                "open another session (its own chat, monitor, recording)",
            ),
            ("Alt-←, Alt-→", "previous / next session"),
            ("F1", "show / hide this help"),
            ("F2, Alt-2", "chat view"),
            ("F3, Alt-3", "monitor view (every frame, handshake, stats)"),
            (
                "Ctrl-P",
                "command palette: snippets, commands, connect @profile",
            ),
            (
                "F5 … F12",
                "send snippet 1–8 of the config file (when logged in)",
            ),
            ("F4", "copy the last message shown / the selected frame"),
            ("Esc", "close this help, dismiss a notice"),
            ("Esc, Ctrl-X", "while reconnecting: stop trying"),
            ("Tab, Shift-Tab", "next / previous field"),
            ("Ctrl-R, F6 (login pane)", "show / hide the password"),
            ("PgUp, PgDn", "scroll the history by a page"),
            ("Home, End", "history top / bottom (End follows)"),
            ("Mouse wheel", "scroll the history"),
            (
                "Mouse click",
                "focus a login field or the input; select a monitor row",
            ),
            ("Paste", "insert into the focused field"),
        ],
    },
    KeySection {
        title: "Login pane",
        keys: &[
            ("Enter", "connect and log in (after a rejection: retry)"),
            ("↑, ↓", "previous / next field"),
            (
                "←, →, Space",
                "next profile (on Profile) / auth method (on Auth)",
            ),
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
    KeySection {
        title: "Slash commands (message input)",
        keys: super::slash::SLASH_COMMANDS,
    },
    KeySection {
        title: "Command palette (Ctrl-P)",
        keys: &[
            ("letters", "narrow the list (fuzzy: the letters in order)"),
            ("↑, ↓, Tab, Shift-Tab", "select"),
            ("Enter", "run the selected entry"),
            ("Esc, Ctrl-P", "close"),
        ],
    },
    KeySection {
        title: "Monitor view (F3)",
        keys: &[
            ("j, k, ↓, ↑", "select the next / previous frame"),
            ("PgDn, PgUp", "select a page down / up"),
            ("Home, End", "first frame / newest frame (End follows)"),
            ("Mouse wheel", "move the selection"),
            ("Space", "pause / resume the display (frames are kept)"),
            ("y", "copy the selected frame (text; hex for binary)"),
            ("x", "hex dump of the selected frame on / off"),
            ("h", "handshake panel: request and response heads"),
            ("J, K, Shift-PgDn/PgUp", "scroll the detail pane"),
            ("/", "filter the frames (syntax below)"),
            ("Esc", "close the handshake panel / clear the filter"),
            ("p", "send a ping now (RTT shows in the stats)"),
            ("r", "record to wsdeck-DATE-TIME.jsonl / stop"),
            ("e", "export frames to wsdeck-DATE-TIME.har"),
        ],
    },
    KeySection {
        title: "Monitor filter (/): all terms must match",
        keys: &[
            ("word", "payload contains it, any case unless capitals"),
            ("\"two words\"", "payload contains the quoted text"),
            (
                "re:PATTERN, /PATTERN/",
                "payload matches the regex (case-sensitive)",
            ),
            ("dir:in, dir:out", "received / sent (also receive, send)"),
            (
                "op:text, op:close, …",
                "opcode: text binary ping pong close",
            ),
            ("op:ping,pong", "either opcode; op:data, op:control too"),
            ("Enter, Esc", "apply the filter / clear it"),
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
