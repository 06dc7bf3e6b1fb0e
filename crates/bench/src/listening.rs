//! What a listener would hear, measured: for every text-bearing corpus file, our
//! default reading flow (the `body` chunks) beside a strong peer (pymupdf4llm, the
//! layout model in PyMuPDF 2.x, running heads and feet dropped) and against
//! poppler's `pdftotext` as the reference for what the page says.
//!
//! Figures per file: word recall (all our kinds against the reference, so nothing
//! is lost; the body against the reference's own body lines, so nothing the
//! listener should hear is missing), words a listener should not hear per 10,000
//! words by kind, the share of sentences over the maximum, chapter coverage, and
//! extraction pages/s beside pdftotext. The junk detectors below are the same for
//! both texts and look only at the text (not at our labels), so they cannot flatter
//! us: a table of contents we fail to label still counts as contents.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use regex::Regex;
use shared_domain::domain::ChunkKind;
use unicode_segmentation::UnicodeSegmentation;
use worker::text::chunk_pages;
use worker::text::normalize::is_unspaced_script;

pub struct Options {
    pub corpus: PathBuf,
    pub worker_bin: PathBuf,
    /// `python` of a venv with PyMuPDF 2.x, and scripts/lib/peer_text.py.
    pub peer_python: PathBuf,
    pub peer_script: PathBuf,
    /// Where the peer's text is kept between runs (keyed by file name and size).
    pub peer_cache: Option<PathBuf>,
    /// Only these files (comma-separated), for a quick look.
    pub only: Option<String>,
    /// Chunks of an earlier build, one `FILE.txt` per book (the worker example's
    /// `DUMP_DIR` output), shown as a "before" line under each file.
    pub before: Option<PathBuf>,
    /// Print, per file, this many of the reference's body words most often
    /// missing from our body (0: none), to read what a recall figure is made of.
    pub missing: usize,
}

/// Longest sentence a voice is handed (our default `SENTENCE_MAX_CHARS`).
const SENTENCE_MAX: usize = 250;

const KINDS: [&str; 8] = [
    "contents",
    "index",
    "running heads",
    "page numbers",
    "note marks",
    "code",
    "links",
    "number runs",
];

struct Detectors {
    leader_entry: Regex,
    index_entry: Regex,
    note_mark: Regex,
    citation: Regex,
    glued_citation: Regex,
    /// The same broken onto the start of a line ("[16–29], (4) other SCs").
    citation_line_start: Regex,
    link: Regex,
    number: Regex,
    code_line: Regex,
    folio: Regex,
}

impl Detectors {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            // "1.2 Pronouncing Debian . . . . 1", "Overview ......... 2", "… MS-12";
            // an ellipsis ("digits in the range 0 ... 7") is not a leader.
            leader_entry: Regex::new(
                r"(?:[ \t]?\.){4,}[ \t]*(?:[A-Z]{1,4}-)?(?:\d{1,4}|[ivxlc]{1,6})\b",
            )?,
            // "regexpr (grep), 266, 270" — a term, then page numbers after a comma
            index_entry: Regex::new(r"[\p{L})\]],(?:\s+\d{1,4}(?:[–-]\d{1,4})?,?){1,}")?,
            // "allowed1 (", "looping.2 They", "ambulatory.264 However"
            note_mark: Regex::new(r"\b(\p{Ll}{3,})[.,;:!?]?(\d{1,3})(?:\s+\p{Lu}|\s+\(|$)")?,
            // "SCs [1–7]," "et al. [27] examined": a numbered citation in a sentence.
            citation: Regex::new(r"([\p{L})]) \[[1-9]\d{0,2}(?:\s?[–,-]\s?[1-9]\d{0,2})*\]")?,
            // "thyroid.413-416 Sporadic", "ages.413,414 The": superscript citation
            // numbers glued after a sentence's or clause's punctuation.
            glued_citation: Regex::new(r"(\p{Ll}{3,}[.,;:])\d{1,3}(?:[–,-]\d{1,3})*(\s|$)")?,
            // …but not a reference list's "[1] C.S. Solanki": punctuation follows.
            citation_line_start: Regex::new(
                r"^\[[1-9]\d{0,2}(?:\s?[–,-]\s?[1-9]\d{0,2})*\]([,.;:)])",
            )?,
            // a URL, an e-mail address, a DOI ("doi:10.2307/2346101")
            link: Regex::new(
                r"(?i)\b(?:https?://|ftp://|www\.)\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b|\bdoi:\s?10\.\d+/\S+",
            )?,
            number: Regex::new(r"^[\d.,:;()\[\]–-]+$")?,
            // "> help(solve)", "$ cd work", "x <- c(1, 2)", "for (i in x) {", "}"
            code_line: Regex::new(
                r"^\s*(?:[>$] \S|[\w.\[\]$]+ <- |.*\)\s*\{\s*$|\}\s*$|[\w.]+\([^()]*\)$)",
            )?,
            // "12", "xiv", "Page 3 of 9", "P a g e | 3" (letter-spaced), "3|Page",
            // "15 | P a g e",
            // "MS-12" (a section's page label)
            folio: Regex::new(
                r"^(?:(?i:p\s?a\s?g\s?e\s*\|?\s*)?(?:[A-Z]{1,4}-)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?|\d{1,4}\s*\|\s*(?i:p\s?a\s?g\s?e))$",
            )?,
        })
    }
}

