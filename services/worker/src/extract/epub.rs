//! EPUB books (2 and 3): the package's spine read in order, its XHTML turned into
//! the paragraphs a reader aloud says, chapters from its navigation.
//!
//! An EPUB is a ZIP archive holding XML, so it is read as hostile input: the
//! archive's entry count and every inflated byte are capped (a ZIP bomb is
//! `too_large` before it fills memory), entry names that leave the archive ("..",
//! absolute paths) and XML that declares its own entities (the "billion laughs")
//! are `unsafe_epub`, encrypted content is `drm_protected`, and a missing or broken
//! container, package or spine is `invalid_epub`. Only the documents the book
//! needs are inflated: its container, package, navigation and the spine's XHTML;
//! images and fonts never are. Like PDF extraction it runs in a `worker epub`
//! child under the same memory and CPU limits.
//!
//! What is read: block elements (`p`, `div`, headings, list items, `blockquote`,
//! `pre`, table rows…) make paragraphs; `br` is a space; no markup, CSS or
//! script text. Headings are marked, `pre` is code and `table` a table (both
//! said as a short placeholder by the text stage), and footnotes and endnotes
//! (`epub:type` footnote/endnote/rearnote, `role="doc-footnote"`/`doc-endnote`,
//! pandoc's `footnotes` section) are notes, out of the reading flow, their
//! reference marks (`epub:type="noteref"`) and back links gone.
//!
//! "Pages" of an EPUB are its spine's linear documents, 1 for the first:
//! `page_start`/`page_end` of a chunk are positions in the spine, and an outline
//! entry's page is the spine document it points into.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::process::ExitCode;

use quick_xml::events::{BytesStart, Event as Xml};
use serde::{Deserialize, Serialize};
use shared_domain::BookErrorCode;

use super::child::emit;
use crate::text::OutlineEntry;

mod child;
mod package;
mod xhtml;
mod xml;

pub use child::{EpubEvent, epub_main, run};
use package::*;
pub use xhtml::xhtml_blocks;
use xml::*;

/// Caps on what an EPUB may make the reader inflate.
#[derive(Debug, Clone, Copy)]
pub struct EpubLimits {
    /// Entries in the archive.
    pub max_entries: usize,
    /// Inflated bytes of one document read (an XHTML file, the package).
    pub max_entry_bytes: u64,
    /// Inflated bytes of all documents read.
    pub max_total_bytes: u64,
}

