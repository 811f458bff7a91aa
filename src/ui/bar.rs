//! One status-bar line from parts that know how they give way: a notice being shown wins the
//! room. While the parts do not fit, key hints give way first (whole " · " parts, the one
//! farthest from the bar's edge first, then the whole hint), then details are cut short and
//! left out; the notice is cut only when it does not fit even so.

use ratatui::text::{Line, Span};

use super::truncate;

/// How a part of the bar gives way when the bar is too narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Give {
    /// Always drawn (cut only when the kept parts alone overflow the bar).
    Keep,
    /// Key hints of parts joined by " · ": shortened, then left out, lowest rank first.
    Hint(u8),
    /// A detail: cut short (to no fewer than [`DETAIL_MIN`] cells), then left out.
    Detail,
    /// The notice: cut only as the last resort.
    Notice,
}

/// Cells a detail keeps when it is cut.
const DETAIL_MIN: usize = 12;

/// A part of the bar.
pub(crate) struct Part {
    pub span: Span<'static>,
    pub give: Give,
}

pub(crate) fn part(span: Span<'static>, give: Give) -> Part {
    Part { span, give }
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

fn total(parts: &[Part]) -> usize {
    parts.iter().map(|p| width(p.span.content.as_ref())).sum()
}

/// `hint` with one " · " part fewer: the last one (`from_end`) or the first; `None` when it
/// had only one. The spaces around the hint are kept.
fn shorter(hint: &str, from_end: bool) -> Option<String> {
    let body = hint.trim();
    let lead = &hint[..hint.len() - hint.trim_start().len()];
    let trail = &hint[hint.trim_end().len()..];
    let (kept, _) = if from_end {
        body.rsplit_once(" · ")?
    } else {
        let (first, rest) = body.split_once(" · ")?;
        (rest, first)
    };
    Some(format!("{lead}{kept}{trail}"))
}

/// The bar: `left` from the left edge, `right` against the right edge, in `cells` cells.
pub(crate) fn line(left: Vec<Part>, right: Vec<Part>, cells: usize) -> Line<'static> {
    let split = left.len();
    let mut parts = left;
    parts.extend(right);
    let (parts, split) = fit(parts, split, cells);
    let used = total(&parts);
    let mut spans: Vec<Span<'static>> = Vec::with_capacity(parts.len() + 1);
    let mut parts = parts.into_iter();
    spans.extend(parts.by_ref().take(split).map(|p| p.span));
    spans.push(Span::raw(" ".repeat(cells.saturating_sub(used))));
    spans.extend(parts.map(|p| p.span));
    Line::from(spans)
}

