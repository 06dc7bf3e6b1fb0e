use super::*;
use crate::text::OutlineEntry;

fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().to_owned()).collect()
}

fn no_outline() -> Chapters {
    Chapters::from_outline(&[])
}

#[test]
fn reference_lines_are_recognised() {
    let r = |l| ref_line(l);
    assert_eq!(
        r("1.2 Pronouncing Debian . . . . . . . . . 1"),
        Some(RefLine {
            page: 1,
            leader: true,
            comma: false
        })
    );
    assert_eq!(
        r("Overview ........................................ 2"),
        Some(RefLine {
            page: 2,
            leader: true,
            comma: false
        })
    );
    assert_eq!(
        r("regular expression, 10, 267, 268, 270,"),
        None,
        "a continued list ends in a comma"
    );
    assert_eq!(
        r("ReferenceClasses, 1209, 1262, 1269, 1293"),
        Some(RefLine {
            page: 1293,
            leader: false,
            comma: true
        })
    );
    assert_eq!(
        r("Preface . . . . . . . . . xi"),
        Some(RefLine {
            page: 0,
            leader: true,
            comma: false
        })
    );
    assert_eq!(r("2 Leadership 2").map(|r| r.page), Some(2));
    assert_eq!(r("42"), None);
    assert_eq!(r("3.14 . . . 12"), None);
    assert_eq!(
        r(
            "The war ended in 1865, and the reconstruction began slowly over the following years in 1877"
        ),
        None
    );
}

#[test]
fn a_table_of_contents_and_an_index_are_told_from_prose() {
    // rdoc_R-intro.pdf, page 3 (abridged) and page 108.
    let contents = lines(
        "i
             Table of Contents
             Preface . . . . . . . . . . . . . . . . . . . . . . 1
             1 Introduction and preliminaries . . . . . . . . 2
             1.1 The R environment . . . . . . . . . . . . . . 2
             1.2 Related software and documentation . . . . . 2
             1.4 R and the window system. . . . . . . . . . . 3
             2 Simple manipulations; numbers and vectors . . 8",
    );
    let index = lines(
        "Appendix D Function and variable index
             !
             ! . . . . . . . . . . . . . . . . . . . . . . . 10
             != . . . . . . . . . . . . . . . . . . . . . . 10
             %*% . . . . . . . . . . . . . . . . . . . . . 24
             %o% . . . . . . . . . . . . . . . . . . . . . 23
             && . . . . . . . . . . . . . . . . . . . . . . 43
             * . . . . . . . . . . . . . . . . . . . . . . . 9",
    );
    let prose = lines(
        "The war ended in 1865. Reconstruction took until 1877, when the last
             troops left; historians still argue about what it achieved in 12
             states and how much of it lasted past 1900.",
    );
    let kinds = page_kinds(
        &[lines("An Introduction to R"), contents, prose, index],
        &no_outline(),
    );
    assert_eq!(
        kinds,
        [
            ChunkKind::FrontMatter,
            ChunkKind::Contents,
            ChunkKind::Body,
            ChunkKind::Index
        ]
    );
}

#[test]
fn a_contents_page_without_leaders_continues_one_with_them() {
    // debhist_en.pdf page 4: chapter lines carry no leader dots.
    let first = lines(
        "Contents
             1 Introduction -- What is the Debian Project? 1
             1.1 In the Beginning . . . . . . . . . . . . 1
             2 Leadership 2
             3 Debian Releases 3
             4 A Detailed History 6",
    );
    let second = lines(
        "5 Debian Releases 17
             6 Leadership 20
             7 Future 22
             8 Manifesto 24",
    );
    assert_eq!(
        page_kinds(&[first, second], &no_outline()),
        [ChunkKind::Contents, ChunkKind::Contents]
    );
}

#[test]
fn a_contents_list_on_a_page_with_text_is_found() {
    // alpha-persian_userguide.pdf page 1 through poppler: each entry's page
    // number on a line of its own, then the guide's own text.
    let page = lines(
        "ALPHA-PERSIAN.BST WITH XELATEX
             Contents
             1 alpha-persian.bst with XELATEX

             1

             2 alpha-persian.bst with PDFLATEX

             14
             version: 1.3
             10 March 2019",
    );
    assert_eq!(contents_block(&page), Some(1..9));
    // Entries with their numbers on the line (debhist_en.pdf's shape) too.
    let page = lines(
        "Table of Contents
             1 Introduction 1
             2 Leadership 2
             The history begins in 1993, when Ian Murdock wrote the manifesto.",
    );
    assert_eq!(contents_block(&page), Some(0..3));
    // A "Contents" heading with one entry, or prose, is not a list.
    assert_eq!(contents_block(&lines("Contents\n1 Introduction 1")), None);
    assert_eq!(
        contents_block(&lines(
            "Contents\nThe contents of the box are listed below."
        )),
        None
    );
}

#[test]
fn a_table_of_numbers_is_not_an_index() {
    let table = lines(
        "Alabama 4903
             Alaska 731
             Arizona 7278
             Arkansas 3017
             California 39512",
    );
    assert_eq!(page_kinds(&[table], &no_outline()), [ChunkKind::Body]);
}

