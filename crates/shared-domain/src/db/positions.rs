//! The `reading_positions` table: where a household, or one listener in it, stopped
//! in a book.
//!
//! A position is a chunk ordinal and a character offset inside that chunk (Unicode
//! code points). Saves carry the client's own `seq` (a clock in milliseconds or a
//! counter); the stored position changes only for a greater one, in one statement,
//! so late, repeated and racing saves leave the latest in place. When a book's
//! chunks are replaced (a reprocess), [`Places`] taken before and applied after
//! move every position onto the new chunks by its text, not by its numbers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::DbError;
use super::chunks::NewChunk;
use crate::domain::{BookId, HouseholdId};

/// Longest listener name; names are letters, digits, `.`, `_` and `-`.
pub const MAX_LISTENER_LEN: usize = 64;

/// A listener name as stored: empty for the household's own place.
pub fn valid_listener(name: &str) -> bool {
    name.len() <= MAX_LISTENER_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A bot session id as the gateway accepts it and a position stores it.
pub fn valid_session_id(sid: &str) -> bool {
    (1..=128).contains(&sid.len())
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub book_id: BookId,
    pub household_id: HouseholdId,
    /// `None`: the household's own place.
    pub listener: Option<String>,
    pub ordinal: i32,
    pub offset: i32,
    pub seq: i64,
    pub session_id: Option<String>,
    pub saved_at: DateTime<Utc>,
}

impl Position {
    fn from_row(row: &Row) -> Result<Self, DbError> {
        let listener: String = row.try_get("listener")?;
        Ok(Self {
            book_id: BookId(row.try_get("book_id")?),
            household_id: HouseholdId(row.try_get("household_id")?),
            listener: (!listener.is_empty()).then_some(listener),
            ordinal: row.try_get("ordinal")?,
            offset: row.try_get("char_offset")?,
            seq: row.try_get("seq")?,
            session_id: row.try_get("session_id")?,
            saved_at: row.try_get("saved_at")?,
        })
    }
}

const COLUMNS: &str = "p.book_id, b.household_id, p.listener, p.ordinal, p.char_offset, p.seq, p.session_id, p.saved_at";

/// A save, as a client asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Save {
    pub book: BookId,
    /// The household the caller speaks for: it must own the book.
    pub household: HouseholdId,
    /// Empty for the household's own place.
    pub listener: String,
    pub ordinal: i32,
    pub offset: i32,
    pub seq: i64,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// The save is now the stored position.
    Applied(Position),
    /// A save with this `seq` or a later one was already stored; it stays.
    Kept(Position),
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("no such book")]
    NoBook,
    #[error("the book belongs to another household")]
    OtherHousehold,
    #[error("the book has no chunks yet")]
    NotReady,
    #[error("the book has {chunk_count} chunks; ordinal {ordinal} is past the end")]
    PastTheEnd { ordinal: i32, chunk_count: i32 },
    #[error("chunk {ordinal} has {char_count} characters; offset {offset} is past its end")]
    OffsetPastChunk {
        ordinal: i32,
        offset: i32,
        char_count: i32,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<tokio_postgres::Error> for SaveError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Store `save` unless a save with an equal or greater `seq` is stored: one
/// statement that checks the book, its household and the chunk, and upserts.
pub async fn save(client: &impl GenericClient, save: &Save) -> Result<Saved, SaveError> {
    let row = client
        .query_opt(
            "WITH target AS ( \
                 SELECT b.id, b.household_id, coalesce(b.chunk_count, 0) AS chunk_count, c.char_count \
                 FROM books b LEFT JOIN book_chunks c ON c.book_id = b.id AND c.ordinal = $3 \
                 WHERE b.id = $1 \
             ), stored AS ( \
                 INSERT INTO reading_positions AS p (book_id, listener, ordinal, char_offset, seq, session_id) \
                 SELECT t.id, $2, $3, $4, $5, $6 FROM target t \
                 WHERE t.household_id = $7 AND t.char_count IS NOT NULL AND $4 <= t.char_count \
                 ON CONFLICT (book_id, listener) DO UPDATE \
                     SET ordinal = EXCLUDED.ordinal, char_offset = EXCLUDED.char_offset, \
                         seq = EXCLUDED.seq, session_id = EXCLUDED.session_id, saved_at = now() \
                     WHERE p.seq < EXCLUDED.seq \
                 RETURNING p.saved_at \
             ) \
             SELECT t.household_id, t.chunk_count, t.char_count, s.saved_at \
             FROM target t LEFT JOIN stored s ON true",
            &[
                &save.book.0,
                &save.listener,
                &save.ordinal,
                &save.offset,
                &save.seq,
                &save.session_id,
                &save.household.0,
            ],
        )
        .await?
        .ok_or(SaveError::NoBook)?;
    let household = HouseholdId(row.try_get("household_id")?);
    let chunk_count: i32 = row.try_get("chunk_count")?;
    let char_count: Option<i32> = row.try_get("char_count")?;
    let saved_at: Option<DateTime<Utc>> = row.try_get("saved_at")?;
    if household != save.household {
        return Err(SaveError::OtherHousehold);
    }
    let Some(char_count) = char_count else {
        return Err(if chunk_count == 0 {
            SaveError::NotReady
        } else {
            SaveError::PastTheEnd {
                ordinal: save.ordinal,
                chunk_count,
            }
        });
    };
    if save.offset > char_count {
        return Err(SaveError::OffsetPastChunk {
            ordinal: save.ordinal,
            offset: save.offset,
            char_count,
        });
    }
    match saved_at {
        Some(saved_at) => Ok(Saved::Applied(Position {
            book_id: save.book,
            household_id: household,
            listener: (!save.listener.is_empty()).then(|| save.listener.clone()),
            ordinal: save.ordinal,
            offset: save.offset,
            seq: save.seq,
            session_id: save.session_id.clone(),
            saved_at,
        })),
        // A later save holds the row; it is what the caller should resume from.
        None => get(client, save.book, &save.listener)
            .await?
            .map(Saved::Kept)
            .ok_or(SaveError::NoBook),
    }
}

/// The stored position of `listener` (empty: the household's) in `book`.
pub async fn get(
    client: &impl GenericClient,
    book: BookId,
    listener: &str,
) -> Result<Option<Position>, DbError> {
    client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM reading_positions p JOIN books b ON b.id = p.book_id \
                 WHERE p.book_id = $1 AND p.listener = $2"
            ),
            &[&book.0, &listener],
        )
        .await?
        .as_ref()
        .map(Position::from_row)
        .transpose()
}

/// Each book's most recently saved position, of any listener.
pub async fn latest_for_books(
    client: &impl GenericClient,
    books: &[BookId],
) -> Result<HashMap<BookId, Position>, DbError> {
    if books.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<uuid::Uuid> = books.iter().map(|b| b.0).collect();
    let rows = client
        .query(
            &format!(
                "SELECT DISTINCT ON (p.book_id) {COLUMNS} \
                 FROM reading_positions p JOIN books b ON b.id = p.book_id \
                 WHERE p.book_id = ANY($1) ORDER BY p.book_id, p.saved_at DESC, p.seq DESC"
            ),
            &[&ids],
        )
        .await?;
    rows.iter()
        .map(|r| Position::from_row(r).map(|p| (p.book_id, p)))
        .collect()
}

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
            let offset = usize::try_from(offset).unwrap_or(0).min(chars.len());
            places.push((
                listener,
                Place {
                    at: before + i64::try_from(offset).unwrap_or(0),
                    total,
                    following: chars[offset..(offset + ANCHOR).min(chars.len())]
                        .iter()
                        .collect(),
                    preceding: chars[offset.saturating_sub(ANCHOR)..offset]
                        .iter()
                        .collect(),
                },
            ));
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

#[cfg(test)]
mod tests;
