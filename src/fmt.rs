//! How numbers, bytes and times are written for people: one copy of each (hex, clocks,
//! sizes, thousands), used by the screen, `pipe` and the recorders alike.

use std::time::{SystemTime, UNIX_EPOCH};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `00ab7fff`: lowercase, two digits a byte (the one copy is in `codec`).
pub use crate::codec::hex;

/// `de ad be ef`: bytes separated by spaces.
pub fn hex_spaced(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Milliseconds since the Unix epoch (negative before it), saturating.
fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_millis().min(i64::MAX as u128) as i64),
    }
}

/// `HH:MM:SS` of `t` at `offset` seconds east of UTC.
pub fn clock(t: SystemTime, offset: i32) -> String {
    let secs = unix_ms(t).div_euclid(1000).saturating_add(offset as i64);
    let sod = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// `HH:MM:SS.mmm` of `t` at `offset` seconds east of UTC.
pub fn clock_ms(t: SystemTime, offset: i32) -> String {
    let ms = unix_ms(t).saturating_add(offset as i64 * 1000);
    let day_ms = ms.rem_euclid(86_400_000);
    let s = day_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        day_ms % 1000
    )
}

/// `1,234,567`
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 frame`, `1,234 frames`: a count and its noun, singular for one.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// A round trip as the monitor and status bar show it: `0.2 ms` under 10 ms, else `12 ms`.
pub fn rtt(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// `512 B`, `1.5 KiB`, `12.0 MiB`
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{} B", v.round() as u64)
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `64 MiB`, `16 KiB`, `1000 B`: exact binary units where they fit.
pub fn human_size(n: usize) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} B")
}

/// A size that does not read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a size (try 64MiB, 512KiB or a number of bytes)")]
pub struct BadSize(pub String);

/// `--max-message SIZE`: `64MiB`, `16KiB`, `1.5MB`, `1000`, `2G` (K/M/G are binary, as
/// with KiB; kB/MB/GB are decimal).
pub fn parse_size(s: &str) -> Result<usize, BadSize> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || BadSize(s.to_string());
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1048576.0,
        "g" | "gib" => 1073741824.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => return Err(bad()),
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * mult <= usize::MAX as f64 => {
            Ok((v * mult) as usize)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn hex_is_lowercase_with_or_without_spaces() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        assert_eq!(hex_spaced(&[0xde, 0xad, 0xbe, 0xef]), "de ad be ef");
        assert_eq!(hex_spaced(&[]), "");
    }

    #[test]
    fn clocks_with_offsets_and_before_the_epoch() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(clock(t, 0), "22:13:20");
        assert_eq!(clock(t, 3600), "23:13:20");
        assert_eq!(clock_ms(t, 0), "22:13:20.123");
        assert_eq!(clock_ms(t, -3600), "21:13:20.123");
        assert_eq!(clock(UNIX_EPOCH - Duration::from_secs(1), 0), "23:59:59");
    }

    #[test]
    fn sizes_and_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("16KiB"), Ok(16 << 10));
        assert_eq!(parse_size(" 2 g "), Ok(2 << 30));
        assert_eq!(parse_size("1.5MB"), Ok(1_500_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        for bad in ["", "x", "-1", "0", "1 parsec", "nan"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size(1500), "1500 B");
    }
}
