#!/usr/bin/env bash
# The kind node's root file system from Debian packages (what kind's base image
# installs with apt on debian-slim), as a cached tarball; prints its path.
# bookworm, not trixie like kind's own base: systemd 252 still boots on the
# cgroup v1 hosts we have, newer systemd refuses v1 without an override.
# runc and the CNI plugins come from Debian too (runc 1.1 ran pods here;
# kind builds newer ones from GitHub, which we cannot reach).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
PACKAGES=systemd,systemd-sysv,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,e2fsprogs,bash,ca-certificates,curl,jq,procps,runc,containernetworking-plugins,socat,busybox-static
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
key=$(printf '%s %s' "$DEBIAN_SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
out="$CACHE_ROOT/kind-rootfs-$DEBIAN_SUITE-$key.tar"
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2
root=$(mktemp -d "$WORK_DIR"/kubetrade-kind-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo ">> debootstrap $DEBIAN_SUITE ($MIRROR)" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$DEBIAN_SUITE" "$root" "$MIRROR" >&2
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/log/*.log
# kind's base image: no units that make no sense in a container, no kernel log
# replay in journald (confusing inside a node).
find "$root"/lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
  "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
tar -C "$root" --numeric-owner -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "$out"
