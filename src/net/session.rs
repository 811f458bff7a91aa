//! The network task: opening the connection, the read/write loop, the first-message login,
//! pings and the silence check, the close handshake either way, and reconnecting.
//!
//! # Reconnecting
//!
//! Once a connection of the task has logged in, an unexpected drop is followed by new tries
//! (with `ConnectSpec::reconnect`, the default): the connection was lost (read or write
//! error, the stream ended, nothing received within the ping timeout), or the server closed
//! it with a code that invites a retry (1001 going away, 1011, 1012, 1013, 1014). Not after
//! the user's Close, not after a rejected login (the user has to act), not after any other
//! close code (1000 and policy/protocol codes are the server's decision).
//!
//! Each try is announced as `State(Reconnecting { attempt, retry_at, reason })` and starts at
//! `retry_at` (0.5 s doubling to 30 s, minus up to 20 % jitter); it then goes through the
//! usual `Connecting`, `Handshaking`, `Handshake`, login states and frames, with frame numbers
//! continuing. A try that fails in a way worth repeating (refused, timeout, DNS, HTTP 5xx,
//! lost during login) schedules the next one; any other failure (HTTP 4xx, TLS, …) ends the
//! task with `Failed`. A rejected login on the new connection leaves it in `AwaitingLogin`
//! like the first time.
//!
//! Text and binary messages asked for while no connection is logged in are queued and sent
//! exactly once, in order, right after the next `State(LoggedIn)`, before anything newer.
//! `NetCommand::CancelReconnect` (or `Close`) while reconnecting ends the task: with the
//! state the drop left (`Closed` with the server's code, or `Failed`) for a cancel, with
//! `Closed { code: None, .. }` for a close; queued messages are then not sent.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Interval, MissedTickBehavior, Sleep, sleep, sleep_until};
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::connect::{self, WsStream};
use super::events::Out;
use super::human_duration;
use super::reconnect;
use crate::model::{
    CloseInfo, ConnState, Direction, NetCommand, NetError, NetErrorKind, NetEvent, Opcode,
};
use crate::spec::{AuthMethod, ConnectSpec};
use crate::wire::deflate::Deflater;
use crate::wire::deflate_stream::WireLog;

mod closing;
mod login;

use closing::{close_info, read_error, write_error};

/// Pings whose pong we still wait for (oldest dropped beyond this).
const MAX_PENDING_PINGS: usize = 32;
/// Messages handled in one go when more are already readable (a quit command waits at most
/// this many).
const READ_BURST: usize = 256;

/// Run one session, with its reconnections, to `Ended`.
pub(crate) async fn run(spec: ConnectSpec, cmds: UnboundedReceiver<NetCommand>, out: Out) {
    let mut task = Task {
        spec,
        cmds,
        out,
        queue: VecDeque::new(),
        ever_logged_in: false,
        backoff_step: 0,
        pings_sent: 0,
    };
    task.run().await;
    task.out.emit(NetEvent::Ended);
}

/// What lives across the connections of one session.
struct Task {
    spec: ConnectSpec,
    cmds: UnboundedReceiver<NetCommand>,
    out: Out,
    /// Text and binary messages waiting for a logged-in connection, oldest first.
    queue: VecDeque<NetCommand>,
    /// A connection of this task got logged in: only then is a drop followed by new tries.
    ever_logged_in: bool,
    /// Tries since the backoff was last reset (sets the next delay).
    backoff_step: u32,
    /// Automatic pings sent (their payloads count up).
    pings_sent: u64,
}

/// A drop being recovered from.
struct Outage {
    /// How the connection ended: the final state if the user cancels.
    cause: ConnState,
    /// Tries announced so far.
    attempts: u32,
    /// Why the next try is needed (the drop, or the last try's failure).
    reason: String,
    /// The kind of the last try's failure (`Io` for the drop itself).
    kind: NetErrorKind,
}

enum Opened {
    Ws(Box<connect::Link>),
    Failed(NetError),
    Stopped(Stop),
}

/// The user ended the task while no connection was open.
enum Stop {
    /// `Close` (or the command channel dropped).
    Close,
    CancelReconnect,
}

