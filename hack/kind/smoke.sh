#!/usr/bin/env bash
# Prove a kind cluster made from hack/kind/node-image.sh works: in a namespace
# enforcing the `restricted` Pod Security Standard, a non-root pod with a
# RuntimeDefault seccomp profile gets a PVC from the default StorageClass,
# writes to it, and resolves a Service name through CoreDNS and kube-proxy.
#   bash hack/kind/smoke.sh [kubectl context]      (default: the current one)
# Uses the provisioner's busybox helper image, which the node preloads.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
CTX=${1:-}
k() { if [ -n "$CTX" ]; then kubectl --context "$CTX" "$@"; else kubectl "$@"; fi; }
NS=kind-smoke
k delete namespace "$NS" --ignore-not-found --wait >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels: {pod-security.kubernetes.io/enforce: restricted}
YAML
# On a new cluster the namespace's default ServiceAccount comes a moment later,
# and a pod created before it is refused.
for _ in $(seq 1 60); do
  k -n "$NS" get serviceaccount default >/dev/null 2>&1 && break
  sleep 1
done
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: smoke, namespace: $NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: smoke, namespace: $NS}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: smoke
      image: kubetrade.local/local-path-helper:$DEBIAN_SUITE
      imagePullPolicy: Never
      command: [sh, -euc, 'echo written > /data/f; cat /data/f; nslookup kubernetes.default.svc.cluster.local; grep Seccomp: /proc/self/status']
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: data, mountPath: /data}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: smoke}
YAML
if ! k -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded pod/smoke --timeout=120s >/dev/null; then
  k -n "$NS" describe pod/smoke >&2
  k -n "$NS" logs pod/smoke >&2 || true
  echo "smoke: the pod did not succeed" >&2
  exit 1
fi
out=$(k -n "$NS" logs pod/smoke)
echo "$out"
if ! { grep -qx written <<<"$out" && grep -q 'Address: *10.96.0.1$' <<<"$out" && grep -q 'Seccomp:.*2' <<<"$out"; }; then
  echo "smoke: unexpected output" >&2
  exit 1
fi
k delete namespace "$NS" --wait=false >/dev/null
echo "smoke: ok (PVC, CoreDNS through the Service VIP, restricted + seccomp)"
