#!/usr/bin/env bash
# Make the images' base locally from Debian packages, for machines that reach a Debian
# mirror but no image registry (ours). It stands in for python:3.11-slim-bookworm:
# Debian bookworm's python3 is 3.11, like the project, with venv/pip and useradd.
#   bash hack/base-image.sh            prints the image name; builds it only when missing
#   FORCE=1 bash hack/base-image.sh    rebuilds it
# Needs root (debootstrap) and a running Docker daemon (hack/docker-setup.sh).
set -euo pipefail

BASE_LOCAL=${BASE_LOCAL:-kubetrade.local/base:bookworm-python3.11}
SUITE=bookworm
# The mirror apt already uses, so a machine with a private mirror keeps using it.
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# What python:3.11-slim-bookworm offers that the Dockerfiles use: python and python3,
# `python -m venv` with pip, CA certificates, useradd/groupadd (passwd). Nothing else.
INCLUDE=python3,python3-venv,python-is-python3,ca-certificates,passwd

say() { echo "base-image: $*" >&2; }

if [ -z "${FORCE:-}" ] && docker image inspect "$BASE_LOCAL" >/dev/null 2>&1; then
  say "$BASE_LOCAL exists (FORCE=1 rebuilds it)"
  echo "$BASE_LOCAL"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2
fi

root=$(mktemp -d /var/tmp/kubetrade-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
say "debootstrap --variant=minbase $SUITE from $MIRROR"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" >&2
# What a slim image leaves out: package caches and lists, docs, man pages, logs.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
# An image the apt steps of the Dockerfiles can use: the same mirror, no recommends.
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" \
  >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*

tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  --message "debootstrap --variant=minbase $SUITE + $INCLUDE" \
  - "$BASE_LOCAL" >&2
say "built $BASE_LOCAL ($(docker image inspect --format '{{.Size}}' "$BASE_LOCAL") bytes)"
echo "$BASE_LOCAL"
