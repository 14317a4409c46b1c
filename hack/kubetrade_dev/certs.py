"""Certificates for the local control plane.

One throw-away CA signs everything: the serving certificate of kube-apiserver
(also used by kube-controller-manager), the admin client certificate
(CN=admin, O=system:masters, so RBAC lets it do anything) and nothing else;
the service-account signing key is a separate key pair, as Kubernetes wants.

ECDSA P-256 keys are used throughout: generating them takes microseconds where
RSA takes tens of milliseconds each, and every consumer (Go's crypto/tls,
OpenSSL behind Python's ssl, kube-apiserver's service-account token signer)
accepts them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: First address of the service range the control plane uses (10.0.0.0/24): the
#: ClusterIP of the `kubernetes` Service, which in-cluster clients dial.
DEFAULT_SERVICE_IP = "10.0.0.1"

#: Names under which clients reach the API server, in and out of the cluster.
APISERVER_DNS_NAMES: tuple[str, ...] = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)

DEFAULT_VALIDITY = dt.timedelta(days=365)
# Certificates start an hour in the past so a slightly skewed clock between
# processes (or a VM that just resumed) never sees them as not yet valid.
_BACKDATE = dt.timedelta(hours=1)

PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files written by :func:`write_pki`."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path

    @classmethod
    def in_dir(cls, directory: Path) -> Pki:
        """The file layout used inside ``directory`` (files may not exist yet)."""
        return cls(
            directory=directory,
            ca_cert=directory / "ca.crt",
            ca_key=directory / "ca.key",
            serving_cert=directory / "apiserver.crt",
            serving_key=directory / "apiserver.key",
            admin_cert=directory / "admin.crt",
            admin_key=directory / "admin.key",
            sa_key=directory / "sa-signer.key",
            sa_pub=directory / "sa-signer.pub",
        )


def new_key() -> PrivateKey:
    """A fresh ECDSA P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organizations: Iterable[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _validity(now: dt.datetime | None, validity: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    start = (now or dt.datetime.now(dt.UTC)) - _BACKDATE
    return start, start + _BACKDATE + validity


def new_ca(
    common_name: str = "kubetrade-local-ca",
    *,
    key: PrivateKey | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A self-signed CA certificate and its key."""
    key = key or new_key()
    not_before, not_after = _validity(now, validity)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_cert(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    *,
    common_name: str,
    organizations: Sequence[str] = (),
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    server: bool = False,
    client: bool = False,
    key: PrivateKey | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A leaf certificate signed by the CA, for TLS serving and/or client auth."""
    if not (server or client):
        raise ValueError("a certificate must be for server and/or client authentication")
    key = key or new_key()
    not_before, not_after = _validity(now, validity)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organizations))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half of a key."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    # Keys are created 0600 from the start instead of chmod-ed afterwards, so
    # they are never readable by others, not even for an instant.
    mode = 0o600 if secret else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_pki(
    directory: Path,
    *,
    service_ip: str = DEFAULT_SERVICE_IP,
    extra_sans: Sequence[str] = (),
    validity: dt.timedelta = DEFAULT_VALIDITY,
) -> Pki:
    """Generate a CA, the API server's serving cert, the admin client cert and the
    service-account signing key pair, write them as PEM files into ``directory``
    (created if missing, existing files replaced) and return their paths.

    ``extra_sans`` are added to the serving certificate: IP literals as IP SANs,
    anything else as DNS names.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki.in_dir(directory)
    ca_key, ca_cert = new_ca(validity=validity)
    dns = list(APISERVER_DNS_NAMES)
    ips = ["127.0.0.1", service_ip]
    for san in extra_sans:
        (ips if _is_ip(san) else dns).append(san)
    serving_key, serving_cert = issue_cert(
        ca_key,
        ca_cert,
        common_name="kube-apiserver",
        dns_names=dns,
        ip_addresses=ips,
        server=True,
        validity=validity,
    )
    admin_key, admin_cert = issue_cert(
        ca_key,
        ca_cert,
        common_name="admin",
        organizations=["system:masters"],
        client=True,
        validity=validity,
    )
    sa_key = new_key()
    _write(pki.ca_cert, cert_pem(ca_cert), secret=False)
    _write(pki.ca_key, key_pem(ca_key), secret=True)
    _write(pki.serving_cert, cert_pem(serving_cert), secret=False)
    _write(pki.serving_key, key_pem(serving_key), secret=True)
    _write(pki.admin_cert, cert_pem(admin_cert), secret=False)
    _write(pki.admin_key, key_pem(admin_key), secret=True)
    _write(pki.sa_key, key_pem(sa_key), secret=True)
    _write(pki.sa_pub, public_key_pem(sa_key), secret=False)
    return pki


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
