#!/bin/sh
# Entrypoint of the database image: a real PostgreSQL 15 whose data directory lives in /tmp,
# the pod's only writable path (an emptyDir with sizeLimit 64Mi).
#
# First start (no $PGDATA/PG_VERSION): initdb into $PGDATA.init with the superuser $DB_USER
# and the password in the file $DB_PASSWORD_FILE (a read-only mounted Secret), name the
# cluster's database $DB_NAME, allow scram-sha-256 logins from any address, then rename the directory
# to $PGDATA, so a crash half-way through never leaves a half-initialised cluster behind.
# Every start then execs postgres as PID 1 (it handles SIGTERM/SIGINT itself).
#
# Sizes are chosen to stay well under 64 MiB: 1 MiB WAL segments and at most ~8 MiB of WAL
# (a fresh cluster is ~24 MiB, see images/README.md).
set -eu

: "${DB_NAME:?DB_NAME must be set}"
: "${DB_USER:?DB_USER must be set}"
: "${DB_PASSWORD_FILE:?DB_PASSWORD_FILE must name the mounted password file}"
[ -r "$DB_PASSWORD_FILE" ] || { echo "cannot read the password file $DB_PASSWORD_FILE" >&2; exit 1; }
PGDATA="${PGDATA:-/tmp/pgdata}"
umask 077

# quote_ident NAME: NAME as a quoted SQL identifier
quote_ident() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"
}

init_cluster() {
  staging="$PGDATA.init"
  rm -rf "$staging"
  # initdb reads the first line of the file: the password, never in any env var or argument
  initdb -D "$staging" --username="$DB_USER" --pwfile="$DB_PASSWORD_FILE" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C --wal-segsize=1 --no-instructions >/dev/null

  # single-user mode (no socket, no TCP port yet): rename initdb's "postgres" database to
  # $DB_NAME instead of copying template1 (-7 MiB), then CHECKPOINT so the WAL initdb wrote
  # is recycled down to min_wal_size before the first start.
  case "$DB_NAME" in
    template0 | template1) echo "DB_NAME must not be a template database" >&2; exit 1 ;;
    postgres) sql='CHECKPOINT' ;;
    *) sql="ALTER DATABASE postgres RENAME TO $(quote_ident "$DB_NAME")
CHECKPOINT" ;;
  esac
  out="$(printf '%s\n' "$sql" | postgres --single -D "$staging" -c jit=off -c min_wal_size=2MB -c max_wal_size=8MB template1 2>&1)" || true
  case "$out" in
    *ERROR:* | *FATAL:* | *PANIC:*) printf 'preparing database %s failed:\n%s\n' "$DB_NAME" "$out" >&2; exit 1 ;;
  esac

  printf '%s\n' \
    '# threetier: the pod network reaches the database only through its Service' \
    'host all all 0.0.0.0/0 scram-sha-256' \
    'host all all ::/0 scram-sha-256' >>"$staging/pg_hba.conf"
  mv "$staging" "$PGDATA"
  echo "initialised $PGDATA: database $DB_NAME, user $DB_USER, $(du -sh "$PGDATA" | cut -f1)" >&2
}

[ -s "$PGDATA/PG_VERSION" ] || init_cluster

exec postgres -D "$PGDATA" \
  -c listen_addresses='*' -p 5432 -c unix_socket_directories=/tmp \
  -c shared_buffers=16MB -c max_wal_size=8MB -c min_wal_size=2MB \
  -c jit=off -c logging_collector=off
