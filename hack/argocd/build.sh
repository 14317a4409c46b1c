#!/usr/bin/env bash
# Build Argo CD (one binary: it acts as argocd-application-controller,
# argocd-repo-server, ... by the name it is started as) from the Go module proxy,
# for machines with no image registry (ours). Cached: skipped when the binary exists.
#   bash hack/argocd/build.sh          prints the binary's path
#   FORCE=1 bash hack/argocd/build.sh  rebuilds it
# About 10 minutes on 2 cores, cold.
set -euo pipefail

ARGOCD_VERSION=${ARGOCD_VERSION:-v3.6.2}
# v3.6.2's go.mod asks for go 1.27.3; the go command fetches that toolchain from the
# proxy. Set here, never in a go.mod of ours.
ARGOCD_GOTOOLCHAIN=${ARGOCD_GOTOOLCHAIN:-go1.27.3}
CACHE_ROOT="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}"
ARGOCD_CACHE=${ARGOCD_CACHE:-$CACHE_ROOT/argocd}
BIN="$ARGOCD_CACHE/bin/argocd"

say() { echo "argocd-build: $*" >&2; }

if [ -z "${FORCE:-}" ] && [ -x "$BIN" ]; then
  say "$BIN exists (FORCE=1 rebuilds it)"
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null 2>&1 || { say "needs the go command (any version: it fetches $ARGOCD_GOTOOLCHAIN)"; exit 2; }

# `go mod download -json` prints the module's directory in the module cache.
module_dir() {
  (cd / && GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN go mod download -json "$1") \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}

say "downloading github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION"
src_mod=$(module_dir "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION")
# The module zip leaves out the nested gitops-engine module (its own go.mod), which
# argo-cd's go.mod replaces with ./gitops-engine: it comes as a module of its own.
say "downloading github.com/argoproj/argo-cd/gitops-engine/v3@$ARGOCD_VERSION"
engine_mod=$(module_dir "github.com/argoproj/argo-cd/gitops-engine/v3@$ARGOCD_VERSION")
if [ -z "$src_mod" ] || [ -z "$engine_mod" ]; then
  say "go mod download gave no module directory"
  exit 1
fi

src="$ARGOCD_CACHE/src"
rm -rf "$src"
mkdir -p "$ARGOCD_CACHE/bin"
# The module cache is read-only; the build writes go.sum updates into the copy.
cp -r "$src_mod" "$src"
cp -r "$engine_mod" "$src/gitops-engine"
chmod -R u+w "$src"

say "building $BIN (about 10 minutes on 2 cores)"
(cd "$src" && GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go build -o "$BIN.tmp" ./cmd) >&2
mv "$BIN.tmp" "$BIN"
say "built $BIN ($(stat -c %s "$BIN") bytes)"
echo "$BIN"
