"""Benchmarks: scripts that print figures (never pass/fail tests). Run from the project root,
e.g. `.venv/bin/python -m bench.cluster_bench` or `.venv/bin/python bench/cluster_bench.py`."""
