//! Logging in on a new connection: waiting for the greeting (`--login-after`), the login
//! frame from the template, the verdict; then what every connection sends first
//! (`--on-connect`) and the answers the task gives by itself (`--auto-reply`).

use std::time::Instant;

use bytes::Bytes;
use tokio::time::sleep;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{Ending, Phase, Session};
use crate::model::{
    ConnState, Direction, LoginOutcome, NetCommand, NetError, NetErrorKind, NetEvent, Opcode,
    Secret,
};
use crate::spec::AuthMethod;

impl Session<'_> {
    /// Log in, or declare the connection ready.
    pub(super) fn start(&mut self) -> Result<(), Ending> {
        if self.withheld {
            // A redirect to another origin: no credentials go there (the notice said so).
            self.now_logged_in()
        } else if self.t.spec.auth == AuthMethod::FirstMessage && self.t.spec.login.after.is_some()
        {
            self.phase = Phase::Greeting;
            self.t.out.state(ConnState::LoggingIn);
            self.login_deadline = Some(Box::pin(sleep(self.t.spec.login.timeout)));
            Ok(())
        } else if self.t.spec.auth == AuthMethod::FirstMessage {
            let user = self.t.spec.user.clone();
            let password = self.t.spec.password.clone();
            self.send_login(&user, &password)
        } else {
            self.now_logged_in()
        }
    }
    /// Ready to chat: say so, then send what waited for it, in order.
    pub(super) fn now_logged_in(&mut self) -> Result<(), Ending> {
        self.phase = Phase::LoggedIn;
        self.t.ever_logged_in = true;
        self.logged_in_at = Some(Instant::now());
        self.t.out.state(ConnState::LoggedIn);
        // What the application needs on every connection first (socket.io's 40, MQTT's
        // CONNECT), then what waited.
        for o in self.t.spec.on_connect.clone() {
            let c = match o.opcode {
                Opcode::Text => NetCommand::SendText(String::from_utf8_lossy(&o.payload).into()),
                _ => NetCommand::SendBinary(o.payload),
            };
            self.send_data(c)?;
        }
        if self.t.spec.opening_ack.is_some() {
            // What waited goes once the server has answered the openings.
            self.phase = Phase::Opening;
            self.login_deadline = Some(Box::pin(sleep(self.t.spec.login.timeout)));
            return Ok(());
        }
        self.send_queued()
    }
    fn send_queued(&mut self) -> Result<(), Ending> {
        while let Some(c) = self.t.queue.pop_front() {
            self.send_data(c)?;
        }
        Ok(())
    }
    /// A server message while the openings wait for their answer.
    pub(super) fn judge_opening(&mut self, reply: &str) -> Result<(), Ending> {
        let Some(ack) = &self.t.spec.opening_ack else {
            return Ok(());
        };
        if ack.ok.is_match(reply) {
            self.login_deadline = None;
            self.phase = Phase::LoggedIn;
            return self.send_queued();
        }
        if ack.fail.as_ref().is_some_and(|f| f.is_match(reply)) {
            let shown = crate::net::clean_line(reply);
            return Err(Ending::Fail {
                error: NetError::new(
                    NetErrorKind::Protocol,
                    format!(
                        "the server refused the session instead of sending {}: {shown}",
                        ack.what
                    ),
                ),
                close: Some((1000, "refused")),
            });
        }
        Ok(())
    }
    /// An `--auto-reply` answer, sent now whatever the phase (a keep-alive cannot wait).
    pub(super) fn auto_reply(&mut self, reply: String) -> Result<(), Ending> {
        let text = Utf8Bytes::from(reply);
        let payload = Bytes::from(text.clone());
        let (message, wire) = self.compress(Message::Text(text));
        self.write(message)?;
        self.t.out.auto_frame(Opcode::Text, payload, wire);
        Ok(())
    }
    pub(super) fn send_login(&mut self, user: &str, password: &Secret) -> Result<(), Ending> {
        let spec = &self.t.spec;
        let (real, shown) = match spec.login.render_with(user, password, &self.groups) {
            Ok(pair) => pair,
            Err(e) => {
                return Err(Ending::Fail {
                    error: NetError::new(NetErrorKind::LoginTimeout, format!("login: {e}")),
                    close: Some((1000, "login template")),
                });
            }
        };
        // A retry's password is new to the masker, and so is a frame filled from the
        // greeting: it is masked as it is reported.
        let masker = self.t.out.masker_mut();
        masker.add_secret(password.expose());
        masker.add_login_frame(&real, &shown);
        self.phase = Phase::LoggingIn;
        self.t.out.state(ConnState::LoggingIn);
        let text = Utf8Bytes::from(real);
        let payload = Bytes::from(text.clone());
        let (message, wire) = self.compress(Message::Text(text));
        self.write(message)?;
        self.t
            .out
            .data_frame(Direction::ClientToServer, Opcode::Text, payload, wire);
        self.login_deadline = Some(Box::pin(sleep(self.t.spec.login.timeout)));
        Ok(())
    }
    pub(super) fn judge_login(&mut self, reply: &str) -> Result<(), Ending> {
        let Some(accepted) = self.t.spec.login.judge(reply) else {
            return Ok(());
        };
        self.login_deadline = None;
        let reply = reply.to_string();
        if accepted {
            self.t
                .out
                .emit(NetEvent::Login(LoginOutcome::Accepted { reply }));
            self.now_logged_in()
        } else {
            self.phase = Phase::AwaitingLogin;
            self.t
                .out
                .emit(NetEvent::Login(LoginOutcome::Rejected { reply }));
            self.t.out.state(ConnState::AwaitingLogin);
            Ok(())
        }
    }
}
