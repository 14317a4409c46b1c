"""The console's configuration: one frozen model, read from flags or KUBETRADE_CONSOLE_*."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """Where the console listens, which cluster it asks and which trade store it reads."""

    model_config = SettingsConfigDict(env_prefix="KUBETRADE_CONSOLE_", frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    tls_cert_file: Path | None = None
    """PEM certificate (chain) to serve HTTPS with; None serves plain HTTP (for
    loopback, or behind an Ingress or mesh that terminates TLS)."""
    tls_key_file: Path | None = None
    """The certificate's PEM private key; required with `tls_cert_file`."""
    kubeconfig: Path | None = None
    """None: in-cluster ServiceAccount, else $KUBECONFIG / ~/.kube/config."""
    store_url: str | None = None
    """SQLAlchemy URL of the trade store (sqlite:///... or postgresql+psycopg://...);
    None: the console shows resources only, with a banner where trades would be."""
    review_ttl_seconds: float = Field(10.0, ge=0, le=300)
    """How long a TokenReview or SubjectAccessReview answer is reused: a revoked
    token or binding stops working at most this long after."""
    poll_seconds: float = Field(2.0, gt=0, le=60)
    """How often a live view (server-sent events) re-reads what it shows."""
    max_page: int = Field(500, ge=1, le=10_000)
    """The largest page of orders, fills or equity points one request returns."""
    artifact_roots: tuple[str, ...] = ()
    """URI prefixes (file://..., s3://bucket/...) the console may read reports under;
    empty: any file:// or s3:// URI a resource records, by the fixed file names only."""
    max_artifact_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)
    """The largest artifact file (card, report, history) the console reads."""
    artifact_timeout_seconds: float = Field(10.0, gt=0, le=120)
    """How long one artifact read may take before the page says the store is down."""

    @model_validator(mode="after")
    def _tls_pair(self) -> ConsoleSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together: give both or neither")
        return self

    @property
    def scheme(self) -> str:
        """`https` when a certificate is configured, else `http`."""
        return "https" if self.tls_cert_file else "http"
