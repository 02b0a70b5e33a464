#!/usr/bin/env bash
# make up / down / verify STACK=s: the real Pulumi engine against a cluster, gated by the policy pack.
#
#   up:     engine check -> cluster (the local one unless the platform stack sets its kubeconfig) ->
#           the environment's platform stack when it does not exist yet (platform-up) ->
#           stack select/init -> the engine step (python -m deploy up, deploy/stack.py): the
#           pending creates of an interrupted up adopted; pulumi up --skip-preview --policy-pack
#           policy --policy-pack-config policy/config/s.json with the program inline, which
#           registers nothing before the policy pack has passed over it offline (make policy's
#           gate, run while the engine starts; the pack then judges every resource again) -> verify
#   apply:  up's engine step alone (no cluster start, no verification): what
#           hack/benchmark_engine.py times
#   down:   pulumi destroy, then pulumi stack rm --preserve-config (the tracked stack file stays)
#   platform-up / platform-down: the environment's platform stack (platform/: namespace, quota,
#           limits, the app's scoped deployer), deployed with admin credentials (deploy/platform.py);
#           platform-down is refused while the app stack still deploys through it
#   verify: python -m verify against the stack's outputs (or OUTPUTS=file.json) and the live cluster;
#           VERIFY_TIMEOUT=s bounds how long a check waits for things to settle (default 60)
#   unlock: pulumi cancel: removes the stack's locks, e.g. the stale one a killed `pulumi up` left
#   migrate: move the stack from the file backend to the PostgreSQL one (python -m deploy migrate)
#   fleet-up / fleet-down / fleet-verify / fleet-render: the fleet (examples/fleet, stack STACK of
#           it, e.g. kwok) of THREETIER_FLEET_APPS apps on the cluster's simulated nodes
#           (docs/fleet.md): up is python -m deploy up --project fleet (the same offline gate and
#           policy-packed pulumi up --skip-preview, policy/config/standalone.json), then fleet-verify
#           (the verifier over every app's outputs); render writes the manifests kubectl would apply
#
# The engine is a machine prerequisite (`python -m deploy` says what is found and what is missing):
# the CLI from .toolchain/bin (make toolchain) or PATH, the language host and the resource plugins
# from PATH, ~/.pulumi/bin or the plugin cache ~/.pulumi/plugins. Nothing is downloaded.
# State: THREETIER_BACKEND=local (default: the file backend .pulumi-state/, gitignored) or postgres
# (the shared PostgreSQL server of hack/state-up.sh, started when needed); PULUMI_BACKEND_URL, when
# set, wins over both (a team's own server). Secrets use the passphrase provider, default passphrase
# "threetier-local", whose salt the stack files carry (README).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$(dirname "${BASH_SOURCE[0]}")/state-env.sh"

USAGE="usage: stack.sh up|apply|down|verify|unlock|migrate|platform-up|platform-down|fleet-up|fleet-down|fleet-verify|fleet-render STACK"
ACTION="${1:?$USAGE}"
STACK="${2:?$USAGE}"
STACK_DIR=stacks
PROJECT_DIR="$REPO_ROOT" # where the stack's Pulumi.yaml is (the CLI runs there)
FLEET_DIR="$REPO_ROOT/examples/fleet"
if [[ "$ACTION" == fleet-* ]]; then STACK_DIR=examples/fleet PROJECT_DIR="$FLEET_DIR"; fi
[ -f "$REPO_ROOT/$STACK_DIR/Pulumi.$STACK.yaml" ] || die "unknown stack '$STACK': no $STACK_DIR/Pulumi.$STACK.yaml (known: $(ls "$REPO_ROOT/$STACK_DIR" | sed -nE 's/Pulumi\.(.*)\.yaml/\1/p' | grep -vx '' | xargs))"

# The file backend: .pulumi-state/ of the clone (THREETIER_LOCAL_STATE moves it, e.g. for tests).
LOCAL_STATE_DIR="${THREETIER_LOCAL_STATE:-$REPO_ROOT/.pulumi-state}"
LOCAL_BACKEND_URL="file://$LOCAL_STATE_DIR"

