//! Types shared by the network task, the UI, the recorder and the demo server.
//!
//! `FrameRecord` is the one record every consumer reads: the chat view, the monitor,
//! the JSONL recorder and the HAR exporter.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// Which peer sent a frame. Our own client session is the client, so what wsdeck sends is
/// `ClientToServer`; a proxied connection has a real client on one side and a server on the
/// other (as mitmproxy's `from_client`).
///
/// In JSONL: `"c2s"` / `"s2c"`; recordings written before this read `"send"` / `"receive"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    #[serde(rename = "c2s", alias = "send")]
    ClientToServer,
    #[serde(rename = "s2c", alias = "receive")]
    ServerToClient,
}

impl Direction {
    /// `↑` client→server, `↓` server→client (up and down as seen from the client).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "↑",
            Direction::ServerToClient => "↓",
        }
    }
    /// The other way.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
    /// The name used in recordings and filters: `c2s` or `s2c`.
    pub fn code(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }
}

/// Where a frame came from, besides "it passed the wire as its peer sent it".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Sent by its peer and passed on unchanged (every frame of our own client session).
    #[default]
    Wire,
    /// Not sent by the peer: typed into the connection by the user (proxy inject/resend).
    Injected,
    /// Sent by its peer, edited before it was passed on (the payload is the edited one).
    Modified,
    /// Sent by its peer, never passed on.
    Dropped,
    /// Sent by wsdeck by itself: an `--auto-reply` (or a preset's) answer.
    Auto,
    /// Sent by its peer and held by the proxy's intercept rule, not passed on yet: it
    /// settles, in place, as wire, modified or dropped.
    Held,
}

impl Origin {
    pub const ALL: [Origin; 6] = [
        Origin::Wire,
        Origin::Injected,
        Origin::Modified,
        Origin::Dropped,
        Origin::Auto,
        Origin::Held,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Origin::Wire => "wire",
            Origin::Injected => "injected",
            Origin::Modified => "modified",
            Origin::Dropped => "dropped",
            Origin::Auto => "auto",
            Origin::Held => "held",
        }
    }
    pub fn is_wire(&self) -> bool {
        *self == Origin::Wire
    }
}

/// What kind of frame a file (or stdin) is sent as: the user says, or `Auto` decides by
/// whether the bytes are plainly text (UTF-8 without control characters other than
/// whitespace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendAs {
    #[default]
    Auto,
    Text,
    Binary,
}

/// Whether `bytes` are plainly text: UTF-8 with no control characters but tab, newline,
/// carriage return and form feed.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    })
}

/// WebSocket opcode of a (reassembled) message or control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Opcode {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

impl Opcode {
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
            Opcode::Close => "close",
        }
    }
    /// RFC 6455 numeric opcode.
    pub fn number(self) -> u8 {
        match self {
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }
}

/// Code and reason of a Close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

/// The name RFC 6455 (and the IANA registry) gives a close code.
pub fn close_code_name(code: u16) -> &'static str {
    match code {
        1000 => "Normal Closure",
        1001 => "Going Away",
        1002 => "Protocol Error",
        1003 => "Unsupported Data",
        1005 => "No Status Received",
        1006 => "Abnormal Closure",
        1007 => "Invalid Payload Data",
        1008 => "Policy Violation",
        1009 => "Message Too Big",
        1010 => "Mandatory Extension",
        1011 => "Internal Error",
        1012 => "Service Restart",
        1013 => "Try Again Later",
        1014 => "Bad Gateway",
        1015 => "TLS Handshake",
        3000..=3999 => "Registered",
        4000..=4999 => "Private Use",
        _ => "Unknown",
    }
}

/// One frame that passed the socket, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRecord {
    /// Sequence number within the session, starting at 1, never reused (also across reconnects).
    pub seq: u64,
    /// Which connection of its source it passed on: 1 for the first, counting up with each
    /// (re)connect of a client session, one per proxied connection.
    pub conn: u64,
    pub at: SystemTime,
    pub dir: Direction,
    /// Passed on as sent, or injected, modified or dropped (proxy).
    pub origin: Origin,
    pub opcode: Opcode,
    /// Payload length (before any redaction; inflated, for a compressed message).
    pub len: usize,
    /// Payload bytes. For the login frame this is the redacted text unless redaction is off.
    /// For close frames it is the reason's bytes (the code is in `close`).
    pub payload: Bytes,
    /// Code and reason of a close frame that carried a code.
    pub close: Option<CloseInfo>,
    /// True when `payload` had a secret replaced by `***`.
    pub redacted: bool,
    /// The message crossed the wire compressed (permessage-deflate) as this many payload
    /// bytes; `len` and `payload` are the inflated message. `None`: sent as it is.
    pub wire_len: Option<usize>,
    /// The frames a received message came in, when more than one.
    pub fragments: Option<std::sync::Arc<Fragments>>,
}

