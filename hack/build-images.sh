#!/usr/bin/env bash
# Build the app's container images as OCI image archives, without a registry or Docker:
# every root filesystem is assembled from Debian packages (apt-get download + dpkg-deb -x,
# no maintainer scripts) and the repo's images/ folder, then packed with umoci.
#
#   images/<name>/image.conf   ref, entrypoint, user, env, ports, Debian packages
#   images/<name>/rootfs/      files copied verbatim into the image
#   images/{common,httpd}/     shared rootfs parts, pulled in by an image's INCLUDE=(...)
#
# Output, OUTSIDE the clone:
#   $THREETIER_CACHE/images/<name>-<tag>-<key>.oci.tar   one OCI layout archive per image
#   $THREETIER_CACHE/images/images.tsv                   "<ref>\t<archive>" for hack/import-images.sh
#   $THREETIER_CACHE/images/debs/                        the downloaded .debs (delete to refresh)
# <key> is a sha256 over every input (image files, this script, .deb file names = versions,
# pause.c and the gcc version), so a changed input rebuilds and an unchanged one is reused.
# File times, owners and the config's "created" are fixed: a rebuild gives identical bytes.
#
# Usage: hack/build-images.sh [--force]    (--force rebuilds even when the key matches)
set -euo pipefail
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=hack/versions-cluster.env
source "$REPO_ROOT/hack/versions-cluster.env"

IMAGES_SRC="$REPO_ROOT/images"
IMAGES_OUT="$THREETIER_CACHE/images"
DEB_CACHE="$IMAGES_OUT/debs"
MANIFEST="$IMAGES_OUT/images.tsv"
IMAGES=(pause busybox frontend backend database)
# 2024-01-01T00:00:00Z: every file's mtime and the image config's "created"
EPOCH=1704067200
CREATED=2024-01-01T00:00:00Z
LOADER=/lib64/ld-linux-x86-64.so.2
PG_BIN=/usr/lib/postgresql/15/bin
PG_LIB=/usr/lib/postgresql/15/lib
PG_SHARE=/usr/share/postgresql/15
FORCE=0

# ---------------------------------------------------------------- prerequisites

apt_install() { # install Debian packages; refresh the package lists only if that fails
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "$@" >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2; } \
    || die "apt-get install $* failed"
}

