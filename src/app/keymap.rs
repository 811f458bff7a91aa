//! The one key table: every binding is a key (or several), the [`Action`] it resolves to, the
//! contexts it works in and its help text. Key handling looks keys up here; the help overlay,
//! the README key table and the palette's key hints are generated from it; key names are
//! written once, in [`Key::name`].

use std::sync::LazyLock;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Context, EditOp};

/// A key with its modifiers, as bindings name it. Letters carry their case, so Shift is not
/// part of a letter's key (`J` is Shift-j).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

pub const fn key(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}
pub const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}
pub const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}
pub const fn alt(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::ALT,
    }
}
pub const fn with_ctrl(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::CONTROL,
    }
}
pub const fn shift(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::SHIFT,
    }
}

impl Key {
    /// The key of a key event: Shift dropped where the key itself carries it (letters,
    /// Shift-Tab), other modifiers kept.
    pub fn of(k: &KeyEvent) -> Key {
        let mut mods = k.modifiers
            & (KeyModifiers::CONTROL
                | KeyModifiers::ALT
                | KeyModifiers::SHIFT
                | KeyModifiers::SUPER);
        if matches!(k.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code: k.code, mods }
    }

    /// How the help, the README and hints name this key ("Ctrl-C", "Alt-←", "PgDn", "j").
    pub fn name(&self) -> String {
        let mut s = String::new();
        for (m, n) in [
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
            (KeyModifiers::SUPER, "Super-"),
            (KeyModifiers::SHIFT, "Shift-"),
        ] {
            if self.mods.contains(m) {
                s.push_str(n);
            }
        }
        s.push_str(&code_name(self.code, !self.mods.is_empty()));
        s
    }
}

/// A key's own name; letters after a modifier are written in capitals ("Ctrl-C").
fn code_name(code: KeyCode, modified: bool) -> String {
    match code {
        KeyCode::Char(' ') => "Space".into(),
        KeyCode::Char(c) if modified => c.to_uppercase().collect(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Delete => "Delete".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Tab => "Tab".into(),
        other => format!("{other:?}"),
    }
}

/// The group a binding is listed under in the help and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Anywhere,
    LoginPane,
    MessageInput,
    Palette,
    Monitor,
    Filter,
    /// `wsdeck proxy`: the connection list.
    Proxy,
    /// `wsdeck proxy`: a connection's monitor.
    Relayed,
    /// `wsdeck proxy`: the inject / edit line.
    RelayLine,
    /// From `slash::SLASH_COMMANDS`, not from key bindings.
    Slash,
    /// Not listed: another row already says it (help scrolling, palette's Ctrl-J/K…).
    Unlisted,
}

/// The help's groups in order; slash commands come from `slash::SLASH_COMMANDS`.
const SECTIONS: &[(Section, &str)] = &[
    (Section::Anywhere, "Anywhere"),
    (Section::LoginPane, "Login pane"),
    (Section::MessageInput, "Message input (and login fields)"),
    (Section::Slash, "Slash commands (message input)"),
    (Section::Palette, "Command palette (Ctrl-P)"),
    (Section::Monitor, "Monitor view (F3)"),
    (Section::Filter, "Monitor filter (/): all terms must match"),
    (Section::Proxy, "Proxy: connection list (wsdeck proxy)"),
    (Section::Relayed, "Proxy: a connection (its monitor, plus)"),
    (Section::RelayLine, "Proxy: the inject / edit line"),
];

/// How a binding's keys are written in its help row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Every key, comma-separated: "Ctrl-C, Ctrl-Q".
    Keys,
    /// Like `Keys`, but non-letter keys in a row with the same modifiers share them:
    /// "Shift-PgDn/PgUp".
    Compact,
    /// The first and last key: "F5 … F12".
    Span,
    /// `Keys` and a note: "Ctrl-R, F6 (login pane)".
    Note(&'static str),
    /// Not keys (a mouse gesture, filter syntax): this text, and no keys.
    Text(&'static str),
}

/// One row of the key table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub section: Section,
    /// Each key and what it does.
    pub keys: Vec<(Key, Action)>,
    /// Where the keys work (a text row: where what it says works, for the help).
    pub contexts: &'static [Context],
    pub label: Label,
    pub help: &'static str,
    /// Which key hints (the palette) name: an index into `keys`.
    pub hint: usize,
}

