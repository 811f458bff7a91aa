//! Untrusted text → safe display lines.
//!
//! Every string that came from the network (messages, close reasons, header values, error
//! texts, nicknames) passes through [`sanitize_line`] or [`display_lines`] before it reaches a
//! widget, so a server can never send the terminal a control sequence: it cannot change the
//! window title, write the clipboard, recolour or clear the screen, move the cursor, or reorder
//! text with bidi controls.
//!
//! The approach is a total character map, not a parser: every character that a terminal could
//! act on (C0 and C1 controls, DEL, ESC) or that would be invisible (bidi overrides and
//! isolates, zero-width and other format characters) is replaced by a visible, inert
//! placeholder. Because the introducer of an escape sequence (ESC, or the C1 forms such as
//! CSI U+009B and OSC U+009D) is replaced, the whole sequence is defused and its remaining
//! bytes are shown as ordinary text, so `ESC [2J` displays as `␛[2J` and an OSC 52 clipboard
//! write as `␛]52;c;…␇`: the user sees exactly what the server tried, and the terminal sees
//! only printable characters.
//!
//! Placeholders:
//! - C0 controls U+0000–U+001F → the Control Pictures `␀`…`␟` (`␛` for ESC, `␇` for BEL,
//!   `␍` for a lone carriage return, `␊` for a line feed inside one line); DEL → `␡`.
//! - Tabs are expanded to spaces up to the next multiple of [`TAB_WIDTH`] columns.
//! - C1 controls U+0080–U+009F, bidi controls, zero-width and other invisible format
//!   characters → their escape written out, e.g. `\u{9b}`, `\u{202e}`, `\u{200b}`.

use unicode_width::UnicodeWidthChar;

/// Columns between tab stops when expanding tabs.
pub const TAB_WIDTH: usize = 8;

/// Make one line of untrusted text safe and visible (see the module docs).
///
/// A `\n` or `\r` inside `s` is not a line break here: it is shown as `␊` / `␍`. Use
/// [`display_lines`] to split a message into lines first.
pub fn sanitize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col = 0usize;
    for c in s.chars() {
        match classify(c) {
            Class::Plain => {
                out.push(c);
                col += c.width().unwrap_or(0);
            }
            Class::Tab => {
                let n = TAB_WIDTH - col % TAB_WIDTH;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            Class::Picture(p) => {
                out.push(p);
                col += 1;
            }
            Class::Escaped => {
                let before = out.len();
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
                col += out.len() - before;
            }
        }
    }
    out
}

