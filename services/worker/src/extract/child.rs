//! The isolated side of extraction: `worker extract …` and `worker limit …`.
//!
//! pdf-extract panics on some real files, overflows its stack on others (a Form
//! XObject that draws itself) and inflates Flate bombs without bound. None of that
//! can be caught inside the worker, so the worker re-executes its own binary for
//! each extraction. The child first caps its own address space and CPU time
//! (limits a crash cannot escape), then writes one JSON line per event to stdout.
//! A panic on one page is caught and reported for that page only; an abort, an
//! allocation failure or a kill ends the child, and the parent turns its exit
//! status and stderr into the book's error code.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;

use pdf_extract::{Document, OutputError};
use serde::{Deserialize, Serialize};

use crate::text::OutlineEntry;

/// What a child writes, one JSON object per line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The document opened: its page count, and (from shard 0) its outline.
    Doc {
        pages: u32,
        #[serde(default)]
        outline: Vec<OutlineEntry>,
    },
    /// One page's text, or why that page failed.
    Page {
        page: u32,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        error: Option<String>,
        /// The page uses a composite (CID) font without a Unicode map: pdf-extract
        /// silently drops its characters, where poppler can still map them.
        #[serde(default)]
        unmapped_fonts: bool,
        /// Where each line of `text` sits and how it is set.
        #[serde(default)]
        layout: Option<crate::text::layout::PageLayout>,
    },
    /// The document as a whole cannot be read.
    Fatal { kind: FatalKind, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FatalKind {
    /// Not parseable by this engine (another may recover it).
    Unreadable,
    /// Needs a password other than the empty one.
    Encrypted,
    /// More pages than allowed.
    TooManyPages,
}

/// Resource limits a child applies to itself before touching the file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub memory_mb: u64,
    pub cpu_seconds: u64,
}

impl Limits {
    pub fn to_args(self) -> Vec<String> {
        vec![
            "--memory-mb".into(),
            self.memory_mb.to_string(),
            "--cpu-seconds".into(),
            self.cpu_seconds.to_string(),
        ]
    }

    pub(crate) fn apply(self) -> std::io::Result<()> {
        use rlimit::Resource;
        let bytes = self.memory_mb.saturating_mul(1024 * 1024);
        Resource::AS.set(bytes, bytes)?;
        Resource::CPU.set(self.cpu_seconds, self.cpu_seconds.saturating_add(5))?;
        Resource::CORE.set(0, 0)?;
        Ok(())
    }
}

struct Args {
    limits: Limits,
    shard: u32,
    shards: u32,
    max_pages: u32,
    /// Only the document event (page count and outline), no pages.
    outline_only: bool,
    rest: Vec<String>,
}

/// `[--memory-mb M] [--cpu-seconds S] FILE`: the limits and the one file (for
/// `worker epub`).
pub fn parse_limits(args: &[String]) -> Result<(Limits, String), String> {
    let args = parse(args)?;
    match args.rest.as_slice() {
        [path] => Ok((args.limits, path.clone())),
        _ => Err("expected one FILE".to_owned()),
    }
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        limits: Limits {
            memory_mb: 2048,
            cpu_seconds: 600,
        },
        shard: 0,
        shards: 1,
        max_pages: u32::MAX,
        outline_only: false,
        rest: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--memory-mb" => out.limits.memory_mb = value(arg)?,
            "--cpu-seconds" => out.limits.cpu_seconds = value(arg)?,
            "--shard" => out.shard = u32::try_from(value(arg)?).map_err(|e| e.to_string())?,
            "--shards" => {
                out.shards = u32::try_from(value(arg)?)
                    .map_err(|e| e.to_string())?
                    .max(1);
            }
            "--max-pages" => out.max_pages = u32::try_from(value(arg)?).unwrap_or(u32::MAX),
            "--outline-only" => out.outline_only = true,
            "--" => {
                out.rest = it.cloned().collect();
                break;
            }
            other => out.rest.push(other.to_owned()),
        }
    }
    Ok(out)
}

/// `worker limit [--memory-mb M] [--cpu-seconds S] -- program args…`: apply the
/// limits, then become `program` (used to run pdftotext under the same bounds).
pub fn limit_main(args: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let Some((program, rest)) = args.rest.split_first() else {
        return usage("no program given");
    };
    if let Err(e) = args.limits.apply() {
        return usage(&format!("cannot set resource limits: {e}"));
    }
    let e = std::process::Command::new(program).args(rest).exec();
    eprintln!("cannot run {program}: {e}");
    ExitCode::from(127)
}

