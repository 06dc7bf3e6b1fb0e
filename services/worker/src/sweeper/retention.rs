//! Retention, the leader's hourly round (and `worker retention`): dead letters
//! past `DEAD_LETTER_RETENTION_DAYS`, the uploaded files of books failed for over
//! `OBJECT_RETENTION_DAYS`, objects with no book row that old, and `uploads/`
//! staging files over a day old. Every deletion is logged and reported; a dry run
//! deletes nothing and reports what it would.

use futures::TryStreamExt;
use shared_domain::db::DbError;
use shared_domain::db::books;
use shared_domain::stream::JobStream;

use super::{BATCH, SweepError, Sweeper};

impl Sweeper {
    /// Dead letters past their retention; uploaded files of long-failed books; orphan
    /// objects (no book row) and abandoned upload staging files. Every deletion is
    /// logged; in dry-run mode nothing is deleted and each would-be deletion is logged.
    pub async fn retention(&self) -> Result<Retention, SweepError> {
        let mut report = Retention {
            dry_run: self.config.retention_dry_run,
            ..Retention::default()
        };
        self.retention_into(&mut report).await?;
        Ok(report)
    }

    async fn retention_into(&self, report: &mut Retention) -> Result<(), SweepError> {
        let dry = self.config.retention_dry_run;
        let verb = if dry { "would delete" } else { "deleted" };
        self.keep_lease().await?;
        let days = self.config.dead_letter_retention_days;
        if days > 0 {
            let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
            let removed = JobStream::new(&self.redis)
                .trim_dead_letters(cutoff, dry)
                .await?;
            if removed > 0 {
                tracing::info!(count = removed, days, "retention: {verb} old dead letters");
            }
            report.dead_letters = removed;
        }
        let days = self.config.object_retention_days;
        if days == 0 {
            return Ok(());
        }
        let client = self.db.get().await.map_err(DbError::from)?;
        for book in books::failed_with_source_older_than(
            &client,
            i32::try_from(days).unwrap_or(i32::MAX),
            BATCH,
        )
        .await?
        {
            if !dry {
                self.storage.delete(&book.storage_path).await?;
                books::mark_source_deleted(&client, book.id).await?;
            }
            tracing::info!(book_id = %book.id, key = %book.storage_path, days, "retention: {verb} the uploaded file of a failed book");
            report.objects.push((
                book.storage_path.clone(),
                "the uploaded file of a long-failed book",
            ));
        }
        self.orphans(&client, days, verb, report).await
    }

    async fn orphans(
        &self,
        client: &deadpool_postgres::Object,
        days: u32,
        verb: &str,
        report: &mut Retention,
    ) -> Result<(), SweepError> {
        let now = chrono::Utc::now();
        let book_cutoff = now - chrono::Duration::days(i64::from(days));
        // Staging files of uploads that never finished; an upload in progress is minutes old.
        let staging_cutoff = now - chrono::Duration::days(1);
        let mut batch: Vec<(uuid::Uuid, String)> = Vec::new();
        let mut listing = self.storage.list(None);
        while let Some((key, info)) = listing.try_next().await? {
            if key.starts_with("uploads/") {
                if info.last_modified < staging_cutoff {
                    self.delete_logged(&key, "an abandoned upload staging file", verb, report)
                        .await?;
                }
                continue;
            }
            if info.last_modified >= book_cutoff {
                continue;
            }
            if let Some(id) = book_id_of(&key) {
                batch.push((id, key));
                if batch.len() >= 1000 {
                    self.delete_orphans(client, std::mem::take(&mut batch), verb, report)
                        .await?;
                }
            }
        }
        self.delete_orphans(client, batch, verb, report).await
    }

    async fn delete_orphans(
        &self,
        client: &deadpool_postgres::Object,
        batch: Vec<(uuid::Uuid, String)>,
        verb: &str,
        report: &mut Retention,
    ) -> Result<(), SweepError> {
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<uuid::Uuid> = batch.iter().map(|(id, _)| *id).collect();
        let existing = books::existing(client, &ids).await?;
        for (id, key) in batch {
            if !existing.contains(&id) {
                self.delete_logged(&key, "the file of a deleted book", verb, report)
                    .await?;
            }
        }
        Ok(())
    }

    async fn delete_logged(
        &self,
        key: &str,
        what: &'static str,
        verb: &str,
        report: &mut Retention,
    ) -> Result<(), SweepError> {
        if !self.config.retention_dry_run {
            self.storage.delete(key).await?;
        }
        tracing::info!(key, "retention: {verb} {what}");
        report.objects.push((key.to_owned(), what));
        Ok(())
    }
}

/// What one retention run deleted, or (a dry run) would delete.
#[derive(Debug, Default)]
pub struct Retention {
    pub dry_run: bool,
    /// Dead letters past `DEAD_LETTER_RETENTION_DAYS`.
    pub dead_letters: u64,
    /// Objects, each with why it goes.
    pub objects: Vec<(String, &'static str)>,
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        writeln!(
            f,
            "retention{}: {verb} {} object(s) and {} dead letter(s)",
            if self.dry_run { " (dry run)" } else { "" },
            self.objects.len(),
            self.dead_letters
        )?;
        for (key, why) in &self.objects {
            writeln!(f, "{verb}\t{key}\t{why}")?;
        }
        Ok(())
    }
}

/// The book id in `{household}/books/{book}.pdf` (or `.epub`).
fn book_id_of(key: &str) -> Option<uuid::Uuid> {
    let mut parts = key.split('/');
    let (_household, books, file, rest) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next());
    if books != "books" || rest.is_some() {
        return None;
    }
    file.strip_suffix(".pdf")
        .or_else(|| file.strip_suffix(".epub"))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_ids_are_read_from_object_keys() {
        let b = uuid::Uuid::new_v4();
        let h = uuid::Uuid::new_v4();
        assert_eq!(book_id_of(&format!("{h}/books/{b}.pdf")), Some(b));
        assert_eq!(book_id_of(&format!("{h}/books/{b}.epub")), Some(b));
        assert_eq!(book_id_of(&format!("uploads/{b}.pdf")), None);
        assert_eq!(book_id_of(&format!("{h}/books/{b}.pdf/x")), None);
        assert_eq!(book_id_of("a/books/not-a-uuid.pdf"), None);
    }
}
