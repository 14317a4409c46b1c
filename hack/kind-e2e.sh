#!/usr/bin/env bash
# make kind-e2e: a kind cluster, the images built and loaded into it, the chart
# installed (two peered operator replicas and the web console), then the in-cluster end-to-end suite
# (tests/e2e/test_in_cluster.py) against it. Needs Docker and kind; without them
# it stops at once with a message saying so.
#   KIND_CLUSTER=kubetrade-e2e KEEP_CLUSTER=1 bash hack/kind-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Room for the workload image (6.8 GB), its copy in the node and the export between them.
E2E=kind-e2e E2E_MIN_FREE_GB=${KIND_E2E_MIN_FREE_GB:-16}
# shellcheck source=hack/kind/preamble.sh
. hack/kind/preamble.sh
CLUSTER=${KIND_CLUSTER:-kubetrade-e2e}
REGISTRY=${REGISTRY:-ghcr.io/kubetrade}
TAG=${TAG:-e2e}
NS=kubetrade-e2e
KUBECONFIG_FILE=$(mktemp)
export KUBECONFIG=$KUBECONFIG_FILE

cleanup() {
  if [ -z "${KEEP_CLUSTER:-}" ]; then kind delete cluster --name "$CLUSTER" || true; fi
  rm -f "$KUBECONFIG_FILE"
}
trap cleanup EXIT

# kind's stock node (pulled by kind) where a registry answers; elsewhere (our
# machines) a node assembled from local parts, with its cluster config (static
# CNI, one node). KIND_NODE_IMAGE=... picks one; KIND_LOCAL_NODE=1 forces ours.
if ! kind get clusters | grep -qx "$CLUSTER"; then
  KIND_CREATE=(--wait 180s)
  if [ -n "${KIND_NODE_IMAGE:-}" ]; then
    KIND_CREATE+=(--image "$KIND_NODE_IMAGE")
  elif [ -n "${KIND_LOCAL_NODE:-}" ] || ! timeout 300 docker pull -q "$(bash hack/kind/stock-node.sh)" >/dev/null 2>&1; then
    phase "pulling kind's stock node (failed)"
    echo "make kind-e2e: kind's stock node image cannot be pulled; assembling one (hack/kind/node-image.sh)" >&2
    KIND_CREATE+=(--image "$(bash hack/kind/node-image.sh)" --config hack/kind/cluster.yaml)
  fi
  phase "node image"
  kind create cluster --name "$CLUSTER" "${KIND_CREATE[@]}"
fi
kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE"
phase "cluster"

# The GPU image is not needed on kind (no GPUs); build and load the other two.
REGISTRY=$REGISTRY TAG=$TAG bash hack/images.sh operator workload
phase "images"
# Not `kind load docker-image`: its temporary archive and double copy in the node
# need about three times the workload image's 6.8 GB (hack/kind/load-image.sh).
bash hack/kind/load-image.sh "$CLUSTER" "$REGISTRY/operator:$TAG" "$REGISTRY/workload:$TAG"
phase "image load"

# Every namespace of the run enforces the restricted Pod Security Standard: the
# operator and every workload pod must start under it, as on a hardened cluster.
for ns in kubetrade-system "$NS"; do
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
  kubectl label --overwrite namespace "$ns" \
    pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
done
# Workload pods publish artifacts on this claim (kind's default StorageClass provides it).
kubectl apply -n "$NS" -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kubetrade-artifacts}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML

helm upgrade --install kubetrade charts/kubetrade -n kubetrade-system --create-namespace \
  --set image.repository="$REGISTRY/operator" --set image.tag="$TAG" \
  --set image.pullPolicy=Never --set workloadImagePullPolicy=Never \
  --set workloadImage="$REGISTRY/workload:$TAG" \
  --set replicaCount=2 --set "workloadNamespaces={$NS}" \
  --set console.enabled=true --set console.image="$REGISTRY/workload:$TAG" \
  --wait --timeout 5m
phase "helm install"

# The suite talks to this cluster only: the chart's operator and kind's kubelet do the work.
KUBETRADE_KUBECONFIG=$KUBECONFIG_FILE KUBETRADE_E2E_NAMESPACE=$NS \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e/test_in_cluster*.py
phase "in-cluster suite"

# The s3 pass (issue 13): the lifecycle again, in a namespace of its own, with the
# operator switched to an S3 server in the cluster (hack/kind/s3-server.sh) instead of
# the PVC: every workload pod then reads and writes its artifacts through s3fs.
S3_NS=kubetrade-e2e-s3
# Afresh on a kept cluster (KEEP_CLUSTER=1): the lifecycle creates its resources anew.
kubectl delete namespace "$S3_NS" --ignore-not-found --wait --timeout=300s
kubectl create namespace "$S3_NS"
kubectl label --overwrite namespace "$S3_NS" \
  pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
S3_SETS=$(bash hack/kind/s3-server.sh "$CLUSTER" "$S3_NS")
mapfile -t S3_ARGS <<<"$S3_SETS"
helm upgrade kubetrade charts/kubetrade -n kubetrade-system --reuse-values "${S3_ARGS[@]}" \
  --set "workloadNamespaces={$NS,$S3_NS}" --wait --timeout 5m
kubectl -n kubetrade-system rollout status deployment/kubetrade --timeout=300s
KUBETRADE_KUBECONFIG=$KUBECONFIG_FILE KUBETRADE_E2E_NAMESPACE=$S3_NS KUBETRADE_E2E_STORAGE=s3 \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e/test_in_cluster.py -k lifecycle
phase "s3 lifecycle"

# No secret value anywhere a user or a log shipper reads: every status, Event and
# pod log of the run, grepped for the S3 keys the s3 pass used (the in-cluster suite
# checked its own broker Secret the same way).
leaked=0
SEEN=$(mktemp)
for ns in kubetrade-system "$NS" "$S3_NS"; do
  kubectl get datasets,trainingruns,models,tradingsessions -n "$ns" -o yaml >>"$SEEN"
  kubectl get events -n "$ns" -o yaml >>"$SEEN"
  for pod in $(kubectl get pods -n "$ns" -o name); do
    kubectl logs -n "$ns" "$pod" --all-containers >>"$SEEN" 2>/dev/null || true
  done
done
for key in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
  value=$(kubectl -n kubetrade-system get secret kubetrade-s3 -o "jsonpath={.data.$key}" | base64 -d)
  if [ -z "$value" ]; then
    echo "kind-e2e: the S3 Secret has no $key" >&2
    leaked=1
  elif grep -qF -- "$value" "$SEEN"; then
    echo "kind-e2e: the value of $key is in a status, an Event or a log" >&2
    leaked=1
  fi
done
echo "kind-e2e: grepped $(wc -c <"$SEEN") bytes of statuses, Events and logs" >&2
rm -f "$SEEN"
[ "$leaked" = 0 ]
phase "secret grep"
