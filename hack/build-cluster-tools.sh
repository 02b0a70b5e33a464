#!/usr/bin/env bash
# Build the local cluster's binaries from their Go modules (pinned in hack/versions.env) into
# the version-keyed cache outside the clone, and link them into .toolchain/bin.
# A tool already in the cache is not rebuilt; a suitable one on PATH is used instead of building.
#
#   kubernetes-vX : kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy
#   etcd-vX       : etcd            (server module + etcdmain, see gomod/etcd/main.go)
#   kwok-vX       : kwok kwokctl
#   coredns-vX    : coredns
#   metallb-vX    : metallb-controller (LoadBalancer IPs from a loopback IPAddressPool)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions.env"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

timed() { # timed NAME CMD... : run, log elapsed seconds and max RSS into the cache's build log
  local name="$1"; shift
  local start=$SECONDS
  /usr/bin/time -f "%M" -o "$TOOLCHAIN_CACHE/.rss.$$" "$@"
  local rss; rss=$(cat "$TOOLCHAIN_CACHE/.rss.$$"); rm -f "$TOOLCHAIN_CACHE/.rss.$$"
  printf '%s\t%s\t%ss\t%sKiB\n' "$(date -u +%FT%TZ)" "$name" "$((SECONDS - start))" "$rss" >> "$TOOLCHAIN_CACHE/build-times.tsv"
  log "built $name in $((SECONDS - start)) s (max RSS $((rss / 1024)) MiB)"
}

build_kubernetes() {
  local out; out="$(tool_dir kubernetes "$KUBERNETES_VERSION")/bin"
  if have_tool kubernetes "$KUBERNETES_VERSION" "${K8S_BINARIES[@]}"; then
    link_tool kubernetes "$KUBERNETES_VERSION" "${K8S_BINARIES[@]}"; return
  fi
  local minor; minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  # kwok reads `<binary> --version` to pick flags: without these ldflags it reports v0.0.0.
  local ldflags="-s -w \
    -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
    -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  mkdir -p "$out"
  local bin
  for bin in "${K8S_BINARIES[@]}"; do
    [ -x "$out/$bin" ] && continue
    log "building $bin $KUBERNETES_VERSION (k8s.io/kubernetes through hack/gomod/kubernetes)"
    (cd "$REPO_ROOT/hack/gomod/kubernetes" && timed "$bin-$KUBERNETES_VERSION" \
      go build -mod=mod -trimpath -ldflags "$ldflags" -o "$out/$bin.partial" "k8s.io/kubernetes/cmd/$bin")
    mv "$out/$bin.partial" "$out/$bin"
  done
  link_tool kubernetes "$KUBERNETES_VERSION" "${K8S_BINARIES[@]}"
}

build_etcd() {
  if ! have_tool etcd "$ETCD_VERSION" etcd; then
    local out; out="$(tool_dir etcd "$ETCD_VERSION")/bin"; mkdir -p "$out"
    log "building etcd $ETCD_VERSION (go.etcd.io/etcd/server/v3 through hack/gomod/etcd)"
    (cd "$REPO_ROOT/hack/gomod/etcd" && timed "etcd-$ETCD_VERSION" \
      go build -mod=mod -trimpath -ldflags "-s -w" -o "$out/etcd.partial" .)
    mv "$out/etcd.partial" "$out/etcd"
  fi
  link_tool etcd "$ETCD_VERSION" etcd
}

go_install() { # go_install TOOL VERSION BINARY PACKAGE@VERSION
  local tool="$1" version="$2" bin="$3" pkg="$4"
  if ! have_tool "$tool" "$version" "$bin"; then
    local out; out="$(tool_dir "$tool" "$version")/bin"; mkdir -p "$out"
    log "building $bin $version ($pkg)"
    GOBIN="$out" timed "$bin-$version" go install -trimpath -ldflags "-s -w" "$pkg"
  fi
  link_tool "$tool" "$version" "$bin"
}

build_metallb() {
  # The module's main package is named `controller`: build it under a clearer name.
  if ! have_tool metallb "$METALLB_VERSION" metallb-controller; then
    local out; out="$(tool_dir metallb "$METALLB_VERSION")/bin"; mkdir -p "$out"
    log "building metallb-controller $METALLB_VERSION (go.universe.tf/metallb/controller)"
    local work; work=$(mktemp -d)
    GOBIN="$work" timed "metallb-controller-$METALLB_VERSION" \
      go install -trimpath -ldflags "-s -w" "go.universe.tf/metallb/controller@$METALLB_VERSION"
    mv "$work/controller" "$out/metallb-controller"
    rm -rf "$work"
    # Its CRDs (IPAddressPool, L2Advertisement...) come from the same module version.
    mkdir -p "$(tool_dir metallb "$METALLB_VERSION")/crds"
    cp "$(go env GOMODCACHE)/go.universe.tf/metallb@$METALLB_VERSION"/config/crd/bases/*.yaml \
      "$(tool_dir metallb "$METALLB_VERSION")/crds/"
  fi
  link_tool metallb "$METALLB_VERSION" metallb-controller
}

main() {
  mkdir -p "$TOOLCHAIN_CACHE" "$TOOLCHAIN_BIN"
  build_kubernetes
  build_etcd
  go_install kwok "$KWOK_VERSION" kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  go_install kwok "$KWOK_VERSION" kwokctl "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  go_install coredns "$COREDNS_VERSION" coredns "github.com/coredns/coredns@$COREDNS_VERSION"
  build_metallb
  log "cluster toolchain ready in $TOOLCHAIN_BIN"
}

main "$@"
