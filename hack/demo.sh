#!/usr/bin/env bash
# `make demo`: a local control plane, the operator and the local node, then
# examples/ applied and watched until the Dataset finishes. Everything keeps
# running afterwards so you can look around; `make demo-stop` ends it.
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
echo
for i in $(seq 60); do
  clear 2>/dev/null || true
  echo "kubectl get kubetrade -n $NS   (refreshing, $((i * 2))s)"
  kubectl get kubetrade -n "$NS"
  phase=$(kubectl get datasets.kubetrade.io synthetic-daily -n "$NS" -o jsonpath='{.status.phase}' 2>/dev/null || true)
  case "$phase" in Succeeded|Failed) break ;; esac
  sleep 2
done
echo
kubectl get datasets.kubetrade.io synthetic-daily -n "$NS" -o jsonpath='{range .status.conditions[*]}{.type}={.status} ({.reason}) {.message}{"\n"}{end}'
cat <<MSG

The demo keeps running. Look around:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:\$PATH
  kubectl get kubetrade -n $NS
  kubectl describe datasets.kubetrade.io synthetic-daily -n $NS
  kubectl get jobs,pods -n $NS
  ls $STATE/node                      # the local node's pod folders, logs and artifacts
  tail -f $DEMO/operator.log $DEMO/node.log
The TrainingRun trains PPO next (about a minute here) and the Model is
evaluated and promoted; follow it with  kubectl get kubetrade -n $NS -w
(phase changes are Events: kubectl get events -n $NS). The TradingSession then
starts its trader, which trades the promoted model on the synthetic stream
(its Dataset features made live) and shows equity, PnL and risk:
  kubectl get tradingsessions.kubetrade.io -n $NS -w
  .venv/bin/trading-cli deploy monitor --session-id paper-synthetic -n $NS
Suspend it (flatten, then stop) with
  kubectl patch tradingsessions.kubetrade.io paper-synthetic -n $NS --type merge -p '{"spec":{"suspend":true}}'
Stop everything with:  make demo-stop
MSG