/// Split a message into display lines on `\r\n` or `\n` and sanitise each line.
///
/// A single trailing line break does not produce an extra empty line. The result always has
/// at least one line (an empty message is one empty line).
pub fn display_lines(s: &str) -> Vec<String> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let body = if s.ends_with('\n') {
        body.strip_suffix('\r').unwrap_or(body)
    } else {
        body
    };
    body.split('\n')
        .map(|l| sanitize_line(l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

/// True when `c` would be replaced by [`sanitize_line`] (tabs included).
pub fn is_unsafe_char(c: char) -> bool {
    !matches!(classify(c), Class::Plain)
}

enum Class {
    Plain,
    Tab,
    Picture(char),
    Escaped,
}

fn classify(c: char) -> Class {
    match c {
        '\t' => Class::Tab,
        '\u{0}'..='\u{1f}' => {
            Class::Picture(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'))
        }
        '\u{7f}' => Class::Picture('\u{2421}'),
        '\u{80}'..='\u{9f}' => Class::Escaped,
        c if is_invisible(c) => Class::Escaped,
        _ => Class::Plain,
    }
}

/// Bidi controls, zero-width characters and other invisible format characters that could
/// hide or reorder text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'            // soft hyphen
        | '\u{34f}'         // combining grapheme joiner
        | '\u{61c}'         // Arabic letter mark
        | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
        | '\u{17b4}' | '\u{17b5}' // Khmer inherent vowels (invisible)
        | '\u{180e}'        // Mongolian vowel separator
        | '\u{200b}'..='\u{200f}' // ZWSP, ZWNJ, ZWJ, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line / paragraph separator
        | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{206f}' // word joiner, invisible operators, bidi isolates, deprecated
        | '\u{feff}'        // zero-width no-break space / BOM
        | '\u{fff9}'..='\u{fffb}' // interlinear annotation
        | '\u{1d173}'..='\u{1d17a}' // musical format characters
        | '\u{e0000}'..='\u{e007f}' // tag characters
    )
}

/// Cells a grapheme takes when ratatui draws it (control characters are skipped by ratatui).
pub fn cell_width(g: &str) -> usize {
    use ratatui::buffer::CellWidth;
    if g.chars().any(char::is_control) {
        0
    } else {
        g.cell_width() as usize
    }
}

/// Cut `s` to at most `width` cells, ending with `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    let total: usize = s.graphemes(true).map(cell_width).sum();
    if total <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = cell_width(g);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push_str(g);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    /// No character a terminal acts on may survive.
    fn assert_inert(s: &str) {
        for c in s.chars() {
            assert!(
                !(c.is_control() || is_invisible(c)),
                "unsafe char {c:?} survived in {s:?}"
            );
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        for s in [
            "hello",
            "your submit context: hi",
            "中文 テスト 🙂",
            "e\u{301}",
            "",
        ] {
            assert_eq!(sanitize_line(s), s);
        }
    }

    #[test]
    fn c0_controls_become_control_pictures() {
        assert_eq!(sanitize_line("a\u{0}b"), "a␀b");
        assert_eq!(sanitize_line("bell\u{7}"), "bell␇");
        assert_eq!(sanitize_line("\u{1b}"), "␛");
        assert_eq!(sanitize_line("back\u{8}space"), "back␈space");
        assert_eq!(sanitize_line("del\u{7f}"), "del␡");
        assert_eq!(sanitize_line("\u{1f}"), "␟");
    }

    #[test]
    fn lone_cr_and_lf_are_visible() {
        assert_eq!(sanitize_line("over\rwrite"), "over␍write");
        assert_eq!(sanitize_line("a\nb"), "a␊b");
    }

    #[test]
    fn c1_controls_are_escaped() {
        assert_eq!(sanitize_line("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(sanitize_line("\u{9d}0;t\u{9c}"), "\\u{9d}0;t\\u{9c}");
        assert_eq!(sanitize_line("\u{85}"), "\\u{85}");
    }

    #[test]
    fn tabs_expand_to_tab_stops() {
        assert_eq!(sanitize_line("\tx"), "        x");
        assert_eq!(sanitize_line("ab\tc"), "ab      c");
        assert_eq!(sanitize_line("12345678\tc"), "12345678        c");
        // Wide characters count two columns.
        assert_eq!(sanitize_line("中\tx"), "中      x");
        assert_eq!(sanitize_line("中\tx").width(), 9);
    }

    #[test]
    fn bidi_and_zero_width_are_escaped() {
        assert_eq!(sanitize_line("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(sanitize_line("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(sanitize_line("ad\u{200b}min"), "ad\\u{200b}min");
        assert_eq!(sanitize_line("\u{feff}bom"), "\\u{feff}bom");
        assert_eq!(sanitize_line("\u{200e}\u{200f}"), "\\u{200e}\\u{200f}");
        assert_eq!(sanitize_line("tag\u{e0041}"), "tag\\u{e0041}");
    }

    #[test]
    fn display_lines_splits_crlf_and_lf() {
        assert_eq!(
            display_lines(
                "congratulation, you have connect with server\r\nnow, you can do something else"
            ),
            vec![
                "congratulation, you have connect with server",
                "now, you can do something else"
            ]
        );
        assert_eq!(display_lines("a\nb\n\nc"), vec!["a", "b", "", "c"]);
        assert_eq!(display_lines("one\n"), vec!["one"]);
        assert_eq!(display_lines("one\r\n"), vec!["one"]);
        assert_eq!(display_lines(""), vec![""]);
        assert_eq!(display_lines("\n"), vec![""]);
        assert_eq!(display_lines("a\r\n\r\n"), vec!["a", ""]);
        // A lone CR is not a line break.
        assert_eq!(display_lines("a\rb"), vec!["a␍b"]);
    }

    /// Sequences a hostile server might send to take over the terminal.
    const INJECTIONS: &[(&str, &str)] = &[
        // OSC 0: set the window title (BEL and ST terminated).
        ("\u{1b}]0;pwned\u{7}", "␛]0;pwned␇"),
        ("\u{1b}]2;title\u{1b}\\", "␛]2;title␛\\"),
        // OSC 52: write the clipboard.
        (
            "\u{1b}]52;c;Y3VybCBldmlsfHNo\u{7}",
            "␛]52;c;Y3VybCBldmlsfHNo␇",
        ),
        // OSC 8: hyperlink.
        (
            "\u{1b}]8;;http://evil/\u{1b}\\click\u{1b}]8;;\u{1b}\\",
            "␛]8;;http://evil/␛\\click␛]8;;␛\\",
        ),
        // CSI 2J: clear the screen; CSI H: home.
        ("\u{1b}[2J\u{1b}[H", "␛[2J␛[H"),
        // SGR colours.
        ("\u{1b}[31;1mred\u{1b}[0m", "␛[31;1mred␛[0m"),
        ("\u{1b}[38;2;255;0;0mrgb", "␛[38;2;255;0;0mrgb"),
        // Cursor moves and erase line.
        ("\u{1b}[10A\u{1b}[5C\u{1b}[2K", "␛[10A␛[5C␛[2K"),
        ("\u{1b}7\u{1b}8", "␛7␛8"),
        // DCS and APC strings.
        ("\u{1b}Pq#0;2;0;0;0\u{1b}\\", "␛Pq#0;2;0;0;0␛\\"),
        ("\u{1b}_Gf=100;AAAA\u{1b}\\", "␛_Gf=100;AAAA␛\\"),
        // 8-bit CSI and OSC.
        ("\u{9b}2J", "\\u{9b}2J"),
        ("\u{9d}0;t\u{7}", "\\u{9d}0;t␇"),
        // Alternate screen, bracketed paste end (could fake input), mouse reporting.
        (
            "\u{1b}[?1049h\u{1b}[201~\u{1b}[?1000h",
            "␛[?1049h␛[201~␛[?1000h",
        ),
        // Overwrite a line with CR, backspaces.
        ("ok\rFAIL", "ok␍FAIL"),
        ("safe\u{8}\u{8}\u{8}\u{8}evil", "safe␈␈␈␈evil"),
        // Bidi override: "txt.exe" that displays as "exe.txt".
        ("report\u{202e}txt.exe", "report\\u{202e}txt.exe"),
        ("\u{2067}admin\u{2069}", "\\u{2067}admin\\u{2069}"),
    ];

    #[test]
    fn injection_corpus_is_inert_and_visible() {
        for (raw, shown) in INJECTIONS {
            let got = sanitize_line(raw);
            assert_eq!(&got, shown, "for {raw:?}");
            assert_inert(&got);
            assert!(!got.contains('\u{1b}'));
        }
        // Also when split into lines.
        for (raw, _) in INJECTIONS {
            for line in display_lines(raw) {
                assert_inert(&line);
            }
        }
    }

    #[test]
    fn every_char_below_0x3000_is_safe_after_sanitising() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = sanitize_line(&all);
        assert_inert(&out);
        for line in display_lines(&all) {
            assert_inert(&line);
        }
    }

    #[test]
    fn is_unsafe_char_matches_sanitiser() {
        assert!(is_unsafe_char('\u{1b}'));
        assert!(is_unsafe_char('\t'));
        assert!(is_unsafe_char('\u{202e}'));
        assert!(!is_unsafe_char('a'));
        assert!(!is_unsafe_char('中'));
    }
}
