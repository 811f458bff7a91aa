//! The one vocabulary of things a user can ask for. Keys (through [`super::keymap`]), palette
//! entries and slash commands all become an [`Action`]; `App::apply` carries it out in one
//! place, where the guards live (an action a read-only source cannot do is refused there).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{App, Command, Focus, NoteLevel, View};
use crate::model::NetCommand;

/// Where a key press lands: the keymap binds keys per context, and the app looks them up in
/// the contexts active at that moment (innermost last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// Everywhere except inside the help overlay and the palette.
    Global,
    /// Everywhere in wsdeck's own client sessions (not in the proxy's list or a relayed
    /// connection): their tabs, login pane, chat view, palette and snippets.
    Client,
    /// While the network task is reconnecting (takes Esc before anything else).
    Reconnecting,
    /// A text field of the login pane (URL, user, password).
    Login,
    /// A choice field of the login pane (Profile, Auth): ←/→ pick.
    Choice,
    /// The message input under the chat history.
    Chat,
    /// The monitor view (F3).
    Monitor,
    /// The monitor's filter line while it is typed.
    Filter,
    /// The command palette while open.
    Palette,
    /// The help overlay while open.
    Help,
    /// The proxy's connection list.
    Proxy,
    /// The monitor of a connection relayed by the proxy (before the monitor's own keys).
    Relayed,
    /// The line that injects a message into a relayed connection or edits a held one.
    RelayLine,
    /// The proxy's intercept rule while it is typed.
    RuleLine,
}

impl Context {
    /// What a key bound to nothing does here: text contexts take it as typing.
    pub fn fallback(self) -> Option<Action> {
        match self {
            Context::Login
            | Context::Chat
            | Context::Filter
            | Context::Palette
            | Context::RelayLine
            | Context::RuleLine => Some(Action::Edit(EditOp::Type)),
            _ => None,
        }
    }
}

/// What an editing key does to the focused single-line field. The keymap names the op for
/// each key, so Alt-B is a word back however the terminal spells Alt (ESC prefix or Meta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EditOp {
    /// A key bound to nothing: a character is typed in, anything else does nothing.
    Type,
    Start,
    End,
    PrevChar,
    NextChar,
    PrevWord,
    NextWord,
    DeletePrev,
    DeleteNext,
    DeletePrevWord,
    DeleteNextWord,
    DeleteToEnd,
    DeleteLine,
    /// Paste what was deleted last.
    Yank,
}