/// Junk words by kind, and the words there are.
#[derive(Default, Clone)]
struct Junk {
    words: usize,
    by_kind: BTreeMap<&'static str, usize>,
}

impl Junk {
    fn per_10k(&self, kind: &str) -> f64 {
        per_10k(self.by_kind.get(kind).copied().unwrap_or(0), self.words)
    }

    fn total_per_10k(&self) -> f64 {
        per_10k(self.by_kind.values().sum(), self.words)
    }
}

#[allow(clippy::cast_precision_loss)]
fn per_10k(n: usize, words: usize) -> f64 {
    if words == 0 {
        0.
    } else {
        n as f64 * 10_000. / words as f64
    }
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
}

fn count_words(text: &str) -> usize {
    words(text).count()
}

/// Running heads as the reference shows them: edge lines of its pages whose
/// text, numbers masked, recurs on three pages or more (two in a short paper). Each is kept as printed
/// (with its page number, when it has one), whitespace collapsed.
fn running_heads(reference_pages: &[String]) -> Vec<String> {
    let mask = |l: &str| -> String {
        l.split_whitespace()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut by_mask: HashMap<String, Vec<String>> = HashMap::new();
    for page in reference_pages {
        let lines: Vec<&str> = page
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut edges: Vec<&str> = lines.iter().take(2).copied().collect();
        edges.extend(lines.iter().rev().take(2));
        edges.sort_unstable();
        edges.dedup();
        for line in edges {
            let masked = mask(line);
            if masked.chars().filter(|c| c.is_alphabetic()).count() >= 5 && masked.len() <= 120 {
                let printed = line.split_whitespace().collect::<Vec<_>>().join(" ");
                by_mask.entry(masked).or_default().push(printed);
            }
        }
    }
    // A section heading that happens to open a few pages ("Examples") is not a
    // running head: a head is found at an edge at least half the times it occurs.
    let mut anywhere: HashMap<String, usize> = HashMap::new();
    for line in reference_pages.iter().flat_map(|p| p.lines()) {
        let masked = mask(line.trim());
        if by_mask.contains_key(&masked) {
            *anywhere.entry(masked).or_default() += 1;
        }
    }
    // A short paper's heads alternate left and right: two pages each.
    let least = if reference_pages.len() <= 8 { 2 } else { 3 };
    let mut heads = Vec::new();
    for (masked, printed) in by_mask.into_iter().filter(|(_, p)| p.len() >= least) {
        if anywhere.get(&masked).copied().unwrap_or(0) > printed.len() * 2 {
            continue;
        }
        let mut unique = printed.clone();
        unique.sort_unstable();
        unique.dedup();
        // "Chapter 4", "Chapter 5", each once at the top of its chapter's first
        // page: chapter labels, not a head repeated on the pages of a chapter
        // ("Introduction 3", "Introduction 5" is one).
        let label = [
            "chapter",
            "part",
            "book",
            "section",
            "appendix",
            "kapitel",
            "teil",
            "chapitre",
            "partie",
            "capítulo",
            "capitolo",
            "глава",
            "часть",
        ]
        .contains(&masked.to_lowercase().as_str());
        if label && unique.len() == printed.len() {
            continue;
        }
        heads.extend(unique);
    }
    heads
}

/// Furniture by position, which the text alone cannot show when pdftotext
/// prints a page's head in the middle of its text ("Vol: 39", "No: 3",
/// "June 2009", each its own line among the body's): lines in the top or bottom
/// tenth of the page (pdftotext's `-bbox-layout` coordinates) whose text,
/// numbers masked, recurs there on two pages of a short paper or three of a
/// longer one. Each is returned as printed.
fn edge_furniture(path: &Path, pages: usize) -> anyhow::Result<Vec<String>> {
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-bbox-layout"])
        .arg(path)
        .arg("-")
        .stderr(std::process::Stdio::null())
        .output()?;
    let xml = String::from_utf8_lossy(&out.stdout);
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..].split('"').next()?.parse().ok()
    };
    let unescape = |w: &str| {
        w.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let mask = |l: &str| -> String {
        l.split_whitespace()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut by_mask: HashMap<String, (Vec<usize>, Vec<String>)> = HashMap::new();
    let (mut page, mut height) = (0usize, 0f64);
    let mut line: Option<(f64, f64, Vec<String>)> = None;
    for tag in xml.split('<').skip(1) {
        if tag.starts_with("page ") {
            page += 1;
            height = attr(tag, "height").unwrap_or(0.);
        } else if tag.starts_with("line ") {
            line = Some((
                attr(tag, "yMin").unwrap_or(0.),
                attr(tag, "yMax").unwrap_or(0.),
                Vec::new(),
            ));
        } else if tag.starts_with("word ") {
            if let (Some((_, _, words)), Some((_, text))) = (line.as_mut(), tag.split_once('>')) {
                words.push(unescape(text));
            }
        } else if tag.starts_with("/line")
            && let Some((top, bottom, words)) = line.take()
            && height > 0.
            && (bottom < height * 0.1 || top > height * 0.9)
        {
            let printed = words.join(" ");
            let masked = mask(&printed);
            if masked.chars().any(char::is_alphabetic) {
                let entry = by_mask.entry(masked).or_default();
                entry.0.push(page);
                entry.1.push(printed);
            }
        }
    }
    let least = if pages <= 8 { 2 } else { 3 };
    let mut heads = Vec::new();
    for (mut on, mut printed) in by_mask.into_values() {
        on.sort_unstable();
        on.dedup();
        if on.len() >= least {
            printed.sort_unstable();
            printed.dedup();
            heads.extend(printed);
        }
    }
    Ok(heads)
}

/// Junk in a text a listener would hear. `heads` come from the reference.
fn junk(text: &str, heads: &[String], d: &Detectors) -> Junk {
    let mut j = Junk {
        words: count_words(text),
        ..Junk::default()
    };
    let mut add = |kind: &'static str, n: usize| *j.by_kind.entry(kind).or_default() += n;

    // Contents: leader-dot entries, in runs of two or more.
    let mut last_end = 0;
    let mut run: Vec<usize> = Vec::new();
    let mut contents = 0;
    for m in d.leader_entry.find_iter(text) {
        let start = text[..m.start()]
            .rfind("\n\n")
            .map_or(0, |i| i + 2)
            .max(last_end);
        let entry_words = count_words(&text[start..m.end()]).min(30);
        if start > last_end + 200 && run.len() >= 2 {
            contents += run.iter().sum::<usize>();
            run.clear();
        } else if start > last_end + 200 {
            run.clear();
        }
        run.push(entry_words.max(1));
        last_end = m.end();
    }
    if run.len() >= 2 {
        contents += run.iter().sum::<usize>();
    }
    add("contents", contents);

    // Index: "term, 12, 34" entries in runs of three or more. An entry ends its
    // line, or the next entry follows within a few words; "June 17th, 1996): …"
    // in prose does neither.
    let entries: Vec<regex::Match<'_>> = d.index_entry.find_iter(text).collect();
    let mut index = 0;
    let mut run: Vec<usize> = Vec::new();
    let mut last_end = 0;
    for (k, m) in entries.iter().enumerate() {
        let rest = &text[m.end()..];
        let ends_line = rest.is_empty() || rest.starts_with('\n') || rest.starts_with(" \n");
        let next_close = entries
            .get(k + 1)
            .is_some_and(|n| n.start() - m.end() <= 40 && rest.starts_with(char::is_whitespace));
        let before = &text[last_end.min(m.start())..m.start()];
        if !(ends_line || next_close) || before.len() > 120 {
            if run.len() >= 3 {
                index += run.iter().sum::<usize>();
            }
            run.clear();
            if !(ends_line || next_close) {
                last_end = m.end();
                continue;
            }
        }
        run.push(count_words(before).min(6) + count_words(m.as_str()));
        last_end = m.end();
    }
    if run.len() >= 3 {
        index += run.iter().sum::<usize>();
    }
    add("index", index);

    // Running heads: a head printed with its page number is leaked wherever it
    // appears; one without a number only where it stands alone on a line (in a
    // sentence it is the book's own words), after its first time (a title).
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines: HashMap<String, usize> = text.lines().fold(HashMap::new(), |mut m, l| {
        let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
        let l = l.trim_end_matches('.').to_owned();
        *m.entry(l).or_default() += 1;
        m
    });
    let mut heads_words = 0;
    for head in heads {
        let numbered = head
            .split_whitespace()
            .any(|w| w.chars().all(|c| c.is_ascii_digit()));
        let n = if numbered {
            // Whole words only: "Chapter 1" is not in "Chapter 11 of Lange".
            let whole = collapsed
                .match_indices(head.as_str())
                .filter(|(at, m)| {
                    collapsed[at + m.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric())
                })
                .count();
            // A chapter's label ("Chapter 10") is read once, as its title.
            if head.split_whitespace().count() <= 2 {
                whole.saturating_sub(1)
            } else {
                whole
            }
        } else {
            lines
                .get(head.trim_end_matches('.'))
                .copied()
                .unwrap_or(0)
                .saturating_sub(1)
        };
        heads_words += n * count_words(head);
    }
    add("running heads", heads_words);

    let mut folios = 0;
    let mut code = 0;
    for line in text.lines() {
        let t = line.trim();
        if d.folio.is_match(t) {
            folios += 1;
        }
        if d.code_line.is_match(line) && !t.ends_with('.') {
            code += count_words(t);
        }
    }
    add("page numbers", folios);
    add("code", code);

    // A word glued to a number where the word alone is the book's word.
    let mut vocabulary: HashMap<&str, usize> = HashMap::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if !w.is_empty() {
            *vocabulary.entry(w).or_default() += 1;
        }
    }
    let marks = d
        .note_mark
        .captures_iter(text)
        .filter(|c| vocabulary.get(&c[1]).copied().unwrap_or(0) >= 2)
        .count();
    add("note marks", marks + d.citation.find_iter(text).count());
    add("links", d.link.find_iter(text).count());

    // Runs of four or more bare numbers.
    let mut numbers = 0;
    let mut run = 0;
    for w in text.split_whitespace() {
        if d.number.is_match(w) && w.chars().any(|c| c.is_ascii_digit()) {
            run += 1;
        } else {
            if run >= 4 {
                numbers += run;
            }
            run = 0;
        }
    }
    if run >= 4 {
        numbers += run;
    }
    add("number runs", numbers);
    j
}

