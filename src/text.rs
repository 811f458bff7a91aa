//! Untrusted text → safe display lines.
//!
//! Every string that came from the network (messages, close reasons, header values, error
//! texts, nicknames) passes through [`sanitize_line`] or [`display_lines`] before it reaches a
//! widget, so a server can never send the terminal a control sequence: it cannot change the
//! window title, write the clipboard, recolour or clear the screen, move the cursor, or reorder
//! or hide text with bidi controls and invisible characters.
//!
//! The approach is a total map over grapheme clusters, not a parser: every character that a
//! terminal could act on (C0 and C1 controls, DEL, ESC) or that would be invisible is replaced
//! by a visible, inert placeholder. Because the introducer of an escape sequence (ESC, or the
//! C1 forms such as CSI U+009B and OSC U+009D) is replaced, the whole sequence is defused and
//! its remaining bytes are shown as ordinary text, so `ESC [2J` displays as `␛[2J` and an
//! OSC 52 clipboard write as `␛]52;c;…␇`: the user sees exactly what the server tried, and the
//! terminal sees only printable characters.
//!
//! "Invisible" is Unicode's own definition, from the ICU4X property tables
//! ([`icu_properties`]), not a hand list: every `Default_Ignorable_Code_Point` (zero-width
//! joiners and spaces, variation selectors such as U+180B or U+E0100, Hangul fillers, tag
//! characters, …), every format character (general category `Cf`: bidi controls, U+0600,
//! U+13430, shorthand format controls U+1BCA0…) and the line/paragraph separators. So
//! `ad\u{180b}min` never displays as `admin`.
//!
//! Emoji are text, not spoofing: a well-formed emoji sequence keeps its joiners and selectors
//! — ZWJ sequences (`👨‍👩‍👧‍👦`), modifier sequences (`👍🏽`), tag flags such as England's,
//! keycaps (`1️⃣`) and emoji presentation (`❤️`). The check is per
//! grapheme cluster: a ZWJ only survives between two pictographs inside one cluster, a
//! variation selector only after a character with an emoji form, a modifier only after a
//! modifier base, tag characters only in a tag flag.
//!
//! Flags made of two regional indicators are the exception: terminals disagree on their
//! width (tmux counts each indicator on its own, a terminal may draw the pair as one
//! two-cell glyph or as two letters), so a screen drawn with one count is left with stray
//! cells under another. A pair is shown as its region code in brackets, `🇯🇵` as `[JP]`
//! (what the user is typing shows each indicator as its letter, `JP`, one cell for one
//! character); the text itself, as sent and recorded, is untouched.
//!
//! Widths: the output is drawn by ratatui, which measures each grapheme cluster with
//! `unicode-width`. A cluster the sanitiser lets through is either a kept emoji sequence (two
//! cells, as in terminals that draw emoji sequences as one glyph) or has the width of its
//! characters added up, as every terminal counts them. Characters whose width depends on what
//! surrounds them are replaced: a lone regional indicator (half a flag), a skin-tone modifier
//! not after a modifier base, a text-presentation selector after a wide emoji.
//!
//! Placeholders:
//! - C0 controls U+0000–U+001F → the Control Pictures `␀`…`␟` (`␛` for ESC, `␇` for BEL,
//!   `␍` for a lone carriage return, `␊` for a line feed inside one line); DEL → `␡`.
//! - Tabs are expanded to spaces up to the next multiple of [`TAB_WIDTH`] columns.
//! - C1 controls U+0080–U+009F, invisible characters (above) and the width-ambiguous pieces
//!   of emoji outside a sequence → their escape written out, e.g. `\u{9b}`, `\u{202e}`,
//!   `\u{200b}`, `\u{1f1ef}`.

use icu_properties::props::{BinaryProperty, EnumeratedProperty};
use icu_properties::props::{
    DefaultIgnorableCodePoint, Emoji, EmojiModifier, EmojiModifierBase, ExtendedPictographic,
    GeneralCategory, RegionalIndicator,
};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns between tab stops when expanding tabs.
pub const TAB_WIDTH: usize = 8;

const ZWJ: char = '\u{200d}';
const VS15: char = '\u{fe0e}';
const VS16: char = '\u{fe0f}';
const KEYCAP: char = '\u{20e3}';
const BLACK_FLAG: char = '\u{1f3f4}';
const CANCEL_TAG: char = '\u{e007f}';
/// Most pictographs one ZWJ sequence may join (the longest real ones have four).
const MAX_ZWJ_ELEMENTS: usize = 8;
/// Most tag characters a tag flag may carry (real ones have five or six).
const MAX_TAGS: usize = 16;

