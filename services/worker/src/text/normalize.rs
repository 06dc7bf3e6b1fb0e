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

/// NFKC (ligatures, full-width forms), no soft hyphens or control characters,
/// whitespace runs collapsed; one entry per line, blank lines kept as "".
fn clean_lines(page: &str) -> Vec<String> {
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
fn logical_rtl(line: &str) -> std::borrow::Cow<'_, str> {
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
fn enclosed_symbols(text: &str) -> std::borrow::Cow<'_, str> {
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
fn attach_stray_marks(text: &str) -> std::borrow::Cow<'_, str> {
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

/// Lines drawn with exactly the same words at the very same place (to the point) on a
/// quarter of the pages or more (eight at least): a slide deck's navigation box
/// ("Table of Contents", "Discussion") or a head set below the margin band. Body
/// text never sits at one spot on page after page, so these count as the page's
/// edges whatever their height; the running-head rules still decide.
fn drawn_in_place(pages: &[Vec<String>], layouts: &[Option<&PageLayout>]) -> Vec<Vec<usize>> {
    /// A line's words, exactly, and where it is drawn, in whole points. Borrowed,
    /// not masked: this runs over every line of the book, and a box drawn the same
    /// on every page has the same words.
    type Spot<'a> = (&'a str, (i32, i32));
    let spot = |line: &LineBox| {
        // Whole points: the same head drawn at 37.49 and 37.51 is one.
        #[allow(clippy::cast_possible_truncation)]
        (line.x0.round() as i32, line.y.round() as i32)
    };
    let mut on_pages: std::collections::HashMap<Spot<'_>, usize> = std::collections::HashMap::new();
    let mut keys: Vec<Vec<Option<Spot<'_>>>> = Vec::with_capacity(pages.len());
    for (lines, layout) in pages.iter().zip(layouts) {
        let Some(layout) = layout else {
            keys.push(Vec::new());
            continue;
        };
        let page_keys: Vec<Option<Spot<'_>>> = lines
            .iter()
            .zip(&layout.lines)
            .map(|(text, line)| {
                let text = text.trim();
                (line.size > 0. && text.chars().any(char::is_alphabetic))
                    .then(|| (text, spot(line)))
            })
            .collect();
        let mut seen: Vec<Spot<'_>> = page_keys.iter().flatten().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        for key in seen {
            *on_pages.entry(key).or_default() += 1;
        }
        keys.push(page_keys);
    }
    let least = (pages.len() / 4).max(8);
    keys.iter()
        .map(|page| {
            page.iter()
                .enumerate()
                .filter(|(_, key)| {
                    key.is_some_and(|k| on_pages.get(&k).is_some_and(|n| *n >= least))
                })
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

/// Lines set in the top or bottom margin of the page (outside the middle 86% of
/// its height), and its topmost and bottommost lines: where running heads, feet
/// and folios live.
fn in_margins(layout: &PageLayout) -> Vec<usize> {
    let h = layout.height;
    if h <= 0. {
        return Vec::new();
    }
    let mut out: Vec<usize> = layout
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.size > 0. && (l.y < h * 0.07 || l.y > h * 0.93))
        .map(|(i, _)| i)
        .collect();
    // The lines nearest the top and the bottom are at the page's edges wherever
    // the text order puts them (a folio drawn mid-stream, "361" at 91%).
    let placed = || layout.lines.iter().enumerate().filter(|(_, l)| l.size > 0.);
    let top = placed().min_by(|a, b| a.1.y.total_cmp(&b.1.y));
    let bottom = placed().max_by(|a, b| a.1.y.total_cmp(&b.1.y));
    for (i, _) in top.into_iter().chain(bottom) {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Three or more lines in a row, each with three cells or more (two wide gaps),
/// are a table: rows of figures or labels no one reads aloud line by line (a row
/// with symbols in a math font is still a row).
fn mark_tables(lines: &mut [(String, Role)], gaps: &[u32]) {
    let cell_text = |role: Role| matches!(role, Role::Body | Role::Formula);
    // Rows are counted over the lines with text: a blank line between rows (a
    // table set with spacing) does not end the table.
    let filled: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].0.trim().is_empty())
        .collect();
    let is_row = |k: usize| gaps[filled[k]] >= 2 && cell_text(lines[filled[k]].1);
    // Rows with an empty cell have a gap fewer: they belong too.
    let is_near_row = |k: usize| gaps[filled[k]] >= 1 && cell_text(lines[filled[k]].1);
    let mut tables: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    let mut rows = 0;
    for k in 0..=filled.len() {
        let row = k < filled.len() && is_row(k);
        // A cell's text wrapped onto short lines of its own ("示)", or "MCM:Verdana,
        // 扩展" then "Bitstream Vera)") between rows: up to three.
        let short = |k: usize| {
            cell_text(lines[filled[k]].1) && lines[filled[k]].0.trim().chars().count() <= 40
        };
        let wrapped = !row
            && start.is_some()
            && (k + 1..filled.len().min(k + 4))
                .take_while(|&j| is_row(j) || short(j))
                .any(is_row)
            && short(k);
        if wrapped {
            continue;
        }
        rows += usize::from(row);
        match (row, start) {
            (true, None) => {
                start = Some(k);
                rows = 1;
            }
            (false, Some(s)) => {
                if rows >= 3 {
                    let mut from = s;
                    while from > 0 && is_near_row(from - 1) {
                        from -= 1;
                    }
                    let mut to = k;
                    while to < filled.len() && is_near_row(to) {
                        to += 1;
                    }
                    tables.push((filled[from], filled[to - 1]));
                }
                start = None;
            }
            _ => {}
        }
    }
    for (first, last) in tables {
        for line in &mut lines[first..=last] {
            line.1 = Role::Table;
        }
    }
}

/// A chapter's label set on its own above the title: "Chapter 4", "PART II",
/// "Kapitel 3", "Глава 5", "第3章", or a number alone.
pub(super) fn is_chapter_label(text: &str) -> bool {
    let words: Vec<&str> = text
        .trim()
        .trim_end_matches('.')
        .split_whitespace()
        .collect();
    let number = |w: &str| {
        (!w.is_empty() && w.len() <= 4 && w.chars().all(|c| c.is_ascii_digit()))
            || (!w.is_empty()
                && w.len() <= 6
                && (w.chars().all(|c| "IVXLC".contains(c))
                    || w.chars().all(|c| "ivxlc".contains(c))))
    };
    match words.as_slice() {
        [one] => {
            number(one)
                || (one.starts_with('第')
                    && one.ends_with(['章', '部', '编', '編'])
                    && one.chars().count() <= 6)
        }
        [label, n] => {
            label.chars().all(char::is_alphabetic) && label.chars().count() <= 12 && number(n)
        }
        _ => false,
    }
}

/// Poppler without a layout sets a heading's number apart from its title ("1",
/// then "alpha-persian.bst with XeLaTeX"): where the line after a lone number
/// opens a chapter of the outline, the two are one heading again, so the number
/// is not read on its own.
fn join_section_numbers(lines: &mut [(String, Role)], opens_chapter: impl Fn(&str) -> bool) {
    for i in 0..lines.len() {
        let number = lines[i].0.trim();
        let lone = !number.is_empty()
            && number.len() <= 8
            && number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && number.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !lone {
            continue;
        }
        let Some(next) = (i + 1..lines.len()).find(|&j| !lines[j].0.trim().is_empty()) else {
            continue;
        };
        let title = lines[next].0.trim();
        if title.chars().next().is_some_and(char::is_alphabetic) && opens_chapter(title) {
            lines[next].0 = format!("{} {title}", number.trim_end_matches('.'));
            lines[i].0.clear();
        }
    }
}

/// On an article's first page, the lines above its title (the first line set
/// large) that sit in the top sixth of the page in type smaller than the text are
/// the journal's banner: its name, volume and pages, publisher, DOI. A reader
/// aloud starts at the title; the banner is kept as front matter.
fn mark_banner(lines: &mut [(String, Role)], boxes: &[&LineBox], height: f32, body_size: f32) {
    let Some(title) = boxes
        .iter()
        .position(|b| body_size > 0. && !b.note && b.size >= body_size * 1.2)
    else {
        return;
    };
    for (line, b) in lines.iter_mut().zip(boxes).take(title) {
        if line.1 == Role::Body && b.y < height / 6. && b.size > 0. && b.size < body_size * 0.95 {
            line.1 = Role::Banner;
        }
    }
}

/// Only figures ("80.05 80.03 80.02", "−2 −1 0 1").
fn figures_only(text: &str) -> bool {
    text.chars().any(char::is_numeric)
        && text.chars().all(|c| {
            c.is_numeric() || c.is_whitespace() || matches!(c, '.' | '-' | '−' | '–' | '%')
        })
}

/// Lines of figures in the code face next to code are the program's output, part
/// of the listing.
fn figures_beside_code(lines: &mut [(String, Role)], figures: &[bool]) {
    spread_role(lines, Role::Code, |i, line| {
        figures[i] && line.1 == Role::Body
    });
}

/// Lines that `may` take `role` take it when a neighbour has it, through runs of
/// such lines: one pass down and one up reach every line a fixpoint would.
fn spread_role(
    lines: &mut [(String, Role)],
    role: Role,
    may: impl Fn(usize, &(String, Role)) -> bool,
) {
    for i in 1..lines.len() {
        if lines[i - 1].1 == role && lines[i].1 != role && may(i, &lines[i]) {
            lines[i].1 = role;
        }
    }
    for i in (0..lines.len().saturating_sub(1)).rev() {
        if lines[i + 1].1 == role && lines[i].1 != role && may(i, &lines[i]) {
            lines[i].1 = role;
        }
    }
}

/// Rows of figures without wide gaps between their cells (a table set with
/// ordinary spaces, "Age (years) 24.21 3.41 18.00 32.00"): three or more lines in
/// a row (blank lines between allowed) that are mostly numbers, three or more
/// each, are a table; so are two lines of four figures or more and no word, and
/// one line of five figures or more and no word at all (a chart's axis). Numbers in a sentence are listed with commas ("namely 10.4,
/// 5.6, 3.1") and stay.
fn mark_numeric_tables(lines: &mut [(String, Role)]) {
    fn numeric(token: &str) -> bool {
        let core = token
            .trim_start_matches(['+', '-', '−', '±', '('])
            .trim_end_matches([')', '%']);
        let t = core.strip_suffix('.').unwrap_or(core);
        t.chars().any(char::is_numeric)
            && t.chars().all(|c| c.is_numeric() || c == '.')
            && !t.starts_with("..")
    }
    // (a row of a table, figures alone: how many numbers it holds)
    let row = |line: &str| -> (bool, Option<usize>) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let numbers = tokens.iter().filter(|t| numeric(t)).count();
        let words = tokens
            .iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .count();
        (
            numbers >= 3 && numbers * 2 >= tokens.len(),
            (numbers >= 4 && words == 0).then_some(numbers),
        )
    };
    let mut run: Vec<(usize, Option<usize>)> = Vec::new();
    for i in 0..=lines.len() {
        if i < lines.len() && lines[i].0.trim().is_empty() {
            continue;
        }
        let (is_row, alone) = if i < lines.len() && lines[i].1 == Role::Body {
            row(&lines[i].0)
        } else {
            (false, None)
        };
        if is_row {
            run.push((i, alone));
            continue;
        }
        // Three rows; two rows of figures alone ("1 2 3.001 4", "10 20 30.01
        // 40"); or one line of five figures or more and nothing else.
        let figures_alone = run.iter().all(|(_, a)| a.is_some());
        let table = run.len() >= 3
            || (run.len() == 2 && figures_alone)
            || (run.len() == 1 && run[0].1.is_some_and(|n| n >= 5));
        if table {
            for &(r, _) in &run {
                lines[r].1 = Role::Table;
            }
        }
        run.clear();
    }
}

