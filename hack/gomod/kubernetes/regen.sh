#!/usr/bin/env bash
# Regenerate this wrapper module (go.mod, go.sum) for KUBERNETES_VERSION / KUBERNETES_STAGING_VERSION
# from hack/versions-cluster.env. Run after bumping them; commit go.mod and go.sum.
#
# Why a wrapper: k8s.io/kubernetes's go.mod requires every k8s.io/* staging module at v0.0.0 with
# `=> ./staging/src/k8s.io/...` replaces, which only work inside the kubernetes repo. A replace in a
# dependency is ignored, so this main module replaces each staging module (the list is read from
# the tag's own go.mod) with its published vX-aligned version, and copies the tag's godebug line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
source "$REPO_ROOT/hack/versions-cluster.env"
cd "$(dirname "${BASH_SOURCE[0]}")"

tag_mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
go_line=$(grep -E '^go [0-9.]+$' "$tag_mod")
staging=$(grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$tag_mod" | awk '{print $1}' | sort -u)
{
  echo "module threetier.local/k8s-toolchain"
  echo
  echo "$go_line"
  echo
  grep -E '^godebug ' "$tag_mod" || true
  echo
  echo "require ("
  echo "	k8s.io/kubectl v0.0.0"
  echo "	k8s.io/kubernetes $KUBERNETES_VERSION"
  echo ")"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $KUBERNETES_STAGING_VERSION"; done
  echo ")"
} >go.mod
rm -f go.sum
go mod tidy
log "hack/gomod/kubernetes: k8s.io/kubernetes $KUBERNETES_VERSION, $(echo "$staging" | wc -l) staging modules at $KUBERNETES_STAGING_VERSION"
