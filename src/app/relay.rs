//! A connection relayed by `wsdeck proxy`, shown as one App whose source is that
//! connection: the same monitor as our own session, plus the messages the intercept rule
//! holds (forward, drop, edit), a line that injects a message towards either peer, and
//! resending a recorded message (Burp's Repeater).

use std::collections::VecDeque;

use bytes::Bytes;

use super::action::Refused;
use super::{App, AppInit, Command, NoteLevel, View, host_of};
use crate::model::{CloseInfo, Direction, FrameRecord, HandshakeInfo, NetEvent, Opcode, Origin};
use crate::proxy::ProxyCommand;
use crate::spec::{AuthMethod, ConnectSpec};

/// What a relayed connection's App starts from (the proxy's `Opened` event).
#[derive(Debug, Clone)]
pub struct RelayInit {
    pub conn: u64,
    pub client: std::net::SocketAddr,
    /// The server's URL.
    pub url: String,
    /// The client's upgrade with wsdeck, and wsdeck's with the server.
    pub client_leg: HandshakeInfo,
    pub server_leg: HandshakeInfo,
    /// The proxy's intercept rule when the connection opened (`None`: off).
    pub intercept: Option<String>,
    pub utc_offset: i32,
}

/// What the relay line is being typed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinePurpose {
    /// A new message for `Relay::target`.
    Inject,
    /// A held message's new payload.
    Edit { seq: u64 },
}

/// The relayed connection's own state beside the monitor.
#[derive(Debug)]
pub struct Relay {
    pub(super) conn: u64,
    pub(super) client: String,
    /// Messages held by the intercept rule, oldest first: each is a row of the table,
    /// marked held, until it settles there.
    pub(super) held: VecDeque<HeldRow>,
    /// The line under the monitor while typed (`None`: not shown).
    pub(super) line: Option<LinePurpose>,
    /// Which peer an injected message goes to.
    pub(super) target: Direction,
    /// Opcode of what the line sends: text, or binary typed as hex.
    pub(super) opcode: Opcode,
    /// The proxy's intercept rule (`None`: off), for the hint.
    pub(super) intercept: Option<String>,
    /// Each side's close, once the connection ended.
    pub(super) closed: Option<(Option<CloseInfo>, Option<CloseInfo>)>,
    /// The line opened with a message shown with `***` for a secret (its text as shown).
    pub(super) masked: Option<String>,
}

/// A held message and the row it has in the log (its absolute index there).
#[derive(Debug, Clone)]
pub struct HeldRow {
    pub abs: u64,
    /// As the proxy reported it (before the masker: an edit starts from it).
    pub frame: FrameRecord,
}

/// Read access for the view.
impl Relay {
    pub fn conn(&self) -> u64 {
        self.conn
    }
    pub fn client(&self) -> &str {
        &self.client
    }
    pub fn held(&self) -> &VecDeque<HeldRow> {
        &self.held
    }
    pub fn line(&self) -> Option<LinePurpose> {
        self.line
    }
    pub fn target(&self) -> Direction {
        self.target
    }
    pub fn line_opcode(&self) -> Opcode {
        self.opcode
    }
    pub fn intercept(&self) -> Option<&str> {
        self.intercept.as_deref()
    }
    pub fn closed(&self) -> Option<&(Option<CloseInfo>, Option<CloseInfo>)> {
        self.closed.as_ref()
    }
}

/// Which peer a direction's messages go to, as the UI says it.
pub fn peer_name(dir: Direction) -> &'static str {
    match dir {
        Direction::ClientToServer => "server",
        Direction::ServerToClient => "client",
    }
}

