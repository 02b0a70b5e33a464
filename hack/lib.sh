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
TOOLCHAIN_DIR="$REPO_ROOT/.toolchain"
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
