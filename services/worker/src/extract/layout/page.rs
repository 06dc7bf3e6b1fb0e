//! The end of a page: its footnote block found, reference marks taken out of the
//! text, and each line's box, size and kind recorded.

use super::{Glyph, Line, dominant_size};
use crate::text::layout::{LineBox, PageLayout};

/// Glyphs set smaller than their line and raised above its baseline.
pub(super) fn superscripts(line: &Line, size: f64) -> Vec<bool> {
    let mut baselines: Vec<f64> = line
        .glyphs
        .iter()
        .filter(|g| (g.size - size).abs() < 0.05)
        .map(|g| g.y)
        .collect();
    baselines.sort_by(f64::total_cmp);
    let Some(&baseline) = baselines.get(baselines.len() / 2) else {
        return vec![false; line.glyphs.len()];
    };
    line.glyphs
        .iter()
        .map(|g| g.size <= size * 0.85 && g.y < baseline - size * 0.15)
        .collect()
}

/// A note mark: digits or one of the traditional symbols.
pub(super) fn mark_value(text: &str) -> Option<String> {
    let t = text.trim();
    let digits = !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_digit());
    let symbols = !t.is_empty() && t.chars().count() <= 3 && t.chars().all(|c| "*†‡§¶".contains(c));
    (digits || symbols).then(|| t.to_owned())
}

/// The mark a note line starts with: a superscript run, or "12 " / "* ".
pub(super) fn leading_mark(line: &Line, sup: &[bool]) -> Option<String> {
    let run: String = line
        .glyphs
        .iter()
        .zip(sup)
        .take_while(|(_, s)| **s)
        .map(|(g, _)| &line.text[g.start..g.end])
        .collect();
    if let Some(mark) = mark_value(&run) {
        return Some(mark);
    }
    // A raised letter ("ᵃ", or a symbol font's asterisk that decodes to a
    // letter) opening a line of the foot.
    let mut letters = run.chars();
    if let (Some(letter), None) = (letters.next(), letters.next())
        && letter.is_ascii_lowercase()
        && line.text.trim_start().len() > run.len() + 1
    {
        return Some(run);
    }
    let first = line.text.split_whitespace().next()?;
    let rest = line.text.trim_start()[first.len()..].trim_start();
    let first = first.trim_end_matches(['.', ')']);
    (!rest.is_empty()).then(|| mark_value(first)).flatten()
}

