"""Seeded synthetic data: residents, providers and e-applications (no real personal data).

Everything is drawn from a ``random.Random(seed)``: the same seed writes byte-identical
files, so tests and benchmarks can state exactly what the pipeline should find.
"""

from __future__ import annotations

from civicflow.samples.childcare import (
    MESS_KINDS,
    SampleSet,
    generate_childcare,
    write_corrupt_manifest_variants,
)
from civicflow.samples.registry import (
    DEFAULT_REFERENCE_DATE,
    MINATO_TOWNS,
    generate_providers,
    generate_residents,
    read_providers_csv,
    read_residents_csv,
    write_providers_csv,
    write_residents_csv,
)

__all__ = [
    "DEFAULT_REFERENCE_DATE",
    "MESS_KINDS",
    "MINATO_TOWNS",
    "SampleSet",
    "generate_childcare",
    "generate_providers",
    "generate_residents",
    "read_providers_csv",
    "read_residents_csv",
    "write_corrupt_manifest_variants",
    "write_providers_csv",
    "write_residents_csv",
]
