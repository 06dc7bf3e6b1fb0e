//! What each page of a book is for: body text, or apparatus a careful reader
//! aloud skips (title and copyright pages, tables of contents, indexes,
//! bibliographies). Nothing is deleted: each page gets a [`ChunkKind`] and its
//! chunks carry it, so the default reading flow is the body and the rest can be
//! read on request.
//!
//! Two signals, both independent of the book's language:
//! - **Reference pages.** Most lines of a contents or index page end in a page
//!   reference, usually after leader dots ("1.2 Pronouncing Debian . . . 1") or a
//!   comma ("regexpr (grep), 266"). A contents page's references ascend down the
//!   page; an index's jump about. A page of ordinary prose, or a table of figures,
//!   has neither shape, so it stays body.
//! - **The outline.** A chapter titled as an index or a bibliography marks its
//!   pages, and pages before the first chapter (title, copyright, dedication) are
//!   front matter when that chapter starts near the front.

use shared_domain::domain::ChunkKind;

use super::Chapters;

/// One kind per page (index 0 = page 1), from the page's lines after running heads
/// and page numbers are gone.
pub fn page_kinds<S: AsRef<str>>(pages: &[Vec<S>], chapters: &Chapters) -> Vec<ChunkKind> {
    let mut kinds = vec![ChunkKind::Body; pages.len()];
    let mut previous = Reference::None;
    for (i, lines) in pages.iter().enumerate() {
        let shape = Reference::of(lines, previous);
        kinds[i] = match shape {
            Reference::Contents => ChunkKind::Contents,
            Reference::Index => ChunkKind::Index,
            Reference::None => ChunkKind::Body,
        };
        // A blank page inside a contents or index run does not end it.
        if shape != Reference::None || lines.iter().any(|l| !l.as_ref().is_empty()) {
            previous = shape;
        }
    }
    for (start, end, title) in chapters.spans(u32::try_from(pages.len()).unwrap_or(u32::MAX)) {
        let Some(kind) = kind_of_title(title) else {
            continue;
        };
        for page in start..=end {
            if let Some(k) = usize::try_from(page)
                .ok()
                .and_then(|p| p.checked_sub(1))
                .and_then(|p| kinds.get_mut(p))
                && *k == ChunkKind::Body
            {
                *k = kind;
            }
        }
    }
    mark_front_matter(&mut kinds, chapters.first_page());
    kinds
}

/// Pages before the book proper are front matter: before the first chapter when
/// the outline says where that is, else before a table of contents near the
/// front. Only near the front: an outline that starts late says nothing about the
/// pages before it.
fn mark_front_matter(kinds: &mut [ChunkKind], first_chapter: Option<u32>) {
    let near_front = (kinds.len() / 10).max(12);
    let first_contents = kinds
        .iter()
        .position(|k| *k == ChunkKind::Contents)
        .filter(|p| *p < near_front);
    let first_chapter = first_chapter
        .and_then(|p| usize::try_from(p).ok())
        .map(|p| p.saturating_sub(1))
        .filter(|p| *p < near_front);
    let end = match (first_chapter, first_contents) {
        (Some(chapter), _) => chapter,
        (None, Some(contents)) => contents,
        (None, None) => 0,
    };
    for kind in kinds.iter_mut().take(end) {
        if *kind == ChunkKind::Body {
            *kind = ChunkKind::FrontMatter;
        }
    }
}

