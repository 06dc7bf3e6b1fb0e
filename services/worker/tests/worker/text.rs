//! The normalizer and chunker on real extracted text (pdf-extract's own output of
//! corpus books): hyphenation, headers and footers, sentence boundaries, CJK, and
//! the maximum chunk size.

use std::path::PathBuf;
use std::sync::Arc;

use worker::extract::{Extracted, Extractor};
use worker::text::{ChunkSizes, TextChunk, chunk_pages, normalize::normalize};

use crate::helpers::{BIN, corpus};

async fn extract(file: &str) -> Extracted {
    extract_path(&corpus(file), "pdf-extract").await
}

async fn extract_path(path: &std::path::Path, engines: &str) -> Extracted {
    let config = crate::helpers::pipeline_config(&[("TEXT_ENGINES", engines)]);
    let extractor = Extractor::new(
        &config,
        PathBuf::from(BIN),
        Arc::new(tokio::sync::Semaphore::new(2)),
    );
    extractor.extract(path, &|_, _| {}).await.unwrap()
}

/// A PDF we typeset ourselves (`scripts/typeset-fixtures`, sources beside them).
fn typeset(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/typeset")
        .join(file)
}

/// The book's chunks as the pipeline makes them (layouts included).
fn chunks_of(doc: &Extracted, options: impl Into<worker::text::TextOptions>) -> Vec<TextChunk> {
    chunk_pages(&doc.pages, &doc.layouts, &doc.outline, options).chunks
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn words_hyphenated_at_line_ends_are_rejoined() {
    let doc = extract("rdoc_R-intro.pdf").await;
    let raw = doc.pages.join("\n");
    assert!(
        raw.contains("com-\nplicated"),
        "the raw text breaks the word"
    );
    let text = squash(
        &normalize(&doc.pages)
            .into_iter()
            .map(|p| p.text)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(text.contains("complicated"));
    assert!(!text.contains("com- plicated") && !text.contains("com-plicated"));
}

#[tokio::test]
async fn running_headers_footers_and_page_numbers_are_dropped() {
    let doc = extract("debref_en.pdf").await;
    let header_pages = doc
        .pages
        .iter()
        .filter(|p| p.contains("Debian Reference"))
        .count();
    assert!(
        header_pages > 200,
        "the raw text repeats the running title ({header_pages} pages)"
    );
    let paragraphs = normalize(&doc.pages);
    let left = paragraphs
        .iter()
        .filter(|p| p.text.contains("Debian Reference"))
        .count();
    assert!(left < 20, "{left} paragraphs still carry the running title");
    let bare_numbers = paragraphs
        .iter()
        .filter(|p| p.text.chars().all(|c| c.is_ascii_digit()))
        .count();
    assert_eq!(bare_numbers, 0, "no paragraph is just a page number");
}

#[tokio::test]
async fn chunks_end_at_sentence_ends_and_respect_the_maximum() {
    let doc = extract("debhist_en.pdf").await;
    let sizes = ChunkSizes {
        target: 400,
        max: 600,
        sentence: 250,
    };
    let chunks = chunks_of(&doc, sizes);
    assert!(chunks.len() > 20);
    let ends_sentence = chunks
        .iter()
        .filter(|c| c.text.trim_end().ends_with(['.', '!', '?', ':', ')', '"']))
        .count();
    assert!(
        ends_sentence * 10 >= chunks.len() * 6,
        "{ends_sentence} of {} chunks end a sentence",
        chunks.len()
    );
    for c in &chunks {
        assert!(c.char_count <= 600);
        assert!(c.page_start <= c.page_end);
        // Never inside a word: a chunk starts with a word's first letter.
        assert!(!c.text.starts_with(char::is_whitespace));
    }
    assert!(
        chunks.iter().any(|c| c.chapter.is_some()),
        "chapters from the outline"
    );
}

#[tokio::test]
async fn japanese_without_spaces_is_chunked_at_sentence_ends() {
    let doc = extract("debhist_ja.pdf").await;
    let chunks = chunks_of(
        &doc,
        ChunkSizes {
            target: 200,
            max: 300,
            sentence: 250,
        },
    );
    let japanese: Vec<_> = chunks.iter().filter(|c| c.text.contains('。')).collect();
    assert!(japanese.len() > 10);
    for c in &japanese {
        assert!(c.char_count <= 300);
    }
    let at_full_stop = japanese.iter().filter(|c| c.text.ends_with('。')).count();
    assert!(
        at_full_stop * 2 >= japanese.len(),
        "{at_full_stop} of {} end with 。",
        japanese.len()
    );
}

#[tokio::test]
async fn the_default_maximum_holds_over_a_2400_page_book() {
    let doc = extract("rdoc_fullrefman.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    assert!(chunks.len() > 5000);
    assert!(
        chunks
            .iter()
            .all(|c| c.char_count <= 1500 && c.char_count > 0)
    );
    assert!(
        chunks
            .windows(2)
            .all(|w| w[0].page_start <= w[1].page_start),
        "reading order"
    );
}

#[tokio::test]
async fn outline_entries_reached_through_named_destinations_make_chapters() {
    // InDesign's bookmarks are GoTo actions naming a destination in the /Names tree.
    let doc = extract("pypdf_issue-604_indesign.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let on = |page: u32| {
        chunks
            .iter()
            .find(|c| c.page_start == page)
            .and_then(|c| c.chapter.clone())
    };
    assert_eq!(on(8).as_deref(), Some("Nodule Evaluation (THYR-1)"));
    assert_eq!(on(12).as_deref(), Some("Papillary Carcinoma (PAP-1)"));
    assert_eq!(on(50).as_deref(), Some("Staging"));
    assert!(
        chunks
            .iter()
            .filter(|c| c.page_start >= 8)
            .all(|c| c.chapter.is_some()),
        "every chunk from the first bookmarked page on has a chapter"
    );
}

#[tokio::test]
async fn every_top_level_outline_entry_starts_its_chapter() {
    // lopdf's reader lost the entry of page 30, so pages 30-31 were labelled with
    // the previous chapter.
    let doc = extract("pkgtut_zh_CN.pdf").await;
    let titles: Vec<(u32, &str)> = doc
        .outline
        .iter()
        .filter(|e| e.level == 1)
        .map(|e| (e.page, e.title.as_str()))
        .collect();
    // The same list as pypdf's reader gives.
    assert_eq!(
        titles,
        [
            (4, "介绍"),
            (11, "创建源码包"),
            (27, "构建与测试软件包"),
            (30, "实操练习环节1：修改grep软件包"),
            (32, "进阶打包知识"),
            (41, "维护Debian软件包"),
            (57, "结论"),
            (61, "更多实操练习环节"),
            (67, "实操练习环节解答"),
            (90, "翻译"),
        ]
    );
}

/// The spoken sentences of a chunk, from its recorded starts.
fn sentences_of(chunk: &TextChunk) -> Vec<String> {
    let chars: Vec<char> = chunk.text.chars().collect();
    let starts: Vec<usize> = chunk.sentence_starts.iter().map(|s| *s as usize).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, start)| {
            let end = starts.get(i + 1).copied().unwrap_or(chars.len());
            chars[*start..end]
                .iter()
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn contents_and_index_pages_are_kept_but_out_of_the_reading_flow() {
    use shared_domain::domain::ChunkKind;
    let doc = extract("rdoc_R-intro.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let kind_on = |page: u32| {
        chunks
            .iter()
            .filter(|c| c.page_start <= page && page <= c.page_end)
            .map(|c| c.kind)
            .collect::<Vec<_>>()
    };
    // Title and copyright (pages 1-2), "Table of Contents" (3-6), the Preface (7).
    assert_eq!(kind_on(1), [ChunkKind::FrontMatter]);
    assert!(
        kind_on(4).iter().all(|k| *k == ChunkKind::Contents),
        "{:?}",
        kind_on(4)
    );
    let body: Vec<_> = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Body)
        .collect();
    assert!(body[0].text.starts_with("Preface."), "{}", body[0].text);
    // "Appendix D Function and variable index" (page 108 on) is an index.
    assert!(
        kind_on(109).iter().all(|k| *k == ChunkKind::Index),
        "{:?}",
        kind_on(109)
    );
    // Nothing of either is lost, and the body reads no leader dots.
    let all = squash(
        &chunks
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    assert!(all.contains("1.1 The R environment . . ."), "contents kept");
    assert!(all.contains("%*% . . ."), "index kept");
    assert!(
        body.iter().all(|c| !c.text.contains(". . . . .")),
        "{:?}",
        body.iter().find(|c| c.text.contains(". . . . ."))
    );
    // Chapter 1 is body, and so is the page the index follows.
    assert!(kind_on(8).contains(&ChunkKind::Body));
    assert!(kind_on(100).contains(&ChunkKind::Body));
}

#[tokio::test]
async fn sentences_are_within_the_maximum_and_speakable() {
    // pypdf_issue-604 had 424 sentences over 250 characters; R-intro 97.
    for file in [
        "pypdf_issue-604_indesign.pdf",
        "rdoc_R-intro.pdf",
        "debhist_en.pdf",
    ] {
        let doc = extract(file).await;
        let chunks = chunks_of(&doc, ChunkSizes::default());
        for chunk in &chunks {
            let sentences = sentences_of(chunk);
            assert_eq!(chunk.sentence_starts[0], 0);
            for s in &sentences {
                assert!(s.chars().count() <= 250, "{file}: {s:?}");
                assert!(
                    !s.is_empty(),
                    "{file}: an empty sentence in {:?}",
                    chunk.text
                );
                assert!(
                    !s.starts_with(unicode_normalization::char::is_combining_mark),
                    "{file}: {s:?}"
                );
            }
            // The sentences are the chunk, in order, nothing added or lost.
            assert_eq!(squash(&sentences.join(" ")), squash(&chunk.text), "{file}");
        }
    }
    // R-intro page 7 thanks "Fran ̧cois Pinard" as TeX drew the cedilla.
    let doc = extract("rdoc_R-intro.pdf").await;
    let text = chunks_of(&doc, ChunkSizes::default())
        .iter()
        .map(|c| c.text.clone())
        .collect::<String>();
    assert!(text.contains("François Pinard"));
}

#[tokio::test]
async fn addresses_are_spoken_as_their_site() {
    // debhist_en.pdf page 2 lists its contributors with their e-mail addresses.
    let doc = extract("debhist_en.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let text = chunks
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!text.contains("jfs@debian.org"));
    assert!(
        text.contains("Javier Fernández-Sanguino debian.org"),
        "{}",
        &text[..2000.min(text.len())]
    );
    assert!(!text.contains("http://") && !text.contains("https://"));
    let omitted = chunks_of(
        &doc,
        worker::text::TextOptions {
            links: worker::text::LinkSpeech::Omit,
            ..Default::default()
        },
    );
    let text = omitted
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("• Javier Fernández-Sanguino\n")
            || text.contains("• Javier Fernández-Sanguino."),
        "{}",
        &text[..2000.min(text.len())]
    );
    assert!(
        !text.contains("@debian.org") && !text.contains("www."),
        "no address left"
    );
}

#[tokio::test]
async fn footnotes_and_code_leave_the_reading_flow_labelled() {
    use shared_domain::domain::ChunkKind;
    let doc = extract("rdoc_R-intro.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let body = text_of_kind(&chunks, ChunkKind::Body);
    let of_kind = |kind| text_of_kind(&chunks, kind);
    // Page 11: the superscript mark goes from the sentence, its note to `notes`.
    assert!(
        body.contains("alphanumeric symbols are allowed (and in some countries"),
        "mark gone"
    );
    assert!(!body.contains("allowed1"));
    assert!(
        !body.contains("For portable R code"),
        "the footnote is not read mid-text"
    );
    assert!(
        of_kind(ChunkKind::Notes)
            .contains("For portable R code (including that to be used in R packages)")
    );
    // Page 10: "> help(solve)" is code, announced, and kept.
    assert!(
        body.contains("for example solve, the command is: a code example."),
        "announced"
    );
    assert!(of_kind(ChunkKind::Code).contains("> help(solve)"));
    assert!(!body.contains("> help(solve)"));
    // Code keeps its lines.
    assert!(
        chunks
            .iter()
            .any(|c| c.kind == ChunkKind::Code && c.text == "$ mkdir work\n$ cd work")
    );
}

#[tokio::test]
async fn a_book_read_by_pdftotext_keeps_its_outline() {
    let config = crate::helpers::pipeline_config(&[("TEXT_ENGINES", "pdftotext")]);
    let extractor = Extractor::new(
        &config,
        PathBuf::from(BIN),
        Arc::new(tokio::sync::Semaphore::new(2)),
    );
    let doc = extractor
        .extract(&corpus("rdoc_R-intro.pdf"), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(doc.engine, "pdftotext");
    assert!(
        doc.outline.iter().any(|e| e.title == "Preface"),
        "{:?}",
        doc.outline
    );
    let chunks = chunks_of(&doc, ChunkSizes::default());
    assert!(
        chunks
            .iter()
            .any(|c| c.chapter.as_deref() == Some("1 Introduction and preliminaries"))
    );
}

#[tokio::test]
async fn a_table_is_announced_and_kept() {
    use shared_domain::domain::ChunkKind;
    // debref_en.pdf page 47: "Table 1.13: List of shell programs".
    let doc = extract("debref_en.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let table = chunks
        .iter()
        .position(|c| {
            c.kind == ChunkKind::Table && c.text.contains("zsh V:37, I:73 2436 Yes Z shell")
        })
        .expect("the shells table is a table");
    assert!(
        chunks[table].text.lines().count() >= 3,
        "rows kept as lines"
    );
    let before = chunks[..table]
        .iter()
        .rev()
        .find(|c| c.kind == ChunkKind::Body)
        .expect("body before it");
    assert!(
        before.text.ends_with("A table.") || before.text.ends_with(": a table."),
        "{}",
        before.text
    );
    let body = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Body)
        .map(|c| c.text.as_str())
        .collect::<String>();
    assert!(!body.contains("zsh V:37"));
    assert!(
        body.contains("Table 1.13: List of shell programs."),
        "the caption is read"
    );
}

#[tokio::test]
async fn display_formulas_are_announced_and_kept_and_bold_headings_pause() {
    use shared_domain::domain::ChunkKind;
    // revtex_apssamp.pdf page 6: "Note the equation number in an appendix:" then
    // "E = mc2. (B1)" set in math fonts; "Appendix B: A little more on appendixes"
    // is a bold heading in the text's own size.
    let doc = extract("revtex_apssamp.pdf").await;
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let body = text_of_kind(&chunks, ChunkKind::Body);
    assert!(
        body.contains("Note the equation number in an appendix: a formula."),
        "announced"
    );
    assert!(!body.contains("E = mc2"), "not read");
    assert!(
        chunks
            .iter()
            .any(|c| c.kind == ChunkKind::Formula && c.text.contains("E = mc2. (B1)")),
        "kept, labelled"
    );
    // Page 3: the pieces of a fraction are one formula, not words in the flow.
    assert!(!body.contains("px + ipy"));
    let heading = chunks
        .iter()
        .flat_map(sentences_of)
        .find(|s| s.starts_with("Appendix B"))
        .expect("the appendix heading is a sentence of its own");
    assert_eq!(heading, "Appendix B: A little more on appendixes.");
}

fn text_of_kind(chunks: &[TextChunk], kind: shared_domain::domain::ChunkKind) -> String {
    chunks
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| squash(&c.text))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_typeset_book_reads_as_a_careful_reader_would() {
    use shared_domain::domain::ChunkKind;
    // book.tex: twenty chapters of two or three pages, the book's title at the top
    // of left-hand pages and the chapter's at the top of right-hand ones, page
    // numbers outside; footnotes, a formula, bold headings, contents and index.
    let doc = extract_path(&typeset("book.pdf"), "pdf-extract").await;
    assert_eq!(doc.engine, "pdf-extract");
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let body = text_of_kind(&chunks, ChunkKind::Body);
    // Running heads: the book's title is read once, on the title page (front
    // matter), and each chapter's title once, where the chapter starts.
    assert!(
        !body.contains("Lighthouse Keeper"),
        "left-hand running head"
    );
    assert!(text_of_kind(&chunks, ChunkKind::FrontMatter).contains("The Lighthouse Keeper"));
    let titles: Vec<&str> = doc.outline.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles.len(), 20, "{titles:?}");
    // The outline spells "The Inspector's Visit" with a straight apostrophe.
    let body = body.replace('’', "'");
    for (n, title) in titles.iter().enumerate() {
        let heading = format!("Chapter {}. {title}.", n + 1);
        assert_eq!(body.matches(&heading).count(), 1, "{heading}");
        assert_eq!(
            body.matches(title).count(),
            1,
            "{title} read as a running head"
        );
    }
    // Page numbers: no sentence is a bare number.
    for sentence in chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Body)
        .flat_map(sentences_of)
    {
        assert!(
            !sentence
                .trim_end_matches('.')
                .chars()
                .all(|c| c.is_ascii_digit()),
            "{sentence:?}"
        );
    }
    // Footnotes (page 7): the mark leaves the sentence, the note goes to `notes`.
    assert!(body.contains("by the wick."), "mark gone");
    assert!(!body.contains("trimmed square"));
    assert!(
        text_of_kind(&chunks, ChunkKind::Notes)
            .contains("The wicks were trimmed square, as the board’s manual required")
    );
    // Contents and index are kept, out of the reading flow.
    assert!(text_of_kind(&chunks, ChunkKind::Contents).contains("4 The Week of Storms"));
    assert!(text_of_kind(&chunks, ChunkKind::Index).contains("foghorn, 11, 23, 35"));
    assert!(!body.contains("foghorn, 11"));
    // The formula (page 18) is announced and kept.
    assert!(body.contains("follows from the height of the lamp: a formula."));
    assert!(text_of_kind(&chunks, ChunkKind::Formula).contains("√2Rh"));
    assert!(body.contains("where the radius of the earth is written"));
    // A bold heading in the text's size is a sentence of its own.
    assert!(
        chunks
            .iter()
            .flat_map(sentences_of)
            .any(|s| s == "What the inspector wrote down.")
    );
    // Chapters start at their label, and every body chunk has one.
    for chunk in chunks.iter().filter(|c| c.kind == ChunkKind::Body) {
        let chapter = chunk.chapter.as_deref().expect("a chapter");
        if let Some(at) = chunk.text.find("Chapter 4. ") {
            assert!(at == 0, "a chapter starts its chunk: {}", chunk.text);
            assert_eq!(chapter, "The Week of Storms");
        }
    }
}

#[tokio::test]
async fn without_an_outline_chapters_come_from_the_chapter_headings() {
    use shared_domain::domain::ChunkKind;
    // The same book without hyperref: no outline, and bold section headings
    // ("What the inspector wrote down") that are not chapters.
    let doc = extract_path(&typeset("book-no-outline.pdf"), "pdf-extract").await;
    assert!(doc.outline.is_empty());
    let chunks = chunks_of(&doc, ChunkSizes::default());
    let mut chapters: Vec<&str> = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::Body)
        .filter_map(|c| c.chapter.as_deref())
        .collect();
    chapters.dedup();
    assert_eq!(chapters.len(), 20, "{chapters:?}");
    assert_eq!(chapters[0], "Chapter 1. The North Stair");
    assert_eq!(chapters[19], "Chapter 20. The Last Cask");
}

#[tokio::test]
async fn right_to_left_paragraphs_are_read_in_order() {
    // hebrew.tex, set by XeTeX: two Hebrew paragraphs between English ones.
    let doc = extract_path(&typeset("hebrew.pdf"), "pdf-extract,pdftotext").await;
    let text = chunk_pages(
        &doc.pages,
        &doc.layouts,
        &doc.outline,
        ChunkSizes::default(),
    );
    let body = text
        .chunks
        .iter()
        .map(|c| squash(&c.text))
        .collect::<Vec<_>>()
        .join(" ");
    for sentence in [
        "המגדלור עומד על הצוק מעל הנמל כבר מאה שנה. השומר עולה במדרגות בכל ערב",
        "היא סופרת את האורות על המים ורושמת בספר את שעת המעבר של כל ספינה.",
    ] {
        assert!(body.contains(sentence), "{sentence} in {body}");
    }
    assert!(body.ends_with("The last paragraph is in English again."));
}
