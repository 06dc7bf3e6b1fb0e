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
mod tests;
