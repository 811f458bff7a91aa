//! Our client session as the app knows it: driven only by the network task's events (and
//! the user's connect / send requests), it keeps the connection state, counts and the
//! queued lines, and says what the panes should show as [`Effect`]s. It reads no clock and
//! knows no pane.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::model::{
    ConnState, Direction, FrameRecord, HandshakeInfo, LoginOutcome, NetError, NetErrorKind,
    NetEvent, Opcode, close_code_name,
};
use crate::spec::AuthMethod;

use super::NoteLevel;

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

/// What a session event means for the panes; the app routes each to the pane it concerns.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A line for the chat history.
    Note {
        at: Option<SystemTime>,
        level: NoteLevel,
        text: String,
    },
    /// The connection is down: the stats stop counting connected time.
    Disconnected,
    /// Logged in (once per session): forget the typed password, focus the input.
    LoggedIn,
    /// The server rejected the login with this reply and waits for another try.
    Rejected(String),
    /// The session failed: the login pane shows why and points at the field to fix.
    Failed(NetError),
    /// The reconnect status line: it replaces the outage's earlier one (one line while
    /// reconnecting, not one per try).
    ReconnectNote { level: NoteLevel, text: String },
}

fn note(level: NoteLevel, text: impl Into<String>) -> Effect {
    Effect::Note {
        at: None,
        level,
        text: text.into(),
    }
}

/// Why a line cannot be sent now.
pub type NotNow = &'static str;

#[derive(Debug, Default)]
pub struct Session {
    conn: ConnState,
    progress: Option<Progress>,
    /// URL, user and login method of the session last asked for.
    url: Option<String>,
    user: String,
    auth: AuthMethod,
    sent: u64,
    received: u64,
    /// Answers wsdeck sent by itself (`--auto-reply`), not counted in `sent`.
    auto: u64,
    rtt: Option<Duration>,
    handshake: Option<HandshakeInfo>,
    /// A close frame of this session is already in the history.
    close_noted: bool,
    /// The logged-in effects ran for this session.
    login_done: bool,
    /// The session dropped and the network task is reconnecting (until logged in again or
    /// ended): lines sent now are queued by the task.
    reconnecting: bool,
    /// Lines sent while reconnecting whose `Frame(ClientToServer)` has not arrived yet.
    pending: VecDeque<String>,
    /// A redirect led to another origin and the login stayed behind (the task said so with
    /// a warning notice): the connection is open without a login.
    withheld: bool,
}

impl Session {
    pub fn new(auth: AuthMethod) -> Session {
        Session {
            auth,
            ..Session::default()
        }
    }

    pub fn conn(&self) -> &ConnState {
        &self.conn
    }
    pub fn progress(&self) -> Option<Progress> {
        self.progress
    }
    /// The URL of the current (or last) session.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    /// How this connection logged in: the method asked for, or none when a redirect to
    /// another origin left the credentials behind.
    pub fn auth(&self) -> AuthMethod {
        if self.withheld {
            AuthMethod::None
        } else {
            self.auth
        }
    }
    /// Text and binary messages sent and received (control frames not counted).
    pub fn counts(&self) -> (u64, u64) {
        (self.sent, self.received)
    }
    /// Answers wsdeck sent by itself (`--auto-reply`).
    pub fn auto_replies(&self) -> u64 {
        self.auto
    }
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
    pub fn handshake(&self) -> Option<&HandshakeInfo> {
        self.handshake.as_ref()
    }
    pub fn reconnecting(&self) -> bool {
        self.reconnecting
    }
    pub fn pending(&self) -> &VecDeque<String> {
        &self.pending
    }
    pub fn logged_in(&self) -> bool {
        self.conn == ConnState::LoggedIn
    }
    /// The server rejected a first-message login at `url` and waits for another try: the
    /// next submit sends only a new login frame.
    pub fn awaits_login_at(&self, url: &str, auth: AuthMethod) -> bool {
        self.conn == ConnState::AwaitingLogin
            && self.url.as_deref() == Some(url)
            && auth == AuthMethod::FirstMessage
            && self.auth == AuthMethod::FirstMessage
    }

    /// A new session to `url` is being opened.
    pub fn start(&mut self, url: &str, user: &str, auth: AuthMethod) -> Vec<Effect> {
        self.user = user.to_string();
        self.auth = auth;
        self.url = Some(url.to_string());
        self.conn = ConnState::Connecting;
        self.set_step(Step::Connect, false);
        self.close_noted = false;
        self.login_done = false;
        self.withheld = false;
        self.handshake = None;
        let who = match auth {
            AuthMethod::None => String::new(),
            AuthMethod::Bearer => " with a bearer token".to_string(),
            _ => format!(" as {user}"),
        };
        let mut fx = vec![note(NoteLevel::Info, format!("connecting to {url}{who}…"))];
        fx.extend(self.forget_pending());
        fx
    }

