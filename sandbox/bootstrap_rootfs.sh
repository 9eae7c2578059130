#!/usr/bin/env bash
# Build the sandbox's offline root filesystem image without pulling anything:
# debootstrap a minimal Debian bookworm with Python 3.11 and import it into Docker.
#   usage: bootstrap_rootfs.sh TAG [SUITE] [MIRROR]
# Needs root (debootstrap) and a running Docker daemon. Takes about a minute.
set -euo pipefail
TAG="${1:?usage: bootstrap_rootfs.sh TAG [SUITE] [MIRROR]}"
SUITE="${2:-bookworm}"
MIRROR="${3:-}"
if [ "$(id -u)" != 0 ]; then
    echo "bootstrap_rootfs.sh needs root (debootstrap); run it with sudo" >&2
    exit 2
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install -y debootstrap" >&2; exit 2; }
ROOTFS="$(mktemp -d /tmp/paper2code-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    "$SUITE" "$ROOTFS" ${MIRROR:+"$MIRROR"}
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | docker import - "$TAG"
echo "imported $TAG"
