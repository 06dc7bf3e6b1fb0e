-- Which worker holds a running job (diagnostics; fencing uses the attempt number),
-- and when retention deleted a failed book's uploaded file.
ALTER TABLE jobs ADD COLUMN worker text;
ALTER TABLE books ADD COLUMN source_deleted_at timestamptz;
-- Retention: failed books whose uploaded file is still stored, oldest first.
CREATE INDEX books_failed_source_idx ON books (updated_at) WHERE status = 'failed' AND source_deleted_at IS NULL;