impl Default for EpubLimits {
    fn default() -> Self {
        Self {
            max_entries: 20_000,
            max_entry_bytes: 64 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Why an EPUB cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EpubError {
    pub code: BookErrorCode,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> EpubError {
    EpubError {
        code: BookErrorCode::InvalidEpub,
        message: message.into(),
    }
}

fn unsafe_epub(message: impl Into<String>) -> EpubError {
    EpubError {
        code: BookErrorCode::UnsafeEpub,
        message: message.into(),
    }
}

fn too_large(message: impl Into<String>) -> EpubError {
    EpubError {
        code: BookErrorCode::TooLarge,
        message: message.into(),
    }
}

/// What a block of text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Body,
    Notes,
    Code,
    Table,
    /// A document's footer (copyright, "created with"): kept, not read.
    BackMatter,
}

/// One paragraph of a spine document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub text: String,
    pub kind: BlockKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heading: bool,
}

/// The package document's reading order and navigation.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub title: Option<String>,
    pub language: Option<String>,
    /// Archive paths of the spine's linear XHTML documents, in reading order.
    pub spine: Vec<String>,
    /// Chapters, their pages being 1-based positions in `spine`.
    pub outline: Vec<OutlineEntry>,
}

/// An opened EPUB whose archive has passed the safety checks.
pub struct Epub<R: Read + Seek> {
    archive: zip::ZipArchive<R>,
    limits: EpubLimits,
    inflated: u64,
}

/// Font obfuscation (IDPF, Adobe) scrambles embedded fonts, not the text: not DRM.
const FONT_OBFUSCATION: [&str; 2] = [
    "http://www.idpf.org/2008/embedding",
    "http://ns.adobe.com/pdf/enc#RC",
];

impl<R: Read + Seek> Epub<R> {
    /// Open the archive and check it: entry count, entry names, media type, DRM.
    pub fn open(reader: R, limits: EpubLimits) -> Result<Self, EpubError> {
        let archive = zip::ZipArchive::new(reader)
            .map_err(|e| invalid(format!("the file is not a readable ZIP archive ({e})")))?;
        if archive.len() > limits.max_entries {
            return Err(too_large(format!(
                "the EPUB holds {} files, more than the {} a book may",
                archive.len(),
                limits.max_entries
            )));
        }
        for name in archive.file_names() {
            let name = name.map_err(|e| invalid(format!("the archive lists a bad name ({e})")))?;
            if !is_safe_name(&name) {
                return Err(unsafe_epub(format!(
                    "the EPUB holds a file named {:?}, a path outside the book",
                    truncate(&name, 100)
                )));
            }
        }
        let mut epub = Self {
            archive,
            limits,
            inflated: 0,
        };
        if epub.has("mimetype") {
            let media_type = epub.read("mimetype")?;
            if media_type.trim() != "application/epub+zip" {
                return Err(invalid(format!(
                    "the archive's mimetype is {:?}, not application/epub+zip",
                    truncate(media_type.trim(), 100)
                )));
            }
        }
        epub.check_drm()?;
        Ok(epub)
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// An entry's inflated text, within the limits whatever its header claims.
    fn read(&mut self, name: &str) -> Result<String, EpubError> {
        let entry = self.archive.by_name(name).map_err(|e| {
            invalid(format!(
                "the EPUB's {:?} cannot be read ({e})",
                truncate(name, 100)
            ))
        })?;
        if entry.encrypted() {
            return Err(drm(name));
        }
        let cap = self
            .limits
            .max_entry_bytes
            .min(self.limits.max_total_bytes.saturating_sub(self.inflated));
        let mut bytes = Vec::new();
        entry
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| {
                invalid(format!(
                    "the EPUB's {:?} is damaged ({e})",
                    truncate(name, 100)
                ))
            })?;
        if bytes.len() as u64 > cap {
            return Err(too_large(format!(
                "the EPUB's {:?} inflates beyond what a book may hold (a ZIP bomb?)",
                truncate(name, 100)
            )));
        }
        self.inflated += bytes.len() as u64;
        Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// `drm_protected` when the book's content (not only its fonts) is encrypted.
    fn check_drm(&mut self) -> Result<(), EpubError> {
        if self.has("META-INF/rights.xml") {
            return Err(drm("META-INF/rights.xml"));
        }
        if !self.has("META-INF/encryption.xml") {
            return Ok(());
        }
        let xml = self.read("META-INF/encryption.xml")?;
        let mut reader = xml_reader(&xml);
        loop {
            match next(&mut reader)? {
                Xml::Start(e) | Xml::Empty(e) if local(&e) == b"EncryptionMethod" => {
                    let algorithm = attr(&e, b"Algorithm").unwrap_or_default();
                    if !FONT_OBFUSCATION.contains(&algorithm.as_str()) {
                        return Err(drm("META-INF/encryption.xml"));
                    }
                }
                Xml::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// The package document: metadata, the spine's linear documents and the
    /// navigation (EPUB 3's nav document, else EPUB 2's NCX).
    pub fn package(&mut self) -> Result<Package, EpubError> {
        if !self.has("META-INF/container.xml") {
            return Err(invalid("the EPUB has no META-INF/container.xml"));
        }
        let container = self.read("META-INF/container.xml")?;
        let opf_path = rootfile(&container)?;
        if !self.has(&opf_path) {
            return Err(invalid(format!(
                "the EPUB's package document {:?} is missing",
                truncate(&opf_path, 100)
            )));
        }
        let opf = self.read(&opf_path)?;
        let parsed = parse_opf(&opf, &opf_path)?;
        let spine: Vec<String> = parsed
            .spine
            .iter()
            .filter(|(_, linear)| *linear)
            .filter_map(|(idref, _)| parsed.manifest.get(idref))
            .filter(|item| is_document(&item.media_type))
            .map(|item| item.path.clone())
            .collect();
        if spine.is_empty() {
            return Err(invalid("the EPUB's spine lists no document to read"));
        }
        let nav = parsed
            .manifest
            .values()
            .find(|item| item.properties.split_whitespace().any(|p| p == "nav"))
            .map(|item| item.path.clone());
        let ncx = parsed
            .toc
            .as_ref()
            .and_then(|id| parsed.manifest.get(id))
            .or_else(|| {
                parsed
                    .manifest
                    .values()
                    .find(|item| item.media_type == "application/x-dtbncx+xml")
            })
            .map(|item| item.path.clone());
        let mut targets = Vec::new();
        if let Some(nav) = nav.filter(|p| self.has(p)) {
            let text = self.read(&nav)?;
            targets = parse_nav(&text, &nav)?;
        }
        if targets.is_empty()
            && let Some(ncx) = ncx.filter(|p| self.has(p))
        {
            let text = self.read(&ncx)?;
            targets = parse_ncx(&text, &ncx)?;
        }
        let position: HashMap<&str, u32> = spine
            .iter()
            .enumerate()
            .map(|(i, path)| (path.as_str(), u32::try_from(i + 1).unwrap_or(u32::MAX)))
            .collect();
        // A link that misses its folder (Sphinx writes "getting-set-up.xhtml" for
        // "ubuntu-packaging-guide/getting-set-up.xhtml") still names its document
        // when one spine document has that file name.
        let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
        let mut by_name: HashMap<String, Option<u32>> = HashMap::new();
        for (path, page) in &position {
            by_name
                .entry(file_name(path))
                .and_modify(|p| *p = None)
                .or_insert(Some(*page));
        }
        let outline = targets
            .into_iter()
            .filter_map(|t| {
                let page = position
                    .get(t.path.as_str())
                    .copied()
                    .or_else(|| by_name.get(&file_name(&t.path)).copied().flatten())?;
                Some(OutlineEntry {
                    page,
                    title: t.title,
                    level: t.level,
                })
            })
            .collect();
        Ok(Package {
            title: parsed.title,
            language: parsed.language,
            spine,
            outline,
        })
    }

    /// One spine document's paragraphs.
    pub fn section(&mut self, path: &str) -> Result<Vec<Block>, EpubError> {
        if !self.has(path) {
            return Err(invalid(format!(
                "the spine's {:?} is not in the archive",
                truncate(path, 100)
            )));
        }
        let text = self.read(path)?;
        xhtml_blocks(&text)
    }
}

fn drm(what: &str) -> EpubError {
    EpubError {
        code: BookErrorCode::DrmProtected,
        message: format!(
            "the EPUB's content is encrypted (DRM: {what}); only DRM-free books can be read"
        ),
    }
}

/// A name inside the archive: relative, without "..", without a drive or backslash.
fn is_safe_name(name: &str) -> bool {
    !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && !name
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'))
        && !name.split('/').any(|part| part == "..")
}

fn is_document(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/xhtml+xml" | "text/html" | "application/x-dtbook+xml"
    )
}

fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests;
