"""Faust tables: state the workers keep in RocksDB, backed by changelog topics."""
