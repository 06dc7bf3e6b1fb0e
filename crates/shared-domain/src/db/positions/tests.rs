use super::*;
use crate::db::chunks::NewChunk;
use crate::domain::ChunkKind;

fn chunks(texts: &[&str]) -> Vec<NewChunk> {
    texts
        .iter()
        .map(|t| NewChunk {
            text: (*t).to_owned(),
            page_start: 1,
            page_end: 1,
            chapter: None,
            kind: ChunkKind::Body,
            sentence_starts: std::iter::once(0)
                .chain(
                    t.char_indices()
                        .filter(|(i, c)| *c == ' ' && t[..*i].ends_with('.'))
                        .map(|(i, _)| i32::try_from(t[..=i].chars().count()).unwrap_or(0)),
                )
                .collect(),
            ocr: false,
        })
        .collect()
}

/// Where `offset` of chunk `ordinal` of `old` stands, as `Places::take` notes it.
fn place(old: &[NewChunk], ordinal: usize, offset: usize) -> Place {
    let chars: Vec<char> = old[ordinal].text.chars().collect();
    let before: usize = old[..ordinal].iter().map(|c| c.text.chars().count()).sum();
    let total: usize = old.iter().map(|c| c.text.chars().count()).sum();
    Place::in_chunk(
        &chars,
        offset,
        i64::try_from(before).unwrap_or(0),
        i64::try_from(total).unwrap_or(0),
    )
}

#[test]
fn a_position_follows_its_words_onto_new_chunk_boundaries() {
    let old = chunks(&[
        "It was a bright cold day in April. The clocks were striking thirteen.",
        "Winston Smith slipped quickly through the glass doors. A kind of gritty dust entered along with him.",
    ]);
    let new = chunks(&[
        "It was a bright cold day in April.",
        "The clocks were striking thirteen. Winston Smith slipped quickly through the glass doors.",
        "A kind of gritty dust entered along with him.",
    ]);
    let text = Text::of(&new);
    // "Winston" at the start of old chunk 1 is in the middle of new chunk 1.
    assert_eq!(text.relocate(&place(&old, 1, 0)), (1, 35));
    // "A kind" in old chunk 1 opens new chunk 2.
    let at = old[1].text.find("A kind").unwrap_or(0);
    assert_eq!(text.relocate(&place(&old, 1, at)), (2, 0));
    // "The clocks" in the middle of old chunk 0 opens new chunk 1.
    let at = old[0].text.find("The clocks").unwrap_or(0);
    assert_eq!(text.relocate(&place(&old, 0, at)), (1, 0));
}

#[test]
fn the_end_of_a_chunk_is_found_by_the_words_before_it() {
    let old = chunks(&["One sentence here is long enough to anchor.", "Two."]);
    let new = chunks(&[
        "Preface.",
        "One sentence here is long enough to anchor. Two.",
    ]);
    let end = old[0].text.chars().count();
    assert_eq!(Text::of(&new).relocate(&place(&old, 0, end)), (1, 43));
}

#[test]
fn the_nearest_occurrence_of_repeated_words_wins() {
    let refrain = "And the refrain comes round again, word for word.";
    let old = chunks(&[
        refrain,
        "A verse between.",
        refrain,
        "Another verse.",
        refrain,
    ]);
    let new = chunks(&[
        &format!("{refrain} A verse between."),
        &format!("{refrain} Another verse."),
        refrain,
    ]);
    // The third refrain (old chunk 4) is the third in the new text too.
    assert_eq!(Text::of(&new).relocate(&place(&old, 4, 0)), (2, 0));
    assert_eq!(Text::of(&new).relocate(&place(&old, 2, 0)), (1, 0));
}

#[test]
fn rewritten_text_falls_back_to_the_same_share_at_a_sentence_start() {
    let old = chunks(&["Aaaa aaaa aaaa aaaa aaaa.", "Bbbb bbbb bbbb bbbb bbbb."]);
    let new = chunks(&["Cccc cccc cccc. Dddd dddd dddd. Eeee eeee eeee. Ffff ffff ffff."]);
    // Halfway through the old text is halfway through the new, at a sentence start.
    let (ordinal, offset) = Text::of(&new).relocate(&place(&old, 1, 0));
    assert_eq!(ordinal, 0);
    assert!([16, 32].contains(&offset), "{offset}");
}

#[test]
fn listener_names_and_session_ids_are_checked() {
    assert!(valid_listener(""));
    assert!(valid_listener("ana.b_2-x"));
    assert!(!valid_listener("ana b"));
    assert!(!valid_listener(&"a".repeat(65)));
    assert!(valid_session_id("s-1_a"));
    assert!(!valid_session_id(""));
    assert!(!valid_session_id("a:b"));
}
