//! The `book_chunks` table: a book's speakable text, in reading order.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::DbError;
use crate::domain::{BookId, ChunkKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub ordinal: i32,
    pub text: String,
    pub char_count: i32,
    pub page_start: i32,
    pub page_end: i32,
    pub chapter: Option<String>,
    pub kind: ChunkKind,
    /// Character offsets where the chunk's sentences start; the first is 0.
    pub sentence_starts: Vec<i32>,
    /// Its text came from OCR (a scanned page), not the file's text layer.
    pub ocr: bool,
}

const COLUMNS: &str =
    "ordinal, text, char_count, page_start, page_end, chapter, kind, sentence_starts, ocr";

impl Chunk {
    fn from_row(row: &Row) -> Result<Self, DbError> {
        Ok(Self {
            ordinal: row.try_get("ordinal")?,
            text: row.try_get("text")?,
            char_count: row.try_get("char_count")?,
            page_start: row.try_get("page_start")?,
            page_end: row.try_get("page_end")?,
            chapter: row.try_get("chapter")?,
            kind: row
                .try_get::<_, &str>("kind")?
                .parse()
                .map_err(|e: crate::domain::UnknownVariant| DbError::Corrupt(e.to_string()))?,
            sentence_starts: row.try_get("sentence_starts")?,
            ocr: row.try_get("ocr")?,
        })
    }

    /// The chunk's sentences as `[start, end)` character offsets, trailing spaces
    /// excluded: what the bot hands its voice one at a time.
    pub fn sentences(&self) -> Vec<(i32, i32)> {
        sentence_spans(&self.text, &self.sentence_starts)
    }
}

/// `[start, end)` character spans of the sentences starting at `starts`, each
/// ending before the whitespace that separates it from the next. Offsets out of
/// order or past the end are ignored rather than trusted.
pub fn sentence_spans(text: &str, starts: &[i32]) -> Vec<(i32, i32)> {
    let chars: Vec<char> = text.chars().collect();
    let len = i32::try_from(chars.len()).unwrap_or(i32::MAX);
    let mut bounds: Vec<i32> = starts
        .iter()
        .copied()
        .filter(|s| (0..len).contains(s))
        .collect();
    bounds.dedup();
    if bounds.windows(2).any(|w| w[0] > w[1]) || bounds.first() != Some(&0) {
        bounds = vec![0];
    }
    let mut spans = Vec::with_capacity(bounds.len());
    for (i, &start) in bounds.iter().enumerate() {
        let mut end = bounds.get(i + 1).copied().unwrap_or(len);
        while end > start
            && chars
                .get(usize::try_from(end - 1).unwrap_or(0))
                .is_some_and(|c| c.is_whitespace())
        {
            end -= 1;
        }
        if end > start {
            spans.push((start, end));
        }
    }
    spans
}

/// Up to `limit` chunks of the given kinds with ordinal greater than `after`
/// (keyset pagination).
pub async fn page(
    client: &impl GenericClient,
    book: BookId,
    after: Option<i32>,
    kinds: &[ChunkKind],
    limit: i64,
) -> Result<Vec<Chunk>, DbError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM book_chunks \
                 WHERE book_id = $1 AND ordinal > $2 AND kind = ANY($3) \
                 ORDER BY ordinal LIMIT $4"
            ),
            &[&book.0, &after.unwrap_or(-1), &kinds, &limit],
        )
        .await?;
    rows.iter().map(Chunk::from_row).collect()
}

/// Up to `limit` chunks from ordinal `from` on: the chunk at `from` whatever its
/// kind (where a listener stopped), then those of the given kinds.
pub async fn from_ordinal(
    client: &impl GenericClient,
    book: BookId,
    from: i32,
    kinds: &[ChunkKind],
    limit: i64,
) -> Result<Vec<Chunk>, DbError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM book_chunks \
                 WHERE book_id = $1 AND ordinal >= $2 AND (kind = ANY($3) OR ordinal = $2) \
                 ORDER BY ordinal LIMIT $4"
            ),
            &[&book.0, &from, &kinds, &limit],
        )
        .await?;
    rows.iter().map(Chunk::from_row).collect()
}

