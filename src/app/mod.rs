//! Application state and its pure `update(event) -> commands`. No I/O here.

pub mod action;
mod chat;
mod chat_layout;
pub mod history;
pub mod input;
pub mod keymap;
pub mod login;
pub mod monitor;
mod overlay;
pub mod palette;
mod pointer;
pub mod profiles;
pub mod proxy;
pub mod relay;
mod replay;
mod route;
pub mod session;
pub mod slash;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
use ratatui::layout::Rect;

use crate::model::{ConnState, HandshakeInfo, NetCommand, NetEvent};
use crate::spec::ConnectSpec;
use crate::text::sanitize_line;
use action::{Action, Context};

pub use crate::monitor::Monitor;
pub use history::{ChatGeometry, History, NoteLevel};
pub use input::ChatInput;
pub use login::{Focus, LoginForm};
pub use monitor::View;
pub use overlay::Notice;
pub use palette::Palette;
pub use profiles::SavedProfile;
pub use session::{Progress, Step};

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    /// What the last draw showed where (`ui::draw` returns it; `ui::layout` gives the same
    /// for a new terminal size before the next draw).
    Drawn(Feedback),
    Net(NetEvent),
    /// The wall clock, about once a second while connected, so the monitor's rates and
    /// connected time move while no frame arrives. The app never reads a clock itself.
    Tick(SystemTime),
    /// The runtime started (`Some(file)`) or stopped (`None`) recording, on `--record` at
    /// start, after `Command::Record`, or when writing failed.
    Recording(Option<PathBuf>),
    /// Writing the recording failed (disk full, …) and it stopped: the sentence to show, at
    /// once and until a new recording starts.
    RecordingFailed(String),
    /// A one-line result from the runtime for the status bar (e.g. "HAR written to …").
    Notice(NoteLevel, String),
}

/// What the app asks the runtime to do.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // rare and short-lived; boxing would change the API
pub enum Command {
    /// Close any current session and open a new one with this spec.
    Connect(ConnectSpec),
    /// Pass to the current session's network task.
    Net(NetCommand),
    /// Close the session (1000) and leave.
    Quit,
    /// Start recording every frame from now on to this JSONL file (`Some`, after writing the
    /// last handshake), or stop recording (`None`). Answer with `Event::Recording`.
    Record(Option<PathBuf>),
    /// Write a HAR file of `App::frames()` with `App::handshake()` (`record::har`); answer
    /// with `Event::Notice`.
    ExportHar(PathBuf),
    /// Read this file and send it on the session (`/send-file`): a text frame when it is
    /// UTF-8, else binary; answer with `Event::Notice` (sent, or why not).
    SendFile {
        path: PathBuf,
        as_: crate::model::SendAs,
    },
    /// Put this text on the user's clipboard (OSC 52 on a real terminal). At most
    /// [`COPY_MAX_BYTES`].
    Copy(String),
    /// Steer the relayed connection this App shows (forward, drop, edit, inject).
    Proxy(crate::proxy::ProxyCommand),
    /// Open `text` (held message `seq` of connection `conn`; hex when `binary`) in the
    /// user's `$EDITOR`; answer with `App::relay_edited`.
    Editor {
        conn: u64,
        seq: u64,
        binary: bool,
        text: String,
    },
    /// Turn the proxy's intercept rule on (with the last rule) or off.
    ToggleIntercept,
    /// Open the proxy's intercept rule for typing.
    EditIntercept,
    /// Leave this connection's screen for the proxy's connection list.
    Back,
}

/// The most text one copy puts on the clipboard (terminals limit OSC 52 sequences).
pub const COPY_MAX_BYTES: usize = 100_000;

