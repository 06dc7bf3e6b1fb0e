//! Paragraphs into chunks a voice reads in one breath-group: whole sentences,
//! about `target` characters, never more than `max`, never inside a word.
//!
//! Sentences come from Unicode sentence segmentation (UAX #29), which knows `。`
//! and `！` as well as `.`; a sentence longer than `max` is cut at word boundaries
//! (in Chinese and Japanese every ideograph is a boundary), and a single "word"
//! longer than `max` (a URL, a table row without spaces) at grapheme clusters.
//! Sizes are in characters (Unicode scalar values), as Postgres counts them.

use shared_domain::domain::ChunkKind;
use unicode_segmentation::UnicodeSegmentation;

use super::normalize::{Paragraph, is_unspaced_script};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizes {
    /// Close a chunk once it reaches this many characters.
    pub target: usize,
    /// No chunk is longer than this.
    pub max: usize,
    /// No sentence is longer than this: text-to-speech engines (XTTS, Kokoro)
    /// garble or truncate beyond about 250 characters.
    pub sentence: usize,
}

impl Default for ChunkSizes {
    fn default() -> Self {
        Self {
            target: 800,
            max: 1500,
            sentence: 250,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChunk {
    pub text: String,
    pub char_count: usize,
    pub page_start: u32,
    pub page_end: u32,
    pub chapter: Option<String>,
    pub kind: ChunkKind,
    /// Character offsets where each sentence starts; the first is 0.
    pub sentence_starts: Vec<u32>,
    /// Its text came from OCR (set by the pipeline, which knows the pages).
    pub ocr: bool,
}

/// A paragraph with the chapter it belongs to.
pub struct Section<'a> {
    pub paragraph: &'a Paragraph,
    pub chapter: Option<&'a str>,
}

struct Builder {
    sizes: ChunkSizes,
    chunks: Vec<TextChunk>,
    current: Option<TextChunk>,
}

impl Builder {
    fn flush(&mut self) {
        if let Some(chunk) = self.current.take() {
            self.chunks.push(chunk);
        }
    }

    fn current_len(&self) -> usize {
        self.current.as_ref().map_or(0, |c| c.char_count)
    }

    /// Add one sentence (at most `max` chars), starting a new chunk when it would not fit.
    fn push(&mut self, sentence: &str, sep: &str, para: &Paragraph, chapter: Option<&str>) {
        let len_of = |s: &str| s.chars().count();
        let piece_len = len_of(sentence);
        if piece_len == 0 {
            return;
        }
        let len = self.current_len();
        let sep_len = len_of(sep);
        if len > 0 && (len >= self.sizes.target || len + sep_len + piece_len > self.sizes.max) {
            self.flush();
        }
        match &mut self.current {
            Some(chunk) => {
                chunk.text.push_str(sep);
                chunk.char_count += sep_len;
                chunk
                    .sentence_starts
                    .push(u32::try_from(chunk.char_count).unwrap_or(u32::MAX));
                chunk.text.push_str(sentence);
                chunk.char_count += piece_len;
                chunk.page_end = chunk.page_end.max(para.page_end);
            }
            None => {
                self.current = Some(TextChunk {
                    text: sentence.to_owned(),
                    char_count: piece_len,
                    page_start: para.page_start,
                    page_end: para.page_end,
                    chapter: chapter.map(str::to_owned),
                    kind: para.kind,
                    sentence_starts: vec![0],
                    ocr: false,
                });
            }
        }
    }
}

/// Chunk a book's paragraphs in order. A new chapter or kind always starts a new chunk.
pub fn chunk<'a>(
    sections: impl IntoIterator<Item = Section<'a>>,
    sizes: ChunkSizes,
) -> Vec<TextChunk> {
    let max = sizes.max.max(1);
    let sizes = ChunkSizes {
        target: sizes.target.clamp(1, max),
        max,
        sentence: sizes.sentence.clamp(1, max),
    };
    let mut b = Builder {
        sizes,
        chunks: Vec::new(),
        current: None,
    };
    for Section { paragraph, chapter } in sections {
        if b.current
            .as_ref()
            .is_some_and(|c| c.chapter.as_deref() != chapter || c.kind != paragraph.kind)
        {
            b.flush();
        }
        // Prefer to end a chunk at a paragraph end once it is well on its way.
        if b.current_len() * 5 >= sizes.target * 3 {
            b.flush();
        }
        let mut sep = "\n\n";
        // Code keeps its lines as they are: one "sentence" each, never reflowed.
        let verbatim = matches!(
            paragraph.kind,
            ChunkKind::Code | ChunkKind::Table | ChunkKind::Formula
        );
        let pieces = if verbatim {
            paragraph
                .text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .flat_map(|l| split_to_fit(l, sizes.sentence))
                .collect()
        } else {
            sentences(&paragraph.text, sizes.sentence)
        };
        for sentence in pieces {
            b.push(
                &sentence,
                if b.current.is_some() { sep } else { "" },
                paragraph,
                chapter,
            );
            sep = if verbatim {
                "\n"
            } else if sentence.chars().last().is_some_and(is_unspaced_script) {
                ""
            } else {
                " "
            };
        }
    }
    b.flush();
    b.chunks
}

/// A paragraph's sentences, each at most `max` characters, the last ending in
/// punctuation so a voice pauses after a heading or a list item as after a sentence.
pub fn sentences(paragraph: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sentence in paragraph.split_sentence_bounds() {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            continue;
        }
        out.extend(split_sentence(sentence, max));
    }
    // Only a short paragraph is a heading or a list item; a long one without a
    // full stop was cut (by a list, a figure) and goes on after it.
    if paragraph.chars().count() <= HEADING_MAX
        && let Some(last) = out.last_mut()
    {
        end_with_pause(last, max);
    }
    out
}

