"""Benchmarks against the local stack (``make up``): run as ``python -m bench.<name>``; results go to bench/results/."""
