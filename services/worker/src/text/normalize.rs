//! From extracted page text to clean, speakable paragraphs.
//!
//! Extractors give lines as laid out on the page: words hyphenated across line
//! ends, ligatures as single code points, running headers and footers on every
//! page, page numbers, stray control characters. A voice must read none of that.
//! [`normalize`] turns the pages of one book into paragraphs, each knowing the
//! pages it came from, in reading order.

use shared_domain::domain::ChunkKind;
use unicode_normalization::UnicodeNormalization;

use super::Chapters;
use super::furniture::{kept_lines, repeated_edge_lines};
use super::layout::{LineBox, PageLayout};
use super::links::{LinkSpeech, speak_links};

mod glyphs;
mod lines;
mod paragraphs;

pub use glyphs::is_right_to_left;
use glyphs::*;
pub(super) use lines::is_chapter_label;
use lines::*;
use paragraphs::*;

/// One paragraph of speakable text, the pages it spans (1-based) and what part
/// of the book it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub text: String,
    pub page_start: u32,
    pub page_end: u32,
    pub kind: ChunkKind,
    /// Set larger than the book's text: a heading.
    pub heading: bool,
}

/// What a line is, from how it is set on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Body,
    Heading,
    /// A footnote's first line, then the rest of it.
    NoteStart,
    Note,
    Code,
    Table,
    /// A display formula (its glyphs mostly from math fonts).
    Formula,
    /// A journal's banner above an article's title on its first page ("Turk J
    /// Med Sci 2009; 39 (3): 361-365", "doi:…"): front matter.
    Banner,
    /// A table of contents sharing its page with other text.
    Contents,
}

/// Line roles for a book: type sizes are compared with the book's own text size,
/// and monospace only means code where it is not the book's text face.
struct Roles {
    body_size: f32,
    mono_is_code: bool,
    /// The advance width of the book's monospaced face, in thousandths.
    mono_width: Option<i32>,
    /// Bold is an emphasis here, not the book's text face.
    bold_is_heading: bool,
}

impl Roles {
    fn of<'a>(layouts: impl Iterator<Item = &'a PageLayout>) -> Self {
        let mut sizes: std::collections::HashMap<i32, usize> = std::collections::HashMap::new();
        let (mut mono, mut lines, mut bold) = (0usize, 0usize, 0usize);
        let mut mono_widths: std::collections::HashMap<i32, usize> =
            std::collections::HashMap::new();
        for line in layouts.flat_map(|l| &l.lines) {
            if line.note || line.size <= 0. {
                continue;
            }
            lines += 1;
            mono += usize::from(line.mono);
            bold += usize::from(line.bold);
            if line.mono {
                #[allow(clippy::cast_possible_truncation)]
                let key = (line.glyph_width * 1000.).round() as i32;
                *mono_widths.entry(key).or_default() += 1;
            }
            // Half points: the cast cannot overflow for a real type size.
            #[allow(clippy::cast_possible_truncation)]
            let key = (line.size * 2.).round() as i32;
            *sizes.entry(key).or_default() += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let body_size = sizes
            .into_iter()
            .max_by_key(|(size, n)| (*n, *size))
            .map_or(0., |(size, _)| size as f32 / 2.);
        Self {
            body_size,
            // A book set in a typewriter face throughout is not all code.
            mono_is_code: mono * 5 < lines * 2,
            mono_width: mono_widths
                .into_iter()
                .max_by_key(|(w, n)| (*n, *w))
                .map(|(w, _)| w),
            bold_is_heading: bold * 5 < lines,
        }
    }

    /// Figures are one width in most faces (tabular): "10 20 30 40" alone is a
    /// row of a table, and code only beside code (a program's output).
    fn is_code(&self, text: &str, line: &super::layout::LineBox) -> bool {
        !figures_only(text) && self.is_monospaced(text, line)
    }

    fn is_monospaced(&self, text: &str, line: &super::layout::LineBox) -> bool {
        if !self.mono_is_code {
            return false;
        }
        #[allow(clippy::cast_possible_truncation)]
        let width = (line.glyph_width * 1000.).round() as i32;
        (line.mono && text.chars().filter(|c| !c.is_whitespace()).count() >= 3)
            || (line.glyph_width > 0. && Some(width) == self.mono_width)
    }

    /// Set 1.2× the book's text size or more (a chapter's title, "Chapter 4").
    fn is_heading_size(&self, line: &super::layout::LineBox) -> bool {
        !line.note && self.body_size > 0. && line.size >= self.body_size * 1.2
    }

    fn role(&self, text: &str, line: &super::layout::LineBox) -> Role {
        if line.starts_note {
            Role::NoteStart
        } else if line.note {
            Role::Note
        } else if self.is_code(text, line) {
            Role::Code
        } else if line.math {
            Role::Formula
        } else if self.body_size > 0.
            && line.size >= self.body_size * 1.2
            && text.chars().count() <= 150
        {
            Role::Heading
        } else {
            Role::Body
        }
    }
}