/// The parts that fit in `cells`, each given way as its [`Give`] says; the index of the
/// first right-hand part.
fn fit(mut parts: Vec<Part>, mut split: usize, cells: usize) -> (Vec<Part>, usize) {
    let over = |parts: &[Part]| total(parts).saturating_sub(cells);
    // Hints, lowest rank first: each shortened to its first part (one part at a time, the
    // part nearest the middle of the bar first), then, if that is not enough, left out.
    let mut ranks: Vec<u8> = parts
        .iter()
        .filter_map(|p| match p.give {
            Give::Hint(r) => Some(r),
            _ => None,
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    for &rank in &ranks {
        for i in 0..parts.len() {
            while over(&parts) > 0 && parts[i].give == Give::Hint(rank) {
                match shorter(parts[i].span.content.as_ref(), i < split) {
                    Some(s) => parts[i].span.content = s.into(),
                    None => break,
                }
            }
        }
    }
    for &rank in &ranks {
        let mut i = 0;
        while i < parts.len() && over(&parts) > 0 {
            if parts[i].give == Give::Hint(rank) {
                parts.remove(i);
                if i < split {
                    split -= 1;
                }
            } else {
                i += 1;
            }
        }
    }
    // Details: the last one first, cut short or left out.
    let mut i = parts.len();
    while over(&parts) > 0 && i > 0 {
        i -= 1;
        if parts[i].give != Give::Detail {
            continue;
        }
        let w = width(parts[i].span.content.as_ref());
        let over = over(&parts);
        if w >= over + DETAIL_MIN {
            parts[i].span.content = truncate(parts[i].span.content.as_ref(), w - over).into();
        } else {
            parts.remove(i);
            if i < split {
                split -= 1;
            }
        }
    }
    // The notice, only now.
    if let Some(i) = parts.iter().position(|p| p.give == Give::Notice) {
        let over = over(&parts);
        let w = width(parts[i].span.content.as_ref());
        if over > 0 && w > over {
            parts[i].span.content = truncate(parts[i].span.content.as_ref(), w - over).into();
        }
    }
    if over(&parts) > 0 {
        // What is kept does not fit: the left part cut as any line is, nothing on the right.
        parts.truncate(split);
        let (spans, _) = super::fit_spans(parts.iter().map(|p| p.span.clone()).collect(), cells);
        let n = spans.len();
        return (spans.into_iter().map(|s| part(s, Give::Keep)).collect(), n);
    }
    (parts, split)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line<'_>) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn bar(notice: &str, cells: usize) -> String {
        let left = vec![
            part(Span::raw(" #7 1.2.3.4:5 "), Give::Keep),
            part(Span::raw("⏸ 1 held "), Give::Keep),
            part(Span::raw("f forward · d drop · E edit "), Give::Hint(1)),
            part(Span::raw("intercept: dir:client "), Give::Detail),
            part(Span::raw(format!(" {notice}")), Give::Notice),
        ];
        let right = vec![part(
            Span::raw(" Esc connections · F1 help "),
            Give::Hint(2),
        )];
        text(&line(left, right, cells))
    }

    #[test]
    fn hints_give_way_to_a_notice_whole_parts_first() {
        let edited = "forwarded message #7 as edited";
        // Room for everything: as laid out, padded to the right-hand hint.
        let wide = bar("saved", 120);
        assert_eq!(wide.chars().count(), 120);
        assert!(
            wide.starts_with(
                " #7 1.2.3.4:5 ⏸ 1 held f forward · d drop · E edit intercept: dir:client  saved "
            ),
            "{wide}"
        );
        assert!(wide.ends_with(" Esc connections · F1 help "), "{wide}");
        // Tighter: the held keys lose whole parts, the last first.
        let s = bar(edited, 125);
        assert!(
            s.contains("f forward · d drop ") && !s.contains("E edit"),
            "{s}"
        );
        assert!(
            s.contains(edited) && s.ends_with(" Esc connections · F1 help "),
            "{s}"
        );
        // Then the right-hand hint (its part nearest the middle).
        let s = bar(edited, 95);
        assert!(s.contains(" f forward ") && !s.contains("d drop"), "{s}");
        assert!(s.contains(edited) && s.ends_with(" F1 help "), "{s}");
        assert_eq!(s.chars().count(), 95);
        // Then the hints are left out, lowest rank first.
        let s = bar(edited, 90);
        assert!(!s.contains("f forward") && s.ends_with(" F1 help "), "{s}");
        let s = bar(edited, 80);
        assert!(!s.contains("F1 help") && s.contains(edited), "{s}");
        // Then the detail is cut, then left out; the notice is cut only last, once.
        let s = bar(edited, 70);
        assert!(
            s.contains("intercept: d") && !s.contains("dir:client"),
            "{s}"
        );
        assert!(s.contains(edited), "{s}");
        let s = bar(edited, 60);
        assert!(!s.contains("intercept") && s.contains(edited), "{s}");
        let s = bar(edited, 40);
        assert!(s.contains("forwarded m"), "{s}");
        assert!(s.ends_with('…'), "{s}");
        assert_eq!(s.chars().filter(|c| *c == '…').count(), 1, "{s}");
        assert!(s.chars().count() <= 40, "{s}");
    }

    #[test]
    fn kept_parts_wider_than_the_bar_are_cut_once() {
        let left = vec![part(Span::raw("x".repeat(50)), Give::Keep)];
        let right = vec![part(Span::raw(" F1 help "), Give::Hint(0))];
        let s = text(&line(left, right, 20));
        assert_eq!(s.chars().count(), 20, "{s}");
        assert!(s.ends_with('…'), "{s}");
    }
}