/// How a connection's life ended.
enum SessionEnd {
    /// The final state has been sent.
    Done,
    /// Try again.
    Retry {
        cause: ConnState,
        reason: String,
        /// This connection had logged in (so this is a new drop, not a failed try).
        logged_in: bool,
        /// It stayed logged in long enough to reset the backoff.
        stable: bool,
    },
}

impl Task {
    async fn run(&mut self) {
        let mut outage: Option<Outage> = None;
        loop {
            if let Some(o) = outage.as_ref()
                && self.spec.reconnect_max.is_some_and(|max| o.attempts >= max)
            {
                let n = o.attempts;
                let tries = if n == 1 { "try" } else { "tries" };
                self.out.state(ConnState::Failed(NetError::new(
                    o.kind,
                    format!(
                        "gave up reconnecting after {n} {tries} (--reconnect-max): {}",
                        o.reason
                    ),
                )));
                return;
            }
            if let Some(o) = outage.as_mut()
                && let Some(stop) = self.wait_before_try(o).await
            {
                let state = self.stop_state(stop, Some(o));
                self.out.state(state);
                return;
            }
            self.out.state(ConnState::Connecting);
            let link = match self.open(outage.is_some()).await {
                Opened::Ws(link) => *link,
                Opened::Stopped(stop) => {
                    let state = self.stop_state(stop, outage.as_ref());
                    self.out.state(state);
                    return;
                }
                Opened::Failed(e) => match outage.as_mut() {
                    Some(o) if reconnect::error_invites_retry(e.kind) => {
                        o.reason = e.message;
                        o.kind = e.kind;
                        continue;
                    }
                    _ => {
                        self.out.state(ConnState::Failed(e));
                        return;
                    }
                },
            };
            let session = Session::new(link, self, outage.is_some());
            match session.run().await {
                SessionEnd::Done => return,
                SessionEnd::Retry {
                    cause,
                    reason,
                    logged_in,
                    stable,
                } => {
                    if stable {
                        self.backoff_step = 0;
                    }
                    match outage.as_mut() {
                        Some(o) if !logged_in => {
                            o.reason = reason;
                            o.kind = NetErrorKind::Io;
                        }
                        _ => {
                            outage = Some(Outage {
                                cause,
                                attempts: 0,
                                reason,
                                kind: NetErrorKind::Io,
                            })
                        }
                    }
                }
            }
        }
    }

    /// Announce the next try and wait for its time, holding commands that arrive meanwhile.
    async fn wait_before_try(&mut self, o: &mut Outage) -> Option<Stop> {
        o.attempts += 1;
        self.backoff_step = self.backoff_step.saturating_add(1);
        let delay = reconnect::delay(self.backoff_step);
        self.out.state(ConnState::Reconnecting {
            attempt: o.attempts,
            retry_at: SystemTime::now() + delay,
            delay,
            reason: o.reason.clone(),
        });
        let wait = sleep(delay);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => return None,
                c = self.cmds.recv() => match c {
                    None | Some(NetCommand::Close { .. }) => return Some(Stop::Close),
                    Some(NetCommand::CancelReconnect) => return Some(Stop::CancelReconnect),
                    Some(c) => hold(&mut self.queue, c),
                },
            }
        }
    }

    /// Open the connection (emitting `Handshaking` and `Handshake`), holding commands that
    /// arrive meanwhile. A close stops it at once; so does a cancel while reconnecting.
    async fn open(&mut self, reconnecting: bool) -> Opened {
        let Task {
            spec,
            cmds,
            out,
            queue,
            ..
        } = self;
        let open = connect::open(spec, out);
        tokio::pin!(open);
        loop {
            tokio::select! {
                r = &mut open => return match r {
                    Ok(link) => Opened::Ws(Box::new(link)),
                    Err(e) => Opened::Failed(e),
                },
                c = cmds.recv() => match c {
                    None | Some(NetCommand::Close { .. }) => return Opened::Stopped(Stop::Close),
                    Some(NetCommand::CancelReconnect) if reconnecting => {
                        return Opened::Stopped(Stop::CancelReconnect);
                    }
                    Some(c) => hold(queue, c),
                },
            }
        }
    }

    /// The final state when the user stops the task while no connection is open.
    fn stop_state(&self, stop: Stop, outage: Option<&Outage>) -> ConnState {
        match (stop, outage) {
            (Stop::CancelReconnect, Some(o)) => o.cause.clone(),
            (_, Some(_)) => ConnState::Closed {
                code: None,
                reason: "closed while reconnecting".into(),
            },
            (_, None) => ConnState::Closed {
                code: None,
                reason: "cancelled before the connection was open".into(),
            },
        }
    }
}

