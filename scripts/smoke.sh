#!/usr/bin/env bash
# The seeds' smoke tests, automated, against a running environment (dev, prod, or
# the local stack of scripts/dev). Needs curl and python3; changes nothing but the
# book it uploads, which it deletes again at the end.
#
#   API_BASE_URL=https://api.example ADMIN_API_TOKEN=… scripts/smoke.sh [book.pdf]
#
#   API_BASE_URL           the api (required)
#   ADMIN_API_TOKEN        the api's admin token (required: the upload is an admin route)
#   book.pdf               the PDF to upload; default: a one-page PDF written here,
#                          different on every run, so it is always a new book
#   SMOKE_HOUSEHOLD_ID     the household it is uploaded to (default: the seeds' 1111…)
#   SMOKE_TIMEOUT_SECONDS  how long the book may take to become ready (default 300)
#   SMOKE_KEEP_BOOK=1      keep the uploaded book instead of deleting it
#   GATEWAY_BASE_URL       the bot gateway: checks /health and /health/ready
#   SMOKE_USER_JWT         with GATEWAY_BASE_URL: a user's access token; starts a bot
#                          session through /api/start and ends it again. Pipecat
#                          Cloud bills a start, so this step runs only when asked.
#   SMOKE_TRANSPORT        the transport to ask for (default: the gateway's own)
#
# Steps: api health and readiness; the seeds' upload curl (HTTP 200 with book_id,
# status "processing" and storage_path); the book reaches "ready" with chunks (so a
# worker took the job: its log has `processing your book | book_id=<id>`); the first
# chunk reads back; then the gateway. Exits non-zero at the first failure, saying
# which step and what came back.
set -euo pipefail

api=${API_BASE_URL:?set API_BASE_URL to the api, e.g. http://localhost:8080}
admin=${ADMIN_API_TOKEN:?set ADMIN_API_TOKEN to the api admin token}
api=${api%/}
household=${SMOKE_HOUSEHOLD_ID:-11111111-1111-1111-1111-111111111111}
timeout=${SMOKE_TIMEOUT_SECONDS:-300}
gateway=${GATEWAY_BASE_URL:-}
gateway=${gateway%/}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "smoke: needs $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/readme-smoke.XXXXXX)
book_id=
delete_book=
cleanup() {
  local status=$?
  if [ -n "$delete_book" ] && [ "${SMOKE_KEEP_BOOK:-}" != 1 ]; then
    if curl -sS -o /dev/null -X DELETE -H "Authorization: Bearer $admin" "$api/admin/books/$book_id"; then
      say "deleted the smoke book $book_id"
    else
      echo "smoke: could not delete the smoke book $book_id; delete it with DELETE /admin/books/$book_id" >&2
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

say() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# A value in the JSON document in file $1, found by the keys that follow (array
# positions as numbers); empty when absent. Objects and booleans print as JSON.
field() {
  python3 - "$@" <<'PY'
import json, sys
try:
    value = json.load(open(sys.argv[1]))
    for key in sys.argv[2:]:
        value = value[int(key)] if isinstance(value, list) else value[key]
except Exception:
    value = None
print("" if value is None else (json.dumps(value) if isinstance(value, (dict, list, bool)) else value))
PY
}

# curl with the status code in $code and the body in $work/body; never fails itself.
request() {
  code=$(curl -sS -o "$work/body" -w '%{http_code}' "$@" 2>"$work/curl-error") || code=000
  [ "$code" != 000 ] || fail "could not reach ${*: -1}: $(cat "$work/curl-error")"
}

# 1. The api is up and can reach Postgres, Redis and storage.
request "$api/health"
[ "$code" = 200 ] || fail "GET /health answered $code: $(cat "$work/body")"
say "api /health ok"
request "$api/health/ready"
[ "$code" = 200 ] || fail "GET /health/ready answered $code: $(cat "$work/body")"
say "api /health/ready ok"

# 2. The seeds' upload, with the admin token.
pdf=${1:-}
if [ -z "$pdf" ]; then
  pdf=$work/smoke.pdf
  python3 - "$pdf" <<'PY'
import secrets, sys, datetime
text = (f"This is the readme smoke test, written at {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC "
        f"with the nonce {secrets.token_hex(8)}. If a voice reads this sentence, the pipeline works.")
content = f"BT /F1 11 Tf 72 720 Td ({text}) Tj ET".encode()
objects = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
]
out = bytearray(b"%PDF-1.4\n")
offsets = []
for number, body in enumerate(objects, start=1):
    offsets.append(len(out))
    out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
open(sys.argv[1], "wb").write(out)
PY
fi
[ -f "$pdf" ] || fail "no such file: $pdf"
request -X POST "$api/admin/books/upload" \
  -H "Authorization: Bearer $admin" \
  -F "household_id=$household" \
  -F "file=@$pdf;type=application/pdf"
[ "$code" = 200 ] || fail "the upload answered $code: $(cat "$work/body")"
book_id=$(field "$work/body" book_id)
status=$(field "$work/body" status)
storage_path=$(field "$work/body" storage_path)
deduplicated=$(field "$work/body" deduplicated)
[ -n "$book_id" ] && [ -n "$storage_path" ] || fail "the upload's answer lacks book_id or storage_path: $(cat "$work/body")"
if [ "$deduplicated" = true ]; then
  say "upload ok: this household already had these bytes, so book $book_id is the existing one (status $status); it is left as it is"
else
  delete_book=1
  [ "$status" = processing ] || fail "a new upload should be \"processing\", not \"$status\": $(cat "$work/body")"
  say "upload ok: book $book_id, status processing, stored at $storage_path"
fi

# 3. A worker takes the job and the book becomes ready with chunks.
deadline=$((SECONDS + timeout))
while :; do
  request -H "Authorization: Bearer $admin" "$api/books/$book_id/status"
  [ "$code" = 200 ] || fail "GET /books/$book_id/status answered $code: $(cat "$work/body")"
  status=$(field "$work/body" status)
  case "$status" in
    ready) break ;;
    failed) fail "the book failed: $(field "$work/body" error)" ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || fail "the book was still \"$status\" after ${timeout}s: is a worker running? $(cat "$work/body")"
  sleep 1
