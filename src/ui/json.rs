//! Pretty-printing JSON payloads for the detail pane, in their own key order and number
//! spelling (a re-indenting lexer over text that `serde_json` has already accepted).

use serde::de::IgnoredAny;

/// What a piece of a pretty-printed line is (for colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Indent,
    Punct,
    Key,
    Str,
    Num,
    /// `true`, `false`, `null`
    Lit,
}

/// Pretty-printed lines, and how much of the source they cover.
#[derive(Debug)]
pub struct Pretty {
    pub lines: Vec<Vec<(String, Tok)>>,
    /// Bytes of the source turned into lines (all of it unless `max_lines` cut it short).
    pub consumed: usize,
}

const INDENT: &str = "  ";

/// `Some` when `src` is a JSON object or array (what is worth pretty-printing), at most
/// `max_lines` lines. Strings are kept as written (escapes included); the caller sanitises.
pub fn pretty(src: &str, max_lines: usize) -> Option<Pretty> {
    let first = src.trim_start().as_bytes().first()?;
    if !matches!(first, b'{' | b'[') || serde_json::from_str::<IgnoredAny>(src).is_err() {
        return None;
    }
    let b = src.as_bytes();
    let mut lines: Vec<Vec<(String, Tok)>> = Vec::new();
    let mut line: Vec<(String, Tok)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let skip_ws = |mut j: usize| {
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r') {
            j += 1;
        }
        j
    };
    let newline = |lines: &mut Vec<Vec<(String, Tok)>>, line: &mut Vec<(String, Tok)>, depth| {
        lines.push(std::mem::take(line));
        if depth > 0 {
            line.push((INDENT.repeat(depth), Tok::Indent));
        }
    };
    loop {
        i = skip_ws(i);
        if i >= b.len() || lines.len() >= max_lines {
            break;
        }
        match b[i] {
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let j = skip_ws(i + 1);
                if b.get(j) == Some(&close) {
                    let pair = if open == b'{' { "{}" } else { "[]" };
                    line.push((pair.into(), Tok::Punct));
                    i = j + 1;
                } else {
                    line.push(((open as char).to_string(), Tok::Punct));
                    depth += 1;
                    newline(&mut lines, &mut line, depth);
                    i += 1;
                }
            }
            close @ (b'}' | b']') => {
                depth = depth.saturating_sub(1);
                newline(&mut lines, &mut line, depth);
                line.push(((close as char).to_string(), Tok::Punct));
                i += 1;
            }
            b',' => {
                line.push((",".into(), Tok::Punct));
                newline(&mut lines, &mut line, depth);
                i += 1;
            }
            b':' => {
                line.push((": ".into(), Tok::Punct));
                i += 1;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                let is_key = b.get(skip_ws(end)) == Some(&b':');
                let kind = if is_key { Tok::Key } else { Tok::Str };
                line.push((src[i..end].to_string(), kind));
                i = end;
            }
            _ => {
                let mut j = i;
                while j < b.len()
                    && !matches!(
                        b[j],
                        b',' | b':' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    j += 1;
                }
                let kind = if matches!(b[i], b'-' | b'0'..=b'9') {
                    Tok::Num
                } else {
                    Tok::Lit
                };
                // Valid JSON: a token ends at an ASCII byte, so this is a char boundary.
                line.push((src[i..j.max(i + 1)].to_string(), kind));
                i = j.max(i + 1);
            }
        }
    }
    let consumed = if i >= b.len() || skip_ws(i) >= b.len() {
        b.len()
    } else {
        i
    };
    if !line.iter().all(|(_, t)| *t == Tok::Indent) {
        lines.push(line);
    }
    Some(Pretty { lines, consumed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: &Pretty) -> Vec<String> {
        p.lines
            .iter()
            .map(|l| l.iter().map(|(s, _)| s.as_str()).collect())
            .collect()
    }

    #[test]
    fn indents_and_keeps_key_order_and_numbers() {
        let p = pretty(r#"{"z":1.50,"a":[true,null,"x"],"e":{},"f":[]}"#, 100).unwrap();
        assert_eq!(
            text(&p),
            [
                "{",
                "  \"z\": 1.50,",
                "  \"a\": [",
                "    true,",
                "    null,",
                "    \"x\"",
                "  ],",
                "  \"e\": {},",
                "  \"f\": []",
                "}",
            ]
        );
        assert_eq!(p.consumed, 44);
        let kinds: Vec<Tok> = p.lines[1].iter().map(|(_, t)| *t).collect();
        assert_eq!(
            kinds,
            [Tok::Indent, Tok::Key, Tok::Punct, Tok::Num, Tok::Punct]
        );
        assert_eq!(p.lines[5][1].1, Tok::Str);
    }

    #[test]
    fn strings_with_escapes_and_colons_stay_whole() {
        let p = pretty(r#"[ "a\"b:c", "d,e" ]"#, 100).unwrap();
        assert_eq!(text(&p), ["[", "  \"a\\\"b:c\",", "  \"d,e\"", "]"]);
    }

    #[test]
    fn only_objects_and_arrays_that_parse() {
        assert!(pretty("42", 10).is_none());
        assert!(pretty("\"str\"", 10).is_none());
        assert!(pretty("{\"a\":", 10).is_none());
        assert!(pretty("{} trailing", 10).is_none());
        assert!(pretty("not json", 10).is_none());
        assert!(pretty("  {\"a\":1}\n", 10).is_some());
    }

    #[test]
    fn line_limit_reports_what_was_left() {
        let src = format!("[{}1]", "1,".repeat(1000));
        let p = pretty(&src, 10).unwrap();
        assert_eq!(p.lines.len(), 10);
        assert!(p.consumed < src.len() / 10, "{}", p.consumed);
    }
}
