#!/usr/bin/env bash
# make up / down / verify STACK=s: the real Pulumi engine against a cluster, gated by the policy pack.
#
#   up:     toolchain -> cluster (local one unless the stack sets threetier:kubeconfig) -> stack
#           select/init -> pulumi up --policy-pack policy --policy-pack-config policy/config/s.json -> verify
#   down:   pulumi destroy, then stack rm
#   verify: python -m verify against the stack's outputs (or OUTPUTS=file.json) and the live cluster
#
# State lives in the local backend .pulumi-state/ (gitignored); secrets use the passphrase
# provider, default passphrase "threetier-local" (override with PULUMI_CONFIG_PASSPHRASE).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/versions-pulumi.env"

ACTION="${1:?usage: stack.sh up|down|verify STACK}"
STACK="${2:?usage: stack.sh up|down|verify STACK}"
[ -f "$REPO_ROOT/stacks/Pulumi.$STACK.yaml" ] || die "unknown stack '$STACK': no stacks/Pulumi.$STACK.yaml (known: $(ls "$REPO_ROOT/stacks" | sed -E 's/Pulumi\.(.*)\.yaml/\1/' | xargs))"

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$REPO_ROOT/.pulumi-state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-threetier-local}"
export PULUMI_HOME="${PULUMI_HOME:-$TOOLCHAIN_DIR/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
PY="$REPO_ROOT/.venv/bin/python"

# The engine needs, besides the CLI: the Python language host and the two resource plugins at the
# versions the pinned pulumi-kubernetes / pulumi-random packages request.
plugin_version() { "$PY" -c "import json, importlib.resources as r; print(json.loads(r.files('$1').joinpath('pulumi-plugin.json').read_text())['version'])"; }

require_engine() {
  local missing=()
  command -v pulumi >/dev/null || missing+=("pulumi CLI $PULUMI_VERSION")
  command -v pulumi-language-python >/dev/null || missing+=("pulumi-language-python (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)")
  local name module
  for name in kubernetes random; do
    module="pulumi_$name"
    if ! command -v "pulumi-resource-$name" >/dev/null && ! pulumi plugin ls 2>/dev/null | grep -q "^$name .*$(plugin_version "$module")"; then
      missing+=("pulumi-resource-$name v$(plugin_version "$module") (module github.com/pulumi/pulumi-$name/provider/v4)")
    fi
  done
  if ((${#missing[@]})); then
    printf '\033[1;31m[hack] error:\033[0m the Pulumi engine toolchain is incomplete; missing:\n' >&2
    printf '  - %s\n' "${missing[@]}" >&2
    cat >&2 <<MSG
Install them on PATH (a user machine with Pulumi installed has them), or build them from their Go
modules. On this workplace the Go module proxy refuses those modules (403 "This module version is
not available"), so they cannot be built here: see docs/pulumi-engine.md. Offline alternatives:
  make render STACK=$STACK     # the manifests this stack would apply
  make policy STACK=$STACK     # the policy gate over them
MSG
    exit 2
  fi
}

stack_kubeconfig() { # the stack's configured kubeconfig, or the local cluster's
  local configured
  configured=$(cd "$REPO_ROOT" && pulumi config get threetier:kubeconfig --stack "$STACK" 2>/dev/null || true)
  if [ -n "$configured" ]; then echo "$configured"; else echo "$CLUSTER_KUBECONFIG"; fi
}

case "$ACTION" in
  up)
    export PATH="$TOOLCHAIN_BIN:$PATH"
    require_engine
    cd "$REPO_ROOT"
    mkdir -p .pulumi-state
    pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK"
    if [ "$(stack_kubeconfig)" = "$CLUSTER_KUBECONFIG" ]; then
      "$REPO_ROOT/hack/cluster-up.sh"
      export KUBECONFIG="$CLUSTER_KUBECONFIG"
    fi
    pulumi up --yes --stack "$STACK" --policy-pack policy --policy-pack-config "policy/config/$STACK.json"
    "$0" verify "$STACK"
    ;;
  down)
    export PATH="$TOOLCHAIN_BIN:$PATH"
    require_engine
    cd "$REPO_ROOT"
    export KUBECONFIG="$(stack_kubeconfig)"
    pulumi destroy --yes --stack "$STACK"
    pulumi stack rm --yes "$STACK"
    ;;
  verify)
    export PATH="$TOOLCHAIN_BIN:$PATH"
    args=(--stack "$STACK" --kubeconfig "${KUBECONFIG:-$CLUSTER_KUBECONFIG}")
    [ -n "${OUTPUTS:-}" ] && args+=(--outputs "$OUTPUTS")
    [ -f "$TOOLCHAIN_DIR/dns-server" ] && args+=(--dns-server "$(cat "$TOOLCHAIN_DIR/dns-server")")
    [ -f "$TOOLCHAIN_DIR/probe-image" ] && args+=(--probe-image "$(cat "$TOOLCHAIN_DIR/probe-image")")
    cd "$REPO_ROOT" && "$PY" -m verify "${args[@]}"
    ;;
  *) die "unknown action '$ACTION' (up, down, verify)" ;;
esac
