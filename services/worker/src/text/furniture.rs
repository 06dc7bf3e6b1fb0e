//! Page furniture: running heads and feet, and page numbers, found at the top and
//! bottom lines of pages by repetition (across the book, or a numbered head on
//! neighbouring pages) so that they are not read as part of the text.

use std::collections::HashMap;

mod lines;

use lines::{end_number, head_words, is_page_number, line_number_runs, nearly_equal};

/// Lines at the top and bottom of a page that are checked for running headers and footers.
const EDGE_LINES: usize = 2;

/// A line with its numbers masked, so "Page 12" and "Page 13" (or "Preface xiv" and
/// "Preface xv") compare equal, and a run of number tokens is one: a folio glued to
/// the head's own numbers ("… 137 (2015) 1–52") or set apart ("… 1–5 3") is the
/// same head.
pub(super) fn signature(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    // Only beside words: a line of figures alone ("2019 45.2 33.1") keeps one mark
    // per figure, so it is not taken for a folio.
    let worded = line.chars().any(char::is_alphabetic);
    for token in line.split_whitespace() {
        let numeric = worded
            && token.chars().any(|c| c.is_numeric())
            && token
                .chars()
                .all(|c| c.is_numeric() || matches!(c, '–' | '-' | '/' | '.' | ',' | ':'));
        if numeric {
            if !(out.ends_with(" #") || out == "#") {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push('#');
            }
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let lower = token.to_lowercase();
        if lower.len() <= 7
            && lower
                .chars()
                .all(|c| matches!(c, 'i' | 'v' | 'x' | 'l' | 'c' | 'd' | 'm'))
        {
            out.push('#');
            continue;
        }
        for c in lower.chars() {
            if c.is_numeric() {
                if !out.ends_with('#') {
                    out.push('#');
                }
            } else {
                out.push(c);
            }
        }
    }
    out
}

fn edge_indices(lines: &[String]) -> Vec<usize> {
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].is_empty()).collect();
    // On a short page only the very first and last lines can be running heads.
    let depth = if filled.len() > 2 * EDGE_LINES + 2 {
        EDGE_LINES
    } else {
        1
    };
    let mut edges: Vec<usize> = filled.iter().take(depth).copied().collect();
    for &i in filled.iter().rev().take(depth) {
        if !edges.contains(&i) {
            edges.push(i);
        }
    }
    edges
}

/// A page's edge lines: the first and last in text order, and those the layout
/// puts in the top or bottom margin whatever their order in the text (InDesign
/// and Word often draw the running head last).
fn page_edges(lines: &[String], margins: &[usize]) -> Vec<usize> {
    let mut edges = edge_indices(lines);
    for &i in margins {
        if i < lines.len() && !lines[i].is_empty() && !edges.contains(&i) {
            edges.push(i);
        }
    }
    edges
}

