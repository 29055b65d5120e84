"""The export-folder source: valid folders, every bad input's reason code, atomic fetch."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civicflow.errors import InputError, PermanentError
from civicflow.models import CHILDCARE_FIELD_LABELS, Severity, SubmissionRef
from civicflow.settings import Settings
from civicflow.sources import ApplicationSource, ExportFolderSource, PortalClient, make_source
from civicflow.sources import base as base_module

Row = Callable[..., dict[str, str]]
LIMIT = 1024


def codes(listing: Any) -> list[str]:
    return [q.reason.code for q in listing.quarantined]


def test_valid_folder_lists_and_fetches(make_export: Any, row: Row, tmp_path: Path) -> None:
    export = make_export([row("R0001"), row("R0002")])
    source = ExportFolderSource(export, LIMIT)
    listing = source.list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001", "R0002"]
    assert listing.quarantined == [] and listing.duplicates == [] and listing.notices == []
    assert listing.refs[0].submitted_at == dt.datetime.fromisoformat("2024-04-01T09:30:00+09:00")

    dest = tmp_path / "intake"
    app = source.fetch(listing.refs[0], dest)
    assert app.source == "folder"
    assert app.pdf_path == dest / "R0001" / "application.pdf"
    pdf = (export / "pdf" / "R0001.pdf").read_bytes()
    assert app.pdf_path.read_bytes() == pdf
    assert app.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    saved = json.loads((dest / "R0001" / "fields.json").read_text(encoding="utf-8"))
    assert list(saved) == list(CHILDCARE_FIELD_LABELS)  # English keys, form order
    assert saved == app.fields
    assert saved["provider_id"] == "P001"
    assert sorted(p.name for p in dest.iterdir()) == ["R0001"]  # no temp folders left


def test_json_manifest(make_export: Any, row: Row, tmp_path: Path) -> None:
    second = row("R0002")
    del second["出生日"]  # a JSON export may leave blank keys out
    export = make_export([row("R0001"), second], fmt="json")
    source = ExportFolderSource(export, LIMIT)
    listing = source.list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001", "R0002"]
    assert listing.quarantined == []
    assert source.fetch(listing.refs[1], tmp_path).fields["child_birth_date"] == ""


def test_cp932_manifest_is_accepted_and_noted(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001")], encoding="cp932")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001"]
    assert [(n.code, n.severity) for n in listing.notices] == [("manifest_cp932", Severity.INFO)]


def test_undecodable_manifest_is_quarantined_whole(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001")])
    manifest = export / "manifest.csv"
    manifest.write_bytes(manifest.read_bytes() + b"\xff\xfe\xfd\r\n")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert listing.refs == []
    assert codes(listing) == ["manifest_encoding"]
    assert listing.quarantined[0].path == manifest


def test_missing_required_column_quarantines_manifest(make_export: Any, row: Row) -> None:
    columns = [c for c in row("X") if c != "申請日時"]
    export = make_export([row("R0001")], header=columns)
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert listing.refs == []
    assert codes(listing) == ["manifest_missing_columns"]
    assert "申請日時" in listing.quarantined[0].reason.message_ja
    assert "export again" in listing.quarantined[0].reason.message_en


@pytest.mark.parametrize(
    ("bad_row", "pdfs", "code"),
    [
        ({"申請日時": "令和6年4月1日"}, None, "manifest_bad_submitted_at"),
        ({"申請日時": ""}, None, "manifest_bad_submitted_at"),
        ({"受付番号": "", "添付ファイル": "nobody.pdf"}, None, "manifest_missing_receipt_no"),
        ({"受付番号": "../etc", "添付ファイル": "x.pdf"}, None, "bad_receipt_no"),
        ({"手続コード": " "}, None, "manifest_malformed_row"),
        ({"添付ファイル": "../R0009.pdf"}, None, "manifest_malformed_row"),
        ({}, {}, "pdf_missing"),
        ({"添付ファイル": ""}, None, "pdf_missing"),
        ({}, {"R0009.pdf": b"x" * (LIMIT + 1)}, "pdf_too_large"),
        ({}, {"R0009.pdf": b""}, "pdf_empty"),
    ],
)
def test_bad_row_is_quarantined_and_batch_goes_on(
    make_export: Any,
    row: Row,
    bad_row: dict[str, str],
    pdfs: dict[str, bytes] | None,
    code: str,
) -> None:
    good = row("R0001")
    bad = row("R0009", **bad_row)
    files = {"R0001.pdf": b"%PDF good"}
    if pdfs is None:
        files[bad["添付ファイル"] or "unused.pdf"] = b"%PDF bad row"
    else:
        files |= pdfs
    export = make_export([good, bad], pdfs=files)
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001"]
    record_codes = codes(listing)
    assert code in record_codes
    record = next(q for q in listing.quarantined if q.reason.code == code)
    assert record.reason.severity == Severity.QUARANTINE
    assert record.reason.message_ja and record.reason.message_en
    assert record.path is not None and record.path.exists()


def test_wrong_column_count(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001")], raw_lines=[["R0002", "2024-04-01T10:00:00+09:00"]])
    (export / "pdf" / "R0002.pdf").write_bytes(b"%PDF")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001"]
    # The malformed row still claims its PDF: no extra pdf_without_manifest.
    assert codes(listing) == ["manifest_malformed_row"]
    assert listing.quarantined[0].item_ref == "R0002"


def test_unknown_column_quarantines_rows_that_use_it(make_export: Any, row: Row) -> None:
    rows = [row("R0001", 備考="至急"), row("R0002", 備考="")]
    export = make_export(rows)
    listing = ExportFolderSource(export, LIMIT).list_new()
    # A blank value in an unknown column loses nothing: that row goes on.
    assert [r.receipt_no for r in listing.refs] == ["R0002"]
    assert codes(listing) == ["manifest_unknown_fields"]
    reason = listing.quarantined[0].reason
    assert reason.field == "備考" and "備考" in reason.message_ja
    assert listing.quarantined[0].item_ref == "R0001"


def test_unknown_key_in_json(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001", extra_field="1"), row("R0002")], fmt="json")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0002"]
    assert codes(listing) == ["manifest_unknown_fields"]


def test_invalid_json_manifest(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001")], fmt="json")
    (export / "manifest.json").write_text('{"not": "a list"}', encoding="utf-8")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert codes(listing) == ["manifest_invalid_json"]


def test_pdf_without_manifest_row(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001")])
    orphan = export / "pdf" / "R0777.pdf"
    orphan.write_bytes(b"%PDF orphan")
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001"]
    assert codes(listing) == ["pdf_without_manifest"]
    assert listing.quarantined[0].path == orphan
    assert listing.quarantined[0].item_ref == "R0777.pdf"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_empty_manifest(make_export: Any, fmt: str) -> None:
    export = make_export([], fmt=fmt)
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert listing.refs == []
    assert codes(listing) == ["manifest_empty"]


def test_no_manifest_tells_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(PermanentError) as err:
        ExportFolderSource(tmp_path, LIMIT).list_new()
    assert err.value.code == "manifest_not_found"
    assert str(tmp_path / "manifest.csv") in err.value.message_en
    assert "CIVICFLOW_EXPORT_DIR" in err.value.message_ja


def test_duplicate_receipt_no_listed_once(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001"), row("R0002"), row("R0001"), row("R0001")])
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert [r.receipt_no for r in listing.refs] == ["R0001", "R0002"]
    assert listing.duplicates == ["R0001"]
    assert listing.quarantined == []


def test_time_without_offset_is_taken_as_jst(make_export: Any, row: Row) -> None:
    export = make_export([row("R0001", 申請日時="2024-04-01T09:30:00")])
    listing = ExportFolderSource(export, LIMIT).list_new()
    assert listing.refs[0].submitted_at.utcoffset() == dt.timedelta(hours=9)


def test_refetch_replaces_and_crash_leaves_previous_download(
    make_export: Any, row: Row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = make_export([row("R0001")])
    source = ExportFolderSource(export, LIMIT)
    ref = source.list_new().refs[0]
    dest = tmp_path / "intake"
    first = source.fetch(ref, dest)
    assert source.fetch(ref, dest) == first  # idempotent

    (export / "pdf" / "R0001.pdf").write_bytes(b"%PDF changed")
    real_write = base_module._write_synced

    def crash_on_fields(path: Path, data: bytes) -> None:
        if path.name == "fields.json":
            raise OSError("disk full")
        real_write(path, data)

    monkeypatch.setattr(base_module, "_write_synced", crash_on_fields)
    with pytest.raises(OSError):
        source.fetch(ref, dest)
    # The previous complete download is untouched and no partial folder is left.
    assert first.pdf_path.read_bytes() == b"%PDF-1.4 fake R0001"
    assert sorted(p.name for p in dest.iterdir()) == ["R0001"]


def test_fetch_rechecks_the_pdf(make_export: Any, row: Row, tmp_path: Path) -> None:
    export = make_export([row("R0001"), row("R0002")])
    source = ExportFolderSource(export, LIMIT)
    refs = source.list_new().refs
    (export / "pdf" / "R0001.pdf").unlink()
    (export / "pdf" / "R0002.pdf").write_bytes(b"x" * (LIMIT + 1))
    with pytest.raises(InputError) as missing:
        source.fetch(refs[0], tmp_path)
    assert missing.value.code == "pdf_missing"
    with pytest.raises(InputError) as large:
        source.fetch(refs[1], tmp_path)
    assert large.value.code == "pdf_too_large"
    assert list(tmp_path.glob("R000*")) == []


def test_fetch_without_listing_and_unknown_ref(make_export: Any, row: Row, tmp_path: Path) -> None:
    export = make_export([row("R0001")])
    source = ExportFolderSource(export, LIMIT)
    ref = SubmissionRef(receipt_no="R0001", submitted_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC))
    assert source.fetch(ref, tmp_path / "in").receipt_no == "R0001"  # reads the manifest itself
    with pytest.raises(InputError) as err:
        source.fetch(ref.model_copy(update={"receipt_no": "R0404"}), tmp_path / "in")
    assert err.value.code == "manifest_row_missing"
    source.mark_received("R0001")  # a documented no-op
    assert source.list_new().refs[0].receipt_no == "R0001"


def test_logs_carry_no_personal_data(
    make_export: Any,
    row: Row,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    pii_values: list[str],
) -> None:
    export = make_export([row("R0001"), row("R0002", 申請日時="bad"), row("R0003", 備考="x")])
    caplog.set_level(logging.DEBUG)
    source = ExportFolderSource(export, LIMIT)
    listing = source.list_new()
    source.fetch(listing.refs[0], tmp_path)
    text = caplog.text
    assert "R0001" in text and "R0002" in text
    for value in pii_values:
        assert value not in text


def test_make_source_follows_settings(tmp_path: Path) -> None:
    folder = make_source(Settings(intake_source="folder", export_dir=tmp_path))
    assert isinstance(folder, ExportFolderSource) and folder.export_dir == tmp_path
    portal = make_source(Settings(intake_source="portal", portal_url="http://portal.test/"))
    assert isinstance(portal, PortalClient) and portal.base_url == "http://portal.test"
    assert isinstance(portal, ApplicationSource) and isinstance(folder, ApplicationSource)
    portal.close()
