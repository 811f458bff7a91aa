//! The router's wiring between the panes and the session: submitting the login pane, lines
//! from the input, network events in, and the session's [`Effect`]s out to the pane each
//! concerns.

use crate::model::{FrameRecord, NetCommand, NetErrorKind, NetEvent, Opcode};

use crate::record::redact::Masker;

use super::action::Refused;
use super::login::Invalid;
use super::session::Effect;
use super::{App, Command, Focus, NoteLevel, host_of};

impl App {
    /// Send `text` for the line in the input (which is taken for recall once sent or queued;
    /// kept when it cannot be sent now).
    pub(super) fn send_text_line(&mut self, text: String) -> Result<Vec<Command>, Refused> {
        match self.session.accept_line(&text) {
            Ok(()) => Ok(vec![Command::Net(NetCommand::SendText(text))]),
            Err(why) => {
                self.notify(NoteLevel::Warn, why);
                Err(Refused)
            }
        }
    }

    /// Enter in the login pane.
    pub(super) fn submit_login(&mut self) -> Vec<Command> {
        let spec = match self.login.submit(&self.template) {
            Ok(spec) => spec,
            Err(Invalid::Missing(field, what)) => {
                self.focus = field;
                self.notify(NoteLevel::Warn, what);
                return Vec::new();
            }
            Err(Invalid::Bad(field)) => {
                self.focus = field;
                return Vec::new();
            }
        };
        let shown_url = Masker::for_spec(&spec).url(&spec.url).into_owned();
        if self.session.awaits_login_at(&shown_url, spec.auth) {
            // The new password is masked too (the old ones stay masked).
            let rules = &self.template.login;
            self.masker
                .add_login(rules, spec.auth, &spec.user, spec.password.expose());
            self.session.retry_login(&spec.user);
            return vec![Command::Net(NetCommand::Login {
                user: spec.user,
                password: spec.password,
            })];
        }
        self.masker = Masker::for_spec(&spec);
        self.chat.history.set_peer(&host_of(&spec.url));
        let fx = self.session.start(&shown_url, &spec.user, spec.auth);
        self.apply_effects(fx);
        let mut cmds = Vec::new();
        // A picked profile's `record` file, unless something is recorded already (a
        // `--record` flag, or `r`).
        if let Some(path) = self.profiles.record.take()
            && self.monitor.recording().is_none()
        {
            cmds.push(Command::Record(Some(path)));
        }
        cmds.push(Command::Connect(spec));
        cmds
    }

    /// Esc / Ctrl-X while reconnecting.
    pub(super) fn cancel_reconnect(&mut self) -> Vec<Command> {
        let fx = self.session.cancel_reconnect();
        self.apply_effects(fx);
        vec![Command::Net(NetCommand::CancelReconnect)]
    }

    /// A network event in. This is the screen's boundary: the event is masked first
    /// (`record::redact`), so nothing the app holds or draws carries a secret, whatever
    /// `--no-redact` says.
    pub(super) fn on_net(&mut self, mut ev: NetEvent) {
        if let NetEvent::Frame(f) = ev {
            return self.on_frame(f);
        }
        self.masker.event(&mut ev);
        match ev {
            NetEvent::Handshake(h) => {
                self.source
                    .log
                    .stats_mut()
                    .handshake(h.finished.or(h.started));
                self.source.log.push_handshake((*h).clone());
                self.session.set_handshake(*h);
            }
            other => {
                // The answer to `p` / `/ping`: say the round trip where the user looks.
                if let NetEvent::Rtt(d) = &other
                    && std::mem::take(&mut self.monitor.ping_waiting)
                {
                    self.notify(NoteLevel::Good, format!("pong in {}", crate::fmt::rtt(*d)));
                }
                let fx = self.session.on_net(other);
                self.apply_effects(fx);
            }
        }
    }

    /// A frame (masked) into the source's log, then the chat and the session's counts and
    /// notes.
    pub(super) fn on_frame(&mut self, mut f: FrameRecord) {
        self.masker.frame(&mut f);
        self.log_frame(&f);
        let fx = self.session.on_frame(&f);
        if matches!(f.opcode, Opcode::Text | Opcode::Binary) {
            self.chat.history.push_frame(self.source.log.store());
        }
        self.apply_effects(fx);
    }

    /// Route what the session says to the panes.
    pub(super) fn apply_effects(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Note { at, level, text } => {
                    self.chat.history.push_note(at, level, &text);
                    // A later try's status goes on a new line below what came since.
                    self.reconnect_note = None;
                }
                Effect::ReconnectNote { level, text } => {
                    let h = &mut self.chat.history;
                    match self.reconnect_note {
                        Some(i) if i + 1 == h.len() => h.replace_note(i, level, &text),
                        _ => {
                            h.push_note(None, level, &text);
                            self.reconnect_note = Some(h.len() - 1);
                        }
                    }
                }
                Effect::Disconnected => self.source.log.stats_mut().disconnected(),
                Effect::LoggedIn => {
                    self.login.clear_password();
                    self.login.set_error(None);
                    self.focus = Focus::Input;
                    // The pane has done its job: one line, the history gets the room.
                    self.login_folded = true;
                }
                Effect::Rejected(reply) => {
                    self.login
                        .set_error(Some(format!("Login rejected. The server replied: {reply}")));
                    self.login.clear_password();
                    self.focus = Focus::Password;
                }
                Effect::Failed(e) => self.failed(e.kind, e.message),
            }
        }
    }

    /// The login pane shows why the session failed and points at the field to fix, unless
    /// the user is typing a chat line.
    fn failed(&mut self, kind: NetErrorKind, message: String) {
        self.login.set_error(Some(message));
        let typing = self.focus == Focus::Input && !self.chat.input.value().is_empty();
        let target = match kind {
            NetErrorKind::LoginRejected => {
                self.login.clear_password();
                Some(Focus::Password)
            }
            NetErrorKind::LoginTimeout | NetErrorKind::Http(401) | NetErrorKind::Http(403)
                if self.login.relevant(Focus::Password) =>
            {
                Some(Focus::Password)
            }
            NetErrorKind::BadUrl | NetErrorKind::Dns => Some(Focus::Url),
            _ => None,
        };
        if let Some(f) = target
            && (kind == NetErrorKind::LoginRejected || !typing)
        {
            self.focus = f;
        }
    }

    /// `/clear` and the palette: empty the chat history (the monitor keeps every frame).
    pub(super) fn clear_history(&mut self) {
        self.chat.clear(self.session.url());
        self.notify(
            NoteLevel::Info,
            "chat history cleared — the monitor (F3) still has every frame",
        );
    }

    /// ←/→ on the Profile field: the next or previous profile, filled in at once.
    pub(super) fn cycle_profile(&mut self, forward: bool) {
        let n = self.profiles.saved.len();
        if n == 0 {
            return;
        }
        let i = match (self.login.picked_profile(), forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        self.pick_profile(i);
    }

    /// Fill the login pane (and the login rules, headers, subprotocol…) from profile `i`.
    /// False (with the reason shown) when the profile cannot be used.
    pub(super) fn pick_profile(&mut self, i: usize) -> bool {
        let Some(p) = self.profiles.saved.get(i) else {
            return false;
        };
        match &p.spec {
            Ok(spec) => {
                self.login.fill(i, spec);
                let no_redact = self.template.no_redact;
                self.template = spec.clone();
                self.template.password = Default::default();
                self.template.no_redact |= no_redact;
                self.profiles.picked(i);
                true
            }
            Err(e) => {
                let e = e.clone();
                self.login.profile_failed(i, e);
                false
            }
        }
    }
}
