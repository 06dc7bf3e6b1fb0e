-- Where a household (or one listener in it) stopped in a book: a chunk ordinal
-- and a character offset inside that chunk (Unicode code points, as char_length
-- counts). `seq` is the client's own clock or counter: a save with a seq no
-- greater than the stored one changes nothing, so saves may arrive late, twice or
-- out of order and the latest still wins. Deleting a book deletes its positions;
-- reprocessing a book moves them onto its new chunks by text (the worker does
-- that in the transaction that replaces the chunks).
CREATE TABLE reading_positions (
    book_id      uuid        NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    -- '' is the household's own place; otherwise a listener's name within it.
    listener     text        NOT NULL DEFAULT ''
                             CHECK (listener ~ '^[A-Za-z0-9._-]{0,64}$'),
    ordinal      integer     NOT NULL CHECK (ordinal >= 0),
    char_offset  integer     NOT NULL CHECK (char_offset >= 0),
    seq          bigint      NOT NULL CHECK (seq >= 0),
    session_id   text        CHECK (session_id IS NULL OR char_length(session_id) BETWEEN 1 AND 128),
    saved_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (book_id, listener)
);
