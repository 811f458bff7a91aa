//! Application state and its pure `update(event) -> commands`. No I/O here.

pub mod action;
pub mod history;
pub mod input;
pub mod keymap;
pub mod login;
pub mod monitor;
pub mod palette;
pub mod slash;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use tui_input::backend::crossterm::EventHandler;

use crate::model::{
    ConnState, Direction, FrameRecord, HandshakeInfo, LoginOutcome, NetCommand, NetErrorKind,
    NetEvent, Opcode, close_code_name,
};
use crate::spec::{AuthMethod, ConnectSpec};
use crate::text::sanitize_line;
use action::{Action, Context, Refused};

pub use crate::monitor::Monitor;
pub use history::{ChatGeometry, History, NoteLevel};
pub use input::ChatInput;
pub use login::{Focus, LoginForm};
pub use monitor::View;
pub use palette::Palette;

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
    SendFile(PathBuf),
    /// Put this text on the user's clipboard (OSC 52 on a real terminal). At most
    /// [`COPY_MAX_BYTES`].
    Copy(String),
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
        }
    }
}

/// A saved profile as the app uses it: its session spec (password read from its
/// `password_env` when the app started), or why it cannot be used.
#[derive(Debug, Clone)]
pub struct SavedProfile {
    pub name: String,
    pub url: String,
    pub spec: Result<ConnectSpec, String>,
    /// Its `record` file: recording starts there when the user picks this profile and
    /// connects, unless something is being recorded already.
    pub record: Option<PathBuf>,
    /// Its own snippets, offered in front of the global ones while it is the profile in use.
    pub snippets: Vec<crate::config::Snippet>,
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

/// The snippets in use with `profile`: its own first, then the global ones.
fn with_profile_snippets(
    profile: Option<&SavedProfile>,
    global: &[crate::config::Snippet],
) -> Vec<crate::config::Snippet> {
    profile
        .map(|p| p.snippets.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(global)
        .cloned()
        .collect()
}

/// Rows the mouse wheel scrolls.
const WHEEL_ROWS: i32 = 3;

/// The steps of opening a session, for the login pane's progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Connect,
    Handshake,
    Login,
    Ready,
}

/// How far the current session got, and whether it failed at that step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub step: Step,
    pub failed: bool,
}

/// A one-line message in the status bar until the next key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: NoteLevel,
    pub text: String,
}

/// The whole UI state. `update` is pure; `ui::draw` reads it.
///
/// Runtime contract: draw after a batch of updates and hand the draw's [`Feedback`] back as
/// `Event::Drawn` (paging uses the sizes, clicks the regions; on a resize, send
/// `ui::layout` for the new size at once); after `Command::Connect`, stop
/// forwarding events of the previous session (they carry no session id); message times use
/// the offset from `set_utc_offset` (read it at startup, before threads exist).
pub struct App {
    login: LoginForm,
    input: ChatInput,
    history: History,
    /// Login rules, headers, subprotocol, flags from the command line (password removed).
    template: ConnectSpec,
    conn: ConnState,
    progress: Option<Progress>,
    /// URL and user of the session last asked for.
    session_url: Option<String>,
    session_user: String,
    session_auth: AuthMethod,
    focus: Focus,
    help: bool,
    /// First help line shown, and the largest useful value (kept by the last draw).
    help_scroll: u16,
    help_max: u16,
    notice: Option<Notice>,
    sent: u64,
    received: u64,
    rtt: Option<Duration>,
    handshake: Option<HandshakeInfo>,
    /// A close frame of this session is already in the history.
    close_noted: bool,
    /// The logged-in effects (clear password, focus input) ran for this session.
    login_done: bool,
    /// Seconds east of UTC for the history's clock.
    utc_offset: i32,
    /// The chat view's size, kept by the last draw (and resizes) for paging.
    geometry: ChatGeometry,
    view: View,
    monitor: Monitor,
    /// The source whose log the monitor and chat show: our session, or a recording
    /// (read-only).
    source: crate::source::Source,
    /// The session dropped and the network task is reconnecting (until logged in again or
    /// ended): lines sent now are queued by the task.
    reconnecting: bool,
    /// Lines sent while reconnecting whose `Frame(Send)` has not arrived yet, oldest first.
    pending: VecDeque<String>,
    /// The snippets in use: the picked profile's, then the global ones.
    snippets: Vec<crate::config::Snippet>,
    /// The global snippets (from `AppInit`).
    global_snippets: Vec<crate::config::Snippet>,
    profiles: Vec<SavedProfile>,
    /// A profile's `record` file, picked in the login pane or the palette: recording starts
    /// there with the next connect (once per pick).
    profile_record: Option<PathBuf>,
    /// The command palette, while open (Ctrl-P).
    palette: Option<Palette>,
    /// Clickable regions of the last draw, in screen cells.
    hits: Vec<(Rect, Hit)>,
}

