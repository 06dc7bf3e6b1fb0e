//! Footnote reference marks glued to the end of a sentence: a superscript number
//! that the extractors give as plain digits ("…explicit looping.2 They are…",
//! "…the thyroid is ambulatory.264 However…"). A voice would read "looping point
//! two"; the mark is dropped from the spoken text (the number is not a word of the
//! sentence).
//!
//! Only the unambiguous shape is taken: a word of at least three letters ending in
//! a lowercase letter (or a closing bracket or quote), then `.`, `!` or `?`, then
//! one to three digits (or a list of them: "280,283,284", "12–14"), then the end
//! of the paragraph or a space and a capital letter. Decimals (`0.5`), host names
//! and ports (`pop.gmail.com:995`), identifiers (`mp3`) and abbreviations before a
//! number (`Fig.3 The`, `Vol.2 Part`) do not match, and a paragraph that looks
//! like code is left alone.

use std::borrow::Cow;

/// Abbreviations that are followed by a number, not by a footnote mark.
const ABBREVIATIONS: &[&str] = &[
    "fig", "figs", "eq", "eqs", "vol", "vols", "sec", "sect", "ch", "chap", "art", "ref", "refs",
    "tab", "nos", "par", "app", "ex", "thm", "def", "lemma", "step", "version", "ver", "rev", "op",
];

/// How many characters at the start of `rest` are note numbers: groups of one
/// to three digits joined by commas or dashes, ending on a digit.
fn note_numbers(rest: &[(usize, char)]) -> usize {
    let mut end = 0;
    let mut i = 0;
    let mut groups = 0;
    loop {
        let digits = rest[i..]
            .iter()
            .take_while(|(_, c)| c.is_ascii_digit())
            .count();
        if !(1..=3).contains(&digits) {
            return if groups == 0 || digits > 3 { 0 } else { end };
        }
        i += digits;
        end = i;
        groups += 1;
        match rest.get(i) {
            Some((_, ',' | '–' | '-')) if groups < 12 => i += 1,
            _ => return end,
        }
    }
}

pub fn drop_glued_note_marks(text: &str) -> Cow<'_, str> {
    // In code, `name.5` is an expression, not a sentence with a note.
    if ["<-", "{", "}", "==", "();", "->"]
        .iter()
        .any(|t| text.contains(t))
    {
        return Cow::Borrowed(text);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut cuts: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, &(_, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        // A closing bracket or quote before the full stop ends the sentence as
        // clearly as a word: "…ablation (RFA).3,314 Systemic…".
        let closed = i > 0 && matches!(chars[i - 1].1, ')' | ']' | '”' | '"' | '’');
        // The word before the punctuation.
        let word_start = chars[..i]
            .iter()
            .rposition(|(_, c)| !c.is_alphabetic())
            .map_or(0, |p| p + 1);
        let word: String = chars[word_start..i].iter().map(|(_, c)| *c).collect();
        let before_word = word_start.checked_sub(1).map(|p| chars[p].1);
        let plain_word = word.chars().count() >= 3
            && word.chars().last().is_some_and(char::is_lowercase)
            && !before_word
                .is_some_and(|b| b.is_alphanumeric() || matches!(b, '.' | '@' | '/' | '_' | '-'));
        if !(closed || plain_word) || ABBREVIATIONS.contains(&word.to_lowercase().as_str()) {
            continue;
        }
        // One to three digits right after it, or a list of such numbers
        // ("280,283,284", "12–14").
        let digits = note_numbers(&chars[i + 1..]);
        if digits == 0 {
            continue;
        }
        let after = i + 1 + digits;
        let ends_sentence = match chars.get(after) {
            None => true,
            Some((_, c)) if c.is_whitespace() => chars[after..]
                .iter()
                .find(|(_, c)| !c.is_whitespace())
                .is_some_and(|(_, c)| c.is_uppercase()),
            Some(_) => false,
        };
        if ends_sentence {
            let start = chars[i + 1].0;
            let end = chars.get(after).map_or(text.len(), |(p, _)| *p);
            cuts.push(start..end);
        }
    }
    cut_out(text, &cuts)
}

/// Numbered citations in brackets inside a sentence ("…SCs [1–7], (2) thin
/// film…", "Siyu et al. [27] examined", "[18,20,22,34–38]"): a reader aloud skips
/// them as they skip a footnote mark (the reference list is kept, as back matter).
/// Only a bracket that follows a word and a space and holds nothing but numbers
/// from 1 to 999 in ascending order, single or as ranges, goes; "[0, 1]" (an
/// interval), "x[2]" (an index) and "[1] A. Author" (a list entry) stay.
pub fn drop_citation_brackets(text: &str) -> Cow<'_, str> {
    if !text.contains('[') {
        return Cow::Borrowed(text);
    }
    let mut cuts: Vec<std::ops::Range<usize>> = Vec::new();
    for (open, _) in text.match_indices('[') {
        let Some(close) = text[open..].find(']').map(|c| open + c) else {
            continue;
        };
        let before = text[..open].trim_end_matches(' ');
        let space_before = before.len() < open;
        let word_before = before
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, ')' | '.' | ','));
        // "in the range [2, 10]", "on [1, 5]": an interval, not a citation.
        let previous_word = before
            .trim_end_matches('.')
            .rsplit(|c: char| !c.is_alphabetic())
            .next()
            .unwrap_or("")
            .to_lowercase();
        let interval = matches!(
            previous_word.as_str(),
            "in" | "on" | "range" | "interval" | "over" | "within" | "from" | "between" | "to"
        );
        if interval || !(space_before && word_before && is_citation(&text[open + 1..close])) {
            continue;
        }
        // "compared with Ref. [37]": the number is what the sentence names, so a
        // reader says "Ref. 37"; only the brackets go.
        if matches!(
            previous_word.as_str(),
            "ref" | "refs" | "reference" | "references"
        ) {
            cuts.push(open..open + 1);
            cuts.push(close..close + 1);
            continue;
        }
        cuts.push(before.len()..close + 1);
    }
    // "[39]. The" loses its bracket and its space, "[27] examined" keeps one.
    cut_out(text, &cuts)
}

