#!/usr/bin/env bash
# Assemble a kind node image from local parts, for machines that reach the Go
# module proxy and a Debian mirror but no image registry (ours). It does what
# kind's base image Dockerfile and `kind build node-image` do, without GitHub or
# a registry: Debian's packages (node-rootfs.sh), binaries built from the Go
# module proxy (build-binaries.sh), kind's own node files from its module, the
# component images preloaded into containerd (component-images.sh), a static
# CNI config, and our runc wrapper as the node's runc. Prints the image name.
# Idempotent: every step is cached, and an image with the same inputs is kept.
#   bash hack/kind/node-image.sh            NODE_IMAGE=... to name it otherwise
#   kind create cluster --image "$(bash hack/kind/node-image.sh)" --config hack/kind/cluster.yaml
# Needs root (chroot), Go, a running dockerd (hack/docker-setup.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
NODE_IMAGE=${NODE_IMAGE:-kubetrade.local/kind-node:$K8S_VERSION}
say() { echo "node-image: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot)"; exit 2; }
# Building the image needs only docker import/save, no privileged container.
docker info >/dev/null 2>&1 || bash "$HERE/../docker-setup.sh"
BIN=$(bash "$HERE/build-binaries.sh")
ROOTFS=$(bash "$HERE/node-rootfs.sh")
# Every input of the component images is in this key too (their script, the
# binaries, the rootfs), so an up-to-date node skips them.
key=$({ cat "$HERE"/{versions,build-binaries,node-rootfs,component-images,node-image}.sh "$HERE"/files/*; stat -c "%n %s %Y" "$BIN"/* "$ROOTFS"; } | sha256sum | cut -c1-16)
if [ "$(docker image inspect --format '{{index .Config.Labels "kubetrade.kind-node-key"}}' "$NODE_IMAGE" 2>/dev/null)" = "$key" ]; then
  say "$NODE_IMAGE is up to date"
  echo "$NODE_IMAGE"
  exit 0
fi
IMAGES=$(bash "$HERE/component-images.sh" "$BIN" "$ROOTFS")
KIND_SRC=$(cd /tmp && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
F="$KIND_SRC/images/base/files"

work=$(mktemp -d "$WORK_DIR"/kubetrade-kind-node.XXXXXX)
ctd_pid=
cleanup() {
  [ -n "$ctd_pid" ] && kill "$ctd_pid" 2>/dev/null && wait "$ctd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
root="$work/root"
mkdir -p "$root"
say "rootfs $(basename "$ROOTFS")"
tar -xf "$ROOTFS" -C "$root"

# kind's base image files, with its modes (scripts 0755, the rest 0644).
install -m 0755 "$F"/usr/local/bin/* "$root/usr/local/bin/"
mkdir -p "$root/kind/bin" "$root/kind/manifests" "$root/etc/containerd" "$root/etc/default" \
  "$root/etc/sysctl.d" "$root/etc/systemd/system/kubelet.service.d" "$root/etc/kubernetes/manifests"
install -m 0644 "$F"/kind/README.txt "$root/kind/"
install -m 0755 "$F"/kind/bin/* "$root/kind/bin/"
install -m 0644 "$F"/etc/crictl.yaml "$root/etc/"
install -m 0644 "$F"/etc/default/* "$root/etc/default/"
install -m 0644 "$F"/etc/sysctl.d/* "$root/etc/sysctl.d/"
install -m 0644 "$F"/etc/systemd/system/*.service "$F"/etc/systemd/system/*.slice "$root/etc/systemd/system/"
install -m 0644 "$F"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
# The sandbox image kubeadm v1.36 expects (kind's build rewrites it the same way).
sed "s|registry.k8s.io/pause:[0-9.]*|registry.k8s.io/pause:$PAUSE_TAG|" "$F/etc/containerd/config.toml" \
  >"$root/etc/containerd/config.toml"

# Binaries where kind's base and node images put them. Debian's runc moves
# aside: the wrapper is the node's runc (containerd finds /usr/local/sbin first)
# and execs /usr/sbin/runc.
install -m 0755 "$BIN"/{containerd,containerd-shim-runc-v2,ctr,crictl} "$root/usr/local/bin/"
install -m 0755 "$BIN/runc-wrapper" "$root/usr/local/sbin/runc"
install -m 0755 "$BIN"/{kubeadm,kubelet,kubectl} "$root/usr/bin/"
mkdir -p "$root/opt/cni/bin" "$root/etc/cni/net.d"
for p in host-local loopback ptp portmap; do cp "$root/usr/lib/cni/$p" "$root/opt/cni/bin/"; done
install -m 0644 "$HERE/files/10-kubetrade-ptp.conflist" "$root/etc/cni/net.d/"

# kind's base: the runtime spec containerd starts from, with its mount hook.
chroot "$root" /usr/local/bin/ctr oci spec |
  jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
  jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$root" systemctl mask systemd-binfmt.service >/dev/null 2>&1
[ -e "$root/sbin/init" ] || ln -s /usr/lib/systemd/systemd "$root/sbin/init"
echo "$K8S_VERSION" >"$root/kind/version"

# kind's default storage (rancher's local-path provisioner under /var), with the
# provisioner and its helper made here.
python3 - "$KIND_SRC/pkg/build/nodeimage/const_storage.go" \
  "kubetrade.local/local-path-provisioner:$LOCAL_PATH_VERSION" "kubetrade.local/local-path-helper:$DEBIAN_SUITE" \
  >"$root/kind/manifests/default-storage.yaml" <<'PY'
import re, sys
src, prov, helper = sys.argv[1:]
text = open(src).read()
text = text.replace("` + storageProvisionerImage + `", prov).replace("` + storageHelperImage + `", helper)
body = re.search(r"const defaultStorageManifest = `(.*?)`\n", text, re.S).group(1)
sys.stdout.write(body.lstrip("\n"))
PY

# Preload the images the way `kind build node-image` does (pinned, not unpacked:
# the node's containerd unpacks on first use), with a throwaway containerd of
# the node's own version writing into the node's /var/lib/containerd.
mkdir -p "$work/state"
cat >"$work/containerd.toml" <<TOML
version = 3
root = "$root/var/lib/containerd"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
TOML
"$BIN/containerd" --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
ctd_pid=$!
for _ in $(seq 1 50); do [ -S "$work/containerd.sock" ] && break; sleep 0.2; done
say "preloading $(tar -xOf "$IMAGES" manifest.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') images"
"$BIN/ctr" -a "$work/containerd.sock" -n k8s.io images import --label=io.cri-containerd.pinned=pinned \
  --all-platforms --no-unpack --digests "$IMAGES" >&2
"$BIN/ctr" -a "$work/containerd.sock" -n k8s.io images ls -q >&2
kill "$ctd_pid"
wait "$ctd_pid" 2>/dev/null || true
ctd_pid=
rm -rf "$root/var/lib/containerd/tmpmounts"
# The node holds the images now; the archive would be a third copy on disk.
rm -f "$IMAGES"

# kind's base also sets STOPSIGNAL SIGRTMIN+3, which `docker import` refuses;
# kind removes its nodes with `docker rm -f`, so no stop signal is ever sent.
say "importing $NODE_IMAGE"
# The previous node image goes first (disk is tight on CI machines), unless a
# kind node still runs it; then it stays, untagged, until that cluster is gone.
old_id=$(docker image inspect --format '{{.Id}}' "$NODE_IMAGE" 2>/dev/null || true)
if [ -n "$old_id" ]; then docker rmi "$NODE_IMAGE" >/dev/null 2>&1 || true; fi
tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV container=docker' \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change "LABEL kubetrade.kind-node-key=$key" \
  - "$NODE_IMAGE" >/dev/null
echo "$NODE_IMAGE"
