#!/usr/bin/env bash
# Build versitygw (an Apache-2.0 S3 gateway; its posix backend serves a folder as
# buckets) from the Go module proxy into a versioned cache outside the repository.
# The s3:// tests (tests/kubetrade_testing/s3.py) and hack/kind/s3-server.sh run it.
#   bash hack/build-s3-server.sh           prints the binary's path; builds it once
#   bash hack/build-s3-server.sh --where   prints the path it would have, builds nothing
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
CACHE_ROOT="${KUBETRADE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrade}"
BIN_DIR="$CACHE_ROOT/s3-versitygw-${VERSITYGW_VERSION}/bin"
BINARY="$BIN_DIR/versitygw"

if [ "${1:-}" = "--where" ] || [ -x "$BINARY" ]; then
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null || { echo "error: Go is required (go 1.26+)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
# The same lock as hack/build-control-plane.sh: `make setup` beside a test run, or two
# runs, build once; the others wait and find the binary.
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
if [ -x "$BINARY" ]; then
  echo "$BINARY"
  exit 0
fi
echo ">> building versitygw $VERSITYGW_VERSION" >&2
# GOBIN installs under the module's own name; a temporary folder keeps a failed
# build from leaving a binary that the check above would trust.
tmp=$(mktemp -d "$BIN_DIR/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" GOTOOLCHAIN=local CGO_ENABLED=0 \
  go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
mv "$tmp/versitygw" "$BINARY"
echo "$BINARY"