impl App {
    /// The App of one connection relayed by the proxy: the monitor over its frames, both
    /// legs' handshakes, nothing to log in to.
    pub fn relayed(init: RelayInit) -> App {
        let mut spec = ConnectSpec::new(init.url.clone());
        spec.auth = AuthMethod::None;
        let (mut app, _) = App::new(AppInit::new(spec));
        app.utc_offset = init.utc_offset;
        app.source = crate::source::Source::new(
            crate::source::SourceKind::Proxied {
                conn: init.conn,
                client: init.client.to_string(),
            },
            crate::record::FrameLog::default(),
        );
        app.view = View::Monitor;
        app.session.replaying(&init.url);
        app.session.relaying();
        app.chat.history.set_peer(&host_of(&init.url));
        // Both legs in the log (the handshake panel shows both); one connection in the stats.
        // Masked as every event the app takes in (the screen never shows a credential).
        let mut client_leg = init.client_leg;
        app.masker.handshake(&mut client_leg);
        app.source.log.push_handshake(client_leg);
        app.on_net(NetEvent::Handshake(Box::new(init.server_leg)));
        app.relay = Some(Relay {
            conn: init.conn,
            client: init.client.to_string(),
            held: VecDeque::new(),
            line: None,
            target: Direction::ClientToServer,
            opcode: Opcode::Text,
            intercept: init.intercept,
            closed: None,
            masked: None,
        });
        app
    }

    /// The relayed connection's state, when this App shows one.
    pub fn relay(&self) -> Option<&Relay> {
        self.relay.as_ref()
    }

    /// Messages the proxy passed on (or dropped): into the log; a held one settles in its
    /// row.
    pub fn relay_frames(&mut self, frames: impl IntoIterator<Item = FrameRecord>) {
        for f in frames {
            let held = self.relay.as_mut().and_then(|r| {
                let i = r.held.iter().position(|h| h.frame.seq == f.seq)?;
                r.held.remove(i)
            });
            match held {
                Some(h) => self.settle(h.abs, f),
                None => self.on_frame(f),
            }
        }
    }

    /// A held message's row becomes what happened to it (passed on, edited or dropped);
    /// a row the log let go comes back as a new one.
    fn settle(&mut self, abs: u64, mut f: FrameRecord) {
        self.masker.frame(&mut f);
        if !self.source.log.settle(abs, &f) {
            self.log_frame(&f);
            if matches!(f.opcode, Opcode::Text | Opcode::Binary) {
                self.chat.history.push_frame(self.source.log.store());
            }
            return;
        }
        self.monitor.settled(&self.source.log, abs);
        self.chat.history.frame_settled(abs, f.len);
    }

    /// The intercept rule held this message: a row marked held, at once.
    pub fn relay_held(&mut self, f: FrameRecord) {
        let abs = self.source.log.store().total_pushed();
        let Some(r) = self.relay.as_mut() else { return };
        let shown = FrameRecord {
            origin: Origin::Held,
            ..f.clone()
        };
        r.held.push_back(HeldRow { abs, frame: f });
        self.on_frame(shown);
    }

    /// The proxy's intercept rule changed (`None`: off).
    pub fn relay_intercept(&mut self, rule: Option<String>) {
        if let Some(r) = self.relay.as_mut() {
            r.intercept = rule;
        }
    }

    /// The connection ended with these closes; `lost` held messages were never delivered.
    pub fn relay_closed(
        &mut self,
        client: Option<CloseInfo>,
        server: Option<CloseInfo>,
        lost: usize,
    ) {
        let Some(r) = self.relay.as_mut() else { return };
        // The proxy reports what it still held as dropped before this; any row left held
        // says so too.
        let left: Vec<HeldRow> = r.held.drain(..).collect();
        if r.line
            .is_some_and(|p| matches!(p, LinePurpose::Edit { .. }))
        {
            r.line = None;
        }
        r.closed = Some((client.clone(), server.clone()));
        for h in left {
            self.settle(
                h.abs,
                FrameRecord {
                    origin: Origin::Dropped,
                    ..h.frame
                },
            );
        }
        let (code, reason) = match server.as_ref().or(client.as_ref()) {
            Some(c) => (Some(c.code), c.reason.clone()),
            None => (None, String::new()),
        };
        self.session.set_closed(code, reason);
        self.source.log.stats_mut().disconnected();
        if lost > 0 {
            self.notify(
                NoteLevel::Warn,
                format!(
                    "the connection closed with {} never delivered — {} in the table as dropped",
                    crate::fmt::count(lost as u64, "held message"),
                    if lost == 1 { "it is" } else { "they are" }
                ),
            );
        }
    }

    /// A sentence from the proxy about this connection.
    pub fn relay_notice(&mut self, text: &str) {
        self.notify(NoteLevel::Warn, crate::text::sanitize_line(text));
    }

