#!/usr/bin/env bash
# Build the Pulumi engine from Go modules (pinned in hack/versions-pulumi.env) into the version-keyed
# cache and link it into .toolchain/bin:
#   pulumi-vX                    : pulumi (CLI, github.com/pulumi/pulumi/pkg/v3, through hack/gomod/pulumi)
#   pulumi-language-python-vX    : pulumi-language-python (+ pulumi-language-python-exec from sdk/v3)
#   pulumi-resource-kubernetes-vX: from github.com/pulumi/pulumi-kubernetes/provider/v4
#   pulumi-resource-random-vX    : from github.com/pulumi/pulumi-random/provider/v4
# A `pulumi` already on PATH at the pinned version is used as is. Modules the Go proxy refuses are
# reported (module, version, error) and skipped: `make up` then says what is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions-pulumi.env"

PY="$REPO_ROOT/.venv/bin/python"
UNAVAILABLE=()

go_info() { # go_info MODULE@VERSION -> JSON of `go mod download -json` (errors included)
  (cd "$(mktemp -d)" && go mod download -json "$1" 2>/dev/null || true)
}

module_error() { # module_error MODULE@VERSION -> the proxy's error, empty when the module is served
  go_info "$1" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read() or "{}"); print(d.get("Error",""))'
}

build_cli() {
  local installed
  installed=$(command -v pulumi 2>/dev/null && pulumi version 2>/dev/null || true)
  if [[ "$installed" == *"$PULUMI_VERSION" ]] && [[ "$installed" != "$TOOLCHAIN_BIN"* ]]; then
    log "using the installed pulumi ($PULUMI_VERSION) from PATH"; return
  fi
  if ! have_tool pulumi "$PULUMI_VERSION" pulumi; then
    local out; out="$(tool_dir pulumi "$PULUMI_VERSION")/bin"; mkdir -p "$out"
    log "building pulumi $PULUMI_VERSION (github.com/pulumi/pulumi/pkg/v3 through hack/gomod/pulumi)"
    local start=$SECONDS
    (cd "$REPO_ROOT/hack/gomod/pulumi" && go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$out/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    mv "$out/pulumi.partial" "$out/pulumi"
    printf '%s\tpulumi-%s\t%ss\t-\n' "$(date -u +%FT%TZ)" "$PULUMI_VERSION" "$((SECONDS - start))" >> "$TOOLCHAIN_CACHE/build-times.tsv"
  fi
  link_tool pulumi "$PULUMI_VERSION" pulumi
}

language_host() {
  command -v pulumi-language-python >/dev/null && { log "using pulumi-language-python from PATH"; return; }
  # Untagged module: only a pseudo-version of the release commit can name it. The release commit
  # is the one the pkg/v3 tag points at (Origin in the proxy's .info).
  local origin time hash pseudo error
  origin=$(go_info "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION")
  time=$(echo "$origin" | "$PY" -c 'import json,sys,datetime as d; t=json.load(open(json.load(sys.stdin)["Info"]))["Time"]; print(d.datetime.strptime(t,"%Y-%m-%dT%H:%M:%SZ").strftime("%Y%m%d%H%M%S"))')
  hash=$(echo "$origin" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Origin"]["Hash"][:12])')
  pseudo="v3.0.0-$time-$hash"
  error=$(module_error "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$pseudo")
  if [ -n "$error" ]; then
    UNAVAILABLE+=("pulumi-language-python: $error"); return
  fi
  die "pulumi-language-python@$pseudo is now served: add its wrapper build here (see docs/pulumi-engine.md)"
}

provider() { # provider NAME: the plugin version the pinned Python package requests
  local name="$1" version sdk_error
  command -v "pulumi-resource-$name" >/dev/null && { log "using pulumi-resource-$name from PATH"; return; }
  version=$("$PY" -c "import json, importlib.resources as r; print(json.loads(r.files('pulumi_$name').joinpath('pulumi-plugin.json').read_text())['version'])")
  # The provider module is untagged too: its release commit is the one tagged sdk/vX.
  sdk_error=$(module_error "github.com/pulumi/pulumi-$name/sdk/v4@v$version")
  if [ -n "$sdk_error" ]; then
    UNAVAILABLE+=("pulumi-resource-$name v$version: the release commit is unknown, $sdk_error")
    return
  fi
  UNAVAILABLE+=("pulumi-resource-$name v$version: sdk/v4 is served but the provider/v4 build is not scripted yet")
}

main() {
  mkdir -p "$TOOLCHAIN_CACHE" "$TOOLCHAIN_BIN"
  [ -x "$PY" ] || die "no project venv: run 'make venv' first"
  build_cli
  language_host
  provider kubernetes
  provider random
  if ((${#UNAVAILABLE[@]})); then
    printf '\033[1;33m[hack] warning:\033[0m not buildable here (the Go module proxy refuses them):\n' >&2
    printf '  - %s\n' "${UNAVAILABLE[@]}" >&2
  fi
  log "pulumi engine toolchain: $(ls "$TOOLCHAIN_BIN" | grep -E '^pulumi' | xargs)"
}

main "$@"
