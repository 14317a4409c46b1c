#!/usr/bin/env bash
# Build etcd, kube-apiserver, kube-controller-manager, kubectl and helm from the
# Go module proxy into a versioned cache outside the repository.
#
# k8s.io/kubernetes replaces its staging modules with ./staging paths, so it
# cannot be `go install`ed directly; a wrapper module that requires it and
# replaces each staging module by its published v0.X.Y twin builds it.
# A second run finds the binaries and returns in well under a second.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE_ROOT="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}"
BIN_DIR="$CACHE_ROOT/controlplane-k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-helm-${HELM_VERSION}/bin"
WANT=(etcd kube-apiserver kube-controller-manager kubectl helm)

have_all() {
  for b in "${WANT[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
}

if have_all; then
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "error: Go is required (go 1.26+)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
# Two builds at once (two test runs, or `make setup` beside `make binaries`)
# would write the same temporary files and one would fail on the other's mv:
# the first takes the lock and builds, the others wait and find the binaries.
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
if have_all; then
  echo "$BIN_DIR"
  exit 0
fi
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
work="$CACHE_ROOT/build"
mkdir -p "$work"

build_kubernetes() {
  local dir="$work/kubernetes-$K8S_VERSION" minor gomod
  mkdir -p "$dir"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  minor="${K8S_VERSION#v1.}"
  {
    printf 'module kubetrade.local/k8sbuild\n\ngo 1.26.0\n\ngodebug default=go1.26\n\nrequire k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
    go mod edit -json "$gomod" | python3 -c '
import json, sys
minor = sys.argv[1]
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        old = r["Old"]["Path"]
        print("replace", old, "=>", old, "v0." + minor)
' "$minor"
  } >"$dir/go.mod"
  printf 'package k8sbuild\n' >"$dir/doc.go"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=${minor%%.*} \
    -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION \
    -X k8s.io/client-go/pkg/version.gitMajor=1 \
    -X k8s.io/client-go/pkg/version.gitMinor=${minor%%.*}"
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    [ -x "$BIN_DIR/$cmd" ] && continue
    echo ">> building $cmd $K8S_VERSION" >&2
    (cd "$dir" && go build -trimpath -ldflags "$ld" -o "$BIN_DIR/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd"
  done
}

build_etcd() {
  [ -x "$BIN_DIR/etcd" ] && return 0
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  printf 'module kubetrade.local/etcdbuild\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$dir/go.mod"
  printf 'package etcdbuild\n' >"$dir/doc.go"
  echo ">> building etcd $ETCD_VERSION" >&2
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
}

build_helm() {
  [ -x "$BIN_DIR/helm" ] && return 0
  echo ">> building helm $HELM_VERSION" >&2
  GOBIN="$BIN_DIR" GOFLAGS= go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_etcd
build_kubernetes
build_helm
have_all
echo "$BIN_DIR"
