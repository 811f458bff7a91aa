//! Frames kept and written: the JSONL recording (`--record`, read back by `wsdeck replay`),
//! the HAR 1.2 export (`--har`), header/URL redaction, and the bounded in-memory
//! [`store::FrameStore`] the monitor and chat views read.
//!
//! Writers accept anything that implements [`FrameLike`]: an owned
//! [`FrameRecord`](crate::model::FrameRecord) or a borrowed [`store::FrameView`], so the UI can
//! export straight from its store without copying payloads.

pub mod har;
pub mod har_read;
pub mod jsonl;
mod line;
pub mod log;
pub mod redact;
pub mod stats;
pub mod store;
pub mod tape;
pub mod target;

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{Direction, FrameRecord, Opcode, Origin};

pub use jsonl::{Recorder, Recording};

/// Read a recording for replay: a HAR file (wsdeck's or Chrome's, see [`har_read`]) or JSON
/// lines.
pub fn read_any(path: &std::path::Path) -> anyhow::Result<Recording> {
    if har_read::is_har(path) {
        har_read::read(path)
    } else {
        jsonl::read(path)
    }
}
pub use log::FrameLog;
pub use redact::{REDACTED, redact_handshake, redact_headers, redact_url};
pub use store::{FrameStore, FrameView};

/// Read access to one frame, shared by owned records and store views.
pub trait FrameLike {
    fn seq(&self) -> u64;
    /// The connection of its source it passed on (1, 2…).
    fn conn(&self) -> u64;
    fn at(&self) -> SystemTime;
    /// Which peer sent it.
    fn dir(&self) -> Direction;
    /// Passed on as sent, or injected/modified/dropped.
    fn origin(&self) -> Origin;
    fn opcode(&self) -> Opcode;
    /// Payload length on the wire (before any redaction).
    fn wire_len(&self) -> usize;
    /// Payload bytes as kept (redacted when [`FrameLike::redacted`]).
    fn payload(&self) -> &[u8];
    /// Code and reason of a close frame that carried a code.
    fn close(&self) -> Option<(u16, Cow<'_, str>)>;
    /// True when the payload had a secret replaced by `***`.
    fn redacted(&self) -> bool;
    /// Payload bytes on the wire when the message crossed it compressed (permessage-deflate).
    fn compressed_len(&self) -> Option<usize> {
        None
    }
    /// The frames the message came in, when more than one.
    fn fragments(&self) -> Option<&std::sync::Arc<crate::model::Fragments>> {
        None
    }
}

impl FrameLike for FrameRecord {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn conn(&self) -> u64 {
        self.conn
    }
    fn origin(&self) -> Origin {
        self.origin
    }
    fn at(&self) -> SystemTime {
        self.at
    }
    fn dir(&self) -> Direction {
        self.dir
    }
    fn opcode(&self) -> Opcode {
        self.opcode
    }
    fn wire_len(&self) -> usize {
        self.len
    }
    fn payload(&self) -> &[u8] {
        &self.payload
    }
    fn close(&self) -> Option<(u16, Cow<'_, str>)> {
        self.close
            .as_ref()
            .map(|c| (c.code, Cow::Borrowed(c.reason.as_str())))
    }
    fn redacted(&self) -> bool {
        self.redacted
    }
    fn compressed_len(&self) -> Option<usize> {
        self.wire_len
    }
    fn fragments(&self) -> Option<&std::sync::Arc<crate::model::Fragments>> {
        self.fragments.as_ref()
    }
}

impl<T: FrameLike + ?Sized> FrameLike for &T {
    fn seq(&self) -> u64 {
        (**self).seq()
    }
    fn conn(&self) -> u64 {
        (**self).conn()
    }
    fn origin(&self) -> Origin {
        (**self).origin()
    }
    fn at(&self) -> SystemTime {
        (**self).at()
    }
    fn dir(&self) -> Direction {
        (**self).dir()
    }
    fn opcode(&self) -> Opcode {
        (**self).opcode()
    }
    fn wire_len(&self) -> usize {
        (**self).wire_len()
    }
    fn payload(&self) -> &[u8] {
        (**self).payload()
    }
    fn close(&self) -> Option<(u16, Cow<'_, str>)> {
        (**self).close()
    }
    fn redacted(&self) -> bool {
        (**self).redacted()
    }
    fn compressed_len(&self) -> Option<usize> {
        (**self).compressed_len()
    }
    fn fragments(&self) -> Option<&std::sync::Arc<crate::model::Fragments>> {
        (**self).fragments()
    }
}

/// Nanoseconds since the Unix epoch (negative before it).
pub(crate) fn unix_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// The inverse of [`unix_nanos`]; saturates instead of overflowing.
pub(crate) fn from_unix_nanos(n: i128) -> SystemTime {
    let abs = n.unsigned_abs();
    let secs = u64::try_from(abs / 1_000_000_000).unwrap_or(u64::MAX);
    let d = Duration::new(secs, (abs % 1_000_000_000) as u32);
    let t = if n >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z in Unix nanoseconds: the range
/// RFC 3339 can write.
const MIN_RFC3339_NANOS: i128 = -62_167_219_200 * 1_000_000_000;
const MAX_RFC3339_NANOS: i128 = 253_402_300_799 * 1_000_000_000 + 999_999_999;

/// RFC 3339 in UTC with exactly six fractional digits, e.g. `2026-11-25T18:01:02.123456Z`.
/// Sub-microsecond digits are cut (not rounded), so the text never lies about ordering.
pub fn format_ts(t: SystemTime) -> String {
    let n = unix_nanos(t).clamp(MIN_RFC3339_NANOS, MAX_RFC3339_NANOS);
    match OffsetDateTime::from_unix_timestamp_nanos(n) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.microsecond()
        ),
        // Unreachable after the clamp; keep a valid timestamp anyway.
        Err(_) => "1970-01-01T00:00:00.000000Z".to_string(),
    }
}

