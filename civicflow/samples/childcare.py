"""Synthetic childcare e-applications (産前産後家事・育児支援サービス) with known outcomes.

:func:`generate_childcare` writes a registry copy, an e-application export folder (manifest
plus one PDF per application, as :mod:`civicflow.sources.export_folder` reads it) and a
``truth.json`` that says, per 受付番号, what was injected and what the pipeline should
decide. Most applications are clean; a few percent of each kind of mess in
:data:`MESS_KINDS` are mixed in, at least one of each once ``n >= 60``.

Layout under ``out_dir``::

    registry/residents.csv          UTF-8 with BOM; lists joined by "|", ISO dates
    registry/providers.csv
    childcare/export/manifest.csv   UTF-8 with BOM; 受付番号, 申請日時, 手続コード, 添付ファイル,
                                    then one column per CHILDCARE_FIELD_LABELS label
    childcare/export/pdf/<受付番号>.pdf
    childcare/truth.json

Everything comes from ``random.Random(seed)``: the same seed, ``n`` and reference date give
byte-identical files (the PDFs take their creation date from 申請日時).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import multiprocessing
import random
import re
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from pydantic import BaseModel

from civicflow.childcare.form import render_application_pdf
from civicflow.japanese import add_months, age_on, normalize_kana, normalize_name, to_wareki
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    CHILDCARE_PROCEDURE_CODE,
    SERVICES,
    Provider,
    Resident,
)
from civicflow.samples import names
from civicflow.samples.registry import (
    DEFAULT_REFERENCE_DATE,
    generate_providers,
    generate_residents,
    parse_minato_address,
    provider_covers,
    provider_in_period,
    random_date,
    random_family_name,
    random_minato_address,
    random_outside_address,
    random_phone,
    write_providers_csv,
    write_residents_csv,
)
from civicflow.settings import Settings

JST = dt.timezone(dt.timedelta(hours=9), "JST")
MANIFEST_META_COLUMNS: tuple[str, ...] = ("受付番号", "申請日時", "手続コード", "添付ファイル")
MANIFEST_COLUMNS: tuple[str, ...] = MANIFEST_META_COLUMNS + tuple(CHILDCARE_FIELD_LABELS.values())
#: The attachment size limit the oversize PDF must exceed (Settings' default, 5 MiB).
MAX_ATTACHMENT_BYTES: int = int(Settings.model_fields["max_attachment_bytes"].default)

OUTCOMES: tuple[str, ...] = ("accept", "review", "reject", "quarantine", "duplicate")


@dataclass(frozen=True)
class MessKind:
    """One kind of injected mess: what the pipeline should decide and why."""

    expected: str  # one of OUTCOMES
    reasons: tuple[str, ...]  # expected reason codes (proposed where the checker is not written)
    rate: float  # share of applications
    min_n: int = 0  # only injected when n >= min_n
    description: str = ""


#: Every kind of mess, in the order they are drawn. Reason codes of the PDF and folder
#: kinds are those of ``childcare/form.py`` and ``sources/export_folder.py``; the others
#: are the names the checks are expected to use.
MESS_KINDS: dict[str, MessKind] = {
    "not_in_registry": MessKind(
        "review", ("resident_not_found",), 0.03, description="申請者が住民記録にいない"
    ),
    "moved_address": MessKind("review", ("address_moved",), 0.02, description="転居前の住所で申請"),
    "variant_kanji": MessKind(
        "accept", (), 0.03, description="異体字（住民記録 髙橋 / 申請 高橋、またはその逆）"
    ),
    "fullwidth_digits": MessKind(
        "accept", (), 0.04, description="電話・郵便番号・住所の数字が全角"
    ),
    "kana_mismatch": MessKind(
        "review", ("kana_mismatch",), 0.02, description="フリガナが住民記録と違う"
    ),
    "provider_out_of_period": MessKind(
        "review", ("provider_contract_period",), 0.02, description="事業者の契約期間外"
    ),
    "provider_out_of_area": MessKind(
        "review", ("provider_area",), 0.02, description="事業者の対応地域外"
    ),
    "duplicate_receipt": MessKind(
        "duplicate", ("duplicate_receipt_no",), 0.01, description="同じ受付番号の行が2回"
    ),
    "pdf_manifest_mismatch": MessKind(
        "review", ("manifest_pdf_mismatch",), 0.02, description="PDFと manifest で1項目が違う"
    ),
    "corrupt_pdf": MessKind(
        "quarantine", ("pdf_corrupt",), 0.01, description="PDFが途中で切れている"
    ),
    "encrypted_pdf": MessKind(
        "quarantine", ("pdf_encrypted",), 0.01, description="パスワード付きPDF"
    ),
    "missing_pdf": MessKind(
        "quarantine", ("pdf_missing",), 0.01, description="manifest の行にPDFがない"
    ),
    "orphan_pdf": MessKind(
        "quarantine", ("pdf_without_manifest",), 0.01, description="PDFに manifest の行がない"
    ),
    "oversize_pdf": MessKind(
        "quarantine", ("pdf_too_large",), 0.001, min_n=200, description="5 MiB を超えるPDF"
    ),
    "child_too_old": MessKind(
        "reject", ("not_eligible_age",), 0.015, description="子が3歳以上（家事支援の対象外）"
    ),
    "due_date_too_far": MessKind(
        "reject", ("due_date_out_of_window",), 0.015, description="出産予定日が申請可能期間より先"
    ),
    "outside_ward": MessKind(
        "reject",
        ("outside_ward", "resident_not_found"),
        0.015,
        description="区外に住む、住民記録にない人からの申請",
    ),
}
#: Clean applications whose applicant's name holds 𠮷 (outside CP932): a few per set.
TSUCHIYOSHI_RATE = 0.015


class SampleSet(BaseModel):
    """What :func:`generate_childcare` wrote, with the expected outcome counts."""

    out_dir: Path
    residents_csv: Path
    providers_csv: Path
    export_dir: Path  # point Settings.export_dir here
    manifest_csv: Path
    pdf_dir: Path
    truth_json: Path
    seed: int
    n: int
    reference_date: dt.date
    residents: list[Resident]
    providers: list[Provider]
    counts: dict[str, int]  # expected outcome → manifest rows / PDFs with that outcome
    mess_counts: dict[str, int]  # mess kind → how many were injected
    expected_entered: int  # should end up entered without review
    manifest_rows: int
    pdf_files: int


# --- typing the way people type ---------------------------------------------------------------
_FULLWIDTH = str.maketrans({**{str(d): chr(0xFF10 + d) for d in range(10)}, "-": "－"})


def _fullwidth_digits(text: str) -> str:
    """Digits and hyphens as a full-width IME types them: 03-1234 → ０３－１２３４."""
    return text.translate(_FULLWIDTH)


def _date_typer(rng: random.Random) -> Callable[[dt.date], str]:
    """How one applicant writes dates: ISO, 2024/4/1, 令和6年4月1日 or R6.4.1."""
    style = rng.choices(("iso", "slash", "kanji", "short"), weights=(45, 15, 28, 12))[0]
    if style == "iso":
        return lambda d: d.isoformat()
    if style == "slash":
        return lambda d: f"{d.year}/{d.month}/{d.day}"
    if style == "kanji":
        return lambda d: to_wareki(d, style="kanji")
    return lambda d: to_wareki(d, style="short")


def _is_wareki(typed: str) -> bool:
    """Whether a typed date is in 和暦 (令和…, R6.4.1) rather than Western digits."""
    return not typed[:1].isdigit()


def _type_name(rng: random.Random, name: str, variations: list[str], tag: str) -> str:
    """A name or reading as typed: as registered, with a full-width space, or without one."""
    roll = rng.random()
    if roll < 0.25:
        variations.append(f"{tag}_fullwidth_space")
        return name.replace(" ", "　")
    if roll < 0.37:
        variations.append(f"{tag}_no_space")
        return name.replace(" ", "")
    return name


def _type_address(rng: random.Random, address: str, variations: list[str]) -> str:
    """An address as typed: as registered, in the other style, without 東京都, or with a full-width space."""
    parts = parse_minato_address(address)
    roll = rng.random()
    if parts is not None and roll < 0.2:
        variations.append("address_style_changed")
        style = "hyphen" if "丁目" in address else "kanji"
        return parts.render(style)
    if roll < 0.35 and address.startswith("東京都"):
        variations.append("address_no_prefecture")
        return address.removeprefix("東京都")
    if roll < 0.42 and " " in address:
        variations.append("address_fullwidth_space")
        return address.replace(" ", "　")
    return address


def _town(address: str) -> str:
    """The Minato town of an address this module wrote ("" when it is not one)."""
    parts = parse_minato_address(address)
    return parts.town if parts is not None else ""


def _postal_of(address: str, fallback: str) -> str:
    """The postal code of an address this module wrote, else ``fallback``."""
    parts = parse_minato_address(address)
    return parts.postal_code if parts is not None else fallback


# --- one application -----------------------------------------------------------------------
@dataclass
class _Case:
    """One application being generated: the applicant, the typed fields and what was injected."""

    receipt_no: str
    submitted_at: dt.datetime
    kind: str | None
    resident: Resident
    in_registry: bool = True
    fields: dict[str, str] = field(default_factory=dict)
    pdf_fields: dict[str, str] | None = None  # differs from the manifest (mismatch)
    variations: list[str] = field(default_factory=list)
    detail: dict[str, str] = field(default_factory=dict)
    provider_id: str = ""


def _allowed_services(status: str, child_birth: dt.date | None, start: dt.date) -> list[str]:
    """Services the case is eligible for: 産後ドゥーラ only until about 6 months after birth."""
    if status == "出産後" and child_birth is not None and (start - child_birth).days >= 180:
        return ["家事支援"]
    return list(SERVICES)


def _fill_case(
    rng: random.Random,
    case: _Case,
    providers: Sequence[Provider],
) -> None:
    """Draw the application's facts and type them into ``case.fields`` (clean or messy)."""
    kind = case.kind
    resident = case.resident
    variations = case.variations
    submitted = case.submitted_at.date()
    start = submitted + dt.timedelta(days=rng.randint(10, 45))
    birth_typer = _date_typer(rng)
    date_typer = _date_typer(rng)

    family, given = resident.name.split(" ", 1)
    family_kana, given_kana = resident.name_kana.split(" ", 1)
    if kind == "variant_kanji":
        typed_family = names.USUAL_FORM.get(family) or names.VARIANT_FAMILY_NAMES[family][0]
        case.detail.update(registry_name=resident.name, typed_family=typed_family)
        family = typed_family
    if kind == "kana_mismatch":
        others = [
            kana
            for _, kana in names.FEMALE_GIVEN_NAMES_YOUNG
            if kana[0] != given_kana[0] and kana not in given_kana
        ]
        given_kana = rng.choice(others)
        case.detail.update(registry_kana=resident.name_kana)

    status = "妊娠中" if rng.random() < 0.45 else "出産後"
    if kind == "child_too_old":
        status = "出産後"
    if kind == "due_date_too_far":
        status = "妊娠中"
    multiple = rng.random() < 0.05
    due: dt.date | None = None
    child_birth: dt.date | None = None
    child_name = ""
    if status == "妊娠中":
        due = submitted + dt.timedelta(days=rng.randint(30, 240))
        techo = min(
            due - dt.timedelta(days=rng.randint(196, 224)),
            submitted - dt.timedelta(days=rng.randint(1, 10)),
        )
        if kind == "due_date_too_far":
            due = due + dt.timedelta(days=365)  # typed next year's date
            case.detail.update(days_to_due=str((due - submitted).days))
    else:
        child_birth = submitted - dt.timedelta(days=rng.randint(0, 913))
        if kind == "child_too_old":
            child_birth = add_months(submitted, -36) - dt.timedelta(days=rng.randint(1, 300))
            case.detail.update(child_age_months=str((submitted - child_birth).days * 12 // 365))
        techo = child_birth - dt.timedelta(days=rng.randint(150, 230))
        first = rng.choice(names.CHILD_GIVEN_NAMES)[0]
        child_name = f"{family} {first}"
        if multiple:
            second = rng.choice([g for g, _ in names.CHILD_GIVEN_NAMES if g != first])
            child_name += f"、{family} {second}"

    # address and postal code as the applicant gives them
    address = resident.address
    postal = resident.postal_code
    if kind == "moved_address":
        address = resident.previous_address
        postal = _postal_of(address, postal)
        case.detail.update(registry_address=resident.address)
    towns = [t for t in (_town(resident.address), _town(address)) if t]

    # service and provider
    allowed = _allowed_services(status, child_birth, start)
    service = "家事支援" if rng.random() < 0.68 or len(allowed) == 1 else "産後ドゥーラ"
    if kind == "provider_out_of_area":
        town = towns[0]
        candidates = [
            p
            for p in providers
            if provider_in_period(p, submitted, start)
            and "*" not in p.service_area
            and town not in p.service_area
            and set(p.services) & set(allowed)
        ]
        provider = rng.choice(candidates)
        service = rng.choice([s for s in allowed if s in provider.services])
        case.detail.update(town=town)
    elif kind == "provider_out_of_period":
        candidates = [
            p
            for p in providers
            if not provider_in_period(p, submitted, start)
            and all(provider_covers(p, t, service) for t in towns)
        ]
        provider = rng.choice(candidates)
        case.detail.update(
            contract=f"{provider.contract_start.isoformat()}..{provider.contract_end.isoformat()}"
        )
    else:
        candidates = [
            p
            for p in providers
            if provider_in_period(p, submitted, start)
            and all(provider_covers(p, t, service) for t in towns)
        ]
        provider = rng.choice(candidates)
    case.provider_id = provider.provider_id

    tax = rng.choices(("課税", "非課税", "生活保護"), weights=(75, 18, 7))[0]
    phone = resident.phone if rng.random() < 0.8 else random_phone(rng, mobile=True)

    typed_name = _type_name(rng, f"{family} {given}", variations, "name")
    typed_kana = _type_name(rng, f"{family_kana} {given_kana}", variations, "kana")
    birth_text = birth_typer(resident.birth_date)
    if _is_wareki(birth_text):
        variations.append("birth_date_wareki")
    if kind not in ("moved_address", "outside_ward"):
        address = _type_address(rng, address, variations)
    if rng.random() < 0.3:
        postal = postal.replace("-", "")
        variations.append("postal_no_hyphen")
    if rng.random() < 0.2:
        phone = phone.replace("-", "")
        variations.append("phone_digits_only")
    if kind == "fullwidth_digits":
        phone, postal, address = (_fullwidth_digits(v) for v in (phone, postal, address))

    def typed_date(value: dt.date | None) -> str:
        return date_typer(value) if value is not None else ""

    case.fields = {
        "applicant_name": typed_name,
        "applicant_kana": typed_kana,
        "applicant_birth_date": birth_text,
        "postal_code": postal,
        "address": address,
        "phone": phone,
        "pregnancy_status": status,
        "due_date": typed_date(due),
        "child_birth_date": typed_date(child_birth),
        "child_name": child_name,
        "birth_type": "多胎" if multiple else "単胎",
        "boshi_techo_date": typed_date(techo),
        "tax_status": tax,
        "service": service,
        "provider_id": provider.provider_id,
        "provider_name": provider.name,
        "start_date": typed_date(start),
    }
    if kind == "pdf_manifest_mismatch":
        which = rng.choice(("phone", "start_date", "address"))
        pdf_fields = dict(case.fields)
        if which == "phone":
            digits = "".join(c for c in phone if c.isdigit())
            last = str((int(digits[-1]) + rng.randint(1, 8)) % 10)
            pdf_fields["phone"] = phone[:-1] + last
        elif which == "start_date":
            pdf_fields["start_date"] = typed_date(start + dt.timedelta(days=rng.randint(1, 14)))
        else:  # one block or room number off by one
            block = list(re.finditer(r"\d+", address))[-1]
            bumped = str(int(block.group()) + 1)
            pdf_fields["address"] = address[: block.start()] + bumped + address[block.end() :]
        case.pdf_fields = pdf_fields
        case.detail.update(mismatch_field=which)


# --- choosing applicants -----------------------------------------------------------------
def _family(resident: Resident) -> str:
    """The family name (姓) of a resident."""
    return resident.name.split(" ", 1)[0]


def _has_variant(resident: Resident) -> bool:
    """Whether the family name has an old/variant form (or is one)."""
    family = _family(resident)
    return family in names.USUAL_FORM or family in names.VARIANT_FAMILY_NAMES


def _moved_within_ward(resident: Resident) -> bool:
    """Whether the resident moved recently from another Minato address."""
    return parse_minato_address(resident.previous_address) is not None


def _is_tsuchiyoshi(resident: Resident) -> bool:
    """Whether the name holds 𠮷, which CP932 cannot encode."""
    return names.TSUCHIYOSHI in resident.name


def _rename_household(
    residents: list[Resident], household_id: str, family: str, family_kana: str
) -> None:
    """Give a whole household a new family name (to make a wanted case exist)."""
    for index, person in enumerate(residents):
        if person.household_id == household_id:
            given = person.name.split(" ", 1)[1]
            given_kana = person.name_kana.split(" ", 1)[1]
            residents[index] = person.model_copy(
                update={"name": f"{family} {given}", "name_kana": f"{family_kana} {given_kana}"}
            )


class _Applicants:
    """Hands out applicants from the pool of women aged 21–45, each once while it lasts."""

    def __init__(self, rng: random.Random, residents: list[Resident], reference_date: dt.date):
        self.rng = rng
        self.residents = residents
        self.reference_date = reference_date
        pool = [
            r.resident_id
            for r in residents
            if r.gender == "女" and 21 <= age_on(r.birth_date, reference_date) <= 45
        ]
        rng.shuffle(pool)
        self.pool = pool
        self.used: set[str] = set()
        self.position = {r.resident_id: i for i, r in enumerate(residents)}

    def get(self, resident_id: str) -> Resident:
        """The resident as currently held (after any renaming)."""
        return self.residents[self.position[resident_id]]

    def take(self, wanted: Callable[[Resident], bool] | None = None) -> Resident | None:
        """The next unused applicant (with the property, when ``wanted`` is given)."""
        if len(self.used) >= len(self.pool):
            self.used.clear()  # pool exhausted: people apply a second time
        for rid in self.pool:
            if rid in self.used:
                continue
            resident = self.get(rid)
            if wanted is None or wanted(resident):
                self.used.add(rid)
                return resident
        return None

    def take_or_make(
        self, wanted: Callable[[Resident], bool], make: Callable[[Resident], None]
    ) -> Resident:
        """An applicant with a property; when none is left, give one the property."""
        found = self.take(wanted)
        if found is not None:
            return found
        resident = self.take()
        assert resident is not None, "the applicant pool is empty"
        make(resident)
        return self.get(resident.resident_id)


def _make_moved(apps: _Applicants) -> Callable[[Resident], None]:
    """A maker that gives a resident a previous Minato address."""

    def make(resident: Resident) -> None:
        previous = random_minato_address(apps.rng).render(apps.rng.choice(("kanji", "hyphen")))
        apps.residents[apps.position[resident.resident_id]] = resident.model_copy(
            update={"previous_address": previous}
        )

    return make


def _make_family(apps: _Applicants, family: str, kana: str) -> Callable[[Resident], None]:
    """A maker that renames the resident's household to ``family``."""

    def make(resident: Resident) -> None:
        _rename_household(apps.residents, resident.household_id, family, kana)

    return make


@dataclass(frozen=True)
class _RegistryKeys:
    """Matching keys of everyone in the registry, to invent people who are not in it."""

    names: frozenset[str]
    kanas: frozenset[str]
    births: frozenset[dt.date]

    @classmethod
    def of(cls, residents: Sequence[Resident]) -> _RegistryKeys:
        """The keys of ``residents``."""
        return cls(
            frozenset(normalize_name(r.name) for r in residents),
            frozenset(normalize_kana(r.name_kana) for r in residents),
            frozenset(r.birth_date for r in residents),
        )


def _outsider(
    rng: random.Random, known: _RegistryKeys, reference_date: dt.date, *, outside_ward: bool
) -> Resident:
    """A woman who is not in the registry: no resident shares her name, reading or birth date.

    Sharing none of the three keys, she has no candidate at all in the resident index, so
    the check reports ``resident_not_found`` rather than a near miss.
    """
    while True:
        family, family_kana = random_family_name(rng)
        given, given_kana = rng.choice(names.FEMALE_GIVEN_NAMES_YOUNG)
        birth = random_date(
            rng, add_months(reference_date, -45 * 12 + 1), add_months(reference_date, -22 * 12)
        )
        name, kana = f"{family} {given}", f"{family_kana} {given_kana}"
        if (
            normalize_name(name) not in known.names
            and normalize_kana(kana) not in known.kanas
            and birth not in known.births
        ):
            break
    if outside_ward:
        postal, address = random_outside_address(rng)
    else:
        parts = random_minato_address(rng)
        postal, address = parts.postal_code, parts.render(rng.choice(("kanji", "hyphen")))
    return Resident(
        resident_id="",
        name=name,
        name_kana=kana,
        birth_date=birth,
        gender="女",
        postal_code=postal,
        address=address,
        phone=random_phone(rng, mobile=True),
    )


# --- planning ------------------------------------------------------------------------------
def _mess_counts(rng: random.Random, n: int) -> dict[str, int]:
    """How many of each mess kind a set of ``n`` applications gets."""
    counts: dict[str, int] = {}
    for kind, spec in MESS_KINDS.items():
        if n < spec.min_n:
            counts[kind] = 0
        elif n >= 60:
            counts[kind] = max(1, round(n * spec.rate))
        else:  # small sets: stochastic rounding, so some kinds are absent
            counts[kind] = int(n * spec.rate + rng.random())
    # keep at least half of a small set clean
    budget = max(n // 2, 0)
    while sum(counts.values()) > budget:
        largest = max(counts, key=lambda k: counts[k])
        counts[largest] -= 1
    return counts


def _receipt_no(rng: random.Random, submitted: dt.datetime, taken: set[str]) -> str:
    """受付番号: 16 digits, the submission date then 8 random digits; unique in the set."""
    while True:
        value = f"{submitted:%Y%m%d}{rng.randrange(10**8):08d}"
        if value not in taken:
            taken.add(value)
            return value


def _submitted_at(rng: random.Random, reference_date: dt.date) -> dt.datetime:
    """A 申請日時 in the 30 days before ``reference_date`` (JST), mostly by day."""
    day = reference_date - dt.timedelta(days=rng.randint(1, 30))
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 8, 8, 8, 8, 7, 7, 8, 9, 9, 6, 3]
    )[0]
    return dt.datetime(
        day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59), tzinfo=JST
    )


