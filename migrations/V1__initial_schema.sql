-- The readme schema: books, their speakable chunks, and the jobs that make them.
-- Postgres is the source of truth; the rules below hold whatever code talks to it.

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE books (
    id              uuid PRIMARY KEY,
    household_id    uuid        NOT NULL,
    title           text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    storage_path    text        NOT NULL UNIQUE CHECK (storage_path <> ''),
    content_sha256  text        NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    byte_size       bigint      NOT NULL CHECK (byte_size > 0),
    status          text        NOT NULL DEFAULT 'processing'
                                CHECK (status IN ('processing', 'ready', 'failed')),
    error_code      text,
    error_message   text,
    page_count      integer     CHECK (page_count >= 0),
    chunk_count     integer     CHECK (chunk_count >= 0),
    -- Which extraction engine produced the text (e.g. pdf-extract, pdftotext).
    text_engine     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    ready_at        timestamptz,
    -- Same household + same bytes = same book.
    CONSTRAINT books_household_content_unique UNIQUE (household_id, content_sha256),
    -- A failed book says why; a book that is not failed carries no error.
    CONSTRAINT books_failed_has_error CHECK ((status = 'failed') = (error_code IS NOT NULL)),
    CONSTRAINT books_ready_has_counts CHECK (
        status <> 'ready' OR (ready_at IS NOT NULL AND page_count IS NOT NULL AND chunk_count IS NOT NULL)
    )
);

-- A household's library, newest first, with a stable tiebreak for cursors.
CREATE INDEX books_household_created_idx ON books (household_id, created_at DESC, id DESC);

CREATE TRIGGER books_touch BEFORE UPDATE ON books
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE book_chunks (
    book_id     uuid    NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    text        text    NOT NULL CHECK (text <> ''),
    char_count  integer NOT NULL,
    page_start  integer NOT NULL CHECK (page_start >= 1),
    page_end    integer NOT NULL,
    chapter     text,
    PRIMARY KEY (book_id, ordinal),
    CONSTRAINT book_chunks_char_count CHECK (char_count = char_length(text)),
    CONSTRAINT book_chunks_page_order CHECK (page_end >= page_start)
);

CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    book_id         uuid        NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('process_book')),
    status          text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    integer     NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    run_after       timestamptz NOT NULL DEFAULT now(),
    -- NULL until the job is on the Redis stream (the transactional outbox).
    published_at    timestamptz,
    heartbeat_at    timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    last_error      text,
    progress_done   integer     NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    progress_total  integer     CHECK (progress_total >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_attempts_bounded CHECK (attempts <= max_attempts),
    CONSTRAINT jobs_running_is_started CHECK (status <> 'running' OR (started_at IS NOT NULL AND heartbeat_at IS NOT NULL)),
    CONSTRAINT jobs_final_is_finished CHECK (
        status NOT IN ('succeeded', 'failed', 'dead') OR finished_at IS NOT NULL
    ),
    CONSTRAINT jobs_progress_bounded CHECK (progress_total IS NULL OR progress_done <= progress_total)
);

-- At most one queued or running job per book: a reprocess cannot race a run.
CREATE UNIQUE INDEX jobs_one_active_per_book ON jobs (book_id) WHERE status IN ('queued', 'running');
-- The sweeper's outbox scan: queued jobs not yet on the stream, by due time.
CREATE INDEX jobs_unpublished_idx ON jobs (run_after) WHERE status = 'queued' AND published_at IS NULL;
-- The sweeper's recovery scan: running jobs by last heartbeat.
CREATE INDEX jobs_running_heartbeat_idx ON jobs (heartbeat_at) WHERE status = 'running';
-- Operator views: dead and failed jobs, newest first.
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at DESC, id DESC);
CREATE INDEX jobs_book_idx ON jobs (book_id, created_at DESC);

CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
