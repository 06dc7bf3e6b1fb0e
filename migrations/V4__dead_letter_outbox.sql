-- The dead-letter stream is written after the job's `dead` commit. If Redis was
-- unreachable then, or the process died in between, the entry would be missing:
-- `dead_lettered_at` records that it was written, and the sweeper writes the
-- missing ones (an outbox, as for publishing jobs).
ALTER TABLE jobs ADD COLUMN dead_lettered_at timestamptz;

-- Jobs that died before this migration are not owed an entry.
UPDATE jobs SET dead_lettered_at = COALESCE(finished_at, now()) WHERE status = 'dead';

CREATE INDEX jobs_dead_letter_due_idx ON jobs (finished_at)
    WHERE status = 'dead' AND dead_lettered_at IS NULL;