/// The longest paragraph taken for a heading or a list item.
const HEADING_MAX: usize = 120;

/// A heading or list item ends without punctuation; a voice would run it into
/// what follows. Give it the full stop of its script.
fn end_with_pause(sentence: &mut String, max: usize) {
    let Some(last) = sentence.chars().last() else {
        return;
    };
    // "Author(s)", "Step 3 (optional)", "The “Extras”": a closing bracket around
    // words, or a closing quote, ends it too ("c(1, 2)" is code, and stays as it is).
    let closes = match last {
        ')' => sentence.rfind('(').is_some_and(|open| {
            let inside = &sentence[open + 1..sentence.len() - 1];
            !inside.trim().is_empty()
                && inside
                    .chars()
                    .all(|c| c.is_alphabetic() || c.is_whitespace())
        }),
        '"' | '”' | '’' | '»' | '」' => sentence
            .chars()
            .rev()
            .nth(1)
            .is_some_and(char::is_alphanumeric),
        _ => false,
    };
    if !(last.is_alphanumeric() || closes) || sentence.chars().count() >= max {
        return;
    }
    sentence.push(if is_unspaced_script(last) { '。' } else { '.' });
}

/// Cut one overlong sentence where a reader would breathe: after a semicolon,
/// colon or dash, before a bullet, else after a comma, else between words; a
/// piece never shorter than a third of `max` unless nothing else fits.
fn split_sentence(sentence: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = sentence;
    while rest.chars().count() > max {
        match best_cut(rest, max) {
            Some(cut) => {
                let (piece, tail) = rest.split_at(cut);
                let piece = piece.trim_end();
                if !piece.is_empty() {
                    pieces.push(piece.to_owned());
                }
                rest = tail.trim_start();
            }
            None => {
                pieces.extend(split_to_fit(rest, max));
                return pieces;
            }
        }
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// The byte offset to cut `text` at so the first piece has at most `max` characters.
fn best_cut(text: &str, max: usize) -> Option<usize> {
    let min = max / 3;
    // (priority, byte offset): later candidates of the same priority win.
    let mut best: [Option<usize>; 3] = [None; 3];
    let mut prev: Option<char> = None;
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count > max {
            break;
        }
        let after = i + c.len_utf8();
        let next_is_space = text[after..].starts_with(char::is_whitespace);
        // A cut before this character leaves `count` characters in the piece,
        // one after it `count + 1`.
        let mut mark = |priority: usize, before: bool| {
            let (at, len) = if before {
                (i, count)
            } else {
                (after, count + 1)
            };
            if len <= max && (len >= min || priority == 2) {
                best[priority] = Some(at);
            }
        };
        match c {
            ';' | ':' if next_is_space => mark(0, false),
            '—' | '–' if next_is_space && prev.is_some_and(char::is_whitespace) => {
                mark(0, false);
            }
            '•' | '▶' | '◦' | '▪' | '●' if prev.is_some_and(char::is_whitespace) => {
                mark(0, true);
            }
            '；' | '：' => mark(0, false),
            ',' if next_is_space => mark(1, false),
            '、' | '，' => mark(1, false),
            c if c.is_whitespace() && count > 0 => mark(2, true),
            c if is_unspaced_script(c) && prev.is_some_and(is_unspaced_script) => mark(2, true),
            _ => {}
        }
        prev = Some(c);
    }
    best.into_iter().flatten().next().filter(|at| *at > 0)
}

/// Cut `text` into pieces of at most `max` characters at word boundaries (or,
/// for a single overlong word, at grapheme boundaries).
fn split_to_fit(text: &str, max: usize) -> Vec<String> {
    if text.chars().count() <= max {
        return vec![text.to_owned()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    for word in text.split_word_bounds() {
        let word_len = word.chars().count();
        if word_len > max {
            for g in word.graphemes(true) {
                let g_len = g.chars().count();
                if len + g_len > max && len > 0 {
                    pieces.push(std::mem::take(&mut current));
                    len = 0;
                }
                if g_len > max {
                    // A "grapheme" of hundreds of combining marks: cut it anyway.
                    for c in g.chars() {
                        if len == max {
                            pieces.push(std::mem::take(&mut current));
                            len = 0;
                        }
                        current.push(c);
                        len += 1;
                    }
                    continue;
                }
                current.push_str(g);
                len += g_len;
            }
            continue;
        }
        if len + word_len > max {
            pieces.push(std::mem::take(&mut current));
            len = 0;
        }
        if len == 0 && word.trim().is_empty() {
            continue; // no piece starts with a space
        }
        current.push_str(word);
        len += word_len;
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
        .into_iter()
        .map(|p| p.trim_end().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
