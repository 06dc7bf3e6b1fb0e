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

/// A chunk to store; its ordinal is its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    pub text: String,
    pub page_start: i32,
    pub page_end: i32,
    pub chapter: Option<String>,
}

/// Replace the book's chunks with `chunks` (ordinals 0..n), by binary COPY.
/// Run it inside the transaction that marks the book ready.
pub async fn replace(
    tx: &tokio_postgres::Transaction<'_>,
    book: BookId,
    chunks: &[NewChunk],
) -> Result<u64, DbError> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;

    tx.execute("DELETE FROM book_chunks WHERE book_id = $1", &[&book.0])
        .await?;
    let sink = tx
        .copy_in("COPY book_chunks (book_id, ordinal, text, char_count, page_start, page_end, chapter) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::UUID,
            Type::INT4,
            Type::TEXT,
            Type::INT4,
            Type::INT4,
            Type::INT4,
            Type::TEXT,
        ],
    );
    futures::pin_mut!(writer);
    for (ordinal, chunk) in chunks.iter().enumerate() {
        let ordinal =
            i32::try_from(ordinal).map_err(|_| DbError::Corrupt("too many chunks".into()))?;
        let chars = i32::try_from(chunk.text.chars().count())
            .map_err(|_| DbError::Corrupt("chunk too long".into()))?;
        writer
            .as_mut()
            .write(&[
                &book.0,
                &ordinal,
                &chunk.text,
                &chars,
                &chunk.page_start,
                &chunk.page_end,
                &chunk.chapter,
            ])
            .await?;
    }
    let written = writer.finish().await?;
    Ok(written)
}
