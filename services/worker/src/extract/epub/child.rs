//! The `worker epub` child: reads a book and writes what it finds as JSON lines.

use super::*;

/// What a `worker epub` child writes, one JSON object per line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EpubEvent {
    /// The package: how many documents the spine reads, and the chapters.
    Package {
        sections: u32,
        outline: Vec<OutlineEntry>,
        #[serde(default)]
        language: Option<String>,
    },
    /// One spine document's paragraphs (1-based position).
    Section { section: u32, blocks: Vec<Block> },
    /// The book cannot be read.
    Fatal { code: String, message: String },
}

/// `worker epub [limits] FILE`: the book's package, then each spine document.
pub fn epub_main(args: &[String]) -> ExitCode {
    let (limits, path) = match crate::extract::child::parse_limits(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("worker epub: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = limits.apply() {
        eprintln!("worker epub: cannot set resource limits: {e}");
        return ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match run(Path::new(&path), EpubLimits::default(), &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("worker epub: cannot write output: {e}");
            ExitCode::from(3)
        }
    }
}

/// Read the book at `path`, writing its events to `out`.
pub fn run(path: &Path, limits: EpubLimits, out: &mut impl Write) -> std::io::Result<()> {
    let fatal = |out: &mut dyn Write, e: EpubError| -> std::io::Result<()> {
        let mut out = out;
        emit(
            &mut out,
            &EpubEvent::Fatal {
                code: e.code.as_str().to_owned(),
                message: e.message,
            },
        )
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return fatal(out, invalid(format!("the file cannot be opened ({e})"))),
    };
    let mut epub = match Epub::open(std::io::BufReader::new(file), limits) {
        Ok(epub) => epub,
        Err(e) => return fatal(out, e),
    };
    let package = match epub.package() {
        Ok(p) => p,
        Err(e) => return fatal(out, e),
    };
    emit(
        out,
        &EpubEvent::Package {
            sections: u32::try_from(package.spine.len()).unwrap_or(u32::MAX),
            outline: package.outline.clone(),
            language: package.language.clone(),
        },
    )?;
    for (i, path) in package.spine.iter().enumerate() {
        match epub.section(path) {
            Ok(blocks) => emit(
                out,
                &EpubEvent::Section {
                    section: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    blocks,
                },
            )?,
            Err(e) => return fatal(out, e),
        }
    }
    Ok(())
}
