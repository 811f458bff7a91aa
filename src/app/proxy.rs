//! `wsdeck proxy`'s UI state: the connection list, one App per WebSocket connection (its
//! monitor, held messages, inject line), the intercept rule and the help. A router like
//! [`App`]: `update(event) -> commands` is pure; the runtime carries the commands out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::{KeyEvent, KeyEventKind};
use tui_input::Input;

use super::action::{Action, Context};
use super::relay::RelayInit;
use super::{App, Command, Event, Feedback, NoteLevel, Notice, keymap};
use crate::model::{CloseInfo, Direction, FrameRecord, Opcode};
use crate::monitor::filter::Filter;
use crate::proxy::{LoginState, ProxyCommand, ProxyEvent, Redaction, TunnelKind};

/// What can happen to the proxy's UI.
#[derive(Debug, Clone)]
pub enum ProxyIn {
    Key(KeyEvent),
    Paste(String),
    /// What the proxy reported.
    Proxy(ProxyEvent),
    /// What the last draw measured (for the open connection's App, or the list).
    Drawn(Feedback),
    /// The list's rows per page, as last drawn.
    ListDrawn {
        page: u16,
    },
    Tick(SystemTime),
    /// `$EDITOR` came back for held message `seq` of `conn`.
    Edited {
        conn: u64,
        seq: u64,
        result: Result<String, String>,
    },
    /// A one-line result from the runtime (HAR written, copy failed…).
    Notice(NoteLevel, String),
}

/// What the proxy's UI asks the runtime to do.
#[derive(Debug, Clone)]
pub enum ProxyOut {
    Proxy(ProxyCommand),
    /// Hold messages matching this filter (already checked; `None`: hold nothing).
    SetIntercept(Option<String>),
    Editor {
        conn: u64,
        seq: u64,
        binary: bool,
        text: String,
    },
    /// Write connection `conn`'s frames and handshakes as HAR.
    ExportHar {
        conn: u64,
        path: PathBuf,
    },
    Copy(String),
    Quit,
}

/// What a row of the list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// A relayed WebSocket connection (decrypted when `mitm`).
    WebSocket { mitm: bool },
    /// A CONNECT tunnel relayed blind (TLS not decrypted).
    BlindTls,
    /// A plain HTTP request passed through.
    Http { method: String },
}

/// One connection in the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub conn: u64,
    pub client: SocketAddr,
    /// The server's URL (a tunnel's `host:port`).
    pub target: String,
    pub kind: RowKind,
    pub opened: SystemTime,
    /// Each side's close once ended (`None` inside: it sent no Close).
    pub closed: Option<(Option<CloseInfo>, Option<CloseInfo>)>,
    /// Messages and bytes client→server and server→client.
    pub up: (u64, u64),
    pub down: (u64, u64),
    /// Messages held now.
    pub held: usize,
}

