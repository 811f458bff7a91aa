//! JSON as a tree, with strings that hold base64 shown decoded beneath them (what a service
//! does with a binary body inside JSON: `{"data":"3q2+7w=="}`). Parsed by `serde_json`, its
//! recursion limit kept; base64 by the `base64` crate through [`crate::codec`].

use super::Undecodable;
use super::tree::{Kind, MAX_DEPTH, Tree, bytes_value, count, printable, quoted};

/// Base64 strings longer than this are not decoded (the tree says so).
const MAX_B64: usize = 8 << 20;

/// The JSON text `src` as a tree; strings that look like base64 get their decoding beneath.
pub fn decode(src: &str) -> Result<Tree, Undecodable> {
    let mut t = Tree::default();
    push(&mut t, 0, "", src)?;
    Ok(t)
}

/// Add the JSON text `src` to `t` at `depth`, the top value under `key`.
pub fn push(t: &mut Tree, depth: usize, key: &str, src: &str) -> Result<(), Undecodable> {
    let v: Value = serde_json::from_str(src).map_err(|e| format!("it is not JSON ({e})"))?;
    node(t, depth, key, &v);
    Ok(())
}

/// Add the items of the JSON array `src` after its first `skip`, each at `depth` (keyed by
/// its index).
pub fn push_items(t: &mut Tree, depth: usize, src: &str, skip: usize) -> Result<(), Undecodable> {
    let v: Value = serde_json::from_str(src).map_err(|e| format!("it is not JSON ({e})"))?;
    match v {
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate().skip(skip) {
                if !node(t, depth, &format!("[{i}]"), v) {
                    break;
                }
            }
        }
        other => {
            node(t, depth, "", &other);
        }
    }
    Ok(())
}

/// How many strings in (the first MiB of) the JSON text `src` look like base64 — what the
/// JSON view counts to offer this one.
pub fn base64_strings(src: &str) -> usize {
    let b = &src.as_bytes()[..src.len().min(1 << 20)];
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        let mut escaped = false;
        while j < b.len() && b[j] != b'"' {
            escaped |= b[j] == b'\\';
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(b.len());
        // `\/` is the only escape base64 may need.
        if !escaped
            || b[start..end]
                .windows(2)
                .all(|w| w[0] != b'\\' || w[1] == b'/')
        {
            let s = String::from_utf8_lossy(&b[start..end]).replace("\\/", "/");
            n += usize::from(base64_of(&s).is_some());
        }
        i = j + 1;
    }
    n
}

/// The bytes a string holds when it looks like base64: at least 8 characters of one
/// alphabet, padded right if padded, not only letters (words and names are valid base64 too).
pub fn base64_of(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    if s.len() < 8 || s.len() > MAX_B64 || pad > 2 || (pad > 0 && !s.len().is_multiple_of(4)) {
        return None;
    }
    let std = body
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    let url = body
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !(std || url) || body.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let out = crate::codec::decode_base64(body).ok()?;
    (out.len() >= 4).then_some(out)
}

/// A JSON value that keeps its object keys in the source's order (serde_json's own `Value`
/// sorts them unless a crate-wide feature is on).
#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Value::Array(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = a.next_entry()? {
                    v.push(kv);
                }
                Ok(Value::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn node(t: &mut Tree, depth: usize, key: &str, v: &Value) -> bool {
    if depth > MAX_DEPTH {
        return t.push(
            depth,
            key,
            "… nested deeper than this view shows",
            Kind::Note,
        );
    }
    match v {
        Value::Null => t.push(depth, key, "null", Kind::Lit),
        Value::Bool(b) => t.push(depth, key, &b.to_string(), Kind::Lit),
        Value::Number(n) => t.push(depth, key, &n.to_string(), Kind::Num),
        Value::String(s) => {
            if !t.push(depth, key, &quoted(s), Kind::Str) {
                return false;
            }
            match base64_of(s) {
                Some(bytes) => decoded(t, depth + 1, &bytes),
                None => true,
            }
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
        Value::Object(m) => {
            t.push(
                depth,
                key,
                &format!("object · {}", count(m.len(), "key", "keys")),
                Kind::Container,
            ) && m.iter().all(|(k, v)| node(t, depth + 1, &quoted(k), v))
        }
    }
}

/// What a base64 string held: text (JSON as a tree), or bytes.
fn decoded(t: &mut Tree, depth: usize, bytes: &[u8]) -> bool {
    let key = "↳ base64";
    match printable(bytes) {
        Some(s) => match serde_json::from_str::<Value>(s) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => {
                t.push(
                    depth,
                    key,
                    &format!("{} B of JSON", bytes.len()),
                    Kind::Note,
                ) && node(t, depth + 1, "", &v)
            }
            _ => t.push(depth, key, &quoted(s), Kind::Str),
        },
        None => t.push(depth, key, &bytes_value(bytes), Kind::Bytes),
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
    fn base64_strings_are_shown_decoded_beneath() {
        let src = r#"{"id":"username","body":"aGVsbG8gd29ybGQ=","raw":"3q2+7wABAgM=","n":1}"#;
        assert_eq!(base64_strings(src), 2);
        let t = decode(src).unwrap();
        assert_eq!(
            lines(&t),
            [
                " object · 4 keys",
                "  \"id\" \"username\"",
                "  \"body\" \"aGVsbG8gd29ybGQ=\"",
                "    ↳ base64 \"hello world\"",
                "  \"raw\" \"3q2+7wABAgM=\"",
                "    ↳ base64 8 B: de ad be ef 00 01 02 03",
                "  \"n\" 1",
            ]
        );
    }

    #[test]
    fn what_is_not_base64() {
        for s in [
            "short",
            "onlyletters",
            "has space in it",
            "abc=defg",
            "aGVsbG8====",
        ] {
            assert_eq!(base64_of(s), None, "{s}");
        }
        assert_eq!(base64_strings(r#"["a\"b","plainwords"]"#), 0);
        assert!(decode("[1,").is_err());
    }
}
