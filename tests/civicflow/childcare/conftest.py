"""Fixtures for the childcare form and rule tests: one synthetic applicant and her registry.

Nobody here is a real person. The registry holds 髙橋 (variant kanji) while the applicant
types 高橋 with full-width digits and 和暦 dates: a clean case all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from civicflow.childcare.rules import normalize_application
from civicflow.models import NormalizedApplication, Provider, Resident
from civicflow.registry import ResidentIndex

JST = ZoneInfo("Asia/Tokyo")
SUBMITTED_AT = dt.datetime(2024, 4, 10, 9, 30, tzinfo=JST)
APPLIED_ON = SUBMITTED_AT.date()

#: A clean after-birth application for 家事支援 from the resident APPLICANT.
CLEAN_FIELDS: dict[str, str] = {
    "applicant_name": "高橋　花子",
    "applicant_kana": "タカハシ　ハナコ",
    "applicant_birth_date": "平成２年５月１日",
    "postal_code": "１０８－００２３",
    "address": "東京都港区芝浦３丁目１番２号",
    "phone": "０３－１２３４－５６７８",
    "pregnancy_status": "出産後",
    "due_date": "",
    "child_birth_date": "令和6年3月1日",
    "child_name": "高橋　陽菜",
    "birth_type": "単胎",
    "boshi_techo_date": "R5.8.1",
    "tax_status": "課税",
    "service": "家事支援",
    "provider_id": "P001",
    "provider_name": "みなと家事サポート株式会社",
    "start_date": "2024-04-20",
}

APPLICANT = Resident(
    resident_id="R0001",
    name="髙橋 花子",
    name_kana="タカハシ ハナコ",
    birth_date=dt.date(1990, 5, 1),
    gender="女",
    postal_code="108-0023",
    address="東京都港区芝浦三丁目1-2",
    phone="03-1234-5678",
    household_id="H0001",
    previous_address="東京都港区三田一丁目4番5号",
)
#: Others who share a bucket with the applicant: her husband (same address and family
#: name), and a stranger born the same day.
HUSBAND = Resident(
    resident_id="R0002",
    name="髙橋 健一",
    name_kana="タカハシ ケンイチ",
    birth_date=dt.date(1988, 11, 3),
    gender="男",
    postal_code="108-0023",
    address="東京都港区芝浦三丁目1-2",
    household_id="H0001",
)
SAME_BIRTHDAY = Resident(
    resident_id="R0003",
    name="鈴木 美咲",
    name_kana="スズキ ミサキ",
    birth_date=dt.date(1990, 5, 1),
    gender="女",
    postal_code="106-0032",
    address="東京都港区六本木6-10-1",
)

PROVIDER = Provider(
    provider_id="P001",
    name="みなと家事サポート株式会社",
    services=["家事支援", "産後ドゥーラ"],
    service_area=["芝浦", "三田"],
    contract_start=dt.date(2024, 4, 1),
    contract_end=dt.date(2025, 3, 31),
)


FieldsFactory = Callable[..., dict[str, str]]
AppFactory = Callable[..., NormalizedApplication]


def _fields_with(**overrides: str) -> dict[str, str]:
    return {**CLEAN_FIELDS, **overrides}


@pytest.fixture
def make_fields() -> FieldsFactory:
    """The clean application's raw fields, with some values replaced by keyword."""
    return _fields_with


@pytest.fixture
def make_app() -> AppFactory:
    """The clean application, normalised, with some raw values replaced by keyword."""

    def make(**overrides: str) -> NormalizedApplication:
        app, _ = normalize_application("R-TEST", SUBMITTED_AT, _fields_with(**overrides))
        return app

    return make


@pytest.fixture
def submitted_at() -> dt.datetime:
    """申請日時 of the clean application (JST)."""
    return SUBMITTED_AT


@pytest.fixture
def applied_on() -> dt.date:
    """The submission date: the day eligibility is judged."""
    return APPLIED_ON


@pytest.fixture
def applicant() -> Resident:
    """The applicant as the registry holds her."""
    return APPLICANT


@pytest.fixture
def provider() -> Provider:
    """The provider the clean application asks for."""
    return PROVIDER


@pytest.fixture(scope="session")
def index() -> ResidentIndex:
    """A tiny registry copy around the applicant."""
    return ResidentIndex([APPLICANT, HUSBAND, SAME_BIRTHDAY])


@pytest.fixture
def providers() -> dict[str, Provider]:
    """The contract list: one provider."""
    return {PROVIDER.provider_id: PROVIDER}
