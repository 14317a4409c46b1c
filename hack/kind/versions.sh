# shellcheck shell=bash
# Versions of the locally assembled kind node, sourced by hack/kind/*.sh.
# kubeadm v1.36.3 asks for etcd 3.6.8-0, CoreDNS v1.14.2 and pause 3.10.2; etcd
# is the control plane's 3.6.16 (hack/build-control-plane.sh), named in the kind
# config's ClusterConfiguration patch (etcd.local.imageTag) instead.
# shellcheck disable=SC2034
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KIND_VERSION="${KIND_VERSION:-v0.32.0}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.2.7}"
CRICTL_VERSION="${CRICTL_VERSION:-v1.36.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.2}"
LOCAL_PATH_VERSION="${LOCAL_PATH_VERSION:-v0.0.30}"
PAUSE_TAG=3.10.2
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
CACHE_ROOT="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}"
KIND_CACHE="$CACHE_ROOT/kind-node-k8s-${K8S_VERSION}-kind-${KIND_VERSION}-containerd-${CONTAINERD_VERSION}"
KIND_BIN="$KIND_CACHE/bin"
# Scratch space for the assembly (about 1.5 GB at its peak): a tmpfs such as
# /dev/shm keeps it off a nearly full disk.
WORK_DIR="${KIND_WORK_DIR:-/var/tmp}"