/// Signatures of lines that open or close many pages: running headers and footers.
/// `margins` holds, per page, the lines the layout places in the page's margins.
pub(super) fn repeated_edge_lines(
    pages: &[Vec<String>],
    margins: &[Vec<usize>],
) -> HashMap<String, usize> {
    // Every line's signature, computed once for the three passes below.
    let sigs: Vec<Vec<String>> = pages
        .iter()
        .map(|lines| lines.iter().map(|l| signature(l)).collect())
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut last_seen: HashMap<String, usize> = HashMap::new();
    let mut near: Vec<String> = Vec::new();
    for (index, lines) in pages.iter().enumerate() {
        let mut seen = Vec::new();
        let in_margins = margins.get(index).map_or(&[][..], Vec::as_slice);
        for i in page_edges(lines, in_margins) {
            let sig = sigs[index][i].clone();
            if !seen.contains(&sig) {
                *counts.entry(sig.clone()).or_default() += 1;
                // The very same long line at an edge of this page and of the page
                // before or the one before that (the same side of a two-sided book);
                // numbered headings ("4.3 …", "4.4 …") differ, so they stay.
                if let Some(previous) = last_seen.insert(lines[i].clone(), index)
                    && index - previous <= 2
                    && sig.chars().filter(|c| c.is_alphabetic()).count() >= 12
                    && !near.contains(&sig)
                {
                    near.push(sig.clone());
                }
                seen.push(sig);
            }
        }
    }
    // Alternating left/right headers appear on half the pages, chapter headers and
    // front-matter headers (roman page numbers) on far fewer.
    let threshold = (pages.len() / 25).max(3);
    counts.retain(|_, n| *n >= threshold);
    // A section heading that happens to open many pages ("Examples", "See Also",
    // "Tip") is printed far more often inside pages: a head is at an edge at least
    // half the times a page prints it.
    if !counts.is_empty() {
        let mut anywhere: HashMap<&str, usize> = HashMap::new();
        for (lines, sigs) in pages.iter().zip(&sigs) {
            let mut seen: Vec<&str> = lines
                .iter()
                .zip(sigs)
                .filter(|(l, s)| !l.is_empty() && counts.contains_key(s.as_str()))
                .map(|(_, s)| s.as_str())
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for sig in seen {
                if let Some((key, _)) = counts.get_key_value(sig) {
                    *anywhere.entry(key.as_str()).or_default() += 1;
                }
            }
        }
        let headings: Vec<String> = counts
            .iter()
            .filter(|(sig, n)| anywhere.get(sig.as_str()).copied().unwrap_or(0) > **n * 2)
            .map(|(sig, _)| sig.clone())
            .collect();
        for sig in headings {
            counts.remove(&sig);
        }
    }
    // In a short article, a head on two pages of the same side is already a head.
    for sig in near {
        counts.entry(sig).or_insert(2);
    }
    // A chapter shorter than that still has its numbered head on neighbouring pages.
    for sig in numbered_heads_nearby(pages) {
        counts.entry(sig).or_insert(2);
    }
    for sig in boilerplate(pages, &sigs) {
        counts.insert(sig, BOILERPLATE);
    }
    counts
}

/// The count given to boilerplate: furniture wherever it sits on the page.
const BOILERPLATE: usize = usize::MAX;

/// Long lines repeated word for word on a quarter of the pages or more (eight at
/// least), shorter ones on half of them: a copyright notice, a disclaimer or the
/// title printed on every page, which
/// InDesign and Word may draw anywhere in the text order. No sentence of a
/// book's body recurs like that.
fn boilerplate(pages: &[Vec<String>], sigs: &[Vec<String>]) -> Vec<String> {
    // (signature, is long) -> pages it is on
    let mut counts: HashMap<&str, (bool, usize)> = HashMap::new();
    for (lines, sigs) in pages.iter().zip(sigs) {
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for (line, sig) in lines.iter().zip(sigs) {
            let letters = line.chars().filter(|c| c.is_alphabetic()).count();
            if letters < 12 {
                continue;
            }
            if seen.insert(sig.as_str()) {
                counts.entry(sig.as_str()).or_insert((letters >= 30, 0)).1 += 1;
            }
        }
    }
    // A shorter line (a title set as a running head, "Thyroid Carcinoma") must be
    // on half the pages of a longer book: in a short one, a sample repeated on a
    // few pages (a listing, a form's labels) is content.
    let long = (pages.len() / 4).max(8);
    let short = (pages.len() / 2).max(20);
    counts
        .into_iter()
        .filter(|(_, (is_long, n))| *n >= if *is_long { long } else { short })
        .map(|(sig, _)| sig.to_owned())
        .collect()
}