fn bind(
    section: Section,
    contexts: &'static [Context],
    keys: Vec<(Key, Action)>,
    help: &'static str,
) -> Binding {
    Binding {
        section,
        keys,
        contexts,
        label: Label::Keys,
        help,
        hint: 0,
    }
}

/// A help row that is no key ("Mouse wheel", filter syntax), for the help of the screens
/// with `contexts`.
fn text(
    section: Section,
    contexts: &'static [Context],
    label: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        section,
        keys: Vec::new(),
        contexts,
        label: Label::Text(label),
        help,
        hint: 0,
    }
}

impl Binding {
    fn label(mut self, l: Label) -> Binding {
        self.label = l;
        self
    }
    fn hint(mut self, i: usize) -> Binding {
        self.hint = i;
        self
    }

    /// The keys as the help row writes them.
    pub fn keys_label(&self) -> String {
        let names: Vec<String> = self.keys.iter().map(|(k, _)| k.name()).collect();
        match self.label {
            Label::Text(t) => t.to_string(),
            Label::Keys => names.join(", "),
            Label::Note(n) => format!("{}{n}", names.join(", ")),
            Label::Span => match (names.first(), names.last()) {
                (Some(a), Some(b)) => format!("{a} … {b}"),
                _ => String::new(),
            },
            Label::Compact => {
                let mut parts: Vec<String> = Vec::new();
                let mut prev: Option<Key> = None;
                for (k, _) in &self.keys {
                    let shares = prev.is_some_and(|p| {
                        p.mods == k.mods
                            && !k.mods.is_empty()
                            && !matches!(p.code, KeyCode::Char(_))
                            && !matches!(k.code, KeyCode::Char(_))
                    });
                    match parts.last_mut() {
                        Some(last) if shares => {
                            last.push('/');
                            last.push_str(&code_name(k.code, true));
                        }
                        _ => parts.push(k.name()),
                    }
                    prev = Some(*k);
                }
                parts.join(", ")
            }
        }
    }
}

/// The key table, in the order the help lists it.
pub static KEYMAP: LazyLock<Vec<Binding>> = LazyLock::new(keymap);