/// A display formula is drawn in pieces (a fraction's numerator, a sum's limits, an
/// equation number, "b" in \"a over b\"), some without math glyphs of their own: a
/// short line without a word of prose next to a formula line is part of it.
fn join_formula_pieces(lines: &mut [(String, Role)]) {
    let piece = |text: &str| {
        let t = text.trim();
        let mut longest = 0;
        let mut run = 0;
        for c in t.chars() {
            run = if c.is_alphabetic() { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        // Two words in a row ("Note the open one") are prose, however short.
        let word = |w: &&str| w.chars().count() >= 2 && w.chars().all(char::is_alphabetic);
        let tokens: Vec<&str> = t.split_whitespace().collect();
        let prose = tokens
            .windows(2)
            .any(|pair| word(&pair[0]) && word(&pair[1]));
        t.chars().count() <= 60 && longest < 5 && !prose
    };
    spread_role(lines, Role::Formula, |_, line| {
        line.1 == Role::Body && !line.0.trim().is_empty() && piece(&line.0)
    });
}

/// A short run of bold lines (one or two) between lines that are not bold, set in
/// the text's own size, is a heading ("2.3 Results", "Installing R"): a bold
/// paragraph of several lines is emphasis, and a line that ends mid-sentence
/// (a comma, a hyphen) is not a heading.
fn mark_bold_headings(lines: &mut [(String, Role)], bold: &[bool]) {
    let mut i = 0;
    while i < lines.len() {
        if !bold[i] || lines[i].1 != Role::Body {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && bold[i] && lines[i].1 == Role::Body {
            i += 1;
        }
        let run = &lines[start..i];
        let heading_like = run.len() <= 2
            && run.iter().all(|(text, _)| {
                let t = text.trim();
                let chars = t.chars().count();
                (2..=100).contains(&chars)
                    && !t.ends_with([',', ';', '-'])
                    && t.chars().any(char::is_alphabetic)
            });
        if heading_like {
            for line in &mut lines[start..i] {
                line.1 = Role::Heading;
            }
        }
    }
}

/// Group lines into paragraphs: a blank line ends one, and so does a change of
/// role (a heading set on its own line, code after prose, the footnotes).
fn paragraphs(lines: &[(String, Role)], lexicon: &Lexicon) -> Vec<(String, Role)> {
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
struct Lexicon {
    words: std::collections::HashSet<String>,
}

impl Lexicon {
    fn of(pages: &[Vec<String>]) -> Self {
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
fn join_into(text: &mut String, next: &str, lexicon: &Lexicon) {
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
fn continues(prev: &str, next: &str) -> bool {
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
mod tests {
    use super::*;

    fn texts(pages: &[&str]) -> Vec<String> {
        normalize(&pages.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
            .into_iter()
            .map(|p| p.text)
            .collect()
    }

    #[test]
    fn ligatures_soft_hyphens_and_controls_go() {
        assert_eq!(
            texts(&["The \u{FB01}nal of\u{00AD}fice\u{0007} was  \u{FB02}at."]),
            ["The final office was flat."]
        );
    }

    #[test]
    fn tex_circled_letters_become_their_symbols() {
        assert_eq!(
            texts(&["Copyright c\u{20DD} 1990, Acme R\u{20DD} and x\u{20DD}y."]),
            ["Copyright © 1990, Acme ® and xy."]
        );
    }

    #[test]
    fn rows_with_wide_gaps_are_a_table() {
        let mut lines: Vec<(String, Role)> = [
            "Shells compared.",
            "dash V:894 191 Yes",
            "zsh V:37 2436 Yes",
            "csh V:1 340",
            "tcsh V:8 1346 No",
            "Table 1.13: List of shell programs.",
        ]
        .iter()
        .map(|l| ((*l).to_owned(), Role::Body))
        .collect();
        mark_tables(&mut lines, &[0, 3, 3, 2, 3, 0]);
        let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
        assert_eq!(
            roles,
            [
                Role::Body,
                Role::Table,
                Role::Table,
                Role::Table,
                Role::Table,
                Role::Body
            ]
        );
        // Two rows are not a table.
        let mut two: Vec<(String, Role)> = vec![
            ("a  b  c".into(), Role::Body),
            ("d  e  f".into(), Role::Body),
        ];
        mark_tables(&mut two, &[2, 2]);
        assert!(two.iter().all(|l| l.1 == Role::Body));
        // debref_zh-cn.pdf page 145: rows set with a blank line between them.
        let mut spaced: Vec<(String, Role)> = [
            "fonts-noto I:130 35 61 63 40 Noto fonts",
            "",
            "fonts-dejavu I:422 39 58 68 40 DejaVu",
            "",
            "fonts-croscore V:20, I:44 5278 56 60 40 Chrome OS",
            "",
            "The fonts above are free.",
        ]
        .iter()
        .map(|l| ((*l).to_owned(), Role::Body))
        .collect();
        mark_tables(&mut spaced, &[6, 0, 6, 0, 5, 0, 0]);
        let roles: Vec<Role> = spaced.iter().map(|l| l.1).collect();
        assert_eq!(roles[..5], [Role::Table; 5]);
        assert_eq!(roles[6], Role::Body);
        // The same page: a description cell wrapped onto two lines of its own
        // between rows does not end the table.
        let mut wrapped: Vec<(String, Role)> = [
            "fonts-noto I:130 35 61 63 40 Noto fonts (Google, 有",
            "CJK 的多语言)",
            "fonts-dejavu I:422 39 58 68 40 DejaVu (GNOME 2,",
            "MCM:Verdana, 扩展",
            "Bitstream Vera)",
            "fonts-liberation2 V:114, I:378 4290 56 60 40 Liberation",
            "fonts-croscore V:20, I:44 5278 56 60 40 Chrome OS",
        ]
        .iter()
        .map(|l| ((*l).to_owned(), Role::Body))
        .collect();
        mark_tables(&mut wrapped, &[6, 0, 6, 0, 0, 4, 5]);
        assert!(wrapped.iter().all(|l| l.1 == Role::Table), "{wrapped:?}");
    }

    #[test]
    fn a_lone_section_number_rejoins_the_title_it_numbers() {
        // alpha-persian_userguide.pdf page 1 through poppler: "1", then the
        // title of the outline's first chapter.
        let mut lines = roled(&[
            ("Contents", Role::Body),
            ("1 alpha-persian.bst with XELATEX 1", Role::Body),
            ("14", Role::Body),
            ("1", Role::Body),
            ("", Role::Body),
            ("alpha-persian.bst with XELATEX", Role::Body),
            ("Bib style alpha-persian.", Role::Body),
        ]);
        join_section_numbers(&mut lines, |line| {
            line.to_lowercase()
                .starts_with("alpha-persian.bst with xelatex")
        });
        let texts: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Contents",
                "1 alpha-persian.bst with XELATEX 1",
                "14",
                "",
                "",
                "1 alpha-persian.bst with XELATEX",
                "Bib style alpha-persian."
            ]
        );
    }

    fn roled(lines: &[(&str, Role)]) -> Vec<(String, Role)> {
        lines.iter().map(|(l, r)| ((*l).to_owned(), *r)).collect()
    }

    #[test]
    fn rows_of_figures_are_a_table_and_figures_in_a_sentence_are_not() {
        // pdfparse_04-valid_quark.pdf page 3: a table set without wide gaps.
        let mut lines = roled(&[
            (
                "Arithmetic Mean Standard Deviation Minimum Maximum",
                Role::Body,
            ),
            ("Age (years) 24.21 3.41 18.00 32.00", Role::Body),
            ("Height (cm) 173.2 7.04 162 185", Role::Body),
            ("Weight (kg) 67.85 5.17 62.32 77.67", Role::Body),
            ("Table 1. The subjects.", Role::Body),
            (
                "consisting of five numbers, namely 10.4, 5.6, 3.1, 6.4 and 21.7,",
                Role::Body,
            ),
            ("use the assignment in 2023 and 2024 for 3 days", Role::Body),
            ("1.5 2.0 2.5 3.0 3.5 4.0", Role::Body),
        ]);
        mark_numeric_tables(&mut lines);
        let tables: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].1 == Role::Table)
            .collect();
        assert_eq!(tables, [1, 2, 3, 7]);
    }

    #[test]
    fn a_journals_banner_above_the_title_is_front_matter() {
        // pdfparse_04-valid_quark.pdf page 1: the banner at the top right in 9 pt,
        // the title in 16 pt, the text in 10 pt.
        let line = |y: f32, size: f32| LineBox {
            y,
            x0: 45.,
            x1: 500.,
            size,
            mono: false,
            glyph_width: 0.,
            note: false,
            starts_note: false,
            gaps: 0,
            bold: false,
            math: false,
        };
        let mut lines = roled(&[
            ("Turk J Med Sci", Role::Body),
            ("2009; 39 (3): 361-365", Role::Body),
            ("Effect of speed exercise on NO", Role::Heading),
            ("Received: February 25, 2009", Role::Body),
            ("The text begins.", Role::Body),
        ]);
        let boxes = [
            line(45., 9.),
            line(56., 9.),
            line(150., 16.),
            line(547., 8.5),
            line(600., 10.),
        ];
        let refs: Vec<&LineBox> = boxes.iter().collect();
        mark_banner(&mut lines, &refs, 792., 10.);
        let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
        assert_eq!(
            roles,
            [
                Role::Banner,
                Role::Banner,
                Role::Heading,
                Role::Body,
                Role::Body
            ]
        );
    }

    #[test]
    fn a_formulas_pieces_join_it() {
        // revtex_apssamp.pdf page 3: a fraction's denominator and the equation
        // number are drawn as lines of their own, without math glyphs.
        let mut lines = roled(&[
            ("Displayed math will center by default:", Role::Body),
            ("χ+(p) ≲ [2|p|(|p| + pz)]", Role::Formula),
            ("px + ipy", Role::Body),
            (") , (1)", Role::Body),
            ("Note the open one in Eq. (2).", Role::Body),
        ]);
        join_formula_pieces(&mut lines);
        let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
        assert_eq!(
            roles,
            [
                Role::Body,
                Role::Formula,
                Role::Formula,
                Role::Formula,
                Role::Body
            ]
        );
        // Without a formula line nothing changes.
        let mut plain = roled(&[("x + y", Role::Body), ("(1)", Role::Body)]);
        join_formula_pieces(&mut plain);
        assert!(plain.iter().all(|l| l.1 == Role::Body));
    }

    #[test]
    fn a_short_bold_line_is_a_heading_and_a_bold_paragraph_is_not() {
        let mut lines = roled(&[
            ("the end of a paragraph.", Role::Body),
            ("2.3 Results", Role::Body),
            ("We found that the method works well in", Role::Body),
            ("Warning: every line of this paragraph", Role::Body),
            ("is set in bold, for emphasis, and so", Role::Body),
            ("it is read as the prose it is.", Role::Body),
            ("A bold line that ends mid-sentence,", Role::Body),
            ("and goes on.", Role::Body),
        ]);
        mark_bold_headings(
            &mut lines,
            &[false, true, false, true, true, true, true, false],
        );
        let headings: Vec<&str> = lines
            .iter()
            .filter(|l| l.1 == Role::Heading)
            .map(|l| l.0.as_str())
            .collect();
        assert_eq!(headings, ["2.3 Results"]);
    }

    #[test]
    fn right_to_left_runs_are_read_from_the_right() {
        // eledpar_columns_langs.pdf through pdftotext: each line's runs left to right.
        assert_eq!(
            texts(&[
                "\u{202B} ר״ל שהם יסודות\u{202C},\u{202B}בפנות התוריות\u{202C}\n.\u{202B}חלילה\u{202C}"
            ]),
            ["בפנות התוריות, ר״ל שהם יסודות חלילה."]
        );
        // XeTeX through poppler: one run per line, in reading order, with the
        // full stop between sentences as a nested left-to-right run.
        assert_eq!(
            texts(&[
                "\u{202B}המגדלור עומד על הצוק מעל הנמל כבר מאה שנה\u{202A} .\u{202C}השומר\u{202C}\n\u{202B}עולה במדרגות\u{202A}.\u{202C}\u{202C}"
            ]),
            ["המגדלור עומד על הצוק מעל הנמל כבר מאה שנה. השומר עולה במדרגות."]
        );
        // Mostly left-to-right: untouched (marks dropped).
        assert_eq!(
            texts(&["The word \u{202B}שלום\u{202C} means peace."]),
            ["The word שלום means peace."]
        );
    }

    #[test]
    fn no_word_starts_with_a_combining_mark() {
        // rdoc_R-intro.pdf page 7, revtex_apssamp.pdf, debref_en.pdf.
        assert_eq!(
            texts(&[
                "suggested by Fran \u{327}cois Pinard, ( \u{30A}A) and U. \u{308} Underwood; ’ \u{300} ”"
            ]),
            ["suggested by François Pinard, (Å) and U. Ünderwood; ’ ”"]
        );
        for paragraph in texts(&["\u{301}\u{301} x \u{300}\n\u{327}"]) {
            for word in paragraph.split_whitespace() {
                assert!(
                    !word.starts_with(unicode_normalization::char::is_combining_mark),
                    "{paragraph:?}"
                );
            }
        }
    }

    #[test]
    fn wrapped_lines_join_and_hyphenated_words_rejoin() {
        assert_eq!(
            texts(&[
                "A sentence that was hyphen-\nated and\nwrapped.\n\nNext paragraph, Self-\nMade stays."
            ]),
            [
                "A sentence that was hyphenated and wrapped.",
                "Next paragraph, Self- Made stays."
            ]
        );
    }

    #[test]
    fn a_compound_the_book_spells_with_a_hyphen_keeps_it() {
        assert_eq!(
            texts(&[
                "Survival was disease-free for most.\nThe disease-\nfree rate rose; it was com-\nplicated."
            ]),
            ["Survival was disease-free for most. The disease-free rate rose; it was complicated."]
        );
    }

    #[test]
    fn a_navigation_box_drawn_at_one_spot_on_every_page_drops_wherever_the_text_puts_it() {
        // pypdf_issue-604_indesign.pdf: "Table of Contents" and "Discussion" at
        // the top right of each landscape page (baselines 50 and 63 of 612, below
        // the margin band), drawn in the middle of the page's text.
        let at = |y: f32, x0: f32| LineBox {
            y,
            x0,
            x1: x0 + 200.,
            size: 10.,
            mono: false,
            glyph_width: 0.,
            note: false,
            starts_note: false,
            gaps: 0,
            bold: false,
            math: false,
        };
        let mut pages = Vec::new();
        let mut layouts = Vec::new();
        let topics = [
            "nodules",
            "lymphoma",
            "surgery",
            "imaging",
            "iodine",
            "staging",
            "biopsy",
            "follow-up",
            "genetics",
            "pathology",
            "dosing",
            "recurrence",
        ];
        for topic in topics {
            pages.push(format!(
                "The guideline on {topic} begins here.\nTable of Contents\nDiscussion\nIts advice on {topic} goes on."
            ));
            layouts.push(Some(PageLayout {
                width: 792.,
                height: 612.,
                lines: vec![at(120., 40.), at(50., 683.), at(63., 715.), at(134., 40.)],
            }));
        }
        // The Discussion section's own heading, inside its page's text.
        pages.push("The advice ends here.\n\nDiscussion\nThe evidence is weighed here.".into());
        layouts.push(Some(PageLayout {
            width: 792.,
            height: 612.,
            lines: vec![at(90., 40.), at(0., 0.), at(130., 40.), at(144., 40.)],
        }));
        let got: Vec<String> = normalize_book(
            &pages,
            &layouts,
            &Chapters::from_outline(&[]),
            LinkSpeech::default(),
        )
        .into_iter()
        .map(|p| p.text)
        .collect();
        let all = got.join("\n");
        assert!(!all.contains("Table of Contents"), "{got:?}");
        assert_eq!(all.matches("Discussion").count(), 1, "{got:?}");
        for topic in topics {
            assert!(
                all.contains(&format!("Its advice on {topic} goes on.")),
                "{got:?}"
            );
        }
    }

    #[test]
    fn running_headers_footers_and_page_numbers_drop() {
        let pages: Vec<String> = (1..=6)
            .map(|n| format!("The Book Title\nChapter text on page {n} goes on.\n\n{n}"))
            .collect();
        let got: Vec<String> = normalize(&pages).into_iter().map(|p| p.text).collect();
        assert_eq!(got.len(), 6);
        assert!(
            got.iter().all(|t| t.starts_with("Chapter text on page")),
            "{got:?}"
        );
    }

    #[test]
    fn the_numbered_head_of_a_two_page_chapter_drops_but_numbered_headings_stay() {
        // 100 pages: the global threshold (4 pages) is more than this chapter has.
        let mut pages: Vec<String> = (1..=100)
            .map(|n| format!("Body of page {n} ends here.\nMore body text."))
            .collect();
        pages[40] = "Chapter 6: Lists and data frames 41\nLists hold anything.\nMore.".into();
        pages[41] = "Chapter 6: Lists and data frames 42\nFrames are lists.\nMore.".into();
        // Numbered section headings at the top of nearby pages are body text.
        pages[60] = "4.3 The 2.x Releases\nHamm came out.\nMore.".into();
        pages[61] = "4.4 The 3.x Releases\nWoody came out.\nMore.".into();
        let text: String = normalize(&pages)
            .into_iter()
            .map(|p| p.text)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!text.contains("Chapter 6"), "{text}");
        assert!(text.contains("Lists hold anything.") && text.contains("Frames are lists."));
        assert!(text.contains("4.3 The 2.x Releases") && text.contains("4.4 The 3.x Releases"));
    }

    #[test]
    fn a_paragraph_cut_by_a_page_break_is_one_paragraph_over_two_pages() {
        let got = normalize(&[
            "It was the best of\n".into(),
            "times, it was the worst.".into(),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "It was the best of times, it was the worst.");
        assert_eq!((got[0].page_start, got[0].page_end), (1, 2));
    }

    #[test]
    fn a_japanese_sentence_cut_by_a_page_break_is_one_paragraph() {
        // debhist_ja.pdf pages 15-16: "…倍近くにな" / "りました。"
        let got = normalize(&[
            "従来リリースの倍近くにな".into(),
            "りました。新規パッケージ。".into(),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].text,
            "従来リリースの倍近くになりました。新規パッケージ。"
        );
        let apart = normalize(&["一つ目の文です。".into(), "二つ目の文です。".into()]);
        assert_eq!(apart.len(), 2);
    }

    #[test]
    fn cjk_lines_join_without_spaces() {
        assert_eq!(
            texts(&["これは日本語の\n文章です。"]),
            ["これは日本語の文章です。"]
        );
        assert_eq!(texts(&["Привет,\nмир."]), ["Привет, мир."]);
    }
}
