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

// --- XML -------------------------------------------------------------------

fn xml_reader(text: &str) -> quick_xml::Reader<&[u8]> {
    let mut reader = quick_xml::Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.expand_empty_elements = false;
    reader
}

/// The next event; a DOCTYPE that declares anything (entities, the "billion
/// laughs") is refused, a plain `<!DOCTYPE html>` or public identifier is not.
fn next<'a>(reader: &mut quick_xml::Reader<&'a [u8]>) -> Result<Xml<'a>, EpubError> {
    let event = reader
        .read_event()
        .map_err(|e| invalid(format!("the EPUB holds broken XML ({e})")))?;
    if let Xml::DocType(doctype) = &event
        && <[u8]>::contains(doctype, &b'[')
    {
        return Err(unsafe_epub(
            "the EPUB's XML declares its own entities (refused: entity expansion)",
        ));
    }
    Ok(event)
}

fn local<'e>(e: &'e BytesStart<'_>) -> &'e [u8] {
    e.local_name().into_inner()
}

/// An attribute by qualified name ("href", "epub:type"), unescaped.
fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| unescape(&String::from_utf8_lossy(&a.value)))
}

/// An attribute by local name, whatever its prefix ("epub:type", "type").
fn attr_local(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| unescape(&String::from_utf8_lossy(&a.value)))
}

/// `&amp;`, `&#8217;`, `&nbsp;`…: XML's entities, character references and the
/// HTML names books use without declaring; any other name stays as written.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.find(';').filter(|end| *end <= 32) {
            Some(end) if entity(&after[..end]).is_some() => {
                out.push(entity(&after[..end]).unwrap_or('\u{FFFD}'));
                rest = &after[end + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity or character reference (without `&` and `;`) names.
fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "shy" => '\u{AD}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "middot" => '·',
        "bull" => '•',
        "sect" => '§',
        "para" => '¶',
        "dagger" => '†',
        "Dagger" => '‡',
        "times" => '×',
        "divide" => '÷',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "aacute" => 'á',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        "thinsp" => '\u{2009}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        _ => return None,
    })
}

