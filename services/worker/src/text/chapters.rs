//! A book's chapters: from its outline, or from its headings when it has none.

use serde::{Deserialize, Serialize};

use super::normalize::{self, Paragraph};

/// One entry of the PDF outline (bookmarks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineEntry {
    pub title: String,
    /// Depth in the outline, 1 = top.
    pub level: u32,
    /// 1-based page the entry points at.
    pub page: u32,
}

/// Chapter titles by page: the outline level used is the shallowest one with at
/// least two entries (a lone root entry is usually the book's own title).
pub struct Chapters {
    /// (first page, title), sorted by page.
    pub(super) starts: Vec<(u32, String)>,
}

impl Chapters {
    pub fn from_outline(outline: &[OutlineEntry]) -> Self {
        let mut levels: Vec<u32> = outline.iter().map(|e| e.level).collect();
        levels.sort_unstable();
        levels.dedup();
        let level = levels
            .iter()
            .copied()
            .find(|l| outline.iter().filter(|e| e.level == *l).count() >= 2)
            .or_else(|| levels.first().copied());
        let mut starts: Vec<(u32, String)> = outline
            .iter()
            .filter(|e| Some(e.level) == level && e.page >= 1)
            .map(|e| (e.page, clean_title(&e.title)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        starts.sort_by_key(|(page, _)| *page);
        Self { starts }
    }

    /// Without an outline, the headings the layout found make the chapters, when
    /// there are a few of them and not one on every page.
    pub fn from_headings(paragraphs: &[Paragraph], pages: usize) -> Self {
        let headings: Vec<&Paragraph> = paragraphs
            .iter()
            .filter(|p| {
                p.heading
                    && p.kind == shared_domain::domain::ChunkKind::Body
                    && p.text.chars().filter(|c| c.is_alphabetic()).count() >= 2
                    && p.text.chars().count() <= 100
            })
            .collect();
        // Numbered headings ("1 Introduction", "2.3 Results") are the sections;
        // a paper's title and author line are set large too, but unnumbered.
        let numbered: Vec<&Paragraph> = headings
            .iter()
            .copied()
            .filter(|p| {
                p.text.split_whitespace().next().is_some_and(|w| {
                    w.trim_end_matches('.')
                        .split('.')
                        .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                }) || p
                    .text
                    .split_once(". ")
                    .is_some_and(|(label, _)| normalize::is_chapter_label(label))
            })
            .collect();
        // Headings set in the text's size and a face we cannot tell bold: a short
        // paragraph of its own that starts with a section number ("1. Introduction",
        // "3.2 Results") and is followed by prose, not by the next item of a list.
        let depth = |p: &Paragraph| {
            section_number(&p.text).map(|n| n.trim_end_matches('.').split('.').count())
        };
        let numbered_by_shape: Vec<&Paragraph> = paragraphs
            .iter()
            .enumerate()
            .filter(|&(i, p)| {
                let Some(level) = depth(p) else {
                    return false;
                };
                // A list's items sit next to items of the same depth; "2 Methods"
                // followed by "2.1 Data" is a section and its first subsection.
                let in_list = i
                    .checked_sub(1)
                    .and_then(|k| paragraphs.get(k))
                    .and_then(depth)
                    == Some(level)
                    || paragraphs.get(i + 1).and_then(depth) == Some(level);
                p.kind == shared_domain::domain::ChunkKind::Body && !in_list
            })
            .map(|(_, p)| p)
            .collect();
        let chosen = if numbered.len() >= 2 {
            numbered
        } else if numbered_by_shape.len() >= 2 {
            numbered_by_shape
        } else if headings.len() >= 3
            && headings.first().map(|p| p.page_start) != headings.last().map(|p| p.page_start)
        {
            headings
        } else {
            Vec::new()
        };
        if chosen.len() > pages.max(10) {
            return Self { starts: Vec::new() };
        }
        Self {
            starts: chosen
                .iter()
                .map(|p| (p.page_start, clean_title(p.text.trim_end_matches('.'))))
                .collect(),
        }
    }

    /// The chapter of each paragraph. A chapter starts at the paragraph on its
    /// first page that carries its title (its heading), not at the top of the
    /// page: what precedes the heading on that page stays in the chapter before.
    /// Where no paragraph carries the title, the chapter starts with its page.
    pub fn assign<'a>(&'a self, paragraphs: &[Paragraph]) -> Vec<Option<&'a str>> {
        let mut begins: Vec<(usize, &str)> = Vec::with_capacity(self.starts.len());
        let mut from = 0;
        for (page, title) in &self.starts {
            let first_on_page = from + paragraphs[from..].partition_point(|p| p.page_start < *page);
            let on_page_end = first_on_page
                + paragraphs[first_on_page..].partition_point(|p| p.page_start <= *page);
            let wanted = title_words(title);
            let mut at = (first_on_page..on_page_end)
                .find(|&i| starts_with_title(&paragraphs[i].text, &wanted))
                .unwrap_or(first_on_page);
            // "Глава 1" set apart above its title: the chapter starts at its label.
            if at > first_on_page && normalize::is_chapter_label(&paragraphs[at - 1].text) {
                at -= 1;
            }
            begins.push((at, title.as_str()));
            from = at;
        }
        let mut labels = Vec::with_capacity(paragraphs.len());
        let mut next = 0;
        let mut current = None;
        for i in 0..paragraphs.len() {
            while next < begins.len() && begins[next].0 <= i {
                current = Some(begins[next].1);
                next += 1;
            }
            labels.push(current);
        }
        labels
    }

