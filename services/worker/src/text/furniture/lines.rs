//! What one line of a page is, alone: nearly the same words as another, a number
//! at its end, a bare page number, a running head's words, a digit in any script,
//! and runs of margin line numbers.

use super::signature;

/// The same words but for OCR noise: letters compared, at most one edit in
/// eight (and at least one allowed).
pub(super) fn nearly_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let letters = |s: &str| -> Vec<char> { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    let (a, b) = (letters(a), letters(b));
    if a.is_empty() || b.is_empty() || a.len() > 200 || b.len() > 200 {
        return false;
    }
    let allowed = (a.len().max(b.len()) / 8).max(1);
    if a.len().abs_diff(b.len()) > allowed {
        return false;
    }
    // Levenshtein distance, one row at a time.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()] <= allowed
}

/// A line's number at its start or end (a whole token of digits) and the rest of
/// its words, lower-cased; `None` unless the rest has a word of three letters.
pub(super) fn end_number(line: &str) -> Option<(u64, String)> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let (number, rest) = match (tokens.first(), tokens.last()) {
        (Some(first), _) if tokens.len() > 1 && first.chars().all(|c| c.is_ascii_digit()) => {
            (first.parse().ok()?, &tokens[1..])
        }
        (_, Some(last)) if tokens.len() > 1 && last.chars().all(|c| c.is_ascii_digit()) => {
            (last.parse().ok()?, &tokens[..tokens.len() - 1])
        }
        _ => return None,
    };
    let words = rest.join(" ").to_lowercase();
    words
        .split(|c: char| !c.is_alphabetic())
        .any(|w| w.chars().count() >= 3)
        .then_some((number, words))
}

/// A bare page number: "12", "- 12 -", "xiv", "Page 12", "12 / 300", "[12]".
pub(super) fn is_page_number(line: &str) -> bool {
    let t = line.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | '–' | '—' | '[' | ']' | '(' | ')' | '|' | '.')
    });
    let t = t
        .strip_prefix("Page ")
        .or_else(|| t.strip_prefix("page "))
        .or_else(|| t.strip_prefix("p. "))
        .unwrap_or(t);
    if t.is_empty() || t.chars().count() > 12 {
        return false;
    }
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if numeric(t) {
        return true;
    }
    if let Some((a, b)) = t.split_once('/').or_else(|| t.split_once(" of ")) {
        return numeric(a.trim()) && numeric(b.trim());
    }
    t.len() <= 7 && t.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l' | 'c'))
}

/// The words of a line set as a chapter's running head: its signature without the
/// numbers at either end ("1 ALPHA-PERSIAN.BST WITH XELATEX 7").
pub(super) fn head_words(line: &str) -> String {
    signature(line)
        .trim_start_matches(['#', ' '])
        .trim_end_matches(['#', ' '])
        .to_owned()
}

/// The value of a decimal digit in the scripts books are printed in: ASCII, Arabic-
/// Indic and Persian ("١٢"), Devanagari, Bengali, Thai, full-width.
pub(super) fn digit_value(c: char) -> Option<u32> {
    const ZEROS: [u32; 7] = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0xFF10];
    let code = c as u32;
    ZEROS
        .iter()
        .find(|zero| (**zero..**zero + 10).contains(&code))
        .map(|zero| code - zero)
}

/// Line numbers printed in the margin (critical editions, legal texts, code
/// listings) come out as runs of lines holding only a number that counts up:
/// "2", "3", "4" or "1R", "2R", "3R". Three or more in a row (blank lines
/// between allowed) are numbering, not text.
pub(super) fn line_number_runs(lines: &[String]) -> Vec<usize> {
    let number = |line: &str| -> Option<u32> {
        let t = line.trim();
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if t.len() - digits.len() > 1 || digits.is_empty() || digits.chars().count() > 4 {
            return None;
        }
        digits
            .chars()
            .try_fold(0u32, |n, c| Some(n * 10 + digit_value(c)?))
    };
    let mut out = Vec::new();
    let mut run: Vec<(usize, u32)> = Vec::new();
    let close = |run: &mut Vec<(usize, u32)>, out: &mut Vec<usize>| {
        if run.len() >= 3 {
            out.extend(run.iter().map(|(i, _)| *i));
        }
        run.clear();
    };
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match number(line) {
            Some(n)
                if run
                    .last()
                    .is_none_or(|(_, last)| n > *last && n - last <= 10) =>
            {
                run.push((i, n));
            }
            Some(n) => {
                close(&mut run, &mut out);
                run.push((i, n));
            }
            None => close(&mut run, &mut out),
        }
    }
    close(&mut run, &mut out);
    out
}
