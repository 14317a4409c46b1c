#!/usr/bin/env bash
# Build everything a kind node needs that Debian does not package, from the Go
# module proxy, into a versioned cache outside the repository:
#   kubeadm, kubelet, kube-scheduler, kube-proxy (k8s.io/kubernetes, through the
#     wrapper module hack/build-control-plane.sh already writes),
#   containerd, its runc shim and ctr; crictl; CoreDNS; local-path-provisioner;
#   the runc wrapper and pause (hack/kind/go.mod, stdlib only).
# Prints the bin directory. A second run finds the binaries and returns at once.
# kind's own base image clones these from GitHub, which our machines cannot reach.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
# The control plane's etcd, kube-apiserver, kube-controller-manager and kubectl
# (and the k8s.io/kubernetes wrapper module under $CACHE_ROOT/build).
CP_BIN=$(bash "$HERE/../build-control-plane.sh")
mkdir -p "$KIND_BIN"
for b in etcd kube-apiserver kube-controller-manager kubectl; do
  [ -x "$KIND_BIN/$b" ] || cp "$CP_BIN/$b" "$KIND_BIN/$b"
done

export CGO_ENABLED=0 GOTOOLCHAIN=local
exec 9>"$CACHE_ROOT/.kind-build.lock"
flock 9

k8s_dir="$CACHE_ROOT/build/kubernetes-$K8S_VERSION"
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
  -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
  -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION \
  -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
for cmd in kubeadm kubelet kube-scheduler kube-proxy; do
  [ -x "$KIND_BIN/$cmd" ] && continue
  echo ">> building $cmd $K8S_VERSION" >&2
  (cd "$k8s_dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$KIND_BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$KIND_BIN/$cmd.tmp" "$KIND_BIN/$cmd"
done

# go install of a module whose go.mod has no replace directives; the binary is
# renamed to $2 when its package name differs.
install_mod() { # pkg@version name [build flags...]
  local pkg=$1 name=$2
  shift 2
  [ -x "$KIND_BIN/$name" ] && return 0
  echo ">> building $name ($pkg)" >&2
  local tmp="$CACHE_ROOT/build/gobin-$name"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$@" "$pkg"
  mv "$tmp"/* "$KIND_BIN/$name"
  rm -rf "$tmp"
}
# kind builds containerd without the snapshotters it never selects.
ctd_tags=(-tags "no_btrfs no_zfs no_devmapper no_aufs")
install_mod "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" containerd "${ctd_tags[@]}"
install_mod "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" containerd-shim-runc-v2 "${ctd_tags[@]}"
install_mod "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION" ctr "${ctd_tags[@]}"
install_mod "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" crictl
install_mod "sigs.k8s.io/kind@$KIND_VERSION" kind
install_mod "github.com/coredns/coredns@$COREDNS_VERSION" coredns
install_mod "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION" local-path-provisioner

# Our own two: built from the repository, so rebuilt when their source changes.
src_sum=$(cat "$HERE"/go.mod "$HERE"/cmd/*/*.go | sha256sum | cut -c1-12)
if [ "$(cat "$KIND_BIN/.own-src" 2>/dev/null)" != "$src_sum" ]; then
  echo ">> building runc-wrapper and pause" >&2
  (cd "$HERE" && go build -trimpath -ldflags "-s -w" -o "$KIND_BIN/runc-wrapper" ./cmd/runc-wrapper &&
    go build -trimpath -ldflags "-s -w" -o "$KIND_BIN/pause" ./cmd/pause)
  echo "$src_sum" >"$KIND_BIN/.own-src"
fi
echo "$KIND_BIN"
