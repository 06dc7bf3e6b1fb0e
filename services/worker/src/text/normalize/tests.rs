use super::*;

fn texts(pages: &[&str]) -> Vec<String> {
    normalize(&pages.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
        .into_iter()
        .map(|p| p.text)
        .collect()
}

#[test]
fn ligatures_soft_hyphens_and_controls_go() {
    assert_eq!(
        texts(&["The \u{FB01}nal of\u{00AD}fice\u{0007} was  \u{FB02}at."]),
        ["The final office was flat."]
    );
}

#[test]
fn tex_circled_letters_become_their_symbols() {
    assert_eq!(
        texts(&["Copyright c\u{20DD} 1990, Acme R\u{20DD} and x\u{20DD}y."]),
        ["Copyright © 1990, Acme ® and xy."]
    );
}

#[test]
fn rows_with_wide_gaps_are_a_table() {
    let mut lines: Vec<(String, Role)> = [
        "Shells compared.",
        "dash V:894 191 Yes",
        "zsh V:37 2436 Yes",
        "csh V:1 340",
        "tcsh V:8 1346 No",
        "Table 1.13: List of shell programs.",
    ]
    .iter()
    .map(|l| ((*l).to_owned(), Role::Body))
    .collect();
    mark_tables(&mut lines, &[0, 3, 3, 2, 3, 0]);
    let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
    assert_eq!(
        roles,
        [
            Role::Body,
            Role::Table,
            Role::Table,
            Role::Table,
            Role::Table,
            Role::Body
        ]
    );
    // Two rows are not a table.
    let mut two: Vec<(String, Role)> = vec![
        ("a  b  c".into(), Role::Body),
        ("d  e  f".into(), Role::Body),
    ];
    mark_tables(&mut two, &[2, 2]);
    assert!(two.iter().all(|l| l.1 == Role::Body));
    // debref_zh-cn.pdf page 145: rows set with a blank line between them.
    let mut spaced: Vec<(String, Role)> = [
        "fonts-noto I:130 35 61 63 40 Noto fonts",
        "",
        "fonts-dejavu I:422 39 58 68 40 DejaVu",
        "",
        "fonts-croscore V:20, I:44 5278 56 60 40 Chrome OS",
        "",
        "The fonts above are free.",
    ]
    .iter()
    .map(|l| ((*l).to_owned(), Role::Body))
    .collect();
    mark_tables(&mut spaced, &[6, 0, 6, 0, 5, 0, 0]);
    let roles: Vec<Role> = spaced.iter().map(|l| l.1).collect();
    assert_eq!(roles[..5], [Role::Table; 5]);
    assert_eq!(roles[6], Role::Body);
    // The same page: a description cell wrapped onto two lines of its own
    // between rows does not end the table.
    let mut wrapped: Vec<(String, Role)> = [
        "fonts-noto I:130 35 61 63 40 Noto fonts (Google, 有",
        "CJK 的多语言)",
        "fonts-dejavu I:422 39 58 68 40 DejaVu (GNOME 2,",
        "MCM:Verdana, 扩展",
        "Bitstream Vera)",
        "fonts-liberation2 V:114, I:378 4290 56 60 40 Liberation",
        "fonts-croscore V:20, I:44 5278 56 60 40 Chrome OS",
    ]
    .iter()
    .map(|l| ((*l).to_owned(), Role::Body))
    .collect();
    mark_tables(&mut wrapped, &[6, 0, 6, 0, 0, 4, 5]);
    assert!(wrapped.iter().all(|l| l.1 == Role::Table), "{wrapped:?}");
}

#[test]
fn a_lone_section_number_rejoins_the_title_it_numbers() {
    // alpha-persian_userguide.pdf page 1 through poppler: "1", then the
    // title of the outline's first chapter.
    let mut lines = roled(&[
        ("Contents", Role::Body),
        ("1 alpha-persian.bst with XELATEX 1", Role::Body),
        ("14", Role::Body),
        ("1", Role::Body),
        ("", Role::Body),
        ("alpha-persian.bst with XELATEX", Role::Body),
        ("Bib style alpha-persian.", Role::Body),
    ]);
    join_section_numbers(&mut lines, |line| {
        line.to_lowercase()
            .starts_with("alpha-persian.bst with xelatex")
    });
    let texts: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Contents",
            "1 alpha-persian.bst with XELATEX 1",
            "14",
            "",
            "",
            "1 alpha-persian.bst with XELATEX",
            "Bib style alpha-persian."
        ]
    );
}