/// Everything a key, a palette entry or a slash command can ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Close every connection (1000) and leave.
    Quit,
    /// Open another session tab (the runtime's business).
    NewSession,
    NextSession,
    PrevSession,
    /// Show session number N (from 1) of the tab bar.
    GoToSession(usize),
    /// Close the shown session (Close 1000) and its tab.
    CloseSession,
    /// Fold the login pane to its one-line summary, or unfold it (it folds by itself once
    /// logged in).
    ToggleLoginPane,
    /// Show or hide the help overlay.
    ToggleHelp,
    /// Open the help overlay at its top.
    Help,
    CloseHelp,
    /// Scroll the help overlay by this many lines.
    HelpScroll(i32),
    HelpTop,
    HelpBottom,
    ChatView,
    MonitorView,
    OpenPalette,
    ClosePalette,
    /// Move the palette's highlight by this many entries.
    PaletteMove(i32),
    /// Run the highlighted palette entry.
    PaletteRun,
    /// Send the session's snippet with this index.
    Snippet(usize),
    /// Copy the selected frame (monitor) or the last message shown (chat).
    Copy,
    /// Stop trying to reconnect.
    CancelReconnect,
    /// An editing key in the focused text field (what it does is the keymap's business).
    Edit(EditOp),
    /// Next / previous login field or input, wrapping around (Tab, Shift-Tab).
    NextField,
    PrevField,
    /// Next / previous field, stopping at the ends (↓, ↑ on the login pane).
    FieldDown,
    FieldUp,
    /// Show or hide the password.
    Reveal,
    /// The next / previous choice of a Profile or Auth field.
    ChoiceNext,
    ChoicePrev,
    /// Connect and log in with the login pane's contents (Enter there).
    Connect,
    /// Fill the login pane from this saved profile and connect.
    ConnectProfile(usize),
    /// Enter in the message input: run the slash command or send the line.
    SubmitLine,
    RecallOlder,
    RecallNewer,
    /// Scroll the chat history by pages / rows (negative: up).
    HistoryPage(i32),
    HistoryScroll(i32),
    HistoryTop,
    HistoryBottom,
    /// Move the monitor's selection by rows / pages (negative: up).
    MoveSelection(i32),
    SelectPage(i32),
    SelectFirst,
    /// Select the newest frame and follow new ones.
    Follow,
    /// Scroll the detail pane by lines / pages.
    ScrollDetail(i32),
    DetailPage(i32),
    TogglePause,
    ToggleHex,
    /// Decode the selected frame with the next decoder (MessagePack, CBOR, protobuf, MQTT;
    /// socket.io, base64 inside JSON), then the automatic view again.
    CycleDecoder,
    /// Fold or unfold the JSON block at the top of the detail pane.
    ToggleFold,
    /// Unfold every JSON block in the detail pane.
    UnfoldAll,
    ToggleHandshake,
    /// List the frames the selected message came in under its row, or fold them back.
    ToggleFrames,
    OpenFilter,
    ApplyFilter,
    ClearFilter,
    /// Esc in the monitor: close the handshake panel, else clear the filter.
    MonitorBack,
    Ping,
    /// Start recording to a dated file, or stop.
    ToggleRecord,
    /// `/record on [FILE]` / `/record off`.
    Record {
        on: bool,
        file: Option<PathBuf>,
    },
    /// Export the frames as HAR to this file (`None`: a dated name).
    ExportHar(Option<PathBuf>),
    /// Send this text frame (a typed line).
    Send(String),
    /// Close the connection with this code and reason.
    Close {
        code: u16,
        reason: String,
    },
    /// Send a file's contents.
    SendFile {
        path: PathBuf,
        #[serde(default, rename = "as")]
        as_: crate::model::SendAs,
    },
    /// Send this binary frame (`/hex`, `/b64`).
    SendBinary(Vec<u8>),
    /// Empty the chat history (the monitor keeps its frames).
    ClearHistory,
    // ---- the proxy ----
    /// Move the connection list's selection by this many rows.
    ConnMove(i32),
    ConnFirst,
    ConnLast,
    /// Show the selected connection's monitor.
    OpenConnection,
    /// Back from a connection's monitor to the list (Esc when nothing else is open).
    ConnectionList,
    /// Take closed connections off the list.
    ClearClosed,
    /// Intercept on (with the last rule, at first every message) or off.
    ToggleIntercept,
    /// Type the intercept rule (the filter's syntax).
    EditIntercept,
    ApplyRule,
    CancelRule,
    /// The oldest held message of this connection: pass it on / never / edit it first.
    ForwardHeld,
    DropHeld,
    EditHeld,
    /// Edit the oldest held message in `$EDITOR`.
    EditHeldExternal,
    /// Pass every held message on (of this connection; in the list: of all).
    ForwardAllHeld,
    /// Type a message to inject into the connection.
    Inject,
    /// The selected message into the inject line, to send it again.
    Resend,
    /// Inject towards the other peer.
    SwapTarget,
    SubmitRelayLine,
    CancelRelayLine,
}