impl FrameRecord {
    /// Payload as text if it is valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }
}

/// The frames a message came in, when more than one (RFC 6455 §5.4 fragmentation): the first
/// has the message's opcode, the others are continuations, the last has FIN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragments {
    /// How many frames.
    pub count: u64,
    /// Payload bytes on the wire of each frame, for the first [`Fragments::MAX_SIZES`].
    pub sizes: Vec<u32>,
}

impl Fragments {
    /// Sizes kept per message (a peer sending one-byte frames cannot grow this without bound).
    pub const MAX_SIZES: usize = 4096;

    /// One more frame of `payload` bytes.
    pub fn add(&mut self, payload: u64) {
        self.count += 1;
        if self.sizes.len() < Self::MAX_SIZES {
            self.sizes.push(u32::try_from(payload).unwrap_or(u32::MAX));
        }
    }

    /// The message is complete: its fragments if it had more than one frame, and a fresh
    /// start for the next.
    pub fn take(&mut self) -> Option<std::sync::Arc<Fragments>> {
        let f = std::mem::take(self);
        (f.count > 1).then(|| std::sync::Arc::new(f))
    }
}

/// Status line and headers of one side of the HTTP upgrade.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpHead {
    /// `GET /path HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`.
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

/// Which side of wsdeck an upgrade exchange was on. Our own client session has one leg,
/// `Server`; a proxied connection has two: the client's upgrade to wsdeck and wsdeck's to
/// the server.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Leg {
    /// wsdeck (or the client it relays for) ↔ the server: the request wsdeck sent.
    #[default]
    Server,
    /// A client ↔ wsdeck: the request a client sent to wsdeck's proxy listener.
    Client,
}

/// The HTTP upgrade request and response as sent and received (secrets redacted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeInfo {
    /// The connection this upgrade opened (see `FrameRecord::conn`); 0 when not numbered.
    pub conn: u64,
    /// Which leg of the connection.
    pub leg: Leg,
    pub url: String,
    pub request: HttpHead,
    pub response: HttpHead,
    /// When the request was sent and when the response arrived.
    pub started: Option<SystemTime>,
    pub finished: Option<SystemTime>,
    /// The proxy the connection went through, credentials shown as `***` (`None`: direct).
    pub proxy: Option<String>,
    /// What TLS agreed on and what the server showed (`None`: not TLS). Boxed: most of the
    /// time a handshake is copied around, this is not looked at.
    pub tls: Option<Box<TlsInfo>>,
}

/// The TLS session of a `wss://` connection, as the client saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite's IANA name, `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// ALPN protocol agreed on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// `--insecure` was on: the chain below was not checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
    /// The certificates the server sent, its own first.
    pub chain: Vec<CertInfo>,
}

/// One certificate of a chain, in the words people read certificates with.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertInfo {
    /// Distinguished names as OpenSSL prints them: `CN=example.com, O=Example`.
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names: DNS names and IP addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Validity, as RFC 3339 UTC times.
    pub not_before: String,
    pub not_after: String,
    /// SHA-256 of the DER certificate, colon-separated upper-case hex.
    pub sha256: String,
}