    /// The held message the keys act on: the selected row when it is held, else the
    /// oldest; or a notice that nothing is held.
    fn first_held(&mut self) -> Result<(u64, FrameRecord), Refused> {
        let Some(r) = self.relay.as_ref() else {
            return Err(Refused);
        };
        let selected = self.monitor.view(&self.source.log).selected_abs();
        let chosen = selected
            .and_then(|abs| r.held.iter().find(|h| h.abs == abs))
            .or(r.held.front());
        match chosen {
            Some(h) => Ok((r.conn, h.frame.clone())),
            None => {
                let why = if r.intercept.is_some() {
                    "nothing is held — matching messages stop here until you forward them"
                } else {
                    "nothing is held — i turns intercept on"
                };
                self.notify(NoteLevel::Warn, why);
                Err(Refused)
            }
        }
    }

    /// `f`: pass the held message (the selected row, else the oldest) on as it was sent.
    pub(super) fn forward_held(&mut self) -> Result<Vec<Command>, Refused> {
        let (conn, f) = self.first_held()?;
        Ok(vec![Command::Proxy(ProxyCommand::Forward {
            conn,
            seq: f.seq,
        })])
    }

    /// `d`: never pass the held message (the selected row, else the oldest) on.
    pub(super) fn drop_held(&mut self) -> Result<Vec<Command>, Refused> {
        let (conn, f) = self.first_held()?;
        self.notify(NoteLevel::Info, format!("dropped message #{}", f.seq));
        Ok(vec![Command::Proxy(ProxyCommand::Drop {
            conn,
            seq: f.seq,
        })])
    }

    /// `F`: pass every held message of this connection on.
    pub(super) fn forward_all_held(&mut self) -> Result<Vec<Command>, Refused> {
        let (conn, _) = self.first_held()?;
        Ok(vec![Command::Proxy(ProxyCommand::ForwardAll {
            conn: Some(conn),
        })])
    }

    /// `E`: the held message (the selected row, else the oldest) into the line, to be edited and forwarded with Enter.
    pub(super) fn edit_held(&mut self) -> Result<Vec<Command>, Refused> {
        let (_, f) = self.first_held()?;
        let Some(text) = editable(&f) else {
            self.notify(
                NoteLevel::Warn,
                "only text and binary messages can be edited — f forwards it, d drops it",
            );
            return Err(Refused);
        };
        if f.redacted {
            self.notify(
                NoteLevel::Warn,
                "*** stands for a secret: Enter as it is forwards what was sent",
            );
        }
        let masked = f.redacted.then(|| text.clone());
        self.open_line(LinePurpose::Edit { seq: f.seq }, f.dir, f.opcode, text);
        self.set_masked(masked);
        Ok(Vec::new())
    }

    /// `O`: the held message (the selected row, else the oldest) in `$EDITOR`; saving forwards the edited message.
    pub(super) fn edit_held_external(&mut self) -> Result<Vec<Command>, Refused> {
        let (conn, f) = self.first_held()?;
        let Some(text) = editable(&f) else {
            self.notify(
                NoteLevel::Warn,
                "only text and binary messages can be edited — f forwards it, d drops it",
            );
            return Err(Refused);
        };
        Ok(vec![Command::Editor {
            conn,
            seq: f.seq,
            binary: f.opcode == Opcode::Binary,
            text,
        }])
    }

    /// What `$EDITOR` gave back for held message `seq` (`None`: the editor failed or the
    /// file was emptied: nothing changes, the message stays held).
    pub fn relay_edited(&mut self, seq: u64, edited: Result<String, String>) -> Vec<Command> {
        let Some(r) = self.relay.as_ref() else {
            return Vec::new();
        };
        let conn = r.conn;
        let Some(f) = r
            .held
            .iter()
            .find(|h| h.frame.seq == seq)
            .map(|h| h.frame.clone())
        else {
            self.notify(
                NoteLevel::Warn,
                format!("message #{seq} is no longer held — the edit was not sent"),
            );
            return Vec::new();
        };
        match edited.and_then(|t| payload_of(f.opcode, &t).map_err(|e| e.to_string())) {
            Ok(payload) => {
                self.notify(
                    NoteLevel::Good,
                    format!("forwarded message #{seq} as edited"),
                );
                vec![Command::Proxy(ProxyCommand::Edit { conn, seq, payload })]
            }
            Err(why) => {
                self.notify(
                    NoteLevel::Error,
                    format!("{why} — message #{seq} stays held"),
                );
                Vec::new()
            }
        }
    }