// Over 100 lines on purpose: one table (a binding per entry), read top to bottom like the
// help it generates; splitting it would scatter the help's sections.
#[allow(clippy::too_many_lines)]
fn keymap() -> Vec<Binding> {
    use Action as A;
    use Context as C;
    use EditOp as E;
    use KeyCode as K;
    use Section as S;
    const FIELDS: &[Context] = &[C::Login, C::Choice, C::Chat];
    // wsdeck's own sessions only: a relayed connection has no tabs, login, chat or snippets.
    const CLIENT: &[Context] = &[C::Client];
    const LOGIN: &[Context] = &[C::Login, C::Choice];
    const TEXT: &[Context] = &[C::Login, C::Chat, C::Filter, C::RelayLine, C::RuleLine];
    // The palette's query edits like any text field.
    const TEXT_AND_PALETTE: &[Context] = &[
        C::Login,
        C::Chat,
        C::Filter,
        C::Palette,
        C::RelayLine,
        C::RuleLine,
    ];
    let edit = |keys: &[(Key, EditOp)], help| {
        bind(
            S::MessageInput,
            TEXT_AND_PALETTE,
            keys.iter().map(|(k, op)| (*k, A::Edit(*op))).collect(),
            help,
        )
    };
    vec![
        // ---- anywhere ----
        bind(
            S::Anywhere,
            &[C::Global, C::Help, C::Palette],
            vec![(ctrl('c'), A::Quit), (ctrl('q'), A::Quit)],
            "quit (closes every connection with 1000)",
        )
        .hint(1),
        bind(
            S::Anywhere,
            CLIENT,
            vec![(ctrl('t'), A::NewSession)],
            "open another session (its own chat, monitor, recording)",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            vec![
                (alt(K::Left), A::PrevSession),
                (alt(K::Right), A::NextSession),
            ],
            "previous / next session",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            (1..=9u8)
                .map(|n| (alt(K::Char((b'0' + n) as char)), A::GoToSession(n.into())))
                .collect(),
            "show session 1–9 of the tab bar",
        )
        .label(Label::Span),
        bind(
            S::Anywhere,
            CLIENT,
            vec![(alt(K::Char('w')), A::CloseSession)],
            "close this session (Close 1000) and its tab",
        ),
        bind(
            S::Anywhere,
            &[C::Global, C::Help],
            vec![(key(K::F(1)), A::ToggleHelp)],
            "show / hide this help",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            vec![(key(K::F(2)), A::ChatView)],
            "chat view",
        ),
        bind(
            S::Anywhere,
            &[C::Global],
            vec![(key(K::F(3)), A::MonitorView)],
            "monitor view (every frame, handshake, stats)",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            vec![(ctrl('l'), A::ToggleLoginPane)],
            "show / fold the login pane (one line once logged in)",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            vec![(ctrl('p'), A::OpenPalette)],
            "command palette: snippets, commands, connect @profile",
        ),
        bind(
            S::Anywhere,
            CLIENT,
            (0..8u8)
                .map(|i| (key(K::F(5 + i)), A::Snippet(i.into())))
                .collect(),
            "send snippet 1–8 of the config file (when logged in)",
        )
        .label(Label::Span),
        bind(
            S::Anywhere,
            &[C::Global],
            vec![(key(K::F(4)), A::Copy)],
            "copy the last message shown / the selected frame",
        ),
        bind(
            S::Anywhere,
            &[C::Help],
            vec![(key(K::Esc), A::CloseHelp)],
            "close this help, dismiss a notice",
        ),
        bind(
            S::Anywhere,
            &[C::Reconnecting],
            vec![
                (key(K::Esc), A::CancelReconnect),
                (ctrl('x'), A::CancelReconnect),
            ],
            "while reconnecting: stop trying",
        ),
        bind(
            S::Anywhere,
            FIELDS,
            vec![(key(K::Tab), A::NextField), (key(K::BackTab), A::PrevField)],
            "next / previous field",
        ),
        bind(
            S::Anywhere,
            LOGIN,
            vec![(ctrl('r'), A::Reveal), (key(K::F(6)), A::Reveal)],
            "show / hide the password",
        )
        .label(Label::Note(" (login pane)")),
        bind(
            S::Anywhere,
            FIELDS,
            vec![
                (key(K::PageUp), A::HistoryPage(-1)),
                (key(K::PageDown), A::HistoryPage(1)),
            ],
            "scroll the history by a page",
        ),
        bind(
            S::Anywhere,
            FIELDS,
            vec![
                (key(K::Home), A::HistoryTop),
                (key(K::End), A::HistoryBottom),
            ],
            "history top / bottom (End follows)",
        ),
        // The mouse is wsdeck's own sessions' (the proxy takes keys only).
        text(S::Anywhere, CLIENT, "Mouse wheel", "scroll the history"),
        text(
            S::Anywhere,
            CLIENT,
            "Mouse click",
            "focus a login field or the input; select a monitor row",
        ),
        text(
            S::Anywhere,
            TEXT_AND_PALETTE,
            "Paste",
            "insert into the focused field",
        ),
        // The message input shows the password too (its F6 sends a snippet).
        bind(
            S::Unlisted,
            &[C::Chat],
            vec![(ctrl('r'), A::Reveal)],
            "show / hide the password",
        ),
        // Inside the help overlay (its footer names them).
        bind(
            S::Unlisted,
            &[C::Help],
            vec![
                (ch('q'), A::CloseHelp),
                (ch('?'), A::CloseHelp),
                (key(K::Up), A::HelpScroll(-1)),
                (ch('k'), A::HelpScroll(-1)),
                (key(K::Down), A::HelpScroll(1)),
                (ch('j'), A::HelpScroll(1)),
                (key(K::PageUp), A::HelpScroll(-10)),
                (key(K::PageDown), A::HelpScroll(10)),
                (key(K::Home), A::HelpTop),
                (key(K::End), A::HelpBottom),
            ],
            "scroll the help, close it",
        ),
        // ---- login pane ----
        bind(
            S::LoginPane,
            LOGIN,
            vec![(key(K::Enter), A::Connect)],
            "connect and log in (after a rejection: retry)",
        ),
        bind(
            S::LoginPane,
            LOGIN,
            vec![(key(K::Up), A::FieldUp), (key(K::Down), A::FieldDown)],
            "previous / next field",
        ),
        bind(
            S::LoginPane,
            &[C::Choice],
            vec![
                (key(K::Left), A::ChoicePrev),
                (key(K::Right), A::ChoiceNext),
                (ch(' '), A::ChoiceNext),
            ],
            "next profile (on Profile) / auth method (on Auth)",
        ),
        // ---- message input ----
        bind(
            S::MessageInput,
            &[C::Chat],
            vec![(key(K::Enter), A::SubmitLine)],
            "send the line (when logged in)",
        ),
        bind(
            S::MessageInput,
            &[C::Chat],
            vec![(key(K::Up), A::RecallOlder), (key(K::Down), A::RecallNewer)],
            "recall earlier sent lines",
        ),
        edit(
            &[(ctrl('a'), E::Start), (ctrl('e'), E::End)],
            "start / end of the line",
        ),
        edit(
            &[
                (key(K::Left), E::PrevChar),
                (key(K::Right), E::NextChar),
                (ctrl('b'), E::PrevChar),
                (ctrl('f'), E::NextChar),
            ],
            "back / forward a character",
        ),
        edit(
            &[
                (alt(K::Char('b')), E::PrevWord),
                (alt(K::Char('f')), E::NextWord),
                (with_ctrl(K::Left), E::PrevWord),
                (with_ctrl(K::Right), E::NextWord),
            ],
            "back / forward a word",
        )
        .label(Label::Compact),
        edit(
            &[
                (key(K::Backspace), E::DeletePrev),
                (ctrl('h'), E::DeletePrev),
                (key(K::Delete), E::DeleteNext),
            ],
            "delete a character",
        ),
        edit(
            &[
                (ctrl('w'), E::DeletePrevWord),
                (alt(K::Backspace), E::DeletePrevWord),
            ],
            "delete the word before the cursor",
        ),
        edit(
            &[(with_ctrl(K::Delete), E::DeleteNextWord)],
            "delete the word after the cursor",
        ),
        // Not in the palette, where Ctrl-K moves the selection.
        bind(
            S::MessageInput,
            TEXT,
            vec![(ctrl('k'), A::Edit(E::DeleteToEnd))],
            "delete to the end of the line",
        ),
        edit(&[(ctrl('u'), E::DeleteLine)], "delete the whole line"),
        edit(&[(ctrl('y'), E::Yank)], "paste what was deleted last"),
        // ---- palette ----
        text(
            S::Palette,
            &[C::Palette],
            "letters",
            "narrow the list (fuzzy: the letters in order)",
        ),
        bind(
            S::Palette,
            &[C::Palette],
            vec![
                (key(K::Up), A::PaletteMove(-1)),
                (key(K::Down), A::PaletteMove(1)),
                (key(K::Tab), A::PaletteMove(1)),
                (key(K::BackTab), A::PaletteMove(-1)),
            ],
            "select",
        ),
        bind(
            S::Palette,
            &[C::Palette],
            vec![(key(K::Enter), A::PaletteRun)],
            "run the selected entry",
        ),
        bind(
            S::Palette,
            &[C::Palette],
            vec![(key(K::Esc), A::ClosePalette), (ctrl('p'), A::ClosePalette)],
            "close",
        ),
        bind(
            S::Unlisted,
            &[C::Palette],
            vec![
                (ctrl('k'), A::PaletteMove(-1)),
                (ctrl('j'), A::PaletteMove(1)),
                (ctrl('n'), A::PaletteMove(1)),
                (key(K::PageUp), A::PaletteMove(-8)),
                (key(K::PageDown), A::PaletteMove(8)),
            ],
            "select (Emacs and paging keys)",
        ),
        // ---- monitor ----
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![
                (ch('j'), A::MoveSelection(1)),
                (ch('k'), A::MoveSelection(-1)),
                (key(K::Down), A::MoveSelection(1)),
                (key(K::Up), A::MoveSelection(-1)),
            ],
            "select the next / previous frame",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![
                (key(K::PageDown), A::SelectPage(1)),
                (key(K::PageUp), A::SelectPage(-1)),
            ],
            "select a page down / up",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(key(K::Home), A::SelectFirst), (key(K::End), A::Follow)],
            "first frame / newest frame (End follows)",
        ),
        text(S::Monitor, CLIENT, "Mouse wheel", "move the selection"),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch(' '), A::TogglePause)],
            "pause / resume the display (frames are kept)",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('y'), A::Copy)],
            "copy the selected frame (text; hex for binary)",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('x'), A::ToggleHex)],
            "hex dump of the selected frame on / off",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('v'), A::CycleDecoder)],
            "decode: MessagePack, CBOR, protobuf, MQTT; base64 in JSON, socket.io",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('z'), A::ToggleFold), (ch('Z'), A::UnfoldAll)],
            "fold / unfold the JSON or decoded block (Z: all)",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('h'), A::ToggleHandshake)],
            "handshake panel: request and response heads",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('f'), A::ToggleFrames), (ch('l'), A::ToggleFrames)],
            "list the frames a message came in (×N in its row) under it / fold them",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![
                (ch('J'), A::ScrollDetail(1)),
                (ch('K'), A::ScrollDetail(-1)),
                (shift(K::PageDown), A::DetailPage(1)),
                (shift(K::PageUp), A::DetailPage(-1)),
            ],
            "scroll the detail pane",
        )
        .label(Label::Compact),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('/'), A::OpenFilter)],
            "filter the frames (syntax below)",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(key(K::Esc), A::MonitorBack)],
            "close the handshake panel / clear the filter",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('p'), A::Ping)],
            "send a ping now (RTT shows in the stats)",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('r'), A::ToggleRecord)],
            "record to wsdeck-DATE-TIME.jsonl / stop",
        ),
        bind(
            S::Monitor,
            &[C::Monitor],
            vec![(ch('e'), A::ExportHar(None))],
            "export frames to wsdeck-DATE-TIME.har",
        ),
        // ---- filter ----
        text(
            S::Filter,
            &[C::Filter],
            "word",
            "payload contains it, any case unless capitals",
        ),
        text(
            S::Filter,
            &[C::Filter],
            "\"two words\"",
            "payload contains the quoted text",
        ),
        text(
            S::Filter,
            &[C::Filter],
            "/PATTERN/",
            "payload matches the regex (case-sensitive; spaces are part of it)",
        ),
        text(
            S::Filter,
            &[C::Filter],
            "re:PATTERN",
            "the same, up to the next dir:, op: or re: term",
        ),
        // Direction: as wsdeck's own sessions say it (their filter line is typed with
        // `Context::Client` in the stack), and by the peer that sent it on the proxy's
        // screens (a relayed connection's filter, the intercept rule): each help lists its
        // own (see `keymap_help.rs`), the README both.
        text(
            S::Filter,
            &[C::Client],
            "dir:in, dir:out",
            "received / sent (also receive, send)",
        ),
        text(
            S::Filter,
            &[C::Relayed, C::RuleLine],
            "dir:client, dir:server",
            "sent by the client / by the server (in the proxy; also c2s, s2c)",
        ),
        text(
            S::Filter,
            &[C::Filter],
            "op:text, op:close, …",
            "opcode: text binary ping pong close",
        ),
        text(
            S::Filter,
            &[C::Filter],
            "op:ping,pong",
            "either opcode; op:data, op:control too",
        ),
        bind(
            S::Filter,
            &[C::Filter],
            vec![
                (key(K::Enter), A::ApplyFilter),
                (key(K::Esc), A::ClearFilter),
            ],
            "done (it filters as you type) / clear the filter",
        ),
    ]
    .into_iter()
    .chain(proxy::bindings())
    .collect()
}

