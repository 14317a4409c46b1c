#!/usr/bin/env bash
# The quick loop of `make argocd-e2e`, without kind (about 2 minutes): the local
# control plane (no kubelet), the operator in-process, and Argo CD's redis, repo
# server and controller as Docker containers on the host network (ports 16379,
# 18081, 18082, 18084). tests/e2e/test_argocd.py runs all but the chart test: with
# no kubelet the operator's Deployment never becomes Available, and the example
# Dataset's pod never reaches ErrImageNeverPull (its Job still waits, Progressing).
#   bash hack/argocd/local.sh          KEEP=1 leaves it running; `bash hack/argocd/local.sh down`
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE=${ARGOCD_LOCAL_STATE:-/tmp/kubetrade-argocd-local}
IMAGE=${ARGOCD_IMAGE:-kubetrade.local/argocd:v3.6.2}
ARGOCD_SRC="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}/argocd/src"
PATH="$(bash hack/build-control-plane.sh):$PATH"
export PATH PYTHONPATH=hack

down() {
  if [ -f "$STATE/operator.pid" ]; then kill "$(cat "$STATE/operator.pid")" 2>/dev/null || true; fi
  docker rm -f kubetrade-argocd-ctl kubetrade-argocd-repo kubetrade-argocd-redis >/dev/null 2>&1 || true
  if [ -d "$STATE/cp" ]; then .venv/bin/python -m kubetrade_dev.controlplane down --state-dir "$STATE/cp" || true; fi
  rm -rf "$STATE"
}
if [ "${1:-}" = down ]; then
  down
  exit 0
fi
[ -n "${KEEP:-}" ] || trap down EXIT

bash hack/argocd/image.sh >/dev/null
mkdir -p "$STATE"
.venv/bin/python -m kubetrade_dev.controlplane up --state-dir "$STATE/cp" >/dev/null
# A copy the containers' uid 999 can read (the control plane writes it 0600).
cp "$STATE/cp/kubeconfig" "$STATE/kubeconfig"
chmod 0644 "$STATE/kubeconfig"
export KUBECONFIG=$STATE/kubeconfig

kubectl apply --server-side -f "$ARGOCD_SRC/manifests/crds/application-crd.yaml" \
  -f "$ARGOCD_SRC/manifests/crds/appproject-crd.yaml" >/dev/null
for _ in $(seq 30); do
  kubectl wait --for=condition=Established --timeout=5s crd/appprojects.argoproj.io >/dev/null 2>&1 && break
  sleep 1
done
kubectl create namespace argocd >/dev/null
kubectl apply -f deploy/argocd/argocd-cm-patch.yaml >/dev/null
# Its Deployments never run here (no kubelet); the rest (project, secret) is what counts.
kubectl apply -f hack/argocd/install.yaml >/dev/null
kubectl create namespace trading >/dev/null

docker run -d --rm --name kubetrade-argocd-redis --network host --entrypoint redis-server "$IMAGE" \
  --save "" --appendonly no --bind 127.0.0.1 --port 16379 >/dev/null
docker run -d --rm --name kubetrade-argocd-repo --network host -e ARGOCD_GPG_ENABLED=false \
  -e HELM_CACHE_HOME=/tmp/helm -e HELM_CONFIG_HOME=/tmp/helm -e HELM_DATA_HOME=/tmp/helm \
  --entrypoint /usr/local/bin/argocd-repo-server "$IMAGE" --redis 127.0.0.1:16379 \
  --disable-tls --client-ca-path= --port 18081 --metrics-port 18084 >/dev/null
# ARGOCD_FAKE_IN_CLUSTER: the in-cluster destination is this kubeconfig's cluster.
docker run -d --rm --name kubetrade-argocd-ctl --network host -v "$KUBECONFIG:/kubeconfig:ro" \
  -e ARGOCD_FAKE_IN_CLUSTER=true -e KUBECONFIG=/kubeconfig \
  --entrypoint /usr/local/bin/argocd-application-controller "$IMAGE" --namespace argocd \
  --redis 127.0.0.1:16379 --repo-server 127.0.0.1:18081 --repo-server-plaintext \
  --app-resync 60 --persist-resource-health --metrics-port 18082 >/dev/null

synced() {
  for _ in $(seq 90); do
    [ "$(kubectl -n argocd get "application/$1" -o jsonpath='{.status.sync.status}' 2>/dev/null)" != Synced ] || return 0
    sleep 2
  done
  echo "argocd-local: application/$1 did not sync" >&2
  kubectl -n argocd get "application/$1" -o jsonpath='{.status.conditions}' >&2
  return 1
}
sed -e "s|OPERATOR_IMAGE_REPOSITORY|ghcr.io/kubetrade/operator|" -e "s|OPERATOR_IMAGE_TAG|local|" \
  hack/argocd/app-chart.yaml | kubectl apply -f - >/dev/null
synced kubetrade
kubectl wait --for=condition=Established --timeout=60s crd/datasets.kubetrade.io >/dev/null
KUBETRADE_METRICS_PORT=0 .venv/bin/python -m kubetrade_operator --standalone >"$STATE/operator.log" 2>&1 &
echo $! >"$STATE/operator.pid"
kubectl apply -f hack/argocd/app-resources.yaml >/dev/null
synced kubetrade-examples
synced kubetrade-health

KUBETRADE_KUBECONFIG=$KUBECONFIG KUBETRADE_ARGOCD_NAMESPACE=argocd \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e/test_argocd.py -k 'not chart'
