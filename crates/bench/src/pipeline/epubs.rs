//! EPUBs: books/s and peak RSS of our reader beside pandoc's, on the corpus's
//! EPUBs and a generated large one.

use super::*;

/// EPUBs: books/s of our reader (the `worker epub` child, then the text stage)
/// beside pandoc's EPUB → plain text on the same files, and each reader's peak
/// RSS, on the corpus's EPUBs and on a 100 MB book (mostly images, as large EPUBs
/// are) written here, against the worker's memory bound.
pub(super) async fn epubs(
    opts: &Options,
    config: &PipelineConfig,
    extractor: &Extractor,
) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&opts.corpus)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "epub"))
        .collect();
    files.sort();
    let big = std::env::temp_dir().join(format!("readme-bench-{}.epub", uuid::Uuid::new_v4()));
    write_big_epub(&big, 100 * 1024 * 1024)?;
    files.push(big.clone());
    println!();
    println!(
        "{:<30} {:>8} {:>10} {:>12} {:>10} {:>12} {:>12} {:>10}",
        "EPUB", "MB", "documents", "pandoc b/s", "ours b/s", "pandoc RSS", "ours RSS", "chunks"
    );
    for path in &files {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = if *path == big {
            "generated-100MB.epub".to_owned()
        } else {
            file
        };
        let mb = std::fs::metadata(path)?.len() as f64 / 1e6;
        let mut pandoc = Vec::new();
        let mut pandoc_rss = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let args = [
                path.as_os_str(),
                "-t".as_ref(),
                "plain".as_ref(),
                "-o".as_ref(),
                "/dev/null".as_ref(),
            ];
            pandoc_rss = pandoc_rss.max(peak_rss("pandoc".as_ref(), &args)?);
            pandoc.push(t.elapsed());
        }
        let mut ours = Vec::new();
        let (mut documents, mut chunks) = (0, 0);
        for _ in 0..RUNS {
            let t = Instant::now();
            let book = extractor.extract_epub(path, &|_, _| {}).await?;
            documents = book.sections.len();
            let paragraphs = worker::pipeline::epub_paragraphs(book.sections);
            chunks =
                worker::text::chunk_structured(paragraphs, documents, &book.outline, config.text)
                    .chunks
                    .len();
            ours.push(t.elapsed());
        }
        let ours_rss = peak_rss(&opts.worker_bin, &["epub".as_ref(), path.as_os_str()])?;
        println!(
            "{:<30} {:>8.1} {:>10} {:>12.2} {:>10.2} {:>10} MB {:>9} MB {:>10}",
            file,
            mb,
            documents,
            1. / median(pandoc).as_secs_f64(),
            1. / median(ours).as_secs_f64(),
            pandoc_rss / 1024,
            ours_rss / 1024,
            chunks
        );
    }
    let _ = std::fs::remove_file(&big);
    println!(
        "(median of {RUNS} runs; b/s = books per second; RSS = the reader process's peak, \
         the worker's bound being EXTRACT_MEMORY_MB = {} MB per child)",
        config.memory_mb
    );
    Ok(())
}

/// Run `program args` (output discarded) and return its peak resident set, in
/// KiB, measured by `readme-bench rss` in a process of its own.
pub(super) fn peak_rss(
    program: &std::path::Path,
    args: &[&std::ffi::OsStr],
) -> anyhow::Result<i64> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("rss")
        .arg(program)
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// An EPUB of about `bytes`: a few hundred chapters of prose (a few MB) and the
/// rest in images (incompressible, stored), as large EPUBs are.
pub(super) fn write_big_epub(path: &std::path::Path, bytes: usize) -> anyhow::Result<()> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path)?);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("mimetype", stored)?;
    zip.write_all(b"application/epub+zip")?;
    zip.start_file("META-INF/container.xml", deflated)?;
    zip.write_all(
        br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#,
    )?;
    const CHAPTERS: usize = 300;
    const IMAGES: usize = 95;
    let sentence =
        "The keeper climbed the stairs as the wind rose over the bay, counting each step. ";
    let mut manifest = String::new();
    let mut spine = String::new();
    let mut nav = String::new();
    for c in 1..=CHAPTERS {
        let mut body = format!("<h1>Chapter {c}</h1>");
        for p in 0..40 {
            body.push_str(&format!(
                "<p>{}Paragraph {p}.</p><img src=\"../images/{}.jpg\"/>",
                sentence.repeat(8),
                c % IMAGES
            ));
        }
        zip.start_file(format!("OEBPS/text/ch{c}.xhtml"), deflated)?;
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{c}</title></head><body>{body}</body></html>"#
        )?;
        manifest.push_str(&format!(
            r#"<item id="c{c}" href="text/ch{c}.xhtml" media-type="application/xhtml+xml"/>"#
        ));
        spine.push_str(&format!(r#"<itemref idref="c{c}"/>"#));
        nav.push_str(&format!(
            r#"<li><a href="text/ch{c}.xhtml">Chapter {c}</a></li>"#
        ));
    }
    // Incompressible bytes (a fixed xorshift sequence), like photographs.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let image = bytes.saturating_sub(8 * 1024 * 1024) / IMAGES;
    for i in 0..IMAGES {
        zip.start_file(format!("OEBPS/images/{i}.jpg"), stored)?;
        let mut buf = vec![0u8; image];
        for chunk in buf.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = chunk.len();
            chunk.copy_from_slice(&state.to_le_bytes()[..n]);
        }
        zip.write_all(&buf)?;
        manifest.push_str(&format!(
            r#"<item id="i{i}" href="images/{i}.jpg" media-type="image/jpeg"/>"#
        ));
    }
    zip.start_file("OEBPS/nav.xhtml", deflated)?;
    write!(
        zip,
        r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>{nav}</ol></nav></body></html>"#
    )?;
    zip.start_file("OEBPS/content.opf", deflated)?;
    write!(
        zip,
        r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Big</dc:title><dc:language>en</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{manifest}</manifest><spine>{spine}</spine></package>"#
    )?;
    zip.finish()?;
    Ok(())
}
