#!/usr/bin/env bash
# `make demo`: a local control plane, the operator and the local node, then
# examples/ applied and watched until the main job has run end to end (Dataset
# built, PPO trained, Model evaluated and Ready, TradingSession trading), and the
# web console with a sign-in token for the demo namespace. Everything keeps
# running afterwards so you can look around; `make demo-stop` ends it.
# CONSOLE_PORT picks the console's port (8443, or a free one when that is taken);
# DEMO_TIMEOUT the seconds to wait for trading (360; it exits 1 naming the stuck resource).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/hack${PYTHONPATH:+:$PYTHONPATH}"
PY=.venv/bin/python
STATE=.kubetrade
DEMO="$STATE/demo"
NS=kubetrade-demo
BIN_DIR=$(bash hack/build-control-plane.sh)
export PATH="$BIN_DIR:$PATH"
export KUBECONFIG="$PWD/$STATE/cluster/kubeconfig"

stop_pid() {
  local file="$DEMO/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [ "${1:-}" = "stop" ]; then
  stop_pid console
  rm -f "$DEMO/console.port"
  stop_pid node
  stop_pid operator
  "$PY" -m kubetrade_dev.controlplane down
  exit 0
fi

mkdir -p "$DEMO"
"$PY" -m kubetrade_dev.controlplane up
kubectl apply -f crds/ >/dev/null
kubectl wait --for=condition=Established -f crds/ --timeout=60s >/dev/null

if ! { [ -f "$DEMO/operator.pid" ] && kill -0 "$(cat "$DEMO/operator.pid")" 2>/dev/null; }; then
  KUBETRADE_METRICS_PORT=0 nohup "$PY" -m kubetrade_operator --standalone >"$DEMO/operator.log" 2>&1 &
  echo $! >"$DEMO/operator.pid"
fi
if ! { [ -f "$DEMO/node.pid" ] && kill -0 "$(cat "$DEMO/node.pid")" 2>/dev/null; }; then
  nohup "$PY" -m kubetrade_dev.local_node --kubeconfig "$KUBECONFIG" --workdir "$STATE/node" >"$DEMO/node.log" 2>&1 &
  echo $! >"$DEMO/node.pid"
fi

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -n "$NS" -f examples/

# The console runs as the demo's admin (its own account, which reviews tokens and
# impersonates); people sign in as demo-user, who may read and patch the demo's
# kubetrade resources and nothing else. On the local node a trader's SQLite store
# is at the state path itself (config files are not rewritten to pod folders).
kubectl apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: demo-user}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kubetrade-demo-user}
rules:
  - apiGroups: [kubetrade.io]
    resources: [datasets, trainingruns, models, tradingsessions]
    verbs: [get, list, watch, patch]
  - apiGroups: [""]
    resources: [events]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubetrade-demo-user}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kubetrade-demo-user}
subjects: [{kind: ServiceAccount, name: demo-user, namespace: $NS}]
YAML
if ! { [ -f "$DEMO/console.pid" ] && kill -0 "$(cat "$DEMO/console.pid")" 2>/dev/null; }; then
  "$PY" - "${CONSOLE_PORT:-8443}" >"$DEMO/console.port" <<'PY'
import socket, sys
wanted = int(sys.argv[1])
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", wanted))
    except OSError:  # taken: any free port
        s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
  STORE_DIR=$("$PY" -c 'from kubetrade_workloads.config.jobs import STATE_DIR; print(STATE_DIR)')
  nohup .venv/bin/trading-cli console --port "$(cat "$DEMO/console.port")" --kubeconfig "$KUBECONFIG" \
    --store-url "sqlite:///$STORE_DIR/trades.sqlite" >"$DEMO/console.log" 2>&1 &
  echo $! >"$DEMO/console.pid"
fi
CONSOLE="http://127.0.0.1:$(cat "$DEMO/console.port")"
echo
echo "Waiting (up to ${DEMO_TIMEOUT:-360}s) for the Dataset, the training, the Model's evaluation and the trader:"
if ! "$PY" -m kubetrade_dev.demo_watch -n "$NS" --timeout "${DEMO_TIMEOUT:-360}" \
  --dataset synthetic-daily --training-run ppo-synthetic --model ppo-synthetic --session paper-synthetic; then
  cat >&2 <<MSG

The demo did not reach trading. It keeps running so you can look:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:\$PATH
  kubectl get kubetrade,jobs,pods -n $NS; kubectl get events -n $NS
  tail $DEMO/operator.log $DEMO/node.log; ls $STATE/node/logs
Stop it with  make demo-stop
MSG
  exit 1
fi
echo "make demo: trading after ${SECONDS}s"
# The console promised below must answer: a demo that prints a dead URL fails.
if ! "$PY" - "$CONSOLE/healthz" <<'PY'
import sys, time, urllib.request
for _ in range(60):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as r:  # noqa: S310 - loopback
            sys.exit(0 if r.status == 200 else 1)
    except OSError:
        time.sleep(0.5)
sys.exit(1)
PY
then
  echo "error: the console did not answer at $CONSOLE; see $DEMO/console.log" >&2
  exit 1
fi
TOKEN=$(kubectl create token demo-user -n "$NS" --duration=24h)
cat <<MSG

The demo keeps running. Look around:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:\$PATH
  kubectl get kubetrade -n $NS
  kubectl describe datasets.kubetrade.io synthetic-daily -n $NS
  kubectl get jobs,pods -n $NS
  ls $STATE/node                      # the local node's pod folders, logs and artifacts
  tail -f $DEMO/operator.log $DEMO/node.log
  kubectl get events -n $NS          # every phase change is an Event
  kubectl get models.kubetrade.io ppo-synthetic -n $NS -o jsonpath='{.status.gates}'
The trader trades the Ready model on the synthetic stream (its Dataset's
features made live), one bar every 5 s, and shows equity, PnL and risk:
  kubectl get tradingsessions.kubetrade.io -n $NS -w
  .venv/bin/trading-cli deploy monitor --session-id paper-synthetic -n $NS
Suspend it (flatten, then stop) with
  kubectl patch tradingsessions.kubetrade.io paper-synthetic -n $NS --type merge -p '{"spec":{"suspend":true}}'

Console: $CONSOLE/ns/$NS
  sign in at $CONSOLE/login with demo-user's token (24 h; a new one: kubectl create token demo-user -n $NS):
  $TOKEN
  the session's page:  .venv/bin/trading-cli deploy monitor --session-id paper-synthetic -n $NS --dashboard --console-url $CONSOLE
  log: $DEMO/console.log
Stop everything (the console too) with:  make demo-stop
MSG
