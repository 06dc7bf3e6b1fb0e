//! Text for a voice: normalization and chunking, pure functions over extracted pages.

pub mod chunk;
mod furniture;
mod marks;
pub mod normalize;

pub use chunk::{ChunkSizes, TextChunk};
pub use normalize::Paragraph;

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
pub fn chunk_book(pages: &[String], outline: &[OutlineEntry], sizes: ChunkSizes) -> Vec<TextChunk> {
    let paragraphs = normalize::normalize(pages);
    let chapters = Chapters::from_outline(outline);
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