    /// `m`: an empty line to inject a text message (Tab picks the peer).
    pub(super) fn start_inject(&mut self) -> Result<Vec<Command>, Refused> {
        if self.relay_ended() {
            return Err(Refused);
        }
        // Always towards the server first (Tab turns it round), as the help says.
        self.open_line(
            LinePurpose::Inject,
            Direction::ClientToServer,
            Opcode::Text,
            String::new(),
        );
        Ok(Vec::new())
    }

    /// `R`: the selected message into the line, to be sent again to the peer it went to.
    pub(super) fn resend_selected(&mut self) -> Result<Vec<Command>, Refused> {
        if self.relay_ended() {
            return Err(Refused);
        }
        let picked = self
            .monitor()
            .selected_abs()
            .and_then(|abs| self.source.log.frame(abs))
            .map(|v| v.to_record());
        let Some(f) = picked else {
            self.notify(
                NoteLevel::Warn,
                "no message selected — j/k select one to resend",
            );
            return Err(Refused);
        };
        let Some(text) = editable(&f) else {
            self.notify(
                NoteLevel::Warn,
                "only text and binary messages can be resent",
            );
            return Err(Refused);
        };
        if f.redacted {
            self.notify(
                NoteLevel::Warn,
                "*** stands for a secret the proxy does not keep: retype it before Enter",
            );
        }
        let masked = f.redacted.then(|| text.clone());
        self.open_line(LinePurpose::Inject, f.dir, f.opcode, text);
        self.set_masked(masked);
        Ok(Vec::new())
    }

    fn set_masked(&mut self, masked: Option<String>) {
        if let Some(r) = self.relay.as_mut() {
            r.masked = masked;
        }
    }

    fn relay_ended(&mut self) -> bool {
        let ended = self.relay.as_ref().is_none_or(|r| r.closed.is_some());
        if ended {
            self.notify(
                NoteLevel::Warn,
                "the connection is closed — nothing can be sent on it",
            );
        }
        ended
    }

    fn open_line(&mut self, purpose: LinePurpose, dir: Direction, opcode: Opcode, text: String) {
        if let Some(r) = self.relay.as_mut() {
            r.line = Some(purpose);
            r.target = dir;
            r.opcode = opcode;
            r.masked = None;
        }
        self.chat.input.input = tui_input::Input::new(text);
    }

    /// Tab in the line: inject towards the other peer (an edit keeps its direction).
    pub(super) fn swap_target(&mut self) {
        if let Some(r) = self.relay.as_mut()
            && r.line == Some(LinePurpose::Inject)
        {
            r.target = match r.target {
                Direction::ClientToServer => Direction::ServerToClient,
                Direction::ServerToClient => Direction::ClientToServer,
            };
        }
    }

    /// Esc in the line.
    pub(super) fn cancel_line(&mut self) {
        if let Some(r) = self.relay.as_mut() {
            r.line = None;
        }
        self.chat.input.input.reset();
    }

    /// Enter in the line: inject the message, or forward the held one as edited.
    pub(super) fn submit_relay_line(&mut self) -> Result<Vec<Command>, Refused> {
        let Some(r) = self.relay.as_ref() else {
            return Err(Refused);
        };
        let (conn, target, opcode, purpose) = (r.conn, r.target, r.opcode, r.line);
        let text = self.chat.input.value().to_string();
        let unchanged_mask = r.masked.as_deref() == Some(text.as_str());
        let payload = match payload_of(opcode, &text) {
            Ok(p) => p,
            Err(why) => {
                self.notify(NoteLevel::Error, why.to_string());
                return Err(Refused);
            }
        };
        let cmd = match purpose {
            Some(LinePurpose::Edit { seq }) => {
                if !r.held.iter().any(|h| h.frame.seq == seq) {
                    self.notify(NoteLevel::Warn, format!("message #{seq} is no longer held"));
                    self.cancel_line();
                    return Err(Refused);
                }
                let how = match unchanged_mask {
                    // The pump forwards what the peer sent when the masked text comes back.
                    true => "as sent (*** was its secret)",
                    false => "as edited",
                };
                self.notify(NoteLevel::Good, format!("forwarded message #{seq} {how}"));
                ProxyCommand::Edit { conn, seq, payload }
            }
            Some(LinePurpose::Inject) if unchanged_mask => {
                self.notify(
                    NoteLevel::Warn,
                    "nothing was sent: *** stands for a secret the proxy does not keep — retype it",
                );
                return Err(Refused);
            }
            Some(LinePurpose::Inject) => {
                if r.closed.is_some() {
                    self.notify(
                        NoteLevel::Warn,
                        "the connection is closed — nothing was sent",
                    );
                    return Err(Refused);
                }
                self.notify(
                    NoteLevel::Good,
                    format!("injected {} B to the {}", payload.len(), peer_name(target)),
                );
                ProxyCommand::Inject {
                    conn,
                    dir: target,
                    opcode,
                    payload,
                }
            }
            None => return Err(Refused),
        };
        let _ = self.chat.input.take();
        if let Some(r) = self.relay.as_mut() {
            r.line = None;
        }
        Ok(vec![Command::Proxy(cmd)])
    }