ensure_prereqs() { # umoci packs the images; gcc + libc6-dev's libc.a build the static pause
  local missing=()
  command -v umoci >/dev/null || missing+=(umoci)
  command -v gcc >/dev/null || missing+=(gcc)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
  command -v dpkg-deb >/dev/null || die "dpkg-deb not found: this script needs a Debian/Ubuntu host"
  if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root or apt-get install ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# ---------------------------------------------------------------- inputs

load_conf() { # load_conf NAME: source images/NAME/image.conf into the globals below
  REF="" USER="" WORKDIR=/ STOPSIGNAL=""
  ENTRYPOINT=() CMD=() ENV=() PORTS=() INCLUDE=() DEBS=() DIRS=()
  local conf="$IMAGES_SRC/$1/image.conf"
  [ -f "$conf" ] || die "missing $conf"
  # shellcheck source=/dev/null
  source "$conf"
  if [ -z "$REF" ] || [ -z "$USER" ]; then die "$conf: REF and USER are required"; fi
}

deb_file() { # deb_file PKG: the cached .deb of PKG (one version at a time), or nothing
  local files=("$DEB_CACHE/$1"_*.deb)
  [ -e "${files[0]}" ] && printf '%s\n' "${files[-1]}"
}

ensure_debs() { # ensure_debs PKG...: download the packages not yet in the cache
  local pkg missing=()
  for pkg in "$@"; do [ -n "$(deb_file "$pkg")" ] || missing+=("$pkg"); done
  [ "${#missing[@]}" -gt 0 ] || return 0
  mkdir -p "$DEB_CACHE"
  log "downloading ${missing[*]}"
  # root's apt would hand the download to the _apt user, who cannot write the cache
  local apt=(apt-get -q -o APT::Sandbox::User=root download "${missing[@]}")
  (cd "$DEB_CACHE" && "${apt[@]}" >&2) \
    || { apt-get update >&2 && (cd "$DEB_CACHE" && "${apt[@]}" >&2); } \
    || die "apt-get download ${missing[*]} failed"
}

pause_source() { # the pause.c of the Kubernetes release the local cluster runs
  local src="$GOMODCACHE/k8s.io/kubernetes@$KUBERNETES_VERSION/build/pause/linux/pause.c"
  if [ ! -f "$src" ]; then
    log "fetching k8s.io/kubernetes@$KUBERNETES_VERSION into the Go module cache (for pause.c)"
    (cd /tmp && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null) \
      || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
  fi
  [ -f "$src" ] || die "pause.c not found at $src"
  printf '%s\n' "$src"
}

tree_digest() { # tree_digest DIR...: one line per file: path, exec bit, content hash (or link target)
  local dir
  for dir in "$@"; do
    (cd "$IMAGES_SRC" && find "$dir" \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
      | while IFS= read -r -d '' f; do
          if [ -L "$f" ]; then printf '%s link %s\n' "$f" "$(readlink "$f")"
          else printf '%s %s %s\n' "$f" "$([ -x "$f" ] && echo x || echo -)" "$(sha256sum <"$f" | cut -c1-64)"; fi
        done)
  done
}

input_key() { # input_key NAME: 16 hex digits identifying every input of image NAME
  local name="$1" inc pkg
  {
    echo "ref $REF"
    sha256sum <"${BASH_SOURCE[0]}"
    tree_digest "$name" "${INCLUDE[@]}"
    for pkg in "${DEBS[@]}"; do basename "$(deb_file "$pkg")"; done
    if [ "$name" = pause ]; then
      sha256sum <"$(pause_source)"
      gcc -dumpfullversion
    fi
    for inc in "${INCLUDE[@]}"; do echo "include $inc"; done
  } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- root filesystems

extract_debs() { # extract_debs SYSROOT PKG...: unpack the packages' files (no scripts run)
  local sysroot="$1" pkg; shift
  mkdir -p "$sysroot"
  for pkg in "$@"; do dpkg-deb -x "$(deb_file "$pkg")" "$sysroot"; done
}

copy_path() { # copy_path SRCROOT DSTROOT PATH [cp-flag]: copy one path, creating parents
  mkdir -p "$2$(dirname "$3")"
  cp -a ${4:+"$4"} "$1$3" "$2$3"
}

# copy_with_libs SYSROOT ROOTFS FILE...: copy the ELF files FILE... (absolute paths inside
# SYSROOT) and every shared library they load into ROOTFS.  The libraries are found by the
# packages' own dynamic loader in a chroot of the extracted packages (ld.so --list, which is
# what ldd runs), so no host library can slip in; a library no package provides fails here.
copy_with_libs() {
  local sysroot="$1" rootfs="$2" file out lib; shift 2
  local -A libs=()
  for file in "$@"; do
    out="$(chroot "$sysroot" "$LOADER" --list "$file" 2>&1)" || die "ld.so --list $file failed: $out"
    if grep -q 'not found' <<<"$out"; then
      die "$file needs libraries none of DEBS provides (add their packages to image.conf):
$(grep 'not found' <<<"$out")"
    fi
    while read -r lib; do libs[$lib]=1; done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
    copy_path "$sysroot" "$rootfs" "$file"
  done
  # the soname links are dereferenced: the image holds each library once, under its soname
  for lib in "${!libs[@]}"; do copy_path "$sysroot" "$rootfs" "$lib" -L; done
}

add_busybox() { # add_busybox SYSROOT ROOTFS: /bin/busybox and a link for each of its applets
  local sysroot="$1" rootfs="$2" applet
  copy_path "$sysroot" "$rootfs" /bin/busybox
  while read -r applet; do
    if [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ]; then continue; fi
    mkdir -p "$rootfs/$(dirname "$applet")"
    ln -s /bin/busybox "$rootfs/$applet"
  done < <("$rootfs/bin/busybox" --list-full)
}

add_repo_files() { # add_repo_files NAME ROOTFS: the INCLUDE parts, then images/NAME/rootfs
  local name="$1" rootfs="$2" part dir
  for part in "${INCLUDE[@]}" "$name"; do
    [ -d "$IMAGES_SRC/$part/rootfs" ] && cp -a "$IMAGES_SRC/$part/rootfs/." "$rootfs/"
  done
  for dir in "${DIRS[@]}"; do mkdir -p "$rootfs$dir"; done
  # git keeps only the exec bit: make modes independent of the checkout's umask
  chmod -R u+rwX,go=rX "$rootfs"
}

add_postgres_server() { # postgres + initdb, server modules, share/ files initdb needs, tz UTC
  local sysroot="$1" rootfs="$2" modules
  # every server module except JIT (llvmjit.so pulls in ~100 MB of LLVM; the image runs jit=off)
  mapfile -t modules < <(cd "$sysroot" && find ".$PG_LIB" -maxdepth 1 -name '*.so' ! -name 'llvmjit*' | sed 's/^\.//' | LC_ALL=C sort)
  copy_with_libs "$sysroot" "$rootfs" "$PG_BIN/postgres" "$PG_BIN/initdb" "$PG_BIN/pg_isready" "${modules[@]}"
  copy_path "$sysroot" "$rootfs" "$PG_BIN/postmaster"
  copy_path "$sysroot" "$rootfs" "$PG_SHARE"
  rm -rf "${rootfs:?}$PG_SHARE/man"
  copy_path "$sysroot" "$rootfs" /usr/share/zoneinfo/Etc/UTC
  ln -s Etc/UTC "$rootfs/usr/share/zoneinfo/UTC"
}

assemble() { # assemble NAME ROOTFS WORK: fill ROOTFS with image NAME's files
  local name="$1" rootfs="$2" work="$3" sysroot="$3/sysroot"
  if [ "$name" = pause ]; then
    # upstream's flags (build/pause/Makefile); the VERSION names this build
    gcc -Os -Wall -Werror -static -DVERSION="v3.10-threetier" -o "$rootfs/pause" "$(pause_source)"
    strip "$rootfs/pause"
    return
  fi
  extract_debs "$sysroot" "${DEBS[@]}"
  add_busybox "$sysroot" "$rootfs"
  add_repo_files "$name" "$rootfs"
  mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
  case "$name" in
    backend)
      copy_with_libs "$sysroot" "$rootfs" "$PG_BIN/psql"
      ;;
    database)
      add_postgres_server "$sysroot" "$rootfs"
      copy_with_libs "$sysroot" "$rootfs" "$PG_BIN/psql"  # for kubectl exec ... psql
      ;;
  esac
}

