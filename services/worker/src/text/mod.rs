//! Text for a voice: normalization and chunking, pure functions over extracted pages.

pub mod chunk;
mod furniture;
mod kinds;
pub mod language;
pub mod links;
mod marks;
pub mod normalize;

pub use chunk::{ChunkSizes, TextChunk};
pub use links::LinkSpeech;
pub use normalize::Paragraph;

/// Everything the text stage can be told: chunk and sentence sizes, and how
/// links are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextOptions {
    pub sizes: ChunkSizes,
    pub links: LinkSpeech,
}

impl From<ChunkSizes> for TextOptions {
    fn from(sizes: ChunkSizes) -> Self {
        Self {
            sizes,
            ..Self::default()
        }
    }
}

use serde::{Deserialize, Serialize};

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
    starts: Vec<(u32, String)>,
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

/// The whole text stage: pages → paragraphs → chunks with chapters.
pub fn chunk_book(
    pages: &[String],
    outline: &[OutlineEntry],
    options: impl Into<TextOptions>,
) -> Vec<TextChunk> {
    let TextOptions { sizes, links } = options.into();
    let chapters = Chapters::from_outline(outline);
    let paragraphs = normalize::normalize_book(pages, &chapters, links);
    chunk::chunk(
        paragraphs.iter().map(|p| chunk::Section {
            paragraph: p,
            chapter: chapters.at(p.page_start),
        }),
        sizes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, level: u32, page: u32) -> OutlineEntry {
        OutlineEntry {
            title: title.into(),
            level,
            page,
        }
    }

    #[test]
    fn chapters_come_from_the_shallowest_level_with_siblings() {
        let outline = [
            entry("The Book", 1, 1),
            entry("Intro", 2, 2),
            entry("1.1 Detail", 3, 3),
            entry("Usage", 2, 10),
        ];
        let chapters = Chapters::from_outline(&outline);
        assert_eq!(chapters.at(1), None);
        assert_eq!(chapters.at(2), Some("Intro"));
        assert_eq!(chapters.at(9), Some("Intro"));
        assert_eq!(chapters.at(50), Some("Usage"));
    }
}
