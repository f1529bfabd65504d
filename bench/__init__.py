"""Measuring tools: ``python -m bench.runner`` (``make bench``) and the load generator's engine.

Every bench run gets topics of its own (a name prefix) and a fresh consumer
group, so it neither reads the shared topics' history nor feeds its load to
other workers. See ``docs/benchmarks.md``.
"""
