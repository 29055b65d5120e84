"""The one interface behind which e-applications (電子申請) arrive, and its shared helpers.

Two sources implement :class:`ApplicationSource`:

* ``portal`` (:class:`civicflow.sources.portal.PortalClient`): the e-application API,
  shaped like マイナポータル's 電子申請等情報受取等API (see ``docs/portal-api.md``);
* ``folder`` (:class:`civicflow.sources.export_folder.ExportFolderSource`): the export
  folder the e-application system writes (``manifest.csv`` or ``manifest.json`` + ``pdf/``).

Either way a fetched application lands as ``<dest_dir>/<受付番号>/application.pdf`` plus
``fields.json`` (fields keyed by the English keys of
:data:`civicflow.models.CHILDCARE_FIELD_LABELS`), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from civicflow.errors import InputError, PermanentError
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    DownloadedApplication,
    QuarantineRecord,
    Reason,
    Severity,
    SubmissionRef,
)

if TYPE_CHECKING:
    from civicflow.settings import Settings

#: The process name on quarantine records written by the sources.
INTAKE_PROCESS = "childcare_support"
#: File names inside one downloaded application's folder.
PDF_FILENAME = "application.pdf"
FIELDS_FILENAME = "fields.json"
#: Japanese label → English key (the inverse of ``CHILDCARE_FIELD_LABELS``).
LABEL_TO_KEY: dict[str, str] = {label: key for key, label in CHILDCARE_FIELD_LABELS.items()}

# A 受付番号 becomes a folder name: allow only characters that are safe in a path on
# every OS, so a hostile or broken value can never escape ``dest_dir``.
_RECEIPT_NO_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")


class SourceListing(BaseModel):
    """What a source has waiting: refs to fetch, inputs set aside, repeated 受付番号."""

    refs: list[SubmissionRef] = Field(default_factory=list)
    quarantined: list[QuarantineRecord] = Field(default_factory=list)
    #: 受付番号 seen more than once; each is listed once in ``refs`` (first occurrence).
    duplicates: list[str] = Field(default_factory=list)
    #: Findings that need no action but are worth a line in the run's summary
    #: (severity INFO, e.g. a manifest read as CP932).
    notices: list[Reason] = Field(default_factory=list)


@runtime_checkable
class ApplicationSource(Protocol):
    """Where e-applications come from (portal API or export folder)."""

    name: str  # "portal" | "folder", copied to DownloadedApplication.source

    def list_new(self) -> SourceListing:
        """List the submissions waiting to be fetched.

        Returns:
            The refs to fetch, plus inputs quarantined while listing and repeated 受付番号.

        Raises:
            TransientError: the source is unreachable for now; retry later.
            PermanentError: the source is misconfigured; the operator must act.
        """
        ...

    def fetch(self, ref: SubmissionRef, dest_dir: Path) -> DownloadedApplication:
        """Download one submission to ``dest_dir/<受付番号>/`` atomically.

        Args:
            ref: A ref from :meth:`list_new`.
            dest_dir: The intake folder (``Settings.intake_dir``).

        Returns:
            The saved application (fields keyed by English keys).

        Raises:
            InputError: this submission is broken; quarantine it and carry on.
            TransientError: retry later.
            PermanentError: the operator must act.
        """
        ...

    def mark_received(self, receipt_no: str) -> None:
        """Tell the source the submission was received, so it is not listed again."""
        ...


def make_source(settings: Settings) -> ApplicationSource:
    """Build the source named by ``settings.intake_source``.

    Args:
        settings: The run's settings.

    Returns:
        A :class:`PortalClient` for ``"portal"`` or an :class:`ExportFolderSource` for
        ``"folder"``.
    """
    # Imported here: both modules import this one.
    from civicflow.sources.export_folder import ExportFolderSource
    from civicflow.sources.portal import PortalClient

    if settings.intake_source == "folder":
        return ExportFolderSource(settings.folder_export_dir, settings.max_attachment_bytes)
    if settings.intake_source == "portal":
        return PortalClient(
            base_url=settings.portal_url,
            client_id=settings.portal_client_id,
            secret=settings.portal_secret,
            timeout_s=settings.portal_timeout_s,
            retries=settings.portal_retries,
            backoff_s=settings.portal_backoff_s,
            max_attachment_bytes=settings.max_attachment_bytes,
        )
    raise PermanentError(  # unreachable while the setting is a Literal; kept for safety
        f"CIVICFLOW_INTAKE_SOURCE の値 {settings.intake_source!r} は使えません。"
        "portal か folder を指定してください。",
        f"CIVICFLOW_INTAKE_SOURCE={settings.intake_source!r} is not supported: "
        "set it to portal or folder.",
        code="intake_source_unknown",
    )


def quarantine_reason(
    code: str, message_ja: str, message_en: str, field: str | None = None
) -> Reason:
    """A QUARANTINE reason with operator-readable messages."""
    return Reason(
        code=code,
        severity=Severity.QUARANTINE,
        message_ja=message_ja,
        message_en=message_en,
        field=field,
    )


def is_safe_receipt_no(value: str) -> bool:
    """Whether a 受付番号 can be used as a folder name (ASCII letters, digits, ``-``, ``_``)."""
    return _RECEIPT_NO_RE.fullmatch(value) is not None


def bad_receipt_no_reason(value: str) -> Reason:
    """The reason for a 受付番号 that cannot be used as a folder name."""
    # The value itself is not echoed: it is unvalidated input and could hold anything.
    return quarantine_reason(
        "bad_receipt_no",
        f"受付番号の形式が不正です（{len(value)}文字、英数字・ハイフン・下線以外を含む）。"
        "電子申請システムの出力を確認してください。",
        f"The receipt number is malformed ({len(value)} characters, only ASCII letters, "
        "digits, '-' and '_' are allowed). Check the e-application system's export.",
        field="受付番号",
    )


def pdf_too_large_reason(receipt_no: str, size: int, max_bytes: int) -> Reason:
    """The reason for an attachment over ``CIVICFLOW_MAX_ATTACHMENT_BYTES``."""
    return quarantine_reason(
        "pdf_too_large",
        f"受付番号 {receipt_no} の添付ファイルが {size:,} バイトで上限 {max_bytes:,} バイトを"
        "超えています。内容を確認し、必要なら上限（CIVICFLOW_MAX_ATTACHMENT_BYTES）を見直してください。",
        f"Receipt {receipt_no}: the attachment is {size:,} bytes, over the {max_bytes:,}-byte "
        "limit. Check the file; raise CIVICFLOW_MAX_ATTACHMENT_BYTES if it is genuine.",
        field="添付ファイル",
    )


def save_download(
    dest_dir: Path, receipt_no: str, pdf: bytes, fields: dict[str, str]
) -> tuple[Path, str]:
    """Write ``application.pdf`` and ``fields.json`` under ``dest_dir/<receipt_no>/`` atomically.

    Both files are written into a hidden sibling folder first and the folder is renamed
    into place, so a crash leaves either the previous complete download or none at all,
    never half of one. A re-download replaces the previous folder (idempotent).

    Args:
        dest_dir: The intake folder.
        receipt_no: The 受付番号 (checked with :func:`is_safe_receipt_no`).
        pdf: The attachment's bytes.
        fields: Field values keyed by English keys.

    Returns:
        The final PDF path and its SHA-256 (hex).

    Raises:
        InputError: the 受付番号 cannot be used as a folder name.
    """
    if not is_safe_receipt_no(receipt_no):
        reason = bad_receipt_no_reason(receipt_no)
        raise InputError(reason.message_ja, reason.message_en, code=reason.code)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / receipt_no
    # Leftovers of an earlier crash for this 受付番号: never complete, safe to drop.
    for stale in dest_dir.glob(f".{receipt_no}.*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{receipt_no}.", suffix=".partial", dir=dest_dir))
    try:
        _write_synced(tmp / PDF_FILENAME, pdf)
        body = json.dumps(fields, ensure_ascii=False, indent=2) + "\n"
        _write_synced(tmp / FIELDS_FILENAME, body.encode("utf-8"))
        if final.exists():
            # os.replace cannot swap non-empty folders: move the old one aside first.
            old = dest_dir / f".{receipt_no}.{uuid.uuid4().hex}.old"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final / PDF_FILENAME, hashlib.sha256(pdf).hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    """Write bytes and fsync them, so the rename that follows publishes complete files."""
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
