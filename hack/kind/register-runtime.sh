#!/usr/bin/env bash
# Register the runc wrapper (hack/kind/cmd/runc-wrapper) as dockerd's default
# runtime, on hosts whose capability bounding set lacks CAP_SYS_RESOURCE: there
# every --privileged container (kind's nodes) fails with "unable to apply caps:
# operation not permitted". kind cannot pick a runtime per container, hence
# "default-runtime". A running dockerd reloads both keys on SIGHUP.
#   bash hack/kind/register-runtime.sh          (root; called by hack/docker-setup.sh)
#   FORCE=1 bash hack/kind/register-runtime.sh  register even where the host has it
# A user's machine has the capability and needs none of this.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=kubetrade-runc
DEST=${RUNC_WRAPPER_PATH:-/usr/local/libexec/kubetrade/runc-wrapper}
DAEMON_JSON=${DAEMON_JSON:-/etc/docker/daemon.json}
say() { echo "register-runtime: $*" >&2; }

bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (((0x$bnd >> 24) & 1)) && [ -z "${FORCE:-}" ]; then
  say "the host has CAP_SYS_RESOURCE: docker's own runc is enough"
  exit 0
fi
command -v go >/dev/null || { say "Go is needed to build the wrapper"; exit 1; }
mkdir -p "$(dirname "$DEST")"
(cd "$HERE" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$DEST.tmp" ./cmd/runc-wrapper)
mv "$DEST.tmp" "$DEST"

mkdir -p "$(dirname "$DAEMON_JSON")"
python3 - "$DAEMON_JSON" "$NAME" "$DEST" <<'PY'
import json, os, sys
path, name, dest = sys.argv[1:]
conf = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else {}
conf.setdefault("runtimes", {})[name] = {"path": dest}
conf["default-runtime"] = name
with open(path + ".tmp", "w") as f:
    json.dump(conf, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
PY
say "$DAEMON_JSON: default-runtime $NAME -> $DEST"

if pid=$(pgrep -xo dockerd); then
  kill -HUP "$pid"
  for _ in $(seq 1 20); do
    [ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" = "$NAME" ] && { say "dockerd reloaded"; exit 0; }
    sleep 0.5
  done
  say "dockerd (pid $pid) did not take $NAME as its default runtime; restart it"
  exit 1
fi
