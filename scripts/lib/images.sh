# shellcheck shell=bash
# Podman helpers for scripts/images: install Podman, make the base images the
# Dockerfiles name without any registry, and build the service images. Source it
# after scripts/lib/stack.sh; every function is prefixed `images::`.
#
# No image registry is needed: `debian:bookworm-slim` is made with debootstrap and
# `podman import`, `rust:<version>-bookworm` from it plus the host's Rust toolchain
# of that version, each tagged with the registry's full name so the Dockerfiles'
# FROM lines resolve to them as they are. Podman keeps them in its own storage, so
# they are made once per machine.

IMAGES_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# runc, lowered ulimits and the host network: see deploy/podman/containers.conf.
IMAGES_CONTAINERS_CONF=${IMAGES_CONTAINERS_CONF:-$IMAGES_REPO/deploy/podman/containers.conf}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGES_LABEL=org.readme.local-base

# podman as root, with our containers.conf.
images::podman() {
  stack::as_root env CONTAINERS_CONF="$IMAGES_CONTAINERS_CONF" podman "$@"
}

# Install Podman, runc and debootstrap when missing. As root Podman needs neither
# uidmap nor slirp4netns (host network) nor fuse-overlayfs (native overlay).
images::ensure_packages() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  stack::log "installing ${missing[*]} with apt-get"
  stack::as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive stack::as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

images::exists() { images::podman image exists "$1"; }

# images::ensure_debian_base TAG: Debian 12 minbase made like Docker Hub's slim
# image (documentation, man pages and locales left out; apt cleans up after itself),
# with the bookworm, bookworm-updates and bookworm-security sources.
images::ensure_debian_base() {
  local tag=$1
  images::exists "$tag" && return 0
  local work rootfs started=$SECONDS
  work=$(mktemp -d /tmp/readme-debootstrap.XXXXXX)
  rootfs=$work/rootfs
  stack::log "making $tag with debootstrap (one time, about a minute)"
  if ! stack::as_root debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" > "$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    stack::as_root rm -rf "$work"
    stack::die "debootstrap failed (log above)"
  fi
  stack::as_root bash -euo pipefail -s "$rootfs" "$DEBIAN_MIRROR" <<'SH'
root=$1 mirror=$2
cd "$root"
rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* var/log/* tmp/*
find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
find usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* usr/share/groff/* usr/share/lintian/*
cat > etc/dpkg/dpkg.cfg.d/docker <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
cat > etc/apt/apt.conf.d/docker-clean <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' > etc/apt/apt.conf.d/docker-no-languages
printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' > etc/apt/apt.conf.d/docker-gzip-indexes
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' > etc/apt/apt.conf.d/docker-autoremove-suggests
rm -f etc/apt/sources.list
cat > etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
printf '#!/bin/sh\nexit 101\n' > usr/sbin/policy-rc.d
chmod +x usr/sbin/policy-rc.d
: > etc/resolv.conf
: > etc/hostname
SH
  stack::as_root tar -C "$rootfs" --numeric-owner -cf - . \
    | images::podman import --quiet \
        --change 'CMD ["bash"]' \
        --change "LABEL $IMAGES_LABEL=debootstrap" \
        --message "debootstrap --variant=minbase bookworm, slimmed (scripts/lib/images.sh)" \
        - "$tag" >/dev/null \
    || { stack::as_root rm -rf "$work"; stack::die "podman import of $tag failed"; }
  stack::as_root rm -rf "$work"
  stack::log "$tag made in $((SECONDS - started))s"
}

# The sysroot of a host Rust toolchain whose `rustc -V` is VERSION (1.95 or 1.95.0).
images::host_toolchain() {
  local version=$1 d candidates=()
  for d in "${RUSTUP_HOME:-$HOME/.rustup}"/toolchains/*; do candidates+=("$d"); done
  command -v rustc >/dev/null 2>&1 && candidates+=("$(rustc --print sysroot 2>/dev/null || true)")
  for d in "${candidates[@]}"; do
    if [ ! -x "$d/bin/rustc" ] || [ ! -x "$d/bin/cargo" ]; then continue; fi
    if "$d/bin/rustc" -V 2>/dev/null | grep -Eq "^rustc ${version//./\\.}[. ]"; then
      (cd "$d" && pwd -P)
      return 0
    fi
  done
  return 1
}

# images::ensure_rust_base TAG VERSION DEBIAN_TAG: a stand-in for Docker Hub's
# rust:VERSION-bookworm (static.rust-lang.org is out of reach here, the host's
# toolchain is not): the Debian base plus the C toolchain the workspace's build
# scripts use (aws-lc-sys, ring, mimalloc: gcc, make), and the host's Rust VERSION
# under /usr/local/rustup behind rustup's proxies in /usr/local/cargo/bin, with
# RUSTUP_HOME, CARGO_HOME and PATH set as the official image sets them.
images::ensure_rust_base() {
  local tag=$1 version=$2 debian_tag=$3
  images::exists "$tag" && return 0
  local sysroot full triple name work started=$SECONDS
  sysroot=$(images::host_toolchain "$version") \
    || stack::die "no Rust $version toolchain on this machine to put in $tag (rustup toolchain install $version)"
  full=$("$sysroot/bin/rustc" -V | awk '{print $2}')
  triple=$("$sysroot/bin/rustc" -vV | sed -n 's/^host: //p')
  name=$full-$triple
  stack::log "making $tag from $debian_tag and the host's Rust $full ($sysroot; one time)"
  work=$(mktemp -d /tmp/readme-rust-image.XXXXXX)
  mkdir -p "$work/toolchain"
  # The toolchain without its HTML documentation (800 MB of the 1.4 GB).
  tar -C "$sysroot" --exclude=./share/doc -cf - . | tar -C "$work/toolchain" -xf -
  # The host's local CAs (a TLS-inspecting egress proxy's, say): cargo in a build
  # reaches crates.io through the same network as the host's cargo.
  mkdir -p "$work/ca-certificates"
  find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/ca-certificates/" \; 2>/dev/null || true
  if command -v rustup >/dev/null 2>&1; then
    cp "$(readlink -f "$(command -v rustup)")" "$work/rustup"
  else
    : > "$work/rustup" # no rustup on the host: plain links to the toolchain instead
  fi
  if ! images::podman build --pull=never --layers=false -q \
      -f "$IMAGES_REPO/deploy/podman/rust.Containerfile" \
      --build-arg "TOOLCHAIN=$name" --build-arg "RUST_VERSION=$full" \
      --label "$IMAGES_LABEL=host-toolchain" \
      -t "$tag" "$work" > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    rm -rf "$work"
    stack::die "building $tag failed (log above)"
  fi
  rm -rf "$work"
  stack::log "$tag made in $((SECONDS - started))s"
}

# The lines of a Dockerfile's build stage: from `FROM … AS build` to the next FROM.
images::build_stage() {
  awk '/^FROM .* AS build$/ {on=1} on && /^FROM / && !/ AS build$/ {exit} on' "$1"
}

# The images the Dockerfiles' stages start FROM (e.g. rust:1.95-bookworm), once each.
images::from() {
  awk 'toupper($1) == "FROM" {print $2}' "$@" | sort -u
}