/// `dir/file` joined with a relative `href` (percent-decoded, fragment and
/// query gone), "." and ".." resolved; `None` if it leaves the archive.
fn resolve(base_file: &str, href: &str) -> Option<String> {
    let href = href.split(['#', '?']).next().unwrap_or_default();
    if href.is_empty() || href.contains("://") || href.starts_with('/') {
        return None;
    }
    let href = percent_decode(href);
    let mut parts: Vec<&str> = base_file.split('/').collect();
    parts.pop(); // the base's own file name
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The package document's path, from `META-INF/container.xml`.
fn rootfile(container: &str) -> Result<String, EpubError> {
    let mut reader = xml_reader(container);
    loop {
        match next(&mut reader)? {
            Xml::Start(e) | Xml::Empty(e) if local(&e) == b"rootfile" => {
                let media_type = attr(&e, b"media-type").unwrap_or_default();
                if let Some(path) = attr(&e, b"full-path")
                    && (media_type.is_empty() || media_type == "application/oebps-package+xml")
                {
                    let path = percent_decode(&path);
                    if !is_safe_name(&path) {
                        return Err(unsafe_epub(format!(
                            "the EPUB's package path {:?} leaves the book",
                            truncate(&path, 100)
                        )));
                    }
                    return Ok(path);
                }
            }
            Xml::Eof => {
                return Err(invalid(
                    "the EPUB's META-INF/container.xml names no package document",
                ));
            }
            _ => {}
        }
    }
}

struct Item {
    path: String,
    media_type: String,
    properties: String,
}

struct Opf {
    title: Option<String>,
    language: Option<String>,
    manifest: HashMap<String, Item>,
    /// (idref, linear)
    spine: Vec<(String, bool)>,
    /// The spine's `toc` attribute: the NCX's manifest id.
    toc: Option<String>,
}

fn parse_opf(opf: &str, opf_path: &str) -> Result<Opf, EpubError> {
    let mut reader = xml_reader(opf);
    let mut out = Opf {
        title: None,
        language: None,
        manifest: HashMap::new(),
        spine: Vec::new(),
        toc: None,
    };
    let mut saw_package = false;
    let mut in_field: Option<&'static str> = None;
    let mut field = String::new();
    loop {
        match next(&mut reader)? {
            Xml::Start(e) | Xml::Empty(e) if local(&e) == b"package" => saw_package = true,
            Xml::Start(e) if matches!(local(&e), b"title" | b"language") => {
                in_field = Some(if local(&e) == b"title" {
                    "title"
                } else {
                    "language"
                });
                field.clear();
            }
            Xml::Text(t) if in_field.is_some() => {
                field.push_str(&t.decode().unwrap_or_default());
            }
            Xml::GeneralRef(r) if in_field.is_some() => {
                field.extend(entity(&r.decode().unwrap_or_default()));
            }
            Xml::End(_) if in_field.is_some() => {
                let value = clean(&field);
                match in_field.take() {
                    Some("title") if out.title.is_none() && !value.is_empty() => {
                        out.title = Some(value);
                    }
                    Some("language") if out.language.is_none() && !value.is_empty() => {
                        out.language = Some(value);
                    }
                    _ => {}
                }
            }
            Xml::Start(e) | Xml::Empty(e) if local(&e) == b"item" => {
                let (Some(id), Some(href)) = (attr(&e, b"id"), attr(&e, b"href")) else {
                    continue;
                };
                let Some(path) = resolve(opf_path, &href) else {
                    continue;
                };
                out.manifest.insert(
                    id,
                    Item {
                        path,
                        media_type: attr(&e, b"media-type").unwrap_or_default(),
                        properties: attr(&e, b"properties").unwrap_or_default(),
                    },
                );
            }
            Xml::Start(e) | Xml::Empty(e) if local(&e) == b"spine" => {
                out.toc = attr(&e, b"toc");
            }
            Xml::Start(e) | Xml::Empty(e) if local(&e) == b"itemref" => {
                if let Some(idref) = attr(&e, b"idref") {
                    let linear = attr(&e, b"linear").is_none_or(|l| l.trim() != "no");
                    out.spine.push((idref, linear));
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if !saw_package {
        return Err(invalid("the EPUB's package document has no <package>"));
    }
    Ok(out)
}

/// A navigation entry: its title, depth (1 = top) and the document it opens.
struct Target {
    title: String,
    level: u32,
    path: String,
}

/// EPUB 3: the `toc` nav's nested lists of links.
fn parse_nav(text: &str, nav_path: &str) -> Result<Vec<Target>, EpubError> {
    let mut reader = xml_reader(text);
    let mut out = Vec::new();
    // Inside the toc nav: its depth in elements; list depth; the open link.
    let mut in_toc: Option<u32> = None;
    let mut depth = 0u32;
    let mut lists = 0u32;
    let mut link: Option<(String, String)> = None;
    loop {
        match next(&mut reader)? {
            Xml::Start(e) => {
                depth += 1;
                match local(&e) {
                    b"nav" if in_toc.is_none() => {
                        let kind = attr_local(&e, b"type").unwrap_or_default();
                        if kind.split_whitespace().any(|k| k == "toc") {
                            in_toc = Some(depth);
                        }
                    }
                    b"ol" | b"ul" if in_toc.is_some() => lists += 1,
                    b"a" if in_toc.is_some() => {
                        link = Some((attr(&e, b"href").unwrap_or_default(), String::new()));
                    }
                    _ => {}
                }
            }
            Xml::End(e) => {
                match e.local_name().into_inner() {
                    b"nav" if in_toc == Some(depth) => in_toc = None,
                    b"ol" | b"ul" if in_toc.is_some() => lists = lists.saturating_sub(1),
                    b"a" => {
                        if let Some((href, title)) = link.take()
                            && let Some(path) = resolve(nav_path, &href)
                        {
                            let title = clean(&title);
                            if !title.is_empty() {
                                out.push(Target {
                                    title,
                                    level: lists.max(1),
                                    path,
                                });
                            }
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Xml::Text(t) => {
                if let Some((_, title)) = &mut link {
                    title.push_str(&t.decode().unwrap_or_default());
                }
            }
            Xml::GeneralRef(r) => {
                if let Some((_, title)) = &mut link {
                    title.extend(entity(&r.decode().unwrap_or_default()));
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// EPUB 2: the NCX's nested navPoints.
fn parse_ncx(text: &str, ncx_path: &str) -> Result<Vec<Target>, EpubError> {
    let mut reader = xml_reader(text);
    let mut out = Vec::new();
    let mut points = 0u32;
    let mut in_label = false;
    let mut title = String::new();
    loop {
        match next(&mut reader)? {
            Xml::Start(e) => match local(&e) {
                b"navPoint" => {
                    points += 1;
                    title.clear();
                }
                b"navLabel" => in_label = true,
                _ => {}
            },
            Xml::Empty(e) if local(&e) == b"content" && points > 0 => {
                if let Some(path) = attr(&e, b"src").and_then(|src| resolve(ncx_path, &src)) {
                    let title = clean(&title);
                    if !title.is_empty() {
                        out.push(Target {
                            title,
                            level: points,
                            path,
                        });
                    }
                }
            }
            Xml::End(e) => match e.local_name().into_inner() {
                b"navPoint" => points = points.saturating_sub(1),
                b"navLabel" => in_label = false,
                _ => {}
            },
            Xml::Text(t) if in_label => title.push_str(&t.decode().unwrap_or_default()),
            Xml::GeneralRef(r) if in_label => {
                title.extend(entity(&r.decode().unwrap_or_default()));
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Whitespace collapsed, ends trimmed.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// --- XHTML → paragraphs --------------------------------------------------------

/// Elements that end one paragraph and start the next.
fn is_block(name: &[u8]) -> bool {
    matches!(
        name,
        b"p" | b"div"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"li"
            | b"ul"
            | b"ol"
            | b"dl"
            | b"dt"
            | b"dd"
            | b"blockquote"
            | b"pre"
            | b"table"
            | b"tr"
            | b"caption"
            | b"figure"
            | b"figcaption"
            | b"section"
            | b"article"
            | b"aside"
            | b"header"
            | b"footer"
            | b"nav"
            | b"main"
            | b"body"
            | b"hr"
            | b"address"
            | b"hgroup"
            | b"details"
            | b"summary"
            | b"center"
    )
}

/// Elements whose text is never read: scripts, styles, the head, drawings.
fn is_skipped(name: &[u8]) -> bool {
    matches!(
        name,
        b"head" | b"script" | b"style" | b"template" | b"svg" | b"math" | b"object" | b"noscript"
    )
}

/// What an element's `epub:type`, `role` and `class` make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    /// A footnote or endnote, or a section of them.
    Note,
    /// A reference mark to a note, or a note's link back: not read.
    Gone,
    /// A page footer, repeated on every document: kept apart.
    Footer,
}

fn mark_of(e: &BytesStart<'_>) -> Mark {
    let kinds = attr_local(e, b"type").unwrap_or_default();
    let role = attr(e, b"role").unwrap_or_default();
    let class = attr(e, b"class").unwrap_or_default();
    let any = |value: &str, names: &[&str]| value.split_whitespace().any(|v| names.contains(&v));
    if any(&kinds, &["noteref", "backlink"])
        || any(&role, &["doc-noteref", "doc-backlink"])
        || any(
            &class,
            &[
                "footnote-ref",
                "footnote-back",
                "footnote-backref",
                "fn-back",
            ],
        )
    {
        return Mark::Gone;
    }
    if any(&role, &["contentinfo"]) || e.local_name().into_inner() == b"footer" {
        return Mark::Footer;
    }
    if any(
        &kinds,
        &[
            "footnote",
            "footnotes",
            "endnote",
            "endnotes",
            "rearnote",
            "rearnotes",
            "note",
        ],
    ) || any(&role, &["doc-footnote", "doc-endnote", "doc-endnotes"])
        || any(&class, &["footnote", "footnotes", "endnotes"])
    {
        return Mark::Note;
    }
    Mark::None
}

/// The paragraphs of one XHTML document, in order.
pub fn xhtml_blocks(text: &str) -> Result<Vec<Block>, EpubError> {
    struct Open {
        name: Vec<u8>,
        mark: Mark,
    }
    let mut reader = xml_reader(text);
    let mut blocks: Vec<Block> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut current = String::new();
    let mut heading = false;
    let flush =
        |current: &mut String, heading: &mut bool, blocks: &mut Vec<Block>, stack: &[Open]| {
            let inside = |names: &[&[u8]]| stack.iter().any(|o| names.contains(&o.name.as_slice()));
            let kind = if stack.iter().any(|o| o.mark == Mark::Footer) {
                BlockKind::BackMatter
            } else if stack.iter().any(|o| o.mark == Mark::Note) {
                BlockKind::Notes
            } else if inside(&[b"pre"]) {
                BlockKind::Code
            } else if inside(&[b"table"]) {
                BlockKind::Table
            } else {
                BlockKind::Body
            };
            let text = if kind == BlockKind::Code {
                current.trim_matches('\n').trim_end().to_owned()
            } else {
                clean(current)
            };
            if text.chars().any(|c| c.is_alphanumeric()) {
                // Rows of one table, lines of one listing: one block each.
                match blocks.last_mut() {
                    Some(last)
                        if matches!(kind, BlockKind::Table | BlockKind::Code)
                            && last.kind == kind =>
                    {
                        last.text.push('\n');
                        last.text.push_str(&text);
                    }
                    _ => blocks.push(Block {
                        text,
                        kind,
                        heading: *heading && kind == BlockKind::Body,
                    }),
                }
            }
            current.clear();
            *heading = false;
        };
    let mut skipping = 0usize;
    loop {
        let event = next(&mut reader)?;
        match event {
            Xml::Start(e) => {
                let name = local(&e).to_vec();
                // A document's own navigation (a "next · previous" bar, a
                // contents sidebar) is not the book's text.
                let navigation = name == b"nav"
                    || attr(&e, b"role")
                        .is_some_and(|r| r.split_whitespace().any(|r| r == "navigation"));
                if skipping > 0 || is_skipped(&name) || navigation {
                    skipping += 1;
                    continue;
                }
                let mark = mark_of(&e);
                if is_block(&name) || matches!(mark, Mark::Note | Mark::Footer) {
                    flush(&mut current, &mut heading, &mut blocks, &stack);
                }
                if matches!(
                    name.as_slice(),
                    b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
                ) {
                    heading = true;
                }
                if matches!(name.as_slice(), b"td" | b"th") && !current.trim().is_empty() {
                    current.push_str(" | ");
                }
                stack.push(Open { name, mark });
            }
            Xml::Empty(e) => {
                if skipping > 0 {
                    continue;
                }
                match local(&e) {
                    b"br" => {
                        if stack.iter().any(|o| o.name == b"pre") {
                            current.push('\n');
                        } else {
                            current.push(' ');
                        }
                    }
                    b"hr" => flush(&mut current, &mut heading, &mut blocks, &stack),
                    _ => {}
                }
            }
            Xml::End(e) => {
                if skipping > 0 {
                    skipping -= 1;
                    continue;
                }
                let name = e.local_name().into_inner().to_vec();
                // Close up to the matching element (XHTML that skips an end tag).
                let Some(at) = stack.iter().rposition(|o| o.name == name) else {
                    continue;
                };
                let closes_block = stack[at..]
                    .iter()
                    .any(|o| is_block(&o.name) || matches!(o.mark, Mark::Note | Mark::Footer));
                if closes_block {
                    flush(&mut current, &mut heading, &mut blocks, &stack);
                }
                stack.truncate(at);
            }
            Xml::Text(t) => {
                if skipping > 0 || stack.iter().any(|o| o.mark == Mark::Gone) {
                    continue;
                }
                current.push_str(&t.decode().unwrap_or_default());
            }
            Xml::CData(t) => {
                if skipping > 0 || stack.iter().any(|o| o.mark == Mark::Gone) {
                    continue;
                }
                current.push_str(&String::from_utf8_lossy(&t));
            }
            Xml::GeneralRef(r) => {
                if skipping > 0 || stack.iter().any(|o| o.mark == Mark::Gone) {
                    continue;
                }
                let name = r.decode().unwrap_or_default();
                match entity(&name) {
                    Some(c) => current.push(c),
                    None => {
                        current.push('&');
                        current.push_str(&name);
                        current.push(';');
                    }
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    flush(&mut current, &mut heading, &mut blocks, &[]);
    Ok(blocks)
}

// --- the child ------------------------------------------------------------------

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
    let (limits, path) = match super::child::parse_limits(args) {
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

#[cfg(test)]
mod tests;
