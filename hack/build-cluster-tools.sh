#!/usr/bin/env bash
# Build the local cluster's binaries from their Go modules (versions: hack/versions-cluster.env)
# into the version-keyed cache outside the clone, and link them into .toolchain/bin.
#   - a tool already in the cache is not rebuilt;
#   - a suitable one already on PATH (outside .toolchain/bin) is linked instead of building.
#
#   kubernetes-vX : kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy
#                   (k8s.io/kubernetes through the wrapper module hack/gomod/kubernetes)
#   etcd-vX       : etcd     (go.etcd.io/etcd/server/v3 etcdmain through hack/gomod/etcd)
#   kwok-vX       : kwok kwokctl            (go install sigs.k8s.io/kwok/cmd/...@vX)
#   coredns-vX    : coredns                 (go install github.com/coredns/coredns@vX)
#   metallb-vX    : metallb-controller + crds (go install go.universe.tf/metallb/controller@vX)
#
# Environment: GO_BUILD_P (go build -p, default 2: each k8s link holds ~1-2 GiB),
#              THREETIER_CACHE (cache root), GOCACHE/GOMODCACHE (Go's caches, outside the clone).
# Every build's wall time and max RSS are appended to $TOOLCHAIN_CACHE/build-times.tsv.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions-cluster.env"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
GO_BUILD_P="${GO_BUILD_P:-2}"
# The wrappers' go.sum files are complete: -mod=readonly (Go's default) is enough, no -mod=mod.
# GOFLAGS from the environment are kept; the default GOPROXY/GOSUMDB work (no GOSUMDB=off needed).
GO_BUILD_FLAGS=(-p "$GO_BUILD_P" -mod=readonly -trimpath)

command -v go >/dev/null || die "go is not on PATH: install Go >= 1.26 (the wrappers say 'go 1.26.0'), then rerun $0"

timed() { # timed NAME CMD... : run, log elapsed seconds and max RSS into the cache's build log
  local name="$1"; shift
  local start=$SECONDS rssfile; rssfile=$(mktemp)
  if ! /usr/bin/time -f "%M" -o "$rssfile" "$@"; then
    rm -f "$rssfile"; die "building $name failed (command: $*)"
  fi
  local rss; rss=$(tail -n1 "$rssfile"); rm -f "$rssfile"
  printf '%s\t%s\t%ss\t%sKiB\n' "$(date -u +%FT%TZ)" "$name" "$((SECONDS - start))" "$rss" >>"$TOOLCHAIN_CACHE/build-times.tsv"
  log "built $name in $((SECONDS - start)) s (max RSS $((rss / 1024)) MiB)"
}

# on_path BIN REGEX VERSION-CMD...: print the path of BIN found on PATH (not .toolchain/bin)
# whose version output matches REGEX.
on_path() {
  local bin="$1" regex="$2"; shift 2
  local dir
  IFS=: read -r -a dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    [ -n "$dir" ] && [ -x "$dir/$bin" ] || continue
    # not our own links
    if [ "$(cd "$dir" && pwd -P)" = "$(cd "$TOOLCHAIN_BIN" 2>/dev/null && pwd -P)" ]; then continue; fi
    local out; out=$("$dir/$bin" "$@" 2>&1) || true  # (no pipe into grep -q: SIGPIPE + pipefail)
    if grep -Eq "$regex" <<<"$out"; then printf '%s\n' "$dir/$bin"; return 0; fi
  done
  return 1
}

# use_path_tools REGEX VERSION-ARGS BIN...: link BINs from PATH when ALL of them match REGEX
use_path_tools() {
  local regex="$1" args="$2"; shift 2
  local bin p found=()
  for bin in "$@"; do
    # shellcheck disable=SC2086
    p=$(on_path "$bin" "$regex" $args) || return 1
    found+=("$p")
  done
  mkdir -p "$TOOLCHAIN_BIN"
  local i
  for i in "${!found[@]}"; do
    ln -sfn "${found[$i]}" "$TOOLCHAIN_BIN/$(basename "${found[$i]}")"
    log "using ${found[$i]} from PATH"
  done
}

build_kubernetes() {
  local v="$KUBERNETES_VERSION"
  if have_tool kubernetes "$v" "${K8S_BINARIES[@]}"; then
    link_tool kubernetes "$v" "${K8S_BINARIES[@]}"; return
  fi
  # Exact gitVersion: kwok derives every component's flags from `<binary> --version`.
  use_path_tools "Kubernetes ${v//./\\.}\$|gitVersion: ${v//./\\.}\$" --version \
    kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy \
    && use_path_tools "gitVersion: ${v//./\\.}\$" "version --client -o yaml" kubectl \
    && return
  local out; out="$(tool_dir kubernetes "$v")/bin"
  local minor; minor=$(echo "$v" | cut -d. -f2)
  # Without these the binaries report v0.0.0 and kwok picks the wrong flags for them.
  local ldflags="-s -w \
    -X k8s.io/component-base/version.gitVersion=$v \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=$v \
    -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  mkdir -p "$out"
  local bin
  for bin in "${K8S_BINARIES[@]}"; do
    [ -x "$out/$bin" ] && continue
    log "building $bin $v (k8s.io/kubernetes through hack/gomod/kubernetes, -p $GO_BUILD_P)"
    (cd "$REPO_ROOT/hack/gomod/kubernetes" && timed "$bin-$v" \
      go build "${GO_BUILD_FLAGS[@]}" -ldflags "$ldflags" -o "$out/$bin.partial" "k8s.io/kubernetes/cmd/$bin")
    mv "$out/$bin.partial" "$out/$bin"
  done
  "$out/kube-apiserver" --version | grep -qx "Kubernetes $v" \
    || die "built kube-apiserver does not report $v: check the ldflags in $0"
  link_tool kubernetes "$v" "${K8S_BINARIES[@]}"
}

