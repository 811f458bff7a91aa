//! Failed logins per client address, across connections: the per-connection limit
//! (`--max-login-attempts`) alone lets a client guess on as many connections as it likes.
//!
//! Each address gets a fixed window that opens at its first failure; once it has
//! `--max-failures-per-ip` failures in the window, every login attempt from it is refused
//! (close 1008) until the window ends. A success does not reset the count (it would let a
//! guesser with one valid account keep going).

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

    /// Whether `addr` has used up its failures for now.
    pub(crate) fn blocked(&self, addr: IpAddr, now: Instant) -> bool {
        if self.max == 0 {
            return false;
        }
        let map = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&addr.to_canonical())
            .is_some_and(|w| now.duration_since(w.opened) < self.window && w.failures >= self.max)
    }

    /// Count a failed login from `addr`.
    pub(crate) fn failed(&self, addr: IpAddr, now: Instant) {
        if self.max == 0 {
            return;
        }
        let mut map = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= PRUNE_AT {
            map.retain(|_, w| now.duration_since(w.opened) < self.window);
        }
        let w = map.entry(addr.to_canonical()).or_insert(Window {
            opened: now,
            failures: 0,
        });
        if now.duration_since(w.opened) >= self.window {
            *w = Window {
                opened: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.by_addr.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_is_blocked_after_its_failures_until_the_window_ends() {
        let log = FailureLog::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(!log.blocked(A, t0), "after {i} failures");
            log.failed(A, t0 + Duration::from_secs(i));
        }
        assert!(log.blocked(A, t0 + Duration::from_secs(10)));
        // Other addresses are not affected.
        assert!(!log.blocked(B, t0 + Duration::from_secs(10)));
        // The window opened at the first failure.
        assert!(log.blocked(A, t0 + Duration::from_secs(59)));
        assert!(!log.blocked(A, t0 + Duration::from_secs(60)));
        // A failure after the window starts a new one.
        log.failed(A, t0 + Duration::from_secs(61));
        assert!(!log.blocked(A, t0 + Duration::from_secs(62)));
    }

    #[test]
    fn ipv4_mapped_ipv6_counts_as_the_same_address() {
        let log = FailureLog::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        log.failed(mapped, t0);
        assert!(log.blocked(A, t0));
    }

    #[test]
    fn zero_means_no_limit() {
        let log = FailureLog::new(0, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..100 {
            log.failed(A, t0);
        }
        assert!(!log.blocked(A, t0));
        assert_eq!(log.addresses(), 0);
    }

    #[test]
    fn ended_windows_are_forgotten_when_many_addresses_failed() {
        let log = FailureLog::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..PRUNE_AT as u32 {
            log.failed(IpAddr::V4(i.into()), t0);
        }
        assert_eq!(log.addresses(), PRUNE_AT);
        log.failed(A, t0 + Duration::from_secs(61));
        assert_eq!(log.addresses(), 1);
    }
}