    /// Another login frame on the open connection, after a rejection.
    pub fn retry_login(&mut self, user: &str) {
        self.user = user.to_string();
        self.set_step(Step::Login, false);
        self.conn = ConnState::LoggingIn;
    }

    /// A line the user wants sent: `Ok` when the network task takes it now (or queues it
    /// while reconnecting), else why not.
    pub fn accept_line(&mut self, text: &str) -> Result<(), NotNow> {
        if self.conn == ConnState::LoggedIn {
            return Ok(());
        }
        if self.reconnecting {
            // The network task queues it and sends it after the new login.
            self.pending.push_back(text.to_string());
            return Ok(());
        }
        Err(match &self.conn {
            ConnState::Connecting | ConnState::Handshaking | ConnState::LoggingIn => {
                "not logged in yet — the line stays here; press Enter again once logged in"
            }
            ConnState::AwaitingLogin => {
                "login was rejected — enter the password in the login pane (Tab) and press Enter"
            }
            ConnState::Closing => "the connection is closing — the line stays here",
            _ => "not connected — Tab to the login pane, Enter connects",
        })
    }

    /// Esc / Ctrl-X while reconnecting.
    pub fn cancel_reconnect(&self) -> Vec<Effect> {
        vec![note(NoteLevel::Info, "reconnect cancelled")]
    }

    /// A connection's upgrade: the closes that follow are that connection's (the first one
    /// closes it, the second confirms), whatever an earlier connection's did.
    pub fn set_handshake(&mut self, h: HandshakeInfo) {
        self.handshake = Some(h);
        self.close_noted = false;
    }

    /// A recording of a session with `url` is shown (replay).
    pub fn replaying(&mut self, url: &str) {
        self.url = Some(url.to_string());
    }

    /// A connection relayed by the proxy is shown: open, nothing to log in to.
    pub fn relaying(&mut self) {
        self.conn = ConnState::LoggedIn;
    }

    /// A recording ended in this state (replay).
    pub fn set_closed(&mut self, code: Option<u16>, reason: String) {
        self.conn = ConnState::Closed { code, reason };
    }

    /// Every network event but frames and handshakes (which the app logs first).
    pub fn on_net(&mut self, ev: NetEvent) -> Vec<Effect> {
        match ev {
            NetEvent::State(s) => self.on_state(s),
            NetEvent::Handshake(h) => {
                self.set_handshake(*h);
                Vec::new()
            }
            NetEvent::Frame(f) => self.on_frame(&f),
            NetEvent::Login(LoginOutcome::Accepted { .. }) => self.login_accepted(),
            NetEvent::Login(LoginOutcome::Rejected { reply }) => {
                self.set_step(Step::Login, true);
                vec![
                    note(
                        NoteLevel::Error,
                        "login rejected — enter the password again",
                    ),
                    Effect::Rejected(reply),
                ]
            }
            NetEvent::Rtt(d) => {
                self.rtt = Some(d);
                Vec::new()
            }
            NetEvent::Notice { warn, text } => {
                // A warning notice means the credentials were left out of a hop.
                self.withheld |= warn;
                let level = if warn {
                    NoteLevel::Warn
                } else {
                    NoteLevel::Info
                };
                vec![note(level, text)]
            }
            NetEvent::Ended => {
                let mut fx = vec![Effect::Disconnected];
                fx.extend(self.forget_pending());
                if !matches!(
                    self.conn,
                    ConnState::Closed { .. } | ConnState::Failed(_) | ConnState::Idle
                ) {
                    if !self.close_noted {
                        fx.push(note(NoteLevel::Warn, "connection ended"));
                    }
                    self.conn = ConnState::Closed {
                        code: None,
                        reason: String::new(),
                    };
                }
                fx
            }
        }
    }

