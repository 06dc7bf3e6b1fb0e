use super::*;

fn entry(title: &str, level: u32, page: u32) -> OutlineEntry {
    OutlineEntry {
        title: title.into(),
        level,
        page,
    }
}

fn para(text: &str, page: u32) -> Paragraph {
    Paragraph {
        text: text.into(),
        page_start: page,
        page_end: page,
        kind: shared_domain::domain::ChunkKind::Body,
        heading: false,
    }
}

#[test]
fn a_chapter_starts_at_its_heading_not_at_the_top_of_its_page() {
    // A two-column paper: title and abstract above "1 Introduction" on page 1,
    // and "2 Methods" half-way down page 2.
    let outline = [entry("1 Introduction", 1, 1), entry("2 Methods", 1, 2)];
    let paragraphs = [
        para("A Study of Things", 1),
        para("Abstract. We studied things.", 1),
        para("I. INTRODUCTION", 1),
        para("Things matter.", 1),
        para("More on why they matter.", 2),
        para("2. Methods.", 2),
        para("We looked.", 2),
    ];
    let chapters = Chapters::from_outline(&outline);
    assert_eq!(
        chapters.assign(&paragraphs),
        [
            None,
            None,
            Some("1 Introduction"),
            Some("1 Introduction"),
            Some("1 Introduction"),
            Some("2 Methods"),
            Some("2 Methods"),
        ]
    );
    // Without headings the layout can tell, numbered sections by their shape;
    // a numbered list is not one.
    let paper = [
        para("A title, an abstract.", 1),
        para("1. Introduction", 1),
        para("Things matter.", 1),
        para("2. Experimental method", 2),
        para("We looked. These are the steps:", 2),
        para("1. Clean the substrate", 2),
        para("2. Grow the layer", 2),
        para("Then we measured.", 2),
        para("3. Results and discussion", 3),
        para("It worked.", 3),
    ];
    let chapters = Chapters::from_headings(&paper, 3);
    assert_eq!(
        chapters.assign(&paper),
        [
            None,
            Some("1. Introduction"),
            Some("1. Introduction"),
            Some("2. Experimental method"),
            Some("2. Experimental method"),
            Some("2. Experimental method"),
            Some("2. Experimental method"),
            Some("2. Experimental method"),
            Some("3. Results and discussion"),
            Some("3. Results and discussion"),
        ]
    );
    // Before the first chapter, a heading of its own names the part it opens.
    // A first line shaped like a title names what follows it; on the first
    // chapter's page, what is still unnamed is that chapter's.
    let mut opening = [
        para("Opening words, in a sentence: not a title.", 1),
        para("Abstract", 1),
        para("We studied things.", 1),
        para("1 Introduction", 2),
    ];
    opening[1].heading = true;
    let chapters = Chapters::from_outline(&[entry("1 Introduction", 1, 2)]);
    let mut labels = chapters.assign(&opening);
    label_the_opening(&opening, &mut labels);
    assert_eq!(
        labels,
        [
            None,
            Some("Abstract"),
            Some("Abstract"),
            Some("1 Introduction")
        ]
    );
    let opening = [
        para("Version: 1.3, 10 March 2019.", 2),
        para("1 Introduction", 2),
    ];
    let mut labels = chapters.assign(&opening);
    label_the_opening(&opening, &mut labels);
    assert_eq!(labels, [Some("1 Introduction"), Some("1 Introduction")]);
    let opening = [
        para("Parallel Columns in Two Languages", 1),
        para("This file shows parallel columns.", 1),
        para("Глава 1.", 1),
        para("Трактат Второй", 1),
        para("Text.", 1),
    ];
    let chapters = Chapters::from_outline(&[entry("Трактат Второй", 1, 1)]);
    let mut labels = chapters.assign(&opening);
    label_the_opening(&opening, &mut labels);
    assert_eq!(
        labels,
        [
            Some("Parallel Columns in Two Languages"),
            Some("Parallel Columns in Two Languages"),
            Some("Трактат Второй"),
            Some("Трактат Второй"),
            Some("Трактат Второй")
        ]
    );
    // A title no paragraph carries: the chapter starts with its page.
    let chapters = Chapters::from_outline(&[entry("Front", 1, 1), entry("Elsewhere", 1, 2)]);
    assert_eq!(chapters.assign(&paragraphs)[4], Some("Elsewhere"));
}

