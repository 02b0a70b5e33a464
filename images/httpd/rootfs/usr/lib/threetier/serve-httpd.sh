#!/bin/sh
# Entrypoint (PID 1) of the frontend and backend images: busybox httpd on $PORT (8080).
#
# httpd is not exec'ed because it installs no SIGTERM handler and the kernel drops
# unhandled signals sent to PID 1: the pod would wait its whole terminationGracePeriod
# on every rollout.  This shell forwards SIGTERM/SIGINT and reaps orphaned CGI children.
set -eu

port="${PORT:-8080}"

# Image-specific preparation (e.g. the backend's private pgpass file), before anything serves.
for hook in /usr/lib/threetier/prestart.d/*.sh; do
  [ -f "$hook" ] || continue
  # shellcheck source=/dev/null
  . "$hook"
done
httpd -f -v -p "$port" -h /www &
httpd_pid=$!

stopping=0
trap 'stopping=1; kill -TERM "$httpd_pid" 2>/dev/null || true' TERM INT

status=0
wait "$httpd_pid" || status=$?
if [ "$stopping" = 1 ]; then
  # wait returned because of the trap: collect httpd, then report a clean stop
  wait "$httpd_pid" 2>/dev/null || true
  exit 0
fi
echo "httpd exited with status $status" >&2
exit "$status"
