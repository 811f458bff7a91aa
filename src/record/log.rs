//! A source's frame log: what one source (our client session, a recording, a proxied
//! connection) has seen — the bounded store of its frames, their live statistics and the
//! upgrade exchanges of its connections. Views (the monitor, the chat) read it; only its
//! source writes it.

use crate::model::{FrameRecord, HandshakeInfo, Leg};

use super::stats::Stats;
use super::{FrameStore, FrameView};

/// Handshakes kept per log (a reconnect storm must not grow it without bound); the newest
/// are kept.
const MAX_HANDSHAKES: usize = 256;

/// One source's frames, stats and handshakes. See the module docs.
#[derive(Debug, Default)]
pub struct FrameLog {
    store: FrameStore,
    stats: Stats,
    handshakes: std::collections::VecDeque<HandshakeInfo>,
    /// Bumped on each handshake (for caches of the handshake panel).
    handshake_gen: u64,
}

impl FrameLog {
    /// An empty log keeping at most `max_frames` frames and `max_bytes` of payload.
    pub fn with_limits(max_frames: usize, max_bytes: usize) -> FrameLog {
        FrameLog {
            store: FrameStore::new(max_frames, max_bytes),
            ..FrameLog::default()
        }
    }

    /// Take in one frame (already redacted as it should be shown).
    pub fn push(&mut self, f: &FrameRecord) {
        self.store.push(f);
        self.stats.record(f.at, f.dir, f.len);
    }

    /// Rewrite the frame at absolute index `abs` as `f` in its place (a held message
    /// settled); false when the store let it go. The stats counted it when it came in.
    pub fn settle(&mut self, abs: u64, f: &FrameRecord) -> bool {
        self.store.settle(abs, f)
    }

    /// Take in the upgrade exchange of a connection (either leg).
    pub fn push_handshake(&mut self, h: HandshakeInfo) {
        if self.handshakes.len() == MAX_HANDSHAKES {
            self.handshakes.pop_front();
        }
        self.handshakes.push_back(h);
        self.handshake_gen += 1;
    }

    /// Bound the frames kept; the oldest are dropped now if the store is over the limits.
    pub fn set_limits(&mut self, max_frames: usize, max_bytes: usize) {
        self.store.set_limits(max_frames, max_bytes);
    }

    pub fn store(&self) -> &FrameStore {
        &self.store
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// The frame with this absolute index, if kept.
    pub fn frame(&self, abs: u64) -> Option<FrameView<'_>> {
        self.store.get_absolute(abs)
    }

    /// Every kept handshake, oldest first.
    pub fn handshakes(&self) -> impl DoubleEndedIterator<Item = &HandshakeInfo> {
        self.handshakes.iter()
    }

    /// The newest handshake of connection `conn` on `leg`.
    pub fn handshake(&self, conn: u64, leg: Leg) -> Option<&HandshakeInfo> {
        self.handshakes
            .iter()
            .rev()
            .find(|h| h.conn == conn && h.leg == leg)
    }

    /// Bumped on each handshake taken in.
    pub fn handshake_generation(&self) -> u64 {
        self.handshake_gen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_are_found_by_connection_and_leg_and_stay_bounded() {
        let mut log = FrameLog::default();
        for conn in 1..=3 {
            for leg in [Leg::Client, Leg::Server] {
                log.push_handshake(HandshakeInfo {
                    conn,
                    leg,
                    url: format!("ws://h/{conn}/{leg:?}"),
                    ..HandshakeInfo::default()
                });
            }
        }
        assert_eq!(
            log.handshake(2, Leg::Client).unwrap().url,
            "ws://h/2/Client"
        );
        assert_eq!(
            log.handshake(3, Leg::Server).unwrap().url,
            "ws://h/3/Server"
        );
        assert!(log.handshake(4, Leg::Server).is_none());
        assert_eq!(log.handshake_generation(), 6);
        for _ in 0..1000 {
            log.push_handshake(HandshakeInfo::default());
        }
        assert_eq!(log.handshakes().count(), MAX_HANDSHAKES);
    }
}