/// A timestamp that is not RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad timestamp {text:?}: {reason}")]
pub struct BadTimestamp {
    pub text: String,
    pub reason: String,
}

/// Parse any RFC 3339 timestamp (any offset, any number of fractional digits).
pub fn parse_ts(s: &str) -> Result<SystemTime, BadTimestamp> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| BadTimestamp {
        text: s.to_string(),
        reason: e.to_string(),
    })?;
    Ok(from_unix_nanos(dt.unix_timestamp_nanos()))
}

/// Seconds since the Unix epoch with microsecond resolution, as HAR's `_webSocketMessages` has it.
pub fn epoch_secs_f64(t: SystemTime) -> f64 {
    let micros = unix_nanos(t).div_euclid(1_000);
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    secs as f64 + frac as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_six_digits_and_round_trip() {
        let t = UNIX_EPOCH + Duration::new(1_795_629_662, 123_456_789);
        let s = format_ts(t);
        assert_eq!(s, "2026-11-25T18:01:02.123456Z");
        assert_eq!(
            parse_ts(&s).unwrap(),
            UNIX_EPOCH + Duration::new(1_795_629_662, 123_456_000)
        );
        assert_eq!(format_ts(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let before = UNIX_EPOCH - Duration::new(1, 500_000_000);
        assert_eq!(format_ts(before), "1969-12-31T23:59:58.500000Z");
        assert_eq!(parse_ts(&format_ts(before)).unwrap(), before);
    }

    #[test]
    fn parse_accepts_offsets_and_rejects_garbage() {
        let t = parse_ts("2026-11-25T19:01:02.5+01:00").unwrap();
        assert_eq!(format_ts(t), "2026-11-25T18:01:02.500000Z");
        assert!(parse_ts("yesterday").is_err());
    }

    #[test]
    fn epoch_seconds_keep_microseconds() {
        let t = UNIX_EPOCH + Duration::new(1_795_629_662, 123_456_789);
        let f = epoch_secs_f64(t);
        assert!((f - 1_795_629_662.123_456).abs() < 1e-6, "{f}");
    }
}
