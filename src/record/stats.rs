//! Live session statistics for the monitor's stats strip: frames and bytes each way, rates over
//! the last 1 s and 10 s, received frames per second for the sparkline, time connected,
//! reconnects.
//!
//! Time comes only from what the app is told: frame times (`FrameRecord::at`), handshake
//! times and `Event::Tick`, so it is as pure as the rest of the app. Rates use per-second
//! buckets and count complete seconds only: "the last 1 s" is the whole second before the
//! current one, so the figure does not climb from zero as each second fills.
//! Every operation is O(1) (amortised) or O(buckets kept), never O(frames).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::Direction;

/// Seconds of per-second buckets kept (the sparkline can show this many).
pub const BUCKET_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Whole seconds since the Unix epoch.
    sec: i64,
    frames: [u64; 2],
    bytes: [u64; 2],
}

fn idx(d: Direction) -> usize {
    match d {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// Whole seconds since the Unix epoch, floored, clamped to ±2^40 s (±34,000 years) so that
/// bucket arithmetic can never overflow, whatever time a frame claims.
fn unix_secs(t: SystemTime) -> i64 {
    const LIMIT: u64 = 1 << 40;
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(LIMIT) as i64,
        Err(e) => {
            let d = e.duration();
            let s = d.as_secs().min(LIMIT) as i64;
            if d.subsec_nanos() > 0 { -s - 1 } else { -s }
        }
    }
}

/// A rate over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rate {
    pub frames_per_sec: f64,
    pub bytes_per_sec: f64,
}

/// Counters and per-second buckets. See the module docs.
#[derive(Debug, Default)]
pub struct Stats {
    frames: [u64; 2],
    bytes: [u64; 2],
    /// Sparse, ordered by second, at most [`BUCKET_SECONDS`] back from the newest.
    buckets: VecDeque<Bucket>,
    now: Option<SystemTime>,
    handshakes: u64,
    connected_since: Option<SystemTime>,
    connected_until: Option<SystemTime>,
}

impl Stats {
    pub fn new() -> Self {
        Stats::default()
    }

    /// The latest time the stats were told about.
    pub fn now(&self) -> Option<SystemTime> {
        self.now
    }

    /// Move "now" forward (never back).
    pub fn tick(&mut self, t: SystemTime) {
        if self.now.is_none_or(|n| t > n) {
            self.now = Some(t);
        }
    }

    /// Count one frame of `len` bytes (payload length on the wire) at `at`.
    pub fn record(&mut self, at: SystemTime, dir: Direction, len: usize) {
        let d = idx(dir);
        self.frames[d] += 1;
        self.bytes[d] += len as u64;
        self.tick(at);
        let sec = unix_secs(at);
        let b = self.bucket_mut(sec);
        if let Some(b) = b {
            b.frames[d] += 1;
            b.bytes[d] += len as u64;
        }
    }

    /// The bucket of second `sec`, created if needed; `None` when it is too old to keep.
    fn bucket_mut(&mut self, sec: i64) -> Option<&mut Bucket> {
        let newest = self.buckets.back().map(|b| b.sec);
        match newest {
            Some(n) if sec == n => return self.buckets.back_mut(),
            Some(n) if sec > n => {}
            Some(n) => {
                if sec <= n - BUCKET_SECONDS {
                    return None;
                }
                // A frame from an earlier second (clock step): find or insert its bucket.
                return match self.buckets.binary_search_by_key(&sec, |b| b.sec) {
                    Ok(i) => self.buckets.get_mut(i),
                    Err(i) => {
                        self.buckets.insert(
                            i,
                            Bucket {
                                sec,
                                ..Default::default()
                            },
                        );
                        self.buckets.get_mut(i)
                    }
                };
            }
            None => {}
        }
        self.buckets.push_back(Bucket {
            sec,
            ..Default::default()
        });
        while self
            .buckets
            .front()
            .is_some_and(|b| b.sec <= sec - BUCKET_SECONDS)
        {
            self.buckets.pop_front();
        }
        self.buckets.back_mut()
    }

    /// A connection was (re)opened; `at` is when its handshake finished, if known.
    pub fn handshake(&mut self, at: Option<SystemTime>) {
        self.handshakes += 1;
        if let Some(t) = at {
            self.tick(t);
        }
        self.connected_since = at.or(self.now);
        self.connected_until = None;
    }

    /// The connection ended (at the latest known time).
    pub fn disconnected(&mut self) {
        if self.connected_since.is_some() && self.connected_until.is_none() {
            self.connected_until = self.now;
        }
    }

    /// Frames sent and received (all opcodes).
    pub fn frames(&self) -> (u64, u64) {
        (self.frames[0], self.frames[1])
    }

    /// Payload bytes sent and received (lengths on the wire).
    pub fn bytes(&self) -> (u64, u64) {
        (self.bytes[0], self.bytes[1])
    }

    /// Handshakes after the first.
    pub fn reconnects(&self) -> u64 {
        self.handshakes.saturating_sub(1)
    }

    /// How long the current (or last) connection has been (was) open.
    pub fn connected_for(&self) -> Option<Duration> {
        let since = self.connected_since?;
        let until = self.connected_until.or(self.now)?;
        Some(until.duration_since(since).unwrap_or_default())
    }

    /// True while a connection is open (handshake seen, not ended).
    pub fn connected(&self) -> bool {
        self.connected_since.is_some() && self.connected_until.is_none()
    }

