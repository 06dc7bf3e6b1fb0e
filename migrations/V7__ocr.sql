-- Scanned books: the languages an upload asks OCR to read (Tesseract's codes,
-- NULL for the worker's OCR_LANGUAGES), and which chunks came from OCR.
ALTER TABLE books ADD COLUMN ocr_languages text[];
ALTER TABLE book_chunks ADD COLUMN ocr boolean NOT NULL DEFAULT false;
