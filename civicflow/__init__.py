"""civicflow: the office's machinery, Prefect-free, typed and unit-tested."""

from __future__ import annotations

__version__ = "0.1.0"