/// The action was not carried out; a notice already says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl Action {
    /// Why this action cannot be done on a read-only source (a recording), if it cannot: the
    /// end of "replay is read-only — …".
    pub fn needs_live_source(&self) -> Option<&'static str> {
        match self {
            Action::Snippet(_)
            | Action::Send(_)
            | Action::Ping
            | Action::Close { .. }
            | Action::SendFile { .. }
            | Action::SendBinary(_) => Some("nothing is sent"),
            Action::Connect | Action::ConnectProfile(_) => Some("there is no connection"),
            Action::ToggleRecord | Action::Record { .. } => Some("there is nothing to record"),
            _ => None,
        }
    }

    /// Why a relayed connection (the proxy's) cannot do this, if it cannot: it belongs to
    /// wsdeck's own client session.
    pub fn needs_own_session(&self) -> Option<&'static str> {
        match self {
            Action::Snippet(_)
            | Action::Send(_)
            | Action::SendFile { .. }
            | Action::SendBinary(_)
            | Action::Close { .. } => Some("m injects a message, R resends the selected one"),
            Action::Connect | Action::ConnectProfile(_) | Action::CancelReconnect => {
                Some("the proxy does not open connections of its own")
            }
            Action::ToggleRecord | Action::Record { .. } => {
                Some("the proxy records every connection: start it with --record FILE")
            }
            _ => None,
        }
    }

    /// Whether a key in `ctx` may be bound to this action (checked by the keymap's tests;
    /// actions with arguments typed by the user come from slash commands only).
    pub fn allowed_in(&self, ctx: Context) -> bool {
        use Action as A;
        use Context as C;
        match self {
            A::Quit => matches!(ctx, C::Global | C::Help | C::Palette),
            A::ToggleHelp => matches!(ctx, C::Global | C::Help),
            A::Help | A::MonitorView => ctx == C::Global,
            A::NewSession
            | A::NextSession
            | A::PrevSession
            | A::GoToSession(_)
            | A::CloseSession
            | A::ChatView
            | A::OpenPalette
            | A::ToggleLoginPane
            | A::Snippet(_) => ctx == C::Client,
            A::Copy => matches!(ctx, C::Global | C::Monitor),
            A::CloseHelp | A::HelpScroll(_) | A::HelpTop | A::HelpBottom => ctx == C::Help,
            A::ClosePalette | A::PaletteMove(_) | A::PaletteRun => ctx == C::Palette,
            A::CancelReconnect => ctx == C::Reconnecting,
            A::Edit(_) => matches!(
                ctx,
                C::Login | C::Chat | C::Filter | C::Palette | C::RelayLine | C::RuleLine
            ),
            A::NextField
            | A::PrevField
            | A::Reveal
            | A::HistoryPage(_)
            | A::HistoryScroll(_)
            | A::HistoryTop
            | A::HistoryBottom => matches!(ctx, C::Login | C::Choice | C::Chat),
            A::FieldDown | A::FieldUp | A::Connect => matches!(ctx, C::Login | C::Choice),
            A::ChoiceNext | A::ChoicePrev => ctx == C::Choice,
            A::SubmitLine | A::RecallOlder | A::RecallNewer => ctx == C::Chat,
            A::MoveSelection(_)
            | A::SelectPage(_)
            | A::SelectFirst
            | A::Follow
            | A::ScrollDetail(_)
            | A::DetailPage(_)
            | A::TogglePause
            | A::ToggleHex
            | A::CycleDecoder
            | A::ToggleFold
            | A::UnfoldAll
            | A::ToggleHandshake
            | A::ToggleFrames
            | A::OpenFilter
            | A::MonitorBack
            | A::Ping
            | A::ToggleRecord
            | A::ExportHar(None) => ctx == C::Monitor,
            A::ApplyFilter | A::ClearFilter => ctx == C::Filter,
            A::ConnMove(_) | A::ConnFirst | A::ConnLast | A::OpenConnection | A::ClearClosed => {
                ctx == C::Proxy
            }
            A::ToggleIntercept | A::EditIntercept | A::ForwardAllHeld => {
                matches!(ctx, C::Proxy | C::Relayed)
            }
            A::ConnectionList
            | A::ForwardHeld
            | A::DropHeld
            | A::EditHeld
            | A::EditHeldExternal
            | A::Inject
            | A::Resend => ctx == C::Relayed,
            A::SwapTarget | A::SubmitRelayLine | A::CancelRelayLine => ctx == C::RelayLine,
            A::ApplyRule | A::CancelRule => ctx == C::RuleLine,
            A::ConnectProfile(_)
            | A::Record { .. }
            | A::ExportHar(Some(_))
            | A::Send(_)
            | A::Close { .. }
            | A::SendFile { .. }
            | A::SendBinary(_)
            | A::ClearHistory => false,
        }
    }
}