impl Row {
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// How the proxy runs, for the header line.
#[derive(Debug, Clone, Default)]
pub struct ProxyInfo {
    pub listen: String,
    /// Reverse mode's server; `None`: forward (an HTTP proxy).
    pub upstream: Option<String>,
    pub mitm: bool,
    pub record: Option<PathBuf>,
    /// Listening on an address other machines can reach (`--allow-remote`).
    pub remote: bool,
}

/// The proxy's whole UI state.
pub struct ProxyApp {
    info: ProxyInfo,
    rows: Vec<Row>,
    by_conn: HashMap<u64, usize>,
    apps: HashMap<u64, App>,
    selected: usize,
    /// The list selects the newest connection as they come (End; moving away stops it).
    follow: bool,
    page: u16,
    /// The connection whose monitor is shown (`None`: the list).
    open: Option<u64>,
    /// The intercept rule's text (empty: every message) and whether it is on.
    rule: String,
    intercepting: bool,
    /// The rule line while typed, with the parse error of what is typed.
    rule_line: Option<(Input, Option<String>)>,
    help: bool,
    help_scroll: u16,
    help_max: u16,
    notice: Option<Notice>,
    refused: u64,
    /// `c` took closed connections off the list (an empty list is then not "yet").
    cleared: bool,
    utc_offset: i32,
    /// What the screen hides when the proxy's events keep everything (`--no-redact`), and
    /// the connections whose server accepted a login.
    screen: Option<(Redaction, HashMap<u64, LoginState>)>,
    /// Connections `c` took off the list, kept for the HAR written at the end (`--har`),
    /// oldest first; `None`: not kept (their memory goes with them).
    retired: Option<Vec<App>>,
}

impl ProxyApp {
    /// The list of a proxy that runs as `info`, intercepting with `intercept` when given
    /// (`--intercept`; already checked).
    pub fn new(info: ProxyInfo, intercept: Option<Filter>, utc_offset: i32) -> ProxyApp {
        ProxyApp {
            info,
            rows: Vec::new(),
            by_conn: HashMap::new(),
            apps: HashMap::new(),
            selected: 0,
            follow: true,
            page: 10,
            open: None,
            intercepting: intercept.is_some(),
            rule: intercept
                .map(|f| f.source().to_string())
                .unwrap_or_default(),
            rule_line: None,
            help: false,
            help_scroll: 0,
            help_max: 0,
            notice: None,
            refused: 0,
            cleared: false,
            utc_offset,
            screen: None,
            retired: None,
        }
    }

    /// Keep the connections `c` takes off the list for an export of everything (`--har`
    /// at the end holds one entry per connection, cleared from the screen or not).
    pub fn keep_cleared_for_export(&mut self) {
        self.retired.get_or_insert_with(Vec::new);
    }

    /// The connections `c` took off the list (kept by [`ProxyApp::keep_cleared_for_export`]).
    pub fn cleared_apps(&self) -> &[App] {
        self.retired.as_deref().unwrap_or_default()
    }

    // ---- read access for the view and tests ----

    pub fn info(&self) -> &ProxyInfo {
        &self.info
    }
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
    pub fn selected(&self) -> Option<usize> {
        (!self.rows.is_empty()).then_some(self.selected.min(self.rows.len() - 1))
    }
    /// The App of the connection shown, when one is.
    pub fn open_app(&self) -> Option<&App> {
        self.open.and_then(|c| self.apps.get(&c))
    }
    pub fn app(&self, conn: u64) -> Option<&App> {
        self.apps.get(&conn)
    }
    /// The intercept rule shown ("every message" when empty) and whether it is on.
    pub fn intercept(&self) -> (bool, &str) {
        (self.intercepting, &self.rule)
    }
    pub fn rule_line(&self) -> Option<(&Input, Option<&str>)> {
        self.rule_line.as_ref().map(|(i, e)| (i, e.as_deref()))
    }
    pub fn help_open(&self) -> bool {
        self.help
    }
    pub fn help_scroll(&self) -> u16 {
        self.help_scroll.min(self.help_max)
    }
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }
    pub fn refused(&self) -> u64 {
        self.refused
    }
    /// Whether `c` ever took closed connections off the list.
    pub fn cleared(&self) -> bool {
        self.cleared
    }
    pub fn held_total(&self) -> usize {
        self.rows.iter().map(|r| r.held).sum()
    }
    pub fn utc_offset(&self) -> i32 {
        self.utc_offset
    }