smoke_test() { # smoke_test NAME ROOTFS: run the image's binaries in a chroot of the rootfs
  local name="$1" rootfs="$2"
  case "$name" in
    pause) "$rootfs/pause" -v >/dev/null ;;
    busybox) chroot "$rootfs" /bin/sh -c 'command -v wget nslookup httpd' >/dev/null ;;
    frontend) chroot "$rootfs" /bin/sh -n /www/cgi-bin/index.cgi ;;
    backend)
      chroot "$rootfs" /bin/sh -n /www/cgi-bin/index.cgi
      chroot "$rootfs" "$PG_BIN/psql" --version >/dev/null ;;
    database)
      chroot "$rootfs" "$PG_BIN/postgres" --version >/dev/null
      chroot "$rootfs" "$PG_BIN/initdb" --version >/dev/null
      chroot "$rootfs" "$PG_BIN/psql" --version >/dev/null ;;
  esac || die "smoke test of $name failed: a binary does not run from its own rootfs"
}

# ---------------------------------------------------------------- packing

# pack NAME ROOTFS WORK ARCHIVE: one-layer OCI image from ROOTFS with image.conf's config
pack() {
  local name="$1" rootfs="$2" work="$3" archive="$4" tag="${REF##*:}" item
  local layout="$work/oci" args=()
  # fixed owner and times: identical inputs give identical layer bytes
  chown -R 0:0 "$rootfs"
  find "$rootfs" -exec touch -h -d "@$EPOCH" {} +

  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  # unpack the empty image into a bundle, move the rootfs in and repack: one layer whose
  # entries are relative paths (umoci insert SRC / would add an entry named "/")
  umoci unpack --image "$layout:$tag" "$work/bundle" >/dev/null
  rmdir "$work/bundle/rootfs"
  mv "$rootfs" "$work/bundle/rootfs"
  umoci repack --image "$layout:$tag" --history.created "$CREATED" \
    --history.created_by "hack/build-images.sh ($name)" "$work/bundle"
  mv "$work/bundle/rootfs" "$rootfs"
  args=(--created "$CREATED" --history.created "$CREATED" --history.created_by "hack/build-images.sh ($name)"
    --author threetier --architecture amd64 --os linux
    --config.user "$USER" --config.workingdir "$WORKDIR"
    --config.label "org.opencontainers.image.title=$REF"
    --config.label "org.opencontainers.image.source=images/$name")
  for item in "${ENTRYPOINT[@]}"; do args+=(--config.entrypoint "$item"); done
  for item in "${CMD[@]}"; do args+=(--config.cmd "$item"); done
  for item in "${ENV[@]}"; do args+=(--config.env "$item"); done
  for item in "${PORTS[@]}"; do args+=(--config.exposedports "$item"); done
  [ -z "$STOPSIGNAL" ] || args+=(--config.stopsignal "$STOPSIGNAL")
  umoci config --image "$layout:$tag" "${args[@]}"
  umoci gc --layout "$layout"

  # index.json first so the importer reads the digest without scanning the blobs
  tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$layout" -cf "$archive.partial" oci-layout index.json blobs
  mv "$archive.partial" "$archive"
}

