#!/usr/bin/env bash
# The local control plane from a shell: hack/cluster.sh up|down|status [--state-dir DIR]
# (same as `make` does: python -m kubetrade_dev.controlplane with hack/ on PYTHONPATH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PY:-$root/.venv/bin/python}"
[ -x "$py" ] || py=python3
export PYTHONPATH="$root/hack${PYTHONPATH:+:$PYTHONPATH}"
exec "$py" -m kubetrade_dev.controlplane "$@"
