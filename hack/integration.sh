#!/usr/bin/env bash
# make integration: the integration suite in two pytest processes side by side.
#
# The tests marked `apart` (tests/integration/conftest.py APART_FILES: their own namespaces, state
# tables and stacks) run in a second process while the first runs the rest; the first process's
# disruptive tests (API server restart, node loss, the state server stopped) wait for the second to
# end. Most of the suite waits on the engine and the cluster, not on the 2 cores: side by side
# it takes about half as long. The second process's report follows the first's; its full output is
# in build/integration/apart.log. Exit status: non-zero when either process failed.
#
# Environment: PYTEST_FLAGS (default -q). Run one lane by hand with pytest -m "integration and apart"
# or -m "integration and not apart"; plain `pytest -m integration tests/integration` runs all in one.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib.sh

read -r -a flags <<<"${PYTEST_FLAGS:--q}"
logs=build/integration
mkdir -p "$logs"
temp=$(mktemp -d -t threetier-integration.XXXXXX)
apart_pid=
cleanup() {
  if [[ -n $apart_pid ]] && kill -0 "$apart_pid" 2>/dev/null; then
    kill -TERM "$apart_pid" 2>/dev/null || true
    wait "$apart_pid" 2>/dev/null || true
  fi
  rm -rf "$temp"
}
trap cleanup EXIT

export THREETIER_REQUIRE_CLUSTER=1
start=$SECONDS
.venv/bin/pytest "${flags[@]}" --durations=12 --basetemp="$temp/apart" -m "integration and apart" tests/integration \
  >"$logs/apart.log" 2>&1 &
apart_pid=$!
log "tests apart running beside (pid $apart_pid, output in $logs/apart.log)"

status=0
THREETIER_APART_PID=$apart_pid .venv/bin/pytest "${flags[@]}" --durations=12 --basetemp="$temp/stacks" \
  -m "integration and not apart" tests/integration || status=$?
apart_status=0
wait "$apart_pid" || apart_status=$?
apart_pid=

printf '\n== the tests apart (%s):\n' "$logs/apart.log"
cat "$logs/apart.log"
log "make integration: $((SECONDS - start)) s; the rest exited $status, the tests apart $apart_status"
((status == 0 && apart_status == 0))