fn roled(lines: &[(&str, Role)]) -> Vec<(String, Role)> {
    lines.iter().map(|(l, r)| ((*l).to_owned(), *r)).collect()
}

#[test]
fn rows_of_figures_are_a_table_and_figures_in_a_sentence_are_not() {
    // pdfparse_04-valid_quark.pdf page 3: a table set without wide gaps.
    let mut lines = roled(&[
        (
            "Arithmetic Mean Standard Deviation Minimum Maximum",
            Role::Body,
        ),
        ("Age (years) 24.21 3.41 18.00 32.00", Role::Body),
        ("Height (cm) 173.2 7.04 162 185", Role::Body),
        ("Weight (kg) 67.85 5.17 62.32 77.67", Role::Body),
        ("Table 1. The subjects.", Role::Body),
        (
            "consisting of five numbers, namely 10.4, 5.6, 3.1, 6.4 and 21.7,",
            Role::Body,
        ),
        ("use the assignment in 2023 and 2024 for 3 days", Role::Body),
        ("1.5 2.0 2.5 3.0 3.5 4.0", Role::Body),
    ]);
    mark_numeric_tables(&mut lines);
    let tables: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].1 == Role::Table)
        .collect();
    assert_eq!(tables, [1, 2, 3, 7]);
}

#[test]
fn a_journals_banner_above_the_title_is_front_matter() {
    // pdfparse_04-valid_quark.pdf page 1: the banner at the top right in 9 pt,
    // the title in 16 pt, the text in 10 pt.
    let line = |y: f32, size: f32| LineBox {
        y,
        x0: 45.,
        x1: 500.,
        size,
        mono: false,
        glyph_width: 0.,
        note: false,
        starts_note: false,
        gaps: 0,
        bold: false,
        math: false,
    };
    let mut lines = roled(&[
        ("Turk J Med Sci", Role::Body),
        ("2009; 39 (3): 361-365", Role::Body),
        ("Effect of speed exercise on NO", Role::Heading),
        ("Received: February 25, 2009", Role::Body),
        ("The text begins.", Role::Body),
    ]);
    let boxes = [
        line(45., 9.),
        line(56., 9.),
        line(150., 16.),
        line(547., 8.5),
        line(600., 10.),
    ];
    let refs: Vec<&LineBox> = boxes.iter().collect();
    mark_banner(&mut lines, &refs, 792., 10.);
    let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
    assert_eq!(
        roles,
        [
            Role::Banner,
            Role::Banner,
            Role::Heading,
            Role::Body,
            Role::Body
        ]
    );
}

#[test]
fn a_formulas_pieces_join_it() {
    // revtex_apssamp.pdf page 3: a fraction's denominator and the equation
    // number are drawn as lines of their own, without math glyphs.
    let mut lines = roled(&[
        ("Displayed math will center by default:", Role::Body),
        ("χ+(p) ≲ [2|p|(|p| + pz)]", Role::Formula),
        ("px + ipy", Role::Body),
        (") , (1)", Role::Body),
        ("Note the open one in Eq. (2).", Role::Body),
    ]);
    join_formula_pieces(&mut lines);
    let roles: Vec<Role> = lines.iter().map(|l| l.1).collect();
    assert_eq!(
        roles,
        [
            Role::Body,
            Role::Formula,
            Role::Formula,
            Role::Formula,
            Role::Body
        ]
    );
    // Without a formula line nothing changes.
    let mut plain = roled(&[("x + y", Role::Body), ("(1)", Role::Body)]);
    join_formula_pieces(&mut plain);
    assert!(plain.iter().all(|l| l.1 == Role::Body));
}