    /// A frame, after the app logged it: counts, the queue, close notes.
    pub fn on_frame(&mut self, f: &FrameRecord) -> Vec<Effect> {
        match f.opcode {
            Opcode::Text | Opcode::Binary => {
                match f.dir {
                    _ if f.origin == crate::model::Origin::Auto => self.auto += 1,
                    Direction::ClientToServer => self.sent += 1,
                    Direction::ServerToClient => self.received += 1,
                }
                if f.opcode == Opcode::Text
                    && f.dir == Direction::ClientToServer
                    && self
                        .pending
                        .front()
                        .is_some_and(|p| p.as_bytes() == &f.payload[..])
                {
                    // A queued line went out: no longer pending.
                    self.pending.pop_front();
                }
                Vec::new()
            }
            // One note per close: the Close that answers one already noted only confirms it
            // (the monitor shows both frames).
            Opcode::Close if self.close_noted => Vec::new(),
            Opcode::Close => {
                let fx = vec![Effect::Note {
                    at: Some(f.at),
                    level: match f.close.as_ref().map(|c| c.code) {
                        Some(1000) | Some(1001) | None => NoteLevel::Info,
                        _ => NoteLevel::Warn,
                    },
                    text: self.close_text(f),
                }];
                self.close_noted = true;
                fx
            }
            Opcode::Ping | Opcode::Pong => Vec::new(),
        }
    }

    /// "the server closed the connection: 1000 Normal Closure — bye"; the second Close of a
    /// handshake only confirms the first.
    fn close_text(&self, f: &FrameRecord) -> String {
        let who = match (f.dir, self.close_noted) {
            (Direction::ClientToServer, false) => "you closed the connection",
            (Direction::ServerToClient, false) => "the server closed the connection",
            (Direction::ClientToServer, true) => "you confirmed the close",
            (Direction::ServerToClient, true) => "the server confirmed the close",
        };
        match &f.close {
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
        }
    }

    fn set_step(&mut self, step: Step, failed: bool) {
        self.progress = Some(Progress { step, failed });
    }

    fn login_accepted(&mut self) -> Vec<Effect> {
        self.set_step(Step::Ready, false);
        if self.login_done {
            return Vec::new();
        }
        self.login_done = true;
        vec![Effect::LoggedIn]
    }

    /// The session that would have sent the queued lines is over.
    fn forget_pending(&mut self) -> Vec<Effect> {
        self.reconnecting = false;
        if self.pending.is_empty() {
            return Vec::new();
        }
        let n = self.pending.len();
        self.pending.clear();
        let lines = if n == 1 { "line was" } else { "lines were" };
        vec![note(
            NoteLevel::Warn,
            format!("{n} queued {lines} not sent (↑ recalls them)"),
        )]
    }

    fn on_state(&mut self, s: ConnState) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(s, ConnState::Closed { .. } | ConnState::Failed(_)) {
            fx.push(Effect::Disconnected);
        }
        match &s {
            ConnState::Idle | ConnState::Closing => {}
            ConnState::Connecting => {
                if self.conn != ConnState::Connecting && !self.reconnecting {
                    let url = self.url.as_deref().unwrap_or_default();
                    fx.push(note(NoteLevel::Info, format!("connecting to {url}…")));
                    self.close_noted = false;
                    self.login_done = false;
                }
                self.set_step(Step::Connect, false);
            }
            ConnState::Handshaking => self.set_step(Step::Handshake, false),
            ConnState::LoggingIn => self.set_step(Step::Login, false),
            ConnState::AwaitingLogin => self.set_step(Step::Login, true),
            ConnState::LoggedIn => {
                if let Some(text) = self.logged_in_text() {
                    fx.push(note(NoteLevel::Good, text));
                }
                self.reconnecting = false;
                self.conn = s;
                fx.extend(self.login_accepted());
                return fx;
            }
            ConnState::Reconnecting {
                attempt,
                delay,
                reason,
                ..
            } => {
                let text = if self.reconnecting {
                    format!(
                        "reconnecting: attempt {} failed ({reason}) — trying again in {:.1} s \
                         (Esc cancels)",
                        attempt.saturating_sub(1),
                        delay.as_secs_f64()
                    )
                } else if self.close_noted {
                    // The close's note already says why.
                    format!("reconnecting in {:.1} s (Esc cancels)", delay.as_secs_f64())
                } else {
                    format!(
                        "{reason} — reconnecting in {:.1} s (Esc cancels)",
                        delay.as_secs_f64()
                    )
                };
                fx.push(Effect::ReconnectNote {
                    level: NoteLevel::Warn,
                    text,
                });
                self.reconnecting = true;
                self.close_noted = false;
                self.set_step(Step::Connect, false);
            }
            ConnState::Closed { code, reason } => {
                fx.extend(self.forget_pending());
                if !self.close_noted {
                    fx.push(closed_note(*code, reason));
                    self.close_noted = true;
                }
            }
            ConnState::Failed(e) => {
                fx.extend(self.forget_pending());
                let step = match e.kind {
                    NetErrorKind::LoginRejected | NetErrorKind::LoginTimeout => Step::Login,
                    NetErrorKind::Http(_) | NetErrorKind::Protocol => Step::Handshake,
                    NetErrorKind::BadUrl
                    | NetErrorKind::Dns
                    | NetErrorKind::Refused
                    | NetErrorKind::Proxy(_)
                    | NetErrorKind::Tls => Step::Connect,
                    NetErrorKind::Timeout | NetErrorKind::Io => {
                        self.progress.map(|p| p.step).unwrap_or(Step::Connect)
                    }
                };
                self.set_step(step, true);
                fx.push(note(NoteLevel::Error, format!("failed: {}", e.message)));
                fx.push(Effect::Failed(e.clone()));
            }
        }
        self.conn = s;
        fx
    }

    /// The history line for reaching `LoggedIn`, unless already there.
    fn logged_in_text(&self) -> Option<String> {
        if self.reconnecting {
            return Some(match self.auth() {
                AuthMethod::FirstMessage | AuthMethod::Basic => {
                    format!("reconnected, logged in as {}", self.user)
                }
                _ => "reconnected".to_string(),
            });
        }
        (self.conn != ConnState::LoggedIn).then(|| match self.auth() {
            AuthMethod::None if self.withheld => {
                "connected (no login: the server is on another host)".to_string()
            }
            AuthMethod::None => "connected (no login)".to_string(),
            AuthMethod::Bearer => "connected, token accepted".to_string(),
            _ => format!("logged in as {}", self.user),
        })
    }
}