/// Lowercased words, compatibility-normalised (Arabic presentation forms and
/// ligatures are their letters); in scripts without spaces (where a line break
/// splits a "word" anywhere) each character.
fn tokens(t: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let t: String = t.nfkc().collect();
    let mut out = Vec::new();
    for w in t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if w.chars().any(is_unspaced_script) {
            out.extend(w.chars().map(|c| c.to_lowercase().to_string()));
        } else {
            out.push(w.to_lowercase());
        }
    }
    out
}

/// The reference's words most often missing from `ours`, with how many times.
fn most_missing(reference: &str, ours: &str, n: usize) -> Vec<(String, usize)> {
    let mut have: HashMap<String, usize> = HashMap::new();
    for w in tokens(ours) {
        *have.entry(w).or_default() += 1;
    }
    let mut missing: HashMap<String, usize> = HashMap::new();
    for w in tokens(reference) {
        match have.get_mut(&w) {
            Some(k) if *k > 0 => *k -= 1,
            _ => *missing.entry(w).or_default() += 1,
        }
    }
    let mut missing: Vec<(String, usize)> = missing.into_iter().collect();
    missing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    missing.truncate(n);
    missing
}

/// Σ min(reference, ours) / Σ reference over lowercased words.
#[allow(clippy::cast_precision_loss)]
fn recall(reference: &str, ours: &str) -> f64 {
    let bag = |t: &str| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for w in tokens(t) {
            *m.entry(w).or_default() += 1;
        }
        m
    };
    let (r, o) = (bag(reference), bag(ours));
    let total: usize = r.values().sum();
    if total == 0 {
        return 1.;
    }
    let hit: usize = r
        .iter()
        .map(|(w, n)| (*n).min(o.get(w).copied().unwrap_or(0)))
        .sum();
    hit as f64 / total as f64
}