#[test]
fn a_short_bold_line_is_a_heading_and_a_bold_paragraph_is_not() {
    let mut lines = roled(&[
        ("the end of a paragraph.", Role::Body),
        ("2.3 Results", Role::Body),
        ("We found that the method works well in", Role::Body),
        ("Warning: every line of this paragraph", Role::Body),
        ("is set in bold, for emphasis, and so", Role::Body),
        ("it is read as the prose it is.", Role::Body),
        ("A bold line that ends mid-sentence,", Role::Body),
        ("and goes on.", Role::Body),
    ]);
    mark_bold_headings(
        &mut lines,
        &[false, true, false, true, true, true, true, false],
    );
    let headings: Vec<&str> = lines
        .iter()
        .filter(|l| l.1 == Role::Heading)
        .map(|l| l.0.as_str())
        .collect();
    assert_eq!(headings, ["2.3 Results"]);
}

#[test]
fn right_to_left_runs_are_read_from_the_right() {
    // eledpar_columns_langs.pdf through pdftotext: each line's runs left to right.
    assert_eq!(
        texts(&[
            "\u{202B} ר״ל שהם יסודות\u{202C},\u{202B}בפנות התוריות\u{202C}\n.\u{202B}חלילה\u{202C}"
        ]),
        ["בפנות התוריות, ר״ל שהם יסודות חלילה."]
    );
    // XeTeX through poppler: one run per line, in reading order, with the
    // full stop between sentences as a nested left-to-right run.
    assert_eq!(
        texts(&[
            "\u{202B}המגדלור עומד על הצוק מעל הנמל כבר מאה שנה\u{202A} .\u{202C}השומר\u{202C}\n\u{202B}עולה במדרגות\u{202A}.\u{202C}\u{202C}"
        ]),
        ["המגדלור עומד על הצוק מעל הנמל כבר מאה שנה. השומר עולה במדרגות."]
    );
    // Mostly left-to-right: untouched (marks dropped).
    assert_eq!(
        texts(&["The word \u{202B}שלום\u{202C} means peace."]),
        ["The word שלום means peace."]
    );
}

#[test]
fn no_word_starts_with_a_combining_mark() {
    // rdoc_R-intro.pdf page 7, revtex_apssamp.pdf, debref_en.pdf.
    assert_eq!(
        texts(&[
            "suggested by Fran \u{327}cois Pinard, ( \u{30A}A) and U. \u{308} Underwood; ’ \u{300} ”"
        ]),
        ["suggested by François Pinard, (Å) and U. Ünderwood; ’ ”"]
    );
    for paragraph in texts(&["\u{301}\u{301} x \u{300}\n\u{327}"]) {
        for word in paragraph.split_whitespace() {
            assert!(
                !word.starts_with(unicode_normalization::char::is_combining_mark),
                "{paragraph:?}"
            );
        }
    }
}

#[test]
fn wrapped_lines_join_and_hyphenated_words_rejoin() {
    assert_eq!(
        texts(&[
            "A sentence that was hyphen-\nated and\nwrapped.\n\nNext paragraph, Self-\nMade stays."
        ]),
        [
            "A sentence that was hyphenated and wrapped.",
            "Next paragraph, Self- Made stays."
        ]
    );
}

#[test]
fn a_compound_the_book_spells_with_a_hyphen_keeps_it() {
    assert_eq!(
        texts(&[
            "Survival was disease-free for most.\nThe disease-\nfree rate rose; it was com-\nplicated."
        ]),
        ["Survival was disease-free for most. The disease-free rate rose; it was complicated."]
    );
}

