#!/usr/bin/env bash
# Shared helpers for the local toolchain scripts under hack/.
#
# Binaries are built from Go modules into a version-keyed cache OUTSIDE the clone:
#   ${THREETIER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/threetier}/toolchain/<tool>-<version>/bin/<binary>
# and linked from the gitignored .toolchain/bin of the clone, so a second run and
# CI's fresh clone on the same machine find them at once.  Nothing here is committed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREETIER_CACHE="${THREETIER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/threetier}"
TOOLCHAIN_CACHE="$THREETIER_CACHE/toolchain"
# Its physical path: a worktree whose .toolchain links to another clone's shares that clone's
# cluster, and the node's kubelet must get the same root dir whichever clone (re)starts it (seen: a
# kubelet restarted through the link could not tear down a pod's secret volume, "unlinkat ...:
# device or resource busy", and the pod's namespace stayed Terminating).
TOOLCHAIN_DIR="$(cd "$REPO_ROOT/.toolchain" 2>/dev/null && pwd -P || echo "$REPO_ROOT/.toolchain")"
TOOLCHAIN_BIN="$TOOLCHAIN_DIR/bin"

# Go settings shared by every build: never fetch another Go, keep module and build caches
# outside the clone (they are several GB and make warm rebuilds instant).
export GOTOOLCHAIN=local
export GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}"
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}"
export CGO_ENABLED="${CGO_ENABLED:-0}"

log() { printf '\033[1;34m[hack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[hack] error:\033[0m %s\n' "$*" >&2; exit 1; }

# tool_dir TOOL VERSION -> cache directory for that tool at that version
tool_dir() { printf '%s/%s-%s' "$TOOLCHAIN_CACHE" "$1" "$2"; }

# link_tool TOOL VERSION BINARY... -> link cached binaries into .toolchain/bin
link_tool() {
  local tool="$1" version="$2"; shift 2
  mkdir -p "$TOOLCHAIN_BIN"
  local bin
  for bin in "$@"; do
    ln -sfn "$(tool_dir "$tool" "$version")/bin/$bin" "$TOOLCHAIN_BIN/$bin"
  done
}

# have_tool TOOL VERSION BINARY... -> true when every binary is already in the cache
have_tool() {
  local tool="$1" version="$2"; shift 2
  local bin
  for bin in "$@"; do
    [ -x "$(tool_dir "$tool" "$version")/bin/$bin" ] || return 1
  done
}

# --- processes started in the background (cluster and node) -------------------------------------

# close_inherited_fds: close the descriptors 3-9 this shell inherited, before it starts daemons.
# The cluster's processes (ours, and those kwokctl starts) outlive the command that started them;
# run as `flock /tmp/threetier-cluster.lock make cluster-up`, they would inherit flock's descriptor
# of the lock and hold the lock for as long as they run: every later `flock` waits forever (seen:
# etcd, kube-apiserver, the kubelet, containerd... each with the lock open on fd 3).
close_inherited_fds() {
  local fd
  for fd in 3 4 5 6 7 8 9; do
    [ -e "/proc/$$/fd/$fd" ] && eval "exec $fd>&-"
  done
  return 0
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD (every 0.5 s) until it succeeds or the deadline passes
wait_for() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${timeout}s waiting for $what (logs: ${LOG_DIR:-.toolchain/logs}/); 'make cluster-down && make cluster-up' starts afresh"
    fi
    sleep 0.5
  done
}

# start_background NAME CMD...: run detached; log to $LOG_DIR/NAME.log, pid to $RUN_DIR/NAME.pid
start_background() {
  local name="$1"; shift
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  nohup "$@" >"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

# pid_alive NAME: the process recorded in $RUN_DIR/NAME.pid runs
pid_alive() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

# stop_pids PIDFILE...: TERM every recorded pid at once, wait for them all (KILL what still runs
# after $STOP_GRACE s, 15 by default), remove the files. Each of the cluster's processes takes ~2 s
# to exit on TERM: stopped together, a batch takes as long as its slowest, not their sum.
stop_pids() {
  local file pid deadline=$((SECONDS + ${STOP_GRACE:-15}))
  local -a files=() pids=()
  for file in "$@"; do
    pid=$(cat "$file" 2>/dev/null) || continue
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      files+=("$file"); pids+=("$pid")
    else
      rm -f "$file"
    fi
  done
  local i
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "${pids[$i]}" 2>/dev/null; then kill -9 "${pids[$i]}" 2>/dev/null || true; fi
    log "stopped $(basename "${files[$i]}" .pid) (pid ${pids[$i]})"
    rm -f "${files[$i]}"
  done
}

# stop_pid PIDFILE: stop_pids of one file
stop_pid() { stop_pids "$1"; }
