use super::*;

fn glyphs(text: &str, x: f64, y: f64, size: f64, width: f64) -> Line {
    let mut line = Line::default();
    let mut x = x;
    for c in text.chars() {
        let start = line.text.len();
        line.text.push(c);
        line.glyphs.push(Glyph {
            start,
            end: line.text.len(),
            x,
            y,
            size,
            width,
            bold: false,
            math: false,
        });
        x += width * size;
    }
    line
}

fn append(line: &mut Line, other: Line) {
    let offset = line.text.len();
    line.text.push_str(&other.text);
    line.glyphs.extend(other.glyphs.into_iter().map(|mut g| {
        g.start += offset;
        g.end += offset;
        g
    }));
}

#[test]
fn a_reference_mark_goes_when_its_note_is_on_the_page() {
    let mut body = glyphs("looping is allowed", 72., 100., 10., 0.5);
    append(&mut body, glyphs("1", 160., 96., 7., 0.5));
    append(&mut body, glyphs(" and so on.", 164., 100., 10., 0.5));
    let other = glyphs(
        "Text of the page goes on at length here.",
        72.,
        112.,
        10.,
        0.5,
    );
    let mut note = glyphs("1", 72., 700., 6., 0.5);
    append(
        &mut note,
        glyphs("A note at the foot of the page.", 76., 702., 8., 0.5),
    );
    let folio = glyphs("12", 300., 760., 10., 0.5);
    let (text, layout) = finish_page(&[body, other, note, folio], 612., 792.);
    assert_eq!(
        text,
        "looping is allowed and so on.\nText of the page goes on at length here.\n1A note at the foot of the page.\n12"
    );
    assert_eq!(
        layout.lines.iter().map(|l| l.note).collect::<Vec<_>>(),
        [false, false, true, true]
    );
}

#[test]
fn a_foot_note_is_found_past_a_running_head_drawn_last() {
    // pdfparse_02-valid_googledocs.pdf page 1: the corresponding author's
    // note, its mark a raised letter, then the journal's head drawn at the top
    // last of all.
    let text = "Text of the page goes on at length here, line after line of it.";
    let body = glyphs(text, 72., 600., 10., 0.5);
    let more = glyphs(text, 72., 612., 10., 0.5);
    let mut note = glyphs("n", 72., 698., 5., 0.5);
    append(
        &mut note,
        glyphs(
            " Corresponding author at: Gazi University.",
            76.,
            702.,
            7.,
            0.5,
        ),
    );
    let head = glyphs("Solar Energy Materials 137 (2015) 1-5", 200., 41., 7., 0.5);
    let (_, layout) = finish_page(&[body, more, note, head], 612., 792.);
    assert_eq!(
        layout
            .lines
            .iter()
            .map(|l| l.starts_note)
            .collect::<Vec<_>>(),
        [false, false, true, false]
    );
    assert!(!layout.lines[0].note);
}

#[test]
fn a_superscript_without_a_note_stays() {
    // x² in a formula: no footnote block, nothing taken.
    let mut body = glyphs("the area is x", 72., 100., 10., 0.5);
    append(&mut body, glyphs("2", 140., 96., 7., 0.5));
    let (text, layout) = finish_page(&[body], 612., 792.);
    assert_eq!(text, "the area is x2");
    assert!(!layout.lines[0].note);
}

#[test]
fn absurd_coordinates_still_make_a_page() {
    let line = glyphs(
        "Text on a page drawn with a huge matrix.",
        1e300,
        f64::NAN,
        1e40,
        0.5,
    );
    let (text, layout) = finish_page(&[line], f64::INFINITY, 792.);
    assert_eq!(text, "Text on a page drawn with a huge matrix.");
    let json = serde_json::to_string(&layout).unwrap();
    let back: PageLayout = serde_json::from_str(&json).unwrap();
    assert_eq!(back.width, 0.);
    assert!(
        back.lines
            .iter()
            .all(|l| l.y.is_finite() && l.size.is_finite())
    );
}

fn font(name: &str, flags: i64, weight: f64) -> FontInfo {
    FontInfo {
        base_name: name.to_owned(),
        flags,
        weight,
    }
}

#[test]
fn fonts_are_told_bold_and_math_by_descriptor_and_name() {
    assert!(is_bold(&font("Helvetica-Bold", 0, 0.)));
    assert!(is_bold(&font("CMBX12", 0, 0.)));
    assert!(is_bold(&font("Anything", 0, 700.)));
    assert!(is_bold(&font("Anything", 1 << 18, 0.)));
    assert!(!is_bold(&font("CMR10", 4, 400.)));
    assert!(!is_bold(&font("Times-Italic", 0, 0.)));
    assert!(is_math(&font("CMMI10", 0, 0.)));
    assert!(is_math(&font("CambriaMath", 0, 0.)));
    assert!(is_math(&font("MSBM10", 0, 0.)));
    assert!(!is_math(&font("CMR10", 0, 0.)));
    assert!(!is_math(&font("CMSS10", 0, 0.)));
}

#[test]
fn a_line_of_math_glyphs_is_a_formula_and_prose_beside_them_is_not() {
    let math = |text: &str, x: f64, on: bool| {
        let mut line = glyphs(text, x, 100., 10., 0.5);
        for g in &mut line.glyphs {
            g.math = on;
        }
        line
    };
    // "E = mc2": E, m, c in math italic; =, 2 in the text face.
    let mut formula = math("E", 72., true);
    append(&mut formula, math(" = ", 77., false));
    append(&mut formula, math("mc", 92., true));
    append(&mut formula, math("2", 102., false));
    // "where the energy E is conserved": one math letter in prose.
    let mut prose = math("where the energy ", 72., false);
    append(&mut prose, math("E", 157., true));
    append(&mut prose, math(" is conserved", 162., false));
    let (_, layout) = finish_page(&[formula, prose], 612., 792.);
    assert!(layout.lines[0].math);
    assert!(!layout.lines[1].math);
}

#[test]
fn glyphs_that_decode_to_nothing_are_counted() {
    // alpha-persian_userguide.pdf: a Persian name drawn in a font pdf-extract
    // cannot map comes as glyphs with no text; the page asks poppler.
    let mut out = LayoutOutput::default();
    let page = MediaBox {
        llx: 0.,
        lly: 0.,
        urx: 612.,
        ury: 792.,
    };
    out.begin_page(1, &page, None).unwrap();
    let at = Transform::identity();
    for text in ["a", "", "", "b", ""] {
        out.begin_word().unwrap();
        out.output_character(&at, 0.5, 0., 10., text).unwrap();
        out.end_word().unwrap();
    }
    out.end_page().unwrap();
    assert_eq!(out.unmapped_glyphs(), 3);
    assert_eq!(
        out.take()
            .map(|(text, _)| text.trim().to_owned())
            .as_deref(),
        Some("ab")
    );
    // A new page counts afresh.
    out.begin_page(2, &page, None).unwrap();
    assert_eq!(out.unmapped_glyphs(), 0);
}

#[test]
fn monospaced_lines_are_marked() {
    let code = glyphs("x <- c(1, 2, 3)", 72., 100., 10., 0.6);
    let mut prose = glyphs("Proportional", 72., 112., 10., 0.5);
    prose.glyphs[3].width = 0.3;
    let (_, layout) = finish_page(&[code, prose], 612., 792.);
    assert!(layout.lines[0].mono);
    assert!(!layout.lines[1].mono);
}
