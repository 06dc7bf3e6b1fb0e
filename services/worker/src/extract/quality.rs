//! How well a page's text was extracted, from what it is made of.

/// Measures of one page's text that reveal a poor extraction.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quality {
    pub letters: usize,
    /// Runs of non-space characters.
    pub words: usize,
    pub bad: usize,
    pub rtl: usize,
    pub cjk: usize,
}

impl Quality {
    pub fn of(text: &str) -> Self {
        let mut q = Self {
            words: text.split_whitespace().count(),
            ..Self::default()
        };
        for c in text.chars() {
            let u = c as u32;
            if c == '\u{FFFD}' || (0xE000..=0xF8FF).contains(&u) {
                q.bad += 1;
            } else if c.is_alphanumeric() {
                q.letters += 1;
                if crate::text::normalize::is_right_to_left(c) {
                    q.rtl += 1;
                } else if matches!(u, 0x1100..=0x11FF | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
                {
                    q.cjk += 1;
                }
            }
        }
        q
    }

    /// Worth asking the second engine about.
    pub fn is_poor(&self) -> bool {
        self.letters == 0 || self.bad * 50 > self.letters || self.rtl > 0 || self.cjk > 0
    }

    fn score(&self) -> i64 {
        i64::try_from(self.letters).unwrap_or(i64::MAX)
            - 10 * i64::try_from(self.bad).unwrap_or(i64::MAX)
    }

    /// Right-to-left text is taken from poppler (which keeps logical order) when
    /// it has any; otherwise the page with clearly more real letters wins.
    pub fn better_than(&self, primary: &Self) -> bool {
        if primary.rtl > 0 && self.rtl > 0 {
            return true;
        }
        // The same letters, but words kept apart (pdf-extract runs Korean words together).
        if self.letters * 100 >= primary.letters * 98 && self.words * 10 > primary.words * 13 {
            return true;
        }
        self.score() > primary.score() + i64::try_from(primary.letters / 50).unwrap_or(0)
    }
}
