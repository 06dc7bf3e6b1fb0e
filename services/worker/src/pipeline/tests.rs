use super::read::*;

#[test]
fn a_book_is_unreadable_when_most_pages_have_no_text() {
    let pages: Vec<String> = ["", "Percentage 10 20", "", " \n", "", "\u{c}"]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    assert_eq!(pages_with_text(&pages), 1);
    assert!(mostly_without_text(1, 6));
    // Blank pages between chapters, a cover image: still a book.
    assert!(!mostly_without_text(3, 6));
    assert!(!mostly_without_text(1, 1));
    assert!(!mostly_without_text(180, 200));
}
