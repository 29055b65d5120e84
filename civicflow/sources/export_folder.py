"""The export-folder source: e-applications as the e-application system exports them (電子申請).

Layout of an export folder::

    EXPORT/manifest.csv      UTF-8 with BOM (CP932 accepted), one row per submission
    EXPORT/manifest.json     or: a JSON list of objects with the same keys
    EXPORT/pdf/<受付番号>.pdf  the filled-in form, named in the row's 添付ファイル column

Columns: 受付番号, 申請日時 (ISO 8601, +09:00), 手続コード, 添付ファイル, then one column per
label of :data:`civicflow.models.CHILDCARE_FIELD_LABELS` (申請者氏名 …).

Anything wrong with one row quarantines that row with a reason and the batch goes on; only a
manifest that cannot be read at all (encoding, header) is quarantined whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from civicflow.errors import InputError, PermanentError
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    CHILDCARE_REQUIRED_FIELDS,
    DownloadedApplication,
    QuarantineRecord,
    Reason,
    Severity,
    SubmissionRef,
)
from civicflow.sources.base import (
    INTAKE_PROCESS,
    SourceListing,
    bad_receipt_no_reason,
    is_safe_receipt_no,
    pdf_too_large_reason,
    quarantine_reason,
    save_download,
)

logger = logging.getLogger(__name__)

JST = dt.timezone(dt.timedelta(hours=9), "JST")
MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
PDF_DIR = "pdf"

COL_RECEIPT_NO = "受付番号"
COL_SUBMITTED_AT = "申請日時"
COL_PROCEDURE_CODE = "手続コード"
COL_ATTACHMENT = "添付ファイル"
META_COLUMNS: tuple[str, ...] = (
    COL_RECEIPT_NO,
    COL_SUBMITTED_AT,
    COL_PROCEDURE_CODE,
    COL_ATTACHMENT,
)
#: Columns every manifest must have: the metadata plus the labels of the required fields.
#: The other field columns may be absent (their values are then blank).
REQUIRED_COLUMNS: tuple[str, ...] = META_COLUMNS + tuple(
    CHILDCARE_FIELD_LABELS[key] for key in CHILDCARE_REQUIRED_FIELDS
)
KNOWN_COLUMNS: frozenset[str] = frozenset(META_COLUMNS) | frozenset(CHILDCARE_FIELD_LABELS.values())


class ManifestRow(BaseModel):
    """One valid manifest row: a submission whose PDF is on disk and within the size limit."""

    receipt_no: str
    submitted_at: dt.datetime
    procedure_code: str
    pdf_path: Path
    fields: dict[str, str]  # English keys, every key of CHILDCARE_FIELD_LABELS, raw values


class ExportReading(BaseModel):
    """Everything read from one export folder."""

    manifest_path: Path
    encoding: str | None = None  # "utf-8" | "cp932"; None when the bytes did not decode
    rows: list[ManifestRow] = Field(default_factory=list)  # one per 受付番号, manifest order
    listing: SourceListing = Field(default_factory=SourceListing)


class ExportFolderSource:
    """Applications from an export folder (``manifest.csv`` / ``manifest.json`` + ``pdf/``).

    Args:
        export_dir: The folder the e-application system exports into.
        max_attachment_bytes: PDFs larger than this are quarantined (``pdf_too_large``).
    """

    name: str = "folder"

    def __init__(self, export_dir: Path, max_attachment_bytes: int) -> None:
        self.export_dir = export_dir
        self.max_attachment_bytes = max_attachment_bytes
        self._rows: dict[str, ManifestRow] = {}

    def list_new(self) -> SourceListing:
        """Read the manifest and list every valid row.

        The folder cannot tell what was already downloaded: every valid row is listed on every
        run, and the store skips 受付番号 it already holds.

        Returns:
            Refs of the valid rows, quarantined rows and files, repeated 受付番号, notices.

        Raises:
            PermanentError: the folder holds no manifest (the message names where it looked).
        """
        reading = read_export(self.export_dir, self.max_attachment_bytes)
        self._rows = {row.receipt_no: row for row in reading.rows}
        return reading.listing

    def fetch(self, ref: SubmissionRef, dest_dir: Path) -> DownloadedApplication:
        """Copy one submission's PDF and fields to ``dest_dir/<受付番号>/`` atomically.

        Args:
            ref: A ref from :meth:`list_new`.
            dest_dir: The intake folder.

        Returns:
            The saved application.

        Raises:
            InputError: the row is no longer valid in the manifest, or its PDF vanished or grew
                past the limit since it was listed.
            PermanentError: the folder holds no manifest.
        """
        row = self._rows.get(ref.receipt_no)
        if row is None:
            # Fetched without listing first (e.g. in another process): read the manifest again.
            reading = read_export(self.export_dir, self.max_attachment_bytes)
            self._rows = {r.receipt_no: r for r in reading.rows}
            row = self._rows.get(ref.receipt_no)
        if row is None:
            raise InputError(
                f"受付番号 {ref.receipt_no} は manifest に有効な行がありません。"
                "隔離一覧を確認してください。",
                f"Receipt {ref.receipt_no} has no valid row in the manifest. "
                "Check the quarantine list.",
                code="manifest_row_missing",
            )
        pdf = _read_pdf(row.pdf_path, row.receipt_no, self.max_attachment_bytes)
        pdf_path, sha256 = save_download(dest_dir, row.receipt_no, pdf, row.fields)
        logger.info("folder: fetched %s", row.receipt_no)
        return DownloadedApplication(
            receipt_no=row.receipt_no,
            submitted_at=row.submitted_at,
            procedure_code=row.procedure_code,
            source=self.name,
            fields=row.fields,
            pdf_path=pdf_path,
            pdf_sha256=sha256,
        )

    def mark_received(self, receipt_no: str) -> None:
        """Do nothing: an export folder has no status to update.

        The e-application system writes the folder and never reads it back, so there is no
        one to tell. Repeat downloads are prevented by the store, which records each
        受付番号 it has received and skips it on the next run.
        """


def read_export(export_dir: Path, max_attachment_bytes: int) -> ExportReading:
    """Read and validate an export folder without copying anything.

    Args:
        export_dir: The export folder.
        max_attachment_bytes: The PDF size limit.

    Returns:
        The valid rows and the listing (refs, quarantined, duplicates, notices).

    Raises:
        PermanentError: no manifest (or two) in the folder.
    """
    manifest_path = _find_manifest(export_dir)
    reading = ExportReading(manifest_path=manifest_path)
    listing = reading.listing
    text = _decode_manifest(manifest_path, reading)
    if text is None:
        return reading

    raw_rows = (
        _csv_rows(manifest_path, text, listing)
        if manifest_path.suffix == ".csv"
        else _json_rows(manifest_path, text, listing)
    )
    if raw_rows is None:  # the whole manifest was quarantined
        return reading

    pdf_dir = export_dir / PDF_DIR
    seen: set[str] = set()
    referenced: set[str] = set()
    count = 0
    for raw in raw_rows:
        count += 1  # malformed rows count too: such a manifest is not "empty"
        referenced |= raw.attachments()
        if raw.malformed:
            continue  # quarantined while reading
        row_or_record = _check_row(
            raw.item_ref, raw.values, manifest_path, pdf_dir, max_attachment_bytes, seen, listing
        )
        if isinstance(row_or_record, ManifestRow):
            reading.rows.append(row_or_record)
            listing.refs.append(
                SubmissionRef(
                    receipt_no=row_or_record.receipt_no,
                    submitted_at=row_or_record.submitted_at,
                    procedure_code=row_or_record.procedure_code,
                )
            )
        elif row_or_record is not None:
            listing.quarantined.append(row_or_record)

    if count == 0:
        listing.quarantined.append(
            QuarantineRecord(
                process=INTAKE_PROCESS,
                item_ref=manifest_path.name,
                path=manifest_path,
                reason=quarantine_reason(
                    "manifest_empty",
                    "manifest に申請が1件もありません。電子申請システムの出力を確認し、"
                    "必要なら再出力してください。",
                    "The manifest lists no applications. Check the e-application system's "
                    "export and export again if needed.",
                ),
            )
        )

    for orphan in _orphan_pdfs(pdf_dir, referenced):
        listing.quarantined.append(
            QuarantineRecord(
                process=INTAKE_PROCESS,
                item_ref=orphan.name,
                path=orphan,
                reason=quarantine_reason(
                    "pdf_without_manifest",
                    f"PDF {orphan.name} に対応する manifest の行がありません。"
                    "manifest と PDF を同時に再出力してください。",
                    f"PDF {orphan.name} has no row in the manifest. Export the manifest and "
                    "the PDFs again together.",
                    field=COL_ATTACHMENT,
                ),
            )
        )

    for record in listing.quarantined:
        logger.warning("folder: quarantined %s (%s)", record.item_ref, record.reason.code)
    if listing.duplicates:
        logger.warning("folder: repeated receipt numbers %s", ", ".join(listing.duplicates))
    logger.info(
        "folder: %d listed, %d quarantined, %d duplicates in %s",
        len(listing.refs),
        len(listing.quarantined),
        len(listing.duplicates),
        manifest_path.name,
    )
    return reading


# --- manifest ------------------------------------------------------------------------------
def _find_manifest(export_dir: Path) -> Path:
    """The manifest of an export folder; exactly one of CSV or JSON must be there."""
    csv_path = export_dir / MANIFEST_CSV
    json_path = export_dir / MANIFEST_JSON
    found = [p for p in (csv_path, json_path) if p.is_file()]
    if not found:
        raise PermanentError(
            f"manifest が見つかりません（探した場所: {csv_path} と {json_path}）。"
            "電子申請システムの出力先と設定 CIVICFLOW_EXPORT_DIR を確認してください。",
            f"No manifest found (looked for {csv_path} and {json_path}). Check where the "
            "e-application system exports and the setting CIVICFLOW_EXPORT_DIR.",
            code="manifest_not_found",
        )
    if len(found) > 1:
        # Reading one silently could skip the applications listed only in the other.
        raise PermanentError(
            f"{export_dir} に manifest.csv と manifest.json の両方があります。"
            "どちらか一方だけを残してください。",
            f"{export_dir} holds both manifest.csv and manifest.json. Keep only one of them.",
            code="manifest_ambiguous",
        )
    return found[0]


def _decode_manifest(path: Path, reading: ExportReading) -> str | None:
    """The manifest's text: UTF-8 (BOM optional), else CP932; None when neither decodes."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
        reading.encoding = "utf-8"
        return text
    except UnicodeDecodeError:
        pass
    try:
        # Offices often export Shift_JIS (CP932): accept it, note it in the summary.
        text = raw.decode("cp932")
    except UnicodeDecodeError as exc:
        reading.listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_encoding",
                f"manifest の文字コードを読めません（{exc.start}バイト目付近が UTF-8 でも "
                "Shift_JIS(CP932) でもありません）。UTF-8 で再出力してください。",
                f"The manifest's encoding cannot be read (bytes near offset {exc.start} are "
                "neither UTF-8 nor Shift_JIS/CP932). Export it again as UTF-8.",
            )
        )
        return None
    reading.encoding = "cp932"
    reading.listing.notices.append(
        Reason(
            code="manifest_cp932",
            severity=Severity.INFO,
            message_ja="manifest を Shift_JIS(CP932) として読みました。",
            message_en="The manifest was read as Shift_JIS (CP932).",
        )
    )
    logger.info("folder: %s read as cp932", path.name)
    return text