/// `text` without the byte ranges in `cuts` (in order, not overlapping).
fn cut_out<'a>(text: &'a str, cuts: &[std::ops::Range<usize>]) -> Cow<'a, str> {
    if cuts.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for cut in cuts {
        out.push_str(&text[from..cut.start]);
        from = cut.end;
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

/// "27", "1–7", "18,20,22,34–38", "3, 5": ascending numbers from 1 to 999.
fn is_citation(inside: &str) -> bool {
    let mut last = 0u32;
    let mut any = false;
    for group in inside.split(',') {
        let group = group.trim();
        let mut parts = group.split(['–', '-']);
        let (Some(a), b) = (parts.next(), parts.next()) else {
            return false;
        };
        if parts.next().is_some() {
            return false;
        }
        for n in std::iter::once(a).chain(b) {
            let n = n.trim();
            if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            let Ok(value) = n.parse::<u32>() else {
                return false;
            };
            if value == 0 || value <= last {
                return false;
            }
            last = value;
            any = true;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_citations_in_a_sentence_go() {
        for (input, spoken) in [
            // pdfparse_02-valid_googledocs.pdf, page 1.
            (
                "such as mono-crystalline silicon, and poly-crystalline silicon SCs [1–7], (2) thin film SCs",
                "such as mono-crystalline silicon, and poly-crystalline silicon SCs, (2) thin film SCs",
            ),
            (
                "Siyu et al. [27] examined the characteristics",
                "Siyu et al. examined the characteristics",
            ),
            (
                "used as the top cell of SCs [18,20,22,25,27,29,34–38]. Among these",
                "used as the top cell of SCs. Among these",
            ),
            ("direct bandgaps [39].", "direct bandgaps."),
            ("comparison with Ref. [25].", "comparison with Ref. 25."),
            ("as in references [3, 5] and", "as in references 3, 5 and"),
        ] {
            assert_eq!(drop_citation_brackets(input), spoken, "{input}");
        }
        for text in [
            "a value in the interval [0, 1] is a probability",
            "values in the range [2, 10] are valid",
            "the element x[2] of the vector",
            "[1] A. Author, A Book, 1999.",
            "the pair [5, 3] in that order",
            "see the note [a] below",
            "a matrix [1 2; 3 4]",
        ] {
            assert_eq!(drop_citation_brackets(text), text, "{text}");
        }
    }

    #[test]
    fn marks_after_a_sentence_go() {
        for (input, spoken) in [
            (
                "three statements that provide explicit looping.2 They are for, while",
                "three statements that provide explicit looping. They are for, while",
            ),
            (
                "the thyroid is ambulatory.264 However, most",
                "the thyroid is ambulatory. However, most",
            ),
            (
                "and enters into the NORMAL mode.1",
                "and enters into the NORMAL mode.",
            ),
            ("Was it true?12 Yes.", "Was it true? Yes."),
            // pypdf_issue-604_indesign.pdf's endnote references.
            (
                "invalidate serum Tg measurements in most assays.280,283,284 These antibodies",
                "invalidate serum Tg measurements in most assays. These antibodies",
            ),
            (
                "or radiofrequency ablation (RFA).3,314 Systemic therapy",
                "or radiofrequency ablation (RFA). Systemic therapy",
            ),
            ("as shown before.12–14 Then", "as shown before. Then"),
        ] {
            assert_eq!(drop_glued_note_marks(input), spoken, "{input}");
        }
    }

    #[test]
    fn numbers_that_belong_to_the_text_stay() {
        for text in [
            "openssl s_client -connect pop.gmail.com:995",
            "a value of 0.5 Then",
            "dev <- (resp - pred) / pred.5 Ddev",
            "see Fig.3 The curve",
            "in Vol.2 Part one",
            "it costs 3.50 Dollars",
            "R version 4.2.2 Patched",
            "the looping.2014 Survey",
            "mp3.1 codec",
            "named e.g.2 Apples",
            "looping.2a is next",
            "the range (1–3).2,4-dinitro Phenol",
            "in (1990).5 percent",
            "release 1.2,3 Beta",
        ] {
            assert_eq!(drop_glued_note_marks(text), text, "{text}");
        }
    }
}