/// A command that arrived while no connection is open: messages wait for the next login;
/// pings and logins mean nothing without a connection.
fn hold(queue: &mut VecDeque<NetCommand>, c: NetCommand) {
    if matches!(c, NetCommand::SendText(_) | NetCommand::SendBinary(_)) {
        queue.push_back(c);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `--login-after`: waiting for the server's greeting before logging in.
    Greeting,
    LoggingIn,
    AwaitingLogin,
    /// Logged in and the openings sent; waiting for the server's answer to them (a preset's
    /// `opening_ack`) before sending what waited.
    Opening,
    LoggedIn,
}

/// Why the loop stopped, and what is left to do before the final state.
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
    PingDue,
    Silent,
    Msg(Option<Result<Message, WsError>>),
    WriteFailed(WsError),
}

/// Detects a peer that went silent: nothing received for `limit` while pinging.
struct Silence {
    limit: Duration,
    last_rx: tokio::time::Instant,
    timer: Pin<Box<Sleep>>,
}

/// What became of our Close frame.
enum CloseReply {
    /// The server answered (with a code, or without one).
    Got(Option<CloseInfo>),
    /// No answer within the close timeout.
    TimedOut,
    /// The connection ended without an answer.
    Ended,
}

/// One open connection.
struct Session<'t> {
    ws: WsStream,
    t: &'t mut Task,
    /// This connection replaces one that dropped.
    reconnection: bool,
    phase: Phase,
    login_deadline: Option<Pin<Box<Sleep>>>,
    pings: VecDeque<(Bytes, Instant)>,
    ping_every: Option<Interval>,
    silence: Option<Silence>,
    logged_in_at: Option<Instant>,
    /// What `--login-after` captured from the greeting, for the template (and retries).
    groups: crate::template::Groups,
    /// Compresses what we send, when the server agreed to permessage-deflate.
    deflater: Option<Deflater>,
    /// Wire sizes of the compressed messages read.
    wire_log: WireLog,
    /// A redirect led to another origin: the credentials (and so the login) stay behind.
    withheld: bool,
    /// Something may wait in the write buffer: a frame of ours, or the pong tungstenite
    /// queues for a ping. Flushing is skipped while this is false (a flood of reads then
    /// costs no flush per message).
    unflushed: bool,
}

impl<'t> Session<'t> {
    fn new(link: connect::Link, t: &'t mut Task, reconnection: bool) -> Self {
        let connect::Link { ws, withheld } = link;
        let every = t.spec.ping_interval.filter(|d| !d.is_zero());
        let ping_every = every.map(|every| {
            let mut iv = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
            iv
        });
        let silence = t.spec.effective_ping_timeout().map(|limit| {
            let now = tokio::time::Instant::now();
            Silence {
                limit,
                last_rx: now,
                timer: Box::pin(sleep_until(now + limit)),
            }
        });
        let deflater = ws
            .get_ref()
            .negotiated()
            .ok()
            .flatten()
            .map(|p| Deflater::new(&p, tokio_tungstenite::tungstenite::protocol::Role::Client));
        let wire_log = ws.get_ref().wire_log();
        Session {
            withheld,
            unflushed: false,
            deflater,
            wire_log,
            ws,
            t,
            reconnection,
            phase: Phase::LoggingIn,
            login_deadline: None,
            pings: VecDeque::new(),
            ping_every,
            silence,
            logged_in_at: None,
            groups: Default::default(),
        }
    }

    async fn run(mut self) -> SessionEnd {
        let ending = match self.start() {
            Err(ending) => ending,
            Ok(()) => self.main_loop().await,
        };
        let retry = self.may_retry(&ending);
        self.finish(ending, retry).await
    }

