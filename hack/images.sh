#!/usr/bin/env bash
# Build the three images under images/ (make images). Needs Docker; fails fast without it.
#   REGISTRY=ghcr.io/kubetrade TAG=0.1.0 bash hack/images.sh [operator workload workload-gpu]
# BASE_IMAGE: the images' base. Unset, the Dockerfiles' default (python:3.11-slim-bookworm)
#   is used when it is present or can be pulled, and otherwise a base made locally from
#   Debian packages (hack/base-image.sh), for machines with no image registry.
# TORCH_INDEX_URL: where the CPU workload image gets torch. Unset, PyTorch's CPU index
#   when it answers, and otherwise PyPI's wheel (the CUDA build: gigabytes more).
# CA_BUNDLE: a CA bundle passed to pip in the build as a BuildKit secret (never a layer);
#   defaults to PIP_CERT or the system bundle.
# NO_CACHE=1: build without the layer cache (how the cold times in docs/BENCHMARKS.md are taken).
# IMAGES_REPORT: a file to append "name<TAB>seconds<TAB>bytes" to, one line an image.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1; then
  echo "make images: docker is not installed; build these images on a machine with Docker (see docs/operations.md)" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "make images: \`docker info\` failed: no Docker daemon is reachable; start Docker (hack/docker-setup.sh) and retry" >&2
  exit 2
fi

REGISTRY=${REGISTRY:-ghcr.io/kubetrade}
TAG=${TAG:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}
DEFAULT_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' images/operator/Dockerfile)
CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(operator workload workload-gpu)

# The Dockerfiles mount a secret (RUN --mount), which needs BuildKit. Docker 23+ builds
# with BuildKit through the buildx plugin; where that plugin is missing, an older CLI
# (Debian's docker.io 20.10) has BuildKit built in behind DOCKER_BUILDKIT=1.
DOCKER=${DOCKER:-docker}
if ! "$DOCKER" buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=1
  client=$("$DOCKER" version --format '{{.Client.Version}}' 2>/dev/null || echo 0)
  if [ "${client%%.*}" -ge 23 ] 2>/dev/null && [ -x /usr/bin/docker ] && [ "$(command -v "$DOCKER")" != /usr/bin/docker ]; then
    echo "images: $DOCKER $client has no buildx plugin; building with /usr/bin/docker's built-in BuildKit" >&2
    DOCKER=/usr/bin/docker
  fi
fi

if [ -z "${BASE_IMAGE:-}" ]; then
  if "$DOCKER" image inspect "$DEFAULT_BASE" >/dev/null 2>&1 \
    || timeout "${PULL_TIMEOUT_S:-60}" "$DOCKER" pull --quiet "$DEFAULT_BASE" >/dev/null 2>&1; then
    BASE_IMAGE=$DEFAULT_BASE
  else
    echo "images: $DEFAULT_BASE cannot be pulled; using a base made from Debian packages (hack/base-image.sh)" >&2
    BASE_IMAGE=$(bash hack/base-image.sh)
  fi
fi

if [ -z "${TORCH_INDEX_URL+set}" ]; then
  if curl -fsS --max-time 10 -o /dev/null "$CPU_TORCH_INDEX/torch/" 2>/dev/null; then
    TORCH_INDEX_URL=$CPU_TORCH_INDEX
  else
    echo "images: $CPU_TORCH_INDEX is unreachable; the CPU workload image takes PyPI's torch (the CUDA build, gigabytes larger)" >&2
    TORCH_INDEX_URL=
  fi
fi

CA_BUNDLE=${CA_BUNDLE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[ ! -s "$CA_BUNDLE" ] || build_args+=(--secret "id=ca,src=$CA_BUNDLE")
[ -z "${NO_CACHE:-}" ] || build_args+=(--no-cache)

for name in "${names[@]}"; do
  image="$REGISTRY/$name:$TAG"
  extra=()
  [ "$name" != workload ] || extra=(--build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL")
  echo "==> $image (base $BASE_IMAGE)"
  start=$(date +%s)
  # The label marks kubetrade's builds, so the untagged ones a rebuild leaves behind
  # (6.8 GB each for the workload) can be removed below without touching others'.
  "$DOCKER" build "${build_args[@]}" "${extra[@]}" --label "io.kubetrade.image=$name" \
    -f "images/$name/Dockerfile" -t "$image" .
  seconds=$(($(date +%s) - start))
  # Each image must start as the pods run it: non-root, read-only root, no capabilities.
  if ! "$DOCKER" run --rm --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    --user 10001:10001 "$image" --help >/dev/null; then
    echo "images: $image does not start read-only as uid 10001 (\`$image --help\` failed)" >&2
    exit 1
  fi
  bytes=$("$DOCKER" image inspect --format '{{.Size}}' "$image" 2>/dev/null || echo '?')
  echo "==> $image built in ${seconds}s, ${bytes} bytes"
  [ -z "${IMAGES_REPORT:-}" ] || printf '%s\t%s\t%s\n' "$name" "$seconds" "$bytes" >>"$IMAGES_REPORT"
done
# Earlier builds of these images, now untagged: a few rebuilds of the workload image
# filled a 250 GB disk here.
"$DOCKER" image prune --force --filter "label=io.kubetrade.image" >/dev/null
# And their build cache, which grew by tens of GB over a day of rebuilds here and left
# kind-e2e short of room: the most recently used layers are kept (least used first out).
"$DOCKER" builder prune --force --keep-storage "${KUBETRADE_BUILD_CACHE_KEEP:-10GB}" >/dev/null