# --- PDFs ----------------------------------------------------------------------------------
def _encrypted_pdf(receipt_no: str, submitted_at: dt.datetime) -> bytes:
    """A password-protected stand-in for an exported form (RC4: the same bytes every time).

    ``render_application_pdf`` has no encryption option; the readers must quarantine such a
    file before looking at its content, so a one-line page is enough.
    """
    pdf = FPDF()
    pdf.set_creation_date(submitted_at)
    pdf.set_encryption(
        owner_password="sample-owner",
        user_password="sample-user",
        encryption_method=EncryptionMethod.RC4,
    )
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, f"Application {receipt_no} (password protected)")
    return bytes(pdf.output())


def _oversize(data: bytes, limit: int) -> bytes:
    """The PDF with junk comment lines after %%EOF until it is over ``limit``."""
    line = b"%" + b"0" * 126 + b"\n"
    need = limit - len(data) + 64 * 1024
    return data + b"\n" + line * (need // len(line) + 1)


def _needs_render(case: _Case) -> bool:
    """Whether the case's PDF is rendered from its fields."""
    return case.kind not in ("missing_pdf", "encrypted_pdf")


def _render_job(job: tuple[str, dt.datetime, dict[str, str]]) -> bytes:
    """Render one form (a top-level function, so worker processes can run it)."""
    return render_application_pdf(*job)


def _render_all(cases: Sequence[_Case], workers: int) -> list[bytes]:
    """Render the forms of ``cases``, in order; over several processes when asked to.

    Rendering is a pure function of its inputs, so the bytes do not depend on ``workers``.
    """
    jobs = [(c.receipt_no, c.submitted_at, c.pdf_fields or c.fields) for c in cases]
    if workers <= 1 or len(jobs) < 100:
        return [_render_job(job) for job in jobs]
    # spawn, not fork: the caller may hold threads (Prefect, logging) that fork would copy
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_render_job, jobs, chunksize=max(1, len(jobs) // (4 * workers))))


def _finish_pdf(rng: random.Random, case: _Case, rendered: bytes | None) -> bytes | None:
    """The file as exported: rendered, or damaged the way ``case.kind`` asks."""
    kind = case.kind
    if kind == "missing_pdf":
        return None
    if kind == "encrypted_pdf":
        return _encrypted_pdf(case.receipt_no, case.submitted_at)
    assert rendered is not None
    if kind == "corrupt_pdf":
        return rendered[: int(len(rendered) * rng.uniform(0.3, 0.7))]
    if kind == "oversize_pdf":
        return _oversize(rendered, MAX_ATTACHMENT_BYTES)
    return rendered


# --- manifest ------------------------------------------------------------------------------
def _manifest_row(case: _Case) -> list[str]:
    """The case's manifest row, in :data:`MANIFEST_COLUMNS` order."""
    return [
        case.receipt_no,
        case.submitted_at.isoformat(),
        CHILDCARE_PROCEDURE_CODE,
        f"{case.receipt_no}.pdf",
        *(case.fields[key] for key in CHILDCARE_FIELD_LABELS),
    ]


def _write_manifest(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = MANIFEST_COLUMNS,
    encoding: str = "utf-8-sig",
) -> None:
    """Write a manifest CSV (CRLF) in ``encoding``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


# --- the set -------------------------------------------------------------------------------
def _resident_count(n: int) -> int:
    """Registry size for ``n`` applications: enough women aged 21–45 to go round."""
    return 3 * n + 150


def _build_cases(
    rng: random.Random,
    n: int,
    reference_date: dt.date,
    residents: list[Resident],
    providers: Sequence[Provider],
) -> list[_Case]:
    """Plan the kinds, pick applicants (adjusting the registry if needed), type the forms."""
    counts = _mess_counts(rng, n)
    kinds: list[str | None] = [k for k, c in counts.items() for _ in range(c)]
    kinds += [None] * (n - len(kinds))
    rng.shuffle(kinds)

    apps = _Applicants(rng, residents, reference_date)
    tsuchiyoshi = min(kinds.count(None), max(1, round(n * TSUCHIYOSHI_RATE))) if n >= 10 else 0
    chosen: dict[int, Resident] = {}
    # the kinds that need a particular applicant first, while the pool is full
    for index, kind in enumerate(kinds):
        if kind == "moved_address":
            chosen[index] = apps.take_or_make(_moved_within_ward, _make_moved(apps))
        elif kind == "variant_kanji":
            chosen[index] = apps.take_or_make(_has_variant, _make_family(apps, "髙橋", "タカハシ"))
    for index, kind in enumerate(kinds):
        if kind is None and tsuchiyoshi > 0:
            chosen[index] = apps.take_or_make(_is_tsuchiyoshi, _make_family(apps, "𠮷田", "ヨシダ"))
            tsuchiyoshi -= 1
    known = _RegistryKeys.of(residents)
    cases: list[_Case] = []
    taken: set[str] = set()
    for index, kind in enumerate(kinds):
        submitted = _submitted_at(rng, reference_date)
        receipt_no = _receipt_no(rng, submitted, taken)
        if kind in ("not_in_registry", "outside_ward"):
            outsider = _outsider(rng, known, reference_date, outside_ward=kind == "outside_ward")
            case = _Case(receipt_no, submitted, kind, outsider, in_registry=False)
        else:
            resident = (
                chosen.get(index) or apps.take(lambda r: not _is_tsuchiyoshi(r)) or apps.take()
            )
            assert resident is not None
            case = _Case(receipt_no, submitted, kind, apps.get(resident.resident_id))
        if index in chosen and kind is None and _is_tsuchiyoshi(case.resident):
            case.variations.append("cp932_unmappable_name")
        _fill_case(rng, case, providers)
        cases.append(case)
    return cases


def _truth_entry(case: _Case) -> dict[str, object]:
    """The case's entry in ``truth.json``."""
    kind = case.kind
    spec = MESS_KINDS.get(kind) if kind is not None else None
    expected = "accept"
    reasons: list[str] = []
    mess: list[str] = []
    if spec is not None and kind is not None and kind != "duplicate_receipt":
        expected, reasons, mess = spec.expected, list(spec.reasons), [kind]
    return {
        "expected": expected,
        "mess": mess,
        "reasons": reasons,
        "variations": case.variations,
        "resident_id": case.resident.resident_id if case.in_registry else None,
        "provider_id": case.provider_id,
        "submitted_at": case.submitted_at.isoformat(),
        "in_manifest": kind != "orphan_pdf",
        "pdf": "missing" if kind == "missing_pdf" else "present",
        "detail": case.detail,
    }


def generate_childcare(
    out_dir: Path,
    *,
    seed: int,
    n: int,
    reference_date: dt.date = DEFAULT_REFERENCE_DATE,
    workers: int = 1,
) -> SampleSet:
    """Write a registry copy and an e-application export with known outcomes.

    ``out_dir/childcare/export`` is replaced; the registry CSV files are overwritten.

    Args:
        out_dir: Where to write (created if needed).
        seed: Seed of the one ``random.Random`` everything is drawn from.
        n: Number of applications (distinct 受付番号). The manifest has ``n`` rows, minus
            the PDF without a row, plus the duplicated row.
        reference_date: "Today": applications were submitted in the 30 days before it.
        workers: Processes that render PDFs (rendering is ~90 % of the time; the bytes are
            the same for any number). 1 renders in this process.

    Returns:
        The paths, the masters and the expected outcome counts.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    residents = generate_residents(rng, _resident_count(n))
    providers = generate_providers(rng, reference_date=reference_date)
    cases = _build_cases(rng, n, reference_date, residents, providers)

    registry_dir = out_dir / "registry"
    residents_csv = write_residents_csv(registry_dir / "residents.csv", residents)
    providers_csv = write_providers_csv(registry_dir / "providers.csv", providers)

    childcare_dir = out_dir / "childcare"
    export_dir = childcare_dir / "export"
    if export_dir.exists():
        shutil.rmtree(export_dir)
    pdf_dir = export_dir / "pdf"
    pdf_dir.mkdir(parents=True)

    to_render = [c for c in cases if _needs_render(c)]
    rendered = dict(
        zip((c.receipt_no for c in to_render), _render_all(to_render, workers), strict=True)
    )
    pdf_files = 0
    for case in cases:
        data = _finish_pdf(rng, case, rendered.get(case.receipt_no))
        if data is not None:
            (pdf_dir / f"{case.receipt_no}.pdf").write_bytes(data)
            pdf_files += 1

    ordered = sorted(
        (c for c in cases if c.kind != "orphan_pdf"), key=lambda c: (c.submitted_at, c.receipt_no)
    )
    rows = [_manifest_row(c) for c in ordered]
    truth: dict[str, dict[str, object]] = {c.receipt_no: _truth_entry(c) for c in ordered}
    truth.update({c.receipt_no: _truth_entry(c) for c in cases if c.kind == "orphan_pdf"})
    duplicates: list[dict[str, object]] = []
    for case in cases:
        if case.kind == "duplicate_receipt":
            first = ordered.index(case)
            line = rng.randint(first + 1, len(rows))
            rows.insert(line, _manifest_row(case))
            duplicates.append(
                {
                    "receipt_no": case.receipt_no,
                    "manifest_line": line + 2,  # 1-based, after the header
                    "expected": "duplicate",
                    "mess": ["duplicate_receipt"],
                    "reasons": list(MESS_KINDS["duplicate_receipt"].reasons),
                }
            )
            entry = truth[case.receipt_no]
            entry["duplicate_rows"] = 1
    manifest_csv = export_dir / "manifest.csv"
    _write_manifest(manifest_csv, rows)

    counts = dict.fromkeys(OUTCOMES, 0)
    for entry in truth.values():
        counts[str(entry["expected"])] += 1
    counts["duplicate"] = len(duplicates)
    mess_counts = dict.fromkeys(MESS_KINDS, 0)
    for case in cases:
        if case.kind is not None:
            mess_counts[case.kind] += 1

    truth_json = childcare_dir / "truth.json"
    document = {
        "seed": seed,
        "n": n,
        "reference_date": reference_date.isoformat(),
        "counts": counts,
        "expected_entered": counts["accept"],
        "mess_counts": mess_counts,
        "mess_kinds": {
            k: {"expected": s.expected, "reasons": list(s.reasons), "description": s.description}
            for k, s in MESS_KINDS.items()
        },
        "applications": truth,
        "duplicates": duplicates,
    }
    truth_json.write_text(
        json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    return SampleSet(
        out_dir=out_dir,
        residents_csv=residents_csv,
        providers_csv=providers_csv,
        export_dir=export_dir,
        manifest_csv=manifest_csv,
        pdf_dir=pdf_dir,
        truth_json=truth_json,
        seed=seed,
        n=n,
        reference_date=reference_date,
        residents=residents,
        providers=providers,
        counts=counts,
        mess_counts=mess_counts,
        expected_entered=counts["accept"],
        manifest_rows=len(rows),
        pdf_files=pdf_files,
    )


# --- broken manifests for the folder source's tests ---------------------------------------
MANIFEST_VARIANTS: tuple[str, ...] = (
    "empty",
    "header_only",
    "malformed_row",
    "unknown_column",
    "cp932",
)


def _cp932_safe(case: _Case) -> bool:
    """Whether the case's manifest row can be written in CP932."""
    try:
        "".join(_manifest_row(case)).encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def write_corrupt_manifest_variants(
    out_dir: Path,
    *,
    seed: int = 0,
    reference_date: dt.date = DEFAULT_REFERENCE_DATE,
) -> dict[str, Path]:
    """Write export folders whose manifest is broken in one way each, for source tests.

    Each variant is a folder with ``manifest.csv`` and ``pdf/`` (PDFs for its rows):

    * ``empty``: a 0-byte manifest (no header at all);
    * ``header_only``: a valid header and no rows (an empty batch, not an error);
    * ``malformed_row``: 3 rows, the second with two cells missing;
    * ``unknown_column``: 3 rows plus a column 備考欄 that the form does not have, filled;
    * ``cp932``: 3 valid rows encoded in CP932 (Shift_JIS) without BOM.

    Args:
        out_dir: Parent folder; one subfolder per variant is (re)written.
        seed: Seed for the three applications.
        reference_date: "Today" for the applications.

    Returns:
        Variant name → its export folder.
    """
    rng = random.Random(seed)
    residents = generate_residents(rng, 120)
    providers = generate_providers(rng, reference_date=reference_date)
    apps = _Applicants(rng, residents, reference_date)
    cases: list[_Case] = []
    taken: set[str] = set()
    while len(cases) < 3:
        resident = apps.take()
        assert resident is not None
        submitted = _submitted_at(rng, reference_date)
        case = _Case(_receipt_no(rng, submitted, taken), submitted, None, resident)
        _fill_case(rng, case, providers)
        if _cp932_safe(case):
            cases.append(case)
    cases.sort(key=lambda c: c.submitted_at)
    rows = [_manifest_row(c) for c in cases]
    pdfs = {
        c.receipt_no: render_application_pdf(c.receipt_no, c.submitted_at, c.fields) for c in cases
    }

    folders: dict[str, Path] = {}
    for variant in MANIFEST_VARIANTS:
        folder = out_dir / variant
        if folder.exists():
            shutil.rmtree(folder)
        pdf_dir = folder / "pdf"
        pdf_dir.mkdir(parents=True)
        manifest = folder / "manifest.csv"
        if variant == "empty":
            manifest.write_bytes(b"")
        elif variant == "header_only":
            _write_manifest(manifest, [])
        elif variant == "malformed_row":
            broken = [rows[0], rows[1][:-2], rows[2]]
            _write_manifest(manifest, broken)
        elif variant == "unknown_column":
            _write_manifest(
                manifest,
                [[*row, "至急対応希望"] for row in rows],
                header=[*MANIFEST_COLUMNS, "備考欄"],
            )
        else:
            _write_manifest(manifest, rows, encoding="cp932")
        if variant not in ("empty", "header_only"):
            for receipt_no, data in pdfs.items():
                (pdf_dir / f"{receipt_no}.pdf").write_bytes(data)
        folders[variant] = folder
    return folders
