//! The invariants the fuzz targets check, one function per target. Each takes arbitrary bytes
//! and panics when an invariant breaks.
//!
//! The same file is compiled into the stable-Rust property test `tests/fuzz_invariants.rs`
//! (with `#[path]`), so `cargo test` checks the very same invariants on generated inputs.

use std::io::Cursor;

use wsdeck::record::jsonl::{self, Line};
use wsdeck::spec::LoginRules;
use wsdeck::text::{display_lines, sanitize_line};

/// Characters a terminal could act on or that would hide or reorder text. None of them may
/// leave the sanitiser, in any context. Listed here independently of `text.rs`.
pub fn is_forbidden_on_screen(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'          // C0 controls, incl. ESC, BEL, CR, LF, TAB
        | '\u{7f}'..='\u{9f}'       // DEL and the C1 controls (CSI, OSC, DCS, APC as 1 char)
        | '\u{ad}'                  // soft hyphen
        | '\u{600}'..='\u{605}'     // Arabic number signs (prepended format marks)
        | '\u{180b}'..='\u{180f}'   // Mongolian variation selectors and vowel separator
        | '\u{200b}' | '\u{200c}'   // zero-width space and non-joiner
        | '\u{200e}' | '\u{200f}'   // LRM, RLM
        | '\u{2028}' | '\u{2029}'   // line and paragraph separators
        | '\u{202a}'..='\u{202e}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{206f}'   // word joiner, invisible operators, bidi isolates
        | '\u{061c}'                // Arabic letter mark
        | '\u{fe00}'..='\u{fe0d}'   // variation selectors 1-14 (no emoji uses them)
        | '\u{feff}'                // zero-width no-break space
        | '\u{13430}'..='\u{1343f}' // Egyptian hieroglyph format controls
        | '\u{1bca0}'..='\u{1bca3}' // shorthand format controls
        | '\u{e0000}'..='\u{e001f}' // tags outside the tag-flag range
        | '\u{e0080}'..='\u{e0fff}' // variation selectors supplement and reserved ignorables
    )
}

/// Pieces that only a well-formed emoji sequence may carry: ZWJ, the emoji and text
/// presentation selectors, tag characters, skin-tone modifiers, regional indicators.
fn is_emoji_piece(c: char) -> bool {
    matches!(
        c,
        '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' | '\u{e0020}'..='\u{e007f}'
            | '\u{1f3fb}'..='\u{1f3ff}' | '\u{1f1e6}'..='\u{1f1ff}'
    )
}

/// Where an emoji piece is on screen, the cluster holding it looks like an emoji: it starts
/// with a non-ASCII character or a keycap base and is drawn two cells wide (or, for a text
/// presentation selector, as wide as its narrow base). Every other cluster is as wide as its
/// characters added up, so a terminal that adds up characters agrees with one that measures
/// clusters.
fn check_clusters(s: &str, line: &str) {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    for g in line.graphemes(true) {
        let sum: usize = g.chars().map(|c| c.width().unwrap_or(0)).sum();
        if !g.chars().any(is_emoji_piece) {
            assert_eq!(g.width(), sum, "width of {g:?} in {line:?} (from {s:?})");
            continue;
        }
        let first = g.chars().next().unwrap_or(' ');
        assert!(
            !first.is_ascii() || matches!(first, '0'..='9' | '#' | '*'),
            "emoji piece in {g:?} of {line:?} (from {s:?})"
        );
        let flag = first.is_ascii() || ('\u{1f1e6}'..='\u{1f1ff}').contains(&first);
        assert!(
            flag || !is_emoji_piece(first),
            "{g:?} starts with an emoji piece in {line:?} (from {s:?})"
        );
        let want = if g.ends_with('\u{fe0e}') { 1 } else { 2 };
        assert_eq!(g.width(), want, "emoji {g:?} in {line:?} (from {s:?})");
    }
}

/// Sanitiser: `sanitize_line` and `display_lines` on any text.
///
/// - no forbidden character in the output, and emoji pieces (ZWJ, selectors, tags,
///   modifiers, regional indicators) only inside clusters that are emoji, two cells wide;
/// - every other cluster is as wide as its characters added up (no width a terminal could
///   see differently);
/// - `display_lines` gives one line per line break (a single trailing one aside), none with a
///   line break inside;
/// - idempotent: sanitising sanitised text changes nothing;
/// - nothing is lost: every character of the input that the sanitiser calls safe appears in
///   the output, in order (and those it replaces are not in the forbidden set's complement
///   only: it may replace more, e.g. a soft hyphen);
/// - `hidden_count` finds the invisible characters of the input and none in the output;
///   `mask_unsafe` keeps one character per character and lets nothing forbidden through.
pub fn sanitizer(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let line = sanitize_line(&s);
    if let Some(c) = line.chars().find(|&c| is_forbidden_on_screen(c)) {
        panic!("sanitize_line let {c:?} through: {s:?} -> {line:?}");
    }
    check_clusters(&s, &line);
    // Flags of regional indicators are shown as `[JP]`: terminals disagree on their width.
    assert!(
        !line
            .chars()
            .any(|c| ('\u{1f1e6}'..='\u{1f1ff}').contains(&c)),
        "a regional indicator in {line:?} (from {s:?})"
    );
    assert_eq!(sanitize_line(&line), line, "not idempotent for {s:?}");
    let mut out = line.chars();
    for c in s.chars().filter(|&c| !wsdeck::text::is_unsafe_char(c)) {
        assert!(
            out.any(|o| o == c),
            "{c:?} of {s:?} is missing from {line:?}"
        );
    }
    if s.chars()
        .any(|c| matches!(c, '\u{200b}' | '\u{202e}' | '\u{2066}' | '\u{180b}'))
    {
        assert!(
            wsdeck::text::hidden_count(&s) > 0,
            "hidden chars not counted in {s:?}"
        );
    }
    assert_eq!(wsdeck::text::hidden_count(&line), 0, "{line:?}");
    let masked = wsdeck::text::mask_unsafe(&s, '\u{fffd}');
    assert_eq!(masked.chars().count(), s.chars().count(), "mask of {s:?}");
    assert!(
        !masked.chars().any(is_forbidden_on_screen),
        "mask of {s:?}: {masked:?}"
    );

    let lines = display_lines(&s);
    let body = s
        .strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .unwrap_or(&s);
    assert_eq!(
        lines.len(),
        body.matches('\n').count() + 1,
        "line count for {s:?}: {lines:?}"
    );
    for l in &lines {
        if let Some(c) = l.chars().find(|&c| is_forbidden_on_screen(c)) {
            panic!("display_lines let {c:?} through: {s:?} -> {lines:?}");
        }
        check_clusters(&s, l);
    }
}

