//! EPUB books through the real API and the real worker: pandoc's EPUB 3 and
//! EPUB 2 and Debian's Sphinx-built guides end `ready` with their chapters in
//! order and their notes apart; every hostile or broken archive fails with its
//! own code, and the worker lives on.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Stack, corpus, text_of};

/// An EPUB made by `scripts/epub-fixtures` (its sources beside it).
fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/epub")
        .join(file)
}

fn of_kind<'a>(chunks: &'a [Value], kind: &str) -> Vec<&'a Value> {
    chunks.iter().filter(|c| c["kind"] == kind).collect()
}

/// The text of the chunks of one kind, joined.
fn text_of_kind(chunks: &[Value], kind: &str) -> String {
    text_of(
        &of_kind(chunks, kind)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>(),
    )
}

/// The chapters of the reading flow, each once, in the order they are heard.
fn chapters_heard(chunks: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in of_kind(chunks, "body") {
        if let Some(chapter) = c["chapter"].as_str()
            && out.last().is_none_or(|last| last != chapter)
        {
            out.push(chapter.to_owned());
        }
    }
    out
}

#[tokio::test]
async fn epub_books_end_ready_with_chapters_in_order_and_notes_apart() {
    let stack = Stack::new().await;
    let _worker = stack.spawn_worker(&[]).await;
    let books = [
        ("book3.epub", fixture("book3.epub")),
        ("book2.epub", fixture("book2.epub")),
        ("font-obfuscated.epub", fixture("font-obfuscated.epub")),
    ];
    let mut ids = Vec::new();
    for (name, path) in &books {
        ids.push((*name, stack.upload(path).await));
    }
    for (name, book) in &ids {
        let status = stack.settled(book, Duration::from_secs(120)).await;
        assert_eq!(status["status"], "ready", "{name}: {status}");
        assert_eq!(status["text_engine"], "epub", "{name}");
        assert_eq!(status["language"], "en", "{name}");
        // The title page, then one document per chapter: three "pages".
        assert_eq!(status["page_count"], 3, "{name}");
        let chunks = stack.chunks(book).await;
        let heard = chapters_heard(&chunks);
        assert!(
            heard.ends_with(&["The Storm".to_owned(), "The Morning After".to_owned()]),
            "{name}: {heard:?}"
        );
        let body = text_of_kind(&chunks, "body");
        assert!(
            body.contains(
                "The keeper climbed the stairs as the wind rose over the bay. He had counted them"
            ),
            "{name}: the note's mark is gone from the sentence: {body}"
        );
        assert!(
            body.contains("A code example.") && body.contains("A table."),
            "{name}: {body}"
        );
        for note in [
            "The wind in that bay comes from the west in every season.",
            "Herring gulls, mostly, and one old black-backed gull.",
        ] {
            assert!(!body.contains(note), "{name}: a note in the reading flow");
            let notes = text_of_kind(&chunks, "notes");
            assert!(notes.contains(note), "{name}: {notes}");
        }
        let code = text_of_kind(&chunks, "code");
        assert!(code.contains("keeper --log \"calm\""), "{name}: {code}");
        let table = text_of_kind(&chunks, "table");
        assert!(table.contains("9 | breeze"), "{name}: {table}");
        for c in &chunks {
            let (start, end) = (c["page_start"].as_i64(), c["page_end"].as_i64());
            assert!(
                start.is_some_and(|s| (1..=3).contains(&s)) && end >= start,
                "{name}: pages are spine positions: {c}"
            );
        }
    }
}

#[tokio::test]
async fn the_corpus_epubs_are_read_in_spine_order_with_their_navigation() {
    let stack = Stack::new().await;
    let _worker = stack.spawn_worker(&[]).await;
    let files = [
        ("pkgguide_en.epub", "Getting Set Up", "en"),
        ("pkgguide_de.epub", "Die Programme einrichten", "de"),
        ("pkgguide_ru.epub", "Подготовка", "ru"),
    ];
    let mut ids = Vec::new();
    for (file, _, _) in &files {
        ids.push(stack.upload(&corpus(file)).await);
    }
    for ((file, chapter, language), book) in files.iter().zip(&ids) {
        let status = stack.settled(book, Duration::from_secs(120)).await;
        assert_eq!(status["status"], "ready", "{file}: {status}");
        assert_eq!(status["language"], *language, "{file}");
        // The guide's 17 linear documents; its other languages' copies are
        // outside the spine's reading order ("linear=no") and not read.
        assert_eq!(status["page_count"], 17, "{file}");
        let chunks = stack.chunks(book).await;
        let heard = chapters_heard(&chunks);
        // Every document is a chapter of the navigation (its links miss their
        // folder; they are found by file name), heard once each, in spine order.
        assert!(heard.len() >= 15, "{file}: {heard:?}");
        let mut sorted = heard.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            heard.len(),
            "{file}: a chapter comes back: {heard:?}"
        );
        assert!(heard.iter().any(|h| h == chapter), "{file}: {heard:?}");
        let body = of_kind(&chunks, "body");
        assert!(
            body.iter().all(|c| c["chapter"].is_string()),
            "{file}: every chunk of the reading flow has its chapter"
        );
        let pages: Vec<i64> = body
            .iter()
            .filter_map(|c| c["page_start"].as_i64())
            .collect();
        assert!(
            pages.windows(2).all(|w| w[0] <= w[1]),
            "{file}: spine order"
        );
        // Sphinx's navigation bar is not read; its footer is kept apart.
        let text = text_of(&body.into_iter().cloned().collect::<Vec<_>>());
        assert!(!text.contains("Created using Sphinx"), "{file}");
        assert!(!of_kind(&chunks, "back_matter").is_empty(), "{file}");
    }
}

#[tokio::test]
async fn hostile_and_broken_epubs_fail_with_their_own_codes() {
    let stack = Stack::new().await;
    let worker = stack.spawn_worker(&[]).await;
    let cases = [
        ("drm.epub", "drm_protected"),
        ("traversal.epub", "unsafe_epub"),
        ("absolute.epub", "unsafe_epub"),
        ("laughs.epub", "unsafe_epub"),
        ("bomb.epub", "too_large"),
        ("no-package.epub", "invalid_epub"),
        ("broken-package.epub", "invalid_epub"),
    ];
    let mut ids = Vec::new();
    for (file, _) in &cases {
        ids.push(stack.upload(&fixture(file)).await);
    }
    for ((file, code), book) in cases.iter().zip(&ids) {
        let status = stack.settled(book, Duration::from_secs(120)).await;
        assert_eq!(status["status"], "failed", "{file}: {status}");
        assert_eq!(status["error"]["code"], *code, "{file}: {status}");
        let message = status["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{file}: the admin is told why");
        // A book's file that cannot be read never takes retries.
        assert_eq!(stack.job(book).await["attempts"], 1, "{file}");
    }
    assert_eq!(worker.health().await["status"], "ok");
}
