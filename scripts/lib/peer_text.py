"""The peer for `scripts/bench listening`: pymupdf4llm (PyMuPDF 2.x's layout model)
as its users run it for text, running heads and feet dropped, no OCR. One JSON
object per file on stdout: {"file", "text", "seconds", "error"}."""

import json
import sys
import time

import pymupdf4llm

for path in sys.argv[1:]:
    started = time.monotonic()
    record = {"file": path, "text": "", "error": None}
    try:
        record["text"] = pymupdf4llm.to_text(
            path, header=False, footer=False, use_ocr=False, show_progress=False
        )
    except Exception as e:  # noqa: BLE001 - a peer failure is a figure, not a crash
        record["error"] = f"{type(e).__name__}: {e}"
    record["seconds"] = time.monotonic() - started
    print(json.dumps(record), flush=True)