    pub fn update(&mut self, ev: ProxyIn) -> Vec<ProxyOut> {
        match ev {
            ProxyIn::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            ProxyIn::Key(_) => Vec::new(),
            ProxyIn::Paste(s) => {
                if let Some((input, err)) = &mut self.rule_line {
                    super::input::insert_text(input, &s);
                    *err = Filter::parse(input.value()).err().map(|e| e.message);
                } else if let Some(app) = self.open_app_mut() {
                    let cmds = app.update(Event::Paste(s));
                    return self.app_commands(cmds);
                }
                Vec::new()
            }
            ProxyIn::Proxy(e) => {
                self.on_proxy(e);
                Vec::new()
            }
            ProxyIn::Drawn(fb) => {
                if let Some(max) = fb.help_max
                    && self.open.is_none()
                {
                    self.help_max = max;
                }
                if let Some(app) = self.open_app_mut() {
                    let _ = app.update(Event::Drawn(fb));
                }
                Vec::new()
            }
            ProxyIn::ListDrawn { page } => {
                self.page = page.max(1);
                Vec::new()
            }
            ProxyIn::Tick(now) => {
                for app in self.apps.values_mut() {
                    let _ = app.update(Event::Tick(now));
                }
                Vec::new()
            }
            ProxyIn::Edited { conn, seq, result } => {
                let cmds = match self.apps.get_mut(&conn) {
                    Some(app) => app.relay_edited(seq, result),
                    None => Vec::new(),
                };
                self.app_commands(cmds)
            }
            ProxyIn::Notice(level, text) => {
                match self.open_app_mut() {
                    Some(app) => {
                        let _ = app.update(Event::Notice(level, text));
                    }
                    None => self.notify(level, text),
                }
                Vec::new()
            }
        }
    }

    fn open_app_mut(&mut self) -> Option<&mut App> {
        let c = self.open?;
        self.apps.get_mut(&c)
    }

    fn notify(&mut self, level: NoteLevel, text: impl Into<String>) {
        self.notice = Some(Notice {
            level,
            text: text.into(),
        });
    }

    fn row_mut(&mut self, conn: u64) -> Option<&mut Row> {
        let i = *self.by_conn.get(&conn)?;
        self.rows.get_mut(i)
    }

    fn add_row(&mut self, row: Row) {
        self.by_conn.insert(row.conn, self.rows.len());
        self.rows.push(row);
        if self.follow {
            self.selected = self.rows.len() - 1;
        }
    }

    fn rule_shown(&self) -> Option<String> {
        self.intercepting.then(|| self.rule.clone())
    }

    /// The proxy's events keep secrets (`--no-redact`, for the files): hide them on the
    /// screen by `policy`, as the proxy would have.
    pub fn hide_on_screen(&mut self, policy: Redaction) {
        self.screen = Some((policy, HashMap::new()));
    }

    /// A message as the screen shows it.
    fn screened(&mut self, conn: u64, rec: &mut FrameRecord) {
        let Some((policy, phases)) = self.screen.as_mut() else {
            return;
        };
        policy.redact(rec, phases.entry(conn).or_default());
    }

    /// What the proxy reported: into the list and the connection's App.
    fn on_proxy(&mut self, mut e: ProxyEvent) {
        self.screen_event(&mut e);
        match e {
            ProxyEvent::Opened(o) => self.on_opened(*o),
            ProxyEvent::Frames { conn, frames } => self.on_frames(conn, frames),
            ProxyEvent::Held { conn, frame } => {
                if let Some(app) = self.apps.get_mut(&conn) {
                    app.relay_held(frame);
                }
                if let Some(row) = self.row_mut(conn) {
                    row.held += 1;
                }
            }
            ProxyEvent::Closed(c) => self.on_closed(c),
            ProxyEvent::TunnelOpened {
                conn,
                client,
                target,
                kind,
            } => self.add_row(Row {
                conn,
                client,
                target: match &kind {
                    TunnelKind::Http { url, .. } => url.clone(),
                    TunnelKind::BlindTls => target,
                },
                kind: match kind {
                    TunnelKind::BlindTls => RowKind::BlindTls,
                    TunnelKind::Http { method, .. } => RowKind::Http { method },
                },
                opened: SystemTime::now(),
                closed: None,
                up: (0, 0),
                down: (0, 0),
                held: 0,
            }),
            ProxyEvent::TunnelClosed { conn, up, down } => {
                if let Some(row) = self.row_mut(conn) {
                    row.up.1 = up;
                    row.down.1 = down;
                    row.closed = Some((None, None));
                }
            }
            ProxyEvent::Refused {
                client,
                status,
                message,
            } => {
                self.refused += 1;
                self.notify(
                    NoteLevel::Warn,
                    crate::text::sanitize_line(&format!(
                        "refused {client} with {status}: {message}"
                    )),
                );
            }
            ProxyEvent::Notice { conn, message } => match self.apps.get_mut(&conn) {
                Some(app) if self.open == Some(conn) => app.relay_notice(&message),
                _ => self.notify(
                    NoteLevel::Warn,
                    crate::text::sanitize_line(&format!("connection {conn}: {message}")),
                ),
            },
        }
    }