/// The reference's own body: its lines without what the junk detectors flag, and
/// without lines printed on a quarter of the pages or more (a copyright notice, a
/// "printed by" stamp: furniture wherever it is drawn).
fn reference_body(pages: &[String], heads: &[String], d: &Detectors) -> String {
    // Numbers masked, and only letters compared: "(NCCN®)," and "(NCCN )" are
    // the same notice.
    let mask = |l: &str| -> String {
        l.split_whitespace()
            .map(|w| {
                if w.chars().any(|c| c.is_ascii_digit()) {
                    "#".to_owned()
                } else {
                    w.chars()
                        .filter(|c| c.is_alphabetic())
                        .flat_map(char::to_lowercase)
                        .collect()
                }
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut on_pages: HashMap<String, usize> = HashMap::new();
    for page in pages {
        let mut seen: Vec<String> = page.lines().map(mask).filter(|m| m.len() >= 12).collect();
        seen.sort_unstable();
        seen.dedup();
        for m in seen {
            *on_pages.entry(m).or_default() += 1;
        }
    }
    let repeated = (pages.len() / 4).max(3);
    // Margin line numbers: three or more lines in a row holding only a number
    // (with a letter at most: "1r", "2r"), counting up.
    let numbering = |lines: &[&str]| -> Vec<bool> {
        let value = |l: &str| -> Option<u32> {
            let t = l.trim();
            let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            (t.len() - digits.len() <= 1)
                .then(|| digits.parse().ok())
                .flatten()
        };
        let mut out = vec![false; lines.len()];
        let mut run: Vec<(usize, u32)> = Vec::new();
        for (i, line) in lines
            .iter()
            .enumerate()
            .chain(std::iter::once((lines.len(), &"")))
        {
            if i < lines.len() && line.trim().is_empty() {
                continue;
            }
            match (i < lines.len()).then(|| value(line)).flatten() {
                Some(n)
                    if run
                        .last()
                        .is_none_or(|(_, last)| n > *last && n - last <= 10) =>
                {
                    run.push((i, n));
                }
                next => {
                    if run.len() >= 3 {
                        for (k, _) in &run {
                            out[*k] = true;
                        }
                    }
                    run.clear();
                    if let Some(n) = next {
                        run.push((i, n));
                    }
                }
            }
        }
        out
    };
    let mut out = String::new();
    for page in pages {
        let page_lines: Vec<&str> = page.lines().collect();
        let numbered = numbering(&page_lines);
        let mut url_goes_on = false;
        for (k, line) in page_lines.iter().enumerate() {
            if numbered[k] {
                continue;
            }
            let t = line.trim();
            let printed: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let tail = std::mem::take(&mut url_goes_on);
            if t.is_empty()
                || d.folio.is_match(t)
                || d.leader_entry.is_match(t)
                || heads.contains(&printed)
                || on_pages.get(&mask(t)).is_some_and(|n| *n >= repeated)
                || residue(t)
            {
                continue;
            }
            // A link broken at a line end ("…/pubmed/" + "12345678"): its tail
            // is part of it.
            let t = match (tail, t.split_once(char::is_whitespace)) {
                (true, Some((_, rest))) => rest,
                (true, None) => "",
                (false, _) => t,
            };
            url_goes_on = d.link.find_iter(t).last().is_some_and(|m| {
                m.end() == t.len() && m.as_str().ends_with(['/', '-', '.', '=', '?', '&', '_'])
            });
            let t = d.link.replace_all(t, " ");
            let t = d.citation.replace_all(&t, "$1 ");
            let t = d.glued_citation.replace_all(&t, "$1$2");
            out.push_str(&d.citation_line_start.replace_all(&t, "$1"));
            out.push('\n');
        }
    }
    out
}

/// A line of formula or table residue, not of prose: no word of four letters or
/// more among at most eight pieces ("Pa", "X X 1 1 X", "Q212 − MW 2", "Cac",
/// "0.680"). pdftotext prints a display formula's big operators as the letters
/// of their font (a sum as "P" or "X") and a table's cells one per line; a
/// line of a paragraph always holds a longer word.
fn residue(line: &str) -> bool {
    let pieces: Vec<&str> = line.split_whitespace().collect();
    pieces.len() <= 8
        && !pieces.iter().any(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .chars()
                .filter(|c| c.is_alphabetic())
                .count()
                >= 4
                && w.trim_matches(|c: char| !c.is_alphanumeric())
                    .chars()
                    .all(char::is_alphabetic)
        })
}

/// `reference` without, word for word, what our other kinds hold: what is left
/// is what should be in the reading flow.
fn without(reference: &str, others: &str) -> String {
    let mut remove: HashMap<String, usize> = HashMap::new();
    for w in tokens(others) {
        *remove.entry(w).or_default() += 1;
    }
    let mut out = String::with_capacity(reference.len());
    for w in tokens(reference) {
        match remove.get_mut(&w) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                out.push_str(&w);
                out.push(' ');
            }
        }
    }
    out
}

