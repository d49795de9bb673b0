"""Oversight's benchmarks: one module per subject, run as ``python -m benchmarks.<name>``.

Each run writes its figures as JSON under ``benchmarks/results/`` (machine, versions, command, date, figures) and
regenerates its own section of ``BENCHMARKS.md`` from that file (``benchmarks.results``). The product reads result
files where it cites a measured figure (the DPIA's accuracy evidence), never this package's code: nothing in
``governance/`` or ``recognition/`` imports ``benchmarks``, and tests do not either.
"""
