"""`python -m kubetrade_console`: serve the console (the same as `trading-cli console`)."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .settings import ConsoleSettings


def serve(settings: ConsoleSettings) -> None:
    """Run the console until interrupted."""
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
    )


if __name__ == "__main__":
    serve(ConsoleSettings())