/// Normalize a book given as one string per page (page 1 first), without an
/// outline or a layout.
pub fn normalize(pages: &[String]) -> Vec<Paragraph> {
    normalize_book(
        pages,
        &[],
        &Chapters::from_outline(&[]),
        LinkSpeech::default(),
    )
}

/// Normalize a book given as one string per page (page 1 first) and, where the
/// engine gave it, each page's layout; its chapters help tell front matter and
/// apparatus from the body.
pub fn normalize_book(
    pages: &[String],
    layouts: &[Option<PageLayout>],
    chapters: &Chapters,
    links: LinkSpeech,
) -> Vec<Paragraph> {
    let pages: Vec<Vec<String>> = pages.iter().map(|p| clean_lines(p)).collect();
    // A layout that does not match its page's text line for line is not used.
    let layouts: Vec<Option<&PageLayout>> = (0..pages.len())
        .map(|i| {
            layouts
                .get(i)
                .and_then(Option::as_ref)
                .filter(|l| l.lines.len() == pages[i].len())
        })
        .collect();
    let mut margins: Vec<Vec<usize>> = layouts
        .iter()
        .map(|layout| layout.map(in_margins).unwrap_or_default())
        .collect();
    for (page, fixed) in margins.iter_mut().zip(drawn_in_place(&pages, &layouts)) {
        for i in fixed {
            if !page.contains(&i) {
                page.push(i);
            }
        }
    }
    let repeated = repeated_edge_lines(&pages, &margins);
    let lexicon = Lexicon::of(&pages);
    let roles = Roles::of(layouts.iter().copied().flatten());
    // Heading-sized lines and how many pages print each: "Chapter 4" once, a
    // title set large at the top of every page many times.
    let mut large_lines: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    // …and, per page, their signatures: a head set large with its folio ("THE
    // WEEK OF STORMS 37", "… 38") differs in text from page to page, not in
    // signature, and is on the next page too; "Chapter 4" is pages away from "Chapter 5".
    let mut large_signatures: Vec<std::collections::HashSet<String>> =
        Vec::with_capacity(pages.len());
    for (lines, layout) in pages.iter().zip(&layouts) {
        let Some(layout) = layout else {
            large_signatures.push(std::collections::HashSet::new());
            continue;
        };
        let mut seen: Vec<&str> = lines
            .iter()
            .zip(&layout.lines)
            .filter(|(_, b)| roles.is_heading_size(b))
            .map(|(l, _)| l.trim())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        large_signatures.push(
            seen.iter()
                .map(|l| super::furniture::signature(l))
                .collect(),
        );
        for line in seen {
            *large_lines.entry(line).or_default() += 1;
        }
    }
    let kept: Vec<Vec<(String, Role)>> = pages
        .iter()
        .enumerate()
        .map(|(index, lines)| {
            let layout = layouts[index];
            // Lines that are never running heads: headings and code.
            let headings: Vec<bool> = layout.map_or_else(Vec::new, |l| {
                l.lines
                    .iter()
                    .zip(lines)
                    .map(|(b, text)| {
                        let on_a_neighbour = || {
                            let sig = super::furniture::signature(text.trim());
                            [index.wrapping_sub(1), index + 1]
                                .iter()
                                .any(|&n| large_signatures.get(n).is_some_and(|s| s.contains(&sig)))
                        };
                        // Code is never a running head, however often a line of
                        // its output ("skipped=0 rescued=0 ignored=0") ends a page.
                        roles.is_monospaced(text, b)
                            || (roles.is_heading_size(b)
                                && large_lines.get(text.trim()).is_some_and(|n| *n == 1)
                                && !on_a_neighbour())
                    })
                    .collect()
            });
            let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let continued = chapters
                .at(page)
                .filter(|_| chapters.at(page.saturating_sub(1)) == chapters.at(page));
            let kept = kept_lines(
                lines,
                &margins[index],
                &repeated,
                pages.len(),
                &headings,
                continued,
            );
            let mut roled: Vec<(String, Role)> = kept
                .iter()
                .map(|&i| {
                    let role = layout.map_or(Role::Body, |l| roles.role(&lines[i], &l.lines[i]));
                    (lines[i].clone(), role)
                })
                .collect();
            if let Some(layout) = layout {
                let cells: Vec<u32> = kept.iter().map(|&i| layout.lines[i].gaps).collect();
                let figures: Vec<bool> = kept
                    .iter()
                    .map(|&i| {
                        figures_only(&lines[i]) && roles.is_monospaced(&lines[i], &layout.lines[i])
                    })
                    .collect();
                figures_beside_code(&mut roled, &figures);
                mark_tables(&mut roled, &cells);
                join_formula_pieces(&mut roled);
                if roles.bold_is_heading {
                    let bold: Vec<bool> = kept.iter().map(|&i| layout.lines[i].bold).collect();
                    mark_bold_headings(&mut roled, &bold);
                }
                if index == 0 {
                    let boxes: Vec<&LineBox> = kept.iter().map(|&i| &layout.lines[i]).collect();
                    mark_banner(&mut roled, &boxes, layout.height, roles.body_size);
                }
            }
            mark_numeric_tables(&mut roled);
            if layout.is_none() {
                join_section_numbers(&mut roled, |line| chapters.opens_on(page, line));
            }
            let texts: Vec<&str> = roled.iter().map(|(l, _)| l.as_str()).collect();
            if let Some(block) = super::kinds::contents_block(&texts) {
                for line in &mut roled[block] {
                    line.1 = Role::Contents;
                }
            }
            roled
        })
        .collect();
    let texts: Vec<Vec<&str>> = kept
        .iter()
        .map(|lines| lines.iter().map(|(l, _)| l.as_str()).collect())
        .collect();
    let kinds = super::kinds::page_kinds(&texts, chapters);
    let mut out: Vec<Paragraph> = Vec::new();
    for (index, (kept, page_kind)) in kept.iter().zip(kinds).enumerate() {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut first_of_page = true;
        for (text, role) in paragraphs(kept, &lexicon) {
            let kind = match (page_kind, role) {
                (ChunkKind::Body, Role::Note | Role::NoteStart) => ChunkKind::Notes,
                (ChunkKind::Body, Role::Code) => ChunkKind::Code,
                (ChunkKind::Body, Role::Table) => ChunkKind::Table,
                (ChunkKind::Body, Role::Formula) => ChunkKind::Formula,
                (ChunkKind::Body, Role::Banner) => ChunkKind::FrontMatter,
                (ChunkKind::Body, Role::Contents) => ChunkKind::Contents,
                _ => page_kind,
            };
            // A paragraph cut by a page break continues on the next page, after
            // the previous page's footnotes.
            if first_of_page
                && role == Role::Body
                && let Some(last) = out
                    .iter_mut()
                    .rev()
                    .take_while(|p| p.page_end + 1 >= page)
                    .find(|p| p.kind != ChunkKind::Notes)
                && last.page_end + 1 == page
                && last.kind == kind
                && !last.heading
                && continues(&last.text, &text)
            {
                join_into(&mut last.text, &text, &lexicon);
                last.page_end = page;
            } else if role == Role::Heading
                && let Some(last) = out.last_mut()
                && last.heading
                && last.page_end == page
                && last.kind == kind
                && is_chapter_label(&last.text)
            {
                // "Chapter 4" set above its title: one heading, "Chapter 4. The
                // Week of Storms", so the chapter starts at its label.
                last.text = format!("{}. {}", last.text.trim_end_matches('.'), text);
            } else {
                out.push(Paragraph {
                    text,
                    page_start: page,
                    page_end: page,
                    kind,
                    heading: role == Role::Heading,
                });
            }
            first_of_page = false;
        }
    }
    for paragraph in &mut out {
        if let std::borrow::Cow::Owned(text) = super::marks::drop_glued_note_marks(&paragraph.text)
        {
            paragraph.text = text;
        }
    }
    finish_paragraphs(&mut out, links);
    out
}