#[allow(clippy::cast_precision_loss)]
fn share_over(sentences: &[usize]) -> f64 {
    if sentences.is_empty() {
        return 0.;
    }
    sentences.iter().filter(|n| **n > SENTENCE_MAX).count() as f64 * 100. / sentences.len() as f64
}

struct Peer {
    text: String,
    seconds: f64,
    error: Option<String>,
}

fn run_peer(opts: &Options, files: &[PathBuf]) -> anyhow::Result<HashMap<PathBuf, Peer>> {
    let cached = |file: &Path| -> Option<PathBuf> {
        let dir = opts.peer_cache.as_ref()?;
        let size = std::fs::metadata(file).ok()?.len();
        let name = file.file_name()?.to_string_lossy().into_owned();
        Some(dir.join(format!("{name}.{size}.json")))
    };
    let mut peers = HashMap::new();
    let mut missing = Vec::new();
    for file in files {
        match cached(file).and_then(|c| std::fs::read_to_string(c).ok()) {
            Some(line) => {
                let v: serde_json::Value = serde_json::from_str(&line)?;
                peers.insert(file.clone(), peer_of(&v));
            }
            None => missing.push(file.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(peers);
    }
    let output = std::process::Command::new(&opts.peer_python)
        .arg(&opts.peer_script)
        .args(&missing)
        .stderr(std::process::Stdio::null())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "the peer script failed: {}",
        output.status
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let file = PathBuf::from(v["file"].as_str().unwrap_or_default());
        if let Some(path) = cached(&file) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, line)?;
        }
        peers.insert(file, peer_of(&v));
    }
    Ok(peers)
}

