//! Protocol Buffers without a schema, as `protoc --decode_raw` shows them: field numbers,
//! wire types and values. Keys and varints are read by `prost::encoding` (the tokio-rs
//! project's codec: `decode_key` rejects field 0, wire types 6–7 and keys past 2³²;
//! `decode_varint` rejects overlong varints). What a wire format cannot say is guessed as
//! `decode_raw` does, and said to be a guess: a length-delimited field is shown as text when
//! it is printable UTF-8, else as a nested message when its bytes parse as one exactly,
//! else as bytes. No crate offers that walk over unknown data, so it is kept here, small.

use super::Undecodable;
use bytes::Buf;
use prost::encoding::{WireType, decode_key, decode_varint};

use super::tree::{Kind, MAX_DEPTH, Tree, bytes_value, printable, quoted};

/// The message in `payload` as a tree.
pub fn decode(payload: &[u8]) -> Result<Tree, Undecodable> {
    let mut t = Tree::default();
    message(&mut t, payload, 0)?;
    if t.lines.is_empty() {
        t.push(0, "", "(an empty message: no fields)", Kind::Note);
    }
    Ok(t)
}

/// Add the fields of the message in `b` at `depth`, or say where it stops being one.
fn message(t: &mut Tree, b: &[u8], depth: usize) -> Result<(), Undecodable> {
    if depth >= MAX_DEPTH {
        return Err(format!("it nests deeper than {MAX_DEPTH} levels").into());
    }
    let mut buf = b;
    // Open groups (wire type 3) and the depth their fields go at.
    let mut groups: Vec<u32> = Vec::new();
    while buf.has_remaining() {
        let at = b.len() - buf.remaining();
        let (field, wire) =
            decode_key(&mut buf).map_err(|_| format!("byte {at} is not a field key"))?;
        let d = depth + groups.len();
        let key = field.to_string();
        let ok = match wire {
            WireType::Varint => {
                let v = decode_varint(&mut buf)
                    .map_err(|_| format!("field {field} at byte {at}: the varint is cut off"))?;
                t.push(d, &key, &varint(v), Kind::Num)
            }
            WireType::SixtyFourBit => {
                if buf.remaining() < 8 {
                    return Err(format!("field {field} at byte {at}: 8 bytes expected").into());
                }
                let v = buf.get_u64_le();
                let f = f64::from_bits(v);
                let also = if f.is_finite() && f != 0.0 && (1e-9..1e15).contains(&f.abs()) {
                    format!(" · double {f}")
                } else {
                    String::new()
                };
                t.push(d, &key, &format!("fixed64 {v}{also}"), Kind::Num)
            }
            WireType::ThirtyTwoBit => {
                if buf.remaining() < 4 {
                    return Err(format!("field {field} at byte {at}: 4 bytes expected").into());
                }
                let v = buf.get_u32_le();
                let f = f32::from_bits(v);
                let also = if f.is_finite() && f != 0.0 && (1e-6..1e9).contains(&f.abs()) {
                    format!(" · float {f}")
                } else {
                    String::new()
                };
                t.push(d, &key, &format!("fixed32 {v}{also}"), Kind::Num)
            }
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf)
                    .map_err(|_| format!("field {field} at byte {at}: the length is cut off"))?;
                if len > buf.remaining() as u64 {
                    return Err(format!(
                        "field {field} at byte {at} claims {len} bytes, {} are left",
                        buf.remaining()
                    )
                    .into());
                }
                let (inner, rest) = buf.split_at(len as usize);
                buf = rest;
                length_delimited(t, d, &key, inner)
            }
            WireType::StartGroup => {
                groups.push(field);
                t.push(d, &key, "group", Kind::Container)
            }
            WireType::EndGroup => {
                if groups.pop() != Some(field) {
                    return Err(format!("byte {at} ends group {field}, which is not open").into());
                }
                true
            }
        };
        if !ok {
            return Ok(());
        }
    }
    match groups.last() {
        Some(g) => Err(format!("group {g} is never ended").into()),
        None => Ok(()),
    }
}

