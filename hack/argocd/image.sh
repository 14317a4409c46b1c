#!/usr/bin/env bash
# Build kubetrade.local/argocd:v3.6.2 (hack/argocd/Dockerfile): Argo CD built from
# the Go module proxy (hack/argocd/build.sh), helm from the control plane's cache,
# git and redis-server from Debian, and a git repository committed now from the
# working tree: charts/kubetrade, examples/ and e2e/health/ (hack/argocd/health/).
#   bash hack/argocd/image.sh    prints the image name
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${ARGOCD_IMAGE:-kubetrade.local/argocd:v3.6.2}
say() { echo "argocd-image: $*" >&2; }

argocd=$(bash hack/argocd/build.sh)
helm="$(bash hack/build-control-plane.sh)/helm"
if [ -z "${BASE_IMAGE:-}" ]; then
  BASE_IMAGE=$(bash hack/base-image.sh)
fi

ctx=$(mktemp -d /var/tmp/kubetrade-argocd.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
# A hard link where the cache shares the file system (no 231 MB copy), else a copy.
ln "$argocd" "$ctx/argocd" 2>/dev/null || cp "$argocd" "$ctx/argocd"
cp "$helm" "$ctx/helm"
# The repo server runs git-verify-wrapper.sh on every revision it checks out (GPG off
# or not) and fails the manifest without it; upstream's image carries both wrappers.
src="$(dirname "$argocd")/../src"
cp "$src/hack/git-verify-wrapper.sh" "$src/hack/gpg-wrapper.sh" "$ctx/"
# The module zip keeps no file modes.
chmod 0755 "$ctx/git-verify-wrapper.sh" "$ctx/gpg-wrapper.sh"

# The repository Argo CD syncs from: what the working tree holds now, one commit.
work="$ctx/work"
mkdir -p "$work/charts" "$work/e2e"
cp -r charts/kubetrade "$work/charts/"
cp -r examples "$work/"
cp -r hack/argocd/health "$work/e2e/"
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name=kubetrade -c user.email=kubetrade@localhost \
  commit -q -m "kubetrade at $(git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree)"
git clone -q --bare "$work" "$ctx/kubetrade.git"
rm -rf "$work"

cp hack/argocd/Dockerfile "$ctx/Dockerfile"
say "building $IMAGE (base $BASE_IMAGE)"
docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" "$ctx" >&2
say "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE") bytes)"
echo "$IMAGE"