done
chunks=$(field "$work/body" chunk_count)
[ "${chunks:-0}" -gt 0 ] || fail "the book is ready with no chunks: $(cat "$work/body")"
say "book ready: $(field "$work/body" page_count) page(s), $chunks chunk(s), read by $(field "$work/body" text_engine); a worker took the job (its log has: processing your book | book_id=$book_id)"
request -H "Authorization: Bearer $admin" "$api/books/$book_id/chunks?limit=1"
[ "$code" = 200 ] || fail "GET /books/$book_id/chunks answered $code: $(cat "$work/body")"
first=$(field "$work/body" chunks 0 text)
[ -n "$first" ] || fail "the first chunk has no text: $(cat "$work/body")"
first=${first//$'\n'/ }
say "first chunk: ${first:0:100}"

# 4. The bot gateway.
if [ -n "$gateway" ]; then
  request "$gateway/health"
  [ "$code" = 200 ] || fail "gateway GET /health answered $code: $(cat "$work/body")"
  request "$gateway/health/ready"
  [ "$code" = 200 ] || fail "gateway GET /health/ready answered $code: $(cat "$work/body")"
  say "gateway /health and /health/ready ok"
  if [ -n "${SMOKE_USER_JWT:-}" ]; then
    body=$(python3 -c 'import json, sys; print(json.dumps({"transport": sys.argv[1]} if sys.argv[1] else {}))' "${SMOKE_TRANSPORT:-}")
    request -X POST "$gateway/api/start" -H "Authorization: Bearer $SMOKE_USER_JWT" \
      -H "Content-Type: application/json" -d "$body"
    [ "$code" = 200 ] || fail "POST /api/start answered $code: $(cat "$work/body")"
    session=$(field "$work/body" sessionId)
    [ -n "$session" ] || fail "POST /api/start answered 200 without a sessionId: $(cat "$work/body")"
    say "bot session $session started"
    request -H "Authorization: Bearer $SMOKE_USER_JWT" "$gateway/api/sessions/$session"
    [ "$code" = 200 ] || fail "GET /api/sessions/$session answered $code: $(cat "$work/body")"
    request -X DELETE -H "Authorization: Bearer $SMOKE_USER_JWT" "$gateway/api/sessions/$session"
    [ "$code" = 204 ] || fail "DELETE /api/sessions/$session answered $code: $(cat "$work/body")"
    say "bot session $session ended"
  fi
fi
say "all smoke tests passed"
