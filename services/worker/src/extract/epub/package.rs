//! The package: the container's rootfile, the OPF's manifest and spine, and
//! the table of contents (EPUB 3 nav or EPUB 2 NCX).

use super::*;

/// The package document's path, from `META-INF/container.xml`.
pub(super) fn rootfile(container: &str) -> Result<String, EpubError> {
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

pub(super) struct Item {
    pub(super) path: String,
    pub(super) media_type: String,
    pub(super) properties: String,
}

pub(super) struct Opf {
    pub(super) title: Option<String>,
    pub(super) language: Option<String>,
    pub(super) manifest: HashMap<String, Item>,
    /// (idref, linear)
    pub(super) spine: Vec<(String, bool)>,
    /// The spine's `toc` attribute: the NCX's manifest id.
    pub(super) toc: Option<String>,
}

pub(super) fn parse_opf(opf: &str, opf_path: &str) -> Result<Opf, EpubError> {
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
pub(super) struct Target {
    pub(super) title: String,
    pub(super) level: u32,
    pub(super) path: String,
}

/// EPUB 3: the `toc` nav's nested lists of links.
pub(super) fn parse_nav(text: &str, nav_path: &str) -> Result<Vec<Target>, EpubError> {
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
pub(super) fn parse_ncx(text: &str, ncx_path: &str) -> Result<Vec<Target>, EpubError> {
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
pub(super) fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
