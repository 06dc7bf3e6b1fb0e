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
mod tests {
    use super::*;
    use crate::text::OutlineEntry;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(|l| l.trim().to_owned()).collect()
    }

    fn no_outline() -> Chapters {
        Chapters::from_outline(&[])
    }

    #[test]
    fn reference_lines_are_recognised() {
        let r = |l| ref_line(l);
        assert_eq!(
            r("1.2 Pronouncing Debian . . . . . . . . . 1"),
            Some(RefLine {
                page: 1,
                leader: true,
                comma: false
            })
        );
        assert_eq!(
            r("Overview ........................................ 2"),
            Some(RefLine {
                page: 2,
                leader: true,
                comma: false
            })
        );
        assert_eq!(
            r("regular expression, 10, 267, 268, 270,"),
            None,
            "a continued list ends in a comma"
        );
        assert_eq!(
            r("ReferenceClasses, 1209, 1262, 1269, 1293"),
            Some(RefLine {
                page: 1293,
                leader: false,
                comma: true
            })
        );
        assert_eq!(
            r("Preface . . . . . . . . . xi"),
            Some(RefLine {
                page: 0,
                leader: true,
                comma: false
            })
        );
        assert_eq!(r("2 Leadership 2").map(|r| r.page), Some(2));
        assert_eq!(r("42"), None);
        assert_eq!(r("3.14 . . . 12"), None);
        assert_eq!(
            r(
                "The war ended in 1865, and the reconstruction began slowly over the following years in 1877"
            ),
            None
        );
    }

    #[test]
    fn a_table_of_contents_and_an_index_are_told_from_prose() {
        // rdoc_R-intro.pdf, page 3 (abridged) and page 108.
        let contents = lines(
            "i
             Table of Contents
             Preface . . . . . . . . . . . . . . . . . . . . . . 1
             1 Introduction and preliminaries . . . . . . . . 2
             1.1 The R environment . . . . . . . . . . . . . . 2
             1.2 Related software and documentation . . . . . 2
             1.4 R and the window system. . . . . . . . . . . 3
             2 Simple manipulations; numbers and vectors . . 8",
        );
        let index = lines(
            "Appendix D Function and variable index
             !
             ! . . . . . . . . . . . . . . . . . . . . . . . 10
             != . . . . . . . . . . . . . . . . . . . . . . 10
             %*% . . . . . . . . . . . . . . . . . . . . . 24
             %o% . . . . . . . . . . . . . . . . . . . . . 23
             && . . . . . . . . . . . . . . . . . . . . . . 43
             * . . . . . . . . . . . . . . . . . . . . . . . 9",
        );
        let prose = lines(
            "The war ended in 1865. Reconstruction took until 1877, when the last
             troops left; historians still argue about what it achieved in 12
             states and how much of it lasted past 1900.",
        );
        let kinds = page_kinds(
            &[lines("An Introduction to R"), contents, prose, index],
            &no_outline(),
        );
        assert_eq!(
            kinds,
            [
                ChunkKind::FrontMatter,
                ChunkKind::Contents,
                ChunkKind::Body,
                ChunkKind::Index
            ]
        );
    }

    #[test]
    fn a_contents_page_without_leaders_continues_one_with_them() {
        // debhist_en.pdf page 4: chapter lines carry no leader dots.
        let first = lines(
            "Contents
             1 Introduction -- What is the Debian Project? 1
             1.1 In the Beginning . . . . . . . . . . . . 1
             2 Leadership 2
             3 Debian Releases 3
             4 A Detailed History 6",
        );
        let second = lines(
            "5 Debian Releases 17
             6 Leadership 20
             7 Future 22
             8 Manifesto 24",
        );
        assert_eq!(
            page_kinds(&[first, second], &no_outline()),
            [ChunkKind::Contents, ChunkKind::Contents]
        );
    }

    #[test]
    fn a_contents_list_on_a_page_with_text_is_found() {
        // alpha-persian_userguide.pdf page 1 through poppler: each entry's page
        // number on a line of its own, then the guide's own text.
        let page = lines(
            "ALPHA-PERSIAN.BST WITH XELATEX
             Contents
             1 alpha-persian.bst with XELATEX

             1

             2 alpha-persian.bst with PDFLATEX

             14
             version: 1.3
             10 March 2019",
        );
        assert_eq!(contents_block(&page), Some(1..9));
        // Entries with their numbers on the line (debhist_en.pdf's shape) too.
        let page = lines(
            "Table of Contents
             1 Introduction 1
             2 Leadership 2
             The history begins in 1993, when Ian Murdock wrote the manifesto.",
        );
        assert_eq!(contents_block(&page), Some(0..3));
        // A "Contents" heading with one entry, or prose, is not a list.
        assert_eq!(contents_block(&lines("Contents\n1 Introduction 1")), None);
        assert_eq!(
            contents_block(&lines(
                "Contents\nThe contents of the box are listed below."
            )),
            None
        );
    }

    #[test]
    fn a_table_of_numbers_is_not_an_index() {
        let table = lines(
            "Alabama 4903
             Alaska 731
             Arizona 7278
             Arkansas 3017
             California 39512",
        );
        assert_eq!(page_kinds(&[table], &no_outline()), [ChunkKind::Body]);
    }

    #[test]
    fn alpha_labels_and_labels_set_apart_are_reference_entries() {
        assert!(alpha_label(
            "[Kar12] O. Karamzadeh, The prime avoidance lemma, 2012."
        ));
        assert!(alpha_label("[GNE+ 16] M. Ghafarzadeh et al."));
        assert!(alpha_label("[Ke98]"));
        for text in ["[see 12]", "[Note]", "[x2] y", "[ABCDEFGH12]", "[12]"] {
            assert!(!alpha_label(text), "{text}");
        }
        // alpha-persian_userguide.pdf page 13 through poppler: each label a
        // paragraph of its own above its entry.
        let para = |text: &str| crate::text::Paragraph {
            text: text.into(),
            page_start: 13,
            page_end: 13,
            kind: ChunkKind::Body,
            heading: false,
        };
        let mut paragraphs = vec![
            para("With pdflatex, we have all the properties."),
            para("Sample output follows."),
            para("[1]"),
            para("A. Aliabad, Rings of continuous functions, 45:519–533, 2004. 12"),
            para("[Kar12] O. Karamzadeh. The prime avoidance lemma, 52:149–153, 2012."),
        ];
        mark_reference_lists(&mut paragraphs);
        let kinds: Vec<ChunkKind> = paragraphs.iter().map(|p| p.kind).collect();
        assert_eq!(kinds[..2], [ChunkKind::Body; 2]);
        assert_eq!(kinds[2..], [ChunkKind::BackMatter; 3]);
    }

    #[test]
    fn a_papers_reference_list_is_back_matter() {
        let para = |text: &str| crate::text::Paragraph {
            text: text.into(),
            page_start: 5,
            page_end: 5,
            kind: ChunkKind::Body,
            heading: false,
        };
        let mut paragraphs = vec![
            para("Introduction text."),
            para("Results text."),
            para("Conclusion text."),
            para("References"),
            para("[1] I. Gordon, Prog. Photovoltaics 13 (2005) 201–208."),
            para("[2] G. Yang, Sol. Cells 94 (2010) 381–385."),
        ];
        mark_reference_lists(&mut paragraphs);
        let kinds: Vec<ChunkKind> = paragraphs.iter().map(|p| p.kind).collect();
        assert_eq!(&kinds[..3], [ChunkKind::Body; 3]);
        assert_eq!(&kinds[3..], [ChunkKind::BackMatter; 3]);
        // A "References" section of prose, early in the book, stays.
        let mut early = vec![
            para("References"),
            para("This chapter explains how references work in R."),
            para("More."),
        ];
        mark_reference_lists(&mut early);
        assert!(early.iter().all(|p| p.kind == ChunkKind::Body));
        // No heading (pdfparse_02's journal prints it as an image): "[1] …" on.
        let mut unheaded = vec![
            para("Introduction text."),
            para("Results text."),
            para("Conclusion text."),
            para("[1] C.S. Solanki, Prog. Photovoltaics 13 (2005) 201–208. [2] I. Gordon."),
            para("Sol. Energy Mater. Sol. Cells 133 (2015) 156–162."),
        ];
        unheaded.extend([
            para("Fig. 6. A caption among the entries."),
            para("[3] K. Barnham, Physica E 14 (2002) 27–36."),
            para(&"Appendix A. Prose resumes here, at length. ".repeat(5)),
            para(&"It goes on, as prose does, in 1990 and after. ".repeat(5)),
            para("And on."),
            para("And on again."),
        ]);
        let mut unheaded: Vec<crate::text::Paragraph> = (0..7)
            .map(|_| para("More of the paper's prose."))
            .chain(unheaded)
            .collect();
        mark_reference_lists(&mut unheaded);
        let kinds: Vec<ChunkKind> = unheaded.iter().skip(7).map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::BackMatter,
                ChunkKind::BackMatter,
                ChunkKind::Body,
                ChunkKind::BackMatter,
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::Body,
            ]
        );
    }

    #[test]
    fn outline_titles_mark_apparatus_and_front_matter() {
        let outline: Vec<OutlineEntry> = [
            ("Preface", 3),
            ("1 Introduction", 4),
            ("Appendix A References", 6),
            ("Appendix D Function and variable index", 7),
        ]
        .iter()
        .map(|(t, p)| OutlineEntry {
            title: (*t).into(),
            level: 1,
            page: *p,
        })
        .collect();
        let pages: Vec<Vec<String>> = (0..8).map(|_| lines("Some prose.")).collect();
        assert_eq!(
            page_kinds(&pages, &Chapters::from_outline(&outline)),
            [
                ChunkKind::FrontMatter,
                ChunkKind::FrontMatter,
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::Body,
                ChunkKind::BackMatter,
                ChunkKind::Index,
                ChunkKind::Index,
            ]
        );
        assert_eq!(
            kind_of_title("Using the index of a vector in loops and more"),
            None
        );
        assert_eq!(kind_of_title("Index of tables"), None);
    }
}