    /// Whether this ending is followed by a new try (see the module docs).
    fn may_retry(&self, ending: &Ending) -> bool {
        if !self.t.spec.reconnect || !self.t.ever_logged_in || self.phase == Phase::AwaitingLogin {
            return false;
        }
        match ending {
            Ending::UserClose { .. } => false,
            Ending::PeerClose(info) => reconnect::close_invites_retry(info.as_ref()),
            Ending::Fail { error, .. } => reconnect::error_invites_retry(error.kind),
        }
    }

    async fn main_loop(&mut self) -> Ending {
        loop {
            let step = match self.next_wake().await {
                Wake::Cmd(Some(c)) => self.on_command(c),
                Wake::Cmd(None) => Err(Ending::UserClose {
                    code: 1000,
                    reason: String::new(),
                }),
                Wake::LoginTimeout => Err(Ending::Fail {
                    error: NetError::new(
                        NetErrorKind::LoginTimeout,
                        match (&self.phase, &self.t.spec.login.after) {
                            (Phase::Opening, _) => format!(
                                "the server did not send {} within {} — is the URL the \
                                 protocol's endpoint (socket.io: /socket.io/?EIO=4&transport=\
                                 websocket)?",
                                self.t.spec.opening_ack.as_ref().map_or("", |a| a.what),
                                human_duration(self.t.spec.login.timeout)
                            ),
                            (Phase::Greeting, Some(re)) => format!(
                                "login: no message from the server matched --login-after {} \
                                 within {} — check the regex against the greeting in the monitor",
                                re.as_str(),
                                human_duration(self.t.spec.login.timeout)
                            ),
                            _ => format!(
                                "login: no reply matched --login-ok or --login-fail within {}",
                                human_duration(self.t.spec.login.timeout)
                            ),
                        },
                    ),
                    close: Some((1000, "login timed out")),
                }),
                Wake::PingDue => self.auto_ping(),
                Wake::Silent => {
                    let limit = self.silence.as_ref().map(|s| s.limit).unwrap_or_default();
                    Err(Ending::Fail {
                        error: NetError::new(
                            NetErrorKind::Timeout,
                            format!(
                                "connection lost: no pong or other frame within {} (ping timeout)",
                                human_duration(limit)
                            ),
                        ),
                        close: None,
                    })
                }
                Wake::Msg(m) => self.on_read(m).and_then(|()| self.drain_buffered()),
                Wake::WriteFailed(e) => Err(write_error(e)),
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    /// One read from the socket: a message, a read error, or the end of the stream.
    fn on_read(&mut self, read: Option<Result<Message, WsError>>) -> Result<(), Ending> {
        match read {
            Some(Ok(m)) => self.on_message(m),
            Some(Err(e)) => Err(read_error(e)),
            None => Err(Ending::Fail {
                error: NetError::new(NetErrorKind::Io, "connection lost: the stream ended"),
                close: None,
            }),
        }
    }

    /// Handle the messages that are already buffered or readable without waiting (at most
    /// [`READ_BURST`]) before commands and timers are looked at again: in a flood, the
    /// per-wake polling is paid once per burst instead of once per message.
    fn drain_buffered(&mut self) -> Result<(), Ending> {
        use futures_util::FutureExt as _;
        for _ in 0..READ_BURST {
            if self.t.out.ui_behind() || !self.write_side_clear()? {
                break;
            }
            match self.ws.next().now_or_never() {
                Some(read) => self.on_read(read)?,
                None => break,
            }
        }
        Ok(())
    }

    /// Flush what is queued (our frames and the pongs tungstenite queues by itself) without
    /// waiting: `false` while the socket does not take it. Nothing is read meanwhile, so a peer
    /// that pings flat out and never reads our pongs meets TCP backpressure instead of growing
    /// our write buffer (issue 15.1).
    fn write_side_clear(&mut self) -> Result<bool, Ending> {
        use futures_util::FutureExt as _;
        if !self.unflushed {
            return Ok(true);
        }
        match poll_fn(|cx| self.ws.poll_flush_unpin(cx)).now_or_never() {
            Some(Ok(())) => {
                self.unflushed = false;
                Ok(true)
            }
            Some(Err(e)) => Err(write_error(e)),
            None => Ok(false),
        }
    }

    /// Wait for the next thing to do. Commands go first (so a quit is seen even during a
    /// flood), then the timers, then pending writes are flushed, then the socket is read.
    /// Flushing only once the command queue is empty batches many sends into one write.
    /// While the flush cannot finish, the socket is not read: what we read may make us write
    /// (tungstenite answers each ping with a pong), and a peer that does not read must meet
    /// backpressure, not a growing buffer. Nor is it read while the UI is behind.
    async fn next_wake(&mut self) -> Wake {
        poll_fn(|cx| {
            if let Poll::Ready(c) = self.t.cmds.poll_recv(cx) {
                return Poll::Ready(Wake::Cmd(c));
            }
            if let Some(deadline) = self.login_deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                self.login_deadline = None;
                return Poll::Ready(Wake::LoginTimeout);
            }
            if let Some(iv) = self.ping_every.as_mut()
                && iv.poll_tick(cx).is_ready()
            {
                return Poll::Ready(Wake::PingDue);
            }
            if let Some(s) = self.silence.as_mut()
                && s.timer.as_mut().poll(cx).is_ready()
            {
                // The timer was set from an older `last_rx`: move it, or declare silence.
                let due = s.last_rx + s.limit;
                if due <= tokio::time::Instant::now() {
                    return Poll::Ready(Wake::Silent);
                }
                s.timer.as_mut().reset(due);
                let _ = s.timer.as_mut().poll(cx);
            }
            // Flushed whenever something may wait (tungstenite queues pongs by itself: a
            // received ping counts).
            match self.unflushed.then(|| self.ws.poll_flush_unpin(cx)) {
                None => {}
                Some(Poll::Ready(Ok(()))) => self.unflushed = false,
                Some(Poll::Ready(Err(e))) => return Poll::Ready(Wake::WriteFailed(e)),
                // Woken when the socket takes more.
                Some(Poll::Pending) => return Poll::Pending,
            }
            // The UI is behind: read no more until it catches up (woken then).
            if self.t.out.poll_ui_behind(cx) {
                return Poll::Pending;
            }
            self.ws.poll_next_unpin(cx).map(Wake::Msg)
        })
        .await
    }

    fn on_command(&mut self, c: NetCommand) -> Result<(), Ending> {
        match c {
            NetCommand::SendText(_) | NetCommand::SendBinary(_) => {
                if self.phase == Phase::LoggedIn && self.t.queue.is_empty() {
                    self.send_data(c)?;
                } else {
                    // Not logged in (yet, or again): the message waits for the login.
                    self.t.queue.push_back(c);
                }
            }
            NetCommand::Login { user, password } => {
                // Only meaningful while the server waits for a (new) login frame. The
                // credentials are kept for logging in again after a drop.
                if self.t.spec.auth == AuthMethod::FirstMessage
                    && !matches!(self.phase, Phase::LoggedIn | Phase::Opening)
                {
                    self.send_login(&user, &password)?;
                    self.t.spec.user = user;
                    self.t.spec.password = password;
                }
            }
            NetCommand::Ping(p) => self.send_ping(Bytes::from(p))?,
            NetCommand::Close { code, reason } => return Err(Ending::UserClose { code, reason }),
            NetCommand::CancelReconnect => {
                // Stop a reconnection that has not logged in yet; otherwise nothing to stop.
                if self.reconnection && self.phase != Phase::LoggedIn {
                    return Err(Ending::UserClose {
                        code: 1000,
                        reason: "reconnect cancelled".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Send a text or binary message. If the connection refuses it, the message goes back to
    /// the front of the queue (a reconnection sends it).
    fn send_data(&mut self, c: NetCommand) -> Result<(), Ending> {
        let (message, opcode, payload) = match c {
            NetCommand::SendText(s) => {
                let text = Utf8Bytes::from(s);
                let payload = Bytes::from(text.clone());
                (Message::Text(text), Opcode::Text, payload)
            }
            NetCommand::SendBinary(v) => {
                let payload = Bytes::from(v);
                (Message::Binary(payload.clone()), Opcode::Binary, payload)
            }
            _ => return Ok(()),
        };
        let (message, wire) = self.compress(message);
        self.unflushed = true;
        match self.ws.start_send_unpin(message) {
            Ok(()) => {
                self.t
                    .out
                    .data_frame(Direction::ClientToServer, opcode, payload, wire);
                Ok(())
            }
            Err(e) => {
                let back = match opcode {
                    Opcode::Text => {
                        NetCommand::SendText(String::from_utf8_lossy(&payload).into_owned())
                    }
                    _ => NetCommand::SendBinary(payload.to_vec()),
                };
                self.t.queue.push_front(back);
                Err(write_error(e))
            }
        }
    }

    fn send_ping(&mut self, payload: Bytes) -> Result<(), Ending> {
        self.write(Message::Ping(payload.clone()))?;
        self.t
            .out
            .frame(Direction::ClientToServer, Opcode::Ping, payload.clone());
        if self.pings.len() == MAX_PENDING_PINGS {
            self.pings.pop_front();
        }
        self.pings.push_back((payload, Instant::now()));
        Ok(())
    }

    /// The `--ping-interval` ping.
    fn auto_ping(&mut self) -> Result<(), Ending> {
        self.t.pings_sent += 1;
        let payload = Bytes::from(format!("wsdeck {}", self.t.pings_sent));
        self.send_ping(payload)
    }

    /// A data message as it goes on the wire (compressed if agreed) and its compressed size.
    fn compress(&mut self, m: Message) -> (Message, Option<usize>) {
        match self.deflater.as_mut() {
            Some(d) => d.message(m),
            None => (m, None),
        }
    }

    /// Queue a message; the loop flushes once no more commands are waiting.
    fn write(&mut self, m: Message) -> Result<(), Ending> {
        self.unflushed = true;
        self.ws.start_send_unpin(m).map_err(write_error)
    }

    fn on_message(&mut self, m: Message) -> Result<(), Ending> {
        if let Some(s) = self.silence.as_mut() {
            s.last_rx = tokio::time::Instant::now();
        }
        match m {
            Message::Text(t) => {
                let wire = self.wire_log.pop();
                self.t
                    .out
                    .received(Opcode::Text, Bytes::from(t.clone()), wire);
                if let Some(reply) = crate::openings::reply_to(&self.t.spec.auto_replies, &t) {
                    self.auto_reply(reply)?;
                }
                if self.phase == Phase::LoggingIn {
                    self.judge_login(t.as_str())?;
                } else if self.phase == Phase::Opening {
                    self.judge_opening(t.as_str())?;
                } else if self.phase == Phase::Greeting
                    && let Some(g) = self
                        .t
                        .spec
                        .login
                        .after
                        .as_ref()
                        .and_then(|re| crate::template::Groups::capture(re, t.as_str()))
                {
                    self.groups = g;
                    let (user, password) = (self.t.spec.user.clone(), self.t.spec.password.clone());
                    self.send_login(&user, &password)?;
                }
            }
            Message::Binary(b) => {
                let wire = self.wire_log.pop();
                self.t.out.received(Opcode::Binary, b, wire)
            }
            Message::Ping(p) => {
                self.unflushed = true;
                self.t
                    .out
                    .frame(Direction::ServerToClient, Opcode::Ping, p.clone());
                // tungstenite queues the pong itself and sends it on the next read.
                self.t.out.frame(Direction::ClientToServer, Opcode::Pong, p);
            }
            Message::Pong(p) => {
                if let Some(i) = self.pings.iter().position(|(q, _)| *q == p) {
                    let sent = self.pings[i].1;
                    // Pings older than the answered one will not be answered any more.
                    self.pings.drain(..=i);
                    self.t.out.frame(Direction::ServerToClient, Opcode::Pong, p);
                    self.t.out.emit(NetEvent::Rtt(sent.elapsed()));
                } else {
                    self.t.out.frame(Direction::ServerToClient, Opcode::Pong, p);
                }
            }
            Message::Close(frame) => {
                let info = frame.map(close_info);
                self.t
                    .out
                    .close_frame(Direction::ServerToClient, info.clone());
                return Err(Ending::PeerClose(info));
            }
            Message::Frame(_) => {}
        }
        Ok(())
    }
}
