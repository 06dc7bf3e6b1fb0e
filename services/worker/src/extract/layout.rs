//! pdf-extract's plain-text output, keeping what the page knows about each line.
//!
//! [`LayoutOutput`] writes exactly the text pdf-extract's `PlainTextOutput` would
//! (the same spacing and line-break decisions), and also records, per line, where
//! it sits on the page, its type size and whether its glyphs are all one width (a
//! monospaced font: code). At the end of each page it finds the footnote block
//! (the lines at the foot set smaller than the page's text, starting at a note
//! mark) and takes the matching superscript reference marks out of the text
//! ("allowed¹" → "allowed"), so a voice never reads them into a sentence.

use pdf_extract::{FontInfo, MediaBox, OutputDev, OutputError, Transform};

use crate::text::layout::PageLayout;

mod page;

use page::finish_page;

/// One glyph as drawn: its place in the line's text and on the page.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    /// Byte range of its text in the line.
    start: usize,
    end: usize,
    x: f64,
    y: f64,
    size: f64,
    /// Advance width in text space (the same for every glyph of a monospaced font).
    width: f64,
    /// Set in a bold face, or in a math font (a formula's symbols and letters).
    bold: bool,
    math: bool,
}

#[derive(Debug, Default)]
struct Line {
    text: String,
    glyphs: Vec<Glyph>,
    /// Horizontal gaps of two ems or more inside the line: table cells.
    gaps: u32,
}

/// Collects one page at a time; [`LayoutOutput::take`] gives its text and layout.
pub struct LayoutOutput {
    last_end: f64,
    last_y: f64,
    first_char: bool,
    page_height: f64,
    page_width: f64,
    lines: Vec<Line>,
    done: Option<(String, PageLayout)>,
    /// The current font's class (the device is told before each string shown),
    /// and which font that was: the same font is not classified again.
    bold: bool,
    math: bool,
    font: *const FontInfo,
    /// Glyphs drawn on this page that decode to no text at all (a font without
    /// a usable map: its words are lost).
    unmapped: u32,
}

impl Default for LayoutOutput {
    fn default() -> Self {
        Self {
            last_end: 100_000.,
            last_y: 0.,
            first_char: false,
            page_height: 0.,
            page_width: 0.,
            lines: vec![Line::default()],
            done: None,
            bold: false,
            math: false,
            font: std::ptr::null(),
            unmapped: 0,
        }
    }
}

impl LayoutOutput {
    /// The last finished page's text and layout.
    pub fn take(&mut self) -> Option<(String, PageLayout)> {
        self.done.take()
    }

    /// How many glyphs of the page decoded to no text (counted until the next
    /// page begins, so still there once it has ended).
    pub const fn unmapped_glyphs(&self) -> u32 {
        self.unmapped
    }

    fn current(&mut self) -> &mut Line {
        if self.lines.is_empty() {
            self.lines.push(Line::default());
        }
        let last = self.lines.len() - 1;
        &mut self.lines[last]
    }
}

impl OutputDev for LayoutOutput {
    fn font(&mut self, font: &FontInfo) -> Result<(), OutputError> {
        // Compared, never dereferenced: the extractor keeps each font's info for
        // the whole document, so one address is one font.
        if !std::ptr::eq(font, self.font) {
            self.font = font;
            self.bold = is_bold(font);
            self.math = is_math(font);
        }
        Ok(())
    }

    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        *self = Self {
            page_height: media_box.ury - media_box.lly,
            page_width: media_box.urx - media_box.llx,
            ..Self::default()
        };
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        let lines = std::mem::take(&mut self.lines);
        self.done = Some(finish_page(&lines, self.page_width, self.page_height));
        Ok(())
    }

    /// PlainTextOutput's decisions, glyph by glyph.
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        if char.is_empty() {
            self.unmapped = self.unmapped.saturating_add(1);
        }
        // The flip to top-down coordinates: x stays, y = height - y.
        let (x, y) = (trm.m31, self.page_height - trm.m32);
        let vx = font_size * trm.m11 + font_size * trm.m21;
        let vy = font_size * trm.m12 + font_size * trm.m22;
        let size = (vx * vy).sqrt();
        if self.first_char {
            let lines_before = self.lines.len();
            if (y - self.last_y).abs() > size * 1.5 {
                self.lines.push(Line::default());
            }
            if x < self.last_end && (y - self.last_y).abs() > size * 0.5 {
                self.lines.push(Line::default());
            }
            if x > self.last_end + size * 0.1 {
                self.current().text.push(' ');
            }
            if self.lines.len() == lines_before
                && x > self.last_end + size * 2.
                && !self.current().glyphs.is_empty()
            {
                self.current().gaps += 1;
            }
        }
        // A glyph's own text may hold a line break; keep lines and text in step.
        let mut parts = char.split('\n');
        if let Some(first) = parts.next() {
            let (bold, math) = (self.bold, self.math);
            let line = self.current();
            let start = line.text.len();
            line.text.push_str(first);
            line.glyphs.push(Glyph {
                start,
                end: line.text.len(),
                x,
                y,
                size,
                width,
                bold,
                math,
            });
        }
        for part in parts {
            self.lines.push(Line::default());
            self.current().text.push_str(part);
        }
        self.first_char = false;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.first_char = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// A bold face, by its descriptor (a weight of 600 or more, or ForceBold) or by
/// its name ("Helvetica-Bold", "Arial,Bold", TeX's "CMBX12", "SFBX1000").
fn is_bold(font: &FontInfo) -> bool {
    const FORCE_BOLD: i64 = 1 << 18;
    if font.weight >= 600. || font.flags & FORCE_BOLD != 0 {
        return true;
    }
    let name = font.base_name.to_ascii_lowercase();
    ["bold", "black", "heavy", "semibold", "demi"]
        .iter()
        .any(|w| name.contains(w))
        || ["cmbx", "cmb1", "cmssbx", "sfbx", "ecbx", "lmbx"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// A font made for formulas: TeX's math italic, symbols and extensions (and the
/// AMS, txfonts and pxfonts equivalents), or an OpenType math font
/// ("CambriaMath", "STIXTwoMath", "LatinModernMath").
fn is_math(font: &FontInfo) -> bool {
    let name = font.base_name.to_ascii_lowercase();
    name.contains("math")
        || [
            "cmmi", "cmsy", "cmex", "cmbsy", "msam", "msbm", "eufm", "eusm", "rsfs", "txmi",
            "txsy", "txex", "rtxmi", "pxmi", "pxsy", "pxex", "rpxmi", "esint", "stmary",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// The size most of a set of glyphs are set in (to a tenth of a point).
fn dominant_size<'a>(glyphs: impl Iterator<Item = &'a Glyph>) -> f64 {
    let mut counts: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for g in glyphs {
        if g.size.is_finite() && g.size > 0. {
            // Whole tenths of a point: the cast cannot overflow for a real size.
            #[allow(clippy::cast_possible_truncation)]
            let key = (g.size * 10.).round() as i64;
            *counts.entry(key).or_default() += g.end - g.start;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    counts
        .into_iter()
        .max_by_key(|(size, n)| (*n, *size))
        .map_or(0., |(size, _)| size as f64 / 10.)
}

#[cfg(test)]
mod tests;