/// A paper's or a chapter's reference list, found by its heading when no
/// outline names it: the paragraphs after a "References" heading in the back
/// part of the book are back matter, as long as they read as citations (most
/// carry a year) and until the next heading that is not one.
pub fn mark_reference_lists(paragraphs: &mut [super::Paragraph]) {
    let n = paragraphs.len();
    let back = |i: usize| i * 5 >= n * 2;
    let headed = paragraphs.iter().enumerate().position(|(i, p)| {
        back(i)
            && p.kind == ChunkKind::Body
            && p.text.chars().count() <= 40
            && kind_of_title(p.text.trim_end_matches('.')) == Some(ChunkKind::BackMatter)
    });
    // Without a heading (a journal's is often an image): the list's first entry,
    // its label on the line or set apart above it ("[1]", then the entry).
    let first_entry = || {
        paragraphs.iter().enumerate().position(|(i, p)| {
            back(i)
                && p.kind == ChunkKind::Body
                && ((p.text.starts_with("[1] ") && has_year(&p.text))
                    || (p.text.trim_end_matches('.') == "[1]"
                        && paragraphs
                            .get(i + 1)
                            .is_some_and(|next| has_year(&next.text))))
        })
    };
    let Some(start) = headed.or_else(first_entry) else {
        return;
    };
    // An entry: numbered "[12]", or a year with a page range, "(2015)" or "et al".
    let citation = |p: &super::Paragraph| {
        let t = &p.text;
        let numbered = t.split_once(". ").is_some_and(|(n, _)| {
            (1..=3).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit())
        });
        t.starts_with('[') && t[1..].starts_with(|c: char| c.is_ascii_digit())
            || alpha_label(t)
            || numbered
            || has_year(t)
                && (t.contains("et al")
                    || t.contains("(19")
                    || t.contains("(20")
                    || t.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'))
                        .any(|w| {
                            let w = w.trim_end_matches('.');
                            w.split_once(['–', '-']).is_some_and(|(a, b)| {
                                !a.is_empty()
                                    && !b.is_empty()
                                    && a.chars().all(|c| c.is_ascii_digit())
                                    && b.chars().all(|c| c.is_ascii_digit())
                            })
                        }))
    };
    // The list runs to the next heading, or until prose resumes (two paragraphs
    // of prose in a row that are not citations); captions and table notes set
    // among its entries (a two-column page) keep their kind.
    let first = start + usize::from(headed.is_some());
    if !paragraphs.get(first).is_some_and(citation) {
        return;
    }
    // A heading printed on page after page (a running head set large) does not
    // end the list; a new section's does.
    let mut heading_counts: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::new();
    for p in paragraphs.iter().filter(|p| p.heading) {
        *heading_counts.entry(p.text.as_str()).or_default() += 1;
    }
    let mut end = n;
    let mut prose = 0;
    for (k, p) in paragraphs.iter().enumerate().skip(first) {
        if p.heading && heading_counts.get(p.text.as_str()).copied().unwrap_or(0) < 3 {
            end = k;
            break;
        }
        if p.kind != ChunkKind::Body {
            continue;
        }
        if citation(p) {
            prose = 0;
        } else if p.text.chars().count() > 150 {
            prose += 1;
            if prose == 2 {
                end = k + 1 - prose;
                break;
            }
        }
    }
    if let Some(heading) = headed {
        paragraphs[heading].kind = ChunkKind::BackMatter;
    }
    for p in &mut paragraphs[first..end] {
        if p.kind == ChunkKind::Body && citation(p) {
            p.kind = ChunkKind::BackMatter;
        }
    }
}

/// An entry's label in the alpha style, an abbreviation of its authors and year:
/// "[Kar12]", "[GNE+ 16]", "[Ke98]".
fn alpha_label(text: &str) -> bool {
    let Some(label) = text
        .strip_prefix('[')
        .and_then(|t| t.split_once(']'))
        .map(|(label, _)| label)
    else {
        return false;
    };
    let letters = label.chars().take_while(|c| c.is_alphabetic()).count();
    let rest: String = label
        .chars()
        .skip(letters)
        .filter(|c| !matches!(c, '+' | ' '))
        .collect();
    (1..=6).contains(&letters)
        && label.starts_with(|c: char| c.is_uppercase())
        && (2..=3).contains(&rest.len())
        && rest.chars().take(2).all(|c| c.is_ascii_digit())
}

/// A year from 1500 to 2099 as a whole number.
fn has_year(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() == 4 && d.parse::<u32>().is_ok_and(|y| (1500..2100).contains(&y)))
}

/// Outline titles that name apparatus, in the languages the corpus and common
/// books use. Numbering ("Appendix D", "12.") is ignored.
fn kind_of_title(title: &str) -> Option<ChunkKind> {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    const INDEX: &[&str] = &[
        "index",
        "indices",
        "register",
        "índice",
        "indice",
        "указатель",
    ];
    const CONTENTS: &[&str] = &[
        "contents",
        "inhaltsverzeichnis",
        "sommaire",
        "содержание",
        "目录",
        "目次",
    ];
    const BACK: &[&str] = &[
        "bibliography",
        "references",
        "literaturverzeichnis",
        "bibliographie",
        "bibliografía",
        "литература",
        "colophon",
    ];
    // Long titles are prose ("Using the index to find functions"), not apparatus.
    if words.len() > 6 {
        return None;
    }
    if INDEX.iter().any(|w| has(w)) && !has("of") {
        return Some(ChunkKind::Index);
    }
    if CONTENTS.iter().any(|w| has(w) || lower.trim() == *w) {
        return Some(ChunkKind::Contents);
    }
    if BACK.iter().any(|w| has(w)) {
        return Some(ChunkKind::BackMatter);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    None,
    Contents,
    Index,
}

/// A line that ends in a page reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RefLine {
    /// The (last) page referred to; roman numerals count as 0 (front matter).
    page: u32,
    /// Leader dots (". . . .", "......", "…") before the number.
    leader: bool,
    /// A comma before the number(s): "grep, 266, 270".
    comma: bool,
}

impl Reference {
    fn of<S: AsRef<str>>(lines: &[S], previous: Reference) -> Self {
        let text: Vec<&str> = lines
            .iter()
            .map(|l| l.as_ref().trim())
            .filter(|l| !l.is_empty())
            .collect();
        let refs: Vec<RefLine> = text.iter().filter_map(|l| ref_line(l)).collect();
        let heading = text.iter().take(6).find_map(|l| heading_kind(l));
        if refs.len() < 4 || refs.len() * 2 < text.len() {
            // Too few references for a whole page: a contents page that starts
            // late on the page still has its heading and most of its lines.
            return Self::None;
        }
        let marked = refs.iter().filter(|r| r.leader || r.comma).count();
        let ascending = refs.windows(2).filter(|w| w[1].page >= w[0].page).count();
        let pairs = refs.len() - 1;
        let monotone = ascending * 10 >= pairs * 8;
        let continued = heading.or(Some(previous).filter(|p| *p != Self::None));
        match continued {
            Some(Self::Index) if marked * 2 >= refs.len() || !monotone => Self::Index,
            Some(Self::Contents) if monotone => Self::Contents,
            _ if marked * 3 >= refs.len() && monotone && refs.iter().any(|r| r.leader) => {
                Self::Contents
            }
            _ if marked * 2 >= refs.len() && !monotone => Self::Index,
            _ => Self::None,
        }
    }
}

