#!/usr/bin/env bash
# Build the Pulumi CLI from its Go module (pinned in hack/versions-pulumi.env) into the
# version-keyed cache and link it into .toolchain/bin; a `pulumi` already on PATH at the pinned
# version is used as is. The YAML language host (pulumi-language-yaml, for the component package's
# YAML consumer) is built the same way, through the wrapper module hack/gomod/pulumi-yaml. Then
# report the rest of the engine: the Python language host and the resource plugins are a machine
# prerequisite (a Pulumi install provides them; the Go module proxy does not serve them), found on
# PATH, in ~/.pulumi/bin or in ~/.pulumi/plugins (`python -m deploy`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions-pulumi.env"

PY="$REPO_ROOT/.venv/bin/python"

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

# The YAML language host: its own module's main loads schemas with an older copy of the plugin
# code, which cannot start CLI v3.259.0's Python host (hack/gomod/pulumi-yaml/main.go says why).
# The version is only known through -ldflags (the module leaves it empty).
build_yaml_host() {
  if ! have_tool pulumi-language-yaml "$PULUMI_YAML_VERSION" pulumi-language-yaml; then
    local out; out="$(tool_dir pulumi-language-yaml "$PULUMI_YAML_VERSION")/bin"; mkdir -p "$out"
    log "building pulumi-language-yaml $PULUMI_YAML_VERSION (github.com/pulumi/pulumi-yaml through hack/gomod/pulumi-yaml)"
    local start=$SECONDS
    (cd "$REPO_ROOT/hack/gomod/pulumi-yaml" && go build -mod=mod -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=${PULUMI_YAML_VERSION#v}" \
      -o "$out/pulumi-language-yaml.partial" .)
    mv "$out/pulumi-language-yaml.partial" "$out/pulumi-language-yaml"
    printf '%s\tpulumi-language-yaml-%s\t%ss\t-\n' "$(date -u +%FT%TZ)" "$PULUMI_YAML_VERSION" "$((SECONDS - start))" >> "$TOOLCHAIN_CACHE/build-times.tsv"
  fi
  link_tool pulumi-language-yaml "$PULUMI_YAML_VERSION" pulumi-language-yaml
}

main() {
  mkdir -p "$TOOLCHAIN_CACHE" "$TOOLCHAIN_BIN"
  [ -x "$PY" ] || die "no project venv: run 'make venv' first"
  build_cli
  build_yaml_host
  local report
  if report=$(cd "$REPO_ROOT" && "$PY" -m deploy); then
    log "$report"
  else
    printf '\033[1;33m[hack] warning:\033[0m %s\n(make up and the engine tests need the missing parts; the rest of the project runs without them)\n' "$report" >&2
  fi
}

main "$@"
