//! Every file of the shared corpus through the real API and the real worker: each
//! ends `ready` with a phrase known to be in it (non-Latin scripts checked in their
//! own script, in reading order), or `failed` with the code expected for it, or is
//! refused at upload; and the worker is still alive and healthy afterwards.

use std::time::Duration;

use crate::helpers::{Stack, corpus, text_of};

enum Expect {
    /// Ready, and the text holds every phrase (whitespace-insensitive).
    Ready(&'static [&'static str]),
    Failed(&'static str),
    /// The API refuses the upload (neither a PDF nor an EPUB by its content).
    Refused,
}

use Expect::{Failed, Ready, Refused};

const EXPECTATIONS: &[(&str, Expect)] = &[
    ("rdoc_R-intro.pdf", Ready(&["Writing your own functions"])),
    (
        "rdoc_R-lang.pdf",
        Ready(&["The system function mean is just such a function"]),
    ),
    (
        "rdoc_fullrefman.pdf",
        Ready(&["Create a Unit Describing the Width of a Grob"]),
    ),
    ("debref_en.pdf", Ready(&["Linux Networking-concepts HOWTO"])),
    ("debhist_en.pdf", Ready(&["A Brief History of Debian"])),
    (
        "pypdf_issue-604_indesign.pdf",
        Ready(&["Annual Meeting described improved results using the Afirma"]),
    ),
    (
        "ansible_intersight_labguide.pdf",
        Ready(&["View and Customize Server Inventory"]),
    ),
    (
        "simh_altairz80_doc.pdf",
        Ready(&["shows online volumes in the Filer"]),
    ),
    ("revtex_apssamp.pdf", Ready(&["This line break forced"])),
    (
        "eledpar_columns_langs.pdf",
        Ready(&["Parallel columns in two different languages"]),
    ),
    ("gofpdf_multicolumn.pdf", Ready(&["THE PROS AND CONS"])),
    (
        "pdfparse_04-valid_quark.pdf",
        // The title as the article prints it; "Effect of speed exercise on NO in
        // footballers" is only its running foot, which is not read.
        Ready(&["Acute effect of speed exercise on nitric oxide (NO) level of footballers"]),
    ),
    (
        "debhist_ja.pdf",
        Ready(&["ファイルフォーマットへの変換や別の言語への翻訳も含む"]),
    ),
    ("debhist_ko.pdf", Ready(&["간단한데비안역사", "무엇인가"])),
    ("debref_zh-cn.pdf", Ready(&["系统安装后的用户指南"])),
    // pdf-extract drops these characters (fonts without a Unicode map); poppler keeps them.
    (
        "pkgtut_zh_CN.pdf",
        Ready(&["几种为 Debian 做贡献的方式", "创建你自己的软件包"]),
    ),
    // Persian in logical order (pdf-extract alone writes it reversed).
    (
        "alpha-persian_userguide.pdf",
        Ready(&["همریخت و بروریخت در حلقهها", "انتشارات دل آهنگ"]),
    ),
    ("cups_form_russian.pdf", Ready(&["ИНФОРМАЦИЯ О ЗАДАНИИ"])),
    (
        "gofpdf_codepage.pdf",
        Ready(&["present in the specified code page"]),
    ),
    (
        "pypdf_multilang.pdf",
        Ready(&["مرحبا بالعالم", "Привет, мир", "こんにちは世界"]),
    ),
    // Scans: no text layer, read by OCR (Tesseract), each phrase seen in the image.
    (
        "ocr_linn_2col_scan.pdf",
        Ready(&["The LinnSequencer is a state-of-the-art composition and performance tool"]),
    ),
    (
        "ocr_c03-29_huckfinn_scan.pdf",
        Ready(&["I got a good going-over in the morning"]),
    ),
    // A six-page scan with a small text layer on one page (a chart's labels):
    // the other pages are OCR'd, the book is whole.
    (
        "ocr_multipage_scan.pdf",
        Ready(&["I got a good going-over in the morning"]),
    ),
    (
        "ocr_ccitt_scan.pdf",
        Ready(&["The LinnSequencer is a state-of-the-art composition and performance tool"]),
    ),
    (
        "ocr_jbig2.pdf",
        Ready(&["The LinnSequencer is a state-of-the-art composition and performance tool"]),
    ),
    (
        "pypdf_vicksburg_scan_ocr.pdf",
        Ready(&["expedite the glorious victory"]),
    ),
    ("enc_r2-empty-password.pdf", Ready(&["pdf encryption test"])),
    ("enc_r4-aes-user-password.pdf", Failed("encrypted_pdf")),
    ("enc_r6-empty-password.pdf", Ready(&["pdf encryption test"])),
    ("enc_crazyones-aes256.pdf", Failed("encrypted_pdf")),
    (
        "enc_libreoffice-writer-password.pdf",
        Failed("encrypted_pdf"),
    ),
    ("qpdf_issue-99.pdf", Failed("invalid_pdf")),
    ("qpdf_issue-101.pdf", Failed("invalid_pdf")),
    ("qpdf_issue-146.pdf", Failed("invalid_pdf")),
    ("qpdf_issue-147.pdf", Refused),
    // Broken xref, but poppler recovers its one word.
    ("qpdf_issue-149.pdf", Ready(&["bar"])),
    ("qpdf_issue-335a.pdf", Refused),
    ("qpdf_fuzz_15983.pdf", Failed("invalid_pdf")),
    // Thirty pages that draw next to nothing: OCR finds no words on them.
    ("qpdf_fuzz_26994.pdf", Failed("ocr_unreadable")),
    ("pdfparse_03-invalid.pdf", Failed("invalid_pdf")),
    ("ocr_invalid.pdf", Failed("invalid_pdf")),
    // Its glyphs draw almost nothing OCR can read: not words.
    ("ocr_type3_nomapping.pdf", Failed("ocr_unreadable")),
    // Neither pdf-extract, Debian's poppler 22.12 nor MuPDF 1.21 recovers it: its page tree is gone.
    ("trunc_R-intro_50pct.pdf", Failed("invalid_pdf")),
    // A blank page: OCR finds no words either.
    ("ocr_trivial.pdf", Failed("ocr_unreadable")),
    ("pdfparse_05-word2016.pdf", Ready(&["Dadfrtfjh"])),
    (
        "pdfparse_02-valid_googledocs.pdf",
        Ready(&["Solar Energy Materials"]),
    ),
    // pdf-extract panics on both; the worker survives, and poppler reads the second.
    ("syn_bad_operands.pdf", Failed("extraction_failed")),
    ("syn_missing_xobject.pdf", Ready(&["Hi"])),
    (
        "pkgguide_en.epub",
        Ready(&["Welcome to the Ubuntu Packaging and Development Guide!"]),
    ),
    (
        "pkgguide_de.epub",
        Ready(&["Es gibt einiges zu tun, bevor Sie mit der Ubuntu-Entwicklung loslegen können."]),
    ),
    (
        "pkgguide_ru.epub",
        Ready(&[
            "Существует несколько вещей, которые нужно сделать перед началом разработки в Ubuntu.",
        ]),
    ),
];

