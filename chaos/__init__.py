"""``make chaos``: load through the HTTP API while injecting faults, then an audit.

Every request that got a 202 must have exactly one effect in PostgreSQL, a
final status and its documents in Elasticsearch, whatever broke meanwhile.
"""