/// "connection closed: 4001 … — reason"
fn closed_note(code: Option<u16>, reason: &str) -> Effect {
    let level = match code {
        Some(1000) | Some(1001) => NoteLevel::Info,
        _ => NoteLevel::Warn,
    };
    let text = match code {
        Some(c) if reason.is_empty() => format!("connection closed: {c} {}", close_code_name(c)),
        Some(c) => format!("connection closed: {c} {} — {reason}", close_code_name(c)),
        None => "connection closed".to_string(),
    };
    note(level, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(fx: &[Effect]) -> Vec<&str> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Note { text, .. } | Effect::ReconnectNote { text, .. } => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_redirect_that_left_the_login_behind_is_connected_not_logged_in() {
        let mut s = Session::new(AuthMethod::FirstMessage);
        s.start("ws://h/", "admin", AuthMethod::FirstMessage);
        s.on_net(NetEvent::Notice {
            warn: true,
            text: "redirected to ws://other/ — another host: … not sent there".into(),
        });
        let fx = s.on_net(NetEvent::State(ConnState::LoggedIn));
        assert_eq!(
            texts(&fx),
            ["connected (no login: the server is on another host)"]
        );
        assert_eq!(s.auth(), AuthMethod::None);
        // A new session asks for its login again.
        s.start("ws://h/", "admin", AuthMethod::FirstMessage);
        assert_eq!(s.auth(), AuthMethod::FirstMessage);
        let fx = s.on_net(NetEvent::State(ConnState::LoggedIn));
        assert_eq!(texts(&fx), ["logged in as admin"]);
    }

    #[test]
    fn a_reconnect_note_says_the_delay_without_reading_a_clock() {
        let mut s = Session::new(AuthMethod::FirstMessage);
        s.start("ws://h/", "admin", AuthMethod::FirstMessage);
        let fx = s.on_net(NetEvent::State(ConnState::Reconnecting {
            attempt: 1,
            // A time long gone: only `delay` counts.
            retry_at: SystemTime::UNIX_EPOCH,
            delay: Duration::from_millis(1500),
            reason: "the server went away".into(),
        }));
        assert_eq!(
            texts(&fx),
            ["the server went away — reconnecting in 1.5 s (Esc cancels)"]
        );
        assert!(s.reconnecting());
        assert!(s.accept_line("hi").is_ok());
        assert_eq!(s.pending().len(), 1);
        let fx = s.on_net(NetEvent::Ended);
        assert_eq!(
            texts(&fx),
            [
                "1 queued line was not sent (↑ recalls them)",
                "connection ended"
            ]
        );
        assert!(fx.contains(&Effect::Disconnected));
    }

    #[test]
    fn logged_in_runs_its_effects_once_per_session() {
        let mut s = Session::new(AuthMethod::FirstMessage);
        s.start("ws://h/", "admin", AuthMethod::FirstMessage);
        let fx = s.on_net(NetEvent::State(ConnState::LoggedIn));
        assert_eq!(texts(&fx), ["logged in as admin"]);
        assert!(fx.contains(&Effect::LoggedIn));
        let again = s.on_net(NetEvent::Login(LoginOutcome::Accepted {
            reply: "congratulation".into(),
        }));
        assert!(!again.contains(&Effect::LoggedIn));
        assert_eq!(s.accept_line("x"), Ok(()));
    }
}
