"""Reproducible speed and memory measurements of kubetrade (see docs/BENCHMARKS.md).

A package so the entry scripts can share small modules and mypy can follow them;
run the scripts themselves (``python benchmarks/operator_bench.py``), not the package.
"""
