//! Paragraphs into chunks a voice reads in one breath-group: whole sentences,
//! about `target` characters, never more than `max`, never inside a word.
//!
//! Sentences come from Unicode sentence segmentation (UAX #29), which knows `。`
//! and `！` as well as `.`; a sentence longer than `max` is cut at word boundaries
//! (in Chinese and Japanese every ideograph is a boundary), and a single "word"
//! longer than `max` (a URL, a table row without spaces) at grapheme clusters.
//! Sizes are in characters (Unicode scalar values), as Postgres counts them.

use unicode_segmentation::UnicodeSegmentation;

use super::normalize::{Paragraph, is_unspaced_script};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizes {
    /// Close a chunk once it reaches this many characters.
    pub target: usize,
    /// No chunk is longer than this.
    pub max: usize,
}

impl Default for ChunkSizes {
    fn default() -> Self {
        Self {
            target: 800,
            max: 1500,
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

    /// Add one piece (at most `max` chars), starting a new chunk when it would not fit.
    fn push(&mut self, piece: &str, sep: &str, para: &Paragraph, chapter: Option<&str>) {
        let piece_len = piece.chars().count();
        if piece_len == 0 {
            return;
        }
        let len = self.current_len();
        let sep_len = sep.chars().count();
        if len > 0 && (len >= self.sizes.target || len + sep_len + piece_len > self.sizes.max) {
            self.flush();
        }
        match &mut self.current {
            Some(chunk) => {
                chunk.text.push_str(sep);
                chunk.text.push_str(piece);
                chunk.char_count += sep_len + piece_len;
                chunk.page_end = chunk.page_end.max(para.page_end);
            }
            None => {
                self.current = Some(TextChunk {
                    text: piece.to_owned(),
                    char_count: piece_len,
                    page_start: para.page_start,
                    page_end: para.page_end,
                    chapter: chapter.map(str::to_owned),
                });
            }
        }
    }
}

/// Chunk a book's paragraphs in order. A new chapter always starts a new chunk.
pub fn chunk<'a>(
    sections: impl IntoIterator<Item = Section<'a>>,
    sizes: ChunkSizes,
) -> Vec<TextChunk> {
    let sizes = ChunkSizes {
        target: sizes.target.clamp(1, sizes.max.max(1)),
        max: sizes.max.max(1),
    };
    let mut b = Builder {
        sizes,
        chunks: Vec::new(),
        current: None,
    };
    for Section { paragraph, chapter } in sections {
        if b.current
            .as_ref()
            .is_some_and(|c| c.chapter.as_deref() != chapter)
        {
            b.flush();
        }
        // Prefer to end a chunk at a paragraph end once it is well on its way.
        if b.current_len() * 5 >= sizes.target * 3 {
            b.flush();
        }
        let mut sep = "\n\n";
        for sentence in paragraph.text.split_sentence_bounds() {
            let sentence = sentence.trim_end();
            if sentence.is_empty() {
                continue;
            }
            for piece in split_to_fit(sentence, sizes.max) {
                b.push(
                    &piece,
                    if b.current.is_some() { sep } else { "" },
                    paragraph,
                    chapter,
                );
                sep = if piece.chars().last().is_some_and(is_unspaced_script) {
                    ""
                } else {
                    " "
                };
            }
        }
    }
    b.flush();
    b.chunks
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
                if len + g_len > max {
                    pieces.push(std::mem::take(&mut current));
                    len = 0;
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
mod tests {
    use super::*;

    fn para(text: &str, page: u32) -> Paragraph {
        Paragraph {
            text: text.into(),
            page_start: page,
            page_end: page,
        }
    }

    fn run(paras: &[Paragraph], sizes: ChunkSizes) -> Vec<TextChunk> {
        chunk(
            paras.iter().map(|p| Section {
                paragraph: p,
                chapter: None,
            }),
            sizes,
        )
    }

    #[test]
    fn sentences_stay_whole_and_chunks_stay_under_max() {
        let text = "This is one sentence. ".repeat(100);
        let chunks = run(
            &[para(&text, 1)],
            ChunkSizes {
                target: 100,
                max: 150,
            },
        );
        assert!(chunks.len() > 10);
        for c in &chunks {
            assert!(c.char_count <= 150, "{}", c.char_count);
            assert_eq!(c.char_count, c.text.chars().count());
            assert!(
                c.text.starts_with("This") && c.text.ends_with("sentence."),
                "{:?}",
                c.text
            );
        }
    }

    #[test]
    fn an_overlong_sentence_is_cut_between_words() {
        let text = "word ".repeat(1000);
        let chunks = run(
            &[para(&text, 3)],
            ChunkSizes {
                target: 80,
                max: 100,
            },
        );
        for c in &chunks {
            assert!(c.char_count <= 100);
            assert!(c.text.split(' ').all(|w| w == "word"), "{:?}", c.text);
            assert_eq!((c.page_start, c.page_end), (3, 3));
        }
        let url = "x".repeat(250);
        let chunks = run(
            &[para(&url, 1)],
            ChunkSizes {
                target: 80,
                max: 100,
            },
        );
        assert_eq!(
            chunks.iter().map(|c| c.char_count).collect::<Vec<_>>(),
            [100, 100, 50]
        );
    }

    #[test]
    fn cjk_without_spaces_is_split_at_sentence_ends() {
        let text = "これは日本語の文章です。".repeat(50);
        let chunks = run(
            &[para(&text, 1)],
            ChunkSizes {
                target: 50,
                max: 60,
            },
        );
        assert!(chunks.len() > 5);
        for c in &chunks {
            assert!(c.char_count <= 60);
            assert!(
                c.text.ends_with('。') && !c.text.contains(' '),
                "{:?}",
                c.text
            );
        }
    }

    #[test]
    fn chapters_start_new_chunks_and_pages_are_tracked() {
        let a = para("First chapter text.", 1);
        let b = para("Still the first.", 2);
        let c = para("Second chapter.", 3);
        let chunks = chunk(
            [(&a, "One"), (&b, "One"), (&c, "Two")].map(|(p, ch)| Section {
                paragraph: p,
                chapter: Some(ch),
            }),
            ChunkSizes::default(),
        );
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].text, "First chapter text.\n\nStill the first.");
        assert_eq!((chunks[0].page_start, chunks[0].page_end), (1, 2));
        assert_eq!(chunks[1].chapter.as_deref(), Some("Two"));
    }
}
