# shellcheck shell=bash
# Local Postgres and Redis started from Debian's system binaries into a data folder,
# shared by scripts/dev and scripts/test. Source it; every function is prefixed
# `stack::`. Nothing here needs Docker.

STACK_NAME=${STACK_NAME:-stack}
PG_USER=readme
PG_PASSWORD=readme

stack::log() { printf '\033[1;34m[%s]\033[0m %s\n' "$STACK_NAME" "$*" >&2; }
stack::die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$STACK_NAME" "$*" >&2; exit 1; }

stack::as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Postgres's binaries (initdb, pg_ctl, postgres) are not on PATH on Debian.
stack::pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Install whatever is missing: Redis, Postgres 15, poppler (the worker's second
# PDF engine), Tesseract with its languages (OCR), the Postgres client tools and
# Prometheus (promtool and the server, for the monitoring tests).
stack::ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  stack::pg_bindir >/dev/null 2>&1 || missing+=(postgresql-15)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client-15)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  # CMaps for Chinese, Japanese and Korean fonts: without them pdftotext drops those characters.
  [ -d /usr/share/poppler/cMap ] || missing+=(poppler-data)
  # OCR for scanned books: Tesseract and the languages the worker image carries.
  command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr tesseract-ocr-osd)
  local lang
  for lang in eng fra deu spa ita por rus ara chi-sim jpn; do
    [ -f "/usr/share/tesseract-ocr/5/tessdata/${lang//-/_}.traineddata" ] || missing+=("tesseract-ocr-$lang")
  done
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The TLS tests' private CA, and a pooler in front of Postgres (scripts/test).
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
  command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  # The admin console's browser tests drive Debian's Chromium (headless).
  command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
  # The monitoring tests: promtool for the alert rules' unit tests, and a real
  # Prometheus scraping the services.
  { [ -x /usr/bin/promtool ] && [ -x /usr/bin/prometheus ]; } || missing+=(prometheus)
  [ ${#missing[@]} -eq 0 ] && return 0
  stack::log "installing ${missing[*]} with apt-get"
  stack::as_root apt-get update -qq
  # Debian's postinst scripts try to start the packaged services; a policy that
  # forbids it keeps them from grabbing the default ports.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive stack::as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $created_policy -eq 1 ] && rm -f "$policy"
  stack::pg_bindir >/dev/null || stack::die "Postgres binaries not found after install"
}

# A TCP port nobody listens on right now.
stack::free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# True while something accepts TCP connections on 127.0.0.1:PORT.
stack::port_open() {
  python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}

# Poll a command until it succeeds or the deadline (seconds) passes.
stack::wait_for() {
  local what=$1 deadline=$2; shift 2
  local end=$((SECONDS + deadline))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && { stack::log "timed out after ${deadline}s waiting for $what"; return 1; }
    sleep 0.2
  done
}

# Postgres refuses to run as root: as root, run its tools as the `postgres` user.
stack::pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# stack::make_tls DIR: a private CA (DIR/ca.crt, not among any public roots, as
# Supabase's is not) and a server certificate it signs for the name `localhost`
# only (DIR/server.{crt,key}, readable by the postgres user), for TLS tests.
stack::make_tls() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=readme test private CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null \
    || stack::die "openssl could not make the test CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null \
    || stack::die "openssl could not sign the test server certificate"
  chmod 600 "$dir/server.key" "$dir/ca.key"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/server.key" "$dir/server.crt"
  return 0
}

# stack::start_pgbouncer DIR PORT MODE PG_PORT: PgBouncer on 127.0.0.1:PORT in
# pool_mode MODE (session or transaction) in front of the Postgres on PG_PORT,
# passing every database through with the `readme` user's password.
stack::start_pgbouncer() {
  local dir=$1 port=$2 mode=$3 pg_port=$4
  mkdir -p "$dir"
  printf '"%s" "%s"\n' "$PG_USER" "$PG_PASSWORD" > "$dir/users.txt"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/users.txt
pool_mode = $mode
default_pool_size = 20
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
  # PgBouncer refuses to run as root.
  stack::pg_run pgbouncer -d "$dir/pgbouncer.ini" || stack::die "PgBouncer ($mode) did not start"
  stack::wait_for "PgBouncer ($mode)" 30 stack::port_open "$port" \
    || { tail -n 20 "$dir/pgbouncer.log" >&2; stack::die "PgBouncer ($mode) did not listen"; }
}

stack::stop_pgbouncer() {
  local dir=$1 pid
  [ -f "$dir/pgbouncer.pid" ] || return 0
  pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
}

# stack::start_postgres DIR PORT [TLS_DIR]: initdb DIR on first use (superuser
# `readme`, password auth over TCP, no Unix socket), then start it on
# 127.0.0.1:PORT and make the `readme` database. Reuses an existing DIR. With
# TLS_DIR (from stack::make_tls) it also serves TLS; plain connections still work.
stack::start_postgres() {
  local dir=$1 port=$2 tls_dir=${3:-} bindir
  bindir=$(stack::pg_bindir) || stack::die "Postgres is not installed (apt-get install postgresql-15)"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    runuser -u postgres -- test -w "$dir" || stack::die "the postgres user cannot reach $dir; choose a data folder under a world-readable path"
  fi
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    stack::log "initdb $dir"
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$PG_PASSWORD" > "$pwfile"
    chmod 644 "$pwfile"
    stack::pg_run "$bindir/initdb" -D "$dir" -U "$PG_USER" --pwfile="$pwfile" \
      --auth-host=scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
  fi
  local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300"
  [ -n "$tls_dir" ] && opts+=" -c ssl=on -c ssl_cert_file=$tls_dir/server.crt -c ssl_key_file=$tls_dir/server.key"
  stack::log "starting Postgres on 127.0.0.1:$port${tls_dir:+ (TLS too)}"
  stack::pg_run "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; stack::die "Postgres did not start (log above)"; }
  local url="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$port"
  if ! psql "$url/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'readme'" | grep -q 1; then
    psql "$url/postgres" -qc "CREATE DATABASE readme" >/dev/null
  fi
}