fn peer_of(v: &serde_json::Value) -> Peer {
    Peer {
        text: v["text"].as_str().unwrap_or_default().to_owned(),
        seconds: v["seconds"].as_f64().unwrap_or(0.),
        error: v["error"].as_str().map(str::to_owned),
    }
}

fn pdftotext_pages(path: &Path) -> anyhow::Result<(Vec<String>, f64)> {
    let started = Instant::now();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .stderr(std::process::Stdio::null())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Ok((pages, seconds))
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let d = Detectors::new()?;
    let manifest = std::fs::read_to_string(opts.corpus.join("MANIFEST.tsv"))?;
    let only: Option<Vec<&str>> = opts.only.as_deref().map(|o| o.split(',').collect());
    let files: Vec<PathBuf> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|f| f.ends_with(".pdf"))
        .filter(|f| only.as_ref().is_none_or(|o| o.contains(f)))
        .map(|f| opts.corpus.join(f))
        .collect();
    let (_, config, extractor) = crate::pipeline::extractor(&opts.worker_bin)?;

    // Ours first, then the peer on the files that have text.
    struct Ours {
        body: String,
        all: String,
        /// Everything not in the reading flow.
        others: String,
        sentences: Vec<usize>,
        chunks: usize,
        mean_chars: usize,
        chapter_cover: Option<f64>,
        pages: usize,
        seconds: f64,
    }
    let mut ours: Vec<(PathBuf, Ours)> = Vec::new();
    for path in &files {
        let started = Instant::now();
        let Ok(doc) = extractor.extract(path, &|_, _| {}).await else {
            continue;
        };
        let book = chunk_pages(&doc.pages, &doc.layouts, &doc.outline, config.text);
        let seconds = started.elapsed().as_secs_f64();
        if book.chunks.is_empty() {
            continue;
        }
        let body: Vec<_> = book
            .chunks
            .iter()
            .filter(|c| c.kind == ChunkKind::Body)
            .collect();
        let mut sentences = Vec::new();
        for c in &body {
            let chars: Vec<char> = c.text.chars().collect();
            for (i, s) in c.sentence_starts.iter().enumerate() {
                let end = c
                    .sentence_starts
                    .get(i + 1)
                    .map_or(chars.len(), |e| *e as usize);
                let n = chars[*s as usize..end]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .chars()
                    .count();
                sentences.push(n);
            }
        }
        let chapter_cover = (!doc.outline.is_empty()).then(|| {
            body.iter().filter(|c| c.chapter.is_some()).count() as f64 * 100.
                / body.len().max(1) as f64
        });
        ours.push((
            path.clone(),
            Ours {
                body: body
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                all: book
                    .chunks
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                others: book
                    .chunks
                    .iter()
                    .filter(|c| c.kind != ChunkKind::Body)
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                sentences,
                chunks: book.chunks.len(),
                mean_chars: book.chunks.iter().map(|c| c.char_count).sum::<usize>()
                    / book.chunks.len(),
                chapter_cover,
                pages: doc.pages.len(),
                seconds,
            },
        ));
    }
    let text_files: Vec<PathBuf> = ours.iter().map(|(p, _)| p.clone()).collect();
    let peers = run_peer(&opts, &text_files)?;

    println!(
        "{:<32} {:>6} {:>7} {:>7} {:>7} | {:>8} {:>8} | {:>6} {:>6} | {:>6} {:>6} | {:>5} {:>6} | {:>7} {:>7}",
        "file",
        "words",
        "rec.all",
        "rec.bdy",
        "peer",
        "junk/10k",
        "peer",
        ">250%",
        "peer",
        "chunks",
        "chars",
        "chap%",
        "",
        "p/s",
        "pdftxt"
    );
    let mut totals_ours = Junk::default();
    let mut totals_peer = Junk::default();
    let mut totals_before: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, o) in &ours {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (reference, poppler_s) = pdftotext_pages(path)?;
        let mut heads = running_heads(&reference);
        heads.extend(edge_furniture(path, reference.len())?);
        heads.sort_unstable();
        heads.dedup();
        let ref_body = reference_body(&reference, &heads, &d);
        let j = junk(&o.body, &heads, &d);
        let peer = peers.get(path);
        let pj = peer.map(|p| junk(&p.text, &heads, &d)).unwrap_or_default();
        let peer_sentences: Vec<usize> = peer
            .map(|p| {
                p.text
                    .split("\n\n")
                    .flat_map(|para| {
                        para.split_sentence_bounds()
                            .map(|s| s.trim().chars().count())
                    })
                    .filter(|n| *n > 0)
                    .collect()
            })
            .unwrap_or_default();
        for (kind, n) in &j.by_kind {
            *totals_ours.by_kind.entry(kind).or_default() += n;
        }
        totals_ours.words += j.words;
        for (kind, n) in &pj.by_kind {
            *totals_peer.by_kind.entry(kind).or_default() += n;
        }
        totals_peer.words += pj.words;
        let pages_per_s = |pages: usize, s: f64| if s > 0. { pages as f64 / s } else { 0. };
        println!(
            "{:<32} {:>6} {:>6.1}% {:>6.1}% {:>6.1}% | {:>8.0} {:>8} | {:>6.1} {:>6} | {:>6} {:>6} | {:>5} {:>6} | {:>7.0} {:>7.0}",
            name.chars().take(32).collect::<String>(),
            j.words,
            recall(&ref_body, &o.all) * 100.,
            recall(&without(&ref_body, &o.others), &o.body) * 100.,
            peer.map_or(0., |p| recall(&ref_body, &p.text) * 100.),
            j.total_per_10k(),
            match peer {
                Some(p) if p.error.is_none() => format!("{:.0}", pj.total_per_10k()),
                _ => "failed".into(),
            },
            share_over(&o.sentences),
            format!("{:.1}", share_over(&peer_sentences)),
            o.chunks,
            o.mean_chars,
            o.chapter_cover.map_or("-".into(), |c| format!("{c:.0}")),
            "",
            pages_per_s(o.pages, o.seconds),
            pages_per_s(reference.len(), poppler_s),
        );
        if opts.missing > 0 {
            let missing = most_missing(&without(&ref_body, &o.others), &o.body, opts.missing);
            println!(
                "{:<32}   body words missing: {}",
                "",
                missing
                    .iter()
                    .map(|(w, n)| format!("{w}×{n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if let Some(dir) = &opts.before
            && let Ok(dump) = std::fs::read_to_string(dir.join(format!("{name}.txt")))
        {
            let text: String = dump
                .split("\n----\n")
                .map(|c| c.split_once("] ").map_or(c, |(_, t)| t))
                .collect::<Vec<_>>()
                .join("\n\n");
            let bj = junk(&text, &heads, &d);
            let sentences: Vec<usize> = text
                .split("\n\n")
                .flat_map(|p| p.split_sentence_bounds().map(|s| s.trim().chars().count()))
                .filter(|n| *n > 0)
                .collect();
            *totals_before.entry("words").or_default() += bj.words;
            for (kind, n) in &bj.by_kind {
                *totals_before.entry(kind).or_default() += n;
            }
            let kinds: Vec<String> = KINDS
                .iter()
                .filter(|k| bj.per_10k(k) >= 1.)
                .map(|k| format!("{k} {:.0}", bj.per_10k(k)))
                .collect();
            println!(
                "{:<32}   before: recall {:.1}%, junk {:.0}/10k ({}), >250 {:.1}%",
                "",
                recall(&ref_body, &text) * 100.,
                bj.total_per_10k(),
                kinds.join(", "),
                share_over(&sentences)
            );
        }
        let worst: Vec<String> = KINDS
            .iter()
            .filter(|k| j.per_10k(k) >= 1. || pj.per_10k(k) >= 1.)
            .map(|k| format!("{k} {:.0}/{:.0}", j.per_10k(k), pj.per_10k(k)))
            .collect();
        if !worst.is_empty() {
            println!(
                "{:<32}   by kind, ours/peer per 10k: {}",
                "",
                worst.join(", ")
            );
        }
        if let Some(p) = peer {
            if let Some(e) = &p.error {
                println!("{:<32}   peer failed: {e}", "");
            }
            let _ = p.seconds;
        }
    }
    println!();
    println!("all files, junk per 10,000 words in the reading flow (ours / peer):");
    for kind in KINDS {
        println!(
            "  {:<14} {:>8.1} {:>8.1}",
            kind,
            totals_ours.per_10k(kind),
            totals_peer.per_10k(kind)
        );
    }
    println!(
        "  {:<14} {:>8.1} {:>8.1}",
        "total",
        totals_ours.total_per_10k(),
        totals_peer.total_per_10k()
    );
    if let Some(words) = totals_before.get("words").copied() {
        let kinds: Vec<String> = KINDS
            .iter()
            .map(|k| {
                format!(
                    "{k} {:.1}",
                    per_10k(totals_before.get(k).copied().unwrap_or(0), words)
                )
            })
            .collect();
        let total: usize = KINDS
            .iter()
            .map(|k| totals_before.get(k).copied().unwrap_or(0))
            .sum();
        println!(
            "  before: total {:.1} ({})",
            per_10k(total, words),
            kinds.join(", ")
        );
    }
    println!(
        "(rec.all: the words of pdftotext's text (its running heads, page numbers, contents lines and \
         links set aside) found in any of our chunks: nothing lost; rec.bdy: the same words, less those \
         our other kinds hold, found in our reading flow; peer: pdftotext's words found in the peer's text; >250%: sentences over {SENTENCE_MAX} chars; \
         chap%: body chunks with a chapter, when the PDF has an outline; p/s: pages/s of ours incl. \
         normalize+chunk, and pdftotext's)"
    );
    Ok(())
}
