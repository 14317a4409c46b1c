"""A real Kubernetes control plane run as local processes, envtest-style.

etcd, kube-apiserver and kube-controller-manager run on free loopback ports with
certificates generated into a state directory; an admin kubeconfig there lets
kubectl, kopf, the ``kubernetes`` client and lightkube talk to it. Nothing runs
pods (see ``local_node`` for that). Each start is a fresh, empty cluster.

Command line (state dir defaults to ``.kubetrade/cluster`` in the repository)::

    python -m kubetrade_dev.controlplane up|down|status [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from kubetrade_dev import kubeconfig, processes
from kubetrade_dev.certs import Pki, write_pki
from kubetrade_dev.processes import Component

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".kubetrade" / "cluster"
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-control-plane.sh"
BIN_DIR_ENV = "KUBETRADE_BIN_DIR"
REQUIRED_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
PIDS_FILE = "pids.json"
_START_ATTEMPTS = 3

Probe = Callable[[], tuple[bool, str]]


class StartupError(RuntimeError):
    """A component did not come up; the message ends with the tail of its log."""

    def __init__(self, message: str, component: Component) -> None:
        tail = processes.log_tail(component.log)
        super().__init__(f"{message}\n--- last lines of {component.log} ---\n{tail}")
        self.component = component


def find_bin_dir() -> Path:
    """The directory holding etcd, kube-apiserver, kube-controller-manager, kubectl
    and helm: ``$KUBETRADE_BIN_DIR``, else what hack/build-control-plane.sh prints
    (it builds them on first use, which takes many minutes, then answers at once)."""
    env_dir = os.environ.get(BIN_DIR_ENV)
    if env_dir:
        bin_dir = Path(env_dir)
    else:
        # stderr is inherited so a first, long build shows its progress.
        result = subprocess.run(
            ["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False
        )
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            raise RuntimeError(f"{BUILD_SCRIPT} failed with exit code {result.returncode}")
        bin_dir = Path(lines[-1])
    missing = [b for b in REQUIRED_BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        raise FileNotFoundError(f"missing in {bin_dir}: {', '.join(missing)}")
    return bin_dir


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        # All sockets stay bound until every port is chosen, so they differ.
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def _client_context(pki: Pki) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    return ctx


def _get(port: int, path: str, ctx: ssl.SSLContext | None) -> tuple[int, str]:
    conn: http.client.HTTPConnection
    if ctx is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=ctx)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _status_probe(port: int, path: str, ctx: ssl.SSLContext | None, want: str = "") -> Probe:
    def probe() -> tuple[bool, str]:
        status, body = _get(port, path, ctx)
        return status == 200 and want in body, f"HTTP {status}: {body.strip()[:300]}"

    return probe


def wait_for(component: Component, probe: Probe, what: str, timeout: float) -> None:
    """Poll ``probe`` until it succeeds; fail fast if the component exits."""
    deadline = time.monotonic() + timeout
    last = "not probed yet"
    while True:
        code = component.exit_code()
        if code is not None:
            raise StartupError(f"{component.name} exited with code {code} ({what})", component)
        try:
            ok, last = probe()
        except (OSError, http.client.HTTPException) as exc:
            ok, last = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return
        if time.monotonic() > deadline:
            raise StartupError(f"{what}: not ready after {timeout:.0f}s, last: {last}", component)
        time.sleep(0.1)


def _child_env() -> dict[str, str]:
    # etcd reads any ETCD_* variable as a flag and a stray KUBECONFIG could
    # point a component elsewhere; the cluster must not depend on the caller.
    return {k: v for k, v in os.environ.items() if not k.startswith("ETCD_") and k != "KUBECONFIG"}


def cluster_env(kubeconfig_path: Path, bin_dir: Path) -> dict[str, str]:
    """A copy of os.environ with KUBECONFIG set and ``bin_dir`` (kubectl, helm)
    first on PATH, for subprocesses that talk to a cluster."""
    env = dict(os.environ)
    env["KUBECONFIG"] = str(kubeconfig_path)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    return env


@dataclass(frozen=True)
class Ports:
    """Loopback ports of one cluster."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int

    @classmethod
    def pick(cls) -> Ports:
        """Four free ports."""
        return cls(*free_ports(4))


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager on loopback.

    ``start()`` wipes ``state_dir`` (a fresh cluster each time), starts the three
    processes, waits until they serve, and writes ``state_dir/kubeconfig``;
    ``stop()`` ends them all. Also a context manager.
    """

    def __init__(
        self,
        state_dir: Path,
        bin_dir: Path,
        *,
        start_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        die_with_parent: bool = True,
        concurrent_job_syncs: int = 20,
    ) -> None:
        """``die_with_parent``: the kernel SIGKILLs the processes when the thread
        that started them ends (so a killed test run leaves nothing behind); turn
        it off for processes meant to outlive the caller, and leave it off when
        starting from a short-lived worker thread."""
        self.state_dir = state_dir.resolve()
        self.bin_dir = bin_dir.resolve()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self.concurrent_job_syncs = concurrent_job_syncs
        self.pki = Pki.in_dir(self.state_dir / "pki")
        self.components: list[Component] = []
        self._ports: Ports | None = None

    @property
    def kubeconfig(self) -> Path:
        """Path of the admin kubeconfig (context ``kubetrade-local``)."""
        return self.state_dir / "kubeconfig"

    @property
    def ports(self) -> Ports:
        """The ports in use; only after start()."""
        if self._ports is None:
            raise RuntimeError("control plane not started")
        return self._ports

    @property
    def server(self) -> str:
        """The API server URL; only after start()."""
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def env(self) -> dict[str, str]:
        """A copy of os.environ with KUBECONFIG set to this cluster and the bin dir
        (kubectl, helm) first on PATH, for subprocesses."""
        return cluster_env(self.kubeconfig, self.bin_dir)

    def start(self) -> None:
        """Start a fresh cluster and wait until it serves, or raise StartupError."""
        if self.components:
            raise RuntimeError("control plane already started")
        # Leftovers of a run that was killed before it could clean up would
        # hold the data dir and waste memory.
        stop_recorded(self.state_dir, self.stop_timeout)
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except StartupError as exc:
                # A port picked as free can be taken before the component binds
                # it (by another cluster, or as some connection's local port).
                if attempt == _START_ATTEMPTS or "address already in use" not in str(exc):
                    raise

    def _start_once(self) -> None:
        self._reset_state_dir()
        write_pki(self.pki.directory)
        self._ports = Ports.pick()
        try:
            self._start_etcd()
            self._start_apiserver()
            kubeconfig.write(self.kubeconfig, self.server, self.pki)
            self._start_controller_manager()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process (SIGTERM, SIGKILL after stop_timeout); idempotent."""
        _stop_in_order(self.components, self.stop_timeout)
        self.components = []
        (self.state_dir / PIDS_FILE).unlink(missing_ok=True)

    def is_running(self) -> bool:
        """Whether all processes started here are still alive."""
        return bool(self.components) and all(c.is_running() for c in self.components)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _reset_state_dir(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.state_dir / "etcd", ignore_errors=True)
        shutil.rmtree(self.pki.directory, ignore_errors=True)
        for stale in [self.kubeconfig, *self.state_dir.glob("*.log")]:
            stale.unlink(missing_ok=True)

    def _spawn(self, name: str, args: Sequence[str]) -> Component:
        component = processes.spawn(
            name,
            [str(self.bin_dir / name), *args],
            self.state_dir / f"{name}.log",
            env=_child_env(),
            die_with_parent=self.die_with_parent,
        )
        self.components.append(component)
        # Recorded at once, so `down` finds every process even if the caller
        # dies before start() returns.
        processes.save(
            self.state_dir / PIDS_FILE,
            self.components,
            server=self.server,
            kubeconfig=str(self.kubeconfig),
        )
        return component

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.ports.etcd_client}"
        peer = f"http://127.0.0.1:{self.ports.etcd_peer}"
        etcd = self._spawn(
            "etcd",
            [
                "--name=kubetrade",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=kubetrade={peer}",
                # A throw-away cluster: durability is not worth an fsync per write.
                "--unsafe-no-fsync=true",
            ],
        )
        probe = _status_probe(self.ports.etcd_client, "/health", None, want='"true"')
        wait_for(etcd, probe, "etcd /health", self.start_timeout)

    def _start_apiserver(self) -> None:
        port = self.ports.apiserver
        pki = self.pki
        # Flags as controller-runtime's envtest passes them, with RBAC.
        apiserver = self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{self.ports.etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={pki.directory}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=RBAC",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--allow-privileged=true",
                # Nothing mints service-account tokens into pods here (no
                # kubelet), so pods must not require one.
                "--disable-admission-plugins=ServiceAccount",
                f"--service-account-issuer=https://127.0.0.1:{port}/",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                # Endpoints may not hold loopback addresses, so the `kubernetes`
                # Service's endpoints could never be written (an error every 10 s);
                # nothing in this cluster dials the Service anyway.
                "--endpoint-reconciler-type=none",
            ],
        )
        probe = _status_probe(port, "/readyz", _client_context(pki), want="ok")
        wait_for(apiserver, probe, "kube-apiserver /readyz", self.start_timeout)

    def _start_controller_manager(self) -> None:
        pki = self.pki
        kc = str(self.kubeconfig)
        kcm = self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                # The API server runs no front proxy, so the lookup of its
                # request-header CA would only log errors; trust our CA directly.
                "--authentication-skip-lookup=true",
                f"--client-ca-file={pki.ca_cert}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.ports.controller_manager}",
                # The API server's certificate names 127.0.0.1 too; reusing it
                # lets the health probe verify against our CA.
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                "--leader-elect=false",
                "--controllers=*",
                # One identity (admin) for all controllers: no per-controller
                # service-account tokens to mint and wait for.
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca_cert}",
                f"--cluster-signing-cert-file={pki.ca_cert}",
                f"--cluster-signing-key-file={pki.ca_key}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                # Defaults (5 syncs, 20 qps) make 1000 Jobs take minutes.
                f"--concurrent-job-syncs={self.concurrent_job_syncs}",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
            ],
        )
        ctx = _client_context(pki)
        probe = _status_probe(self.ports.controller_manager, "/healthz", ctx, want="ok")
        wait_for(kcm, probe, "kube-controller-manager /healthz", self.start_timeout)
        # Healthy is not yet working: the service-account controller creating
        # default/default shows the controllers run against the API server.
        sa = _status_probe(
            self.ports.apiserver, "/api/v1/namespaces/default/serviceaccounts/default", ctx
        )
        wait_for(kcm, sa, "kube-controller-manager controllers", self.start_timeout)


