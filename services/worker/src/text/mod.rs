//! Text for a voice: normalization and chunking, pure functions over extracted pages.

pub mod chunk;
mod furniture;
mod kinds;
pub mod language;
pub mod layout;
pub mod links;
mod marks;
pub mod normalize;

pub use chunk::{ChunkSizes, TextChunk};
pub use links::LinkSpeech;
pub use normalize::Paragraph;

mod chapters;

pub use chapters::{Chapters, OutlineEntry};

/// Everything the text stage can be told: chunk and sentence sizes, how links
/// are read, and where footnotes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextOptions {
    pub sizes: ChunkSizes,
    pub links: LinkSpeech,
    pub notes: NoteSpeech,
}

/// Where footnotes are read (`NOTES_SPOKEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoteSpeech {
    /// Kept apart as `notes` chunks, out of the reading flow.
    #[default]
    Apart,
    /// Read in the flow, after the paragraph they belong to ("Note: …").
    Inline,
}

impl std::str::FromStr for NoteSpeech {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "apart" => Ok(Self::Apart),
            "inline" => Ok(Self::Inline),
            _ => Err("must be `apart` or `inline`".to_owned()),
        }
    }
}

impl From<ChunkSizes> for TextOptions {
    fn from(sizes: ChunkSizes) -> Self {
        Self {
            sizes,
            ..Self::default()
        }
    }
}

/// A book's text, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookText {
    pub chunks: Vec<TextChunk>,
    /// BCP 47 primary tag of the body's language, when the text says.
    pub language: Option<&'static str>,
}

/// The whole text stage without a layout: pages → paragraphs → chunks with chapters.
pub fn chunk_book(
    pages: &[String],
    outline: &[OutlineEntry],
    options: impl Into<TextOptions>,
) -> Vec<TextChunk> {
    chunk_pages(pages, &[], outline, options).chunks
}

/// The whole text stage: pages (with their layouts where the engine gave them)
/// → paragraphs → chunks with kinds, sentences and chapters, and the language.
pub fn chunk_pages(
    pages: &[String],
    layouts: &[Option<layout::PageLayout>],
    outline: &[OutlineEntry],
    options: impl Into<TextOptions>,
) -> BookText {
    let options = options.into();
    let chapters = Chapters::from_outline(outline);
    let paragraphs = normalize::normalize_book(pages, layouts, &chapters, options.links);
    finish_book(paragraphs, chapters, pages.len(), options)
}

/// The text stage for a structured book (an EPUB): paragraphs with their kinds
/// and headings as the document marks them, each "page" a spine document.
pub fn chunk_structured(
    paragraphs: Vec<Paragraph>,
    pages: usize,
    outline: &[OutlineEntry],
    options: impl Into<TextOptions>,
) -> BookText {
    let options = options.into();
    let paragraphs = normalize::structured_paragraphs(paragraphs, options.links);
    finish_book(paragraphs, Chapters::from_outline(outline), pages, options)
}

/// Chapters (from the headings when there is no outline), the language,
/// placeholders, notes, and the chunks.
fn finish_book(
    mut paragraphs: Vec<Paragraph>,
    mut chapters: Chapters,
    pages: usize,
    TextOptions { sizes, notes, .. }: TextOptions,
) -> BookText {
    if chapters.starts.is_empty() {
        chapters = Chapters::from_headings(&paragraphs, pages);
    }
    let language = language::detect(&paragraphs);
    placeholders(&mut paragraphs, language);
    if notes == NoteSpeech::Inline {
        notes_inline(&mut paragraphs, language);
    }
    let mut labels = chapters.assign(&paragraphs);
    label_the_opening(&paragraphs, &mut labels);
    let chunks = chunk::chunk(
        paragraphs
            .iter()
            .zip(labels)
            .map(|(paragraph, chapter)| chunk::Section { paragraph, chapter }),
        sizes,
    );
    BookText { chunks, language }
}

/// The body before the first chapter (an abstract, a preface the outline does not
/// list, a title above the first heading) is in no chapter of the outline, but a
/// listener still goes to it by a name: each heading there names the part it
/// opens ("Abstract"); a first line shaped like a title ("Parallel columns in two
/// languages") names what follows it; and what is still unnamed on the first
/// chapter's own page (a version line above its heading) belongs to that chapter.
/// A list of names set large ("Ann Author a,b, Bo Writer c") names nothing.
fn label_the_opening<'a>(paragraphs: &'a [Paragraph], labels: &mut [Option<&'a str>]) {
    use shared_domain::domain::ChunkKind;
    let first_chapter = labels
        .iter()
        .position(Option::is_some)
        .unwrap_or(labels.len());
    let mut current: Option<&str> = None;
    let mut first_body = true;
    for (paragraph, label) in paragraphs.iter().zip(labels.iter_mut()).take(first_chapter) {
        if paragraph.kind != ChunkKind::Body {
            continue;
        }
        let title = paragraph.text.trim().trim_end_matches('.');
        let names = title.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && title.chars().count() <= 100
            && title.matches(',').count() < 2;
        let title_shaped = first_body
            && names
            && title.split_whitespace().count() <= 12
            && !title.contains([':', ';', '?', '!'])
            && !title.contains(". ");
        if (paragraph.heading && names) || title_shaped {
            current = Some(title);
        }
        first_body = false;
        *label = current;
    }
    let Some((chapter, page)) = labels
        .get(first_chapter)
        .zip(paragraphs.get(first_chapter))
        .map(|(label, p)| (*label, p.page_start))
    else {
        return;
    };
    for (paragraph, label) in paragraphs.iter().zip(labels.iter_mut()).take(first_chapter) {
        if label.is_none() && paragraph.kind == ChunkKind::Body && paragraph.page_start == page {
            *label = chapter;
        }
    }
}

