"""Benchmarks of lawstats (``python -m lawstats bench``); results are kept beside the scripts."""