/// Make one line of untrusted text safe and visible (see the module docs).
///
/// A `\n` or `\r` inside `s` is not a line break here: it is shown as `␊` / `␍`. Use
/// [`display_lines`] to split a message into lines first.
pub fn sanitize_line(s: &str) -> String {
    if s.bytes().all(|b| matches!(b, b' '..=b'~')) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut col = 0usize;
    walk(s, |p| match p {
        Piece::Keep(t) => {
            out.push_str(t);
            col += t.width();
        }
        Piece::Tab => {
            let n = TAB_WIDTH - col % TAB_WIDTH;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        }
        Piece::Picture(p) => {
            out.push(p);
            col += 1;
        }
        Piece::Flag(a, b) => {
            out.extend(['[', a, b, ']']);
            col += 4;
        }
        Piece::Escape(c, _) => {
            let before = out.len();
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
            col += out.len() - before;
        }
    });
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

/// True when `c` would be replaced by [`sanitize_line`] outside an emoji sequence (tabs
/// included). Joiners, variation selectors, regional indicators and skin-tone modifiers are
/// unsafe alone; inside a well-formed emoji sequence they are kept.
pub fn is_unsafe_char(c: char) -> bool {
    !matches!(classify(c), Class::Plain)
}

/// How many invisible characters (default-ignorable, format, bidi, line separators, C1
/// controls) [`sanitize_line`] would replace with a placeholder in `s`: the ones that could
/// hide or reorder text. Emoji joiners and selectors inside an emoji sequence do not count.
pub fn hidden_count(s: &str) -> usize {
    if s.is_ascii() {
        return 0;
    }
    let mut n = 0;
    walk(s, |p| {
        if let Piece::Escape(_, Why::Hidden) = p {
            n += 1;
        }
    });
    n
}

/// `s` with every character [`sanitize_line`] would replace turned into `mask`, one
/// character for one, so a cursor counted in characters stays aligned (used for what the user
/// is typing). Emoji sequences are kept whole.
pub fn mask_unsafe(s: &str, mask: char) -> String {
    let mut out = String::with_capacity(s.len());
    walk(s, |p| match p {
        Piece::Keep(t) => out.push_str(t),
        Piece::Flag(a, b) => out.extend([a, b]),
        // Half a flag (typed one indicator at a time): its letter too.
        Piece::Escape(c, _) if RegionalIndicator::for_char(c) => out.push(region_letter(c)),
        Piece::Tab | Piece::Picture(_) | Piece::Escape(..) => out.push(mask),
    });
    out
}

/// The capital letter a regional indicator stands for (U+1F1E6 is `A`).
fn region_letter(c: char) -> char {
    char::from_u32(u32::from('A') + (c as u32).saturating_sub(0x1f1e6)).unwrap_or('?')
}

/// True when `g` (one grapheme cluster) is a well-formed emoji sequence that the sanitiser
/// shows as it is: a ZWJ, modifier, tag flag, keycap or presentation sequence (a flag of
/// regional indicators is shown as `[JP]`, see the module docs).
pub fn is_emoji_sequence(g: &str) -> bool {
    emoji_len(g) == Some(g.len()) && g.chars().nth(1).is_some()
}

/// One piece of sanitised output.
enum Piece<'a> {
    /// Shown as it is.
    Keep(&'a str),
    /// A flag of two regional indicators: the letters of its region code.
    Flag(char, char),
    Tab,
    Picture(char),
    /// Shown as its `\u{…}` escape.
    Escape(char, Why),
}

/// Why a character is escaped.
#[derive(Clone, Copy)]
enum Why {
    /// Invisible: default-ignorable, format, separator or C1 control.
    Hidden,
    /// Its width depends on its neighbours: half a flag, a modifier without a base.
    Ambiguous,
}

/// Feed the pieces of `s` to `f`, grapheme cluster by grapheme cluster.
fn walk<'a>(s: &'a str, mut f: impl FnMut(Piece<'a>)) {
    for g in s.graphemes(true) {
        let mut i = 0;
        while i < g.len() {
            let rest = &g[i..];
            if let Some((a, b, n)) = flag(rest) {
                f(Piece::Flag(a, b));
                i += n;
                continue;
            }
            if let Some(n) = emoji_len(rest) {
                f(Piece::Keep(&rest[..n]));
                i += n;
                continue;
            }
            let Some(c) = rest.chars().next() else { break };
            let n = c.len_utf8();
            f(match classify(c) {
                Class::Plain => Piece::Keep(&rest[..n]),
                Class::Tab => Piece::Tab,
                Class::Picture(p) => Piece::Picture(p),
                Class::Escaped(why) => Piece::Escape(c, why),
            });
            i += n;
        }
    }
}

enum Class {
    Plain,
    Tab,
    Picture(char),
    Escaped(Why),
}

fn classify(c: char) -> Class {
    match c {
        ' '..='~' => Class::Plain,
        '\t' => Class::Tab,
        '\u{0}'..='\u{1f}' => {
            Class::Picture(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'))
        }
        '\u{7f}' => Class::Picture('\u{2421}'),
        '\u{80}'..='\u{9f}' => Class::Escaped(Why::Hidden),
        c if is_invisible(c) => Class::Escaped(Why::Hidden),
        c if RegionalIndicator::for_char(c) || EmojiModifier::for_char(c) => {
            Class::Escaped(Why::Ambiguous)
        }
        _ => Class::Plain,
    }
}

/// Unicode's invisible characters: `Default_Ignorable_Code_Point`, general category `Cf`
/// (format) and the line and paragraph separators.
fn is_invisible(c: char) -> bool {
    DefaultIgnorableCodePoint::for_char(c)
        || matches!(
            GeneralCategory::for_char(c),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// The flag (a pair of regional indicators, which the grapheme rules pair up) that starts
/// `s`: its region code's letters and byte length.
fn flag(s: &str) -> Option<(char, char, usize)> {
    let mut chars = s.chars();
    let (c0, c1) = (chars.next()?, chars.next()?);
    (RegionalIndicator::for_char(c0) && RegionalIndicator::for_char(c1)).then(|| {
        (
            region_letter(c0),
            region_letter(c1),
            c0.len_utf8() + c1.len_utf8(),
        )
    })
}

/// Byte length of the emoji sequence that starts `s` (all of it inside one grapheme
/// cluster), if one does. A lone pictograph counts too (length of that one character).
fn emoji_len(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    let c0 = chars.next()?;
    if c0.is_ascii() && !matches!(c0, '0'..='9' | '#' | '*') {
        return None;
    }
    if matches!(c0, '0'..='9' | '#' | '*') {
        // Keycap `1️⃣`, or the digit's emoji presentation `1️`.
        return match (chars.next(), chars.next()) {
            (Some(VS16), Some(KEYCAP)) => Some(1 + VS16.len_utf8() + KEYCAP.len_utf8()),
            (Some(VS16), _) => Some(1 + VS16.len_utf8()),
            _ => None,
        };
    }
    let (mut end, text_style) = element_len(s, true)?;
    if text_style {
        return Some(end);
    }
    // ZWJ sequence: pictographs joined by ZWJ, kept while it stays one two-cell glyph (a
    // text-style pictograph without its selector, say, would not). Real sequences have at
    // most a handful of elements; the cap bounds the work on a hostile cluster.
    for _ in 1..MAX_ZWJ_ELEMENTS {
        let Some(after) = s[end..].strip_prefix(ZWJ) else {
            break;
        };
        match element_len(after, false) {
            Some((n, _)) if is_two_cells(&s[..end + ZWJ.len_utf8() + n]) => {
                end += ZWJ.len_utf8() + n
            }
            _ => break,
        }
    }
    Some(end)
}

/// One element of an emoji sequence at the start of `s`: a pictograph, optionally with its
/// emoji presentation selector, a skin-tone modifier, or a tag sequence (subdivision flags).
/// Returns its byte length and whether it ended with a text presentation selector (allowed
/// only as a whole sequence, `first`, after a pictograph that is narrow either way).
fn element_len(s: &str, first: bool) -> Option<(usize, bool)> {
    let mut chars = s.chars();
    let c0 = chars.next()?;
    if !ExtendedPictographic::for_char(c0) {
        return None;
    }
    let n0 = c0.len_utf8();
    match chars.next() {
        Some(VS16) if Emoji::for_char(c0) && is_two_cells(&s[..n0 + VS16.len_utf8()]) => {
            Some((n0 + VS16.len_utf8(), false))
        }
        Some(m)
            if EmojiModifier::for_char(m)
                && EmojiModifierBase::for_char(c0)
                && is_two_cells(&s[..n0 + m.len_utf8()]) =>
        {
            Some((n0 + m.len_utf8(), false))
        }
        Some(VS15) if first && Emoji::for_char(c0) && c0.width() == Some(1) => {
            Some((n0 + VS15.len_utf8(), true))
        }
        Some(t) if c0 == BLACK_FLAG && is_tag_spec(t) => {
            // 🏴 tag-spec… cancel-tag, e.g. the flag of England; unterminated: the flag alone.
            let mut len = n0;
            for c in s[n0..].chars().take(MAX_TAGS) {
                len += c.len_utf8();
                if c == CANCEL_TAG {
                    return Some((len, false));
                }
                if !is_tag_spec(c) {
                    break;
                }
            }
            Some((n0, false))
        }
        _ => Some((n0, false)),
    }
}

/// True when `s` is drawn two cells wide (as one emoji glyph).
fn is_two_cells(s: &str) -> bool {
    s.width() == 2
}

fn is_tag_spec(c: char) -> bool {
    ('\u{e0020}'..='\u{e007e}').contains(&c)
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

    /// No character a terminal acts on, and no invisible or width-ambiguous one outside an
    /// emoji sequence, may survive.
    fn assert_inert(s: &str) {
        for g in s.graphemes(true) {
            if is_emoji_sequence(g) {
                continue;
            }
            for c in g.chars() {
                assert!(
                    !(c.is_control()
                        || is_invisible(c)
                        || RegionalIndicator::for_char(c)
                        || EmojiModifier::for_char(c)),
                    "unsafe char {c:?} survived in {s:?}"
                );
            }
        }
    }

    /// Every cluster not kept as an emoji sequence is as wide as its characters added up (as
    /// a terminal that does not know grapheme clusters counts it); kept ones are two cells.
    fn assert_unambiguous_widths(s: &str) {
        for g in s.graphemes(true) {
            if is_emoji_sequence(g) && !g.ends_with(VS15) {
                assert_eq!(g.width(), 2, "emoji sequence {g:?} in {s:?}");
            } else {
                let sum: usize = g.chars().map(|c| c.width().unwrap_or(0)).sum();
                assert_eq!(g.width(), sum, "cluster {g:?} in {s:?}");
            }
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
        assert!(is_unsafe_char('\u{200d}'));
        assert!(is_unsafe_char('\u{1f1ef}'));
        assert!(!is_unsafe_char('a'));
        assert!(!is_unsafe_char('中'));
        assert!(!is_unsafe_char('👍'));
    }

    /// The spoofs of issue 15.4: each displayed exactly like a plain word before.
    #[test]
    fn default_ignorable_and_format_characters_are_escaped() {
        assert_eq!(sanitize_line("ad\u{180b}min"), "ad\\u{180b}min");
        for c in ['\u{180b}', '\u{180c}', '\u{180d}', '\u{180f}'] {
            assert_eq!(
                sanitize_line(&format!("a{c}b")),
                format!("a\\u{{{:x}}}b", c as u32)
            );
        }
        assert_eq!(sanitize_line("ad\u{fe0e}min"), "ad\\u{fe0e}min");
        assert_eq!(sanitize_line("ad\u{fe0f}min"), "ad\\u{fe0f}min");
        assert_eq!(sanitize_line("ad\u{fe00}min"), "ad\\u{fe00}min");
        assert_eq!(sanitize_line("葛\u{e0100}"), "葛\\u{e0100}");
        assert_eq!(sanitize_line("a\u{e01ef}"), "a\\u{e01ef}");
        for c in '\u{1bca0}'..='\u{1bca3}' {
            assert_eq!(
                sanitize_line(&format!("x{c}")),
                format!("x\\u{{{:x}}}", c as u32)
            );
        }
        assert_eq!(sanitize_line("\u{13430}"), "\\u{13430}");
        assert_eq!(sanitize_line("\u{600}12"), "\\u{600}12");
        assert_eq!(sanitize_line("a\u{ad}b"), "a\\u{ad}b");
        assert_eq!(sanitize_line("\u{3164}"), "\\u{3164}");
        assert_eq!(sanitize_line("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(sanitize_line("\u{fff0}"), "\\u{fff0}");
        assert_eq!(hidden_count("ad\u{180b}min"), 1);
        assert_eq!(hidden_count("admin"), 0);
    }

    /// Every code point Unicode calls default-ignorable or format is escaped when it stands
    /// outside an emoji sequence: checked over the whole code space against the ICU tables.
    #[test]
    fn every_ignorable_and_format_code_point_is_escaped() {
        let mut checked = 0;
        for c in (0u32..=0x10ffff).filter_map(char::from_u32) {
            let cf = GeneralCategory::for_char(c) == GeneralCategory::Format;
            if !(cf || DefaultIgnorableCodePoint::for_char(c)) {
                continue;
            }
            let got = sanitize_line(&format!("a{c}b"));
            assert_eq!(
                got,
                format!("a\\u{{{:x}}}b", c as u32),
                "for U+{:04X}",
                c as u32
            );
            checked += 1;
        }
        assert!(checked > 4000, "{checked}");
    }

    /// Issue 14.5: ordinary emoji are text and are shown intact.
    #[test]
    fn emoji_sequences_are_kept() {
        let line = "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 skin 👍🏽 keycap 1\u{fe0f}\u{20e3}";
        assert_eq!(sanitize_line(line), line);
        assert_eq!(hidden_count(line), 0);
        for s in [
            "👨\u{200d}👩\u{200d}👧\u{200d}👦",
            "🧑🏽\u{200d}💻",
            "🏳\u{fe0f}\u{200d}🌈",
            "❤\u{fe0f}\u{200d}🔥",
            "👍🏽",
            "👋🏿",
            "1\u{fe0f}\u{20e3}",
            "#\u{fe0f}\u{20e3}",
            "❤\u{fe0f}",
            "©\u{fe0f}",
            // Flag of England: black flag, tag letters, cancel tag.
            "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
        ] {
            assert_eq!(sanitize_line(s), s, "for {s:?}");
            for g in s.graphemes(true) {
                assert!(is_emoji_sequence(g), "{g:?}");
                assert_eq!(g.width(), 2, "{g:?}");
            }
        }
        // A text-presentation selector after an emoji that is narrow either way.
        assert_eq!(sanitize_line("❤\u{fe0e}"), "❤\u{fe0e}");
        // Digits with a combining keycap but no selector have nothing to hide.
        assert_eq!(sanitize_line("1\u{20e3}"), "1\u{20e3}");
    }

    /// Joiners, selectors, modifiers and regional indicators outside a well-formed sequence.
    #[test]
    fn emoji_pieces_outside_a_sequence_are_escaped() {
        // A ZWJ between letters hides nothing visible but splits a word.
        assert_eq!(sanitize_line("ad\u{200d}min"), "ad\\u{200d}min");
        assert_eq!(sanitize_line("👨\u{200d}"), "👨\\u{200d}");
        assert_eq!(sanitize_line("\u{200d}👨"), "\\u{200d}👨");
        assert_eq!(
            sanitize_line("👨\u{200d}\u{200d}👩"),
            "👨\\u{200d}\\u{200d}👩"
        );
        // Half a flag has no agreed width.
        assert_eq!(sanitize_line("🇯"), "\\u{1f1ef}");
        assert_eq!(sanitize_line("🇯🇵🇰"), "[JP]\\u{1f1f0}");
        assert_eq!(sanitize_line("🇯\u{301}🇵"), "\\u{1f1ef}\u{301}\\u{1f1f5}");
        // A skin-tone modifier without a base.
        assert_eq!(sanitize_line("🏽"), "\\u{1f3fd}");
        assert_eq!(sanitize_line("a🏽"), "a\\u{1f3fd}");
        assert_eq!(sanitize_line("skin 🏽"), "skin \\u{1f3fd}");
        assert_eq!(sanitize_line("👍🏽🏽"), "👍🏽\\u{1f3fd}");
        // A selector after something without an emoji form, or a text selector after a wide
        // emoji (terminals disagree on its width).
        assert_eq!(sanitize_line("a\u{fe0f}"), "a\\u{fe0f}");
        assert_eq!(sanitize_line("⌚\u{fe0e}"), "⌚\\u{fe0e}");
        assert_eq!(sanitize_line("👍\u{fe0f}\u{fe0f}"), "👍\u{fe0f}\\u{fe0f}");
        // Tags outside a tag flag; an unterminated tag flag.
        assert_eq!(sanitize_line("a\u{e0067}"), "a\\u{e0067}");
        assert_eq!(sanitize_line("🏴\u{e0067}"), "🏴\\u{e0067}");
        // A text-style pictograph joined without its selector is no single glyph.
        assert_eq!(sanitize_line("❤\u{200d}🎉"), "❤\\u{200d}🎉");
        // A hostile chain of joins: the first few stay one glyph, the rest are escaped.
        let chain = vec!["👨"; 1000].join("\u{200d}");
        let out = sanitize_line(&chain);
        assert_eq!(out.matches("\\u{200d}").count(), 999 / MAX_ZWJ_ELEMENTS);
        assert_unambiguous_widths(&out);
        // Bidi controls never belong to an emoji.
        assert_eq!(sanitize_line("👨\u{202e}👩"), "👨\\u{202e}👩");
        assert_eq!(hidden_count("ad\u{200d}min\u{202e}"), 2);
        assert_eq!(hidden_count("🇯"), 0);
    }

    #[test]
    fn sanitised_text_has_unambiguous_widths() {
        for s in [
            "family 👨\u{200d}👩\u{200d}👧\u{200d}👦 flag 🇯🇵 skin 👍🏽 keycap 1\u{fe0f}\u{20e3}",
            "🇯 🏽 a🏽 \u{600}x ⌚\u{fe0e} a\u{fe0f} 🇯🇵🇰 \u{200b}🏽 e\u{301} 가",
            "\u{1b}\u{301} 中\u{e0100} x\u{20e3}",
        ] {
            let out = sanitize_line(s);
            assert_inert(&out);
            assert_unambiguous_widths(&out);
            assert_eq!(sanitize_line(&out), out, "idempotent for {s:?}");
        }
    }

    /// Every character after an ASCII letter, and every pictograph with each selector and
    /// modifier, comes out inert with unambiguous widths.
    #[test]
    fn every_char_in_context_is_inert_with_unambiguous_widths() {
        let mut s = String::new();
        let planes = (0x80u32..0x40000).chain(0xe0000..0xe1000);
        for c in planes.filter_map(char::from_u32) {
            s.clear();
            s.push('a');
            s.push(c);
            let out = sanitize_line(&s);
            assert_inert(&out);
            assert_unambiguous_widths(&out);
            if ExtendedPictographic::for_char(c) {
                for next in [VS15, VS16, '\u{1f3fd}', ZWJ, '\u{e0067}'] {
                    s.clear();
                    s.push(c);
                    s.push(next);
                    let out = sanitize_line(&s);
                    assert_inert(&out);
                    assert_unambiguous_widths(&out);
                }
            }
        }
    }

    /// Terminals disagree on a flag's width (tmux left stray `🇵` cells over the screen):
    /// a pair of regional indicators is shown as its region code, in every context.
    #[test]
    fn flags_of_regional_indicators_show_as_their_region_code() {
        assert_eq!(sanitize_line("🇯🇵"), "[JP]");
        assert_eq!(sanitize_line("flag 🇯🇵!"), "flag [JP]!");
        assert_eq!(sanitize_line("🇺🇸🇫🇷"), "[US][FR]");
        assert_eq!(sanitize_line("🇦🇿"), "[AZ]");
        assert_eq!(hidden_count("🇯🇵"), 0);
        assert!(!is_emoji_sequence("🇯🇵"));
        for s in ["🇯🇵", "a🇯🇵b", "🇯🇵🇰", "🇯\u{301}🇵", "🇯🇵\u{200d}👩"]
        {
            let out = sanitize_line(s);
            assert!(
                !out.chars().any(RegionalIndicator::for_char),
                "{s:?} -> {out:?}"
            );
            assert_inert(&out);
            assert_unambiguous_widths(&out);
            assert_eq!(sanitize_line(&out), out);
        }
        // Typed: one letter per indicator, so the cursor (counted in characters) stays put.
        assert_eq!(mask_unsafe("🇯🇵 x", '\u{fffd}'), "JP x");
        assert_eq!(mask_unsafe("🇯", '\u{fffd}'), "J");
    }

    #[test]
    fn mask_unsafe_keeps_one_char_per_char() {
        let typed = "a\u{1b}b\u{200b}👨\u{200d}👩\t🇯";
        let shown = mask_unsafe(typed, '\u{fffd}');
        assert_eq!(shown, "a\u{fffd}b\u{fffd}👨\u{200d}👩\u{fffd}J");
        assert_eq!(shown.chars().count(), typed.chars().count());
    }
}
