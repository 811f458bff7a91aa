//! When and how soon to reconnect: the backoff schedule (0.5 s doubling to 30 s, with
//! jitter) and which failures are worth another try.

use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use crate::model::{CloseInfo, NetErrorKind};

/// Delay before the first try after a drop.
pub(crate) const FIRST_DELAY: Duration = Duration::from_millis(500);
/// Longest delay between tries.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(30);
/// A session that stayed logged in this long resets the backoff; one that drops sooner
/// keeps growing it, so a server that accepts and then drops at once is not hammered.
pub(crate) const STABLE_AFTER: Duration = Duration::from_secs(10);
/// Jitter takes up to this fraction off each delay (so delays still strictly grow until the
/// cap: 0.5 s, then 0.8–1 s, then 1.6–2 s, …).
const JITTER: f64 = 0.2;

/// The delay before try number `step` (from 1) of a run of consecutive failures, before
/// jitter: 0.5 s, 1 s, 2 s, … capped at 30 s.
pub(crate) fn base_delay(step: u32) -> Duration {
    let doublings = step.saturating_sub(1).min(16);
    (FIRST_DELAY * (1u32 << doublings)).min(MAX_DELAY)
}

/// `base_delay(step)` minus a random part of up to 20 %, so many clients dropped together
/// do not all come back at the same instant.
pub(crate) fn delay(step: u32) -> Duration {
    base_delay(step).mul_f64(1.0 - JITTER * random_unit())
}

/// A number in [0, 1) that differs between calls and processes (no extra crate needed:
/// std's hasher keys are random per process, and a counter makes each call differ).
fn random_unit() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Close codes from a server that mean "come back later" rather than "go away": going away
/// (restart, shutdown), internal error, service restart, try again later, bad gateway.
/// Everything else (1000 normal, policy and protocol violations, private codes) is taken as
/// the server's decision to end the session.
pub(crate) fn close_invites_retry(close: Option<&CloseInfo>) -> bool {
    matches!(
        close.map(|c| c.code),
        Some(1001 | 1006 | 1011 | 1012 | 1013 | 1014)
    )
}

/// Whether a failure to open (or log in on) a new connection is worth another try: the server
/// being down, slow or restarting is; a bad URL, a TLS problem, an HTTP refusal such as 401 or
/// 404, a protocol error or a rejected login is not (trying again would fail the same way).
pub(crate) fn error_invites_retry(kind: NetErrorKind) -> bool {
    match kind {
        NetErrorKind::Refused
        | NetErrorKind::Timeout
        | NetErrorKind::Io
        | NetErrorKind::Dns
        | NetErrorKind::LoginTimeout => true,
        NetErrorKind::Http(status) => (500..600).contains(&status),
        // A proxy that cannot reach the server now may later; one refusing us will not.
        NetErrorKind::Proxy(status) => matches!(status, 502..=504),
        NetErrorKind::BadUrl
        | NetErrorKind::Tls
        | NetErrorKind::Protocol
        | NetErrorKind::LoginRejected => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_half_a_second_to_thirty() {
        let ms: Vec<u128> = (1..=9).map(|s| base_delay(s).as_millis()).collect();
        assert_eq!(
            ms,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(base_delay(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn jitter_only_shortens_and_delays_still_grow() {
        let mut previous_max = Duration::ZERO;
        for step in 1..=6 {
            let base = base_delay(step);
            let mut seen = std::collections::HashSet::new();
            for _ in 0..200 {
                let d = delay(step);
                assert!(d <= base && d >= base.mul_f64(0.8), "step {step}: {d:?}");
                assert!(d > previous_max, "step {step}: {d:?} <= {previous_max:?}");
                seen.insert(d);
            }
            assert!(
                seen.len() > 100,
                "jitter should vary: {} values",
                seen.len()
            );
            previous_max = base;
        }
    }

    #[test]
    fn which_closes_and_errors_are_retried() {
        let close = |code| CloseInfo {
            code,
            reason: String::new(),
        };
        for code in [1001, 1011, 1012, 1013, 1014] {
            assert!(close_invites_retry(Some(&close(code))), "{code}");
        }
        for code in [1000, 1002, 1003, 1007, 1008, 1009, 4000] {
            assert!(!close_invites_retry(Some(&close(code))), "{code}");
        }
        assert!(!close_invites_retry(None));
        assert!(error_invites_retry(NetErrorKind::Refused));
        assert!(error_invites_retry(NetErrorKind::Http(503)));
        assert!(!error_invites_retry(NetErrorKind::Http(401)));
        assert!(!error_invites_retry(NetErrorKind::Http(404)));
        assert!(!error_invites_retry(NetErrorKind::Tls));
        assert!(!error_invites_retry(NetErrorKind::LoginRejected));
    }
}
