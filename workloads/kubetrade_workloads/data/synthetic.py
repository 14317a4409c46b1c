"""Kept for existing imports: the synthetic source lives in `data.sources.synthetic`."""

from __future__ import annotations

from .sources.synthetic import SyntheticSource, generate

__all__ = ["SyntheticSource", "generate"]