#[test]
fn a_navigation_box_drawn_at_one_spot_on_every_page_drops_wherever_the_text_puts_it() {
    // pypdf_issue-604_indesign.pdf: "Table of Contents" and "Discussion" at
    // the top right of each landscape page (baselines 50 and 63 of 612, below
    // the margin band), drawn in the middle of the page's text.
    let at = |y: f32, x0: f32| LineBox {
        y,
        x0,
        x1: x0 + 200.,
        size: 10.,
        mono: false,
        glyph_width: 0.,
        note: false,
        starts_note: false,
        gaps: 0,
        bold: false,
        math: false,
    };
    let mut pages = Vec::new();
    let mut layouts = Vec::new();
    let topics = [
        "nodules",
        "lymphoma",
        "surgery",
        "imaging",
        "iodine",
        "staging",
        "biopsy",
        "follow-up",
        "genetics",
        "pathology",
        "dosing",
        "recurrence",
    ];
    for topic in topics {
        pages.push(format!(
                "The guideline on {topic} begins here.\nTable of Contents\nDiscussion\nIts advice on {topic} goes on."
            ));
        layouts.push(Some(PageLayout {
            width: 792.,
            height: 612.,
            lines: vec![at(120., 40.), at(50., 683.), at(63., 715.), at(134., 40.)],
        }));
    }
    // The Discussion section's own heading, inside its page's text.
    pages.push("The advice ends here.\n\nDiscussion\nThe evidence is weighed here.".into());
    layouts.push(Some(PageLayout {
        width: 792.,
        height: 612.,
        lines: vec![at(90., 40.), at(0., 0.), at(130., 40.), at(144., 40.)],
    }));
    let got: Vec<String> = normalize_book(
        &pages,
        &layouts,
        &Chapters::from_outline(&[]),
        LinkSpeech::default(),
    )
    .into_iter()
    .map(|p| p.text)
    .collect();
    let all = got.join("\n");
    assert!(!all.contains("Table of Contents"), "{got:?}");
    assert_eq!(all.matches("Discussion").count(), 1, "{got:?}");
    for topic in topics {
        assert!(
            all.contains(&format!("Its advice on {topic} goes on.")),
            "{got:?}"
        );
    }
}

#[test]
fn running_headers_footers_and_page_numbers_drop() {
    let pages: Vec<String> = (1..=6)
        .map(|n| format!("The Book Title\nChapter text on page {n} goes on.\n\n{n}"))
        .collect();
    let got: Vec<String> = normalize(&pages).into_iter().map(|p| p.text).collect();
    assert_eq!(got.len(), 6);
    assert!(
        got.iter().all(|t| t.starts_with("Chapter text on page")),
        "{got:?}"
    );
}

#[test]
fn the_numbered_head_of_a_two_page_chapter_drops_but_numbered_headings_stay() {
    // 100 pages: the global threshold (4 pages) is more than this chapter has.
    let mut pages: Vec<String> = (1..=100)
        .map(|n| format!("Body of page {n} ends here.\nMore body text."))
        .collect();
    pages[40] = "Chapter 6: Lists and data frames 41\nLists hold anything.\nMore.".into();
    pages[41] = "Chapter 6: Lists and data frames 42\nFrames are lists.\nMore.".into();
    // Numbered section headings at the top of nearby pages are body text.
    pages[60] = "4.3 The 2.x Releases\nHamm came out.\nMore.".into();
    pages[61] = "4.4 The 3.x Releases\nWoody came out.\nMore.".into();
    let text: String = normalize(&pages)
        .into_iter()
        .map(|p| p.text)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!text.contains("Chapter 6"), "{text}");
    assert!(text.contains("Lists hold anything.") && text.contains("Frames are lists."));
    assert!(text.contains("4.3 The 2.x Releases") && text.contains("4.4 The 3.x Releases"));
}

#[test]
fn a_paragraph_cut_by_a_page_break_is_one_paragraph_over_two_pages() {
    let got = normalize(&[
        "It was the best of\n".into(),
        "times, it was the worst.".into(),
    ]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "It was the best of times, it was the worst.");
    assert_eq!((got[0].page_start, got[0].page_end), (1, 2));
}

#[test]
fn a_japanese_sentence_cut_by_a_page_break_is_one_paragraph() {
    // debhist_ja.pdf pages 15-16: "…倍近くにな" / "りました。"
    let got = normalize(&[
        "従来リリースの倍近くにな".into(),
        "りました。新規パッケージ。".into(),
    ]);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].text,
        "従来リリースの倍近くになりました。新規パッケージ。"
    );
    let apart = normalize(&["一つ目の文です。".into(), "二つ目の文です。".into()]);
    assert_eq!(apart.len(), 2);
}

#[test]
fn cjk_lines_join_without_spaces() {
    assert_eq!(
        texts(&["これは日本語の\n文章です。"]),
        ["これは日本語の文章です。"]
    );
    assert_eq!(texts(&["Привет,\nмир."]), ["Привет, мир."]);
}