def _stop_in_order(components: Sequence[Component], timeout: float) -> None:
    # Clients of etcd first, so the API server does not spend its shutdown
    # retrying a vanished etcd.
    first = [c for c in components if c.name != "etcd"]
    processes.terminate(first, timeout)
    processes.terminate([c for c in components if c.name == "etcd"], timeout)


def stop_recorded(state_dir: Path, timeout: float = 15.0) -> list[str]:
    """Stop the processes recorded in ``state_dir`` by a (possibly other) process
    that started a cluster there; return the names of those that were running."""
    pids = state_dir / PIDS_FILE
    components, _ = processes.load(pids)
    running = [c for c in components if c.is_running()]
    _stop_in_order(running, timeout)
    pids.unlink(missing_ok=True)
    return [c.name for c in running]


@dataclass(frozen=True)
class Status:
    """What a state dir's recorded cluster looks like right now."""

    state_dir: Path
    alive: dict[str, bool]
    ready: bool
    server: str
    kubeconfig: Path

    @property
    def up(self) -> bool:
        """All recorded processes alive and the API server ready."""
        return bool(self.alive) and all(self.alive.values()) and self.ready


def status(state_dir: Path) -> Status:
    """Inspect the cluster recorded in ``state_dir`` without changing it."""
    state_dir = state_dir.resolve()
    components, meta = processes.load(state_dir / PIDS_FILE)
    alive = {c.name: c.is_running() for c in components}
    server = meta.get("server", "")
    ready = False
    if server and alive.get("kube-apiserver"):
        try:
            port = int(server.rsplit(":", 1)[1])
            ctx = _client_context(Pki.in_dir(state_dir / "pki"))
            ready = _get(port, "/readyz", ctx)[0] == 200
        except (OSError, ValueError, http.client.HTTPException):
            ready = False
    return Status(state_dir, alive, ready, server, state_dir / "kubeconfig")


