"""Fixtures for the document writers: synthetic cases and providers (no real people)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from civicflow.models import CaseRow, Provider

CaseFactory = Callable[..., CaseRow]


@pytest.fixture(scope="session")
def make_case() -> CaseFactory:
    """Build a CaseRow: ``make_case(3, provider_id="P002", entered_at=...)``."""

    def build(n: int, **overrides: Any) -> CaseRow:
        values: dict[str, Any] = {
            "case_id": str(n),
            "receipt_no": f"R2024-{n:05d}",
            "registration_no": f"03{n:06d}",
            "resident_id": f"A{n:07d}",
            "applicant_name": f"試験 花子{n}",
            "applicant_kana": "シケン ハナコ",
            "address": f"東京都港区芝浦三丁目{n}番1号",
            "phone": "090-0000-0000",
            "service": "家事支援",
            "provider_id": "P001",
            "provider_name": "株式会社みなとケアサービス",
            "start_date": dt.date(2024, 4, 15),
            "due_date": dt.date(2024, 5, 20),
            "child_birth_date": None,
            "birth_type": "単胎",
            "tax_status": "課税",
            "hours_cap": 128,
            "fee_per_hour": 750,
            "entered_at": dt.datetime(2024, 4, 1, 1, 0, tzinfo=dt.UTC),
        }
        values.update(overrides)
        return CaseRow(**values)

    return build


@pytest.fixture(scope="session")
def providers() -> dict[str, Provider]:
    """Three contracted providers; P003 has no cases in most tests."""
    base = {
        "services": ["家事支援", "産後ドゥーラ"],
        "service_area": ["*"],
        "contract_start": dt.date(2024, 4, 1),
        "contract_end": dt.date(2025, 3, 31),
    }
    return {
        "P001": Provider(
            provider_id="P001",
            name="株式会社みなとケアサービス",
            contact_person="佐藤 一郎",
            **base,
        ),
        "P002": Provider(provider_id="P002", name="一般社団法人ドゥーラ協会東京", **base),
        "P003": Provider(provider_id="P003", name="有限会社しばうらライフ", **base),
    }
