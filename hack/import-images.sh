#!/usr/bin/env bash
# Import the images built by hack/build-images.sh into a containerd, namespace k8s.io (the
# one the CRI plugin, hence kubelet, uses), under the refs kubelet asks for: a ref without a
# registry is stored under its normalized name (threetier/frontend:1.0.0 ->
# docker.io/threetier/frontend:1.0.0), one with a registry host as is (threetier.local/...).
# An image already present with the same manifest digest is skipped.
#
# Usage: hack/import-images.sh SOCKET
# Environment: CONTAINERD_NAMESPACE (default k8s.io), CONTAINERD_SNAPSHOTTER (read by ctr:
#   the snapshotter to unpack into, default overlayfs = the CRI plugin's default).
set -euo pipefail
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MANIFEST="$THREETIER_CACHE/images/images.tsv"
NAMESPACE="${CONTAINERD_NAMESPACE:-k8s.io}"
SOCKET="${1:-}"

ctr_() { ctr --address "$SOCKET" --namespace "$NAMESPACE" "$@"; }

normalize_ref() { # normalize_ref REF: the fully qualified name, as the CRI resolves REF
  local ref="$1" first="${1%%/*}"
  if [[ "$ref" != */* ]]; then
    printf 'docker.io/library/%s\n' "$ref"
  elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then
    printf '%s\n' "$ref"
  else
    printf 'docker.io/%s\n' "$ref"
  fi
}

archive_digest() { # archive_digest ARCHIVE: the manifest digest in the OCI layout's index.json
  # (build-images.sh stores index.json second, so tar stops reading early)
  tar -xOf "$1" index.json | grep -o '"digest":"sha256:[0-9a-f]*"' | head -n1 | cut -d'"' -f4
}

present_digest() { # present_digest NAME: the digest NAME points to in containerd, or nothing
  ctr_ images ls | awk -v name="$1" '$1 == name { print $3 }'
}

import_one() { # import_one REF ARCHIVE
  local ref="$1" archive="$2" name want have
  name="$(normalize_ref "$ref")"
  [ -f "$archive" ] || die "$archive (for $ref) is missing: run hack/build-images.sh"
  want="$(archive_digest "$archive")"
  [ -n "$want" ] || die "no manifest digest in $archive"
  have="$(present_digest "$name")"
  if [ "$have" = "$want" ]; then
    log "present $name (${want:0:19})"
    return
  fi
  # the archive's index names the image by its tag only; --base-name adds the repository
  ctr_ images import --base-name "${name%:*}" "$archive" >/dev/null \
    || die "ctr images import $archive failed"
  have="$(present_digest "$name")"
  [ "$have" = "$want" ] || die "after importing $archive, $name is '${have:-absent}', expected $want"
  log "imported $name (${want:0:19})"
}

main() {
  [ -n "$SOCKET" ] || die "usage: $0 SOCKET   (the containerd socket, e.g. /run/containerd/containerd.sock)"
  [ -S "$SOCKET" ] || die "$SOCKET is not a socket: is containerd running?"
  [ -f "$MANIFEST" ] || die "$MANIFEST is missing: run 'make images' (hack/build-images.sh) first"
  command -v ctr >/dev/null || die "ctr not found (Debian package containerd)"
  local ref archive
  while IFS=$'\t' read -r ref archive; do
    [ -n "$ref" ] || continue
    import_one "$ref" "$archive"
  done <"$MANIFEST"
}

main "$@"
