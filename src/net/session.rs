//! The running session: the read/write loop, the first-message login, pings, and the close
//! handshake either way.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::{Sleep, sleep, timeout_at};
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::connect::{self, WsStream};
use super::events::Out;
use super::{clean_line, human_duration};
use crate::model::{
    AuthMethod, CloseInfo, ConnState, ConnectSpec, Direction, LoginOutcome, NetCommand, NetError,
    NetErrorKind, NetEvent, Opcode, Secret,
};

/// Pings whose pong we still wait for (oldest dropped beyond this).
const MAX_PENDING_PINGS: usize = 32;

/// Run one session from connect to `Ended`.
pub(crate) async fn run(
    spec: ConnectSpec,
    mut cmds: UnboundedReceiver<NetCommand>,
    tx: UnboundedSender<NetEvent>,
) {
    let out = Out::new(tx);
    out.state(ConnState::Connecting);
    // Commands that arrive while connecting are kept for afterwards, except a close.
    let mut early = VecDeque::new();
    let opened = {
        let open = connect::open(&spec, &out);
        tokio::pin!(open);
        loop {
            tokio::select! {
                r = &mut open => break Some(r),
                c = cmds.recv() => match c {
                    None | Some(NetCommand::Close { .. }) => break None,
                    Some(c) => early.push_back(c),
                },
            }
        }
    };
    match opened {
        None => {
            out.state(ConnState::Closed {
                code: None,
                reason: "cancelled before the connection was open".into(),
            });
            out.emit(NetEvent::Ended);
        }
        Some(Err(e)) => {
            out.state(ConnState::Failed(e));
            out.emit(NetEvent::Ended);
        }
        Some(Ok(ws)) => {
            let session = Session {
                ws,
                out,
                spec,
                phase: Phase::LoggedIn,
                login_deadline: None,
                pings: VecDeque::new(),
                flush_pending: false,
            };
            session.run(cmds, early).await;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    LoggingIn,
    AwaitingLogin,
    LoggedIn,
}

/// Why the loop stopped, and what is left to do before `Ended`.
enum Ending {
    /// The user asked to close (or dropped the command channel).
    UserClose { code: u16, reason: String },
    /// The server sent a Close frame (already recorded).
    PeerClose(Option<CloseInfo>),
    /// Something went wrong; send this close frame if the connection still allows it.
    Fail {
        error: NetError,
        close: Option<(u16, &'static str)>,
    },
}

enum Wake {
    Cmd(Option<NetCommand>),
    LoginTimeout,
    Msg(Option<Result<Message, WsError>>),
    WriteFailed(WsError),
}

struct Session {
    ws: WsStream,
    out: Out,
    spec: ConnectSpec,
    phase: Phase,
    login_deadline: Option<Pin<Box<Sleep>>>,
    pings: VecDeque<(Bytes, Instant)>,
    /// Frames were queued since the last completed flush.
    flush_pending: bool,
}

impl Session {
    async fn run(mut self, mut cmds: UnboundedReceiver<NetCommand>, early: VecDeque<NetCommand>) {
        let ending = match self.start(early) {
            Err(ending) => ending,
            Ok(()) => self.main_loop(&mut cmds).await,
        };
        self.finish(ending).await;
        self.out.emit(NetEvent::Ended);
    }

    /// Log in (or declare the session ready) and replay commands sent while connecting.
    fn start(&mut self, early: VecDeque<NetCommand>) -> Result<(), Ending> {
        if self.spec.auth == AuthMethod::FirstMessage {
            let user = self.spec.user.clone();
            let password = self.spec.password.clone();
            self.send_login(&user, &password)?;
        } else {
            self.phase = Phase::LoggedIn;
            self.out.state(ConnState::LoggedIn);
        }
        for c in early {
            self.on_command(c)?;
        }
        Ok(())
    }

    async fn main_loop(&mut self, cmds: &mut UnboundedReceiver<NetCommand>) -> Ending {
        loop {
            let step = match self.next_wake(cmds).await {
                Wake::Cmd(Some(c)) => self.on_command(c),
                Wake::Cmd(None) => Err(Ending::UserClose {
                    code: 1000,
                    reason: String::new(),
                }),
                Wake::LoginTimeout => Err(Ending::Fail {
                    error: NetError::new(
                        NetErrorKind::LoginTimeout,
                        format!(
                            "login: no reply matched --login-ok or --login-fail within {}",
                            human_duration(self.spec.login.timeout)
                        ),
                    ),
                    close: Some((1000, "login timed out")),
                }),
                Wake::Msg(Some(Ok(m))) => self.on_message(m),
                Wake::Msg(Some(Err(e))) => Err(read_error(e)),
                Wake::Msg(None) => Err(Ending::Fail {
                    error: NetError::new(NetErrorKind::Io, "connection lost: the stream ended"),
                    close: None,
                }),
                Wake::WriteFailed(e) => Err(write_error(e)),
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    /// Wait for the next thing to do. Commands go first (so a quit is seen even during a
    /// flood), then the login timer, then pending writes are flushed, then the socket is read.
    /// Flushing only once the command queue is empty batches many sends into one write.
    async fn next_wake(&mut self, cmds: &mut UnboundedReceiver<NetCommand>) -> Wake {
        poll_fn(|cx| {
            if let Poll::Ready(c) = cmds.poll_recv(cx) {
                return Poll::Ready(Wake::Cmd(c));
            }
            if let Some(deadline) = self.login_deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                self.login_deadline = None;
                return Poll::Ready(Wake::LoginTimeout);
            }
            if self.flush_pending {
                match self.ws.poll_flush_unpin(cx) {
                    Poll::Ready(Ok(())) => self.flush_pending = false,
                    Poll::Ready(Err(e)) => return Poll::Ready(Wake::WriteFailed(e)),
                    Poll::Pending => {}
                }
            }
            self.ws.poll_next_unpin(cx).map(Wake::Msg)
        })
        .await
    }

    fn on_command(&mut self, c: NetCommand) -> Result<(), Ending> {
        match c {
            NetCommand::SendText(s) => {
                let text = Utf8Bytes::from(s);
                let payload = Bytes::from(text.clone());
                self.write(Message::Text(text))?;
                self.out.frame(Direction::Send, Opcode::Text, payload);
            }
            NetCommand::SendBinary(v) => {
                let payload = Bytes::from(v);
                self.write(Message::Binary(payload.clone()))?;
                self.out.frame(Direction::Send, Opcode::Binary, payload);
            }
            NetCommand::Login { user, password } => {
                // Only meaningful while the server waits for a (new) login frame.
                if self.spec.auth == AuthMethod::FirstMessage && self.phase != Phase::LoggedIn {
                    self.send_login(&user, &password)?;
                }
            }
            NetCommand::Ping(p) => {
                let payload = Bytes::from(p);
                self.write(Message::Ping(payload.clone()))?;
                self.out
                    .frame(Direction::Send, Opcode::Ping, payload.clone());
                if self.pings.len() == MAX_PENDING_PINGS {
                    self.pings.pop_front();
                }
                self.pings.push_back((payload, Instant::now()));
            }
            NetCommand::Close { code, reason } => return Err(Ending::UserClose { code, reason }),
        }
        Ok(())
    }

    fn send_login(&mut self, user: &str, password: &Secret) -> Result<(), Ending> {
        let (real, shown) = self.spec.login.render(user, password);
        let len = real.len();
        self.phase = Phase::LoggingIn;
        self.out.state(ConnState::LoggingIn);
        let text = Utf8Bytes::from(real);
        let payload = Bytes::from(text.clone());
        self.write(Message::Text(text))?;
        if self.spec.no_redact || shown.as_bytes() == payload.as_ref() {
            self.out.frame(Direction::Send, Opcode::Text, payload);
        } else {
            self.out.redacted_text(len, shown);
        }
        self.login_deadline = Some(Box::pin(sleep(self.spec.login.timeout)));
        Ok(())
    }

    /// Queue a message; the loop flushes once no more commands are waiting.
    fn write(&mut self, m: Message) -> Result<(), Ending> {
        self.ws.start_send_unpin(m).map_err(write_error)?;
        self.flush_pending = true;
        Ok(())
    }

    fn on_message(&mut self, m: Message) -> Result<(), Ending> {
        match m {
            Message::Text(t) => {
                self.out
                    .frame(Direction::Receive, Opcode::Text, Bytes::from(t.clone()));
                if self.phase == Phase::LoggingIn {
                    self.judge_login(t.as_str());
                }
            }
            Message::Binary(b) => self.out.frame(Direction::Receive, Opcode::Binary, b),
            Message::Ping(p) => {
                self.out.frame(Direction::Receive, Opcode::Ping, p.clone());
                // tungstenite queues the pong itself and sends it on the next read.
                self.out.frame(Direction::Send, Opcode::Pong, p);
            }
            Message::Pong(p) => {
                if let Some(i) = self.pings.iter().position(|(q, _)| *q == p) {
                    let sent = self.pings[i].1;
                    // Pings older than the answered one will not be answered any more.
                    self.pings.drain(..=i);
                    self.out.frame(Direction::Receive, Opcode::Pong, p);
                    self.out.emit(NetEvent::Rtt(sent.elapsed()));
                } else {
                    self.out.frame(Direction::Receive, Opcode::Pong, p);
                }
            }
            Message::Close(frame) => {
                let info = frame.map(close_info);
                self.out.close_frame(Direction::Receive, info.clone());
                return Err(Ending::PeerClose(info));
            }
            Message::Frame(_) => {}
        }
        Ok(())
    }

    fn judge_login(&mut self, reply: &str) {
        let Some(accepted) = self.spec.login.judge(reply) else {
            return;
        };
        self.login_deadline = None;
        let reply = reply.to_string();
        if accepted {
            self.phase = Phase::LoggedIn;
            self.out
                .emit(NetEvent::Login(LoginOutcome::Accepted { reply }));
            self.out.state(ConnState::LoggedIn);
        } else {
            self.phase = Phase::AwaitingLogin;
            self.out
                .emit(NetEvent::Login(LoginOutcome::Rejected { reply }));
            self.out.state(ConnState::AwaitingLogin);
        }
    }

    /// Everything after the loop: close handshakes and the final state.
    async fn finish(&mut self, ending: Ending) {
        self.login_deadline = None;
        match ending {
            Ending::UserClose { code, reason } => {
                self.out.state(ConnState::Closing);
                let state = match self.send_close(code, &reason).await {
                    Err(e) => ConnState::Closed {
                        code: None,
                        reason: e.message,
                    },
                    Ok(()) => match self.await_close_reply().await {
                        Some(Some(reply)) => ConnState::Closed {
                            code: Some(reply.code),
                            reason: reply.reason,
                        },
                        _ => ConnState::Closed {
                            code: Some(code),
                            reason,
                        },
                    },
                };
                self.out.state(state);
            }
            Ending::PeerClose(info) => {
                // tungstenite echoes the close frame; it goes out with the next flush.
                self.out.close_frame(Direction::Send, info.clone());
                self.drain_until_closed().await;
                let (code, reason) = match info {
                    Some(i) => (i.code, i.reason),
                    None => (1005, String::new()),
                };
                self.out.state(ConnState::Closed {
                    code: Some(code),
                    reason,
                });
            }
            Ending::Fail { error, close } => {
                self.out.state(ConnState::Failed(error));
                if let Some((code, reason)) = close
                    && self.send_close(code, reason).await.is_ok()
                {
                    self.await_close_reply().await;
                }
            }
        }
    }

    /// Send a Close frame and flush it (bounded by the close timeout); record it if it went.
    async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), NetError> {
        let frame = CloseFrame {
            code: code.into(),
            reason: Utf8Bytes::from(reason),
        };
        let deadline = tokio::time::Instant::now() + self.spec.close_timeout;
        match timeout_at(deadline, self.ws.send(Message::Close(Some(frame)))).await {
            Ok(Ok(())) => {
                self.out.close_frame(
                    Direction::Send,
                    Some(CloseInfo {
                        code,
                        reason: reason.to_string(),
                    }),
                );
                Ok(())
            }
            Ok(Err(e)) => Err(NetError::new(
                NetErrorKind::Io,
                clean_line(&format!("connection lost: {e}")),
            )),
            Err(_) => Err(NetError::new(
                NetErrorKind::Timeout,
                format!(
                    "timeout: the Close frame could not be sent within {}",
                    human_duration(self.spec.close_timeout)
                ),
            )),
        }
    }

    /// After our Close: record frames until the server's Close (returned), the end of the
    /// stream, or the close timeout (`None` for both).
    async fn await_close_reply(&mut self) -> Option<Option<CloseInfo>> {
        let deadline = tokio::time::Instant::now() + self.spec.close_timeout;
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let info = frame.map(close_info);
                    self.out.close_frame(Direction::Receive, info.clone());
                    return Some(info);
                }
                Ok(Some(Ok(m))) => self.record_late(m),
                Ok(Some(Err(_)) | None) | Err(_) => return None,
            }
        }
    }

    /// After the server's Close: send our echo and wait (bounded) for the server to end the
    /// connection, recording anything that still arrives.
    async fn drain_until_closed(&mut self) {
        let deadline = tokio::time::Instant::now() + self.spec.close_timeout;
        if !matches!(timeout_at(deadline, self.ws.flush()).await, Ok(Ok(()))) {
            return;
        }
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(m))) => self.record_late(m),
                Ok(Some(Err(_)) | None) | Err(_) => return,
            }
        }
    }

    /// Record a frame that arrives while closing (no login judging, no auto-pong any more).
    fn record_late(&mut self, m: Message) {
        match m {
            Message::Text(t) => self
                .out
                .frame(Direction::Receive, Opcode::Text, Bytes::from(t)),
            Message::Binary(b) => self.out.frame(Direction::Receive, Opcode::Binary, b),
            Message::Ping(p) => self.out.frame(Direction::Receive, Opcode::Ping, p),
            Message::Pong(p) => self.out.frame(Direction::Receive, Opcode::Pong, p),
            Message::Close(frame) => self
                .out
                .close_frame(Direction::Receive, frame.map(close_info)),
            Message::Frame(_) => {}
        }
    }
}