/// Footnotes read in the flow: each after the paragraph it follows (a note's page
/// ends with its notes, after the paragraph that page's text ends with), its mark
/// replaced by "Note:" in the book's language.
fn notes_inline(paragraphs: &mut [Paragraph], language: Option<&str>) {
    let lead = match language {
        Some("en") => "Note:",
        Some("de") => "Anmerkung:",
        Some("fr") => "Note :",
        Some("es" | "it" | "pt") => "Nota:",
        Some("nl") => "Noot:",
        Some("ru") => "Примечание:",
        Some("ja" | "zh") => "注：",
        Some("ko") => "주:",
        _ => "",
    };
    for p in paragraphs
        .iter_mut()
        .filter(|p| p.kind == shared_domain::domain::ChunkKind::Notes)
    {
        let text = p.text.trim_start();
        let mut mark_end = text
            .find(|c: char| !(c.is_ascii_digit() || "*†‡§¶".contains(c)))
            .unwrap_or(0);
        // A letter mark ("a Department of Physics"): one letter, then a space.
        let mut chars = text.chars();
        if mark_end == 0
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.next() == Some(' ')
        {
            mark_end = 1;
        }
        let rest = text[mark_end..].trim_start_matches(['.', ')']).trim_start();
        p.text = if lead.is_empty() {
            rest.to_owned()
        } else {
            format!("{lead} {rest}")
        };
        p.kind = shared_domain::domain::ChunkKind::Body;
    }
}

/// Before each run of code, each table and each formula, a short sentence in the
/// book's language tells the listener what the reading flow leaves out (the
/// original is kept, labelled `code`, `table` or `formula`). In a language without a wording here, the gap
/// goes unannounced.
fn placeholders(paragraphs: &mut Vec<Paragraph>, language: Option<&str>) {
    use shared_domain::domain::ChunkKind;
    let wording = |kind: ChunkKind| -> Option<&'static str> {
        // Code, a table, a formula.
        let words: [&'static str; 3] = match language? {
            "en" => ["A code example.", "A table.", "A formula."],
            "de" => ["Ein Codebeispiel.", "Eine Tabelle.", "Eine Formel."],
            "fr" => ["Un exemple de code.", "Un tableau.", "Une formule."],
            "es" => ["Un ejemplo de código.", "Una tabla.", "Una fórmula."],
            "it" => ["Un esempio di codice.", "Una tabella.", "Una formula."],
            "pt" => ["Um exemplo de código.", "Uma tabela.", "Uma fórmula."],
            "nl" => ["Een codevoorbeeld.", "Een tabel.", "Een formule."],
            "ru" => ["Пример кода.", "Таблица.", "Формула."],
            "ja" => ["コード例。", "表。", "数式。"],
            "zh" => ["代码示例。", "表格。", "公式。"],
            "ko" => ["코드 예제.", "표.", "수식."],
            _ => return None,
        };
        match kind {
            ChunkKind::Code => Some(words[0]),
            ChunkKind::Table => Some(words[1]),
            ChunkKind::Formula => Some(words[2]),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(paragraphs.len());
    let mut in_run: Option<ChunkKind> = None;
    for p in paragraphs.drain(..) {
        match p.kind {
            kind @ (ChunkKind::Code | ChunkKind::Table | ChunkKind::Formula)
                if in_run != Some(kind) =>
            {
                in_run = Some(kind);
                let Some(wording) = wording(kind) else {
                    out.push(p);
                    continue;
                };
                // "the command is" + code reads "the command is: a code example."
                let lead_in = out.last_mut().filter(|prev: &&mut Paragraph| {
                    prev.kind == ChunkKind::Body
                        && !prev.heading
                        && prev
                            .text
                            .chars()
                            .last()
                            .is_some_and(|c| c.is_alphanumeric() || c == ':')
                });
                match lead_in {
                    Some(prev) => {
                        let mut inline = wording.chars();
                        let first = inline.next().map(|c| c.to_lowercase().to_string());
                        prev.text = format!(
                            "{}: {}{}",
                            prev.text.trim_end_matches(':'),
                            first.unwrap_or_default(),
                            inline.as_str()
                        );
                    }
                    None => out.push(Paragraph {
                        text: wording.to_owned(),
                        kind: ChunkKind::Body,
                        heading: false,
                        ..p.clone()
                    }),
                }
            }
            ChunkKind::Code | ChunkKind::Table | ChunkKind::Formula | ChunkKind::Notes => {}
            _ => in_run = None,
        }
        out.push(p);
    }
    *paragraphs = out;
}

#[cfg(test)]
mod tests;