build_etcd() {
  local v="$ETCD_VERSION"
  if have_tool etcd "$v" etcd; then link_tool etcd "$v" etcd; return; fi
  # Any 3.6.x serves Kubernetes 1.34-1.36.
  local minor="${v#v}"; minor="${minor%.*}"
  use_path_tools "etcd Version: ${minor//./\\.}\\." --version etcd && return
  local out; out="$(tool_dir etcd "$v")/bin"; mkdir -p "$out"
  log "building etcd $v (go.etcd.io/etcd/server/v3/etcdmain through hack/gomod/etcd)"
  # etcd's own version string comes from go.etcd.io/etcd/api/v3/version (a constant): no ldflags.
  (cd "$REPO_ROOT/hack/gomod/etcd" && timed "etcd-$v" \
    go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w" -o "$out/etcd.partial" .)
  mv "$out/etcd.partial" "$out/etcd"
  link_tool etcd "$v" etcd
}

go_install() { # go_install TOOL VERSION BINARY PACKAGE@VERSION
  local tool="$1" version="$2" bin="$3" pkg="$4"
  if ! have_tool "$tool" "$version" "$bin"; then
    local out; out="$(tool_dir "$tool" "$version")/bin"; mkdir -p "$out"
    log "building $bin $version ($pkg)"
    GOBIN="$out" timed "$bin-$version" go install -p "$GO_BUILD_P" -trimpath -ldflags "-s -w" "$pkg"
  fi
  link_tool "$tool" "$version" "$bin"
}

build_kwok() {
  local v="$KWOK_VERSION"
  if ! have_tool kwok "$v" kwok kwokctl \
    && use_path_tools "version ${v//./\\.}[^0-9]|${v//./\\.}\$" --version kwok kwokctl; then
    return
  fi
  go_install kwok "$v" kwok "sigs.k8s.io/kwok/cmd/kwok@$v"
  go_install kwok "$v" kwokctl "sigs.k8s.io/kwok/cmd/kwokctl@$v"
}

build_coredns() {
  local v="$COREDNS_VERSION"
  if ! have_tool coredns "$v" coredns \
    && use_path_tools "CoreDNS-${v#v}" -version coredns; then
    return
  fi
  go_install coredns "$v" coredns "github.com/coredns/coredns@$v"
}

build_metallb() {
  local v="$METALLB_VERSION" dir; dir="$(tool_dir metallb "$v")"
  # The module's main package is named `controller`: built under a clearer name. Its CRDs
  # (IPAddressPool, ...) come from the same module version. (No PATH reuse: the binary has no
  # --version flag to check.)
  if ! have_tool metallb "$v" metallb-controller || [ ! -f "$dir/crds/metallb.io_ipaddresspools.yaml" ]; then
    mkdir -p "$dir/bin" "$dir/crds"
    log "building metallb-controller $v (go.universe.tf/metallb/controller)"
    local work; work=$(mktemp -d)
    GOBIN="$work" timed "metallb-controller-$v" \
      go install -p "$GO_BUILD_P" -trimpath -ldflags "-s -w" "go.universe.tf/metallb/controller@$v"
    mv "$work/controller" "$dir/bin/metallb-controller"
    rm -rf "$work"
    cp "$GOMODCACHE/go.universe.tf/metallb@$v"/config/crd/bases/*.yaml "$dir/crds/"
    chmod u+w "$dir/crds/"*.yaml
  fi
  link_tool metallb "$v" metallb-controller
}

build_kube_router() {
  # Through a wrapper module (hack/gomod/kube-router): `go install kube-router@v1.6.1` would ask the
  # proxy for the module's version list (its deprecation check), which the proxy refuses (403).
  # The wrapper's go.sum pins every hash, github.com/osrg/gobgp/v3 v3.14.0's included (the checksum
  # database has no entry for it; the proxy serves it; its hash was recorded with GONOSUMDB once).
  local v="$KUBE_ROUTER_VERSION"
  if ! have_tool kube-router "$v" kube-router; then
    local out; out="$(tool_dir kube-router "$v")/bin"; mkdir -p "$out"
    log "building kube-router $v (github.com/cloudnativelabs/kube-router through hack/gomod/kube-router)"
    (cd "$REPO_ROOT/hack/gomod/kube-router" && timed "kube-router-$v" \
      go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/pkg/version.Version=$v" \
      -o "$out/kube-router.partial" github.com/cloudnativelabs/kube-router/cmd/kube-router)
    mv "$out/kube-router.partial" "$out/kube-router"
  fi
  link_tool kube-router "$v" kube-router
}

main() {
  mkdir -p "$TOOLCHAIN_CACHE" "$TOOLCHAIN_BIN"
  local start=$SECONDS
  build_kubernetes
  build_etcd
  build_kwok
  build_coredns
  build_metallb
  build_kube_router
  log "cluster toolchain ready in $TOOLCHAIN_BIN ($((SECONDS - start)) s)"
}

main "$@"