pub(super) fn finish_page(lines: &[Line], width: f64, height: f64) -> (String, PageLayout) {
    let page_size = dominant_size(lines.iter().flat_map(|l| l.glyphs.iter()));
    let sizes: Vec<f64> = lines
        .iter()
        .map(|l| dominant_size(l.glyphs.iter()))
        .collect();
    let sups: Vec<Vec<bool>> = lines
        .iter()
        .zip(&sizes)
        .map(|(line, size)| superscripts(line, *size))
        .collect();

    // The footnote block: from the foot up, lines smaller than the page's text in
    // its lower half (a page number at the very foot does not interrupt it).
    let mut note_from = lines.len();
    let mut marks: Vec<String> = Vec::new();
    let mut note_starts: Vec<usize> = Vec::new();
    let mut index = lines.len();
    while index > 0 {
        let i = index - 1;
        let line = &lines[i];
        let size = sizes[i];
        let y = line.glyphs.first().map_or(0., |g| g.y);
        let trimmed = line.text.trim();
        let folio = trimmed.len() <= 4 && trimmed.chars().all(|c| c.is_ascii_digit());
        // InDesign and Word may draw the running head last: a line in the top
        // margin does not end the foot either.
        let head = y < height * 0.1;
        if trimmed.is_empty() || ((folio || head) && note_from == lines.len()) {
            index -= 1;
            continue;
        }
        if !(size > 0. && size <= page_size * 0.92 && y > height * 0.5) {
            break;
        }
        if let Some(mark) = leading_mark(line, &sups[i]) {
            marks.push(mark);
            note_from = i;
            note_starts.push(i);
        }
        index -= 1;
    }

    let mut text = String::new();
    let mut boxes = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let note = i >= note_from;
        // Reference marks in the text whose note is on this page go.
        let mut cut: Vec<(usize, usize)> = Vec::new();
        if !note && !marks.is_empty() {
            let mut g = 0;
            while g < line.glyphs.len() {
                if !sups[i][g] {
                    g += 1;
                    continue;
                }
                let run_start = g;
                while g < line.glyphs.len() && sups[i][g] {
                    g += 1;
                }
                let (start, end) = (line.glyphs[run_start].start, line.glyphs[g - 1].end);
                let attached = start > 0
                    && line.text[..start]
                        .chars()
                        .last()
                        .is_some_and(|c| !c.is_whitespace());
                if attached
                    && mark_value(&line.text[start..end]).is_some_and(|m| marks.contains(&m))
                {
                    cut.push((start, end));
                }
            }
        }
        let mut kept = 0;
        for (start, end) in &cut {
            text.push_str(&line.text[kept..*start]);
            kept = *end;
        }
        text.push_str(&line.text[kept..]);

        let size = sizes[i];
        // Only Latin-script glyphs tell a monospaced face: CJK and other
        // full-width characters are all one width in any font.
        let inked: Vec<&Glyph> = line
            .glyphs
            .iter()
            .filter(|g| !line.text[g.start..g.end].trim().is_empty())
            .collect();
        let widths: Vec<f64> = inked
            .iter()
            .filter(|g| {
                line.text[g.start..g.end]
                    .chars()
                    .all(|c| c.is_ascii_graphic())
            })
            .map(|g| g.width)
            .collect();
        let uniform = !widths.is_empty()
            && widths.len() * 10 >= inked.len() * 8
            && widths
                .iter()
                .all(|w| (w - widths[0]).abs() < 0.001 && *w > 0.);
        let mono = uniform && widths.len() >= 4;
        let letters = inked
            .iter()
            .filter(|g| line.text[g.start..g.end].chars().any(char::is_alphabetic))
            .count();
        let bold = letters >= 2 && inked.iter().filter(|g| g.bold).count() * 10 >= inked.len() * 8;
        // A display formula: a good share of its glyphs from math fonts, and no
        // run of prose ("where the energy is") beside them.
        let math_glyphs = inked.iter().filter(|g| g.math).count();
        let math = inked.len() >= 2
            && match prose_words(line) {
                0 => math_glyphs * 10 >= inked.len() * 3,
                1 => math_glyphs * 2 >= inked.len(),
                _ => false,
            };
        let (x0, x1) = line.glyphs.iter().fold((f64::MAX, f64::MIN), |(a, b), g| {
            (a.min(g.x), b.max(g.x + g.width * g.size))
        });
        boxes.push(LineBox {
            y: finite(line.glyphs.first().map_or(0., |g| g.y)),
            x0: if line.glyphs.is_empty() {
                0.
            } else {
                finite(x0)
            },
            x1: if line.glyphs.is_empty() {
                0.
            } else {
                finite(x1)
            },
            size: finite(size),
            mono,
            glyph_width: if uniform { finite(widths[0]) } else { 0. },
            note,
            starts_note: note && note_starts.contains(&i),
            gaps: line.gaps,
            bold,
            math,
        });
    }
    let layout = PageLayout {
        width: finite(width),
        height: finite(height),
        lines: boxes,
    };
    (text, layout)
}

/// Words of four letters or more set in text fonts: prose.
pub(super) fn prose_words(line: &Line) -> usize {
    let mut words = 0;
    let mut run = 0;
    for g in &line.glyphs {
        let text = &line.text[g.start..g.end];
        if !g.math && !text.is_empty() && text.chars().all(char::is_alphabetic) {
            run += 1;
        } else {
            words += usize::from(run >= 4);
            run = 0;
        }
    }
    words + usize::from(run >= 4)
}

/// A coordinate as JSON can carry it: a matrix scaled past f32 (or NaN) would
/// become `null`, and the page's whole event, text included, would be refused.
pub(super) fn finite(x: f64) -> f32 {
    if x.is_finite() && x.abs() <= f64::from(f32::MAX) {
        // In range, checked above.
        #[allow(clippy::cast_possible_truncation)]
        let v = x as f32;
        v
    } else {
        0.
    }
}