@dataclass
class _RawRow:
    """One manifest row before validation."""

    item_ref: str  # "manifest.csv:12" / "manifest.json[3]"
    values: dict[str, str]  # column → value; for a malformed row, every cell by position
    malformed: bool = False  # already quarantined while reading

    def attachments(self) -> set[str]:
        """File names this row may name.

        A malformed row's columns cannot be trusted: every cell, and every cell + ".pdf"
        (the export names PDFs <受付番号>.pdf), so its PDF is not reported a second time.
        """
        if self.malformed:
            cells = {v.strip() for v in self.values.values() if v.strip()}
            return cells | {f"{c}.pdf" for c in cells}
        name = self.values.get(COL_ATTACHMENT, "").strip()
        return {name} if name else set()


def _cells(values: list[str]) -> dict[str, str]:
    """Cells keyed by position, for a row whose columns cannot be trusted."""
    return {str(i): v for i, v in enumerate(values)}


def _csv_rows(path: Path, text: str, listing: SourceListing) -> list[_RawRow] | None:
    """The CSV's rows; None if the whole manifest was quarantined."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[_RawRow] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if header is None:
                header = [cell.strip() for cell in record]
                if not _check_header(path, header, listing):
                    return None
                continue
            item_ref = f"{path.name}:{reader.line_num}"
            if len(record) != len(header):
                receipt_no = record[0].strip() if record else ""
                listing.quarantined.append(
                    _row_record(
                        path,
                        receipt_no if is_safe_receipt_no(receipt_no) else item_ref,
                        "manifest_malformed_row",
                        f"manifest の{reader.line_num}行目の列数が {len(record)} です"
                        f"（見出しは {len(header)} 列）。区切り文字や引用符を確認して"
                        "再出力してください。",
                        f"Line {reader.line_num} of the manifest has {len(record)} columns "
                        f"(the header has {len(header)}). Check delimiters and quotes, "
                        "then export again.",
                    )
                )
                rows.append(_RawRow(item_ref, _cells(record), malformed=True))
                continue
            rows.append(_RawRow(item_ref, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_malformed_row",
                f"manifest を CSV として読めません（{reader.line_num}行目: {exc}）。"
                "再出力してください。",
                f"The manifest is not valid CSV (line {reader.line_num}: {exc}). Export it again.",
            )
        )
        return None
    return rows


def _json_rows(path: Path, text: str, listing: SourceListing) -> list[_RawRow] | None:
    """The JSON manifest's objects; None if the whole manifest was quarantined."""
    try:
        data = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_invalid_json",
                f"manifest.json を JSON として読めません（{exc.lineno}行目）。再出力してください。",
                f"manifest.json is not valid JSON (line {exc.lineno}). Export it again.",
            )
        )
        return None
    if not isinstance(data, list):
        listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_invalid_json",
                "manifest.json は申請の配列（[...]）でなければなりません。再出力してください。",
                "manifest.json must be a list of applications ([...]). Export it again.",
            )
        )
        return None

    rows: list[_RawRow] = []
    keys_seen: set[str] = set()
    for index, item in enumerate(data):
        item_ref = f"{path.name}[{index}]"
        values = _json_object_values(item)
        if values is None:
            receipt = item.get(COL_RECEIPT_NO) if isinstance(item, dict) else None
            listing.quarantined.append(
                _row_record(
                    path,
                    receipt
                    if isinstance(receipt, str) and is_safe_receipt_no(receipt)
                    else item_ref,
                    "manifest_malformed_row",
                    f"manifest.json の{index + 1}件目はキーと文字列の値からなるオブジェクトでは"
                    "ありません。再出力してください。",
                    f"Item {index + 1} of manifest.json is not an object of text values. "
                    "Export it again.",
                )
            )
            cells = list(item.values()) if isinstance(item, dict) else []
            rows.append(_RawRow(item_ref, _cells([c for c in cells if isinstance(c, str)]), True))
            continue
        keys_seen.update(values)
        rows.append(_RawRow(item_ref, values))
    # A key that no object carries is a missing column: the export's shape is wrong. A key
    # missing from only some objects quarantines just those rows (see _check_row).
    if keys_seen and not _check_header(path, sorted(keys_seen), listing):
        return None
    return rows


