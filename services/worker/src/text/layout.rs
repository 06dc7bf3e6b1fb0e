//! What the page knows about each line of its text, when the engine can tell
//! (pdf-extract's output device sees every glyph; pdftotext's plain text does not).

use serde::{Deserialize, Serialize};

/// One page's lines, in the order of the page's text lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageLayout {
    /// Page size in points.
    pub width: f32,
    pub height: f32,
    pub lines: Vec<LineBox>,
}

/// Where a line sits and how it is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineBox {
    /// Baseline of its first glyph, from the top of the page, in points.
    pub y: f32,
    /// Left and right ends, in points.
    pub x0: f32,
    pub x1: f32,
    /// The type size most of its glyphs are set in, in points.
    pub size: f32,
    /// Every glyph the same width: a monospaced font (code, terminal output).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mono: bool,
    /// The one advance width all its Latin glyphs share, or 0: a line too short
    /// to tell ("$ R") is code when this is the book's monospaced width.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub glyph_width: f32,
    /// Part of the page's footnote block.
    #[serde(default, skip_serializing_if = "is_false")]
    pub note: bool,
    /// The first line of a footnote (it starts with the note's mark).
    #[serde(default, skip_serializing_if = "is_false")]
    pub starts_note: bool,
    /// Gaps of two ems or more between its words: the spaces between table cells.
    #[serde(default, skip_serializing_if = "is_none")]
    pub gaps: u32,
    /// Most of its glyphs set in a bold face.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bold: bool,
    /// Mostly symbols and letters from math fonts, without prose: a display formula.
    #[serde(default, skip_serializing_if = "is_false")]
    pub math: bool,
}

// What a line usually is (not bold, no gaps…) is left out of the child's JSON:
// there is one box per line of every page.
#[allow(clippy::trivially_copy_pass_by_ref)]
const fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(clippy::trivially_copy_pass_by_ref)]
const fn is_none(n: &u32) -> bool {
    *n == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(x: &f32) -> bool {
    *x == 0.
}
