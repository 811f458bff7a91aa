//! Failed logins per client address, across connections: the per-connection limit
//! (`--max-login-attempts`) alone lets a client guess on as many connections as it likes.
//!
//! Each address gets a fixed window that opens at its first failure; once it has
//! `--max-failures-per-ip` failures in the window, every login attempt from it is refused
//! (close 1008) until the window ends. A success does not reset the count (it would let a
//! guesser with one valid account keep going).
//!
//! The failure is counted *before* a login is judged ([`FailureLog::reserve`]) and given
//! back if the login succeeds, so logins judged at the same time — a burst on many
//! connections — can never together get more than the limit judged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an address's failures count.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Past this many addresses, the ones whose window has ended are forgotten.
const PRUNE_AT: usize = 4096;

#[derive(Debug)]
pub(crate) struct FailureLog {
    /// Failures allowed per address in a window; 0 = no limit.
    max: u32,
    window: Duration,
    by_addr: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    failures: u32,
}

impl FailureLog {
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        FailureLog {
            max,
            window,
            by_addr: Mutex::new(HashMap::new()),
        }
    }

    /// Count a failure for `addr` before its login is judged, so that logins being judged at
    /// the same time cannot together exceed the limit. `None` when `addr` has used up its
    /// failures for now. The failure stays counted unless [`Reserved::succeeded`] (or
    /// [`Reserved::not_judged`]) gives it back.
    pub(crate) fn reserve(&self, addr: IpAddr, now: Instant) -> Option<Reserved<'_>> {
        let addr = addr.to_canonical();
        if self.max == 0 {
            return Some(Reserved {
                log: self,
                addr,
                opened: None,
            });
        }
        let mut map = self.lock();
        if map.len() >= PRUNE_AT {
            map.retain(|_, w| now.duration_since(w.opened) < self.window);
        }
        let w = map.entry(addr).or_insert(Window {
            opened: now,
            failures: 0,
        });
        if now.duration_since(w.opened) >= self.window {
            *w = Window {
                opened: now,
                failures: 0,
            };
        }
        if w.failures >= self.max {
            return None;
        }
        w.failures += 1;
        Some(Reserved {
            log: self,
            addr,
            opened: Some(w.opened),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // Every operation leaves the map consistent, so a panic elsewhere changes nothing.
        self.by_addr.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Give back a reserved failure (if its window is still the current one).
    fn give_back(&self, addr: IpAddr, opened: Instant) {
        let mut map = self.lock();
        if let Some(w) = map.get_mut(&addr)
            && w.opened == opened
        {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.by_addr.lock().unwrap().len()
    }
}

/// A failure counted up front for one login being judged (see [`FailureLog::reserve`]).
/// Dropped as it is, the failure stays counted.
#[must_use = "dropping it counts the login as failed"]
pub(crate) struct Reserved<'a> {
    log: &'a FailureLog,
    addr: IpAddr,
    /// The window it was counted in; `None` when there is no limit.
    opened: Option<Instant>,
}

impl Reserved<'_> {
    /// The login succeeded: it was not a failure.
    pub(crate) fn succeeded(self) {
        self.give_back();
    }

    /// The login failed: the failure stays counted.
    pub(crate) fn failed(self) {}

    /// The login was not judged (refused before its password was checked).
    pub(crate) fn not_judged(self) {
        self.give_back();
    }

    fn give_back(self) {
        if let Some(opened) = self.opened {
            self.log.give_back(self.addr, opened);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    /// Whether a login from `addr` would be refused now (a login that is let through is
    /// given back unjudged).
    fn blocked(log: &FailureLog, addr: IpAddr, now: Instant) -> bool {
        match log.reserve(addr, now) {
            Some(r) => {
                r.not_judged();
                false
            }
            None => true,
        }
    }

    /// A login from `addr` that failed.
    fn failed(log: &FailureLog, addr: IpAddr, now: Instant) {
        if let Some(r) = log.reserve(addr, now) {
            r.failed();
        }
    }

    #[test]
    fn an_address_is_blocked_after_its_failures_until_the_window_ends() {
        let log = FailureLog::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(!blocked(&log, A, t0), "after {i} failures");
            failed(&log, A, t0 + Duration::from_secs(i));
        }
        assert!(blocked(&log, A, t0 + Duration::from_secs(10)));
        // Other addresses are not affected.
        assert!(!blocked(&log, B, t0 + Duration::from_secs(10)));
        // The window opened at the first failure.
        assert!(blocked(&log, A, t0 + Duration::from_secs(59)));
        assert!(!blocked(&log, A, t0 + Duration::from_secs(60)));
        // A failure after the window starts a new one.
        failed(&log, A, t0 + Duration::from_secs(61));
        assert!(!blocked(&log, A, t0 + Duration::from_secs(62)));
    }

    #[test]
    fn ipv4_mapped_ipv6_counts_as_the_same_address() {
        let log = FailureLog::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        failed(&log, mapped, t0);
        assert!(blocked(&log, A, t0));
    }

    #[test]
    fn zero_means_no_limit() {
        let log = FailureLog::new(0, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..100 {
            failed(&log, A, t0);
        }
        assert!(!blocked(&log, A, t0));
        assert_eq!(log.addresses(), 0);
    }

    #[test]
    fn ended_windows_are_forgotten_when_many_addresses_failed() {
        let log = FailureLog::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..PRUNE_AT as u32 {
            failed(&log, IpAddr::V4(i.into()), t0);
        }
        assert_eq!(log.addresses(), PRUNE_AT);
        failed(&log, A, t0 + Duration::from_secs(61));
        assert_eq!(log.addresses(), 1);
    }

    #[test]
    fn logins_judged_at_once_cannot_exceed_the_limit() {
        let log = FailureLog::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        // Three judged at the same time use up the limit before any of them has an answer.
        let held: Vec<_> = (0..3).map(|_| log.reserve(A, t0).unwrap()).collect();
        assert!(log.reserve(A, t0).is_none());
        assert!(!blocked(&log, B, t0));
        // One of them was the right password: its failure is given back, one more may try.
        let mut held = held.into_iter();
        held.next().unwrap().succeeded();
        let fourth = log.reserve(A, t0).unwrap();
        assert!(log.reserve(A, t0).is_none());
        // Refused before being judged (the verifiers were busy): given back too.
        fourth.not_judged();
        assert!(!blocked(&log, A, t0));
        // The others failed: they stay counted.
        drop(held);
        assert!(log.reserve(A, t0).is_some());
        assert!(blocked(&log, A, t0));
    }

    #[test]
    fn a_failure_given_back_after_its_window_ended_does_not_touch_the_next_one() {
        let log = FailureLog::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let old = log.reserve(A, t0).unwrap();
        let t1 = t0 + Duration::from_secs(61);
        failed(&log, A, t1);
        old.succeeded();
        assert!(blocked(&log, A, t1));
    }
}
