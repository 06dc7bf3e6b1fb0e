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
use crate::domain::{BookId, HouseholdId};

mod places;

pub use places::{ANCHOR, Place, Places, Text};

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

#[cfg(test)]
mod tests;
