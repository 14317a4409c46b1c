#!/usr/bin/env bash
# Build the three images under images/ (make images). Needs Docker; fails fast without it.
#   REGISTRY=ghcr.io/kubetrade TAG=0.1.0 bash hack/images.sh [operator workload workload-gpu]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1; then
  echo "make images: docker is not installed; build these images on a machine with Docker (see docs/operations.md)" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "make images: \`docker info\` failed: no Docker daemon is reachable; start Docker and retry" >&2
  exit 2
fi

REGISTRY=${REGISTRY:-ghcr.io/kubetrade}
TAG=${TAG:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(operator workload workload-gpu)
for name in "${names[@]}"; do
  echo "==> $REGISTRY/$name:$TAG"
  docker build -f "images/$name/Dockerfile" -t "$REGISTRY/$name:$TAG" .
done
