//! The end of a connection: the close handshake either way, the final state or a new try,
//! and what read and write errors mean to the user.

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{CloseReply, Ending, Session, SessionEnd};
use crate::model::{
    CloseInfo, ConnState, Direction, NetError, NetErrorKind, Opcode, close_code_name,
};
use crate::net::{clean_line, human_duration, reconnect};
use crate::wire::deflate::InflateError;

impl Session<'_> {
    /// Everything after the loop: close handshakes, then the final state or a new try.
    pub(super) async fn finish(&mut self, ending: Ending, retry: bool) -> SessionEnd {
        self.login_deadline = None;
        let logged_in = self.logged_in_at.is_some();
        let stable = self
            .logged_in_at
            .is_some_and(|t| t.elapsed() >= reconnect::STABLE_AFTER);
        let again = |cause: ConnState, reason: String| SessionEnd::Retry {
            cause,
            reason: clean_line(&reason),
            logged_in,
            stable,
        };
        match ending {
            Ending::UserClose { code, reason } => {
                self.t.out.state(ConnState::Closing);
                let timeout = self.t.spec.close_timeout;
                let state = match self.send_close(code, &reason).await {
                    Err(e) => ConnState::Closed {
                        code: None,
                        reason: e.message,
                    },
                    Ok(()) => match self.await_close_reply().await {
                        CloseReply::Got(Some(reply)) => ConnState::Closed {
                            code: Some(reply.code),
                            reason: reply.reason,
                        },
                        CloseReply::Got(None) => ConnState::Closed {
                            code: Some(code),
                            reason,
                        },
                        CloseReply::TimedOut => ConnState::Closed {
                            code: Some(code),
                            reason: format!("no Close reply within {}", human_duration(timeout)),
                        },
                        CloseReply::Ended => ConnState::Closed {
                            code: Some(code),
                            reason: "the server ended the connection without a Close reply".into(),
                        },
                    },
                };
                self.t.out.state(state);
                SessionEnd::Done
            }
            Ending::PeerClose(info) => {
                // tungstenite echoes the close frame; it goes out with the next flush.
                self.t
                    .out
                    .close_frame(Direction::ClientToServer, info.clone());
                self.drain_until_closed().await;
                let (code, reason) = match info {
                    Some(i) => (i.code, i.reason),
                    None => (1005, String::new()),
                };
                let state = ConnState::Closed {
                    code: Some(code),
                    reason: reason.clone(),
                };
                if retry {
                    let mut why = format!(
                        "the server closed the connection: {code} {}",
                        close_code_name(code)
                    );
                    if !reason.is_empty() {
                        why.push_str(": ");
                        why.push_str(&reason);
                    }
                    return again(state, why);
                }
                self.t.out.state(state);
                SessionEnd::Done
            }
            Ending::Fail { error, close } => {
                if !retry {
                    self.t.out.state(ConnState::Failed(error.clone()));
                }
                if let Some((code, reason)) = close
                    && self.send_close(code, reason).await.is_ok()
                {
                    self.await_close_reply().await;
                }
                if retry {
                    let why = error.message.clone();
                    return again(ConnState::Failed(error), why);
                }
                SessionEnd::Done
            }
        }
    }

    /// Send a Close frame and flush it (bounded by the close timeout); record it if it went.
    async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), NetError> {
        let frame = CloseFrame {
            code: code.into(),
            reason: Utf8Bytes::from(reason),
        };
        let deadline = tokio::time::Instant::now() + self.t.spec.close_timeout;
        match timeout_at(deadline, self.ws.send(Message::Close(Some(frame)))).await {
            Ok(Ok(())) => {
                self.t.out.close_frame(
                    Direction::ClientToServer,
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
                    human_duration(self.t.spec.close_timeout)
                ),
            )),
        }
    }

    /// After our Close: record frames until the server's Close, the end of the stream, or
    /// the close timeout.
    async fn await_close_reply(&mut self) -> CloseReply {
        let deadline = tokio::time::Instant::now() + self.t.spec.close_timeout;
        loop {
            match timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let info = frame.map(close_info);
                    self.t
                        .out
                        .close_frame(Direction::ServerToClient, info.clone());
                    return CloseReply::Got(info);
                }
                Ok(Some(Ok(m))) => self.record_late(m),
                Ok(Some(Err(_)) | None) => return CloseReply::Ended,
                Err(_) => return CloseReply::TimedOut,
            }
        }
    }

    /// After the server's Close: send our echo and wait (bounded) for the server to end the
    /// connection, recording anything that still arrives.
    async fn drain_until_closed(&mut self) {
        let deadline = tokio::time::Instant::now() + self.t.spec.close_timeout;
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
        let out = &mut self.t.out;
        match m {
            Message::Text(t) => out.received(Opcode::Text, Bytes::from(t), self.wire_log.pop()),
            Message::Binary(b) => out.received(Opcode::Binary, b, self.wire_log.pop()),
            Message::Ping(p) => out.frame(Direction::ServerToClient, Opcode::Ping, p),
            Message::Pong(p) => out.frame(Direction::ServerToClient, Opcode::Pong, p),
            Message::Close(frame) => {
                out.close_frame(Direction::ServerToClient, frame.map(close_info))
            }
            Message::Frame(_) => {}
        }
    }
}

pub(super) fn close_info(f: CloseFrame) -> CloseInfo {
    CloseInfo {
        code: f.code.into(),
        reason: f.reason.as_str().to_string(),
    }
}

/// A read failure: what the user is told and which close code (if any) we answer with.
pub(super) fn read_error(e: WsError) -> Ending {
    let close = crate::wire::close_for_read_error(&e);
    let (kind, message) = match e {
        WsError::Utf8(_) => (
            NetErrorKind::Protocol,
            "protocol error: a text message was not valid UTF-8 (closing with 1007 Invalid Payload Data)"
                .to_string(),
        ),
        WsError::Capacity(c) => (
            NetErrorKind::Protocol,
            format!(
                "protocol error: {c}; --max-message raises the limit (closing with 1009 Message \
                 Too Big)"
            ),
        ),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => (
            NetErrorKind::Io,
            "connection lost: the server closed the connection without a Close frame".to_string(),
        ),
        WsError::Protocol(p) => (
            NetErrorKind::Protocol,
            format!("protocol error: {p} (closing with 1002 Protocol Error)"),
        ),
        WsError::Io(e) if InflateError::from_io(&e).is_some() => match InflateError::from_io(&e) {
            Some(InflateError::TooBig { limit }) => (
                NetErrorKind::Protocol,
                format!(
                    "the server sent a compressed message that inflates past the {} limit \
                     (--max-message raises it); closing with 1009 Message Too Big",
                    crate::fmt::human_size(*limit)
                ),
            ),
            _ => (
                NetErrorKind::Protocol,
                "the server sent a compressed message that is not valid DEFLATE data; closing \
                 with 1007 Invalid Payload Data"
                    .to_string(),
            ),
        },
        WsError::Io(e) => (NetErrorKind::Io, format!("connection lost: {e}")),
        WsError::ConnectionClosed | WsError::AlreadyClosed => (
            NetErrorKind::Io,
            "connection lost: the connection closed".to_string(),
        ),
        other => (NetErrorKind::Protocol, format!("protocol error: {other}")),
    };
    Ending::Fail {
        error: NetError::new(kind, clean_line(&message)),
        close,
    }
}

pub(super) fn write_error(e: WsError) -> Ending {
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
