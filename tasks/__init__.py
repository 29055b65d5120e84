"""Reusable Prefect tasks: thin wrappers over civicflow functions."""
