//! How much of the book's body a listener hears: word recall against the
//! reference, and the words most often missing.

use super::*;

/// Lowercased words, compatibility-normalised (Arabic presentation forms and
/// ligatures are their letters); in scripts without spaces (where a line break
/// splits a "word" anywhere) each character.
pub(super) fn tokens(t: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let t: String = t.nfkc().collect();
    let mut out = Vec::new();
    for w in t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if w.chars().any(is_unspaced_script) {
            out.extend(w.chars().map(|c| c.to_lowercase().to_string()));
        } else {
            out.push(w.to_lowercase());
        }
    }
    out
}

/// The reference's words most often missing from `ours`, with how many times.
pub(super) fn most_missing(reference: &str, ours: &str, n: usize) -> Vec<(String, usize)> {
    let mut have: HashMap<String, usize> = HashMap::new();
    for w in tokens(ours) {
        *have.entry(w).or_default() += 1;
    }
    let mut missing: HashMap<String, usize> = HashMap::new();
    for w in tokens(reference) {
        match have.get_mut(&w) {
            Some(k) if *k > 0 => *k -= 1,
            _ => *missing.entry(w).or_default() += 1,
        }
    }
    let mut missing: Vec<(String, usize)> = missing.into_iter().collect();
    missing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    missing.truncate(n);
    missing
}

/// Σ min(reference, ours) / Σ reference over lowercased words.
#[allow(clippy::cast_precision_loss)]
pub(super) fn recall(reference: &str, ours: &str) -> f64 {
    let bag = |t: &str| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for w in tokens(t) {
            *m.entry(w).or_default() += 1;
        }
        m
    };
    let (r, o) = (bag(reference), bag(ours));
    let total: usize = r.values().sum();
    if total == 0 {
        return 1.;
    }
    let hit: usize = r
        .iter()
        .map(|(w, n)| (*n).min(o.get(w).copied().unwrap_or(0)))
        .sum();
    hit as f64 / total as f64
}

/// The reference's own body: its lines without what the junk detectors flag, and
/// without lines printed on a quarter of the pages or more (a copyright notice, a
/// "printed by" stamp: furniture wherever it is drawn).
pub(super) fn reference_body(pages: &[String], heads: &[String], d: &Detectors) -> String {
    // Numbers masked, and only letters compared: "(NCCN®)," and "(NCCN )" are
    // the same notice.
    let mask = |l: &str| -> String {
        l.split_whitespace()
            .map(|w| {
                if w.chars().any(|c| c.is_ascii_digit()) {
                    "#".to_owned()
                } else {
                    w.chars()
                        .filter(|c| c.is_alphabetic())
                        .flat_map(char::to_lowercase)
                        .collect()
                }
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut on_pages: HashMap<String, usize> = HashMap::new();
    for page in pages {
        let mut seen: Vec<String> = page.lines().map(mask).filter(|m| m.len() >= 12).collect();
        seen.sort_unstable();
        seen.dedup();
        for m in seen {
            *on_pages.entry(m).or_default() += 1;
        }
    }
    let repeated = (pages.len() / 4).max(3);
    // Margin line numbers: three or more lines in a row holding only a number
    // (with a letter at most: "1r", "2r"), counting up.
    let numbering = |lines: &[&str]| -> Vec<bool> {
        let value = |l: &str| -> Option<u32> {
            let t = l.trim();
            let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            (t.len() - digits.len() <= 1)
                .then(|| digits.parse().ok())
                .flatten()
        };
        let mut out = vec![false; lines.len()];
        let mut run: Vec<(usize, u32)> = Vec::new();
        for (i, line) in lines
            .iter()
            .enumerate()
            .chain(std::iter::once((lines.len(), &"")))
        {
            if i < lines.len() && line.trim().is_empty() {
                continue;
            }
            match (i < lines.len()).then(|| value(line)).flatten() {
                Some(n)
                    if run
                        .last()
                        .is_none_or(|(_, last)| n > *last && n - last <= 10) =>
                {
                    run.push((i, n));
                }
                next => {
                    if run.len() >= 3 {
                        for (k, _) in &run {
                            out[*k] = true;
                        }
                    }
                    run.clear();
                    if let Some(n) = next {
                        run.push((i, n));
                    }
                }
            }
        }
        out
    };
    let mut out = String::new();
    for page in pages {
        let page_lines: Vec<&str> = page.lines().collect();
        let numbered = numbering(&page_lines);
        let mut url_goes_on = false;
        for (k, line) in page_lines.iter().enumerate() {
            if numbered[k] {
                continue;
            }
            let t = line.trim();
            let printed: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let tail = std::mem::take(&mut url_goes_on);
            if t.is_empty()
                || d.folio.is_match(t)
                || d.leader_entry.is_match(t)
                || heads.contains(&printed)
                || on_pages.get(&mask(t)).is_some_and(|n| *n >= repeated)
                || residue(t)
            {
                continue;
            }
            // A link broken at a line end ("…/pubmed/" + "12345678"): its tail
            // is part of it.
            let t = match (tail, t.split_once(char::is_whitespace)) {
                (true, Some((_, rest))) => rest,
                (true, None) => "",
                (false, _) => t,
            };
            url_goes_on = d.link.find_iter(t).last().is_some_and(|m| {
                m.end() == t.len() && m.as_str().ends_with(['/', '-', '.', '=', '?', '&', '_'])
            });
            let t = d.link.replace_all(t, " ");
            let t = d.citation.replace_all(&t, "$1 ");
            let t = d.glued_citation.replace_all(&t, "$1$2");
            out.push_str(&d.citation_line_start.replace_all(&t, "$1"));
            out.push('\n');
        }
    }
    out
}

/// A line of formula or table residue, not of prose: no word of four letters or
/// more among at most eight pieces ("Pa", "X X 1 1 X", "Q212 − MW 2", "Cac",
/// "0.680"). pdftotext prints a display formula's big operators as the letters
/// of their font (a sum as "P" or "X") and a table's cells one per line; a
/// line of a paragraph always holds a longer word.
pub(super) fn residue(line: &str) -> bool {
    let pieces: Vec<&str> = line.split_whitespace().collect();
    pieces.len() <= 8
        && !pieces.iter().any(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .chars()
                .filter(|c| c.is_alphabetic())
                .count()
                >= 4
                && w.trim_matches(|c: char| !c.is_alphanumeric())
                    .chars()
                    .all(char::is_alphabetic)
        })
}

/// `reference` without, word for word, what our other kinds hold: what is left
/// is what should be in the reading flow.
pub(super) fn without(reference: &str, others: &str) -> String {
    let mut remove: HashMap<String, usize> = HashMap::new();
    for w in tokens(others) {
        *remove.entry(w).or_default() += 1;
    }
    let mut out = String::with_capacity(reference.len());
    for w in tokens(reference) {
        match remove.get_mut(&w) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                out.push_str(&w);
                out.push(' ');
            }
        }
    }
    out
}

#[allow(clippy::cast_precision_loss)]
pub(super) fn share_over(sentences: &[usize]) -> f64 {
    if sentences.is_empty() {
        return 0.;
    }
    sentences.iter().filter(|n| **n > SENTENCE_MAX).count() as f64 * 100. / sentences.len() as f64
}