#[test]
fn without_an_outline_headings_make_the_chapters() {
    let mut paragraphs = vec![
        para("A Study of Things", 1),
        para("Ann Author, Bob Author", 1),
        para("1. Introduction", 1),
        para("Text.", 2),
        para("2 Going Further", 3),
        para("More text.", 3),
    ];
    for i in [0, 1, 2, 4] {
        paragraphs[i].heading = true;
    }
    let chapters = Chapters::from_headings(&paragraphs, 3);
    assert_eq!(
        chapters.assign(&paragraphs),
        [
            None,
            None,
            Some("1. Introduction"),
            Some("1. Introduction"),
            Some("2 Going Further"),
            Some("2 Going Further")
        ]
    );
    // A title and an author line alone make no chapters.
    let chapters = Chapters::from_headings(&paragraphs[..2], 3);
    assert_eq!(chapters.assign(&paragraphs[..2]), [None, None]);
    // Unnumbered headings over several pages do.
    let mut plain = vec![
        para("Intro text.", 1),
        para("Getting Started", 2),
        para("Text.", 2),
        para("Going Further", 3),
        para("Last Words", 4),
    ];
    for i in [1, 3, 4] {
        plain[i].heading = true;
    }
    let chapters = Chapters::from_headings(&plain, 4);
    assert_eq!(
        chapters.assign(&plain),
        [
            None,
            Some("Getting Started"),
            Some("Getting Started"),
            Some("Going Further"),
            Some("Last Words")
        ]
    );
}

#[test]
fn footnotes_can_be_read_in_the_flow() {
    use shared_domain::domain::ChunkKind;
    let mut note = para("1 For portable R code only A–Za–z0–9 should be used.", 11);
    note.kind = ChunkKind::Notes;
    let mut paragraphs = vec![para("Symbols are allowed.", 11), note];
    notes_inline(&mut paragraphs, Some("en"));
    assert_eq!(paragraphs[1].kind, ChunkKind::Body);
    assert_eq!(
        paragraphs[1].text,
        "Note: For portable R code only A–Za–z0–9 should be used."
    );
}

#[test]
fn code_is_announced_in_the_books_language() {
    use shared_domain::domain::ChunkKind;
    let mut code = para("> help(solve)", 1);
    code.kind = ChunkKind::Code;
    let mut paragraphs = vec![
        para("To get help, the command is", 1),
        code.clone(),
        para("Done.", 1),
        code.clone(),
    ];
    placeholders(&mut paragraphs, Some("en"));
    let texts: Vec<(&str, ChunkKind)> = paragraphs
        .iter()
        .map(|p| (p.text.as_str(), p.kind))
        .collect();
    assert_eq!(
        texts,
        [
            (
                "To get help, the command is: a code example.",
                ChunkKind::Body
            ),
            ("> help(solve)", ChunkKind::Code),
            ("Done.", ChunkKind::Body),
            ("A code example.", ChunkKind::Body),
            ("> help(solve)", ChunkKind::Code),
        ]
    );
    let mut unknown = vec![para("Kod:", 1), code];
    placeholders(&mut unknown, Some("tk"));
    assert_eq!(
        unknown.len(),
        2,
        "no wording for this language: nothing said"
    );
}

#[test]
fn chapters_come_from_the_shallowest_level_with_siblings() {
    let outline = [
        entry("The Book", 1, 1),
        entry("Intro", 2, 2),
        entry("1.1 Detail", 3, 3),
        entry("Usage", 2, 10),
    ];
    let chapters = Chapters::from_outline(&outline);
    assert_eq!(chapters.at(1), None);
    assert_eq!(chapters.at(2), Some("Intro"));
    assert_eq!(chapters.at(9), Some("Intro"));
    assert_eq!(chapters.at(50), Some("Usage"));
}
