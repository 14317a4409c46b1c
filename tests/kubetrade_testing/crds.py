"""pytest fixture: kubetrade's CRDs installed in the test cluster, once per session.

The files installed are the committed ones in ``crds/`` (what users apply and
the chart ships); ``tests/unit/test_crds.py`` fails when they drift from the
models. Import the fixture next to the cluster fixtures in a conftest.py::

    from kubetrade_testing.crds import crds
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from kubetrade_operator.api import GROUP, KINDS, VERSION
from kubetrade_testing.cluster import wait_until

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
FIELD_MANAGER = "kubetrade-tests"


def load_crds(directory: Path = CRD_DIR) -> list[dict[str, Any]]:
    """The CRD manifests in ``directory``, in file-name order."""
    files = sorted(directory.glob(f"{GROUP}_*.yaml"))
    if not files:
        raise FileNotFoundError(f"no CRDs in {directory}; run `make crds`")
    return [yaml.safe_load(f.read_text()) for f in files]


def _established(client: Client, name: str) -> bool:
    crd = client.get(CustomResourceDefinition, name)
    conditions = (crd.status.conditions if crd.status else None) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def _served(client: Client, kind: str, plural: str) -> bool:
    # Established can run a moment ahead of the served endpoint, so ask the
    # endpoint itself before a test's first create meets a 404.
    resource = create_namespaced_resource(GROUP, VERSION, kind, plural)
    try:
        list(client.list(resource, namespace="default", chunk_size=1))
    except ApiError as exc:
        if exc.status.code == 404:
            return False
        raise
    return True


def install_crds(client: Client, manifests: list[dict[str, Any]], timeout: float = 60.0) -> None:
    """Server-side apply ``manifests`` and wait until each CRD is Established and
    its kind is served. Re-applying over an existing install updates it."""
    for manifest in manifests:
        client.apply(codecs.from_dict(manifest), field_manager=FIELD_MANAGER, force=True)
    for manifest in manifests:
        name = manifest["metadata"]["name"]
        established = partial(_established, client, name)
        wait_until(established, timeout=timeout, what=f"{name} Established")
    for kind in KINDS:
        served = partial(_served, client, kind.kind, kind.plural)
        wait_until(served, timeout=timeout, what=f"{kind.plural}.{GROUP} served")


@pytest.fixture(scope="session")
def crds(lightkube_client: Client) -> list[str]:
    """Install the CRDs from ``crds/`` and return their names once all are
    Established. They stay installed: the session's cluster goes away anyway,
    and on a reused cluster the next session re-applies them."""
    manifests = load_crds()
    install_crds(lightkube_client, manifests)
    return [m["metadata"]["name"] for m in manifests]
