"""Shared fixtures: isolated settings per test and ONE Prefect harness per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from civicflow.settings import Settings, get_settings

# Keep Prefect quiet and local in tests; no telemetry, no stray home directory.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing every path at a fresh temporary folder (also for get_settings())."""
    for key in list(os.environ):
        if key.startswith("CIVICFLOW_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CIVICFLOW_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for every flow test in the session (~14 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


# --- bus pass: paper-form readings as the OCR reader would return them ---------------------
BUS_PASS_TRUTH: dict[str, object] = {
    "application_date": "2026-11-02",
    "furigana": "ヤマダ　ハナコ",
    "name": "山田　花子",
    "gender": ["女"],
    "birth_date": "1950-04-03",
    "postal_code": "105-0011",
    "address": "東京都港区芝公園1-2-3",
    "phone": "03-1234-5678",
    "eligibility": ["age70"],
    "handbook_number": "",
}
BUS_PASS_RESIDENT = "R0000001"


class BusPassFakes:
    """Builds ``FormReading`` objects and scan files for bus-pass tests (no OCR involved)."""

    def __init__(self) -> None:
        from civicflow.models import Resident

        self.resident = Resident(
            resident_id=BUS_PASS_RESIDENT,
            name="山田　花子",
            name_kana="ヤマダ　ハナコ",
            birth_date=__import__("datetime").date(1950, 4, 3),
            gender="女",
            postal_code="105-0011",
            address="東京都港区芝公園1-2-3",
            phone="03-1234-5678",
        )

    def reading(
        self,
        source: str,
        page: int = 1,
        *,
        flagged: dict[str, str] | None = None,
        values: dict[str, object] | None = None,
        quarantine: str | None = None,
        resident_id: str | None = BUS_PASS_RESIDENT,
    ) -> object:
        """A page: clean, or with ``flagged`` fields (field → reason code), or quarantined."""
        from civicflow.models import Reason, Severity
        from civicflow.ocr.models import FieldReading, FormReading

        if quarantine is not None:
            reason = Reason(
                code=quarantine,
                severity=Severity.QUARANTINE,
                message_ja="読み取れません",
                message_en="unreadable",
            )
            return FormReading(source=source, page=page, quarantine=reason)
        flagged = flagged or {}
        merged = {**BUS_PASS_TRUTH, **(values or {})}
        fields = []
        for field_id, value in merged.items():
            reasons = []
            if field_id in flagged:
                reasons.append(
                    Reason(
                        code=flagged[field_id],
                        severity=Severity.REVIEW,
                        message_ja="確認してください",
                        message_en="check it",
                        field=field_id,
                    )
                )
            fields.append(
                FieldReading(
                    field_id=field_id,
                    value=value,  # type: ignore[arg-type]
                    raw=str(value),
                    confidence=0.99,
                    engines=["rapidocr"],
                    flagged=bool(reasons),
                    reasons=reasons,
                    crop_box=(0, 0, 10, 10),
                )
            )
        reading = FormReading(
            source=source,
            page=page,
            form_id="bus_pass",
            registered=True,
            fields=fields,
            resident_id=resident_id,
            timings={"rapidocr": 0.2, "easyocr": 0.05, "total": 0.3},
        )
        reading.crops = {fid: b"\x89PNG fake" for fid in flagged}
        return reading

    def drop(self, inbox: Path, name: str, data: bytes = b"scan") -> Path:
        """Put a 'scanned file' into the inbox (its content is never decoded by a fake)."""
        inbox.mkdir(parents=True, exist_ok=True)
        path = inbox / name
        path.write_bytes(data)
        return path


@pytest.fixture
def bus_pass_fakes(settings: Settings) -> BusPassFakes:
    """Fakes for the bus-pass process, with the applicant in a fresh store's registry."""
    from civicflow.store import repositories as repo
    from civicflow.store.db import migrate, session_scope

    fakes = BusPassFakes()
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        repo.upsert_residents(session, [fakes.resident])
    return fakes