#[test]
fn alpha_labels_and_labels_set_apart_are_reference_entries() {
    assert!(alpha_label(
        "[Kar12] O. Karamzadeh, The prime avoidance lemma, 2012."
    ));
    assert!(alpha_label("[GNE+ 16] M. Ghafarzadeh et al."));
    assert!(alpha_label("[Ke98]"));
    for text in ["[see 12]", "[Note]", "[x2] y", "[ABCDEFGH12]", "[12]"] {
        assert!(!alpha_label(text), "{text}");
    }
    // alpha-persian_userguide.pdf page 13 through poppler: each label a
    // paragraph of its own above its entry.
    let para = |text: &str| crate::text::Paragraph {
        text: text.into(),
        page_start: 13,
        page_end: 13,
        kind: ChunkKind::Body,
        heading: false,
    };
    let mut paragraphs = vec![
        para("With pdflatex, we have all the properties."),
        para("Sample output follows."),
        para("[1]"),
        para("A. Aliabad, Rings of continuous functions, 45:519–533, 2004. 12"),
        para("[Kar12] O. Karamzadeh. The prime avoidance lemma, 52:149–153, 2012."),
    ];
    mark_reference_lists(&mut paragraphs);
    let kinds: Vec<ChunkKind> = paragraphs.iter().map(|p| p.kind).collect();
    assert_eq!(kinds[..2], [ChunkKind::Body; 2]);
    assert_eq!(kinds[2..], [ChunkKind::BackMatter; 3]);
}

#[test]
fn a_papers_reference_list_is_back_matter() {
    let para = |text: &str| crate::text::Paragraph {
        text: text.into(),
        page_start: 5,
        page_end: 5,
        kind: ChunkKind::Body,
        heading: false,
    };
    let mut paragraphs = vec![
        para("Introduction text."),
        para("Results text."),
        para("Conclusion text."),
        para("References"),
        para("[1] I. Gordon, Prog. Photovoltaics 13 (2005) 201–208."),
        para("[2] G. Yang, Sol. Cells 94 (2010) 381–385."),
    ];
    mark_reference_lists(&mut paragraphs);
    let kinds: Vec<ChunkKind> = paragraphs.iter().map(|p| p.kind).collect();
    assert_eq!(&kinds[..3], [ChunkKind::Body; 3]);
    assert_eq!(&kinds[3..], [ChunkKind::BackMatter; 3]);
    // A "References" section of prose, early in the book, stays.
    let mut early = vec![
        para("References"),
        para("This chapter explains how references work in R."),
        para("More."),
    ];
    mark_reference_lists(&mut early);
    assert!(early.iter().all(|p| p.kind == ChunkKind::Body));
    // No heading (pdfparse_02's journal prints it as an image): "[1] …" on.
    let mut unheaded = vec![
        para("Introduction text."),
        para("Results text."),
        para("Conclusion text."),
        para("[1] C.S. Solanki, Prog. Photovoltaics 13 (2005) 201–208. [2] I. Gordon."),
        para("Sol. Energy Mater. Sol. Cells 133 (2015) 156–162."),
    ];
    unheaded.extend([
        para("Fig. 6. A caption among the entries."),
        para("[3] K. Barnham, Physica E 14 (2002) 27–36."),
        para(&"Appendix A. Prose resumes here, at length. ".repeat(5)),
        para(&"It goes on, as prose does, in 1990 and after. ".repeat(5)),
        para("And on."),
        para("And on again."),
    ]);
    let mut unheaded: Vec<crate::text::Paragraph> = (0..7)
        .map(|_| para("More of the paper's prose."))
        .chain(unheaded)
        .collect();
    mark_reference_lists(&mut unheaded);
    let kinds: Vec<ChunkKind> = unheaded.iter().skip(7).map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::BackMatter,
            ChunkKind::BackMatter,
            ChunkKind::Body,
            ChunkKind::BackMatter,
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::Body,
        ]
    );
}

#[test]
fn outline_titles_mark_apparatus_and_front_matter() {
    let outline: Vec<OutlineEntry> = [
        ("Preface", 3),
        ("1 Introduction", 4),
        ("Appendix A References", 6),
        ("Appendix D Function and variable index", 7),
    ]
    .iter()
    .map(|(t, p)| OutlineEntry {
        title: (*t).into(),
        level: 1,
        page: *p,
    })
    .collect();
    let pages: Vec<Vec<String>> = (0..8).map(|_| lines("Some prose.")).collect();
    assert_eq!(
        page_kinds(&pages, &Chapters::from_outline(&outline)),
        [
            ChunkKind::FrontMatter,
            ChunkKind::FrontMatter,
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::Body,
            ChunkKind::BackMatter,
            ChunkKind::Index,
            ChunkKind::Index,
        ]
    );
    assert_eq!(
        kind_of_title("Using the index of a vector in loops and more"),
        None
    );
    assert_eq!(kind_of_title("Index of tables"), None);
}
