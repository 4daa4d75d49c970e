"""Benchmarks: each module answers one question and prints a table; nothing here is asserted in tests."""
