//! Extraction on hostile files: each ends as one book's error, never the worker's.
//! The fixtures are built here: a Flate bomb, a Form XObject that draws itself,
//! a book of endless drawing, and real books under tight page limits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shared_domain::BookErrorCode;
use worker::extract::{Extractor, Failure};

use crate::helpers::{BIN, corpus};

fn extractor(vars: &[(&str, &str)]) -> Extractor {
    let config = crate::helpers::pipeline_config(vars);
    Extractor::new(
        &config,
        PathBuf::from(BIN),
        Arc::new(tokio::sync::Semaphore::new(2)),
    )
}

async fn code_for(extractor: &Extractor, file: &Path) -> (BookErrorCode, String) {
    match extractor.extract(file, &|_, _| {}).await {
        Err(Failure::Book(e)) => (e.code, e.message),
        Err(e) => panic!("not a verdict on the file: {e}"),
        Ok(doc) => panic!("extracted {} pages with {}", doc.pages.len(), doc.engine),
    }
}

/// A PDF from object bodies (object n is `objects[n - 1]`), with a correct xref.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for o in offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .unwrap();
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut o = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    o.extend_from_slice(data);
    o.extend_from_slice(b"\nendstream");
    o
}

fn write_fixture(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const FONT: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

/// A 1 MiB file whose one page's content inflates to about 1 GiB.
fn flate_bomb() -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..16 {
        z.write_all(&block).unwrap();
    }
    let compressed = z.finish().unwrap();
    let contents: String = (0..64).map(|_| "4 0 R ").collect();
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents [{contents}] >>").into_bytes(),
        stream("/Filter /FlateDecode", &compressed),
        FONT.as_bytes().to_vec(),
    ])
}

/// 3,000 pages that all draw one content stream of 100,000 path operators: a
/// half-megabyte file that keeps either engine busy for minutes (and has no text).
fn slow_book() -> Vec<u8> {
    const PAGES: usize = 3000;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..100_000 {
        z.write_all(b"1 0 0 1 0.5 0.5 cm 0 0 m 10 10 l S\n")
            .unwrap();
    }
    let compressed = z.finish().unwrap();
    let kids: String = (0..PAGES).map(|i| format!("{} 0 R ", i + 5)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{kids}] /Count {PAGES} >>").into_bytes(),
        stream("/Filter /FlateDecode", &compressed),
        FONT.as_bytes().to_vec(),
    ];
    for _ in 0..PAGES {
        objects.push(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>".to_vec(),
        );
    }
    pdf(&objects)
}

/// A page that draws a Form XObject which draws itself, after some real text.
fn self_drawing_form() -> Vec<u8> {
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> /XObject << /X0 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        stream("", b"BT /F1 24 Tf 72 700 Td (Hello from a recursive page) Tj ET /X0 Do"),
        stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X0 5 0 R >> >>", b"/X0 Do"),
        FONT.as_bytes().to_vec(),
    ])
}

#[tokio::test]
async fn a_flate_bomb_is_too_large_not_a_dead_worker() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write_fixture(dir.path(), "bomb.pdf", &flate_bomb());
    assert!(
        std::fs::metadata(&bomb).unwrap().len() < 2 << 20,
        "a small file"
    );
    let only_pdf_extract = extractor(&[
        ("TEXT_ENGINES", "pdf-extract"),
        ("EXTRACT_MEMORY_MB", "256"),
    ]);
    let (code, message) = code_for(&only_pdf_extract, &bomb).await;
    assert_eq!(code, BookErrorCode::TooLarge, "{message}");
    // With the default engines poppler gets its turn too, under the same limits; the
    // book still fails with the first engine's reason (there is no text to find).
    let default = extractor(&[
        ("EXTRACT_MEMORY_MB", "256"),
        ("EXTRACT_TIMEOUT_SECONDS", "20"),
    ]);
    let (code, message) = code_for(&default, &bomb).await;
    assert!(
        matches!(
            code,
            BookErrorCode::TooLarge | BookErrorCode::ExtractionTimeout
        ),
        "{code}: {message}"
    );
}