def _json_object_values(item: object) -> dict[str, str] | None:
    """A JSON object's values as strings (null → ""); None if it is not a flat object."""
    if not isinstance(item, dict):
        return None
    values: dict[str, str] = {}
    for key, value in item.items():
        if value is None:
            values[str(key)] = ""
        elif isinstance(value, str):
            values[str(key)] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values[str(key)] = str(value)
        else:
            return None
    return values


def _check_header(path: Path, header: list[str], listing: SourceListing) -> bool:
    """Quarantine the whole manifest when required columns are missing or repeated."""
    missing = [col for col in REQUIRED_COLUMNS if col not in header]
    if missing:
        names = "、".join(missing)
        listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_missing_columns",
                f"manifest に必須の列がありません: {names}。manifest の列を確認して"
                "再出力してください。",
                f"The manifest lacks required columns: {', '.join(missing)}. Check the "
                "manifest columns and export again.",
            )
        )
        return False
    repeated = sorted({col for col in header if header.count(col) > 1})
    if repeated:
        listing.quarantined.append(
            _manifest_record(
                path,
                "manifest_duplicate_columns",
                f"manifest の列名が重複しています: {'、'.join(repeated)}。manifest の列を確認して"
                "再出力してください。",
                f"The manifest repeats columns: {', '.join(repeated)}. Check the manifest "
                "columns and export again.",
            )
        )
        return False
    return True