impl App {
    pub fn new(init: AppInit) -> (App, Vec<Command>) {
        let AppInit {
            mut spec,
            connect_now,
            banner,
            snippets: global_snippets,
            profiles,
            profile: start_profile,
        } = init;
        let mut login = LoginForm::from_spec(&spec);
        let profiles: Vec<SavedProfile> = profiles
            .into_iter()
            .map(|(name, p)| SavedProfile {
                spec: p
                    .to_spec()
                    .map(|mut s| {
                        if let Some(every) = p.ping_interval() {
                            s.ping_interval = every;
                        }
                        s
                    })
                    .map_err(|e| format!("profile {name}: {e:#}")),
                url: p.url.clone(),
                record: p.record.clone(),
                snippets: p.snippets.clone(),
                name,
            })
            .collect();
        login.profiles = profiles.iter().map(|p| p.name.clone()).collect();
        // `connect @NAME`: show that profile as the one picked.
        login.profile = match &start_profile {
            Some(name) => profiles.iter().position(|p| &p.name == name),
            None => profiles.iter().position(|p| {
                p.spec
                    .as_ref()
                    .is_ok_and(|s| s.url == spec.url && s.user == spec.user && s.auth == spec.auth)
            }),
        };
        let snippets = with_profile_snippets(
            login.profile.and_then(|i| profiles.get(i)),
            &global_snippets,
        );
        spec.password = Default::default();
        let focus = login.initial_focus();
        let utc_offset = time::UtcOffset::current_local_offset()
            .map(|o| o.whole_seconds())
            .unwrap_or(0);
        let mut app = App {
            login,
            input: ChatInput::default(),
            history: History::new(),
            session_auth: spec.auth,
            template: spec,
            conn: ConnState::Idle,
            progress: None,
            session_url: None,
            session_user: String::new(),
            focus,
            help: false,
            help_scroll: 0,
            help_max: u16::MAX,
            notice: None,
            sent: 0,
            received: 0,
            rtt: None,
            handshake: None,
            close_noted: false,
            login_done: false,
            utc_offset,
            geometry: ChatGeometry::default(),
            view: View::Chat,
            monitor: Monitor::default(),
            source: crate::source::Source::default(),
            reconnecting: false,
            pending: VecDeque::new(),
            snippets,
            global_snippets,
            profiles,
            profile_record: None,
            palette: None,
            hits: Vec::new(),
        };
        if let Some(b) = banner {
            app.history.push_note(None, NoteLevel::Info, &b);
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
            Event::Notice(level, text) => {
                self.notify(level, text);
                Vec::new()
            }
        }
    }

    /// A read-only app over a recorded session (`wsdeck replay FILE`): the monitor and the
    /// chat history hold its frames, stats come from their times, the status bar shows
    /// "replay: FILE". The monitor keeps the newest frames within the default limits.
    pub fn replay(recording: crate::record::Recording, file: &str) -> App {
        use crate::record::store::{DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES};
        App::replay_with_limits(recording, file, DEFAULT_MAX_FRAMES, DEFAULT_MAX_BYTES)
    }