/// The ordinal of the book's first chunk of one of these kinds.
pub async fn first_of_kinds(
    client: &impl GenericClient,
    book: BookId,
    kinds: &[ChunkKind],
) -> Result<Option<i32>, DbError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(client
        .query_one(
            "SELECT min(ordinal) FROM book_chunks WHERE book_id = $1 AND kind = ANY($2)",
            &[&book.0, &kinds],
        )
        .await?
        .try_get(0)?)
}

/// A chapter of the reading flow: its title, and the ordinal and page of the
/// body chunk it starts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterStart {
    pub title: String,
    pub ordinal: i32,
    pub page: i32,
}

/// The chapters of the book's body in reading order: each run of body chunks
/// under one chapter label, from its first chunk (a label that recurs after
/// another, such as a second "Introduction", is a chapter again).
pub async fn chapters(
    client: &impl GenericClient,
    book: BookId,
) -> Result<Vec<ChapterStart>, DbError> {
    let rows = client
        .query(
            "SELECT chapter, ordinal, page_start FROM ( \
                 SELECT chapter, ordinal, page_start, \
                        lag(chapter) OVER (ORDER BY ordinal) AS previous \
                 FROM book_chunks WHERE book_id = $1 AND kind = 'body' \
             ) body \
             WHERE chapter IS NOT NULL AND chapter IS DISTINCT FROM previous \
             ORDER BY ordinal",
            &[&book.0],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ChapterStart {
                title: r.try_get("chapter")?,
                ordinal: r.try_get("ordinal")?,
                page: r.try_get("page_start")?,
            })
        })
        .collect()
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
    pub kind: ChunkKind,
    /// Character offsets where its sentences start; the first is 0.
    pub sentence_starts: Vec<i32>,
    /// Its text came from OCR.
    pub ocr: bool,
}

/// Replace the book's chunks with `chunks` (ordinals 0..n), by binary COPY, and
/// move its listeners' reading positions onto them by text.
/// Run it inside the transaction that marks the book ready.
pub async fn replace(
    tx: &tokio_postgres::Transaction<'_>,
    book: BookId,
    chunks: &[NewChunk],
) -> Result<u64, DbError> {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;

    let places = super::positions::Places::take(tx, book).await?;
    tx.execute("DELETE FROM book_chunks WHERE book_id = $1", &[&book.0])
        .await?;
    let sink = tx
        .copy_in(
            "COPY book_chunks (book_id, ordinal, text, char_count, page_start, page_end, \
             chapter, kind, sentence_starts, ocr) FROM STDIN BINARY",
        )
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
            Type::TEXT,
            Type::INT4_ARRAY,
            Type::BOOL,
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
                &chunk.kind.as_str(),
                &chunk.sentence_starts,
                &chunk.ocr,
            ])
            .await?;
    }
    let written = writer.finish().await?;
    places.apply(tx, book, chunks).await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_spans_end_before_the_separating_space() {
        assert_eq!(
            sentence_spans("One. Two!  Three", &[0, 5, 11]),
            vec![(0, 4), (5, 9), (11, 16)]
        );
        // Characters, not bytes.
        assert_eq!(
            sentence_spans("Ça va. Oui.", &[0, 7]),
            vec![(0, 6), (7, 11)]
        );
    }

    #[test]
    fn untrustworthy_offsets_fall_back_to_one_sentence() {
        assert_eq!(sentence_spans("One. Two.", &[5, 0]), vec![(0, 9)]);
        assert_eq!(sentence_spans("One. Two.", &[]), vec![(0, 9)]);
        assert_eq!(sentence_spans("One. Two.", &[0, 99]), vec![(0, 9)]);
    }
}
