#!/usr/bin/env bash
# The container images a kind node preloads, made from locally built binaries
# (no registry is reachable here) and saved as one `docker save` archive;
# prints its path. Names are those kubeadm v1.36.3 and kind's manifests ask for,
# except etcd (the control plane's 3.6.16; the kind config names its tag) and
# the local-path provisioner and helper (ours; our storage manifest names them).
#   bash hack/kind/component-images.sh BIN_DIR ROOTFS_TAR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
BIN=$1
ROOTFS=$2
out="$KIND_CACHE/images.tar"
stamp="$KIND_CACHE/images.key"
key=$({ cat "$0" "$HERE/versions.sh"; stat -c "%n %s %Y" "$BIN"/* "$ROOTFS"; } | sha256sum | cut -c1-16)
if [ -s "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  echo "$out"
  exit 0
fi
R=registry.k8s.io
etcd_tag="${ETCD_VERSION#v}-0"
lp_image="kubetrade.local/local-path-provisioner:$LOCAL_PATH_VERSION"
helper_image="kubetrade.local/local-path-helper:$DEBIAN_SUITE"
work=$(mktemp -d "$WORK_DIR"/kubetrade-kind-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
images=("$R/kube-apiserver:$K8S_VERSION" "$R/kube-controller-manager:$K8S_VERSION"
  "$R/kube-scheduler:$K8S_VERSION" "$R/kube-proxy:$K8S_VERSION" "$R/etcd:$etcd_tag"
  "$R/pause:$PAUSE_TAG" "$R/coredns/coredns:$COREDNS_VERSION" "$lp_image" "$helper_image")

# A FROM-scratch image: the given binaries under /usr/local/bin, /tmp, and an
# entrypoint (kubeadm's static pods give the command; CoreDNS and pause do not).
scratch_image() { # name entrypoint-json binaries...
  local name=$1 entry=$2 dir
  shift 2
  dir="$work/${name//[\/:]/_}"
  mkdir -p "$dir/usr/local/bin" "$dir/tmp" "$dir/etc"
  chmod 1777 "$dir/tmp"
  echo 'nobody:x:65534:65534:nobody:/:/sbin/nologin' >"$dir/etc/passwd"
  for b in "$@"; do cp "$BIN/$b" "$dir/usr/local/bin/$b"; done
  echo ">> image $name" >&2
  tar -C "$dir" --numeric-owner --owner=0 --group=0 -c . |
    docker import --change "$PATH_ENV" ${entry:+--change "ENTRYPOINT $entry"} - "$name" >/dev/null
}
scratch_image "$R/kube-apiserver:$K8S_VERSION" '["/usr/local/bin/kube-apiserver"]' kube-apiserver
scratch_image "$R/kube-controller-manager:$K8S_VERSION" '["/usr/local/bin/kube-controller-manager"]' kube-controller-manager
scratch_image "$R/kube-scheduler:$K8S_VERSION" '["/usr/local/bin/kube-scheduler"]' kube-scheduler
scratch_image "$R/etcd:$etcd_tag" '["/usr/local/bin/etcd"]' etcd
scratch_image "$R/pause:$PAUSE_TAG" '["/usr/local/bin/pause"]' pause
scratch_image "$R/coredns/coredns:$COREDNS_VERSION" '["/usr/local/bin/coredns"]' coredns
scratch_image "$lp_image" '' local-path-provisioner

# kube-proxy programs iptables/nftables through their command-line tools: it
# gets the node's own Debian user space (the same iptables backend choice).
echo ">> image $R/kube-proxy:$K8S_VERSION" >&2
docker import --change "$PATH_ENV" "$ROOTFS" "kubetrade.local/kind-rootfs:$DEBIAN_SUITE" >/dev/null
cid=$(docker create "kubetrade.local/kind-rootfs:$DEBIAN_SUITE" /bin/true)
docker cp "$BIN/kube-proxy" "$cid:/usr/local/bin/kube-proxy"
docker commit --change 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]' "$cid" "$R/kube-proxy:$K8S_VERSION" >/dev/null
docker rm "$cid" >/dev/null

# The provisioner's helper pod runs `sh -c` scripts (mkdir, rm): Debian's static
# busybox with its applets as links.
hdir="$work/helper"
mkdir -p "$hdir/bin" "$hdir/tmp"
tar -xf "$ROOTFS" -C "$work" ./usr/bin/busybox # merged /usr: /bin is a link
mv "$work/usr/bin/busybox" "$hdir/bin/busybox"
for a in $("$hdir/bin/busybox" --list); do [ -e "$hdir/bin/$a" ] || ln -s busybox "$hdir/bin/$a"; done
echo ">> image $helper_image" >&2
tar -C "$hdir" --numeric-owner --owner=0 --group=0 -c . |
  docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$helper_image" >/dev/null

docker save -o "$out.tmp" "${images[@]}"
# The archive is what the node image needs; the images themselves would only
# hold another copy on disk (and leave untagged ones behind on every rebuild).
docker rmi "${images[@]}" "kubetrade.local/kind-rootfs:$DEBIAN_SUITE" >/dev/null
mv "$out.tmp" "$out"
echo "$key" >"$stamp"
echo "$out"