def _usage_hint(st: Status, bin_dir: Path | None) -> str:
    lines = [
        f"kubetrade-local control plane at {st.server}",
        f"state and logs: {st.state_dir}",
        "use it with:",
        f"  export KUBECONFIG={st.kubeconfig}",
    ]
    if bin_dir is not None:
        lines.append(f"  export PATH={bin_dir}:$PATH    # kubectl, helm")
    return "\n".join(lines)


def _cmd_up(state_dir: Path, timeout: float) -> int:
    st = status(state_dir)
    if st.up:
        print("already up (nothing to do)")
        print(_usage_hint(st, None))
        return 0
    began = time.monotonic()
    try:
        bin_dir = find_bin_dir()
        cp = ControlPlane(state_dir, bin_dir, start_timeout=timeout, die_with_parent=False)
        cp.start()
    except (RuntimeError, OSError) as exc:  # StartupError is a RuntimeError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"up in {time.monotonic() - began:.1f}s")
    print(_usage_hint(status(state_dir), bin_dir))
    return 0


def _cmd_down(state_dir: Path) -> int:
    stopped = stop_recorded(state_dir.resolve())
    # Every `up` starts from an empty cluster, so the data (a 64 MB etcd WAL)
    # is of no further use; logs and certificates stay for a post-mortem.
    shutil.rmtree(state_dir / "etcd", ignore_errors=True)
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing running")
    return 0


def _cmd_status(state_dir: Path) -> int:
    st = status(state_dir)
    if not st.alive:
        print("down")
        return 1
    for name, alive in st.alive.items():
        print(f"{name}: {'running' if alive else 'NOT running'}")
    print(f"kube-apiserver ready: {st.ready}")
    if st.up:
        print(_usage_hint(st, None))
    return 0 if st.up else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kubetrade_dev.controlplane``."""
    parser = argparse.ArgumentParser(
        prog="python -m kubetrade_dev.controlplane",
        description="Run a local Kubernetes control plane (etcd, kube-apiserver, "
        "kube-controller-manager) for kubetrade development.",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--timeout", type=float, default=90.0, help="start-up timeout, seconds")
    args = parser.parse_args(argv)
    if args.command == "up":
        return _cmd_up(args.state_dir, args.timeout)
    if args.command == "down":
        return _cmd_down(args.state_dir)
    return _cmd_status(args.state_dir)


if __name__ == "__main__":
    # `up` leaves its children running on purpose; their Popen objects would
    # otherwise warn "subprocess N is still running" when the CLI exits.
    warnings.filterwarnings("ignore", "subprocess .* is still running", ResourceWarning)
    sys.exit(main())
