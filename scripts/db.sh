# shellcheck shell=bash
# PostgreSQL for development and tests. Sourced, not executed.
#
# db_up: when DATABASE_URL is set, uses that server as it is. Otherwise provisions a project-local
# cluster (initdb into .data/postgres, git-ignored; unix socket only, so no port can clash; run as
# the unprivileged `postgres` user when invoked as root), starts it, and exports DATABASE_URL for
# the database named by $1 (default: keyward). db_down stops the cluster if db_up started it.

KEYWARD_PG_STARTED=""

_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_pg_dirs() {
  PG_BIN=$(pg_bin_dir) || { echo "PostgreSQL server binaries not found: run scripts/setup.sh" >&2; return 1; }
  PG_HOME="${KEYWARD_PG_HOME:-$ROOT/.data/postgres}"
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$PG_HOME"
    # The postgres user must reach the folder; a checkout under /root is not reachable.
    if ! runuser -u postgres -- test -x "$PG_HOME" 2>/dev/null; then
      PG_HOME="/var/tmp/keyward-postgres-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
      mkdir -p "$PG_HOME"
    fi
    chown postgres:postgres "$PG_HOME"
    PG_SUPERUSER=postgres
  else
    mkdir -p "$PG_HOME"
    PG_SUPERUSER=$(id -un)
  fi
  PG_DATA="$PG_HOME/data"
  # Unix socket paths are limited to 107 bytes and must not contain spaces: keep the socket in
  # /tmp, named after the checkout so two checkouts do not meet.
  PG_SOCKET="/tmp/keyward-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  mkdir -p "$PG_SOCKET"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_SOCKET"; fi
  PG_PORT="${KEYWARD_PG_PORT:-5433}"
}

db_url_for() {
  if [ -n "${KEYWARD_EXTERNAL_DATABASE_URL:-}" ]; then
    # Swap the database name in the given URL, keeping any query string.
    local base="${KEYWARD_EXTERNAL_DATABASE_URL%%\?*}" query=""
    case "$KEYWARD_EXTERNAL_DATABASE_URL" in *\?*) query="?${KEYWARD_EXTERNAL_DATABASE_URL#*\?}" ;; esac
    echo "${base%/*}/$1$query"
  else
    echo "postgres://$PG_SUPERUSER@localhost/$1?host=$PG_SOCKET&port=$PG_PORT"
  fi
}

# psql on the server's maintenance database, with the database name $1 as :'name'. psql, not
# sqlx-cli: running Keyward needs no cargo tool beyond the build's.
_db_admin() {
  local name="$1" url password=""
  shift
  url="$(db_url_for postgres)"
  # A password in the URL goes to psql in PGPASSWORD, never on its command line, where anyone on
  # the machine could read it.
  if [[ "$url" =~ ^([a-z]+://[^:/@]*):([^@]*)@(.*)$ ]]; then
    password="${BASH_REMATCH[2]}"
    url="${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
    password="$(printf '%b' "${password//%/\\x}")"
  fi
  (
    if [ -n "$password" ]; then export PGPASSWORD="$password"; fi
    exec "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -v name="$name" "$url" "$@" >/dev/null
  )
}

# Creates database $1 if it does not exist (either kind of server).
db_create() {
  _db_admin "$1" <<'SQL'
SELECT format('CREATE DATABASE %I', :'name')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SQL
}

db_drop() {
  _db_admin "$1" 2>/dev/null <<'SQL' || true
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'name') \gexec
SQL
}

db_up() {
  local name="${1:-keyward}"
  if [ -n "${DATABASE_URL:-}" ] && [ -z "${KEYWARD_PG_HOME_ACTIVE:-}" ]; then
    export KEYWARD_EXTERNAL_DATABASE_URL="$DATABASE_URL"
    step "database: using DATABASE_URL"
  else
    _pg_dirs || return 1
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      step "database: creating a local PostgreSQL cluster in $PG_DATA"
      _pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --no-locale -E UTF8 -U "$PG_SUPERUSER" >/dev/null
    fi
    if ! _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
      step "database: starting the local cluster (socket in $PG_SOCKET)"
      _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/postgres.log" -w \
        -o "-k $PG_SOCKET -c listen_addresses='' -p $PG_PORT" start >/dev/null
      KEYWARD_PG_STARTED=1
    fi
    export KEYWARD_PG_HOME_ACTIVE=1
  fi
  db_create "$name"
  DATABASE_URL="$(db_url_for "$name")"
  export DATABASE_URL
}

db_down() {
  if [ -n "$KEYWARD_PG_STARTED" ]; then
    step "database: stopping the local cluster"
    _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
    KEYWARD_PG_STARTED=""
  fi
}
