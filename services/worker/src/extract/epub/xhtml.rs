//! A spine document's XHTML as blocks of text, each with its kind.

use super::*;

/// Elements that end one paragraph and start the next.
pub(super) fn is_block(name: &[u8]) -> bool {
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
pub(super) fn is_skipped(name: &[u8]) -> bool {
    matches!(
        name,
        b"head" | b"script" | b"style" | b"template" | b"svg" | b"math" | b"object" | b"noscript"
    )
}

/// What an element's `epub:type`, `role` and `class` make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    None,
    /// A footnote or endnote, or a section of them.
    Note,
    /// A reference mark to a note, or a note's link back: not read.
    Gone,
    /// A page footer, repeated on every document: kept apart.
    Footer,
}

pub(super) fn mark_of(e: &BytesStart<'_>) -> Mark {
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
