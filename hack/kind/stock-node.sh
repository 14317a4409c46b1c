#!/usr/bin/env bash
# Print the node image kind $KIND_VERSION uses by default (kindest/node, pinned by
# digest), read from kind's own source in the Go module cache.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kind/versions.sh
. "$HERE/versions.sh"
dir=$(cd /tmp && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
grep -o 'kindest/node:[^"]*' "$dir/pkg/apis/config/defaults/image.go"