    /// `p` on a relayed connection: a ping to the server from wsdeck.
    pub(super) fn relay_ping(&mut self) -> Result<Vec<Command>, Refused> {
        if self.relay_ended() {
            return Err(Refused);
        }
        let Some(conn) = self.relay.as_ref().map(|r| r.conn) else {
            return Err(Refused);
        };
        self.notify(NoteLevel::Info, "pinged the server");
        Ok(vec![Command::Proxy(ProxyCommand::Inject {
            conn,
            dir: Direction::ClientToServer,
            opcode: Opcode::Ping,
            payload: Bytes::from_static(b"wsdeck"),
        })])
    }
}

/// A message as the line edits it: text as is, binary as spaced hex.
fn editable(f: &FrameRecord) -> Option<String> {
    match f.opcode {
        Opcode::Text => Some(String::from_utf8_lossy(&f.payload).into_owned()),
        Opcode::Binary => Some(crate::fmt::hex_spaced(&f.payload)),
        _ => None,
    }
}

/// A binary message typed (or edited) as something that is not hex.
#[derive(Debug, thiserror::Error)]
#[error("not hex: {0}")]
struct NotHex(crate::codec::BadHex);

/// The payload the line (or the editor) means for this opcode.
fn payload_of(opcode: Opcode, text: &str) -> Result<Bytes, NotHex> {
    match opcode {
        Opcode::Binary => crate::codec::decode_hex(text)
            .map(Bytes::from)
            .map_err(NotHex),
        _ => Ok(Bytes::from(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn relayed() -> App {
        App::relayed(RelayInit {
            conn: 7,
            client: "127.0.0.1:5000".parse().unwrap(),
            url: "ws://127.0.0.1:5678/".into(),
            client_leg: HandshakeInfo::default(),
            server_leg: HandshakeInfo::default(),
            intercept: None,
            utc_offset: 0,
        })
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
        app.update(super::super::Event::Key(KeyEvent::new(
            code,
            KeyModifiers::NONE,
        )))
    }

    fn typed(app: &mut App, s: &str) {
        for c in s.chars() {
            key(app, KeyCode::Char(c));
        }
    }

    #[test]
    fn m_injects_towards_the_server_and_tab_turns_it_towards_the_client() {
        let mut app = relayed();
        key(&mut app, KeyCode::Char('m'));
        typed(&mut app, "one");
        key(&mut app, KeyCode::Tab);
        let cmds = key(&mut app, KeyCode::Enter);
        assert!(
            matches!(&cmds[..], [Command::Proxy(ProxyCommand::Inject { conn: 7, dir: Direction::ServerToClient, payload, .. })] if payload == "one"),
            "{cmds:?}"
        );
        assert_eq!(app.relay().unwrap().line(), None);
        key(&mut app, KeyCode::Char('m'));
        assert_eq!(app.relay().unwrap().target(), Direction::ClientToServer);
        typed(&mut app, "two");
        let cmds = key(&mut app, KeyCode::Enter);
        assert!(
            matches!(&cmds[..], [Command::Proxy(ProxyCommand::Inject { dir: Direction::ClientToServer, payload, .. })] if payload == "two"),
            "{cmds:?}"
        );
    }
}