/// Split `data` into up to three texts at NUL bytes.
fn parts(data: &[u8]) -> (String, String, String) {
    let mut it = data.splitn(3, |&b| b == 0);
    let mut next = || String::from_utf8_lossy(it.next().unwrap_or(&[])).into_owned();
    (next(), next(), next())
}

/// Login-reply matcher: `LoginRules::judge` with arbitrary regexes and replies (`OK\0FAIL\0REPLY`;
/// the default rules are also applied to the whole input).
///
/// - never panics, and is a pure function of the reply;
/// - `Some(true)` exactly when the ok-regex matches; `Some(false)` exactly when only the
///   fail-regex does; `None` otherwise;
/// - with the default rules, a reply carrying the seed's acceptance is accepted whatever
///   surrounds it.
pub fn login_reply(data: &[u8]) {
    let whole = String::from_utf8_lossy(data);
    let defaults = LoginRules::default();
    let verdict = defaults.judge(&whole);
    assert_eq!(verdict, defaults.judge(&whole));
    let wrapped = format!("{whole}congratulation{whole}");
    assert_eq!(defaults.judge(&wrapped), Some(true), "{wrapped:?}");

    let (ok, fail, reply) = parts(data);
    let build = |p: &str| {
        regex::RegexBuilder::new(p)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
    };
    let (Ok(ok), Ok(fail)) = (build(&ok), build(&fail)) else {
        return;
    };
    let rules = LoginRules {
        ok: ok.clone(),
        fail: fail.clone(),
        ..LoginRules::default()
    };
    let expected = if ok.is_match(&reply) {
        Some(true)
    } else if fail.is_match(&reply) {
        Some(false)
    } else {
        None
    };
    assert_eq!(rules.judge(&reply), expected, "reply {reply:?}");
}

/// Recording reader: `jsonl::read_from` on arbitrary bytes.
///
/// - never panics; errors name a line;
/// - at most one truncated line (only the last line can lack its newline);
/// - no more records than non-blank lines;
/// - every record read back survives a write and a second read with the same payload bytes,
///   sequence number, direction, opcode, length and close code (timestamps are normalised to
///   microseconds by the first write, then stable).
pub fn recording(data: &[u8]) {
    let rec = match jsonl::read_from(Cursor::new(data)) {
        Ok(rec) => rec,
        Err(e) => {
            let msg = format!("{e:#}");
            assert!(msg.starts_with("line "), "error without a line: {msg}");
            return;
        }
    };
    assert!(
        rec.truncated_lines <= 1,
        "{} truncated lines",
        rec.truncated_lines
    );
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    let records = rec.frames.len() + rec.reconnects.len() + usize::from(rec.handshake.is_some());
    assert!(
        records + rec.truncated_lines <= lines,
        "{records} records from {lines} lines"
    );

    for f in &rec.frames {
        let once = reparse_frame(f);
        assert_eq!(once.payload, f.payload, "payload bytes changed");
        assert_eq!(
            (once.seq, once.dir, once.opcode, once.len, once.redacted),
            (f.seq, f.dir, f.opcode, f.len, f.redacted)
        );
        assert_eq!(once.close, f.close);
        assert_eq!(reparse_frame(&once), once, "not stable after one write");
    }
    for h in rec
        .handshake
        .iter()
        .chain(rec.reconnects.iter().map(|(_, h)| h))
    {
        let once = reparse_handshake(h);
        assert_eq!(
            (&once.url, &once.request, &once.response),
            (&h.url, &h.request, &h.response)
        );
        assert_eq!(reparse_handshake(&once), once, "not stable after one write");
    }
}

fn reparse_frame(f: &wsdeck::model::FrameRecord) -> wsdeck::model::FrameRecord {
    let mut out = Vec::new();
    jsonl::encode_frame(&mut out, f).expect("encode");
    let text = std::str::from_utf8(&out).expect("the writer writes UTF-8");
    match jsonl::parse_line(text.trim_end_matches('\n')) {
        Ok(Line::Frame(back)) => back,
        other => panic!("written frame read back as {other:?}: {text}"),
    }
}

fn reparse_handshake(h: &wsdeck::model::HandshakeInfo) -> wsdeck::model::HandshakeInfo {
    let mut out = Vec::new();
    jsonl::encode_handshake(&mut out, h, false).expect("encode");
    let text = std::str::from_utf8(&out).expect("the writer writes UTF-8");
    match jsonl::parse_line(text.trim_end_matches('\n')) {
        Ok(Line::Handshake(back)) => back,
        other => panic!("written handshake read back as {other:?}: {text}"),
    }
}
