//! The document outline (bookmarks) as chapter marks: each entry's title, depth
//! and the page it points at, in document order.
//!
//! Read here rather than with lopdf's `get_toc`, which drops an entry whose
//! destination is a name (`/Dest /chap1`, PDF 1.1's catalog `/Dests`), keys
//! entries by title (two chapters called "Exercises" become one) and gives up on
//! the first entry it cannot read. A destination may be an explicit array
//! (`[page /Fit]`), a name or string looked up in the catalog's `/Dests`
//! dictionary or the `/Names /Dests` name tree (whose values may be arrays or
//! `<< /D [...] >>`), or a `GoTo` action carrying either. Everything is walked
//! with cycle and size guards: outlines come from untrusted files.

use std::collections::{HashMap, HashSet};

use pdf_extract::{Dictionary, Document, Object, ObjectId};

use crate::text::OutlineEntry;

/// Entries read at most (a hostile outline cannot make the walk unbounded).
const MAX_ENTRIES: usize = 20_000;
/// Nesting followed at most, in the outline and in the name tree.
const MAX_DEPTH: u32 = 64;

pub fn read(doc: &Document) -> Vec<OutlineEntry> {
    let Ok(catalog) = doc.catalog() else {
        return Vec::new();
    };
    let Some(first) = dict_at(doc, catalog, b"Outlines").and_then(|o| o.get(b"First").ok()) else {
        return Vec::new();
    };
    let walk = Walk {
        doc,
        pages: doc.get_pages().into_iter().map(|(n, id)| (id, n)).collect(),
        names: named_destinations(doc, catalog),
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk.siblings(first, 1, &mut seen, &mut out);
    out
}

struct Walk<'a> {
    doc: &'a Document,
    pages: HashMap<ObjectId, u32>,
    names: HashMap<Vec<u8>, &'a Object>,
}

impl<'a> Walk<'a> {
    /// An item and its following siblings, each followed by its children.
    fn siblings(
        &self,
        mut item: &'a Object,
        level: u32,
        seen: &mut HashSet<ObjectId>,
        out: &mut Vec<OutlineEntry>,
    ) {
        if level > MAX_DEPTH {
            return;
        }
        loop {
            if out.len() >= MAX_ENTRIES {
                return;
            }
            // Items are indirect objects; one seen before means a cycle.
            if let Object::Reference(id) = item
                && !seen.insert(*id)
            {
                return;
            }
            let Some(node) = self.deref(item).and_then(|o| o.as_dict().ok()) else {
                return;
            };
            let title = node
                .get(b"Title")
                .ok()
                .and_then(|t| self.deref(t))
                .and_then(|t| pdf_extract::decode_text_string(t).ok())
                .map(|t| t.trim().to_owned())
                .unwrap_or_default();
            if let Some(page) = self.target(node)
                && !title.is_empty()
            {
                out.push(OutlineEntry { title, level, page });
            }
            if let Ok(child) = node.get(b"First") {
                self.siblings(child, level + 1, seen, out);
            }
            match node.get(b"Next") {
                Ok(next) => item = next,
                Err(_) => return,
            }
        }
    }

    /// The 1-based page an outline item points at: its `/Dest`, or the `/D` of its
    /// `GoTo` action.
    fn target(&self, node: &Dictionary) -> Option<u32> {
        if let Ok(dest) = node.get(b"Dest") {
            return self.page_of(dest, 0);
        }
        let action = self.deref(node.get(b"A").ok()?)?.as_dict().ok()?;
        let kind = action.get(b"S").ok().and_then(|s| s.as_name().ok());
        if kind != Some(b"GoTo".as_slice()) {
            return None; // a link to another file or a URL: no page here
        }
        self.page_of(action.get(b"D").ok()?, 0)
    }

    fn page_of(&self, dest: &Object, depth: u32) -> Option<u32> {
        if depth > 4 {
            return None;
        }
        match self.deref(dest)? {
            // [page /Fit ...]: the page as a reference (an integer means a page of
            // another file, in GoToR).
            Object::Array(parts) => match parts.first()? {
                Object::Reference(id) => self.pages.get(id).copied(),
                _ => None,
            },
            Object::String(name, _) | Object::Name(name) => {
                self.page_of(self.names.get(name.as_slice())?, depth + 1)
            }
            Object::Dictionary(d) => self.page_of(d.get(b"D").ok()?, depth + 1),
            _ => None,
        }
    }

    fn deref(&self, object: &'a Object) -> Option<&'a Object> {
        self.doc.dereference(object).ok().map(|(_, o)| o)
    }
}

/// The dictionary under `key` in `dict`, following a reference.
fn dict_at<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    let object = dict.get(key).ok()?;
    doc.dereference(object).ok()?.1.as_dict().ok()
}