/// The language each of these books is written in, as the book records it.
const LANGUAGES: &[(&str, &str)] = &[
    ("rdoc_R-intro.pdf", "en"),
    ("debhist_en.pdf", "en"),
    ("debhist_ja.pdf", "ja"),
    ("debhist_ko.pdf", "ko"),
    ("debref_zh-cn.pdf", "zh"),
    ("pkgtut_zh_CN.pdf", "zh"),
    ("cups_form_russian.pdf", "ru"),
    ("pypdf_vicksburg_scan_ocr.pdf", "en"),
    ("ocr_c03-29_huckfinn_scan.pdf", "en"),
    ("pkgguide_en.epub", "en"),
    ("pkgguide_de.epub", "de"),
    ("pkgguide_ru.epub", "ru"),
];

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn every_corpus_file_ends_ready_with_its_text_or_failed_with_its_code() {
    let stack = Stack::new().await;
    let mut worker = stack.spawn_worker(&[]).await;

    let listed: Vec<String> = std::fs::read_to_string(corpus("MANIFEST.tsv"))
        .expect("MANIFEST.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next().map(str::to_owned))
        .collect();
    let expected: Vec<&str> = EXPECTATIONS.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        listed, expected,
        "every corpus file needs an expectation, in manifest order"
    );

    let mut books = Vec::new();
    for (file, expect) in EXPECTATIONS {
        let bytes = std::fs::read(corpus(file)).expect("read corpus file");
        let res = stack
            .client
            .post(format!("{}/admin/books/upload", stack.api))
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .multipart(
                reqwest::multipart::Form::new()
                    .text("household_id", crate::helpers::HOUSEHOLD)
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(bytes).file_name((*file).to_owned()),
                    ),
            )
            .send()
            .await
            .expect("upload");
        match expect {
            Refused => assert_eq!(res.status(), 415, "{file} should be refused at upload"),
            _ => {
                assert_eq!(res.status(), 200, "{file} upload");
                let body: serde_json::Value = res.json().await.expect("json");
                books.push((
                    *file,
                    expect,
                    body["book_id"].as_str().expect("id").to_owned(),
                ));
            }
        }
    }

    let mut problems = Vec::new();
    for (file, expect, book) in &books {
        let status = stack.settled(book, Duration::from_secs(300)).await;
        match expect {
            Ready(phrases) => {
                if status["status"] != "ready" {
                    problems.push(format!("{file}: expected ready, got {status}"));
                    continue;
                }
                let chunks = stack.chunks(book).await;
                assert_eq!(
                    status["chunk_count"].as_u64(),
                    Some(chunks.len() as u64),
                    "{file}"
                );
                for (i, c) in chunks.iter().enumerate() {
                    assert_eq!(
                        c["ordinal"].as_u64(),
                        Some(i as u64),
                        "{file}: ordinals in order"
                    );
                    let n = c["text"].as_str().map_or(0, |t| t.chars().count());
                    assert!(n > 0 && n <= 1500, "{file}: chunk {i} has {n} chars");
                    // Sentences a voice can say, one at a time, covering the chunk.
                    let spans = c["sentences"].as_array().expect("sentences");
                    assert!(!spans.is_empty(), "{file}: chunk {i} has sentences");
                    let mut previous_end = 0;
                    for span in spans {
                        let (start, end) = (span[0].as_u64().unwrap(), span[1].as_u64().unwrap());
                        assert!(
                            start >= previous_end && end > start && end <= n as u64,
                            "{file}: chunk {i} {spans:?}"
                        );
                        assert!(
                            end - start <= 250,
                            "{file}: chunk {i} has a sentence of {} chars",
                            end - start
                        );
                        previous_end = end;
                    }
                    assert!(
                        c["kind"]
                            .as_str()
                            .is_some_and(|k| k.parse::<shared_domain::domain::ChunkKind>().is_ok()),
                        "{file}: {}",
                        c["kind"]
                    );
                }
                let text = squash(&text_of(&chunks));
                for phrase in *phrases {
                    if !text.contains(&squash(phrase)) {
                        problems.push(format!("{file}: {phrase:?} not in its chunks"));
                    }
                }
                assert!(
                    status["text_engine"].as_str().is_some(),
                    "{file}: engine recorded"
                );
                if let Some((_, language)) = LANGUAGES.iter().find(|(f, _)| f == file)
                    && status["language"] != *language
                {
                    problems.push(format!(
                        "{file}: language {} not {language}",
                        status["language"]
                    ));
                }
            }
            Failed(code) => {
                if status["status"] != "failed" || status["error"]["code"] != *code {
                    problems.push(format!("{file}: expected failed/{code}, got {status}"));
                }
                assert!(
                    status["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty()),
                    "{file}: a message"
                );
            }
            Refused => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(worker.process.exited().is_none(), "the worker died");
    assert_eq!(worker.health().await["status"], "ok");
    let log = worker.log_text();
    assert!(
        log.contains("processing your book | book_id="),
        "the seeds' smoke-test line"
    );
}
