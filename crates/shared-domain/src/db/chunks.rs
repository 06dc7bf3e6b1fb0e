//! The `book_chunks` table: a book's speakable text, in reading order.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::DbError;
use crate::domain::BookId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub ordinal: i32,
    pub text: String,
    pub char_count: i32,
    pub page_start: i32,
    pub page_end: i32,
    pub chapter: Option<String>,
}

const COLUMNS: &str = "ordinal, text, char_count, page_start, page_end, chapter";

impl Chunk {
    fn from_row(row: &Row) -> Result<Self, DbError> {
        Ok(Self {
            ordinal: row.try_get("ordinal")?,
            text: row.try_get("text")?,
            char_count: row.try_get("char_count")?,
            page_start: row.try_get("page_start")?,
            page_end: row.try_get("page_end")?,
            chapter: row.try_get("chapter")?,
        })
    }
}

/// Up to `limit` chunks with ordinal greater than `after` (keyset pagination).
pub async fn page(
    client: &impl GenericClient,
    book: BookId,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<Chunk>, DbError> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM book_chunks WHERE book_id = $1 AND ordinal > $2 ORDER BY ordinal LIMIT $3"),
            &[&book.0, &after.unwrap_or(-1), &limit],
        )
        .await?;
    rows.iter().map(Chunk::from_row).collect()
}

pub async fn get(
    client: &impl GenericClient,
    book: BookId,
    ordinal: i32,
) -> Result<Option<Chunk>, DbError> {
    client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM book_chunks WHERE book_id = $1 AND ordinal = $2"),
            &[&book.0, &ordinal],
        )
        .await?
        .as_ref()
        .map(Chunk::from_row)
        .transpose()
}
