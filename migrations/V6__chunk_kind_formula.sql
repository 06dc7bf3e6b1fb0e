-- Display formulas become their own kind of chunk (the reading flow says "a formula"
-- in their place, as it does for code and tables). The check is replaced the same way
-- V5 added it: NOT VALID first, validated separately, so only a light lock is held
-- while existing rows are read.
ALTER TABLE book_chunks DROP CONSTRAINT book_chunks_kind;
ALTER TABLE book_chunks
    ADD CONSTRAINT book_chunks_kind CHECK (kind IN (
        'body', 'front_matter', 'contents', 'notes', 'index', 'back_matter', 'code', 'table',
        'formula'
    )) NOT VALID;
ALTER TABLE book_chunks VALIDATE CONSTRAINT book_chunks_kind;
