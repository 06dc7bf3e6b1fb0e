//! OCR: pages/s of ours beside ocrmypdf on the scanned corpus files, and how
//! many of the words read are words.

use super::*;

/// OCR: pages/s of ours (pdftoppm + Tesseract children, pages in parallel)
/// beside `ocrmypdf --sidecar` on the corpus's scanned files, with one job and
/// with every core, and the share of each one's words found in a dictionary
/// (Debian's wamerican), and, where the PDF carries a producer's OCR layer, how
/// many of that layer's words each one finds.
pub(super) async fn ocr(opts: &Options, cores: usize, extractor: &Extractor) -> anyhow::Result<()> {
    let Some(ocrmypdf) = &opts.ocrmypdf else {
        println!("\n(OCR: no --ocrmypdf given, skipped)");
        return Ok(());
    };
    let dictionary: std::collections::HashSet<String> =
        std::fs::read_to_string("/usr/share/dict/american-english")?
            .lines()
            .map(str::to_lowercase)
            .collect();
    let manifest = std::fs::read_to_string(opts.corpus.join("MANIFEST.tsv"))?;
    let scans: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(1) == Some(&"scanned")).then(|| opts.corpus.join(cols[0]))
        })
        .collect();
    println!();
    println!(
        "{:<30} {:>5} {:>4} {:>13} {:>9} {:>13} {:>9} {:>15}",
        "scan (OCR, eng)",
        "pages",
        "jobs",
        "ocrmypdf p/s",
        "ours p/s",
        "ocrmypdf dict",
        "ours dict",
        "layer: ocrmypdf/ours"
    );
    let work = std::env::temp_dir().join(format!("readme-bench-ocr-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work)?;
    for path in &scans {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The file sits in a folder of its own: OCR renders its pages beside it.
        let copy = work.join(&file);
        std::fs::copy(path, &copy)?;
        let layer = tokio::process::Command::new("pdftotext")
            .arg(&copy)
            .arg("-")
            .output()
            .await?;
        let layer = String::from_utf8_lossy(&layer.stdout).into_owned();
        let pages = page_count(&copy).await?;
        let all: Vec<u32> = (1..=pages).collect();
        let mut jobs_list = vec![1, cores];
        jobs_list.dedup();
        for jobs in jobs_list {
            let sidecar = work.join("sidecar.txt");
            let t = Instant::now();
            let status = tokio::process::Command::new(ocrmypdf)
                .arg("--sidecar")
                .arg(&sidecar)
                .args(["--force-ocr", "--output-type", "pdf", "-l", "eng", "-j"])
                .arg(jobs.to_string())
                .arg(&copy)
                .arg(work.join("out.pdf"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .await?;
            anyhow::ensure!(status.success(), "ocrmypdf failed on {file}");
            let theirs_time = t.elapsed();
            let theirs = std::fs::read_to_string(&sidecar)?;
            let mut ours_extractor = extractor.clone();
            ours_extractor.shards = u32::try_from(jobs)?;
            ours_extractor.permits = Arc::new(tokio::sync::Semaphore::new(jobs));
            let t = Instant::now();
            let read = ours_extractor
                .ocr(&copy, &all, &["eng".to_owned()], &|_, _| {})
                .await?;
            let ours_time = t.elapsed();
            let ours: String = read
                .into_iter()
                .filter_map(|(_, text)| text)
                .collect::<Vec<_>>()
                .join("\n");
            let agreement = if words_of(&layer).len() >= 50 {
                format!(
                    "{:.1}% / {:.1}%",
                    100. * found_share(&layer, &theirs),
                    100. * found_share(&layer, &ours)
                )
            } else {
                "-".to_owned()
            };
            println!(
                "{:<30} {:>5} {:>4} {:>13.2} {:>9.2} {:>12.1}% {:>8.1}% {:>15}",
                file,
                pages,
                jobs,
                f64::from(pages) / theirs_time.as_secs_f64(),
                f64::from(pages) / ours_time.as_secs_f64(),
                100. * dictionary_share(&theirs, &dictionary),
                100. * dictionary_share(&ours, &dictionary),
                agreement
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "(one run each; dict = words of two letters or more found in wamerican; layer = the \
         producer's OCR layer's words each one finds)"
    );
    Ok(())
}

pub(super) async fn page_count(path: &std::path::Path) -> anyhow::Result<u32> {
    let out = tokio::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .await?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("pdfinfo gives no page count for {}", path.display()))
}

/// Lower-cased words of letters, two or more.
pub(super) fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

pub(super) fn dictionary_share(text: &str, dictionary: &std::collections::HashSet<String>) -> f64 {
    let words = words_of(text);
    if words.is_empty() {
        return 0.;
    }
    words.iter().filter(|w| dictionary.contains(*w)).count() as f64 / words.len() as f64
}

/// The share of `reference`'s words (with their counts) that `text` has.
pub(super) fn found_share(reference: &str, text: &str) -> f64 {
    let mut have: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for w in words_of(text) {
        *have.entry(w).or_default() += 1;
    }
    let wanted = words_of(reference);
    if wanted.is_empty() {
        return 0.;
    }
    let mut found = 0;
    for w in wanted.iter() {
        if let Some(n) = have.get_mut(w)
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    found as f64 / wanted.len() as f64
}