/// A password or token: never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConnState {
    /// Nothing opened yet (or after the user disconnected).
    #[default]
    Idle,
    /// Resolving and opening TCP (and TLS).
    Connecting,
    /// HTTP upgrade in flight.
    Handshaking,
    /// Upgrade done, login frame sent, waiting for the verdict.
    LoggingIn,
    /// Upgrade done; a first-message login was rejected and the server waits for another try.
    AwaitingLogin,
    /// Ready to chat (logged in, or no login needed).
    LoggedIn,
    /// We sent a Close and wait for the reply.
    Closing,
    /// The connection ended; `code`/`reason` from the Close frame when there was one.
    Closed { code: Option<u16>, reason: String },
    /// Opening or running the session failed.
    Failed(NetError),
    /// The connection dropped unexpectedly; attempt number `attempt` (from 1) of opening it
    /// again starts at `retry_at`. `reason` says what went wrong (the drop, or the previous
    /// attempt's failure), already sanitised. Data sent meanwhile is queued and delivered
    /// after the new login.
    Reconnecting {
        attempt: u32,
        retry_at: SystemTime,
        /// How long after the announcement `retry_at` is (the app shows it without reading
        /// a clock).
        delay: Duration,
        reason: String,
    },
}

impl ConnState {
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            ConnState::LoggingIn | ConnState::AwaitingLogin | ConnState::LoggedIn
        )
    }
    /// A short description for the status bar; a reconnect counts down to its try as of
    /// `now`.
    pub fn label(&self, now: SystemTime) -> String {
        match self {
            ConnState::Idle => "not connected".into(),
            ConnState::Connecting => "connecting…".into(),
            ConnState::Handshaking => "handshake…".into(),
            ConnState::LoggingIn => "logging in…".into(),
            ConnState::AwaitingLogin => "login rejected — retry".into(),
            ConnState::LoggedIn => "logged in".into(),
            ConnState::Closing => "closing…".into(),
            ConnState::Closed {
                code: Some(c),
                reason,
            } if reason.is_empty() => {
                format!("closed {c} {}", close_code_name(*c))
            }
            ConnState::Closed {
                code: Some(c),
                reason,
            } => {
                format!("closed {c} {}: {reason}", close_code_name(*c))
            }
            ConnState::Closed { code: None, .. } => "closed".into(),
            ConnState::Failed(e) => format!("failed: {e}"),
            ConnState::Reconnecting {
                attempt, retry_at, ..
            } => {
                let left = retry_at.duration_since(now).unwrap_or_default();
                if left.is_zero() {
                    format!("reconnecting… (attempt {attempt})")
                } else {
                    // Whole seconds, rounded up: the countdown reaches 0 when the try starts.
                    let secs = left.as_millis().div_ceil(1000);
                    format!("reconnecting in {secs} s (attempt {attempt})")
                }
            }
        }
    }
}

/// What kind of failure, so scripts and the UI can react (and tests can check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetErrorKind {
    BadUrl,
    Dns,
    Refused,
    Timeout,
    Tls,
    /// The server answered the upgrade with this HTTP status.
    Http(u16),
    /// The proxy could not be used or refused the tunnel (with its HTTP status, 0 if none).
    Proxy(u16),
    Protocol,
    Io,
    LoginRejected,
    LoginTimeout,
}

/// A failure with a one-line, human message (already sanitised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    pub kind: NetErrorKind,
    pub message: String,
}

impl NetError {
    pub fn new(kind: NetErrorKind, message: impl Into<String>) -> Self {
        NetError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NetError {}

/// Verdict on a first-message login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Accepted { reply: String },
    Rejected { reply: String },
}

/// Commands into the network task.
#[derive(Debug, Clone)]
pub enum NetCommand {
    SendText(String),
    SendBinary(Vec<u8>),
    /// Send another first-message login (after a rejection).
    Login {
        user: String,
        password: Secret,
    },
    /// Send a protocol ping with this payload now.
    Ping(Vec<u8>),
    /// Start the close handshake; the task ends once it completes or times out.
    Close {
        code: u16,
        reason: String,
    },
    /// Stop reconnecting (while `Reconnecting`, or while a reconnection is being opened):
    /// the task ends with the state the drop left (`Closed` or `Failed`); queued data is
    /// not sent. Ignored while logged in.
    CancelReconnect,
}

/// Events out of the network task, in the order they happened.
#[derive(Debug, Clone)]
pub enum NetEvent {
    State(ConnState),
    Handshake(Box<HandshakeInfo>),
    Frame(FrameRecord),
    Login(LoginOutcome),
    /// Round-trip time of a ping answered by a matching pong.
    Rtt(Duration),
    /// Something the task did by itself that the user should know (a redirect followed),
    /// already sanitised; `warn`: it changed what was sent (credentials left out).
    Notice {
        warn: bool,
        text: String,
    },
    /// The task has ended; no more events follow.
    Ended,
}