use_backend() { # PULUMI_BACKEND_URL from THREETIER_BACKEND, unless the caller set it
  if [ -n "${PULUMI_BACKEND_URL:-}" ]; then return 0; fi
  case "${THREETIER_BACKEND:-local}" in
    local)
      mkdir -p "$LOCAL_STATE_DIR"
      export PULUMI_BACKEND_URL="$LOCAL_BACKEND_URL"
      ;;
    postgres)
      "$REPO_ROOT/hack/state-up.sh" >/dev/null # idempotent; says on stderr what it started
      PULUMI_BACKEND_URL="$(state_url)"
      export PULUMI_BACKEND_URL
      ;;
    *) die "BACKEND=${THREETIER_BACKEND} is not valid; allowed values: local, postgres" ;;
  esac
}
use_backend

# The backend URL as messages show it: a password in it (a team's own PULUMI_BACKEND_URL may carry
# one) replaced by ****. The URLs this repo builds hold none (hack/state-env.sh).
backend_shown() { sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:****@#' <<<"$PULUMI_BACKEND_URL"; }
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-threetier-local}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
PY="$REPO_ROOT/.venv/bin/python"

require_engine() { # the whole engine, or the report of what is missing (exit 2); PATH set to run it
  local path
  # The built CLI first; the language host's directory when it is not in the plugin cache.
  if ! path=$(cd "$REPO_ROOT" && "$PY" -m deploy --path); then
    cat >&2 <<MSG
'make $ACTION' needs the whole engine and stops here, before touching any cluster. Offline meanwhile:
  make render STACK=$STACK     # the manifests this stack would apply
  make policy STACK=$STACK     # the policy gate over them
MSG
    exit 2
  fi
  export PATH="$path"
}

# try_select_stack: select $STACK; false when the backend has no such stack. Any other failure (a
# backend that does not answer, a bad URL) stops here with the CLI's own words.
try_select_stack() {
  local output
  output=$(pulumi stack select "$STACK" 2>&1) && return 0
  if [[ "$output" == *"no stack named"* ]]; then return 1; fi
  echo "$output" >&2
  die "pulumi stack select $STACK failed (the CLI's words are above); backend: $(backend_shown)"
}

select_stack() {
  try_select_stack && return
  local output
  if ! output=$(pulumi stack init "$STACK" 2>&1); then
    echo "$output" >&2
    if [[ "$output" == *"incorrect passphrase"* ]]; then
      die "stacks/Pulumi.$STACK.yaml carries the salt of the local passphrase 'threetier-local'; unset PULUMI_CONFIG_PASSPHRASE, or give the stack your own with 'pulumi stack change-secrets-provider passphrase' (README, Commands)"
    fi
    die "pulumi stack init $STACK failed"
  fi
}

stack_kubeconfig() { # the admin kubeconfig the environment's platform stack names, or the local cluster's
  local configured
  configured=$("$PY" -m deploy.platform kubeconfig "$STACK")
  if [ -n "$configured" ]; then echo "$configured"; else echo "$CLUSTER_KUBECONFIG"; fi
}

engine_step() { # up's engine step (deploy/stack.py): adoption of pending creates, gate, up
  "$PY" -m deploy up "$STACK"
}

fleet_config() { # fleet_config DIR: a copy of the fleet's stack file in DIR, fleet:apps = THREETIER_FLEET_APPS
  (cd "$REPO_ROOT" && "$PY" -m deploy.fleet config "$STACK" "${THREETIER_FLEET_APPS:-10}" "$1") || exit 2
}

require_simulated_nodes() { # the fleet's pods select the simulated nodes: without one they would never start
  [ -n "$(kubectl_ get nodes -l threetier.dev/node=kwok -o name 2>/dev/null)" ] \
    || die "the cluster has no simulated nodes (threetier.dev/node=kwok) for the fleet's pods: make cluster-up KWOK_NODES=K (1-50) first, or make fleet-up KWOK_NODES=K"
}

check_up_options() { # SKIP_CHECKPOINTS / ADOPT_EXISTING / PARALLEL (deploy/up_options.py): refused before anything runs
  (cd "$REPO_ROOT" && "$PY" -m deploy.up_options) || exit 2
}

