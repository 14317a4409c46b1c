# Sourced by the scripts that run a suite in a kind cluster (kind-e2e.sh,
# argocd-e2e.sh) with E2E (their name, for messages) and E2E_MIN_FREE_GB set:
# phase timing, a running Docker daemon, room on its disk, kind, kubectl and helm.
# Each check that fails stops the caller at once (exit 2) with a message saying why.
# shellcheck shell=bash

# Each phase's wall time, for docs/BENCHMARKS.md (cold and warm runs).
T0=$(date +%s)
T=$T0
phase() {
  local now
  now=$(date +%s)
  echo "$E2E: $1 took $((now - T)) s (total $((now - T0)) s)" >&2
  T=$now
}

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "make $E2E: needs a running Docker daemon, and \`docker info\` failed here." >&2
  echo "  kind runs Kubernetes nodes as Docker containers; on machines without Docker use" >&2
  echo "  \`make test-e2e\` (the local control plane and local node) instead." >&2
  exit 2
fi
# Room for the images, their copies in the node and the export between them: say so
# plainly rather than fail half-way with "no space left on device".
DOCKER_ROOT=$(docker info --format '{{.DockerRootDir}}')
FREE_GB=$(df -Pk "$DOCKER_ROOT" | awk 'NR == 2 { print int($4 / 1048576) }')
if [ "$FREE_GB" -lt "$E2E_MIN_FREE_GB" ]; then
  echo "make $E2E: $FREE_GB GB free under $DOCKER_ROOT; it needs about $E2E_MIN_FREE_GB GB." >&2
  echo "  \`docker image prune\` and \`docker builder prune\` reclaim earlier builds." >&2
  exit 2
fi

# shellcheck source=hack/kind/versions.sh
. hack/kind/versions.sh
if ! command -v kind >/dev/null 2>&1; then
  if [ -x "$KIND_BIN/kind" ]; then
    # Built with the node image's binaries (hack/kind/build-binaries.sh), at KIND_VERSION.
    # Reinstalling it changed its mtime, part of node-image.sh's cache key: every run
    # then re-assembled the node image (34 to 38 s).
    export PATH="$KIND_BIN:$PATH"
  elif command -v go >/dev/null 2>&1; then
    GOBIN="$KIND_BIN" GOTOOLCHAIN=local CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION"
    export PATH="$KIND_BIN:$PATH"
  else
    echo "make $E2E: kind is not on PATH; install it with \`go install sigs.k8s.io/kind@$KIND_VERSION\`" >&2
    exit 2
  fi
fi

BIN=$(bash hack/build-control-plane.sh) # kubectl and helm
export PATH="$BIN:$PATH"
phase "kind, kubectl and helm"