    /// With `--no-redact`, the messages of `e` as the screen shows them.
    fn screen_event(&mut self, e: &mut ProxyEvent) {
        if self.screen.is_none() {
            return;
        }
        match e {
            ProxyEvent::Frames { conn, frames } => {
                for f in frames.iter_mut() {
                    self.screened(*conn, &mut f.record);
                }
            }
            ProxyEvent::Held { conn, frame } => self.screened(*conn, frame),
            ProxyEvent::Closed(c) => {
                if let Some((_, logged_in)) = self.screen.as_mut() {
                    logged_in.remove(&c.conn);
                }
            }
            _ => {}
        }
    }

    /// A WebSocket connection was relayed: its App, and a row.
    fn on_opened(&mut self, o: crate::proxy::Opened) {
        let app = App::relayed(RelayInit {
            conn: o.conn,
            client: o.client,
            url: o.url.clone(),
            client_leg: o.client_leg,
            server_leg: o.server_leg,
            intercept: self.rule_shown(),
            utc_offset: self.utc_offset,
        });
        self.apps.insert(o.conn, app);
        self.add_row(Row {
            conn: o.conn,
            client: o.client,
            target: o.url,
            kind: RowKind::WebSocket { mitm: o.mitm },
            opened: SystemTime::now(),
            closed: None,
            up: (0, 0),
            down: (0, 0),
            held: 0,
        });
    }

    /// Messages passed on: counted in the row, into the connection's App.
    fn on_frames(&mut self, conn: u64, frames: Vec<crate::proxy::ProxyFrame>) {
        if let Some(row) = self.row_mut(conn) {
            for f in &frames {
                if !matches!(f.record.opcode, Opcode::Text | Opcode::Binary) {
                    continue;
                }
                let c = match f.record.dir {
                    Direction::ClientToServer => &mut row.up,
                    Direction::ServerToClient => &mut row.down,
                };
                c.0 += 1;
                c.1 += f.record.len as u64;
            }
        }
        if let Some(app) = self.apps.get_mut(&conn) {
            app.relay_frames(frames.into_iter().map(|f| f.record));
            let held = app.relay().map_or(0, |r| r.held().len());
            if let Some(row) = self.row_mut(conn) {
                row.held = held;
            }
        }
    }

    /// A connection ended: its App and row say how; held messages it lost are said.
    fn on_closed(&mut self, c: crate::proxy::Closed) {
        if let Some(app) = self.apps.get_mut(&c.conn) {
            app.relay_closed(c.client.clone(), c.server.clone(), c.lost_held);
        }
        if c.lost_held > 0 {
            self.notify(
                NoteLevel::Warn,
                format!(
                    "connection {} closed with {} never delivered",
                    c.conn,
                    crate::fmt::count(c.lost_held as u64, "held message")
                ),
            );
        }
        if let Some(row) = self.row_mut(c.conn) {
            row.closed = Some((c.client, c.server));
            row.held = 0;
        }
    }

