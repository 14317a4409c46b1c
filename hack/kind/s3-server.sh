#!/usr/bin/env bash
# An S3 server in a kind cluster, for `make kind-e2e`'s s3 pass: versitygw (built by
# hack/build-s3-server.sh) in a small image on the local base, loaded into the nodes,
# run in kubetrade-system (Deployment + Service, emptyDir data, restricted Pod
# Security), with a bucket and, in each workload NAMESPACE, the Secret of its keys.
# Prints the `helm upgrade` arguments (one a line) that switch the operator to it.
#   bash hack/kind/s3-server.sh CLUSTER NAMESPACE...
# Needs kubectl on PATH and KUBECONFIG pointing at the cluster (hack/kind-e2e.sh has both).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 CLUSTER NAMESPACE..." >&2; exit 2; }
cluster=$1
shift

SYSTEM=kubetrade-system
NAME=kubetrade-s3
PORT=7070
BUCKET=${S3_BUCKET:-kubetrade}
REGION=us-east-1
# Stdout is only the helm arguments (kind-e2e.sh reads them); all else, ctr's import
# lines included, goes to stderr.
exec 3>&1 1>&2
say() { echo "s3-server: $*" >&2; }
context="" log="" forward=""
cleanup() {
  if [ -n "$forward" ]; then kill "$forward" 2>/dev/null || true; fi
  rm -rf "$context" "$log"
}
trap cleanup EXIT

binary=$(bash hack/build-s3-server.sh)
version=$(basename "$(dirname "$(dirname "$binary")")")   # s3-versitygw-vX.Y.Z
IMAGE=kubetrade.local/s3-server:${version#s3-versitygw-}
# Not under images/: those are the project's three shipped images (tests/unit/ship).
# The binary is static (CGO_ENABLED=0); the base only gives it a user and CA roots.
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  base=${BASE_IMAGE:-$(bash hack/base-image.sh)}
  context=$(mktemp -d)
  cp "$binary" "$context/versitygw"
  say "building $IMAGE from $base"
  docker build -q -t "$IMAGE" -f - "$context" >&2 <<DOCKERFILE
FROM $base
COPY versitygw /usr/local/bin/versitygw
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/versitygw"]
DOCKERFILE
fi
bash hack/kind/load-image.sh "$cluster" "$IMAGE"

# The keys: made once per cluster and kept in kubetrade-system, so a second run
# (KEEP_CLUSTER=1) finds the server's and the namespaces' Secrets in agreement.
if ! kubectl -n "$SYSTEM" get secret "$NAME" >/dev/null 2>&1; then
  kubectl -n "$SYSTEM" create secret generic "$NAME" \
    --from-literal=AWS_ACCESS_KEY_ID="kubetrade$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" \
    --from-literal=AWS_SECRET_ACCESS_KEY="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >&2
fi
key() { kubectl -n "$SYSTEM" get secret "$NAME" -o "jsonpath={.data.$1}" | base64 -d; }
access=$(key AWS_ACCESS_KEY_ID)
secret=$(key AWS_SECRET_ACCESS_KEY)

kubectl apply -n "$SYSTEM" -f - >&2 <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $NAME, labels: {app.kubernetes.io/name: $NAME}}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: $NAME}}
  template:
    metadata: {labels: {app.kubernetes.io/name: $NAME}}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: versitygw
          image: $IMAGE
          imagePullPolicy: Never
          args: [--port, ":$PORT", --region, $REGION, --quiet, posix, /data]
          env:
            - name: ROOT_ACCESS_KEY_ID
              valueFrom: {secretKeyRef: {name: $NAME, key: AWS_ACCESS_KEY_ID}}
            - name: ROOT_SECRET_ACCESS_KEY
              valueFrom: {secretKeyRef: {name: $NAME, key: AWS_SECRET_ACCESS_KEY}}
          ports: [{name: s3, containerPort: $PORT}]
          # An unsigned request gets a 403, so the probe only asks for the port.
          readinessProbe: {tcpSocket: {port: s3}, periodSeconds: 2}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: $NAME, labels: {app.kubernetes.io/name: $NAME}}
spec:
  selector: {app.kubernetes.io/name: $NAME}
  ports: [{name: s3, port: $PORT, targetPort: s3}]
YAML
kubectl -n "$SYSTEM" rollout status "deployment/$NAME" --timeout=180s >&2

# The bucket, through the S3 API (versitygw keeps its owner in the folder's xattrs).
log=$(mktemp)
kubectl -n "$SYSTEM" port-forward "svc/$NAME" ":$PORT" >"$log" 2>&1 &
forward=$!
local_port=""
for _ in $(seq 100); do
  local_port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -n1)
  [ -n "$local_port" ] && break
  sleep 0.1
done
[ -n "$local_port" ] || { cat "$log" >&2; say "kubectl port-forward failed"; exit 1; }
AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret \
  AWS_ENDPOINT_URL="http://127.0.0.1:$local_port" .venv/bin/python -c '
import sys, fsspec
fs = fsspec.filesystem("s3")
if not fs.exists(sys.argv[1]):
    fs.mkdir(sys.argv[1])
' "$BUCKET"
say "bucket $BUCKET at http://$NAME.$SYSTEM.svc:$PORT"

for ns in "$@"; do
  kubectl -n "$ns" create secret generic "$NAME" \
    --from-literal=AWS_ACCESS_KEY_ID="$access" --from-literal=AWS_SECRET_ACCESS_KEY="$secret" \
    --dry-run=client -o yaml | kubectl apply -f - >&2
done

cat >&3 <<ARGS
--set=artifactRoot=s3://$BUCKET/e2e
--set=artifactS3.endpoint=http://$NAME.$SYSTEM.svc:$PORT
--set=artifactS3.region=$REGION
--set=artifactS3.secretName=$NAME
ARGS