/// How the UI starts.
#[derive(Debug, Clone)]
pub struct AppInit {
    /// The login pane's initial contents (URL, user, password, auth, rules, headers…).
    pub spec: ConnectSpec,
    /// Connect at once (e.g. `--auth none`) instead of waiting for Enter.
    pub connect_now: bool,
    /// A line shown in the history at start (e.g. "demo server listening on …").
    pub banner: Option<String>,
    /// Saved messages: F5…F12 send the first eight, the palette (Ctrl-P) offers all. The
    /// profile in use adds its own in front of these.
    pub snippets: Vec<crate::config::Snippet>,
    /// Saved profiles, offered at the top of the login pane and as "connect @NAME".
    pub profiles: Vec<(String, crate::config::Profile)>,
    /// The profile the session starts from (`connect @NAME`), shown as picked. Its `record`
    /// file is the runtime's business (`RunOptions::record`); its snippets are added here.
    pub profile: Option<String>,
    /// Warnings from loading the config (shown in the history at start).
    pub warnings: Vec<String>,
}

impl AppInit {
    /// A login pane filled from `spec`, no banner, no snippets or profiles.
    pub fn new(spec: ConnectSpec) -> AppInit {
        AppInit {
            spec,
            connect_now: false,
            banner: None,
            snippets: Vec::new(),
            profiles: Vec::new(),
            profile: None,
            warnings: Vec::new(),
        }
    }
}

/// What a draw showed where, handed back to the app as `Event::Drawn`: nothing is written
/// into the app while it is drawn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feedback {
    /// Clickable regions in screen cells, later ones on top, when the screen was drawn.
    pub hits: Option<Vec<(Rect, Hit)>>,
    /// The chat view's size, when it was laid out.
    pub chat: Option<ChatGeometry>,
    /// How far the help overlay can scroll, when it was drawn.
    pub help_max: Option<u16>,
    /// What the monitor's draw measured, when it was drawn.
    pub monitor: Option<crate::monitor::Drawn>,
}

impl Feedback {
    /// Something clickable was drawn in `area`.
    pub fn hit(&mut self, area: Rect, hit: Hit) {
        if area.width > 0 && area.height > 0 {
            self.hits.get_or_insert_default().push((area, hit));
        }
    }
}

/// What a mouse click at a screen cell means; the last draw reports these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A login field (label or value).
    Field(Focus),
    /// The history or the input box: focus the input.
    Chat,
    /// A row of the monitor's table: select this frame (absolute index).
    Frame(u64),
}

/// The whole UI state: a router over the panes. `update` is pure; `ui::draw` reads it.
///
/// Runtime contract: draw after a batch of updates and hand the draw's [`Feedback`] back as
/// `Event::Drawn` (paging uses the sizes, clicks the regions; on a resize, send
/// `ui::layout` for the new size at once); after `Command::Connect`, stop
/// forwarding events of the previous session (they carry no session id); message times use
/// the offset from `set_utc_offset` (read it at startup, before threads exist).
pub struct App {
    /// The login pane.
    login: LoginForm,
    /// The chat pane: the history and the input box.
    chat: chat::ChatPane,
    /// Our client session, driven by the network task's events.
    session: session::Session,
    /// Help, palette and the status bar's notice.
    overlays: overlay::Overlays,
    /// The monitor pane's view state (selection, filter, detail).
    monitor: Monitor,
    /// The source whose log the monitor and chat show: our session, or a recording
    /// (read-only).
    source: crate::source::Source,
    /// Saved profiles and the snippets in use.
    profiles: profiles::Profiles,
    /// Login rules, headers, subprotocol, flags from the command line (password removed).
    template: ConnectSpec,
    focus: Focus,
    view: View,
    /// Seconds east of UTC for the history's clock.
    utc_offset: i32,
    /// Clickable regions of the last draw, in screen cells.
    hits: Vec<(Rect, Hit)>,
    /// The screen's redaction policy for the current session: every event is masked with
    /// it as it comes in (`route.rs`).
    masker: crate::record::redact::Masker,
    /// Held messages and the inject line, when the source is a relayed connection.
    relay: Option<relay::Relay>,
    /// The history entry of the reconnect status line while it is the newest (it updates in
    /// place there).
    reconnect_note: Option<usize>,
    /// The login pane is folded to one line (set once logged in; see [`App::login_folded`]).
    login_folded: bool,
}