    /// Whether `line` opens a chapter that starts on `page` (its title, numbered or not).
    pub(super) fn opens_on(&self, page: u32, line: &str) -> bool {
        let first = self.starts.partition_point(|(start, _)| *start < page);
        self.starts[first..]
            .iter()
            .take_while(|(start, _)| *start == page)
            .any(|(_, title)| starts_with_title(line, &title_words(title)))
    }

    /// The page the first chapter starts on.
    pub fn first_page(&self) -> Option<u32> {
        self.starts.first().map(|(page, _)| *page)
    }

    /// Each chapter's first and last page (the last chapter runs to `pages`).
    pub fn spans(&self, pages: u32) -> impl Iterator<Item = (u32, u32, &str)> {
        self.starts
            .iter()
            .enumerate()
            .map(move |(i, (start, title))| {
                let end = self
                    .starts
                    .get(i + 1)
                    .map_or(pages, |(next, _)| next.saturating_sub(1).max(*start));
                (*start, end, title.as_str())
            })
    }

    /// The chapter page `page` belongs to, if the outline says.
    pub fn at(&self, page: u32) -> Option<&str> {
        let i = self.starts.partition_point(|(start, _)| *start <= page);
        i.checked_sub(1).map(|i| self.starts[i].1.as_str())
    }
}

/// A title's words for matching, lowercased, without its numbering ("1.2",
/// "Chapter", "IV") or punctuation.
/// "1. Introduction", "3.2 Results and discussion": a section number, then a title
/// of a few words starting with a capital, without a sentence's full stop.
fn section_number(text: &str) -> Option<&str> {
    let text = text.trim();
    let (number, title) = text.split_once(' ')?;
    let digits = number.trim_end_matches('.');
    let numbered = !digits.is_empty()
        && digits.len() <= 8
        && digits
            .split('.')
            .all(|n| !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()));
    let words = title.split_whitespace().count();
    (numbered
        && (1..=8).contains(&words)
        && title.chars().next().is_some_and(char::is_uppercase)
        && !title.ends_with(['.', ':', ',', ';', '?', '!']))
    .then_some(number)
}

fn title_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .skip_while(|w| {
            w.chars().all(|c| c.is_ascii_digit())
                || w.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))
                || matches!(w.as_str(), "chapter" | "appendix" | "part" | "section")
                || (w.len() == 1 && w.chars().all(char::is_alphabetic))
        })
        .take(8)
        .collect()
}

fn starts_with_title(text: &str, title: &[String]) -> bool {
    if title.is_empty() {
        return false;
    }
    let words = title_words(text);
    words.len() >= title.len() && words[..title.len()] == *title
}

fn clean_title(title: &str) -> String {
    let mut out = String::new();
    for word in title.split(|c: char| c.is_whitespace() || c.is_control()) {
        if !word.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out.chars().take(500).collect()
}