# --- rows ----------------------------------------------------------------------------------
def _check_row(
    item_ref: str,
    values: dict[str, str],
    manifest_path: Path,
    pdf_dir: Path,
    max_attachment_bytes: int,
    seen: set[str],
    listing: SourceListing,
) -> ManifestRow | QuarantineRecord | None:
    """Validate one row: a valid row, a quarantine record, or None for a repeated 受付番号."""
    receipt_no = values.get(COL_RECEIPT_NO, "").strip()
    if not receipt_no:
        return _row_record(
            manifest_path,
            item_ref,
            "manifest_missing_receipt_no",
            f"{item_ref} に受付番号がありません。電子申請システムの出力を確認してください。",
            f"{item_ref} has no receipt number (受付番号). Check the e-application system's "
            "export.",
            field=COL_RECEIPT_NO,
        )
    if not is_safe_receipt_no(receipt_no):
        return QuarantineRecord(
            process=INTAKE_PROCESS,
            item_ref=item_ref,
            path=manifest_path,
            reason=bad_receipt_no_reason(receipt_no),
        )
    if receipt_no in seen:
        if receipt_no not in listing.duplicates:
            listing.duplicates.append(receipt_no)
        return None
    seen.add(receipt_no)

    unknown = [k for k, v in values.items() if k not in KNOWN_COLUMNS and v.strip()]
    if unknown:
        names = ", ".join(unknown)
        return _row_record(
            manifest_path,
            receipt_no,
            "manifest_unknown_fields",
            f"受付番号 {receipt_no} に未知の項目があります: {'、'.join(unknown)}。"
            "申請様式が変わった可能性があります。manifest の列を確認して再出力してください。",
            f"Receipt {receipt_no} has unknown fields: {names}. The form may have changed. "
            "Check the manifest columns and export again.",
            field=unknown[0],
        )
    missing = [col for col in REQUIRED_COLUMNS if col not in values]
    if missing:  # only in JSON: one object lacks a key the others carry
        return _row_record(
            manifest_path,
            receipt_no,
            "manifest_malformed_row",
            f"受付番号 {receipt_no} に必須の項目がありません: {'、'.join(missing)}。"
            "manifest の列を確認して再出力してください。",
            f"Receipt {receipt_no} lacks required keys: {', '.join(missing)}. Check the "
            "manifest columns and export again.",
            field=missing[0],
        )

    submitted_at = _parse_submitted_at(values[COL_SUBMITTED_AT])
    if submitted_at is None:
        return _row_record(
            manifest_path,
            receipt_no,
            "manifest_bad_submitted_at",
            f"受付番号 {receipt_no} の申請日時が ISO 8601 形式（例 2024-04-01T09:30:00+09:00）"
            "ではありません。電子申請システムの出力を確認してください。",
            f"Receipt {receipt_no}: 申請日時 (submitted at) is not ISO 8601 "
            "(e.g. 2024-04-01T09:30:00+09:00). Check the e-application system's export.",
            field=COL_SUBMITTED_AT,
        )
    procedure_code = values[COL_PROCEDURE_CODE].strip()
    if not procedure_code:
        return _row_record(
            manifest_path,
            receipt_no,
            "manifest_malformed_row",
            f"受付番号 {receipt_no} の手続コードが空です。電子申請システムの出力を確認してください。",
            f"Receipt {receipt_no}: 手続コード (procedure code) is blank. Check the "
            "e-application system's export.",
            field=COL_PROCEDURE_CODE,
        )

    attachment = values[COL_ATTACHMENT].strip()
    if attachment and (Path(attachment).name != attachment or attachment in {".", ".."}):
        return _row_record(
            manifest_path,
            receipt_no,
            "manifest_malformed_row",
            f"受付番号 {receipt_no} の添付ファイル名にフォルダ区切りが含まれています。"
            "pdf フォルダ直下のファイル名だけを書いて再出力してください。",
            f"Receipt {receipt_no}: the attachment name contains a folder separator. It must "
            "be a file name directly under pdf/. Export again.",
            field=COL_ATTACHMENT,
        )
    pdf_path = pdf_dir / attachment
    if not attachment or not pdf_path.is_file():
        return _row_record(
            manifest_path,
            receipt_no,
            "pdf_missing",
            f"受付番号 {receipt_no} の申請書 PDF（{attachment or '未記入'}）が pdf フォルダに"
            "ありません。PDF を含めて再出力してください。",
            f"Receipt {receipt_no}: the application PDF ({attachment or 'not named'}) is not "
            "in the pdf folder. Export again including the PDFs.",
            field=COL_ATTACHMENT,
        )
    size_reason = _pdf_size_reason(receipt_no, pdf_path.stat().st_size, max_attachment_bytes)
    if size_reason is not None:
        return QuarantineRecord(
            process=INTAKE_PROCESS, item_ref=receipt_no, path=pdf_path, reason=size_reason
        )

    fields = {key: values.get(label, "") for key, label in CHILDCARE_FIELD_LABELS.items()}
    return ManifestRow(
        receipt_no=receipt_no,
        submitted_at=submitted_at,
        procedure_code=procedure_code,
        pdf_path=pdf_path,
        fields=fields,
    )