    fn contexts(&self) -> Vec<Context> {
        if self.rule_line.is_some() {
            keymap::RULE_LINE.to_vec()
        } else if self.help {
            keymap::HELP.to_vec()
        } else {
            keymap::LIST.to_vec()
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<ProxyOut> {
        if self.rule_line.is_none()
            && let Some(app) = self.open_app_mut()
        {
            let cmds = app.update(Event::Key(k));
            return self.app_commands(cmds);
        }
        let action = keymap::resolve(&self.contexts(), &k);
        if action != Some(Action::Quit) {
            self.notice = None;
        }
        match action {
            Some(Action::Edit(op)) => {
                if let Some((input, err)) = &mut self.rule_line
                    && super::input::apply_edit(input, op, &k).is_some_and(|c| c.value)
                {
                    *err = Filter::parse(input.value()).err().map(|e| e.message);
                }
                Vec::new()
            }
            Some(a) => self.apply(a),
            None => Vec::new(),
        }
    }

    /// What a connection's App asked for, in the proxy's terms.
    fn app_commands(&mut self, cmds: Vec<Command>) -> Vec<ProxyOut> {
        let mut out = Vec::new();
        for c in cmds {
            match c {
                Command::Proxy(p) => out.push(ProxyOut::Proxy(p)),
                Command::Back => self.open = None,
                Command::ToggleIntercept => out.extend(self.apply(Action::ToggleIntercept)),
                Command::EditIntercept => out.extend(self.apply(Action::EditIntercept)),
                Command::Editor {
                    conn,
                    seq,
                    binary,
                    text,
                } => out.push(ProxyOut::Editor {
                    conn,
                    seq,
                    binary,
                    text,
                }),
                Command::ExportHar(path) => {
                    if let Some(conn) = self.open {
                        out.push(ProxyOut::ExportHar { conn, path });
                    }
                }
                Command::Copy(t) => out.push(ProxyOut::Copy(t)),
                Command::Quit => out.push(ProxyOut::Quit),
                // The App refuses what belongs to a client session before asking.
                Command::Connect(_)
                | Command::Net(_)
                | Command::Record(_)
                | Command::SendFile { .. } => {}
            }
        }
        out
    }

    /// Turn the rule on or off; every App's hint follows.
    fn set_intercepting(&mut self, on: bool) -> Vec<ProxyOut> {
        if on && let Err(e) = Filter::parse(&self.rule) {
            self.notify(NoteLevel::Error, e.message);
            return Vec::new();
        }
        let filter = on.then(|| self.rule.clone());
        self.intercepting = on;
        let shown = self.rule_shown();
        for app in self.apps.values_mut() {
            app.relay_intercept(shown.clone());
        }
        let text = match (on, self.rule.is_empty()) {
            (false, _) => "intercept off — held messages stay held until forwarded".to_string(),
            (true, true) => "intercept on: every message is held".to_string(),
            (true, false) => format!("intercept on: holding messages matching {}", self.rule),
        };
        self.notify(NoteLevel::Info, crate::text::sanitize_line(&text));
        if let Some(app) = self.open_app_mut() {
            let _ = app.update(Event::Notice(NoteLevel::Info, text));
        }
        vec![ProxyOut::SetIntercept(filter)]
    }

    /// A list or rule-line action (the connection's own actions are its App's).
    fn apply(&mut self, a: Action) -> Vec<ProxyOut> {
        let n = self.rows.len();
        let last = n.saturating_sub(1);
        match a {
            Action::Quit => return vec![ProxyOut::Quit],
            Action::ToggleHelp | Action::Help => {
                self.help = !self.help || a == Action::Help;
                self.help_scroll = 0;
            }
            Action::CloseHelp => self.help = false,
            Action::HelpScroll(d) => {
                self.help_scroll = (i64::from(self.help_scroll) + i64::from(d))
                    .clamp(0, i64::from(self.help_max)) as u16;
            }
            Action::HelpTop => self.help_scroll = 0,
            Action::HelpBottom => self.help_scroll = self.help_max,
            Action::ConnMove(d) => {
                let page = if d.abs() > 1 { i64::from(self.page) } else { 1 };
                let to = (self.selected.min(last) as i64 + i64::from(d.signum()) * page)
                    .clamp(0, last as i64) as usize;
                self.selected = to;
                self.follow = to == last;
            }
            Action::ConnFirst => {
                self.selected = 0;
                self.follow = n <= 1;
            }
            Action::ConnLast => {
                self.selected = last;
                self.follow = true;
            }
            Action::OpenConnection | Action::MonitorView => self.open_selected(),
            Action::ClearClosed => self.clear_closed(),
            Action::ToggleIntercept => return self.set_intercepting(!self.intercepting),
            Action::EditIntercept => {
                self.rule_line = Some((Input::new(self.rule.clone()), None));
            }
            Action::ApplyRule => return self.apply_rule(),
            Action::CancelRule => self.rule_line = None,
            Action::ForwardAllHeld => {
                let held = self.held_total();
                if held == 0 {
                    self.notify(NoteLevel::Warn, "nothing is held");
                    return Vec::new();
                }
                let n = crate::fmt::count(held as u64, "held message");
                self.notify(NoteLevel::Good, format!("forwarded {n}"));
                return vec![ProxyOut::Proxy(ProxyCommand::ForwardAll { conn: None })];
            }
            Action::ChatView => {}
            // A key of the monitor's (F4 copies the selected frame): the sentence names it.
            other => {
                let key = keymap::key_for(Context::Global, &other).unwrap_or_else(|| "That".into());
                self.notify(
                    NoteLevel::Warn,
                    format!(
                        "{key} works in a connection's monitor — Enter opens the selected connection"
                    ),
                );
            }
        }
        Vec::new()
    }
    /// Enter: the selected connection's monitor, or why it has none.
    fn open_selected(&mut self) {
        let Some(row) = self.selected().map(|i| &self.rows[i]) else {
            self.notify(
                NoteLevel::Warn,
                "no connection yet — point a client at the proxy",
            );
            return;
        };
        match row.kind {
            RowKind::WebSocket { .. } => self.open = Some(row.conn),
            RowKind::BlindTls => {
                let text = format!(
                    "{} is a TLS tunnel relayed blind: its messages cannot be seen \
                     (start the proxy with --mitm to decrypt it)",
                    row.target
                );
                self.notify(NoteLevel::Warn, crate::text::sanitize_line(&text));
            }
            RowKind::Http { .. } => self.notify(
                NoteLevel::Info,
                "a plain HTTP request passed through: it has no messages",
            ),
        }
    }

    /// `c`: closed connections (and their Apps) off the list.
    fn clear_closed(&mut self) {
        let before = self.rows.len();
        let keep: Vec<Row> = self.rows.drain(..).filter(|r| r.is_open()).collect();
        let mut gone: Vec<u64> = self
            .apps
            .keys()
            .copied()
            .filter(|c| !keep.iter().any(|k| k.conn == *c))
            .collect();
        gone.sort_unstable();
        for c in gone {
            if let (Some(app), Some(kept)) = (self.apps.remove(&c), self.retired.as_mut()) {
                kept.push(app);
            }
        }
        self.rows = keep;
        self.by_conn = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.conn, i))
            .collect();
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        let gone = before - self.rows.len();
        if gone == 0 {
            self.notify(
                NoteLevel::Info,
                "no connection has closed — nothing to take off the list",
            );
        } else {
            self.cleared = true;
            let n = crate::fmt::count(gone as u64, "closed connection");
            self.notify(NoteLevel::Info, format!("took {n} off the list"));
        }
    }

    /// Enter in the rule line: the typed rule on, or its parse error beside it.
    fn apply_rule(&mut self) -> Vec<ProxyOut> {
        let Some((input, _)) = &self.rule_line else {
            return Vec::new();
        };
        let text = input.value().trim().to_string();
        if let Err(e) = Filter::parse(&text) {
            if let Some((_, err)) = &mut self.rule_line {
                *err = Some(e.message);
            }
            return Vec::new();
        }
        self.rule_line = None;
        self.rule = text;
        self.set_intercepting(true)
    }
}
