-- What a listener hears by default is the body of a book; contents, indexes, notes
-- and the rest are kept and labelled instead of deleted (`kind`). Each chunk also
-- carries where its sentences start (character offsets, as char_length counts), so
-- the bot can hand its voice one sentence at a time. Chunks written before this
-- migration are body text of one "sentence" each until their book is reprocessed.
ALTER TABLE book_chunks
    ADD COLUMN kind text NOT NULL DEFAULT 'body',
    ADD COLUMN sentence_starts integer[] NOT NULL DEFAULT '{0}';

-- Constant defaults make the columns instant; the checks are validated separately,
-- so only a light lock is held while existing rows are read.
ALTER TABLE book_chunks
    ADD CONSTRAINT book_chunks_kind CHECK (kind IN (
        'body', 'front_matter', 'contents', 'notes', 'index', 'back_matter', 'code', 'table'
    )) NOT VALID,
    ADD CONSTRAINT book_chunks_sentence_starts CHECK (
        cardinality(sentence_starts) >= 1 AND sentence_starts[1] = 0
    ) NOT VALID;
ALTER TABLE book_chunks VALIDATE CONSTRAINT book_chunks_kind;
ALTER TABLE book_chunks VALIDATE CONSTRAINT book_chunks_sentence_starts;

-- The language the book's text is in (ISO 639-1 where known), detected from its
-- text: the bot picks a voice with it.
ALTER TABLE books ADD COLUMN language text
    CHECK (language IS NULL OR language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');
