//! Frame sources: who owns a frame log. Our own client session, a recording being replayed,
//! and a connection relayed by the proxy each own one [`FrameLog`]; the monitor and the chat
//! are views over it and ask the source what may be done to it (a recording is read-only).

use crate::record::FrameLog;

/// What kind of source a log belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// wsdeck's own client session (live, with reconnects).
    Client,
    /// A recorded session read from this file (`wsdeck replay`): nothing can be sent.
    Recording { file: String },
    /// A connection relayed by `wsdeck proxy`: its frames come from both peers; messages
    /// can be held, edited, dropped and injected towards either peer.
    Proxied {
        /// The proxy's id of the connection.
        conn: u64,
        /// The client's address, as `IP:PORT`.
        client: String,
    },
}

/// A source and the log it owns.
#[derive(Debug)]
pub struct Source {
    kind: SourceKind,
    pub log: FrameLog,
}

impl Source {
    pub fn new(kind: SourceKind, log: FrameLog) -> Source {
        Source { kind, log }
    }

    pub fn kind(&self) -> &SourceKind {
        &self.kind
    }

    /// Nothing can be sent or connected: the frames are a record of the past.
    pub fn read_only(&self) -> bool {
        matches!(self.kind, SourceKind::Recording { .. })
    }

    /// The proxy's connection id, for a relayed connection.
    pub fn proxied(&self) -> Option<u64> {
        match self.kind {
            SourceKind::Proxied { conn, .. } => Some(conn),
            _ => None,
        }
    }

    /// The recording's file, for a replayed source.
    pub fn recording_file(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Recording { file } => Some(file),
            SourceKind::Client | SourceKind::Proxied { .. } => None,
        }
    }
}

impl Default for Source {
    fn default() -> Self {
        Source::new(SourceKind::Client, FrameLog::default())
    }
}