impl App {
    pub fn new(init: AppInit) -> (App, Vec<Command>) {
        let AppInit {
            mut spec,
            connect_now,
            banner,
            snippets,
            profiles,
            profile: start_profile,
            warnings,
        } = init;
        let mut login = LoginForm::from_spec(&spec);
        let profiles = profiles::Profiles::new(profiles, snippets);
        // `connect @NAME`: show that profile as the one picked.
        let picked = match &start_profile {
            Some(name) => profiles.position(name),
            None => profiles.matching(&spec),
        };
        login.offer_profiles(profiles.names(), picked);
        let profiles = profiles.with_picked(picked);
        spec.password = Default::default();
        let focus = login.initial_focus();
        let utc_offset = time::UtcOffset::current_local_offset()
            .map(|o| o.whole_seconds())
            .unwrap_or(0);
        let mut app = App {
            login,
            chat: chat::ChatPane::default(),
            session: session::Session::new(spec.auth),
            overlays: overlay::Overlays::default(),
            monitor: Monitor::default(),
            source: crate::source::Source::default(),
            profiles,
            template: spec,
            focus,
            view: View::Chat,
            utc_offset,
            hits: Vec::new(),
            masker: Default::default(),
            relay: None,
            reconnect_note: None,
            login_folded: false,
        };
        for w in &warnings {
            app.chat.history.push_note(None, NoteLevel::Warn, w);
        }
        if let Some(b) = banner {
            app.chat.history.push_note(None, NoteLevel::Info, &b);
        }
        let cmds = if connect_now {
            app.submit_login()
        } else {
            Vec::new()
        };
        (app, cmds)
    }

    /// Set the offset from UTC used for message times (seconds east). `App::new` asks the
    /// system, which `time` refuses once the process has several threads: call this with an
    /// offset read at startup when that matters.
    pub fn set_utc_offset(&mut self, seconds_east: i32) {
        self.utc_offset = seconds_east;
    }

    pub fn update(&mut self, ev: Event) -> Vec<Command> {
        match ev {
            Event::Key(k) => self.on_key(k),
            Event::Mouse(m) => {
                self.on_mouse(m);
                Vec::new()
            }
            Event::Paste(s) => {
                self.on_paste(&s);
                Vec::new()
            }
            Event::Drawn(fb) => {
                self.drawn(fb);
                Vec::new()
            }
            Event::Net(n) => {
                self.on_net(n);
                Vec::new()
            }
            Event::Tick(t) => {
                self.source.log.stats_mut().tick(t);
                Vec::new()
            }
            Event::Recording(p) => {
                self.monitor.set_recording(p);
                Vec::new()
            }
            Event::RecordingFailed(why) => {
                self.monitor.set_recording_stopped(why.clone());
                self.chat.history.push_note(None, NoteLevel::Error, &why);
                self.notify(NoteLevel::Error, why);
                Vec::new()
            }
            Event::Notice(level, text) => {
                self.notify(level, text);
                Vec::new()
            }
        }
    }

    // ---- read access for the views and tests ----

    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// Whether the login pane shows as its one-line summary: folded once logged in (or by
    /// its key), while the session is logged in or reconnecting and no login field has the
    /// focus; a close, a failure or Tab into a field brings it back.
    pub fn login_folded(&self) -> bool {
        self.login_folded && !self.focus.is_login() && self.foldable()
    }