def _parse_submitted_at(value: str) -> dt.datetime | None:
    """Parse 申請日時; a time without offset is taken as JST (the system runs in Japan)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=JST)
    return parsed


def _pdf_size_reason(receipt_no: str, size: int, max_bytes: int) -> Reason | None:
    """The reason to quarantine a PDF of this size, or None when the size is fine."""
    if size == 0:
        return quarantine_reason(
            "pdf_empty",
            f"受付番号 {receipt_no} の申請書 PDF が空（0バイト）です。PDF を再出力してください。",
            f"Receipt {receipt_no}: the application PDF is empty (0 bytes). Export the PDF again.",
            field=COL_ATTACHMENT,
        )
    if size > max_bytes:
        return pdf_too_large_reason(receipt_no, size, max_bytes)
    return None


def _read_pdf(path: Path, receipt_no: str, max_bytes: int) -> bytes:
    """Read a listed PDF again, checking it is still there and still within the limit."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(
            f"受付番号 {receipt_no} の申請書 PDF が一覧作成後に消えました。再出力してください。",
            f"Receipt {receipt_no}: the application PDF disappeared after listing. Export again.",
            code="pdf_missing",
        ) from None
    reason = _pdf_size_reason(receipt_no, len(data), max_bytes)
    if reason is not None:
        raise InputError(reason.message_ja, reason.message_en, code=reason.code)
    return data


def _orphan_pdfs(pdf_dir: Path, referenced: set[str]) -> list[Path]:
    """PDFs in ``pdf/`` that no manifest row names."""
    if not pdf_dir.is_dir():
        return []
    return sorted(
        p
        for p in pdf_dir.iterdir()
        if p.is_file() and p.suffix.lower() == ".pdf" and p.name not in referenced
    )


def _manifest_record(path: Path, code: str, message_ja: str, message_en: str) -> QuarantineRecord:
    """A record that quarantines the whole manifest."""
    return QuarantineRecord(
        process=INTAKE_PROCESS,
        item_ref=path.name,
        path=path,
        reason=quarantine_reason(code, message_ja, message_en),
    )


def _row_record(
    path: Path,
    item_ref: str,
    code: str,
    message_ja: str,
    message_en: str,
    field: str | None = None,
) -> QuarantineRecord:
    """A record that quarantines one manifest row (``path`` is the manifest)."""
    return QuarantineRecord(
        process=INTAKE_PROCESS,
        item_ref=item_ref,
        path=path,
        reason=quarantine_reason(code, message_ja, message_en, field=field),
    )
