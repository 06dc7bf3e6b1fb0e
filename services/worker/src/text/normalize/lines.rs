//! What each line of a page is, from how it is set: repeated in place, in the
//! margins, a table, a chapter label, a banner, figures, a formula's pieces, a
//! bold heading.

use super::*;

/// Lines drawn with exactly the same words at the very same place (to the point) on a
/// quarter of the pages or more (eight at least): a slide deck's navigation box
/// ("Table of Contents", "Discussion") or a head set below the margin band. Body
/// text never sits at one spot on page after page, so these count as the page's
/// edges whatever their height; the running-head rules still decide.
pub(super) fn drawn_in_place(
    pages: &[Vec<String>],
    layouts: &[Option<&PageLayout>],
) -> Vec<Vec<usize>> {
    /// A line's words, exactly, and where it is drawn, in whole points. Borrowed,
    /// not masked: this runs over every line of the book, and a box drawn the same
    /// on every page has the same words.
    type Spot<'a> = (&'a str, (i32, i32));
    let spot = |line: &LineBox| {
        // Whole points: the same head drawn at 37.49 and 37.51 is one.
        #[allow(clippy::cast_possible_truncation)]
        (line.x0.round() as i32, line.y.round() as i32)
    };
    let mut on_pages: std::collections::HashMap<Spot<'_>, usize> = std::collections::HashMap::new();
    let mut keys: Vec<Vec<Option<Spot<'_>>>> = Vec::with_capacity(pages.len());
    for (lines, layout) in pages.iter().zip(layouts) {
        let Some(layout) = layout else {
            keys.push(Vec::new());
            continue;
        };
        let page_keys: Vec<Option<Spot<'_>>> = lines
            .iter()
            .zip(&layout.lines)
            .map(|(text, line)| {
                let text = text.trim();
                (line.size > 0. && text.chars().any(char::is_alphabetic))
                    .then(|| (text, spot(line)))
            })
            .collect();
        let mut seen: Vec<Spot<'_>> = page_keys.iter().flatten().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        for key in seen {
            *on_pages.entry(key).or_default() += 1;
        }
        keys.push(page_keys);
    }
    let least = (pages.len() / 4).max(8);
    keys.iter()
        .map(|page| {
            page.iter()
                .enumerate()
                .filter(|(_, key)| {
                    key.is_some_and(|k| on_pages.get(&k).is_some_and(|n| *n >= least))
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

/// Lines set in the top or bottom margin of the page (outside the middle 86% of
/// its height), and its topmost and bottommost lines: where running heads, feet
/// and folios live.
pub(super) fn in_margins(layout: &PageLayout) -> Vec<usize> {
    let h = layout.height;
    if h <= 0. {
        return Vec::new();
    }
    let mut out: Vec<usize> = layout
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.size > 0. && (l.y < h * 0.07 || l.y > h * 0.93))
        .map(|(i, _)| i)
        .collect();
    // The lines nearest the top and the bottom are at the page's edges wherever
    // the text order puts them (a folio drawn mid-stream, "361" at 91%).
    let placed = || layout.lines.iter().enumerate().filter(|(_, l)| l.size > 0.);
    let top = placed().min_by(|a, b| a.1.y.total_cmp(&b.1.y));
    let bottom = placed().max_by(|a, b| a.1.y.total_cmp(&b.1.y));
    for (i, _) in top.into_iter().chain(bottom) {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Three or more lines in a row, each with three cells or more (two wide gaps),
/// are a table: rows of figures or labels no one reads aloud line by line (a row
/// with symbols in a math font is still a row).
pub(super) fn mark_tables(lines: &mut [(String, Role)], gaps: &[u32]) {
    let cell_text = |role: Role| matches!(role, Role::Body | Role::Formula);
    // Rows are counted over the lines with text: a blank line between rows (a
    // table set with spacing) does not end the table.
    let filled: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].0.trim().is_empty())
        .collect();
    let is_row = |k: usize| gaps[filled[k]] >= 2 && cell_text(lines[filled[k]].1);
    // Rows with an empty cell have a gap fewer: they belong too.
    let is_near_row = |k: usize| gaps[filled[k]] >= 1 && cell_text(lines[filled[k]].1);
    let mut tables: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    let mut rows = 0;
    for k in 0..=filled.len() {
        let row = k < filled.len() && is_row(k);
        // A cell's text wrapped onto short lines of its own ("示)", or "MCM:Verdana,
        // 扩展" then "Bitstream Vera)") between rows: up to three.
        let short = |k: usize| {
            cell_text(lines[filled[k]].1) && lines[filled[k]].0.trim().chars().count() <= 40
        };
        let wrapped = !row
            && start.is_some()
            && (k + 1..filled.len().min(k + 4))
                .take_while(|&j| is_row(j) || short(j))
                .any(is_row)
            && short(k);
        if wrapped {
            continue;
        }
        rows += usize::from(row);
        match (row, start) {
            (true, None) => {
                start = Some(k);
                rows = 1;
            }
            (false, Some(s)) => {
                if rows >= 3 {
                    let mut from = s;
                    while from > 0 && is_near_row(from - 1) {
                        from -= 1;
                    }
                    let mut to = k;
                    while to < filled.len() && is_near_row(to) {
                        to += 1;
                    }
                    tables.push((filled[from], filled[to - 1]));
                }
                start = None;
            }
            _ => {}
        }
    }
    for (first, last) in tables {
        for line in &mut lines[first..=last] {
            line.1 = Role::Table;
        }
    }
}

/// A chapter's label set on its own above the title: "Chapter 4", "PART II",
/// "Kapitel 3", "Глава 5", "第3章", or a number alone.
pub(in crate::text) fn is_chapter_label(text: &str) -> bool {
    let words: Vec<&str> = text
        .trim()
        .trim_end_matches('.')
        .split_whitespace()
        .collect();
    let number = |w: &str| {
        (!w.is_empty() && w.len() <= 4 && w.chars().all(|c| c.is_ascii_digit()))
            || (!w.is_empty()
                && w.len() <= 6
                && (w.chars().all(|c| "IVXLC".contains(c))
                    || w.chars().all(|c| "ivxlc".contains(c))))
    };
    match words.as_slice() {
        [one] => {
            number(one)
                || (one.starts_with('第')
                    && one.ends_with(['章', '部', '编', '編'])
                    && one.chars().count() <= 6)
        }
        [label, n] => {
            label.chars().all(char::is_alphabetic) && label.chars().count() <= 12 && number(n)
        }
        _ => false,
    }
}

/// Poppler without a layout sets a heading's number apart from its title ("1",
/// then "alpha-persian.bst with XeLaTeX"): where the line after a lone number
/// opens a chapter of the outline, the two are one heading again, so the number
/// is not read on its own.
pub(super) fn join_section_numbers(
    lines: &mut [(String, Role)],
    opens_chapter: impl Fn(&str) -> bool,
) {
    for i in 0..lines.len() {
        let number = lines[i].0.trim();
        let lone = !number.is_empty()
            && number.len() <= 8
            && number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && number.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !lone {
            continue;
        }
        let Some(next) = (i + 1..lines.len()).find(|&j| !lines[j].0.trim().is_empty()) else {
            continue;
        };
        let title = lines[next].0.trim();
        if title.chars().next().is_some_and(char::is_alphabetic) && opens_chapter(title) {
            lines[next].0 = format!("{} {title}", number.trim_end_matches('.'));
            lines[i].0.clear();
        }
    }
}

/// On an article's first page, the lines above its title (the first line set
/// large) that sit in the top sixth of the page in type smaller than the text are
/// the journal's banner: its name, volume and pages, publisher, DOI. A reader
/// aloud starts at the title; the banner is kept as front matter.
pub(super) fn mark_banner(
    lines: &mut [(String, Role)],
    boxes: &[&LineBox],
    height: f32,
    body_size: f32,
) {
    let Some(title) = boxes
        .iter()
        .position(|b| body_size > 0. && !b.note && b.size >= body_size * 1.2)
    else {
        return;
    };
    for (line, b) in lines.iter_mut().zip(boxes).take(title) {
        if line.1 == Role::Body && b.y < height / 6. && b.size > 0. && b.size < body_size * 0.95 {
            line.1 = Role::Banner;
        }
    }
}

/// Only figures ("80.05 80.03 80.02", "−2 −1 0 1").
pub(super) fn figures_only(text: &str) -> bool {
    text.chars().any(char::is_numeric)
        && text.chars().all(|c| {
            c.is_numeric() || c.is_whitespace() || matches!(c, '.' | '-' | '−' | '–' | '%')
        })
}

/// Lines of figures in the code face next to code are the program's output, part
/// of the listing.
pub(super) fn figures_beside_code(lines: &mut [(String, Role)], figures: &[bool]) {
    spread_role(lines, Role::Code, |i, line| {
        figures[i] && line.1 == Role::Body
    });
}

/// Lines that `may` take `role` take it when a neighbour has it, through runs of
/// such lines: one pass down and one up reach every line a fixpoint would.
pub(super) fn spread_role(
    lines: &mut [(String, Role)],
    role: Role,
    may: impl Fn(usize, &(String, Role)) -> bool,
) {
    for i in 1..lines.len() {
        if lines[i - 1].1 == role && lines[i].1 != role && may(i, &lines[i]) {
            lines[i].1 = role;
        }
    }
    for i in (0..lines.len().saturating_sub(1)).rev() {
        if lines[i + 1].1 == role && lines[i].1 != role && may(i, &lines[i]) {
            lines[i].1 = role;
        }
    }
}

/// Rows of figures without wide gaps between their cells (a table set with
/// ordinary spaces, "Age (years) 24.21 3.41 18.00 32.00"): three or more lines in
/// a row (blank lines between allowed) that are mostly numbers, three or more
/// each, are a table; so are two lines of four figures or more and no word, and
/// one line of five figures or more and no word at all (a chart's axis). Numbers in a sentence are listed with commas ("namely 10.4,
/// 5.6, 3.1") and stay.
pub(super) fn mark_numeric_tables(lines: &mut [(String, Role)]) {
    fn numeric(token: &str) -> bool {
        let core = token
            .trim_start_matches(['+', '-', '−', '±', '('])
            .trim_end_matches([')', '%']);
        let t = core.strip_suffix('.').unwrap_or(core);
        t.chars().any(char::is_numeric)
            && t.chars().all(|c| c.is_numeric() || c == '.')
            && !t.starts_with("..")
    }
    // (a row of a table, figures alone: how many numbers it holds)
    let row = |line: &str| -> (bool, Option<usize>) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let numbers = tokens.iter().filter(|t| numeric(t)).count();
        let words = tokens
            .iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .count();
        (
            numbers >= 3 && numbers * 2 >= tokens.len(),
            (numbers >= 4 && words == 0).then_some(numbers),
        )
    };
    let mut run: Vec<(usize, Option<usize>)> = Vec::new();
    for i in 0..=lines.len() {
        if i < lines.len() && lines[i].0.trim().is_empty() {
            continue;
        }
        let (is_row, alone) = if i < lines.len() && lines[i].1 == Role::Body {
            row(&lines[i].0)
        } else {
            (false, None)
        };
        if is_row {
            run.push((i, alone));
            continue;
        }
        // Three rows; two rows of figures alone ("1 2 3.001 4", "10 20 30.01
        // 40"); or one line of five figures or more and nothing else.
        let figures_alone = run.iter().all(|(_, a)| a.is_some());
        let table = run.len() >= 3
            || (run.len() == 2 && figures_alone)
            || (run.len() == 1 && run[0].1.is_some_and(|n| n >= 5));
        if table {
            for &(r, _) in &run {
                lines[r].1 = Role::Table;
            }
        }
        run.clear();
    }
}

/// A display formula is drawn in pieces (a fraction's numerator, a sum's limits, an
/// equation number, "b" in \"a over b\"), some without math glyphs of their own: a
/// short line without a word of prose next to a formula line is part of it.
pub(super) fn join_formula_pieces(lines: &mut [(String, Role)]) {
    let piece = |text: &str| {
        let t = text.trim();
        let mut longest = 0;
        let mut run = 0;
        for c in t.chars() {
            run = if c.is_alphabetic() { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        // Two words in a row ("Note the open one") are prose, however short.
        let word = |w: &&str| w.chars().count() >= 2 && w.chars().all(char::is_alphabetic);
        let tokens: Vec<&str> = t.split_whitespace().collect();
        let prose = tokens
            .windows(2)
            .any(|pair| word(&pair[0]) && word(&pair[1]));
        t.chars().count() <= 60 && longest < 5 && !prose
    };
    spread_role(lines, Role::Formula, |_, line| {
        line.1 == Role::Body && !line.0.trim().is_empty() && piece(&line.0)
    });
}

/// A short run of bold lines (one or two) between lines that are not bold, set in
/// the text's own size, is a heading ("2.3 Results", "Installing R"): a bold
/// paragraph of several lines is emphasis, and a line that ends mid-sentence
/// (a comma, a hyphen) is not a heading.
pub(super) fn mark_bold_headings(lines: &mut [(String, Role)], bold: &[bool]) {
    let mut i = 0;
    while i < lines.len() {
        if !bold[i] || lines[i].1 != Role::Body {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && bold[i] && lines[i].1 == Role::Body {
            i += 1;
        }
        let run = &lines[start..i];
        let heading_like = run.len() <= 2
            && run.iter().all(|(text, _)| {
                let t = text.trim();
                let chars = t.chars().count();
                (2..=100).contains(&chars)
                    && !t.ends_with([',', ';', '-'])
                    && t.chars().any(char::is_alphabetic)
            });
        if heading_like {
            for line in &mut lines[start..i] {
                line.1 = Role::Heading;
            }
        }
    }
}
