use super::*;

fn para(text: &str, page: u32) -> Paragraph {
    Paragraph {
        text: text.into(),
        page_start: page,
        page_end: page,
        kind: ChunkKind::Body,
        heading: false,
    }
}

fn run(paras: &[Paragraph], sizes: ChunkSizes) -> Vec<TextChunk> {
    chunk(
        paras.iter().map(|p| Section {
            paragraph: p,
            chapter: None,
        }),
        sizes,
    )
}

#[test]
fn sentences_stay_whole_and_chunks_stay_under_max() {
    let text = "This is one sentence. ".repeat(100);
    let chunks = run(
        &[para(&text, 1)],
        ChunkSizes {
            target: 100,
            max: 150,
            sentence: 150,
        },
    );
    assert!(chunks.len() > 10);
    for c in &chunks {
        assert!(c.char_count <= 150, "{}", c.char_count);
        assert_eq!(c.char_count, c.text.chars().count());
        assert!(
            c.text.starts_with("This") && c.text.ends_with("sentence."),
            "{:?}",
            c.text
        );
    }
}

#[test]
fn an_overlong_sentence_is_cut_between_words() {
    let text = "word ".repeat(1000);
    let chunks = run(
        &[para(&text, 3)],
        ChunkSizes {
            target: 80,
            max: 100,
            sentence: 100,
        },
    );
    for c in &chunks {
        assert!(c.char_count <= 100);
        let words = c.text.trim_end_matches('.');
        assert!(words.split(' ').all(|w| w == "word"), "{:?}", c.text);
        assert_eq!((c.page_start, c.page_end), (3, 3));
    }
    let url = "x".repeat(250);
    let url = format!("{url} and so on");
    let chunks = run(
        &[para(&url, 1)],
        ChunkSizes {
            target: 80,
            max: 100,
            sentence: 100,
        },
    );
    assert_eq!(
        chunks.iter().map(|c| c.char_count).collect::<Vec<_>>(),
        [100, 100, 60]
    );
}

#[test]
fn long_sentences_are_cut_where_a_reader_breathes() {
    // pypdf_issue-604_indesign.pdf has 424 sentences over 250 characters.
    let long = "Patients with differentiated thyroid carcinoma who have undergone total \
            thyroidectomy are usually treated with radioactive iodine when the tumour is \
            larger than four centimetres; those with smaller tumours, without extrathyroidal \
            extension or nodal disease, are followed with ultrasound and thyroglobulin, \
            and the decision is shared with the patient after discussing the risks.";
    let got = sentences(long, 250);
    assert!(got.len() >= 2, "{got:?}");
    assert!(got.iter().all(|s| s.chars().count() <= 250), "{got:?}");
    assert!(got[0].ends_with("four centimetres;"), "{got:?}");
    assert_eq!(
        got.join(" "),
        long.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    // Without clause punctuation: commas, then words.
    let commas = format!("{}end", "one, two, three, four, ".repeat(20));
    let got = sentences(&commas, 100);
    assert!(
        got.iter()
            .all(|s| s.chars().count() <= 100 && !s.starts_with(' ')),
        "{got:?}"
    );
    assert!(
        got[..got.len() - 1].iter().all(|s| s.ends_with(',')),
        "{got:?}"
    );
}

#[test]
fn headings_and_list_items_end_with_a_pause() {
    assert_eq!(
        sentences("1.1 The R environment", 250),
        ["1.1 The R environment."]
    );
    assert_eq!(sentences("Is it?", 250), ["Is it?"]);
    assert_eq!(sentences("x <- c(1, 2)", 250), ["x <- c(1, 2)"]);
    assert_eq!(sentences("Author(s)", 250), ["Author(s)."]);
    assert_eq!(sentences("The “Extras”", 250), ["The “Extras”."]);
    assert_eq!(sentences("第一章 介绍", 250), ["第一章 介绍。"]);
}

#[test]
fn chunks_record_where_each_sentence_starts() {
    let chunks = run(
        &[para("One here. Two there!", 1), para("Ça va. Oui", 1)],
        ChunkSizes::default(),
    );
    assert_eq!(chunks.len(), 1);
    let c = &chunks[0];
    assert_eq!(c.text, "One here. Two there!\n\nÇa va. Oui.");
    assert_eq!(c.sentence_starts, [0, 10, 22, 29]);
    let chars: Vec<char> = c.text.chars().collect();
    for start in &c.sentence_starts {
        assert!(!chars[*start as usize].is_whitespace());
    }
}

#[test]
fn a_change_of_kind_starts_a_new_chunk() {
    let mut contents = para("Preface . . . 1", 1);
    contents.kind = ChunkKind::Contents;
    let body = para("It begins.", 2);
    let chunks = run(&[contents, body], ChunkSizes::default());
    assert_eq!(
        chunks.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [ChunkKind::Contents, ChunkKind::Body]
    );
}

#[test]
fn no_piece_is_over_the_maximum_even_for_a_monstrous_grapheme() {
    let monster = format!("a{}", "\u{301}".repeat(300));
    for piece in split_to_fit(&monster, 100) {
        assert!(piece.chars().count() <= 100);
    }
}

#[test]
fn cjk_without_spaces_is_split_at_sentence_ends() {
    let text = "これは日本語の文章です。".repeat(50);
    let chunks = run(
        &[para(&text, 1)],
        ChunkSizes {
            target: 50,
            max: 60,
            sentence: 60,
        },
    );
    assert!(chunks.len() > 5);
    for c in &chunks {
        assert!(c.char_count <= 60);
        assert!(
            c.text.ends_with('。') && !c.text.contains(' '),
            "{:?}",
            c.text
        );
    }
}

#[test]
fn chapters_start_new_chunks_and_pages_are_tracked() {
    let a = para("First chapter text.", 1);
    let b = para("Still the first.", 2);
    let c = para("Second chapter.", 3);
    let chunks = chunk(
        [(&a, "One"), (&b, "One"), (&c, "Two")].map(|(p, ch)| Section {
            paragraph: p,
            chapter: Some(ch),
        }),
        ChunkSizes::default(),
    );
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].text, "First chapter text.\n\nStill the first.");
    assert_eq!((chunks[0].page_start, chunks[0].page_end), (1, 2));
    assert_eq!(chunks[1].chapter.as_deref(), Some("Two"));
}
