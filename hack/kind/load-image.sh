#!/usr/bin/env bash
# Load a Docker image into every node of a kind cluster, like `kind load docker-image`,
# but with a fraction of its disk: kind writes `docker save` to a temporary tar first
# and its `ctr import` keeps every layer twice in the node (the compressed-or-not blob
# in the content store and the unpacked snapshot). Here the archive streams straight
# into the node and the blobs are dropped once unpacked: the 6.8 GB workload image and
# the operator took up to 13 GB of the host's disk while importing and 7 GB after
# (2026-12-06), where kind's way needs about 20 GB and keeps 13.6 (it filled our disk).
# An image already in the node with the same ID is not loaded again.
#   bash hack/kind/load-image.sh CLUSTER IMAGE...
set -euo pipefail
cluster=$1
shift

for node in $(kind get nodes --name "$cluster"); do
  # The CRI's snapshotter, which the kubelet's pods are unpacked with (as kind finds it).
  snapshotter=$(docker exec "$node" containerd config dump \
    | sed -n "/^ *\[plugins\.'io\.containerd\.cri\.v1\.images'\]/,/^ *\[/s/^ *snapshotter = '\(.*\)'/\1/p" | head -n1)
  for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image")
    if docker exec "$node" crictl inspecti "$image" 2>/dev/null | grep -q "\"id\": \"$id\""; then
      echo "load-image: $image ($id) is already on $node" >&2
      continue
    fi
    echo "load-image: $image -> $node (snapshotter ${snapshotter:-default})" >&2
    docker save "$image" | docker exec -i "$node" ctr --namespace=k8s.io images import \
      --local --discard-unpacked-layers ${snapshotter:+--snapshotter="$snapshotter"} -
  done
done
