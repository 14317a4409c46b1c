"""The local control plane's certificates: names, usages, and a real TLS handshake."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubetrade_dev.certs import Pki, issue_cert, new_ca, write_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return write_pki(tmp_path_factory.mktemp("pki"))


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(san.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return dns, ips


def _eku(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_all_files_written_and_keys_private(pki: Pki) -> None:
    keys = [pki.ca_key, pki.serving_key, pki.admin_key, pki.sa_key]
    public = [pki.ca_cert, pki.serving_cert, pki.admin_cert, pki.sa_pub]
    for path in keys + public:
        assert path.read_bytes().startswith(b"-----BEGIN "), path
    for path in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_ca_is_a_ca_and_signs_the_leaves(pki: Pki) -> None:
    ca = _cert(pki.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for leaf in (pki.serving_cert, pki.admin_cert):
        cert = _cert(leaf)
        cert.verify_directly_issued_by(ca)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_certificates_are_valid_now(pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    for path in (pki.ca_cert, pki.serving_cert, pki.admin_cert):
        cert = _cert(path)
        assert cert.not_valid_before_utc < now - dt.timedelta(minutes=30)
        assert cert.not_valid_after_utc > now + dt.timedelta(days=300)


def test_serving_cert_names_and_usage(pki: Pki) -> None:
    cert = _cert(pki.serving_cert)
    dns, ips = _sans(cert)
    assert {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    } <= dns
    assert {"127.0.0.1", "10.0.0.1"} <= ips
    assert _eku(cert) == {ExtendedKeyUsageOID.SERVER_AUTH}


def test_admin_cert_is_system_masters_client(pki: Pki) -> None:
    cert = _cert(pki.admin_cert)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [a.value for a in cn] == ["admin"]
    assert [a.value for a in orgs] == ["system:masters"]
    assert _eku(cert) == {ExtendedKeyUsageOID.CLIENT_AUTH}


def test_service_account_key_pair_matches(pki: Pki) -> None:
    private = serialization.load_pem_private_key(pki.sa_key.read_bytes(), password=None)
    public = serialization.load_pem_public_key(pki.sa_pub.read_bytes())
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    signature = private.sign(b"token", ec.ECDSA(hashes.SHA256()))
    public.verify(signature, b"token", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"forged", ec.ECDSA(hashes.SHA256()))


def test_extra_sans_are_added(tmp_path: Path) -> None:
    pki = write_pki(tmp_path, extra_sans=["192.0.2.7", "api.example.test"])
    dns, ips = _sans(_cert(pki.serving_cert))
    assert "api.example.test" in dns
    assert "192.0.2.7" in ips
    assert all(ipaddress.ip_address(ip) for ip in ips)


def test_each_run_makes_a_new_ca(tmp_path: Path) -> None:
    first = _cert(write_pki(tmp_path / "a").ca_cert)
    second = _cert(write_pki(tmp_path / "b").ca_cert)
    assert first.public_key() != second.public_key()


def test_issue_cert_needs_a_usage() -> None:
    ca_key, ca_cert = new_ca()
    with pytest.raises(ValueError, match="server and/or client"):
        issue_cert(ca_key, ca_cert, common_name="nobody")


def _handshake(pki: Pki, server_hostname: str) -> str:
    """Mutual TLS over a socket pair, as kube-apiserver and a client would do it;
    returns the client CN the server saw."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki.serving_cert, pki.serving_key)
    server_ctx.load_verify_locations(pki.ca_cert)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    client_ctx.load_cert_chain(pki.admin_cert, pki.admin_key)

    seen: list[str] = []
    errors: list[BaseException] = []
    a, b = socket.socketpair()

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(a, server_side=True) as tls:
                peer = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
                cn = peer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
                seen.extend(str(a.value) for a in cn)
                tls.sendall(b"ok")
        except (OSError, ssl.SSLError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_ctx.wrap_socket(b, server_hostname=server_hostname) as tls:
            assert tls.recv(2) == b"ok"
    finally:
        b.close()
        thread.join(10)
        a.close()
    assert not errors, errors
    return seen[0]


@pytest.mark.parametrize(
    "hostname", ["127.0.0.1", "localhost", "10.0.0.1", "kubernetes.default.svc"]
)
def test_tls_handshake_for_each_name(pki: Pki, hostname: str) -> None:
    assert _handshake(pki, hostname) == "admin"


def test_tls_rejects_a_name_not_in_the_cert(pki: Pki) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        _handshake(pki, "example.com")
