//! A book's positions as text: taken before its chunks are replaced and found
//! again in the new chunks by the words at and before each one.

use crate::db::DbError;
use crate::db::chunks::NewChunk;
use crate::domain::BookId;

/// Where each position of a book stands in its text, taken before its chunks
/// are replaced: see [`Places::apply`].
#[derive(Debug, Default)]
pub struct Places(Vec<(String, Place)>);

/// A position as text: how far into the book (in characters, all chunks in
/// order), how long the book was, and the words at and just before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub at: i64,
    pub total: i64,
    /// Up to [`ANCHOR`] characters from the position on, within its chunk.
    pub following: String,
    /// Up to [`ANCHOR`] characters before it, within its chunk.
    pub preceding: String,
}

impl Place {
    /// The place `offset` characters into a chunk whose text is `chars`, the chunk
    /// starting `before` characters into a book of `total`: the anchors are up to
    /// [`ANCHOR`] characters on each side, within the chunk.
    pub fn in_chunk(chars: &[char], offset: usize, before: i64, total: i64) -> Self {
        let offset = offset.min(chars.len());
        Self {
            at: before + i64::try_from(offset).unwrap_or(0),
            total,
            following: chars[offset..(offset + ANCHOR).min(chars.len())]
                .iter()
                .collect(),
            preceding: chars[offset.saturating_sub(ANCHOR)..offset]
                .iter()
                .collect(),
        }
    }
}

/// How much text around a position is kept to find it again.
pub const ANCHOR: usize = 64;
/// The fewest characters searched for: fewer match too often to mean anything.
const MIN_NEEDLE: usize = 12;

impl Places {
    /// Lock the book's positions (a concurrent save waits for the new chunks) and
    /// note where each stands in the current text. Run in the transaction that
    /// replaces the chunks, before it deletes them.
    pub async fn take(tx: &tokio_postgres::Transaction<'_>, book: BookId) -> Result<Self, DbError> {
        let rows = tx
            .query(
                "SELECT p.listener, p.char_offset, c.text, \
                     (SELECT coalesce(sum(char_count), 0) FROM book_chunks o \
                      WHERE o.book_id = p.book_id AND o.ordinal < p.ordinal)::bigint AS before, \
                     (SELECT coalesce(sum(char_count), 0) FROM book_chunks o \
                      WHERE o.book_id = p.book_id)::bigint AS total \
                 FROM reading_positions p \
                 LEFT JOIN book_chunks c ON c.book_id = p.book_id AND c.ordinal = p.ordinal \
                 WHERE p.book_id = $1 FOR UPDATE OF p",
                &[&book.0],
            )
            .await?;
        let mut places = Vec::with_capacity(rows.len());
        for row in rows {
            let listener: String = row.try_get("listener")?;
            let offset: i32 = row.try_get("char_offset")?;
            let text: Option<String> = row.try_get("text")?;
            let before: i64 = row.try_get("before")?;
            let total: i64 = row.try_get("total")?;
            let chars: Vec<char> = text.unwrap_or_default().chars().collect();
            let offset = usize::try_from(offset).unwrap_or(0);
            places.push((listener, Place::in_chunk(&chars, offset, before, total)));
        }
        Ok(Self(places))
    }

    /// Move each position onto `chunks`, the book's new chunks (already written in
    /// the same transaction). A position keeps its `seq`: a save the client made
    /// against the old chunks is not newer than it was.
    pub async fn apply(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        book: BookId,
        chunks: &[NewChunk],
    ) -> Result<(), DbError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let text = Text::of(chunks);
        for (listener, place) in &self.0 {
            if chunks.is_empty() {
                tx.execute(
                    "DELETE FROM reading_positions WHERE book_id = $1 AND listener = $2",
                    &[&book.0, listener],
                )
                .await?;
                continue;
            }
            let (ordinal, offset) = text.relocate(place);
            tx.execute(
                "UPDATE reading_positions SET ordinal = $3, char_offset = $4 \
                 WHERE book_id = $1 AND listener = $2",
                &[&book.0, listener, &ordinal, &offset],
            )
            .await?;
        }
        Ok(())
    }
}