    /// [`App::replay`] with other frame-store limits (see [`App::set_frame_limits`]).
    pub fn replay_with_limits(
        recording: crate::record::Recording,
        file: &str,
        max_frames: usize,
        max_bytes: usize,
    ) -> App {
        let crate::record::Recording {
            handshake,
            reconnects,
            frames,
            truncated_lines,
        } = recording;
        let url = handshake
            .as_ref()
            .or(reconnects.first().map(|(_, h)| h))
            .map(|h| h.url.clone())
            .unwrap_or_default();
        let mut spec = ConnectSpec::new(url.clone());
        spec.auth = AuthMethod::None;
        let (mut app, _) = App::new(AppInit::new(spec));
        app.source = crate::source::Source::new(
            crate::source::SourceKind::Recording {
                file: file.to_string(),
            },
            crate::record::FrameLog::with_limits(max_frames, max_bytes),
        );
        app.view = View::Monitor;
        app.session_url = Some(url.clone());
        if !url.is_empty() {
            app.history.set_peer(&host_of(&url));
        }
        let mut note = format!("replay of {file}: {} frames", frames.len());
        if truncated_lines > 0 {
            note.push_str(" (an unfinished last line was skipped)");
        }
        app.history.push_note(None, NoteLevel::Info, &note);
        if let Some(h) = handshake {
            app.on_net(NetEvent::Handshake(h));
        }
        let mut later = reconnects.into_iter().peekable();
        let mut pings = std::collections::VecDeque::new();
        for (i, f) in frames.into_iter().enumerate() {
            while let Some((_, h)) = later.next_if(|(at, _)| *at <= i) {
                app.source.log.stats_mut().disconnected();
                app.on_net(NetEvent::Handshake(h));
            }
            app.replay_rtt(&mut pings, &f);
            app.on_frame(f);
        }
        for (_, h) in later {
            app.on_net(NetEvent::Handshake(h));
        }
        let last_close = app
            .source
            .log
            .store()
            .iter()
            .rev()
            .take(4)
            .find(|f| f.opcode == Opcode::Close)
            .and_then(|f| f.close_info());
        app.conn = ConnState::Closed {
            code: last_close.as_ref().map(|c| c.code),
            reason: last_close.map(|c| c.reason).unwrap_or_default(),
        };
        app.source.log.stats_mut().disconnected();
        app
    }

    /// The recording's file name, when this app replays one.
    pub fn replay_file(&self) -> Option<&str> {
        self.source.recording_file()
    }

    // ---- read access for the views and tests ----