    /// Whether the login pane may fold: a live session that is logged in or reconnecting.
    fn foldable(&self) -> bool {
        !self.read_only() && (self.session.logged_in() || self.session.reconnecting())
    }
    pub fn conn(&self) -> &ConnState {
        self.session.conn()
    }
    /// How the current session logs in.
    pub fn auth(&self) -> crate::spec::AuthMethod {
        self.session.auth()
    }
    /// The connection's state as the screens say it, as of `now`: "connected" rather than
    /// "logged in" when the session has no login.
    pub fn state_label(&self, now: SystemTime) -> String {
        match self.session.conn() {
            ConnState::LoggedIn if self.session.auth() == crate::spec::AuthMethod::None => {
                "connected".into()
            }
            c => c.label(now),
        }
    }
    pub fn progress(&self) -> Option<Progress> {
        self.session.progress()
    }
    pub fn login(&self) -> &LoginForm {
        &self.login
    }
    pub fn input(&self) -> &ChatInput {
        &self.chat.input
    }
    pub fn history(&self) -> &History {
        &self.chat.history
    }
    pub fn help_open(&self) -> bool {
        self.overlays.help
    }
    /// First line of the help overlay shown.
    /// The help's first line shown (the draw keeps it within what the help can scroll).
    pub fn help_scroll(&self) -> u16 {
        self.overlays.help_scroll
    }
    pub fn notice(&self) -> Option<&Notice> {
        self.overlays.notice.as_ref()
    }
    /// Text and binary messages sent and received (control frames not counted).
    pub fn counts(&self) -> (u64, u64) {
        self.session.counts()
    }
    /// Answers wsdeck sent by itself (`--auto-reply`).
    pub fn auto_replies(&self) -> u64 {
        self.session.auto_replies()
    }
    pub fn rtt(&self) -> Option<Duration> {
        self.session.rtt()
    }
    pub fn handshake(&self) -> Option<&HandshakeInfo> {
        self.session.handshake()
    }
    /// The URL of the current (or last) session, else the one in the form; its password
    /// shown as `***`.
    pub fn url(&self) -> std::borrow::Cow<'_, str> {
        match self.session.url() {
            Some(u) => u.into(),
            None => crate::record::redact_url(self.login.url()),
        }
    }
    pub fn insecure(&self) -> bool {
        self.template.insecure
    }
    pub fn utc_offset(&self) -> i32 {
        self.utc_offset
    }
    /// The chat view's size as last drawn (paging uses it).
    pub fn chat_geometry(&self) -> ChatGeometry {
        self.chat.geometry
    }
    /// The network task is reconnecting after a drop (Esc / Ctrl-X cancels).
    pub fn reconnecting(&self) -> bool {
        self.session.reconnecting()
    }
    /// Lines sent while reconnecting and not yet delivered (shown as "⧗ queued").
    pub fn pending(&self) -> &VecDeque<String> {
        self.session.pending()
    }
    /// The session's snippets (F5…F12 send the first eight).
    pub fn snippets(&self) -> &[crate::config::Snippet] {
        &self.profiles.snippets
    }
    /// The saved profiles.
    pub fn profiles(&self) -> &[SavedProfile] {
        &self.profiles.saved
    }

    /// While reconnecting the status bar counts down the seconds to the next try: the runtime
    /// should redraw after this long even if nothing else happens. `None` otherwise.
    pub fn redraw_after(&self, now: SystemTime) -> Option<Duration> {
        let ConnState::Reconnecting { retry_at, .. } = self.session.conn() else {
            return None;
        };
        let left = retry_at.duration_since(now).ok()?;
        // The countdown shows whole seconds rounded up: it changes when `left` crosses one.
        let to_next = Duration::from_nanos((left.as_nanos() % 1_000_000_000) as u64);
        Some(to_next + Duration::from_millis(1))
    }

    // ---- keys ----

    /// The contexts a key is looked up in now, outermost first (see `keymap::resolve`).
    pub fn contexts(&self) -> Vec<Context> {
        if self.overlays.help {
            return vec![Context::Help];
        }
        if self.overlays.palette.is_some() {
            return vec![Context::Palette];
        }
        let mut stack = Vec::with_capacity(3);
        if self.session.reconnecting() {
            stack.push(Context::Reconnecting);
        }
        // A relayed connection: the proxy's stacks (no client-session keys).
        if let Some(r) = &self.relay {
            stack.extend_from_slice(match self.monitor.edit {
                Some(_) => keymap::RELAYED_FILTER,
                None if r.line.is_some() => keymap::RELAY_LINE,
                None => keymap::RELAYED,
            });
            return stack;
        }
        match self.view {
            View::Monitor if self.monitor.edit.is_some() => {
                stack.extend([Context::Global, Context::Client, Context::Filter])
            }
            View::Monitor => stack.extend([Context::Global, Context::Client, Context::Monitor]),
            // A focused login field takes its keys first (F6 shows the password there).
            View::Chat => match self.focus {
                Focus::Input => stack.extend([Context::Global, Context::Client, Context::Chat]),
                Focus::Profile | Focus::Auth => {
                    stack.extend([Context::Choice, Context::Global, Context::Client])
                }
                _ => stack.extend([Context::Login, Context::Global, Context::Client]),
            },
        }
        stack
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Command> {
        if k.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let action = keymap::resolve(&self.contexts(), &k);
        if action != Some(Action::Quit) {
            self.overlays.notice = None;
        }
        match action {
            Some(Action::Edit(op)) => {
                self.edit(op, k);
                Vec::new()
            }
            Some(a) => self.apply(a).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    fn notify(&mut self, level: NoteLevel, text: impl Into<String>) {
        self.overlays.notice = Some(Notice {
            level,
            text: text.into(),
        });
    }

    /// F5…F12 and the palette: send snippet `i`.
    fn send_snippet(&mut self, i: usize) -> Vec<Command> {
        let Some(s) = self.profiles.snippets.get(i) else {
            let key = keymap::key_for(Context::Client, &Action::Snippet(i))
                .unwrap_or_else(|| format!("snippet {}", i + 1));
            let text = if self.profiles.snippets.is_empty() {
                format!(
                    "{key}: no snippets — add [[snippets]] to the config file (see assets/config.toml)"
                )
            } else {
                format!(
                    "{key}: there are only {} snippets",
                    self.profiles.snippets.len()
                )
            };
            self.notify(NoteLevel::Warn, text);
            return Vec::new();
        };
        let name = sanitize_line(&s.name);
        if !self.session.logged_in() {
            self.notify(
                NoteLevel::Warn,
                format!("not logged in — snippet “{name}” not sent"),
            );
            return Vec::new();
        }
        let cmd = s.command();
        self.notify(NoteLevel::Info, format!("sent snippet “{name}”"));
        vec![Command::Net(cmd)]
    }

    /// `y` in the monitor (the selected frame), F4 in the chat (the newest message shown at
    /// the bottom of the history view): put its payload on the clipboard — text as is,
    /// binary as hex.
    fn copy_current(&mut self) -> Vec<Command> {
        let clip = match self.view {
            View::Monitor => self
                .monitor()
                .selected_abs()
                .and_then(|abs| self.source.log.frame(abs))
                .map(|v| chat::clip_payload(v.opcode, v.payload, v.close_code)),
            View::Chat => self.chat.last_message_clip(&self.source.log),
        };
        let Some((text, full, what)) = clip else {
            let where_ = match self.view {
                View::Monitor => "no frame selected",
                View::Chat => "no message in view",
            };
            self.notify(NoteLevel::Warn, format!("nothing to copy — {where_}"));
            return Vec::new();
        };
        if full == 0 {
            self.notify(NoteLevel::Warn, "nothing to copy — the payload is empty");
            return Vec::new();
        }
        let mut text = text;
        if text.len() > COPY_MAX_BYTES {
            let cut = text.floor_char_boundary(COPY_MAX_BYTES);
            text.truncate(cut);
        }
        if text.len() < full {
            self.notify(
                NoteLevel::Warn,
                format!(
                    "copied the first {} of {} bytes ({what}) — the clipboard takes at most {} KB",
                    text.len(),
                    full,
                    COPY_MAX_BYTES / 1000
                ),
            );
        } else {
            self.notify(
                NoteLevel::Good,
                format!("copied {} bytes ({what}) to the clipboard", text.len()),
            );
        }
        vec![Command::Copy(text)]
    }

    /// What the last draw showed: what it measured (clickable regions, the chat view's size,
    /// how far the help scrolls) replaces what an earlier draw measured.
    fn drawn(&mut self, fb: Feedback) {
        if let Some(hits) = fb.hits {
            self.hits = hits;
        }
        if let Some(g) = fb.chat {
            self.chat.geometry = g;
        }
        if let Some(d) = fb.monitor {
            self.monitor.drawn(d);
        }
        if let Some(max) = fb.help_max {
            self.overlays.help_max = max;
        }
    }
}

/// The host part of a ws:// URL (what the history shows as the sender).
pub fn host_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_else(|| sanitize_line(url))
}
