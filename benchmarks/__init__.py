"""Benchmarks of the training engine against a straightforward reference loop."""