#[tokio::test]
async fn a_form_that_draws_itself_crashes_only_the_child_and_poppler_reads_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path(), "recursive.pdf", &self_drawing_form());
    let (code, message) = code_for(&extractor(&[("TEXT_ENGINES", "pdf-extract")]), &file).await;
    assert_eq!(code, BookErrorCode::ExtractionFailed, "{message}");
    let doc = extractor(&[]).extract(&file, &|_, _| {}).await.unwrap();
    assert_eq!(doc.engine, "pdftotext");
    assert!(
        doc.pages[0].contains("Hello from a recursive page"),
        "{:?}",
        doc.pages
    );
}

#[tokio::test]
async fn a_book_over_the_time_limit_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path(), "slow.pdf", &slow_book());
    let slow = extractor(&[("EXTRACT_TIMEOUT_SECONDS", "1")]);
    let started = std::time::Instant::now();
    let (code, message) = code_for(&slow, &file).await;
    assert_eq!(code, BookErrorCode::ExtractionTimeout, "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the children were stopped at the limit"
    );
}

/// The same resource name for different fonts: /F1 is plain Helvetica on page 1
/// and in page 2's own text, but an encoding that draws code 65 ("A") as the glyph
/// "B" on page 2 and inside the form that page 3 draws.
fn one_name_two_fonts() -> Vec<u8> {
    let text = |s: &str| stream("", format!("BT /F1 24 Tf 72 700 Td ({s}) Tj ET").as_bytes());
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> >> /Contents 8 0 R >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 7 0 R >> >> /Contents 8 0 R >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 6 0 R >> /XObject << /X0 9 0 R >> >> /Contents 10 0 R >>".to_vec(),
        FONT.as_bytes().to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [65 /B] >> >>".to_vec(),
        text("AAA"),
        stream(
            "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 7 0 R >> >>",
            b"BT /F1 24 Tf 72 600 Td (AAA) Tj ET",
        ),
        stream("", b"BT /F1 24 Tf 72 700 Td (AAA) Tj ET /X0 Do"),
    ])
}

/// The vendored pdf-extract caches decoded fonts for the whole document; the cache
/// must follow the font object, not its per-page resource name.
#[tokio::test]
async fn fonts_are_decoded_by_object_not_by_resource_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path(), "fonts.pdf", &one_name_two_fonts());
    let doc = extractor(&[("TEXT_ENGINES", "pdf-extract")])
        .extract(&file, &|_, _| {})
        .await
        .unwrap();
    let pages: Vec<String> = doc
        .pages
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(pages, ["AAA", "BBB", "AAA BBB"], "{:?}", doc.pages);
}

#[tokio::test]
async fn a_book_over_the_page_limit_is_too_large() {
    let (code, message) = code_for(
        &extractor(&[("MAX_PAGES", "10")]),
        &corpus("rdoc_R-lang.pdf"),
    )
    .await;
    assert_eq!(code, BookErrorCode::TooLarge, "{message}");
    assert!(message.contains("69 pages"), "{message}");
}

#[tokio::test]
async fn progress_is_reported_page_by_page() {
    let seen = std::sync::Mutex::new(Vec::new());
    let doc = extractor(&[])
        .extract(&corpus("rdoc_R-lang.pdf"), &|done, total| {
            seen.lock().unwrap().push((done, total));
        })
        .await
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(doc.pages.len(), 69);
    assert_eq!(seen.last(), Some(&(69, 69)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "monotonic");
}

#[tokio::test]
async fn poppler_alone_reads_a_book_in_parallel_page_ranges_with_the_same_pages() {
    let file = corpus("rdoc_R-lang.pdf");
    let sharded = extractor(&[("TEXT_ENGINES", "pdftotext"), ("EXTRACT_PARALLELISM", "3")])
        .extract(&file, &|_, _| {})
        .await
        .unwrap();
    let single = extractor(&[("TEXT_ENGINES", "pdftotext"), ("EXTRACT_PARALLELISM", "1")])
        .extract(&file, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(sharded.engine, "pdftotext");
    assert_eq!(sharded.pages.len(), 69);
    assert_eq!(sharded.pages, single.pages);
}