impl App {
    /// Carry out `a`: the one place actions are applied and guarded. `Err` when it was
    /// refused (a notice says why), so a typed command stays in the input.
    ///
    /// Longer than 100 lines on purpose: one short arm per action, so that every action's
    /// effect and guard can be read in one match (monitor actions go on to `apply_monitor`).
    pub(super) fn apply(&mut self, a: Action) -> Result<Vec<Command>, Refused> {
        if let Some(why) = a.needs_live_source()
            && self.read_only()
        {
            self.notify(NoteLevel::Warn, format!("replay is read-only — {why}"));
            return Err(Refused);
        }
        if let Some(why) = a.needs_own_session()
            && self.relay.is_some()
        {
            self.notify(
                NoteLevel::Warn,
                format!("this is a relayed connection — {why}"),
            );
            return Err(Refused);
        }
        let done = Ok(Vec::new());
        match a {
            Action::Quit => Ok(vec![Command::Quit]),
            Action::ChatView if self.relay.is_some() => Ok(vec![Command::Back]),
            Action::Ping if self.relay.is_some() => self.relay_ping(),
            Action::ConnectionList => {
                if self.monitor.handshake_panel || self.monitor.filter.is_some() {
                    self.apply_monitor(&Action::MonitorBack);
                    done
                } else {
                    Ok(vec![Command::Back])
                }
            }
            Action::ForwardHeld => self.forward_held(),
            Action::DropHeld => self.drop_held(),
            Action::EditHeld => self.edit_held(),
            Action::EditHeldExternal => self.edit_held_external(),
            Action::ForwardAllHeld => self.forward_all_held(),
            Action::Inject => self.start_inject(),
            Action::Resend => self.resend_selected(),
            Action::SwapTarget => {
                self.swap_target();
                done
            }
            Action::SubmitRelayLine => self.submit_relay_line(),
            Action::CancelRelayLine => {
                self.cancel_line();
                done
            }
            Action::ToggleIntercept => Ok(vec![Command::ToggleIntercept]),
            Action::EditIntercept => Ok(vec![Command::EditIntercept]),
            // The proxy's list and rule line are the router's (`ProxyApp`).
            Action::ConnMove(_)
            | Action::ConnFirst
            | Action::ConnLast
            | Action::OpenConnection
            | Action::ClearClosed
            | Action::ApplyRule
            | Action::CancelRule => done,
            // The runtime takes these keys before the app sees them.
            Action::NewSession
            | Action::NextSession
            | Action::PrevSession
            | Action::GoToSession(_)
            | Action::CloseSession => done,
            Action::ToggleLoginPane => {
                if self.login_folded() {
                    self.login_folded = false;
                } else if self.foldable() {
                    self.login_folded = true;
                    self.focus = Focus::Input;
                } else {
                    self.notify(
                        NoteLevel::Info,
                        "the login pane folds once logged in — it is needed until then",
                    );
                    return Err(Refused);
                }
                self.view = View::Chat;
                done
            }
            Action::ToggleHelp if self.overlays.help => {
                self.overlays.help = false;
                done
            }
            Action::ToggleHelp | Action::Help => {
                self.overlays.help = true;
                // From the filter line (whose hint says "F1 syntax"): at the filter's syntax.
                let filtering = self.view == View::Monitor && self.monitor.edit.is_some();
                self.overlays.help_scroll = if filtering {
                    super::keymap::help_line(super::keymap::Section::Filter)
                } else {
                    0
                };
                done
            }
            Action::CloseHelp => {
                self.overlays.help = false;
                done
            }
            Action::HelpScroll(n) => {
                let max = self.overlays.help_max;
                let s = &mut self.overlays.help_scroll;
                *s = (*s).min(max);
                *s = match u16::try_from(n) {
                    Ok(down) => s.saturating_add(down).min(max),
                    Err(_) => s.saturating_sub(n.unsigned_abs().min(u16::MAX.into()) as u16),
                };
                done
            }
            Action::HelpTop => {
                self.overlays.help_scroll = 0;
                done
            }
            Action::HelpBottom => {
                self.overlays.help_scroll = self.overlays.help_max;
                done
            }
            Action::ChatView => {
                self.view = View::Chat;
                done
            }
            Action::MonitorView => {
                self.view = View::Monitor;
                done
            }
            Action::OpenPalette => {
                self.open_palette();
                done
            }
            Action::ClosePalette => {
                self.overlays.palette = None;
                done
            }
            Action::PaletteMove(n) => {
                if let Some(p) = self.overlays.palette.as_mut() {
                    p.move_by(n as isize);
                }
                done
            }
            Action::PaletteRun => {
                let Some(action) = self
                    .overlays
                    .palette
                    .as_ref()
                    .and_then(|p| p.current())
                    .map(|i| i.action.clone())
                else {
                    self.notify(NoteLevel::Warn, "nothing matches — Esc closes the palette");
                    return Err(Refused);
                };
                self.overlays.palette = None;
                self.apply(action)
            }
            Action::Snippet(i) => Ok(self.send_snippet(i)),
            Action::Copy => Ok(self.copy_current()),
            Action::CancelReconnect => Ok(self.cancel_reconnect()),
            // Key handling passes the key and its op to the field (`App::edit`).
            Action::Edit(_) => done,
            Action::NextField | Action::PrevField => {
                self.move_focus(a == Action::NextField, true);
                done
            }
            Action::FieldDown | Action::FieldUp => {
                self.move_focus(a == Action::FieldDown, false);
                done
            }
            Action::Reveal => {
                self.login.toggle_reveal();
                done
            }
            Action::ChoiceNext | Action::ChoicePrev => {
                let forward = a == Action::ChoiceNext;
                match self.focus {
                    Focus::Profile => self.cycle_profile(forward),
                    Focus::Auth => self.login.cycle_auth(forward),
                    _ => {}
                }
                done
            }
            Action::Connect => Ok(self.submit_login()),
            Action::ConnectProfile(i) => {
                self.view = View::Chat;
                if self.pick_profile(i) {
                    Ok(self.submit_login())
                } else {
                    Err(Refused)
                }
            }
            Action::SubmitLine => self.run_line(),
            Action::RecallOlder => {
                self.chat.input.recall_older();
                done
            }
            Action::RecallNewer => {
                self.chat.input.recall_newer();
                done
            }
            Action::HistoryPage(_)
            | Action::HistoryScroll(_)
            | Action::HistoryTop
            | Action::HistoryBottom => {
                self.scroll_history(&a);
                done
            }
            Action::MoveSelection(_)
            | Action::SelectPage(_)
            | Action::SelectFirst
            | Action::Follow
            | Action::ScrollDetail(_)
            | Action::DetailPage(_)
            | Action::TogglePause
            | Action::ToggleHex
            | Action::ToggleHandshake
            | Action::ToggleFrames
            | Action::OpenFilter
            | Action::ApplyFilter
            | Action::ClearFilter
            | Action::MonitorBack => {
                self.apply_monitor(&a);
                done
            }
            Action::CycleDecoder => {
                if self.monitor.cycle_decoder(&self.source.log).is_none() {
                    self.notify(
                        NoteLevel::Warn,
                        "v decodes a text or binary frame: select one in the table first",
                    );
                }
                done
            }
            Action::ToggleFold => {
                if !self.monitor.toggle_fold() {
                    self.notify(
                        NoteLevel::Warn,
                        "nothing to fold here — z folds a JSON object or array, or a decoded map, array or message",
                    );
                }
                done
            }
            Action::UnfoldAll => {
                self.monitor.unfold_all();
                done
            }
            Action::Ping => self.ping_now(),
            Action::ToggleRecord => Ok(self.toggle_recording()),
            Action::Record { on, file } => self.set_recording(on, file),
            Action::ExportHar(file) => self.export_har(file),
            Action::Send(text) => self.send_text_line(text),
            Action::Close { code, reason } => {
                if self.session.conn().is_open() {
                    Ok(vec![Command::Net(NetCommand::Close { code, reason })])
                } else {
                    self.notify(NoteLevel::Warn, "not connected — nothing to close");
                    Err(Refused)
                }
            }
            Action::SendBinary(bytes) => {
                if self.session.logged_in() {
                    self.notify(
                        NoteLevel::Good,
                        format!("sent {} bytes as a binary frame", bytes.len()),
                    );
                    Ok(vec![Command::Net(NetCommand::SendBinary(bytes))])
                } else {
                    self.notify(
                        NoteLevel::Warn,
                        "not logged in — nothing sent (the line stays here)",
                    );
                    Err(Refused)
                }
            }
            Action::SendFile { path, as_ } => {
                if self.session.logged_in() {
                    self.notify(NoteLevel::Info, format!("reading {}…", path.display()));
                    Ok(vec![Command::SendFile { path, as_ }])
                } else {
                    self.notify(
                        NoteLevel::Warn,
                        "not logged in — the file is sent once logged in (the line stays here)",
                    );
                    Err(Refused)
                }
            }
            Action::ClearHistory => {
                self.clear_history();
                done
            }
        }
    }

