use super::*;

#[test]
fn a_notice_on_every_page_is_furniture_wherever_it_is_drawn() {
    // pypdf_issue-604_indesign.pdf: the copyright notice comes first in the
    // text order on some pages, after the body on others.
    let notice = "Version 2.2020, 07/15/20 © 2020 National Comprehensive Cancer Network, All rights reserved.";
    let words = [
        "apple", "birch", "cedar", "dune", "elm", "fern", "grove", "heath", "iris", "juniper",
        "kelp", "larch",
    ];
    let pages: Vec<Vec<String>> = words
        .iter()
        .enumerate()
        .map(|(n, w)| {
            let mut lines: Vec<String> = vec![
                format!("Heading about the {w}"),
                format!("A first line of body text about the {w} tree."),
                format!("A second line of body text about the {w} wood."),
                format!("A third line of body text about the {w} leaf."),
                format!("The last line of body text about the {w} bark."),
                "Its footer".into(),
            ];
            lines.insert(if n % 2 == 0 { 0 } else { 3 }, notice.into());
            lines
        })
        .collect();
    let repeated = repeated_edge_lines(&pages, &[]);
    let kept = kept_lines(&pages[1], &[], &repeated, pages.len(), &[], None);
    assert!(!kept.contains(&3), "the notice in mid-page goes");
    assert!(kept.contains(&1) && kept.contains(&2), "body stays");
}

#[test]
fn a_folio_glued_to_a_heads_numbers_is_still_the_head() {
    // pdfparse_02-valid_googledocs.pdf: pdf-extract glues the folio of even
    // pages to the head's page range and sets it apart on odd ones.
    let even = signature("Y. Özen et al. / Solar Energy Materials & Solar Cells 137 (2015) 1–52");
    let odd = signature("Y. Özen et al. / Solar Energy Materials & Solar Cells 137 (2015) 1–5 3");
    assert_eq!(even, odd);
    assert_eq!(signature("Page 12 of 40"), signature("Page 13 of 40"));
    assert_ne!(signature("Chapter 4 Storms"), signature("Chapter 4 Lamps"));
    // A row of figures is not a folio.
    assert_ne!(signature("2019 45.2 33.1 12.0"), signature("12"));
}

#[test]
fn a_short_articles_head_on_two_pages_of_one_side_is_a_head() {
    // pdfparse_04-valid_quark.pdf: five pages, the odd pages' foot.
    let foot = "June 2009Effect of speed exercise on NO in footballersNo: 3Vol: 39";
    let page = |first: &str, last: &str| -> Vec<String> {
        [first, "body text goes here", "and on", "and on again", last]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    let pages = vec![
        page("Turk J Med Sci", "osaygin@mu.edu.tr"),
        page("Introduction", "362"),
        page("concentration of 15 g/l.", foot),
        page("Turk J Med SciEffect of speed exercise", "Figure 1."),
        page("References", foot),
    ];
    let repeated = repeated_edge_lines(&pages, &[]);
    assert!(repeated.contains_key(&signature(foot)));
    assert!(!repeated.contains_key(&signature("Introduction")));
}

#[test]
fn ocr_noise_does_not_hide_a_running_head() {
    // pypdf_vicksburg_scan_ocr.pdf: pages 49 and 50 of the book, the second head misread.
    let page = |head: &str, body: &str| -> Vec<String> {
        [head, body, "more text of the page", "and its last line"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    let pages = vec![
        page("THE SIEGE OF VICKSBURG. 49", "however, did not last long;"),
        page("50 THE SIEGE OF VICKSBUEG.", "The Yankee Lookout."),
    ];
    let heads = numbered_heads_nearby(&pages);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(nearly_equal(
        "the siege op vicksburg.",
        "the siege of vicksburg."
    ));
    assert!(!nearly_equal(
        "4.3 the 2.x releases",
        "4.4 the 3.x releases"
    ));
}

#[test]
fn a_chapter_title_repeated_near_the_top_is_its_running_head() {
    // alpha-persian_userguide.pdf page 3 through poppler: margin line numbers
    // first, then the head, then its folio.
    let page: Vec<String> = [
        "1",
        "",
        "١٨",
        "١٩",
        "٢٠",
        "٢١",
        "",
        "ALPHA-PERSIAN.BST WITH XELATEX",
        "",
        "3",
        "",
        "journal={Kyungpook mathematical journal},",
        "pages={1163--1171},",
        "LANGUAGE={Persian},",
        "year={2002},",
        "chapter={5},",
    ]
    .iter()
    .map(|l| (*l).to_owned())
    .collect();
    let kept = kept_lines(
        &page,
        &[],
        &HashMap::new(),
        16,
        &[],
        Some("alpha-persian.bst with XeLaTeX"),
    );
    let texts: Vec<&str> = kept
        .iter()
        .map(|&i| page[i].as_str())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(texts[0], "journal={Kyungpook mathematical journal},");
    // Without the chapter's title (its first page), the line stays.
    let kept = kept_lines(&page, &[], &HashMap::new(), 16, &[], None);
    assert!(
        kept.iter()
            .any(|&i| page[i] == "ALPHA-PERSIAN.BST WITH XELATEX")
    );
}

#[test]
fn persian_line_numbers_are_numbering_too() {
    // alpha-persian_userguide.pdf: a BibTeX listing numbered in Persian digits.
    let lines: Vec<String> = ["١", "٢", "٣", "۴", "@article{key,", "١٠"]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    assert_eq!(line_number_runs(&lines), [0, 1, 2, 3]);
}

#[test]
fn margin_line_numbers_are_numbering() {
    // eledpar_columns_langs.pdf: "2" … "9", then "1R" … "5R".
    let lines: Vec<String> = [
        "Глава 1",
        "1",
        "",
        "2",
        "3",
        "4",
        "Трактат Второй",
        "1R",
        "",
        "2R",
        "3R",
        "In 1990 it was 12",
        "7",
        "Then.",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(line_number_runs(&lines), [1, 3, 4, 5, 7, 9, 10]);
}

#[test]
fn page_numbers_are_recognised() {
    for s in ["12", "- 12 -", "xiv", "Page 3", "3 / 40", "[7]"] {
        assert!(is_page_number(s), "{s}");
    }
    for s in ["1984 was a year.", "Chapter 3", "I", "12 Angry Men"] {
        assert!(!is_page_number(s), "{s}");
    }
}
