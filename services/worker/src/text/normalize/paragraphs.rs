//! Lines into paragraphs: wrapped lines joined, words hyphenated at a line's
//! end rejoined against the book's own words, sentences carried across pages.

use super::*;

/// Group lines into paragraphs: a blank line ends one, and so does a change of
/// role (a heading set on its own line, code after prose, the footnotes).
pub(super) fn paragraphs(lines: &[(String, Role)], lexicon: &Lexicon) -> Vec<(String, Role)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_role = Role::Body;
    for (line, role) in lines {
        let role = match role {
            Role::NoteStart => {
                if !current.is_empty() {
                    out.push((std::mem::take(&mut current), current_role));
                }
                &Role::Note
            }
            other => other,
        };
        if line.is_empty() || (*role != current_role && !current.is_empty()) {
            if !current.is_empty() {
                out.push((std::mem::take(&mut current), current_role));
            }
            if line.is_empty() {
                continue;
            }
        }
        current_role = *role;
        // Code and tables keep their lines.
        if matches!(role, Role::Code | Role::Table | Role::Formula) && !current.is_empty() {
            current.push('\n');
            current.push_str(line);
        } else {
            join_into(&mut current, line, lexicon);
        }
    }
    if !current.is_empty() {
        out.push((current, current_role));
    }
    out
}

/// The book's own words, to tell a word hyphenated at a line end ("com-/plicated")
/// from a compound that keeps its hyphen ("disease-/free"): whichever form the book
/// uses elsewhere wins; unseen, the hyphen goes.
pub(super) struct Lexicon {
    words: std::collections::HashSet<String>,
}

impl Lexicon {
    pub(super) fn of(pages: &[Vec<String>]) -> Self {
        let mut words = std::collections::HashSet::new();
        for line in pages.iter().flatten() {
            for w in line.split_whitespace() {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
                if w.chars().any(char::is_alphabetic) && !w.ends_with('-') {
                    words.insert(w.to_lowercase());
                }
            }
        }
        Self { words }
    }

    fn keeps_hyphen(&self, left: &str, right: &str) -> bool {
        let (l, r) = (left.to_lowercase(), right.to_lowercase());
        self.words.contains(&format!("{l}-{r}")) && !self.words.contains(&format!("{l}{r}"))
    }
}

/// Append `next` to `text` as the continuation of a wrapped line: a word hyphenated
/// at the line end is rejoined, scripts without spaces are joined without one.
pub(super) fn join_into(text: &mut String, next: &str, lexicon: &Lexicon) {
    if text.is_empty() {
        text.push_str(next);
        return;
    }
    let next_first = next.chars().next();
    let mut tail = text.chars().rev();
    let last = tail.next();
    let before_last = tail.next();
    if last == Some('-')
        && before_last.is_some_and(char::is_alphabetic)
        && next_first.is_some_and(char::is_lowercase)
    {
        let stem = &text[..text.len() - 1];
        let left = stem
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        let right = next
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        if !lexicon.keeps_hyphen(left, right) {
            text.pop();
        }
        text.push_str(next);
        return;
    }
    if !(last.is_some_and(is_unspaced_script) && next_first.is_some_and(is_unspaced_script)) {
        text.push(' ');
    }
    text.push_str(next);
}

/// Does `next` carry on the sentence `prev` left unfinished (across a page break)?
pub(super) fn continues(prev: &str, next: &str) -> bool {
    let last = prev.chars().last();
    let first = next.chars().next();
    let ends_open = last.is_some_and(|c| c.is_alphanumeric() || matches!(c, ',' | '-' | ';'));
    let starts_lower = first.is_some_and(char::is_lowercase);
    // Chinese and Japanese have no case: a page that ends mid-sentence (not on
    // 。！？ or a closing bracket) goes on with the next page's first line.
    let cjk_open = last.is_some_and(|c| {
        is_unspaced_script(c) && !matches!(c, '。' | '！' | '？' | '」' | '』' | '）' | '】')
    }) && first.is_some_and(is_unspaced_script);
    (ends_open && starts_lower) || cjk_open
}
