"""Benchmarks: `python -m benchmarks.<module>` prints JSON."""
