//! CBOR as a tree, decoded by `ciborium` (the enarx project's serde CBOR implementation:
//! indefinite lengths, tags, a recursion limit; it grows buffers as bytes arrive rather than
//! trusting a length field).

use super::Undecodable;
use ciborium::Value;

use super::tree::{Kind, MAX_DEPTH, Tree, bytes_value, count, quoted};

/// Every data item in `payload` (usually one; a sequence of several, RFC 8742, is shown one
/// after another).
pub fn decode(payload: &[u8]) -> Result<Tree, Undecodable> {
    super::tree::sequence(
        payload,
        "item",
        |rd| ciborium::de::from_reader_with_recursion_limit::<Value, _>(rd, MAX_DEPTH),
        why,
        node,
    )
}

fn why(e: &ciborium::de::Error<std::io::Error>) -> String {
    use ciborium::de::Error as E;
    match e {
        E::Io(_) => "it ends in the middle of an item".into(),
        E::Syntax(at) => format!("byte {at} does not start a CBOR item"),
        E::Semantic(Some(at), m) => format!("at byte {at}: {m}"),
        E::Semantic(None, m) => m.clone(),
        E::RecursionLimitExceeded => format!("it nests deeper than {MAX_DEPTH} levels"),
    }
}

/// A map key on one line: text quoted, anything else as CBOR diagnostic-like text.
fn key_text(k: &Value) -> String {
    match k {
        Value::Text(s) => quoted(s),
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Bytes(b) => format!("h'{}'", crate::codec::hex(&b[..b.len().min(32)])),
        other => format!("({})", short_kind(other)),
    }
}

fn short_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Tag(..) => "tagged",
        Value::Float(_) => "float",
        Value::Null => "null",
        _ => "value",
    }
}

/// Well-known tags (RFC 8949 §3.4) by name.
fn tag_name(tag: u64) -> &'static str {
    match tag {
        0 => "date/time string",
        1 => "epoch time",
        2 => "positive bignum",
        3 => "negative bignum",
        4 => "decimal fraction",
        5 => "bigfloat",
        21..=23 => "expected encoding",
        24 => "embedded CBOR",
        32 => "URI",
        33 | 34 => "base64",
        36 => "MIME message",
        37 => "UUID",
        55799 => "self-described CBOR",
        _ => "",
    }
}

/// Add `v` at `depth`; false once the tree is full.
fn node(t: &mut Tree, depth: usize, key: &str, v: &Value) -> bool {
    match v {
        Value::Null => t.push(depth, key, "null", Kind::Lit),
        Value::Bool(b) => t.push(depth, key, &b.to_string(), Kind::Lit),
        Value::Integer(i) => t.push(depth, key, &i128::from(*i).to_string(), Kind::Num),
        Value::Float(f) => t.push(depth, key, &f.to_string(), Kind::Num),
        Value::Text(s) => t.push(depth, key, &quoted(s), Kind::Str),
        Value::Bytes(b) => t.push(
            depth,
            key,
            &format!("bytes {}", bytes_value(b)),
            Kind::Bytes,
        ),
        Value::Tag(tag, inner) => {
            let name = tag_name(*tag);
            let label = if name.is_empty() {
                format!("tag {tag}")
            } else {
                format!("tag {tag} ({name})")
            };
            t.push(depth, key, &label, Kind::Container) && node(t, depth + 1, "", inner)
        }
        Value::Array(items) => {
            t.push(
                depth,
                key,
                &format!("array · {}", count(items.len(), "item", "items")),
                Kind::Container,
            ) && items
                .iter()
                .enumerate()
                .all(|(i, v)| node(t, depth + 1, &format!("[{i}]"), v))
        }
        Value::Map(entries) => {
            t.push(
                depth,
                key,
                &format!("map · {}", count(entries.len(), "entry", "entries")),
                Kind::Container,
            ) && entries
                .iter()
                .all(|(k, v)| node(t, depth + 1, &key_text(k), v))
        }
        _ => t.push(
            depth,
            key,
            "(a CBOR value this view does not name)",
            Kind::Note,
        ),
    }
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
    fn a_map_with_integer_keys_tags_and_bytes() {
        // {1: "a", "b": [true, null], 2: 1(1700000000), 3: h'beef'}
        let b = [
            0xa4, 0x01, 0x61, b'a', 0x61, b'b', 0x82, 0xf5, 0xf6, 0x02, 0xc1, 0x1a, 0x65, 0x53,
            0xf1, 0x00, 0x03, 0x42, 0xbe, 0xef,
        ];
        let t = decode(&b).unwrap();
        assert_eq!(
            lines(&t),
            [
                " map · 4 entries",
                "  1 \"a\"",
                "  \"b\" array · 2 items",
                "    [0] true",
                "    [1] null",
                "  2 tag 1 (epoch time)",
                "     1700000000",
                "  3 bytes 2 B: be ef",
            ]
        );
    }

    #[test]
    fn broken_input_says_why() {
        assert!(decode(&[0x9a, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        let e = decode(&vec![0x81; 5000]).unwrap_err().0;
        assert!(e.contains("deeper than") || e.contains("ends"), "{e}");
    }
}
