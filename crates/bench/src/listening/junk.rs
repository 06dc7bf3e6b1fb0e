//! What a listener should not hear, counted by kind: contents, index, running
//! heads, page numbers, note marks, code, links, number runs.

use super::*;

/// Longest sentence a voice is handed (our default `SENTENCE_MAX_CHARS`).
pub(super) const SENTENCE_MAX: usize = 250;

pub(super) const KINDS: [&str; 8] = [
    "contents",
    "index",
    "running heads",
    "page numbers",
    "note marks",
    "code",
    "links",
    "number runs",
];

pub(super) struct Detectors {
    pub(super) leader_entry: Regex,
    pub(super) index_entry: Regex,
    pub(super) note_mark: Regex,
    pub(super) citation: Regex,
    pub(super) glued_citation: Regex,
    /// The same broken onto the start of a line ("[16–29], (4) other SCs").
    pub(super) citation_line_start: Regex,
    pub(super) link: Regex,
    pub(super) number: Regex,
    pub(super) code_line: Regex,
    pub(super) folio: Regex,
}

impl Detectors {
    pub(super) fn new() -> anyhow::Result<Self> {
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
pub(super) struct Junk {
    pub(super) words: usize,
    pub(super) by_kind: BTreeMap<&'static str, usize>,
}

impl Junk {
    pub(super) fn per_10k(&self, kind: &str) -> f64 {
        per_10k(self.by_kind.get(kind).copied().unwrap_or(0), self.words)
    }

    pub(super) fn total_per_10k(&self) -> f64 {
        per_10k(self.by_kind.values().sum(), self.words)
    }
}

#[allow(clippy::cast_precision_loss)]
pub(super) fn per_10k(n: usize, words: usize) -> f64 {
    if words == 0 {
        0.
    } else {
        n as f64 * 10_000. / words as f64
    }
}

pub(super) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
}

pub(super) fn count_words(text: &str) -> usize {
    words(text).count()
}

/// Running heads as the reference shows them: edge lines of its pages whose
/// text, numbers masked, recurs on three pages or more (two in a short paper). Each is kept as printed
/// (with its page number, when it has one), whitespace collapsed.
pub(super) fn running_heads(reference_pages: &[String]) -> Vec<String> {
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
pub(super) fn edge_furniture(path: &Path, pages: usize) -> anyhow::Result<Vec<String>> {
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
pub(super) fn junk(text: &str, heads: &[String], d: &Detectors) -> Junk {
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