/// A book's chunks as one text (one space between chunks, so words at a chunk
/// boundary stay apart), with where each chunk starts.
pub struct Text<'a> {
    joined: String,
    /// Per chunk: byte and character index of its start in `joined`.
    starts: Vec<(usize, usize)>,
    chunks: &'a [NewChunk],
    total_chars: usize,
}

impl<'a> Text<'a> {
    pub fn of(chunks: &'a [NewChunk]) -> Self {
        let mut joined = String::new();
        let mut starts = Vec::with_capacity(chunks.len());
        let mut chars = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                joined.push(' ');
                chars += 1;
            }
            starts.push((joined.len(), chars));
            joined.push_str(&chunk.text);
            chars += chunk.text.chars().count();
        }
        Self {
            joined,
            starts,
            chunks,
            total_chars: chars,
        }
    }

    /// Where `place` is in this text: at the same words if they are still there
    /// (the occurrence nearest the same share of the book), else just after the
    /// words that preceded it, else at the same share of the book, moved back to
    /// the start of its sentence.
    pub fn relocate(&self, place: &Place) -> (i32, i32) {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let estimate = if place.total > 0 {
            ((place.at as f64 / place.total as f64) * self.total_chars as f64) as usize
        } else {
            0
        };
        for len in [ANCHOR, ANCHOR / 2, ANCHOR / 4] {
            let following: String = place.following.chars().take(len).collect();
            if following.chars().count() >= MIN_NEEDLE
                && let Some(at) = self.nearest(&following, estimate)
            {
                return self.locate(self.char_index(at));
            }
            let preceding: String = {
                let chars: Vec<char> = place.preceding.chars().collect();
                chars[chars.len().saturating_sub(len)..].iter().collect()
            };
            if preceding.chars().count() >= MIN_NEEDLE
                && let Some(at) = self.nearest(
                    &preceding,
                    estimate.saturating_sub(preceding.chars().count()),
                )
            {
                return self.locate(self.char_index(at + preceding.len()));
            }
        }
        let (ordinal, offset) = self.locate(estimate.min(self.total_chars));
        let chunk = &self.chunks[usize::try_from(ordinal).unwrap_or(0)];
        let sentence = chunk
            .sentence_starts
            .iter()
            .copied()
            .filter(|s| *s <= offset)
            .max()
            .unwrap_or(0);
        (ordinal, sentence)
    }

    /// The byte index of the occurrence of `needle` whose character index is
    /// nearest `estimate` (the first 10,000 occurrences are weighed).
    fn nearest(&self, needle: &str, estimate: usize) -> Option<usize> {
        self.joined
            .match_indices(needle)
            .take(10_000)
            .map(|(at, _)| at)
            .min_by_key(|at| self.char_index(*at).abs_diff(estimate))
    }

    fn char_index(&self, byte: usize) -> usize {
        let k = self
            .starts
            .partition_point(|(b, _)| *b <= byte)
            .saturating_sub(1);
        let (start_byte, start_char) = self.starts[k];
        start_char + self.joined[start_byte..byte].chars().count()
    }

    /// The chunk and offset of a character index; the space between two chunks
    /// is the start of the next.
    fn locate(&self, at: usize) -> (i32, i32) {
        let k = self
            .starts
            .partition_point(|(_, c)| *c <= at)
            .saturating_sub(1);
        let (_, start) = self.starts[k];
        let len = self.chunks[k].text.chars().count();
        let offset = (at - start).min(len);
        let (k, offset) = if at - start > len && k + 1 < self.chunks.len() {
            (k + 1, 0)
        } else {
            (k, offset)
        };
        (
            i32::try_from(k).unwrap_or(i32::MAX),
            i32::try_from(offset).unwrap_or(i32::MAX),
        )
    }
}