    /// Frames and bytes per second, both ways together, over the `secs` complete seconds
    /// before now.
    pub fn rate(&self, secs: u32) -> Rate {
        let Some(now) = self.now else {
            return Rate::default();
        };
        let secs = secs.max(1) as i64;
        let end = unix_secs(now); // exclusive: the current, incomplete second
        let start = end - secs;
        let (mut frames, mut bytes) = (0u64, 0u64);
        for b in self.buckets.iter().rev() {
            if b.sec >= end {
                continue;
            }
            if b.sec < start {
                break;
            }
            frames += b.frames[0] + b.frames[1];
            bytes += b.bytes[0] + b.bytes[1];
        }
        Rate {
            frames_per_sec: frames as f64 / secs as f64,
            bytes_per_sec: bytes as f64 / secs as f64,
        }
    }

    /// Received frames in each of the `n` complete seconds before now, oldest first.
    pub fn received_per_second(&self, n: usize) -> Vec<u64> {
        let mut out = vec![0u64; n];
        let Some(now) = self.now else {
            return out;
        };
        let end = unix_secs(now);
        let start = end - n as i64;
        for b in self.buckets.iter().rev() {
            if b.sec >= end {
                continue;
            }
            if b.sec < start {
                break;
            }
            out[(b.sec - start) as usize] = b.frames[1];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms)
    }

    #[test]
    fn counts_both_ways() {
        let mut s = Stats::new();
        s.record(t(0), Direction::ClientToServer, 10);
        s.record(t(1), Direction::ServerToClient, 100);
        s.record(t(2), Direction::ServerToClient, 1);
        assert_eq!(s.frames(), (1, 2));
        assert_eq!(s.bytes(), (10, 101));
    }

    #[test]
    fn rates_use_complete_seconds() {
        let mut s = Stats::new();
        // 10 frames of 100 B in each of seconds 0..10, then 50 in second 10.
        for sec in 0..10u64 {
            for i in 0..10 {
                s.record(t(sec * 1000 + i * 50), Direction::ServerToClient, 100);
            }
        }
        for i in 0..50 {
            s.record(t(10_000 + i), Direction::ServerToClient, 100);
        }
        // Now is within second 10: it does not count yet.
        let r1 = s.rate(1);
        assert_eq!(r1.frames_per_sec, 10.0);
        assert_eq!(r1.bytes_per_sec, 1000.0);
        assert_eq!(s.rate(10).frames_per_sec, 10.0);
        // A second later, second 10 is complete.
        s.tick(t(11_000));
        assert_eq!(s.rate(1).frames_per_sec, 50.0);
        assert_eq!(s.rate(10).frames_per_sec, (9.0 * 10.0 + 50.0) / 10.0);
        // Long idle: rates fall to zero.
        s.tick(t(30_000));
        assert_eq!(s.rate(1), Rate::default());
        assert_eq!(s.rate(10), Rate::default());
    }

    #[test]
    fn sparkline_has_received_frames_per_second() {
        let mut s = Stats::new();
        s.record(t(0), Direction::ServerToClient, 1);
        s.record(t(2_100), Direction::ServerToClient, 1);
        s.record(t(2_200), Direction::ServerToClient, 1);
        s.record(t(2_300), Direction::ClientToServer, 1);
        s.tick(t(4_000));
        assert_eq!(s.received_per_second(5), [0, 1, 0, 2, 0]);
        assert_eq!(s.received_per_second(2), [2, 0]);
    }

    #[test]
    fn old_buckets_are_dropped() {
        let mut s = Stats::new();
        for sec in 0..1000u64 {
            s.record(t(sec * 1000), Direction::ServerToClient, 1);
        }
        assert!(s.buckets.len() <= BUCKET_SECONDS as usize);
        // A frame from long ago only counts in the totals.
        s.record(t(0), Direction::ServerToClient, 1);
        assert!(s.buckets.len() <= BUCKET_SECONDS as usize);
        assert_eq!(s.frames().1, 1001);
    }

    #[test]
    fn out_of_order_second_lands_in_its_bucket() {
        let mut s = Stats::new();
        s.record(t(5_000), Direction::ServerToClient, 1);
        s.record(t(3_000), Direction::ServerToClient, 1);
        s.tick(t(6_000));
        assert_eq!(s.received_per_second(4), [0, 1, 0, 1]);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut s = Stats::new();
        s.record(
            UNIX_EPOCH - Duration::from_secs(u64::MAX / 2),
            Direction::ServerToClient,
            1,
        );
        s.record(
            UNIX_EPOCH + Duration::from_secs(u64::MAX / 2),
            Direction::ServerToClient,
            1,
        );
        s.record(UNIX_EPOCH, Direction::ClientToServer, 1);
        assert_eq!(s.frames(), (1, 2));
        let _ = s.rate(10);
        let _ = s.received_per_second(300);
    }

    #[test]
    fn connected_time_and_reconnects() {
        let mut s = Stats::new();
        assert_eq!(s.connected_for(), None);
        s.handshake(Some(t(1_000)));
        s.tick(t(61_000));
        assert_eq!(s.connected_for(), Some(Duration::from_secs(60)));
        assert!(s.connected());
        s.disconnected();
        s.tick(t(100_000));
        assert_eq!(s.connected_for(), Some(Duration::from_secs(60)));
        assert_eq!(s.reconnects(), 0);
        s.handshake(Some(t(100_000)));
        s.tick(t(102_000));
        assert_eq!(s.reconnects(), 1);
        assert_eq!(s.connected_for(), Some(Duration::from_secs(2)));
    }
}
