"""Benchmarks for iqualify-async: ``python -m benchmarks`` (or ``make bench``)."""
