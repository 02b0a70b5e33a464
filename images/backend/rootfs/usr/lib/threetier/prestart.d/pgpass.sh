# shellcheck shell=sh
# Sourced by serve-httpd.sh at container start: turn the mounted password file ($DB_PASSWORD_FILE,
# a read-only Secret volume) into a private pgpass file for psql, so the password never sits in an
# env var or on a command line. libpq ignores a pgpass file that its group may read, and a Secret
# volume's files are group-readable (fsGroup), hence the copy (mode 0600) in the pod's /tmp.
# A rotated password rolls the pods (the Deployment's checksum annotation), so start-time is enough.
if [ -n "${DB_PASSWORD_FILE:-}" ]; then
  if [ ! -r "$DB_PASSWORD_FILE" ]; then
    echo "cannot read the password file $DB_PASSWORD_FILE" >&2
    exit 1
  fi
  PGPASSFILE=/tmp/.pgpass
  (
    umask 077
    # pgpass fields escape '\' and ':' with a backslash; '*' matches any host, port, database, user
    printf '*:*:*:*:%s\n' "$(sed -e 's/\\/\\\\/g' -e 's/:/\\:/g' "$DB_PASSWORD_FILE" | head -n 1)" >"$PGPASSFILE"
  )
  export PGPASSFILE
fi
