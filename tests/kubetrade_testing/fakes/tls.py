"""A throw-away CA and a serving certificate, for fakes reached over HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path

from kubetrade_dev.certs import cert_pem, issue_cert, key_pem, new_ca


def server_context(directory: Path, dns_names: Sequence[str]) -> tuple[ssl.SSLContext, Path]:
    """A TLS server context for `dns_names` and the CA bundle a client must trust."""
    ca_key, ca_cert = new_ca("kubetrade-fake-ca")
    key, cert = issue_cert(
        ca_key, ca_cert, common_name=dns_names[0], dns_names=dns_names, server=True
    )
    directory.mkdir(parents=True, exist_ok=True)
    bundle = directory / "ca.pem"
    bundle.write_bytes(cert_pem(ca_cert))
    chain = directory / "server.pem"
    chain.write_bytes(cert_pem(cert) + key_pem(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return context, bundle