fn close_info(f: CloseFrame) -> CloseInfo {
    CloseInfo {
        code: f.code.into(),
        reason: f.reason.as_str().to_string(),
    }
}

/// A read failure: what the user is told and which close code (if any) we answer with.
fn read_error(e: WsError) -> Ending {
    let (kind, message, close) = match e {
        WsError::Utf8(_) => (
            NetErrorKind::Protocol,
            "protocol error: a text message was not valid UTF-8 (closing with 1007 Invalid Payload Data)"
                .to_string(),
            Some((1007, "invalid UTF-8")),
        ),
        WsError::Capacity(c) => (
            NetErrorKind::Protocol,
            format!("protocol error: {c} (closing with 1009 Message Too Big)"),
            Some((1009, "message too big")),
        ),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => (
            NetErrorKind::Io,
            "connection lost: the server closed the connection without a Close frame".to_string(),
            None,
        ),
        WsError::Protocol(p) => (
            NetErrorKind::Protocol,
            format!("protocol error: {p} (closing with 1002 Protocol Error)"),
            Some((1002, "protocol error")),
        ),
        WsError::Io(e) => (NetErrorKind::Io, format!("connection lost: {e}"), None),
        WsError::ConnectionClosed | WsError::AlreadyClosed => (
            NetErrorKind::Io,
            "connection lost: the connection closed".to_string(),
            None,
        ),
        other => (NetErrorKind::Protocol, format!("protocol error: {other}"), None),
    };
    Ending::Fail {
        error: NetError::new(kind, clean_line(&message)),
        close,
    }
}

fn write_error(e: WsError) -> Ending {
    let (kind, message) = match e {
        WsError::Capacity(c) => (NetErrorKind::Protocol, format!("cannot send: {c}")),
        WsError::Io(e) => (NetErrorKind::Io, format!("connection lost: {e}")),
        WsError::ConnectionClosed | WsError::AlreadyClosed => (
            NetErrorKind::Io,
            "connection lost: the connection closed".to_string(),
        ),
        other => (NetErrorKind::Protocol, format!("cannot send: {other}")),
    };
    Ending::Fail {
        error: NetError::new(kind, clean_line(&message)),
        close: None,
    }
}