/// A table of contents set on a page with other text (a short guide's or an
/// article's first page): the lines from a "Contents" heading through its
/// entries, each ending in a page number or followed by one on a line of its own
/// (poppler sets a right-aligned number apart), the numbers ascending. `None`
/// unless two entries follow the heading.
pub fn contents_block<S: AsRef<str>>(lines: &[S]) -> Option<std::ops::Range<usize>> {
    let filled: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].as_ref().trim().is_empty())
        .collect();
    let at = filled
        .iter()
        .position(|&i| heading_kind(lines[i].as_ref().trim()) == Some(Reference::Contents))?;
    let text = |k: usize| lines[filled[k]].as_ref().trim();
    let bare_number = |k: usize| {
        let t = text(k).trim_end_matches('.');
        page_number(t).filter(|_| {
            t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '–' | '-'))
                || t.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
        })
    };
    let entry_like = |k: usize| {
        let t = text(k);
        t.chars().any(char::is_alphabetic)
            && t.chars().count() <= 80
            && !t.ends_with(['.', '!', '?', ':', ';', ','])
    };
    let (mut pages, mut end, mut k) = (Vec::new(), at, at + 1);
    while k < filled.len() {
        let (page, last) = if let Some(entry) = ref_line(text(k)) {
            (entry.page, k)
        } else if let Some(page) = (entry_like(k) && k + 1 < filled.len())
            .then(|| bare_number(k + 1))
            .flatten()
        {
            (page, k + 1)
        } else {
            break;
        };
        // The entries' pages ascend: what follows the list ("version: 1.3") does not.
        if pages.last().is_some_and(|&previous| page < previous) {
            break;
        }
        pages.push(page);
        end = last;
        k = last + 1;
    }
    (pages.len() >= 2).then(|| filled[at]..filled[end] + 1)
}

/// "Contents", "Table of Contents", "Index", "Function and variable index"…
fn heading_kind(line: &str) -> Option<Reference> {
    if line.chars().count() > 60 {
        return None;
    }
    match kind_of_title(line)? {
        ChunkKind::Contents => Some(Reference::Contents),
        ChunkKind::Index => Some(Reference::Index),
        _ => None,
    }
}

/// Parse the page reference at the end of `line`, if it has one after some text.
fn ref_line(line: &str) -> Option<RefLine> {
    let mut rest = line.trim_end();
    let mut last_page = None;
    let mut comma = false;
    // Trailing numbers: "12", "12–14", "266, 270", "xi".
    for _ in 0..50 {
        let token_start = rest
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | '.' | '…'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let Some(page) = page_number(&rest[token_start..]) else {
            break;
        };
        last_page.get_or_insert(page);
        rest = rest[..token_start].trim_end();
        match rest.strip_suffix(',') {
            Some(before) => {
                comma = true;
                rest = before.trim_end();
            }
            None => break,
        }
    }
    let page = last_page?;
    let without_leader = rest.trim_end_matches(|c: char| {
        c == '.' || c == '…' || c == '·' || c == '_' || c.is_whitespace()
    });
    let leader_chars = rest[without_leader.len()..]
        .chars()
        .filter(|c| matches!(c, '.' | '·' | '_'))
        .count()
        + 3 * rest[without_leader.len()..].matches('…').count();
    let leader = leader_chars >= 3;
    let entry = if leader {
        without_leader
    } else {
        rest.trim_end_matches(',')
    };
    // There must be an entry: a word or a symbol, not just more numbers.
    if entry.is_empty()
        || entry
            .chars()
            .all(|c| c.is_numeric() || c.is_whitespace() || c == '.')
    {
        return None;
    }
    // Without a mark, "… in 1998" is prose: references without leaders or commas
    // only count on lines short enough to be entries.
    if !leader && !comma && entry.chars().count() > 80 {
        return None;
    }
    Some(RefLine {
        page,
        leader,
        comma,
    })
}

/// "12", "12–14" (its last page), "xi" (0).
fn page_number(token: &str) -> Option<u32> {
    if token.is_empty() || token.len() > 12 {
        return None;
    }
    let last = token.rsplit(['–', '-', '—']).next().unwrap_or(token);
    if !last.is_empty() && last.len() <= 5 && last.chars().all(|c| c.is_ascii_digit()) {
        return last.parse().ok();
    }
    if token.len() <= 6 && token.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l')) {
        return Some(0);
    }
    None
}

#[cfg(test)]
mod tests;