/// The action `k` resolves to in the active contexts (outermost first): the first binding
/// found, trying the key without Shift when Shift-key is bound nowhere; else what the
/// focused context does with unbound keys (a text field takes them as typing).
pub fn resolve(stack: &[Context], k: &KeyEvent) -> Option<Action> {
    let key = Key::of(k);
    let find = |key: Key| {
        stack.iter().find_map(|ctx| {
            KEYMAP
                .iter()
                .filter(|b| b.contexts.contains(ctx))
                .find_map(|b| b.keys.iter().find(|(bk, _)| *bk == key))
                .map(|(_, a)| a.clone())
        })
    };
    let mut plain = key;
    plain.mods.remove(KeyModifiers::SHIFT);
    find(key)
        .or_else(|| (plain != key).then(|| find(plain)).flatten())
        .or_else(|| stack.iter().find_map(|c| c.fallback()))
}

/// The key that does `action` in `ctx`, as hints name it ("F4", "Ctrl-Q").
pub fn key_for(ctx: Context, action: &Action) -> Option<String> {
    KEYMAP
        .iter()
        .filter(|b| b.contexts.contains(&ctx))
        .find_map(|b| {
            let preferred = b.keys.get(b.hint).filter(|(_, a)| a == action);
            preferred
                .or_else(|| b.keys.iter().find(|(_, a)| a == action))
                .map(|(k, _)| k.name())
        })
}

#[path = "keymap_help.rs"]
mod help;
pub use help::{
    HelpScope, HelpSection, help_line, help_sections, help_sections_for, key_table_markdown,
};

#[path = "keymap_proxy.rs"]
mod proxy;
pub use proxy::{HELP, LIST, PROXY_STACKS, RELAY_LINE, RELAYED, RELAYED_FILTER, RULE_LINE};

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