    pub fn focus(&self) -> Focus {
        self.focus
    }
    pub fn conn(&self) -> &ConnState {
        &self.conn
    }
    pub fn progress(&self) -> Option<Progress> {
        self.progress
    }
    pub fn login(&self) -> &LoginForm {
        &self.login
    }
    pub fn input(&self) -> &ChatInput {
        &self.input
    }
    pub fn history(&self) -> &History {
        &self.history
    }
    pub fn help_open(&self) -> bool {
        self.help
    }
    /// First line of the help overlay shown.
    pub fn help_scroll(&self) -> u16 {
        self.help_scroll.min(self.help_max)
    }
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }
    /// Text and binary messages sent and received (control frames not counted).
    pub fn counts(&self) -> (u64, u64) {
        (self.sent, self.received)
    }
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
    pub fn handshake(&self) -> Option<&HandshakeInfo> {
        self.handshake.as_ref()
    }
    /// The URL of the current (or last) session, else the one in the form.
    pub fn url(&self) -> &str {
        self.session_url.as_deref().unwrap_or(self.login.url())
    }
    pub fn insecure(&self) -> bool {
        self.template.insecure
    }
    pub fn utc_offset(&self) -> i32 {
        self.utc_offset
    }
    /// The chat view's size as last drawn (paging uses it).
    pub fn chat_geometry(&self) -> ChatGeometry {
        self.geometry
    }
    /// The network task is reconnecting after a drop (Esc / Ctrl-X cancels).
    pub fn reconnecting(&self) -> bool {
        self.reconnecting
    }
    /// Lines sent while reconnecting and not yet delivered (shown as "⧗ queued").
    pub fn pending(&self) -> &VecDeque<String> {
        &self.pending
    }
    /// While reconnecting the status bar counts down the seconds to the next try: the runtime
    /// should redraw after this long even if nothing else happens. `None` otherwise.
    pub fn redraw_after(&self, now: SystemTime) -> Option<Duration> {
        let ConnState::Reconnecting { retry_at, .. } = &self.conn else {
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
        if self.help {
            return vec![Context::Help];
        }
        if self.palette.is_some() {
            return vec![Context::Palette];
        }
        let mut stack = Vec::with_capacity(3);
        if self.reconnecting {
            stack.push(Context::Reconnecting);
        }
        match self.view {
            View::Monitor if self.monitor.edit.is_some() => {
                stack.extend([Context::Global, Context::Filter])
            }
            View::Monitor => stack.extend([Context::Global, Context::Monitor]),
            // A focused login field takes its keys first (F6 shows the password there).
            View::Chat => match self.focus {
                Focus::Input => stack.extend([Context::Global, Context::Chat]),
                Focus::Profile | Focus::Auth => stack.extend([Context::Choice, Context::Global]),
                _ => stack.extend([Context::Login, Context::Global]),
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
            self.notice = None;
        }
        match action {
            Some(Action::Edit) => {
                self.edit(k);
                Vec::new()
            }
            Some(a) => self.apply(a).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// A key typed into the focused text field.
    fn edit(&mut self, k: KeyEvent) {
        let ev = crossterm::event::Event::Key(k);
        if let Some(p) = self.palette.as_mut() {
            p.edit(k);
        } else if self.view == View::Monitor {
            self.edit_filter(k);
        } else if self.focus == Focus::Input {
            if self.input.input.handle_event(&ev).is_some_and(|c| c.value) {
                self.input.edited();
            }
        } else if let Some(i) = self.login.input_mut(self.focus) {
            i.handle_event(&ev);
        }
    }

    /// Move focus to the next/previous relevant field; `wrap` lets it cycle around.
    fn move_focus(&mut self, forward: bool, wrap: bool) {
        let order = Focus::ORDER;
        let n = order.len();
        let mut i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        for _ in 0..n {
            if forward {
                if i + 1 == n && !wrap {
                    return;
                }
                i = (i + 1) % n;
            } else {
                if i == 0 && !wrap {
                    return;
                }
                i = (i + n - 1) % n;
            }
            if self.login.relevant(order[i]) {
                self.focus = order[i];
                return;
            }
        }
    }

    fn notify(&mut self, level: NoteLevel, text: impl Into<String>) {
        self.notice = Some(Notice {
            level,
            text: text.into(),
        });
    }

    /// Send `text` for the line in the input (which is taken for recall once sent or queued;
    /// kept when it cannot be sent now).
    fn send_text_line(&mut self, text: String) -> Result<Vec<Command>, Refused> {
        if self.conn == ConnState::LoggedIn {
            return Ok(vec![Command::Net(NetCommand::SendText(text))]);
        }
        if self.reconnecting {
            // The network task queues it and sends it after the new login.
            self.pending.push_back(text.clone());
            return Ok(vec![Command::Net(NetCommand::SendText(text))]);
        }
        let why = match &self.conn {
            ConnState::Connecting | ConnState::Handshaking | ConnState::LoggingIn => {
                "not logged in yet — the line stays here; press Enter again once logged in"
            }
            ConnState::AwaitingLogin => {
                "login was rejected — enter the password in the login pane (Tab) and press Enter"
            }
            ConnState::Closing => "the connection is closing — the line stays here",
            _ => "not connected — Tab to the login pane, Enter connects",
        };
        self.notify(NoteLevel::Warn, why);
        Err(Refused)
    }

    /// Enter in the login pane.
    fn submit_login(&mut self) -> Vec<Command> {
        if let Some((field, what)) = self.login.missing() {
            self.focus = field;
            self.login.error = None;
            self.notify(NoteLevel::Warn, what);
            return Vec::new();
        }
        let url = self.login.url().trim().to_string();
        let same_session = self.session_url.as_deref() == Some(url.as_str())
            && self.login.auth == AuthMethod::FirstMessage
            && self.session_auth == AuthMethod::FirstMessage;
        if self.conn == ConnState::AwaitingLogin && same_session {
            let user = self.login.user().to_string();
            self.session_user = user.clone();
            self.login.error = None;
            self.progress = Some(Progress {
                step: Step::Login,
                failed: false,
            });
            self.conn = ConnState::LoggingIn;
            self.login.reveal = false;
            return vec![Command::Net(NetCommand::Login {
                user,
                password: self.login.password(),
            })];
        }
        let url = match crate::spec::validate_url(&url) {
            Ok(u) => u,
            Err(e) => {
                self.focus = Focus::Url;
                self.login.error = Some(e.to_string());
                return Vec::new();
            }
        };
        let mut spec = self.template.clone();
        spec.url = url.clone();
        spec.user = if self.login.relevant(Focus::User) {
            self.login.user().to_string()
        } else {
            String::new()
        };
        spec.password = if self.login.relevant(Focus::Password) {
            self.login.password()
        } else {
            Default::default()
        };
        spec.auth = self.login.auth;
        // Once sent, the password is not shown again, even if it was revealed.
        self.login.reveal = false;
        self.session_user = spec.user.clone();
        self.session_auth = spec.auth;
        self.session_url = Some(url.clone());
        self.history.set_peer(&host_of(&url));
        self.login.error = None;
        self.conn = ConnState::Connecting;
        self.progress = Some(Progress {
            step: Step::Connect,
            failed: false,
        });
        self.close_noted = false;
        self.login_done = false;
        self.handshake = None;
        let who = match spec.auth {
            AuthMethod::None => String::new(),
            AuthMethod::Bearer => " with a bearer token".to_string(),
            _ => format!(" as {}", spec.user),
        };
        self.history
            .push_note(None, NoteLevel::Info, &format!("connecting to {url}{who}…"));
        self.forget_pending();
        let mut cmds = Vec::new();
        // A picked profile's `record` file, unless something is recorded already (a
        // `--record` flag, or `r`).
        if let Some(path) = self.profile_record.take()
            && self.monitor.recording().is_none()
        {
            cmds.push(Command::Record(Some(path)));
        }
        cmds.push(Command::Connect(spec));
        cmds
    }

    /// Esc / Ctrl-X while reconnecting.
    fn cancel_reconnect(&mut self) -> Vec<Command> {
        self.history
            .push_note(None, NoteLevel::Info, "reconnect cancelled");
        vec![Command::Net(NetCommand::CancelReconnect)]
    }

    /// The session that would have sent the queued lines is over.
    fn forget_pending(&mut self) {
        self.reconnecting = false;
        if !self.pending.is_empty() {
            let n = self.pending.len();
            let lines = if n == 1 { "line was" } else { "lines were" };
            self.history.push_note(
                None,
                NoteLevel::Warn,
                &format!("{n} queued {lines} not sent (↑ recalls them)"),
            );
            self.pending.clear();
        }
    }

    // ---- mouse and paste ----

    fn on_mouse(&mut self, m: MouseEvent) {
        if let MouseEventKind::Down(MouseButton::Left) = m.kind {
            if !self.help && self.palette.is_none() {
                self.on_click(m.column, m.row);
            }
            return;
        }
        if self.palette.is_some() {
            return;
        }
        let rows = match m.kind {
            MouseEventKind::ScrollUp => -WHEEL_ROWS,
            MouseEventKind::ScrollDown => WHEEL_ROWS,
            _ => return,
        };
        let action = match self.view {
            View::Monitor if !self.help => Action::MoveSelection(rows),
            _ => Action::HistoryScroll(rows),
        };
        let _ = self.apply(action);
    }

    /// A left click: focus the login field or the input, or select the monitor row, drawn
    /// at that cell by the last draw.
    fn on_click(&mut self, x: u16, y: u16) {
        let hit = self
            .hits
            .iter()
            .rev()
            .find(|(r, _)| r.contains(Position::new(x, y)))
            .map(|(_, h)| *h);
        match hit {
            Some(Hit::Field(f)) if self.login.relevant(f) => self.focus = f,
            Some(Hit::Field(_)) | None => {}
            Some(Hit::Chat) => self.focus = Focus::Input,
            Some(Hit::Frame(abs)) => {
                let log = &self.source.log;
                let v = self.monitor.view(log);
                if let (Some(cur), Some(row)) = (v.selected_row(), v.row_of(abs)) {
                    self.monitor
                        .move_selection(log, row as isize - cur as isize);
                }
            }
        }
    }

    fn on_paste(&mut self, s: &str) {
        if self.help {
            return;
        }
        if let Some(p) = self.palette.as_mut() {
            p.paste(s);
            return;
        }
        if self.view == View::Monitor {
            self.on_monitor_paste(s);
            return;
        }
        match self.focus {
            Focus::Input => self.input.paste(s),
            Focus::Profile | Focus::Auth => {}
            f => {
                if let Some(i) = self.login.input_mut(f) {
                    input::insert_text(i, s);
                }
            }
        }
    }

    // ---- snippets, profiles, copy, clear ----

    /// The session's snippets (F5…F12 send the first eight).
    pub fn snippets(&self) -> &[crate::config::Snippet] {
        &self.snippets
    }

    /// The saved profiles.
    pub fn profiles(&self) -> &[SavedProfile] {
        &self.profiles
    }

    /// F5…F12 and the palette: send snippet `i`.
    fn send_snippet(&mut self, i: usize) -> Vec<Command> {
        let Some(s) = self.snippets.get(i) else {
            let key = keymap::key_for(Context::Global, &Action::Snippet(i))
                .unwrap_or_else(|| format!("snippet {}", i + 1));
            let text = if self.snippets.is_empty() {
                format!(
                    "{key}: no snippets — add [[snippets]] to the config file (see assets/config.toml)"
                )
            } else {
                format!("{key}: there are only {} snippets", self.snippets.len())
            };
            self.notify(NoteLevel::Warn, text);
            return Vec::new();
        };
        let name = sanitize_line(&s.name);
        if self.conn != ConnState::LoggedIn {
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

    /// ←/→ on the Profile field: the next or previous profile, filled in at once.
    fn cycle_profile(&mut self, forward: bool) {
        let n = self.profiles.len();
        if n == 0 {
            return;
        }
        let i = match (self.login.profile, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        self.pick_profile(i);
    }

    /// Fill the login pane (and the login rules, headers, subprotocol…) from profile `i`.
    /// False (with the reason shown) when the profile cannot be used.
    fn pick_profile(&mut self, i: usize) -> bool {
        let Some(p) = self.profiles.get(i) else {
            return false;
        };
        match &p.spec {
            Ok(spec) => {
                self.login.fill(i, spec);
                let no_redact = self.template.no_redact;
                self.template = spec.clone();
                self.template.password = Default::default();
                self.template.no_redact |= no_redact;
                self.profile_record = p.record.clone();
                self.snippets = with_profile_snippets(Some(p), &self.global_snippets);
                true
            }
            Err(e) => {
                self.login.profile = Some(i);
                self.login.error = Some(e.clone());
                false
            }
        }
    }

    /// `/clear` and the palette: empty the chat history (the monitor keeps every frame).
    fn clear_history(&mut self) {
        self.history = History::new();
        if let Some(url) = &self.session_url {
            self.history.set_peer(&host_of(url));
        }
        self.notify(
            NoteLevel::Info,
            "chat history cleared — the monitor (F3) still has every frame",
        );
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
                .map(|v| clip_payload(v.opcode, v.payload, v.close_code)),
            View::Chat => self.last_message_clip(),
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

    /// The message at the bottom of the history view: its full payload from the monitor's
    /// store (`None` when the store no longer keeps it).
    fn last_message_clip(&self) -> Option<(String, usize, &'static str)> {
        let geo = self.geometry;
        let store = self.source.log.store();
        let window = self.history.window(&geo, store);
        let abs = window
            .items
            .iter()
            .rev()
            .find_map(|it| self.history.get(it.index, store)?.frame)?;
        let v = self.source.log.frame(abs)?;
        Some(clip_payload(v.opcode, v.payload, None))
    }

    // ---- drawing support ----

    /// What the last draw showed: what it measured (clickable regions, the chat view's size,
    /// how far the help scrolls) replaces what an earlier draw measured.
    fn drawn(&mut self, fb: Feedback) {
        if let Some(hits) = fb.hits {
            self.hits = hits;
        }
        if let Some(g) = fb.chat {
            self.geometry = g;
        }
        if let Some(max) = fb.help_max {
            self.help_max = max;
        }
    }

    // ---- network ----

    fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::State(s) => self.on_state(s),
            NetEvent::Handshake(h) => {
                self.source
                    .log
                    .stats_mut()
                    .handshake(h.finished.or(h.started));
                self.source.log.push_handshake(h.clone());
                self.handshake = Some(h);
            }
            NetEvent::Frame(f) => self.on_frame(f),
            NetEvent::Login(LoginOutcome::Accepted { .. }) => self.logged_in(),
            NetEvent::Login(LoginOutcome::Rejected { reply }) => {
                self.history.push_note(
                    None,
                    NoteLevel::Error,
                    "login rejected — enter the password again",
                );
                self.rejected(&reply);
            }
            NetEvent::Rtt(d) => self.rtt = Some(d),
            NetEvent::Ended => {
                self.source.log.stats_mut().disconnected();
                self.forget_pending();
                if !matches!(
                    self.conn,
                    ConnState::Closed { .. } | ConnState::Failed(_) | ConnState::Idle
                ) {
                    if !self.close_noted {
                        self.history
                            .push_note(None, NoteLevel::Warn, "connection ended");
                    }
                    self.conn = ConnState::Closed {
                        code: None,
                        reason: String::new(),
                    };
                }
            }
        }
    }

    fn set_step(&mut self, step: Step, failed: bool) {
        self.progress = Some(Progress { step, failed });
    }

    fn on_state(&mut self, s: ConnState) {
        if matches!(s, ConnState::Closed { .. } | ConnState::Failed(_)) {
            self.source.log.stats_mut().disconnected();
        }
        match &s {
            ConnState::Idle => {}
            ConnState::Connecting => {
                if self.conn != ConnState::Connecting && !self.reconnecting {
                    self.history.push_note(
                        None,
                        NoteLevel::Info,
                        &format!("connecting to {}…", self.url()),
                    );
                    self.close_noted = false;
                    self.login_done = false;
                }
                self.set_step(Step::Connect, false);
            }
            ConnState::Handshaking => self.set_step(Step::Handshake, false),
            ConnState::LoggingIn => self.set_step(Step::Login, false),
            ConnState::AwaitingLogin => self.set_step(Step::Login, true),
            ConnState::LoggedIn => {
                if self.reconnecting {
                    self.reconnecting = false;
                    let text = match self.session_auth {
                        AuthMethod::FirstMessage | AuthMethod::Basic => {
                            format!("reconnected, logged in as {}", self.session_user)
                        }
                        _ => "reconnected".to_string(),
                    };
                    self.history.push_note(None, NoteLevel::Good, &text);
                } else if self.conn != ConnState::LoggedIn {
                    let text = match self.session_auth {
                        AuthMethod::None => "connected (no login)".to_string(),
                        AuthMethod::Bearer => "connected, token accepted".to_string(),
                        _ => format!("logged in as {}", self.session_user),
                    };
                    self.history.push_note(None, NoteLevel::Good, &text);
                }
                self.conn = s;
                self.logged_in();
                return;
            }
            ConnState::Closing => {}
            ConnState::Reconnecting {
                attempt,
                retry_at,
                reason,
            } => {
                let wait = retry_at
                    .duration_since(SystemTime::now())
                    .unwrap_or_default();
                let text = if self.reconnecting {
                    format!(
                        "reconnect attempt {} failed: {reason} — retrying in {:.1} s",
                        attempt.saturating_sub(1),
                        wait.as_secs_f64()
                    )
                } else {
                    format!(
                        "{reason} — reconnecting in {:.1} s (Esc cancels)",
                        wait.as_secs_f64()
                    )
                };
                self.history.push_note(None, NoteLevel::Warn, &text);
                self.reconnecting = true;
                self.close_noted = false;
                self.set_step(Step::Connect, false);
            }
            ConnState::Closed { code, reason } => {
                self.forget_pending();
                if !self.close_noted {
                    let level = match code {
                        Some(1000) | Some(1001) => NoteLevel::Info,
                        _ => NoteLevel::Warn,
                    };
                    let text = match code {
                        Some(c) if reason.is_empty() => {
                            format!("connection closed: {c} {}", close_code_name(*c))
                        }
                        Some(c) => {
                            format!("connection closed: {c} {} — {reason}", close_code_name(*c))
                        }
                        None => "connection closed".to_string(),
                    };
                    self.history.push_note(None, level, &text);
                    self.close_noted = true;
                }
            }
            ConnState::Failed(e) => {
                self.forget_pending();
                let step = match e.kind {
                    NetErrorKind::LoginRejected | NetErrorKind::LoginTimeout => Step::Login,
                    NetErrorKind::Http(_) | NetErrorKind::Protocol => Step::Handshake,
                    NetErrorKind::BadUrl
                    | NetErrorKind::Dns
                    | NetErrorKind::Refused
                    | NetErrorKind::Tls => Step::Connect,
                    NetErrorKind::Timeout | NetErrorKind::Io => {
                        self.progress.map(|p| p.step).unwrap_or(Step::Connect)
                    }
                };
                self.set_step(step, true);
                self.history
                    .push_note(None, NoteLevel::Error, &format!("failed: {}", e.message));
                self.login.error = Some(e.message.clone());
                // Point at the field to fix, unless the user is typing a chat line.
                let typing = self.focus == Focus::Input && !self.input.value().is_empty();
                let target = match e.kind {
                    NetErrorKind::LoginRejected => {
                        self.login.clear_password();
                        Some(Focus::Password)
                    }
                    NetErrorKind::LoginTimeout
                    | NetErrorKind::Http(401)
                    | NetErrorKind::Http(403)
                        if self.login.relevant(Focus::Password) =>
                    {
                        Some(Focus::Password)
                    }
                    NetErrorKind::BadUrl | NetErrorKind::Dns => Some(Focus::Url),
                    _ => None,
                };
                if let Some(f) = target
                    && (e.kind == NetErrorKind::LoginRejected || !typing)
                {
                    self.focus = f;
                }
            }
        }
        self.conn = s;
    }

    fn logged_in(&mut self) {
        self.set_step(Step::Ready, false);
        if self.login_done {
            return;
        }
        self.login_done = true;
        self.login.clear_password();
        self.login.error = None;
        self.focus = Focus::Input;
    }

    fn rejected(&mut self, reply: &str) {
        self.set_step(Step::Login, true);
        self.login.error = Some(format!("Login rejected. The server replied: {reply}"));
        self.login.clear_password();
        self.focus = Focus::Password;
    }

    fn on_frame(&mut self, f: FrameRecord) {
        let is_login_frame = f.opcode == Opcode::Text
            && f.dir == Direction::ClientToServer
            && !self.read_only()
            && self.conn != ConnState::LoggedIn
            && self.session_auth == AuthMethod::FirstMessage;
        // Never show a password, even with --no-redact: the monitor (and so a HAR export
        // from the UI) keeps an unredacted login frame as `***` too; `--record` keeps it as
        // sent.
        let masked = (is_login_frame && !f.redacted).then(|| {
            let (_, shown) = self
                .template
                .login
                .render(&self.session_user, &Default::default());
            shown
        });
        match &masked {
            Some(shown) => self.log_frame(&FrameRecord {
                payload: shown.clone().into(),
                redacted: true,
                ..f.clone()
            }),
            None => self.log_frame(&f),
        }
        match f.opcode {
            Opcode::Text => {
                self.count(f.dir);
                if f.dir == Direction::ClientToServer
                    && self
                        .pending
                        .front()
                        .is_some_and(|p| *p == String::from_utf8_lossy(&f.payload))
                {
                    // A queued line went out: no longer pending, shown as sent below.
                    self.pending.pop_front();
                }
                // The store holds the frame as shown (a login frame masked).
                self.history.push_frame(self.source.log.store());
            }
            Opcode::Binary => {
                self.count(f.dir);
                self.history.push_frame(self.source.log.store());
            }
            Opcode::Close => {
                // The second Close of a handshake only confirms the first.
                let who = match (f.dir, self.close_noted) {
                    (Direction::ClientToServer, false) => "you closed the connection",
                    (Direction::ServerToClient, false) => "the server closed the connection",
                    (Direction::ClientToServer, true) => "you confirmed the close",
                    (Direction::ServerToClient, true) => "the server confirmed the close",
                };
                let text = match &f.close {
                    Some(c) if c.reason.is_empty() => {
                        format!("{who}: {} {}", c.code, close_code_name(c.code))
                    }
                    Some(c) => format!(
                        "{who}: {} {} — {}",
                        c.code,
                        close_code_name(c.code),
                        c.reason
                    ),
                    None => format!("{who} (no status code)"),
                };
                let level = match f.close.as_ref().map(|c| c.code) {
                    Some(1000) | Some(1001) | None => NoteLevel::Info,
                    _ => NoteLevel::Warn,
                };
                self.history.push_note(Some(f.at), level, &text);
                self.close_noted = true;
            }
            Opcode::Ping | Opcode::Pong => {}
        }
    }

    fn count(&mut self, dir: Direction) {
        match dir {
            Direction::ClientToServer => self.sent += 1,
            Direction::ServerToClient => self.received += 1,
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

/// Clock time of a history entry (used by the chat view).
pub fn clock(t: SystemTime, offset: i32) -> String {
    history::clock(t, offset)
}

/// What copying a payload puts on the clipboard: (text, length of the full text, what it is).
/// Text frames as text, binary as hex; only about [`COPY_MAX_BYTES`] are rendered.
fn clip_payload(
    opcode: Opcode,
    payload: &[u8],
    close_code: Option<u16>,
) -> (String, usize, &'static str) {
    let text =
        |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(COPY_MAX_BYTES + 4)]).into_owned();
    let hex = |b: &[u8]| {
        let mut s = String::with_capacity(b.len().min(COPY_MAX_BYTES / 2) * 2);
        for x in b.iter().take(COPY_MAX_BYTES / 2) {
            s.push_str(&format!("{x:02x}"));
        }
        (s, b.len() * 2, "hex")
    };
    let printable = std::str::from_utf8(payload).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    });
    match opcode {
        Opcode::Text => (text(payload), payload.len(), "text"),
        Opcode::Close => {
            let reason = String::from_utf8_lossy(payload);
            let s = match close_code {
                Some(c) if reason.is_empty() => c.to_string(),
                Some(c) => format!("{c} {reason}"),
                None => String::new(),
            };
            let n = s.len();
            (s, n, "close code and reason")
        }
        Opcode::Ping | Opcode::Pong if printable => (text(payload), payload.len(), "text"),
        Opcode::Binary | Opcode::Ping | Opcode::Pong => hex(payload),
    }
}
