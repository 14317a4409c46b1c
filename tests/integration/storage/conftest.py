"""Fixtures of the object-storage tests: a real S3 server (versitygw)."""

from kubetrade_testing.s3 import s3_root, s3_server

__all__ = ["s3_root", "s3_server"]