stack::stop_postgres() {
  local dir=$1 bindir
  bindir=$(stack::pg_bindir) || return 0
  [ -f "$dir/postmaster.pid" ] || return 0
  stack::pg_run "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# stack::start_redis DIR PORT [TLS_PORT TLS_DIR]: Redis on 127.0.0.1:PORT, data in
# DIR, AOF on and noeviction (a queue must never silently lose entries to memory
# pressure). With TLS_PORT and TLS_DIR (from stack::make_tls) it also serves TLS
# there, without client certificates (as Upstash does).
stack::start_redis() {
  local dir=$1 port=$2 tls_port=${3:-} tls_dir=${4:-}
  local tls=()
  [ -n "$tls_port" ] && tls=(--tls-port "$tls_port" --tls-cert-file "$tls_dir/server.crt"
    --tls-key-file "$tls_dir/server.key" --tls-ca-cert-file "$tls_dir/ca.crt" --tls-auth-clients no)
  mkdir -p "$dir"
  stack::log "starting Redis on 127.0.0.1:$port${tls_port:+ (TLS on $tls_port)}"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" "${tls[@]}" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save '' \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    || stack::die "Redis did not start"
  stack::wait_for "Redis" 30 redis-cli -p "$port" ping || { tail -n 20 "$dir/redis.log" >&2; stack::die "Redis did not answer"; }
}

stack::stop_redis() {
  local dir=$1 port=$2
  redis-cli -p "$port" shutdown >/dev/null 2>&1 || true
  if [ -f "$dir/redis.pid" ]; then
    local pid
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    [ -n "$pid" ] && stack::wait_for "Redis to stop" 30 bash -c "! kill -0 $pid" || true
  fi
}

# s3s-fs: a real S3-compatible server for the tests that need S3 behaviour. Built
# once into ~/.cargo/bin and reused.
stack::ensure_s3s_fs() {
  if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
    stack::log "installing s3s-fs 0.14.1 (one time, a few minutes)"
    cargo install --locked s3s-fs@0.14.1 --features binary --quiet
  fi
  command -v s3s-fs 2>/dev/null || echo "$HOME/.cargo/bin/s3s-fs"
}

# The real Pipecat peers the gateway's tests talk to: the development runner
# (PyPI pipecat-ai, in a venv) and the JS client (npm @pipecat-ai/client-js).
# Cached under DIR; exports PIPECAT_PYTHON and PIPECAT_CLIENT_JS_MODULES.
# Playwright's driver library (no bundled browser: it drives the system Chromium)
# for the admin console's browser tests.
stack::ensure_browser_driver() {
  local dir=$1
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    stack::log "installing playwright-core@1.65.1 into $dir"
    mkdir -p "$dir"
    (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent --no-audit --no-fund playwright-core@1.65.1)
  fi
  export PLAYWRIGHT_CORE_MODULES=$dir/node_modules
  CHROMIUM_PATH=$(command -v chromium) || stack::die "chromium is not installed"
  export CHROMIUM_PATH
}

# stack::ensure_pip_tool DIR PACKAGE VERSION: PACKAGE==VERSION (PyPI) in its own
# venv, DIR/venv, made again when the installed version differs.
stack::ensure_pip_tool() {
  local dir=$1 package=$2 version=$3
  if ! "$dir/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$package') != '$version')" 2>/dev/null; then
    stack::log "installing $package==$version into $dir/venv"
    rm -rf "$dir/venv"
    mkdir -p "$dir"
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
  fi
}

# stack::ensure_schemathesis DIR: Schemathesis for the api's and the gateway's
# conformance tests; exports SCHEMATHESIS_BIN.
stack::ensure_schemathesis() {
  stack::ensure_pip_tool "$1" schemathesis 4.32.5
  export SCHEMATHESIS_BIN=$1/venv/bin/st
}

# stack::ensure_gcs_emulator DIR: gcp-storage-emulator, the GCS server of the gs://
# tests (crates/test-support/gcs adds the XML API to it); exports GCS_EMULATOR_PYTHON.
stack::ensure_gcs_emulator() {
  stack::ensure_pip_tool "$1" gcp-storage-emulator 2026.7.19
  export GCS_EMULATOR_PYTHON=$1/venv/bin/python
}

stack::ensure_pipecat_peers() {
  local dir=$1
  mkdir -p "$dir"
  if ! "$dir/venv/bin/python" -c 'import pipecat.runner.run, aiortc' >/dev/null 2>&1; then
    stack::log "installing the Pipecat runner (pipecat-ai[runner,webrtc]==1.14.0) into $dir/venv"
    rm -rf "$dir/venv"
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "pipecat-ai[runner,webrtc]==1.14.0"
  fi
  if [ ! -f "$dir/js/node_modules/@pipecat-ai/client-js/package.json" ]; then
    stack::log "installing @pipecat-ai/client-js@1.13.1 into $dir/js"
    mkdir -p "$dir/js"
    (cd "$dir/js" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent --no-audit --no-fund @pipecat-ai/client-js@1.13.1)
  fi
  export PIPECAT_PYTHON=$dir/venv/bin/python
  export PIPECAT_CLIENT_JS_MODULES=$dir/js/node_modules
}
