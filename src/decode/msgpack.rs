//! MessagePack as a tree, decoded by `rmpv` (the msgpack-rust project's schema-less value
//! reader: it does not preallocate what a length field claims, and its depth is capped here).

use super::Undecodable;
use rmpv::Value;

use super::tree::{Kind, MAX_DEPTH, Tree, bytes_value, count, quoted};

/// Every value in `payload` (usually one; a stream of several is shown one after another).
pub fn decode(payload: &[u8]) -> Result<Tree, Undecodable> {
    super::tree::sequence(
        payload,
        "value",
        |rd| rmpv::decode::read_value_with_max_depth(rd, MAX_DEPTH),
        why,
        node,
    )
}

fn why(e: &rmpv::decode::Error) -> String {
    match e {
        rmpv::decode::Error::DepthLimitExceeded => {
            format!("it nests deeper than {MAX_DEPTH} levels")
        }
        rmpv::decode::Error::InvalidMarkerRead(_) | rmpv::decode::Error::InvalidDataRead(_) => {
            "it ends in the middle of a value (a length says more bytes follow than there are)"
                .into()
        }
    }
}

/// Add `v` (and what it holds) at `depth`; false once the tree is full.
fn node(t: &mut Tree, depth: usize, key: &str, v: &Value) -> bool {
    match v {
        Value::Nil => t.push(depth, key, "nil", Kind::Lit),
        Value::Boolean(b) => t.push(depth, key, &b.to_string(), Kind::Lit),
        Value::Integer(i) => t.push(depth, key, &i.to_string(), Kind::Num),
        Value::F32(f) => t.push(depth, key, &format!("{f} (f32)"), Kind::Num),
        Value::F64(f) => t.push(depth, key, &f.to_string(), Kind::Num),
        Value::String(s) => match s.as_str() {
            Some(s) => t.push(depth, key, &quoted(s), Kind::Str),
            None => t.push(
                depth,
                key,
                &format!("not UTF-8: {}", bytes_value(s.as_bytes())),
                Kind::Bytes,
            ),
        },
        Value::Binary(b) => t.push(depth, key, &format!("bin {}", bytes_value(b)), Kind::Bytes),
        Value::Ext(ty, b) => {
            let what = if *ty == -1 {
                timestamp(b).map_or_else(String::new, |s| format!(" (timestamp {s})"))
            } else {
                String::new()
            };
            t.push(
                depth,
                key,
                &format!("ext {ty}{what} · {}", bytes_value(b)),
                Kind::Note,
            )
        }
        Value::Array(items) => {
            if !t.push(
                depth,
                key,
                &format!("array · {}", count(items.len(), "item", "items")),
                Kind::Container,
            ) {
                return false;
            }
            items
                .iter()
                .enumerate()
                .all(|(i, v)| node(t, depth + 1, &format!("[{i}]"), v))
        }
        Value::Map(entries) => {
            if !t.push(
                depth,
                key,
                &format!("map · {}", count(entries.len(), "entry", "entries")),
                Kind::Container,
            ) {
                return false;
            }
            entries.iter().all(|(k, v)| {
                let k = match k {
                    Value::String(s) => s.as_str().map_or_else(|| k.to_string(), quoted),
                    other => other.to_string(),
                };
                node(t, depth + 1, &k, v)
            })
        }
    }
}

/// The msgpack timestamp extension (type -1): seconds since the epoch, with nanoseconds.
fn timestamp(b: &[u8]) -> Option<String> {
    let (secs, nanos): (i64, u32) = match b.len() {
        4 => (u32::from_be_bytes(b.try_into().ok()?) as i64, 0),
        8 => {
            let v = u64::from_be_bytes(b.try_into().ok()?);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => (
            i64::from_be_bytes(b[4..].try_into().ok()?),
            u32::from_be_bytes(b[..4].try_into().ok()?),
        ),
        _ => return None,
    };
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let t = t.replace_nanosecond(nanos.min(999_999_999)).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &Tree) -> Vec<String> {
        t.lines
            .iter()
            .map(|n| format!("{}{} {}", "  ".repeat(n.depth as usize), n.key, n.value))
            .collect()
    }

    #[test]
    fn a_map_with_an_array_and_binary_becomes_a_tree() {
        // {"type": "tick", "n": [1, -2.5], "raw": bin de ad, 7: nil}
        let mut b = vec![0x84, 0xa4];
        b.extend_from_slice(b"type");
        b.push(0xa4);
        b.extend_from_slice(b"tick");
        b.push(0xa1);
        b.push(b'n');
        b.extend_from_slice(&[0x92, 0x01, 0xcb]);
        b.extend_from_slice(&(-2.5f64).to_be_bytes());
        b.push(0xa3);
        b.extend_from_slice(b"raw");
        b.extend_from_slice(&[0xc4, 0x02, 0xde, 0xad, 0x07, 0xc0]);
        let t = decode(&b).unwrap();
        assert_eq!(
            lines(&t),
            [
                " map · 4 entries",
                "  \"type\" \"tick\"",
                "  \"n\" array · 2 items",
                "    [0] 1",
                "    [1] -2.5",
                "  \"raw\" bin 2 B: de ad",
                "  7 nil",
            ]
        );
    }

    #[test]
    fn truncated_or_hostile_input_is_an_error_not_a_panic() {
        // An array claiming 4 billion items, then nothing.
        let e = decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).unwrap_err().0;
        assert!(e.contains("ends in the middle"), "{e}");
        // A str claiming 4 GB.
        assert!(decode(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a']).is_err());
        // Nested deeper than the cap.
        let deep = vec![0x91; 10_000];
        let e = decode(&deep).unwrap_err().0;
        assert!(e.contains("deeper than"), "{e}");
        // Control characters in a string do not reach the screen.
        let t = decode(&[0xa3, 0x1b, b'[', b'H']).unwrap();
        assert!(!t.lines[0].value.contains('\u{1b}'));
    }

    #[test]
    fn the_timestamp_extension_reads_as_a_date() {
        let mut b = vec![0xd6, 0xff];
        b.extend_from_slice(&1_700_000_000u32.to_be_bytes());
        let t = decode(&b).unwrap();
        assert!(
            t.lines[0].value.contains("timestamp 2023-11-14T22:13:20Z"),
            "{:?}",
            t.lines
        );
    }
}