/// `worker extract [limits] [--shard K --shards N] [--max-pages P] [--outline-only] FILE`:
/// extract the pages `p` with `(p - 1) % N == K`, one JSON line each (or only the
/// document's page count and outline).
pub fn extract_main(args: &[String]) -> ExitCode {
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let [path] = args.rest.as_slice() else {
        return usage("expected one FILE");
    };
    if let Err(e) = args.limits.apply() {
        return usage(&format!("cannot set resource limits: {e}"));
    }
    // Panics are reported per page through catch_unwind; keep stderr for real crashes.
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match run(&PathBuf::from(path), &args, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("extract: cannot write output: {e}");
            ExitCode::from(3)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("worker extract|limit: {message}");
    ExitCode::from(2)
}

/// One JSON line of a child's output (`worker extract`, `worker epub`), flushed.
pub(super) fn emit(out: &mut impl Write, event: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, event)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

fn run(path: &std::path::Path, args: &Args, out: &mut impl Write) -> std::io::Result<()> {
    let loaded = catch_unwind(|| Document::load(path));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            let kind = if matches!(e, pdf_extract::Error::Decryption(_)) {
                FatalKind::Encrypted
            } else {
                FatalKind::Unreadable
            };
            return emit(
                out,
                &Event::Fatal {
                    kind,
                    message: e.to_string(),
                },
            );
        }
        Err(p) => {
            let message = panic_message(p.as_ref());
            return emit(
                out,
                &Event::Fatal {
                    kind: FatalKind::Unreadable,
                    message,
                },
            );
        }
    };
    if doc.is_encrypted() {
        let decrypted = catch_unwind(AssertUnwindSafe(|| doc.decrypt("")));
        if !matches!(decrypted, Ok(Ok(()))) {
            let message = match decrypted {
                Ok(Err(e)) => e.to_string(),
                Err(p) => panic_message(p.as_ref()),
                Ok(Ok(())) => String::new(),
            };
            return emit(
                out,
                &Event::Fatal {
                    kind: FatalKind::Encrypted,
                    message,
                },
            );
        }
    }
    let pages = doc.get_pages();
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if count > args.max_pages {
        return emit(
            out,
            &Event::Fatal {
                kind: FatalKind::TooManyPages,
                message: format!("{count} pages"),
            },
        );
    }
    let outline = if args.shard == 0 {
        outline(&doc)
    } else {
        Vec::new()
    };
    emit(
        out,
        &Event::Doc {
            pages: count,
            outline,
        },
    )?;
    if args.outline_only {
        return Ok(());
    }
    // One extractor for the whole shard: each font is decoded once, not once per page.
    let mut extractor = pdf_extract::PageExtractor::new(&doc);
    for (&page, &page_id) in &pages {
        if (page - 1) % args.shards != args.shard {
            continue;
        }
        let unmapped_fonts =
            catch_unwind(AssertUnwindSafe(|| unmapped_cid_fonts(&doc, page_id))).unwrap_or(false);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut output = super::layout::LayoutOutput::default();
            extractor.output_page(&mut output, page, page_id)?;
            let unmapped = output.unmapped_glyphs();
            Ok::<_, OutputError>((output.take().unwrap_or_default(), unmapped))
        }));
        // A few glyphs that decode to nothing: words lost on this page, whatever
        // the rest of it reads like (a Persian name in a Latin listing).
        let mut unmapped_fonts = unmapped_fonts;
        let (text, layout, error) = match result {
            Ok(Ok(((text, layout), unmapped))) => {
                unmapped_fonts |= unmapped >= UNMAPPED_GLYPHS;
                (Some(text), Some(layout), None)
            }
            Ok(Err(e)) => (None, None, Some(e.to_string())),
            Err(p) => (
                None,
                None,
                Some(format!("panic: {}", panic_message(p.as_ref()))),
            ),
        };
        let event = Event::Page {
            page,
            text,
            error,
            unmapped_fonts,
            layout,
        };
        emit(out, &event)?;
    }
    Ok(())
}

/// Glyphs decoding to nothing that make a page worth poppler's second opinion.
const UNMAPPED_GLYPHS: u32 = 3;

/// Does the page use a Type0 (composite) font with no `/ToUnicode`?
fn unmapped_cid_fonts(doc: &Document, page_id: pdf_extract::ObjectId) -> bool {
    let Ok(fonts) = doc.get_page_fonts(page_id) else {
        return false;
    };
    fonts.values().any(|font| {
        let type0 = font
            .get(b"Subtype")
            .and_then(pdf_extract::Object::as_name)
            .is_ok_and(|n| n == b"Type0");
        type0 && !font.has(b"ToUnicode")
    })
}

fn outline(doc: &Document) -> Vec<OutlineEntry> {
    // A malformed outline must not cost the book its text.
    catch_unwind(AssertUnwindSafe(|| super::outline::read(doc))).unwrap_or_default()
}