build_image() { # build_image NAME ARCHIVE
  local name="$1" archive="$2" work rootfs start=$SECONDS
  work="$(mktemp -d "$IMAGES_OUT/.work-$name.XXXXXX")"
  rootfs="$work/rootfs"
  mkdir -p "$rootfs"
  assemble "$name" "$rootfs" "$work"
  smoke_test "$name" "$rootfs"
  pack "$name" "$rootfs" "$work" "$archive"
  log "built $REF in $((SECONDS - start)) s: rootfs $(du -sh --apparent-size "$rootfs" | cut -f1), archive $(du -h --apparent-size "$archive" | cut -f1)"
  rm -rf "$work"
}

main() {
  [ "${1:-}" != "--force" ] || FORCE=1
  mkdir -p "$IMAGES_OUT"
  # one build at a time (make images and cluster-up may race)
  exec 9>"$IMAGES_OUT/.lock"
  flock 9
  rm -rf "$IMAGES_OUT"/.work-*
  ensure_prereqs

  local name archive key rows="" start=$SECONDS
  for name in "${IMAGES[@]}"; do
    load_conf "$name"
    ensure_debs "${DEBS[@]}"
    key="$(input_key "$name")"
    archive="$IMAGES_OUT/$name-${REF##*:}-$key.oci.tar"
    if [ -f "$archive" ] && [ "$FORCE" = 0 ]; then
      log "reusing $REF ($(basename "$archive"))"
    else
      [ "$(id -u)" = 0 ] || die "building $REF needs root (chroot, file owners)"
      log "building $REF"
      build_image "$name" "$archive"
    fi
    # drop this image's archives of older inputs
    find "$IMAGES_OUT" -maxdepth 1 -name "$name-*.oci.tar" ! -path "$archive" -delete
    rows+="$REF"$'\t'"$archive"$'\n'
  done

  # rewrite the manifest only when it changes (its mtime then means "images changed")
  if [ "$(cat "$MANIFEST" 2>/dev/null || true)"$'\n' != "$rows" ]; then
    printf '%s' "$rows" >"$MANIFEST.partial" && mv "$MANIFEST.partial" "$MANIFEST"
  fi
  log "images ready in $((SECONDS - start)) s; manifest: $MANIFEST"
}

main "$@"