/// Paragraphs from a structured document (an EPUB's XHTML): its kinds and
/// headings are given, so only the text is made speakable: NFKC, no soft hyphens,
/// control or unsayable characters, whitespace collapsed (code keeps its lines).
pub fn structured_paragraphs(mut paragraphs: Vec<Paragraph>, links: LinkSpeech) -> Vec<Paragraph> {
    for paragraph in &mut paragraphs {
        let keep_lines = matches!(paragraph.kind, ChunkKind::Code | ChunkKind::Table);
        let lines: Vec<String> = clean_lines(&paragraph.text)
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        paragraph.text = lines.join(if keep_lines { "\n" } else { " " });
    }
    paragraphs.retain(|p| !p.text.is_empty());
    finish_paragraphs(&mut paragraphs, links);
    paragraphs
}

/// What every book's paragraphs go through last: links spoken, reference lists
/// found, numbered citations out of the reading flow.
fn finish_paragraphs(out: &mut Vec<Paragraph>, links: LinkSpeech) {
    for paragraph in out.iter_mut() {
        if let std::borrow::Cow::Owned(text) = speak_links(&paragraph.text, links) {
            paragraph.text = text;
        }
    }
    // A paragraph that was only a link the deployment leaves out is gone.
    out.retain(|p| !p.text.trim().is_empty());
    super::kinds::mark_reference_lists(out);
    // Citations go from the reading flow once reference lists are known: a
    // list's own "[2] B. Writer" entries keep their numbers.
    for paragraph in out.iter_mut() {
        if matches!(paragraph.kind, ChunkKind::Body | ChunkKind::Notes)
            && let std::borrow::Cow::Owned(text) =
                super::marks::drop_citation_brackets(&paragraph.text)
        {
            paragraph.text = text;
        }
    }
}

/// Scripts written without spaces between words: Han, Kana, and their punctuation.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F   // CJK punctuation
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified
        | 0xF900..=0xFAFF // CJK compatibility
        | 0xFF00..=0xFF60 // full-width forms
        | 0x20000..=0x2FFFF
        | 0x0E00..=0x0E7F // Thai
    )
}

#[cfg(test)]
mod tests;