/// Every named destination: the catalog's `/Dests` dictionary (PDF 1.1) and the
/// `/Names /Dests` name tree (PDF 1.2 on).
fn named_destinations<'a>(
    doc: &'a Document,
    catalog: &'a Dictionary,
) -> HashMap<Vec<u8>, &'a Object> {
    let mut names = HashMap::new();
    if let Some(dests) = dict_at(doc, catalog, b"Dests") {
        for (name, value) in dests.iter() {
            names.insert(name.clone(), value);
        }
    }
    if let Some(tree) = dict_at(doc, catalog, b"Names").and_then(|n| dict_at(doc, n, b"Dests")) {
        let mut seen = HashSet::new();
        name_tree(doc, tree, 0, &mut seen, &mut names);
    }
    names
}

fn name_tree<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: u32,
    seen: &mut HashSet<ObjectId>,
    names: &mut HashMap<Vec<u8>, &'a Object>,
) {
    if depth > MAX_DEPTH || names.len() >= MAX_ENTRIES * 4 {
        return;
    }
    if let Some(pairs) = node
        .get(b"Names")
        .ok()
        .and_then(|n| doc.dereference(n).ok())
        .and_then(|(_, n)| n.as_array().ok())
    {
        for pair in pairs.chunks_exact(2) {
            if let Ok((_, Object::String(key, _))) = doc.dereference(&pair[0]) {
                names.insert(key.clone(), &pair[1]);
            }
        }
    }
    let Some(kids) = node
        .get(b"Kids")
        .ok()
        .and_then(|k| doc.dereference(k).ok())
        .and_then(|(_, k)| k.as_array().ok())
    else {
        return;
    };
    for kid in kids {
        if let Object::Reference(id) = kid
            && !seen.insert(*id)
        {
            continue;
        }
        if let Some(kid) = doc
            .dereference(kid)
            .ok()
            .and_then(|(_, k)| k.as_dict().ok())
        {
            name_tree(doc, kid, depth + 1, seen, names);
        }
    }
}

#[cfg(test)]
mod tests {
    use pdf_extract::{Object, StringFormat, dictionary};

    use super::*;

    fn text(s: &str) -> Object {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    }

    /// Three pages; `parts(pages, item ids)` gives the catalog's `/Names` and the
    /// three outline items, the first of them linked from the catalog.
    fn document(
        parts: impl FnOnce(&[ObjectId], &[ObjectId]) -> (Dictionary, Vec<Dictionary>),
    ) -> Document {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let pages: Vec<ObjectId> = (0..3)
            .map(|_| doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id }))
            .collect();
        doc.set_object(
            pages_id,
            dictionary! {
                "Type" => "Pages",
                "Kids" => pages.iter().map(|id| Object::Reference(*id)).collect::<Vec<_>>(),
                "Count" => 3,
            },
        );
        let item_ids: Vec<ObjectId> = (0..3).map(|_| doc.new_object_id()).collect();
        let (names, items) = parts(&pages, &item_ids);
        for (id, item) in item_ids.iter().zip(items) {
            doc.set_object(*id, item);
        }
        let outlines = doc.add_object(dictionary! { "First" => item_ids[0] });
        let names = doc.add_object(names);
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog", "Pages" => pages_id, "Outlines" => outlines, "Names" => names,
        });
        doc.trailer.set("Root", catalog);
        doc
    }

    #[test]
    fn explicit_named_and_action_destinations_all_lead_to_their_page() {
        let doc = document(|pages, ids| {
            let tree = dictionary! { "Dests" => dictionary! {
                "Kids" => vec![Object::Dictionary(dictionary! {
                    "Names" => vec![text("ch2"), Object::Dictionary(dictionary! { "D" => vec![pages[1].into(), "Fit".into()] })],
                })],
            }};
            let items = vec![
                dictionary! { "Title" => text("One"), "Dest" => vec![pages[0].into(), "Fit".into()], "Next" => ids[1], "First" => ids[2] },
                dictionary! { "Title" => text("Exercises"), "A" => dictionary! { "S" => "GoTo", "D" => vec![pages[2].into(), "Fit".into()] } },
                dictionary! { "Title" => text("Exercises"), "A" => dictionary! { "S" => "GoTo", "D" => text("ch2") } },
            ];
            (tree, items)
        });
        let entries: Vec<(String, u32, u32)> = read(&doc)
            .into_iter()
            .map(|e| (e.title, e.level, e.page))
            .collect();
        // Document order, children after their parent, a repeated title kept, the
        // named destination found in the name tree.
        assert_eq!(
            entries,
            [
                ("One".to_owned(), 1, 1),
                ("Exercises".to_owned(), 2, 2),
                ("Exercises".to_owned(), 1, 3),
            ]
        );
    }

    #[test]
    fn a_cyclic_outline_ends() {
        let doc = document(|pages, ids| {
            let items = vec![
                dictionary! { "Title" => text("A"), "Dest" => vec![pages[0].into()], "Next" => ids[1], "First" => ids[0] },
                dictionary! { "Title" => text("B"), "Dest" => vec![pages[1].into()], "Next" => ids[0] },
                dictionary! { "Title" => text("unused") },
            ];
            (Dictionary::new(), items)
        });
        let titles: Vec<String> = read(&doc).into_iter().map(|e| e.title).collect();
        assert_eq!(titles, ["A", "B"]);
    }
}