    fn scroll_history(&mut self, a: &Action) {
        let geo = self.chat.geometry;
        let page = (geo.height as usize).saturating_sub(1).max(1);
        let store = self.source.log.store();
        let h = &mut self.chat.history;
        match *a {
            Action::HistoryPage(n) if n < 0 => {
                h.scroll_up(page * n.unsigned_abs() as usize, &geo, store)
            }
            Action::HistoryPage(n) => h.scroll_down(page * n as usize, &geo, store),
            Action::HistoryScroll(n) if n < 0 => {
                h.scroll_up(n.unsigned_abs() as usize, &geo, store)
            }
            Action::HistoryScroll(n) => h.scroll_down(n as usize, &geo, store),
            Action::HistoryTop => h.scroll_top(&geo, store),
            Action::HistoryBottom => h.scroll_bottom(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_serialise_by_name() {
        let a = Action::Record {
            on: true,
            file: Some("s.jsonl".into()),
        };
        let s = serde_json::to_string(&a).unwrap();
        assert_eq!(s, r#"{"record":{"on":true,"file":"s.jsonl"}}"#);
        assert_eq!(serde_json::from_str::<Action>(&s).unwrap(), a);
        assert_eq!(serde_json::to_string(&Action::Ping).unwrap(), r#""ping""#);
    }

    #[test]
    fn only_sending_connecting_and_recording_need_a_live_source() {
        assert!(Action::Ping.needs_live_source().is_some());
        assert!(Action::Send("x".into()).needs_live_source().is_some());
        assert!(Action::Connect.needs_live_source().is_some());
        assert!(Action::ToggleRecord.needs_live_source().is_some());
        assert!(Action::ExportHar(None).needs_live_source().is_none());
        assert!(Action::Copy.needs_live_source().is_none());
        assert!(Action::ClearHistory.needs_live_source().is_none());
    }
}