case "$ACTION" in
  up)
    check_up_options
    require_engine
    cd "$REPO_ROOT"
    select_stack
    if [ "$(stack_kubeconfig)" = "$CLUSTER_KUBECONFIG" ]; then
      "$REPO_ROOT/hack/cluster-up.sh"
      export KUBECONFIG="$CLUSTER_KUBECONFIG"
    fi
    "$PY" -m deploy.platform ensure "$STACK" # the environment first, when it does not exist yet
    engine_step
    "$0" verify "$STACK"
    ;;
  apply)
    # python -m deploy up checks the engine itself; the app deploys through the deployer's provider
    # (its kubeconfig from the platform stack), which ignores $KUBECONFIG.
    cd "$REPO_ROOT"
    [ -n "${KUBECONFIG:-}" ] || export KUBECONFIG="$CLUSTER_KUBECONFIG"
    engine_step
    ;;
  down | fleet-down)
    require_engine
    cd "$PROJECT_DIR"
    try_select_stack || { log "no stack '$STACK' in $(backend_shown): nothing to destroy"; exit 0; }
    export KUBECONFIG="$(stack_kubeconfig)"
    pulumi destroy --yes --stack "$STACK"
    # --preserve-config: without it `stack rm` deletes the tracked $STACK_DIR/Pulumi.$STACK.yaml
    pulumi stack rm --yes --preserve-config "$STACK"
    ;;
  verify | fleet-verify)
    args=(--stack "$STACK" --kubeconfig "${KUBECONFIG:-$CLUSTER_KUBECONFIG}" --timeout "${VERIFY_TIMEOUT:-60}")
    if [ "$ACTION" = fleet-verify ] && [ -z "${OUTPUTS:-}" ]; then
      require_engine
      OUTPUTS=$(mktemp)
      # shellcheck disable=SC2064
      trap "rm -f '$OUTPUTS'" EXIT
      (cd "$FLEET_DIR" && pulumi stack output --json --stack "$STACK") >"$OUTPUTS" # secrets shown as [secret]
    fi
    [ "$ACTION" = fleet-verify ] && args+=(--fleet)
    [ -n "${OUTPUTS:-}" ] && args+=(--outputs "$OUTPUTS")
    [ -f "$TOOLCHAIN_DIR/dns-server" ] && args+=(--dns-server "$(cat "$TOOLCHAIN_DIR/dns-server")")
    [ -f "$TOOLCHAIN_DIR/probe-image" ] && args+=(--probe-image "$(cat "$TOOLCHAIN_DIR/probe-image")")
    cd "$REPO_ROOT" && "$PY" -m verify "${args[@]}"
    ;;
  unlock)
    require_engine
    cd "$REPO_ROOT"
    try_select_stack || die "no stack '$STACK' in $(backend_shown): nothing to unlock"
    # Only the locks: the state is not touched. A pending create the killed up left is adopted by
    # the next make up (docs/pulumi-engine.md).
    pulumi cancel --yes --stack "$STACK"
    log "stack $STACK unlocked; 'make up STACK=$STACK' picks up where the interrupted up stopped"
    ;;
  migrate)
    require_engine
    cd "$REPO_ROOT"
    "$PY" -m deploy migrate "$STACK" --from "$LOCAL_BACKEND_URL" --backup-dir "$STATE_DIR/migrated"
    ;;
  platform-up | platform-down)
    # The platform stack lives in the same backend as the app's (its StackReference resolves there).
    require_engine
    cd "$REPO_ROOT"
    export KUBECONFIG="$(stack_kubeconfig)"
    if [ "$ACTION" = platform-up ] && [ "$KUBECONFIG" = "$CLUSTER_KUBECONFIG" ]; then
      "$REPO_ROOT/hack/cluster-up.sh"
    fi
    "$PY" -m deploy.platform "${ACTION#platform-}" "$STACK"
    ;;
  fleet-up)
    scratch=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$scratch'" EXIT
    config=$(fleet_config "$scratch") # before anything: a bad APPS registers nothing
    check_up_options
    require_engine
    cd "$REPO_ROOT"
    "$REPO_ROOT/hack/cluster-up.sh" # KWOK_NODES, when given, sets the simulated nodes
    export KUBECONFIG="$CLUSTER_KUBECONFIG"
    require_simulated_nodes
    "$PY" -m deploy up "$STACK" --project fleet --config-file "$config"
    "$0" fleet-verify "$STACK"
    ;;
  fleet-render)
    scratch=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$scratch'" EXIT
    config=$(fleet_config "$scratch")
    cd "$REPO_ROOT" && "$PY" -m offline.render --stack "$STACK" --project-dir "$FLEET_DIR" --stack-config "$config" \
      --out "${OUT:-build/manifests/fleet-$STACK}"
    ;;
  *) die "unknown action '$ACTION' (up, apply, down, verify, unlock, migrate, platform-up, platform-down, fleet-up, fleet-down, fleet-verify, fleet-render)" ;;
esac