/// A varint as unsigned, with its signed readings when they differ.
fn varint(v: u64) -> String {
    let zigzag = ((v >> 1) as i64) ^ -((v & 1) as i64);
    let mut s = v.to_string();
    if v > i64::MAX as u64 {
        s.push_str(&format!(" · int64 {}", v as i64));
    } else if v > 1 && zigzag < 0 {
        s.push_str(&format!(" · sint {zigzag}"));
    }
    s
}

/// A length-delimited field: text, a nested message, or bytes (see the module docs).
fn length_delimited(t: &mut Tree, depth: usize, key: &str, inner: &[u8]) -> bool {
    if let Some(s) = printable(inner).filter(|s| !s.is_empty()) {
        return t.push(depth, key, &quoted(s), Kind::Str);
    }
    if !inner.is_empty() {
        let mut sub = Tree::default();
        if message(&mut sub, inner, depth + 1).is_ok() && !sub.cut {
            let n = sub
                .lines
                .iter()
                .filter(|l| l.depth as usize == depth + 1)
                .count();
            let what = format!(
                "message? · {} B, {}",
                inner.len(),
                super::tree::count(n, "field", "fields")
            );
            if !t.push(depth, key, &what, Kind::Container) {
                return false;
            }
            for l in sub.lines {
                if t.full() {
                    t.cut = true;
                    return false;
                }
                t.lines.push(l);
            }
            return true;
        }
    }
    t.push(
        depth,
        key,
        &format!("bytes {}", bytes_value(inner)),
        Kind::Bytes,
    )
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
    fn fields_wire_types_and_a_nested_message() {
        // 1: 150, 2: "hi", 3: {1: 1, 2: fixed32 1.0}, 4: fixed64, 5: -1 (int64), 6: sint -3
        let mut b = vec![
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x1a, 0x07, 0x08, 0x01, 0x15,
        ];
        b.extend_from_slice(&1.0f32.to_le_bytes());
        b.push(0x21);
        b.extend_from_slice(&2.5f64.to_le_bytes());
        b.extend_from_slice(&[
            0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        b.extend_from_slice(&[0x30, 0x05]);
        let t = decode(&b).unwrap();
        assert_eq!(
            lines(&t),
            [
                "1 150",
                "2 \"hi\"",
                "3 message? · 7 B, 2 fields",
                "  1 1",
                "  2 fixed32 1065353216 · float 1",
                "4 fixed64 4612811918334230528 · double 2.5",
                "5 18446744073709551615 · int64 -1",
                "6 5 · sint -3",
            ]
        );
    }

    #[test]
    fn bytes_that_are_no_message_stay_bytes_and_garbage_is_an_error() {
        let t = decode(&[0x0a, 0x03, 0xff, 0x00, 0x01]).unwrap();
        assert_eq!(lines(&t), ["1 bytes 3 B: ff 00 01"]);
        assert!(
            decode(&[0x0a, 0x05, 0x01])
                .unwrap_err()
                .0
                .contains("claims 5 bytes")
        );
        assert!(decode(&[0x00]).unwrap_err().0.contains("not a field key"));
        assert!(decode(&[0x0b]).unwrap_err().0.contains("never ended"));
        // Deep nesting stops at the cap (the innermost part shows as bytes), never a deep
        // recursion.
        let mut deep = vec![0x08, 0x01];
        for _ in 0..200 {
            let mut outer = vec![0x0a];
            prost::encoding::encode_varint(deep.len() as u64, &mut outer);
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        let t = decode(&deep).unwrap();
        let max = t.lines.iter().map(|l| l.depth).max().unwrap() as usize;
        assert!(max < MAX_DEPTH, "{max}");
        assert!(t.lines.last().unwrap().value.starts_with("bytes"));
    }
}
