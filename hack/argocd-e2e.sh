#!/usr/bin/env bash
# make argocd-e2e: GitOps for real. A kind cluster (kubetrade-argocd) runs Argo CD's
# application controller and repo server, built from the Go module proxy
# (hack/argocd/build.sh, image.sh), with deploy/argocd's health checks in argocd-cm;
# Argo CD syncs the chart, examples/ and hack/argocd/health/ from a git repository in
# its image, and tests/e2e/test_argocd.py checks the health Argo CD reports as the
# operator moves the resources. The workload image (6.8 GB) is not loaded: its pods
# fail ErrImageNeverPull, which is movement enough.
# Run it alone on a small machine (kind runs take a lock there: flock /tmp/kind.lock).
#   KEEP_CLUSTER=1 bash hack/argocd-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The cluster and the two images (no workload image) take about 3 GB.
E2E=argocd-e2e E2E_MIN_FREE_GB=${MIN_FREE_GB:-8}
# shellcheck source=hack/kind/preamble.sh
. hack/kind/preamble.sh

CLUSTER=${ARGOCD_CLUSTER:-kubetrade-argocd}
REGISTRY=${REGISTRY:-ghcr.io/kubetrade}
TAG=${TAG:-argocd-e2e}
ARGOCD_SRC="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}/argocd/src"
ARGOCD_IMAGE=$(bash hack/argocd/image.sh)
phase "Argo CD binary and image"
REGISTRY=$REGISTRY TAG=$TAG bash hack/images.sh operator
phase "operator image"

KUBECONFIG_FILE=$(mktemp)
export KUBECONFIG=$KUBECONFIG_FILE
# What went wrong, before the cluster goes: the Applications and Argo CD's logs.
diagnose() {
  echo "argocd-e2e: failed; Applications and Argo CD logs follow" >&2
  kubectl -n argocd get applications -o yaml 2>&1 | tail -n 200 >&2 || true
  kubectl get pods -A -o wide >&2 || true
  for d in argocd-application-controller argocd-repo-server; do
    kubectl -n argocd logs "deploy/$d" --tail=60 >&2 || true
  done
  kubectl -n kubetrade-system logs deploy/kubetrade --tail=40 >&2 || true
}
cleanup() {
  local rc=$?
  [ "$rc" -eq 0 ] || diagnose
  if [ -z "${KEEP_CLUSTER:-}" ]; then kind delete cluster --name "$CLUSTER" || true; fi
  rm -f "$KUBECONFIG_FILE"
}
trap cleanup EXIT

if ! kind get clusters | grep -qx "$CLUSTER"; then
  # Our machines reach no registry: the node assembled from local parts, as kind-e2e's.
  kind create cluster --name "$CLUSTER" --wait 180s \
    --image "$(bash hack/kind/node-image.sh)" --config hack/kind/cluster.yaml
fi
kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE"
phase "cluster"
bash hack/kind/load-image.sh "$CLUSTER" "$REGISTRY/operator:$TAG" "$ARGOCD_IMAGE"
phase "image load"

# Argo CD's CRDs from the source it was built from (server-side: the Application
# CRD is too large for client-side apply's annotation).
kubectl apply --server-side -f "$ARGOCD_SRC/manifests/crds/application-crd.yaml" \
  -f "$ARGOCD_SRC/manifests/crds/appproject-crd.yaml"
# A CRD just created has no conditions yet, and `kubectl wait` fails on that at once.
for _ in $(seq 60); do
  kubectl wait --for=condition=Established --timeout=5s \
    crd/applications.argoproj.io crd/appprojects.argoproj.io >/dev/null 2>&1 && break
  sleep 1
done
kubectl wait --for=condition=Established --timeout=5s \
  crd/applications.argoproj.io crd/appprojects.argoproj.io
# argocd-cm first, so the controller starts with our health checks. It is ours to
# make here: deploy/argocd's patch is a whole ConfigMap.
kubectl create namespace argocd --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f deploy/argocd/argocd-cm-patch.yaml
kubectl apply -f hack/argocd/install.yaml
for d in argocd-redis argocd-repo-server argocd-application-controller; do
  kubectl -n argocd rollout status "deploy/$d" --timeout=180s
done
phase "Argo CD"

# The workload namespace exists before the chart, as on any cluster: the chart puts
# the workload ServiceAccount and Role there (Argo CD creates only its destination).
kubectl create namespace trading --dry-run=client -o yaml | kubectl apply -f -
# Until a field of an Argo CD object reads VALUE (`kubectl wait --for=jsonpath` fails
# at once while the controller has written no status yet).
wait_app() {
  local object=$1 path=$2 value=$3 timeout=$4 got=""
  local deadline=$(($(date +%s) + timeout))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    got=$(kubectl -n argocd get "$object" -o jsonpath="$path" 2>/dev/null || true)
    [ "$got" != "$value" ] || return 0
    sleep 2
  done
  echo "argocd-e2e: $object: $path is '$got' after ${timeout} s, not '$value'" >&2
  return 1
}
sed -e "s|OPERATOR_IMAGE_REPOSITORY|$REGISTRY/operator|" -e "s|OPERATOR_IMAGE_TAG|$TAG|" \
  hack/argocd/app-chart.yaml | kubectl apply -f -
wait_app application/kubetrade '{.status.health.status}' Healthy 300
phase "chart synced and Healthy"
kubectl apply -f hack/argocd/app-resources.yaml
for app in kubetrade-examples kubetrade-health; do
  wait_app "application/$app" '{.status.sync.status}' Synced 180
done
phase "examples and health fixtures synced"

KUBETRADE_KUBECONFIG=$KUBECONFIG_FILE KUBETRADE_ARGOCD_NAMESPACE=argocd \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e/test_argocd.py
phase "Argo CD health suite"
