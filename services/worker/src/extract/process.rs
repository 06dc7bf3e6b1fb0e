//! The plumbing of extraction children: spawning them, reading what they report
//! within a byte cap, reaping them, and naming why one ended badly.

use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use shared_domain::BookErrorCode;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::child::{Event, FatalKind};
use super::{ExtractError, Failure, OnProgress};
use crate::text::OutlineEntry;
use crate::text::layout::PageLayout;

pub(super) fn page_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

pub(super) fn timeout(limit: Duration) -> ExtractError {
    ExtractError::new(
        BookErrorCode::ExtractionTimeout,
        format!("reading the text took longer than {} s", limit.as_secs()),
    )
}

pub(super) fn too_much_text() -> ExtractError {
    ExtractError::new(
        BookErrorCode::TooLarge,
        "the file holds more text than a book may",
    )
}

pub(super) fn too_many_pages(pages: usize) -> ExtractError {
    ExtractError::new(
        BookErrorCode::TooLarge,
        format!("the PDF has {pages} pages, more than a book may"),
    )
}

/// Turn a child's abnormal end into the book's reason.
pub(super) fn classify_crash(status: ExitStatus, stderr: &str, limit: Duration) -> ExtractError {
    use std::os::unix::process::ExitStatusExt;
    const SIGXCPU: i32 = 24;
    if status.signal() == Some(SIGXCPU) {
        return timeout(limit);
    }
    if stderr.contains("memory allocation of")
        || stderr.contains("out of memory")
        || stderr.contains("std::bad_alloc")
    {
        return ExtractError::new(
            BookErrorCode::TooLarge,
            "the PDF needs more memory to read than a book may use",
        );
    }
    if stderr.contains("overflowed its stack") {
        return ExtractError::new(
            BookErrorCode::ExtractionFailed,
            "the PDF's drawing instructions nest without end",
        );
    }
    let how = status.signal().map_or_else(
        || format!("exit code {}", status.code().unwrap_or(-1)),
        |s| format!("signal {s}"),
    );
    ExtractError::new(
        BookErrorCode::ExtractionFailed,
        format!("the text extractor crashed on this file ({how})"),
    )
}

pub(super) fn spawn(mut cmd: Command) -> Result<Child, Failure> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(Failure::Spawn)
}

/// Most stderr kept from a child, for classifying its crash.
pub(super) const STDERR_KEEP: u64 = 64 * 1024;

/// Feed the child's stdout lines to `accept` (at most `max_bytes` in all; the
/// flag says the cap was hit), keep the head of stderr, and reap the child.
pub(super) async fn wait_with_output<T: Default>(
    mut child: Child,
    max_bytes: u64,
    mut accept: impl FnMut(&str, &mut T),
) -> Result<(ExitStatus, (T, bool), String), Failure> {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read_out = async {
        let mut value = T::default();
        let Some(stdout) = stdout else {
            return Ok((value, false));
        };
        let mut reader = BufReader::new(stdout.take(max_bytes));
        let mut line = Vec::new();
        let mut read = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).await?;
            if n == 0 {
                break;
            }
            read += n as u64;
            if read >= max_bytes {
                // Stop reading; the child is killed when dropped.
                return Ok((value, true));
            }
            let text = String::from_utf8_lossy(&line);
            accept(text.trim_end_matches('\n'), &mut value);
        }
        Ok::<_, std::io::Error>((value, false))
    };
    let read_err = async {
        let mut buf = String::new();
        if let Some(stderr) = stderr {
            let mut limited = stderr.take(STDERR_KEEP);
            let mut bytes = Vec::new();
            let _ = limited.read_to_end(&mut bytes).await;
            buf = String::from_utf8_lossy(&bytes).into_owned();
            drain(limited.into_inner()).await;
        }
        buf
    };
    let (out, err) = tokio::join!(read_out, read_err);
    let out = out.map_err(Failure::Spawn)?;
    if out.1 {
        let _ = child.start_kill();
    }
    let status = child.wait().await.map_err(Failure::Spawn)?;
    Ok((status, out, err))
}

pub(super) async fn drain(mut r: impl AsyncRead + Unpin) {
    let mut sink = tokio::io::sink();
    let _ = tokio::io::copy(&mut r, &mut sink).await;
}

/// What one `worker extract` child reported.
#[derive(Default)]
pub(super) struct Shard {
    pub(super) total: u32,
    /// Pages with fonts pdf-extract cannot map to Unicode.
    pub(super) unmapped: Vec<u32>,
    /// Pages that failed alone.
    pub(super) failed: u32,
    pub(super) pages: Vec<(u32, String, Option<PageLayout>)>,
    pub(super) outline: Vec<OutlineEntry>,
    pub(super) fatal: Option<ExtractError>,
}

impl Shard {
    pub(super) fn accept(&mut self, line: &str, counter: &PageCounter<'_>) {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            return;
        };
        match event {
            Event::Doc { pages, outline } => {
                self.total = pages;
                counter.total.store(pages, Ordering::Relaxed);
                self.outline = outline;
            }
            // A page that failed alone is kept empty: the second opinion may fill it.
            Event::Page {
                page,
                text,
                unmapped_fonts,
                error,
                layout,
            } => {
                if let Some(error) = error {
                    self.failed += 1;
                    tracing::debug!(page, %error, "pdf-extract failed on a page");
                }
                if unmapped_fonts {
                    self.unmapped.push(page);
                }
                self.pages.push((page, text.unwrap_or_default(), layout));
                let done = counter.done.fetch_add(1, Ordering::Relaxed) + 1;
                (counter.progress)(done, counter.total.load(Ordering::Relaxed));
            }
            Event::Fatal { kind, message } => {
                self.fatal = Some(match kind {
                    FatalKind::Encrypted => ExtractError::new(
                        BookErrorCode::EncryptedPdf,
                        "the PDF is protected by a password",
                    ),
                    FatalKind::TooManyPages => ExtractError::new(
                        BookErrorCode::TooLarge,
                        format!("the PDF has {message}, more than a book may"),
                    ),
                    FatalKind::Unreadable => ExtractError::new(
                        BookErrorCode::InvalidPdf,
                        format!("the file is not a readable PDF ({message})"),
                    ),
                });
            }
        }
    }
}

/// Pages done across a book's shards, reported as they arrive.
pub(super) struct PageCounter<'a> {
    pub(super) done: AtomicU32,
    pub(super) total: AtomicU32,
    pub(super) progress: OnProgress<'a>,
}
