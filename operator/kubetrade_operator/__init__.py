"""kubetrade's operator: typed CRDs, pure builders and thin kopf handlers."""

__version__ = "0.1.0"
