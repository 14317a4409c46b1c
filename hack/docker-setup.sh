#!/usr/bin/env bash
# Make a Docker daemon reachable: install Debian's docker.io when dockerd is missing,
# register the runc wrapper runtime where the host lacks CAP_SYS_RESOURCE (privileged
# containers, i.e. kind's nodes, fail to start without it), then start dockerd and wait
# for `docker info`. Idempotent: where Docker already answers, at most the wrapper is
# registered (and dockerd reloaded), nothing is installed or restarted.
#   bash hack/docker-setup.sh        (root, or a user whose Docker already runs)
# A user's laptop with Docker Desktop or a distribution's Docker needs none of this.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG=${DOCKERD_LOG:-/var/log/kubetrade-dockerd.log}
WAIT_S=${DOCKERD_WAIT_S:-60}

say() { echo "docker-setup: $*" >&2; }

# CAP_SYS_RESOURCE is capability 24; CapBnd is the bounding set in hexadecimal.
has_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  (((0x$bnd >> 24) & 1))
}
# The wrapper, its build and its daemon.json entry belong to the kind set-up (hack/kind/);
# it reloads a running dockerd itself, or leaves daemon.json for the start below.
REGISTER=hack/kind/register-runtime.sh
WRAPPER_RUNTIME=kubetrade-runc
register_wrapper() {
  has_sys_resource && return 0
  if [ ! -f "$REGISTER" ]; then
    say "the host lacks CAP_SYS_RESOURCE and $REGISTER is missing: ordinary containers and image builds work, privileged ones (kind's nodes) will not start"
    return 0
  fi
  say "the host lacks CAP_SYS_RESOURCE: registering the runc wrapper runtime ($REGISTER)"
  bash "$REGISTER"
}

if docker info >/dev/null 2>&1; then
  runtime=$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true)
  if [ "$(id -u)" = 0 ] && ! has_sys_resource && [ "$runtime" != "$WRAPPER_RUNTIME" ]; then
    register_wrapper
  fi
  say "a Docker daemon answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), runtime $(docker info --format '{{.DefaultRuntime}}' 2>/dev/null || echo '?'))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  say "no Docker daemon answers and installing or starting one needs root; start Docker and retry"
  exit 2
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io (dockerd, containerd, runc)"
  # An already running apt (another setup step) holds the lock; wait for it.
  for _ in $(seq 1 60); do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io; then
      break
    fi
    sleep 5
    apt-get update -qq || true
  done
  command -v dockerd >/dev/null 2>&1 || { say "apt-get install docker.io failed"; exit 1; }
fi
register_wrapper

if pgrep -x dockerd >/dev/null 2>&1; then
  say "dockerd runs but does not answer yet; waiting"
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl restart docker
else
  # No systemd here (a container or a minimal VM): run dockerd in the background. The
  # daemon keeps its state under /var/lib/docker, so image layers survive a restart.
  say "starting dockerd (log: $LOG)"
  nohup dockerd >>"$LOG" 2>&1 &
fi
for _ in $(seq 1 "$WAIT_S"); do
  if docker info >/dev/null 2>&1; then
    say "Docker $(docker version --format '{{.Server.Version}}') is up"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within ${WAIT_S}s; see $LOG"
exit 1
