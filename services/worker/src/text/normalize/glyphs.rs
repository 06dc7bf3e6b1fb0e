//! Character-level cleanup of extracted lines: normal forms, right-to-left
//! order, TeX's drawn symbols and stray accents.

use super::*;

/// NFKC (ligatures, full-width forms), no soft hyphens or control characters,
/// whitespace runs collapsed; one entry per line, blank lines kept as "".
pub(super) fn clean_lines(page: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in attach_stray_marks(&enclosed_symbols(&page.nfkc().collect::<String>()))
        .split(['\n', '\r', '\u{2028}', '\u{2029}'])
    {
        let raw = logical_rtl(raw);
        let mut line = String::with_capacity(raw.len());
        let mut space = false;
        for c in raw.chars() {
            if matches!(c, '\u{00AD}' | '\u{FEFF}' | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            {
                continue; // soft hyphen, BOM, zero-width space, bidi marks: nothing to say
            }
            if c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c) {
                continue; // a glyph the font gave no character (or a private one): unsayable
            }
            if c.is_whitespace() || c.is_control() {
                space = !line.is_empty();
                continue;
            }
            if space {
                line.push(' ');
                space = false;
            }
            line.push(c);
        }
        lines.push(line);
    }
    lines
}

/// poppler writes a right-to-left line as its embedded runs (U+202B … U+202C) in
/// the order they sit on the page, left to right; each run's own text is in
/// reading order. A Hebrew or Arabic reader starts at the right, so the runs are
/// read last to first: `RLE A PDF , RLE B PDF` is "B, A". Inside a run the text is
/// in reading order, and a run nested in it (`RLE A LRE " ." PDF B PDF`, XeTeX's
/// output) stays in its place; a nested run of punctuation alone was written in
/// page order, so it is turned round ("A. B"). Lines without embeddings, or mostly
/// left-to-right, are left as they are.
pub(super) fn logical_rtl(line: &str) -> std::borrow::Cow<'_, str> {
    const EMBED: [char; 2] = ['\u{202B}', '\u{202E}'];
    const ANY_EMBED: [char; 4] = ['\u{202A}', '\u{202B}', '\u{202D}', '\u{202E}'];
    const POP: char = '\u{202C}';
    if !line.contains(EMBED) {
        return line.into();
    }
    let rtl = line.chars().filter(|c| is_right_to_left(*c)).count();
    let letters = line.chars().filter(|c| c.is_alphabetic()).count();
    if rtl * 2 <= letters {
        return line.into();
    }
    // Segments: each top-level embedded run, and the text between runs.
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut nested = String::new();
    let mut depth = 0usize;
    for c in line.chars() {
        if ANY_EMBED.contains(&c) {
            if depth == 0 {
                if !current.trim().is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
                current.clear();
            } else if depth == 1 {
                nested.clear();
            }
            depth += 1;
        } else if c == POP && depth > 0 {
            depth -= 1;
            if depth == 1 {
                // A nested run: punctuation alone comes in page order.
                if nested.chars().any(char::is_alphanumeric) {
                    current.push_str(&nested);
                } else {
                    current.extend(nested.chars().rev());
                }
                nested.clear();
            } else if depth == 0 {
                segments.push(std::mem::take(&mut current));
            }
        } else if depth >= 2 {
            nested.push(c);
        } else {
            current.push(c);
        }
    }
    current.push_str(&nested);
    if !current.trim().is_empty() {
        segments.push(current);
    }
    let reversed: Vec<String> = segments
        .iter()
        .rev()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    // Punctuation that opened a run on the left closes the run before it.
    let mut out = String::new();
    for segment in reversed {
        let glued = segment.chars().all(|c| c.is_ascii_punctuation());
        if !out.is_empty() && !glued {
            out.push(' ');
        }
        out.push_str(&segment);
    }
    out.into()
}

/// Hebrew, Arabic and the scripts written with them, and their presentation forms.
pub fn is_right_to_left(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// TeX draws © as a "c" with a combining enclosing circle (U+20DD), which a voice
/// reads as the letter: the usual pairs become their symbol, and an enclosing mark
/// on anything else is dropped (its letter is what there is to say).
pub(super) fn enclosed_symbols(text: &str) -> std::borrow::Cow<'_, str> {
    const ENCLOSING: std::ops::RangeInclusive<char> = '\u{20DD}'..='\u{20E0}';
    if !text.chars().any(|c| ENCLOSING.contains(&c)) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !ENCLOSING.contains(&c) {
            out.push(c);
            continue;
        }
        let symbol = match out.chars().last() {
            Some('c' | 'C') => Some('©'),
            Some('r' | 'R') => Some('®'),
            Some('p' | 'P') => Some('℗'),
            _ => None,
        };
        if let Some(symbol) = symbol {
            out.pop();
            out.push(symbol);
        }
    }
    out.into()
}

/// TeX draws an accent as its own glyph before the letter, which extractors give
/// as a combining mark after a space: "Fran ̧cois", "( ̊A)". A word must never start
/// with a combining mark (a voice reads it as noise or stumbles): the mark goes
/// onto the letter that follows and is composed with it ("François", "(Å)"); a
/// mark with no letter to go to is dropped.
pub(super) fn attach_stray_marks(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::char::is_combining_mark;
    let chars: Vec<char> = text.chars().collect();
    let stray = |i: usize| is_combining_mark(chars[i]) && (i == 0 || chars[i - 1].is_whitespace());
    if !(0..chars.len()).any(stray) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !stray(i) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() && is_combining_mark(chars[end]) {
            end += 1;
        }
        let letter = if chars.get(end) == Some(&' ') {
            end + 1
        } else {
            end
        };
        match chars.get(letter) {
            Some(c) if c.is_alphabetic() => {
                // Inside a word ("Fran ̧cois") or after an opening bracket
                // ("( ̊A)"), the space was the extractor's.
                let glued = letter == end
                    && i >= 2
                    && chars[i - 1] == ' '
                    && ((c.is_lowercase() && chars[i - 2].is_alphabetic())
                        || matches!(chars[i - 2], '(' | '[' | '{' | '“' | '‘' | '«'));
                if glued {
                    out.pop();
                }
                out.push(*c);
                out.extend(&chars[i..end]);
                i = letter + 1;
            }
            _ => i = end,
        }
    }
    out.nfc().collect::<String>().into()
}