/// Signatures of edge lines that carry their page's number at one end ("Chapter 6:
/// Lists and data frames 30", "76 cbind") and recur at an edge one or two pages on
/// (the next page, or the next on the same side of a two-sided book) with the same
/// words and the number advanced by exactly that many pages: a running head, however
/// short its chapter. A numbered heading or list item ("4.3 The 2.x Releases") has
/// no such progression, so body text is never taken.
fn numbered_heads_nearby(pages: &[Vec<String>]) -> Vec<String> {
    let numbered: Vec<Vec<(u64, String, String)>> = pages
        .iter()
        .map(|lines| {
            edge_indices(lines)
                .into_iter()
                .filter_map(|i| {
                    let (number, words) = end_number(&lines[i])?;
                    Some((number, words, signature(&lines[i])))
                })
                .collect()
        })
        .collect();
    let mut heads = Vec::new();
    for (i, here) in numbered.iter().enumerate() {
        for (number, words, sig) in here {
            for ahead in 1..=2u64 {
                let Some(there) = numbered.get(i + usize::try_from(ahead).unwrap_or(usize::MAX))
                else {
                    continue;
                };
                // Both lines are the head: scanned books misread a letter or two
                // ("VICKSBUEG", "OP" for "OF").
                for (n, w, their_sig) in there {
                    if number.checked_add(ahead) == Some(*n) && nearly_equal(w, words) {
                        for s in [sig, their_sig] {
                            if !heads.contains(s) {
                                heads.push(s.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    heads
}

/// Lines near the top or bottom of a page that only repeat the title of the
/// chapter the page continues: a running head wherever the text order puts it
/// (poppler may put a head below the margin notes it shares the top with). Not on
/// the chapter's first page, where the title is its heading.
/// Margin line numbers and page numbers do not count in the distance from the edge.
fn chapter_heads(
    lines: &[String],
    continued_title: Option<&str>,
    numbering: &[usize],
) -> Vec<usize> {
    const NEAR: usize = 4;
    let Some(title) = continued_title.map(head_words).filter(|t| t.len() >= 4) else {
        return Vec::new();
    };
    let filled: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].is_empty() && !numbering.contains(&i) && !is_page_number(&lines[i]))
        .collect();
    let near = filled
        .iter()
        .take(NEAR)
        .chain(filled.iter().rev().take(NEAR));
    let mut out: Vec<usize> = near
        .copied()
        .filter(|&i| head_words(&lines[i]) == title)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The indices of the page's lines that are not furniture.
///
/// `headings` marks lines that repetition alone never makes furniture: those set
/// as headings (larger than the text) found on no other page ("Chapter 4"
/// opening each chapter repeats at a page's top like a running head once its
/// number is masked, but it is the chapter's title, read aloud), and lines of
/// code, whose output may end page after page.
pub(super) fn kept_lines(
    lines: &[String],
    margins: &[usize],
    repeated: &HashMap<String, usize>,
    page_count: usize,
    headings: &[bool],
    continued_title: Option<&str>,
) -> Vec<usize> {
    let edges = page_edges(lines, margins);
    let numbering = line_number_runs(lines);
    let chapter_heads = chapter_heads(lines, continued_title, &numbering);
    let head = |i: usize| {
        chapter_heads.contains(&i)
            || (edges.contains(&i)
                && page_count >= 3
                && !headings.get(i).copied().unwrap_or(false)
                && repeated.contains_key(&signature(&lines[i])))
    };
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].is_empty()).collect();
    // A folio that the text order sets just beside its running head ("1",
    // "ALPHA-PERSIAN.BST WITH XELATEX", "1") is furniture too, edge or not.
    let beside_head = |i: usize| {
        let at = filled.partition_point(|&f| f < i);
        is_page_number(&lines[i])
            && [at.wrapping_sub(1), at + 1]
                .iter()
                .any(|&n| filled.get(n).is_some_and(|&f| head(f)))
    };
    lines
        .iter()
        .enumerate()
        .filter(|(i, line)| {
            !(numbering.contains(i)
                || repeated.get(&signature(line)) == Some(&BOILERPLATE)
                || head(*i)
                || (edges.contains(i) && is_page_number(line))
                || beside_head(*i))
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests;
