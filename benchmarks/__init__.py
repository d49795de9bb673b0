"""Benchmarks run by hand (``python -m benchmarks.NAME``): figures written to ``benchmarks/results/`` and
to their own section of BENCHMARKS.md. Nothing in ``governance/`` or ``recognition/`` imports this
package, and no test does."""
