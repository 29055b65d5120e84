"""The portal source: an HTTP client for the e-application API (電子申請等情報受取等API).

The API is shaped like マイナポータル's 電子申請等情報受取等API (login → list by status →
details by 受付番号 → attachments → status update); the JSON design is ours and is
documented in ``docs/portal-api.md``. ``civicflow.simulators.portal`` serves it for demos.

Library exceptions are translated here, at the boundary:

* timeouts, connection errors, 429 and 5xx → retried with exponential backoff, then
  :class:`~civicflow.errors.TransientError`;
* bad credentials and other 4xx → :class:`~civicflow.errors.PermanentError` naming the
  setting to check;
* one broken application (404, oversize or corrupted attachment, unknown fields) →
  :class:`~civicflow.errors.InputError`, so the batch goes on.

Log lines carry 受付番号 only; the secret is a ``SecretStr`` and never leaves this module
except in the login request body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from civicflow.errors import InputError, PermanentError, TransientError
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    DownloadedApplication,
    QuarantineRecord,
    SubmissionRef,
)
from civicflow.sources.base import (
    INTAKE_PROCESS,
    LABEL_TO_KEY,
    SourceListing,
    bad_receipt_no_reason,
    is_safe_receipt_no,
    pdf_too_large_reason,
    quarantine_reason,
    save_download,
)

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
STATUS_SUBMITTED = "送信済"  # waiting for the ward
STATUS_RECEIVED = "処理中"  # the ward has taken it
#: HTTP statuses worth retrying: rate limiting and server-side failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Stop following ``next_page`` after this many pages (a broken server could loop forever).
MAX_PAGES = 10_000
#: Log in again this many seconds before the token's announced expiry.
TOKEN_MARGIN_S = 30.0

_CREDENTIALS_HINT_JA = (
    "設定 CIVICFLOW_PORTAL_CLIENT_ID と CIVICFLOW_PORTAL_SECRET を確認してください。"
)
_CREDENTIALS_HINT_EN = "Check the settings CIVICFLOW_PORTAL_CLIENT_ID and CIVICFLOW_PORTAL_SECRET."


# --- the API's payloads ------------------------------------------------------------------
class _Login(BaseModel):
    access_token: str
    expires_in: int = 3600


class _ListItem(BaseModel):
    receipt_no: str
    submitted_at: dt.datetime
    procedure_code: str
    status: str


class _ListPage(BaseModel):
    items: list[dict[str, Any]]
    next_page: int | None = None


class _Attachment(BaseModel):
    attachment_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class _Detail(BaseModel):
    receipt_no: str
    submitted_at: dt.datetime
    procedure_code: str
    status: str
    fields: dict[str, str | int | float | None]
    attachments: list[_Attachment]


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth retrying."""


class PortalClient:
    """Applications from the e-application API, on an ``httpx.Client``.

    Args:
        base_url: The portal's root URL (``CIVICFLOW_PORTAL_URL``).
        client_id: The ward's API client ID (``CIVICFLOW_PORTAL_CLIENT_ID``).
        secret: The client's secret (``CIVICFLOW_PORTAL_SECRET``).
        timeout_s: Timeout of each HTTP request.
        retries: Retries after the first attempt of a request (so ``retries + 1`` attempts).
        backoff_s: First retry delay; it doubles with each retry.
        max_attachment_bytes: Attachments larger than this are refused (``pdf_too_large``).
        client: An ``httpx.Client`` to use instead of a new one (tests pass a
            ``fastapi.testclient.TestClient``); the caller then owns it.
        transport: A transport for the new client (tests pass ``httpx.MockTransport``).
        sleep: The function that waits between retries (tests inject a no-op).
        clock: A monotonic clock for the token's expiry.
    """

    name: str = "portal"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        secret: SecretStr | str,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        max_attachment_bytes: int = 5 * 1024 * 1024,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self.timeout_s = timeout_s
        self.retries = max(retries, 0)
        self.backoff_s = backoff_s
        self.max_attachment_bytes = max_attachment_bytes
        self._owns_client = client is None
        self._client = client or httpx.Client(transport=transport, timeout=timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    def __repr__(self) -> str:
        return f"PortalClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    # --- ApplicationSource ----------------------------------------------------------------
    def list_new(self) -> SourceListing:
        """List the submissions in status 送信済 (sent, not yet taken by the ward).

        Returns:
            Refs to fetch; listing items the client cannot use are quarantined.

        Raises:
            TransientError: the portal stayed unreachable through all retries.
            PermanentError: credentials or the portal URL are wrong.
        """
        listing = SourceListing()
        seen: set[str] = set()
        page: int | None = 1
        pages_read = 0
        while page is not None:
            pages_read += 1
            if pages_read > MAX_PAGES:
                self._bad_response("applications", f"more than {MAX_PAGES} pages")
            data = self._get_json(
                f"{API_PREFIX}/applications", params={"status": STATUS_SUBMITTED, "page": page}
            )
            try:
                parsed = _ListPage.model_validate(data)
            except ValidationError as exc:
                self._bad_response("applications", _error_locations(exc))
            for index, item in enumerate(parsed.items):
                self._add_listing_item(listing, seen, item, f"page {page} item {index + 1}")
            if parsed.next_page is not None and parsed.next_page <= page:
                self._bad_response("applications", "next_page does not advance")
            page = parsed.next_page
        logger.info(
            "portal: %d listed, %d quarantined, %d duplicates",
            len(listing.refs),
            len(listing.quarantined),
            len(listing.duplicates),
        )
        return listing

    def fetch(self, ref: SubmissionRef, dest_dir: Path) -> DownloadedApplication:
        """Download one submission's details and PDF to ``dest_dir/<受付番号>/`` atomically.

        Args:
            ref: A ref from :meth:`list_new`.
            dest_dir: The intake folder.

        Returns:
            The saved application (fields keyed by English keys).

        Raises:
            InputError: unknown 受付番号, unknown field labels, no PDF, PDF over the size
                limit, or a checksum mismatch.
            TransientError: the portal stayed unreachable through all retries.
            PermanentError: credentials or the portal URL are wrong.
        """
        receipt_no = self._checked_receipt_no(ref.receipt_no)
        data = self._get_json(f"{API_PREFIX}/applications/{receipt_no}", receipt_no=receipt_no)
        try:
            detail = _Detail.model_validate(data)
        except ValidationError as exc:
            raise InputError(
                f"受付番号 {receipt_no} の申請データの形式が不正です（{_error_locations(exc)}）。"
                "電子申請システムの管理者に確認してください。",
                f"Receipt {receipt_no}: the application data is malformed "
                f"({_error_locations(exc)}). Ask the e-application system's administrator.",
                code="portal_bad_payload",
            ) from None
        if detail.receipt_no != receipt_no:
            raise InputError(
                f"受付番号 {receipt_no} を要求しましたが別の受付番号の申請が返されました。"
                "電子申請システムの管理者に確認してください。",
                f"Asked for receipt {receipt_no} but the portal returned another one. "
                "Ask the e-application system's administrator.",
                code="portal_bad_payload",
            )
        fields = _english_fields(receipt_no, detail.fields)
        attachment = _pdf_attachment(receipt_no, detail.attachments)
        if attachment.size > self.max_attachment_bytes:
            self._too_large(receipt_no, attachment.size)
        pdf = self._download(receipt_no, attachment)
        pdf_path, sha256 = save_download(dest_dir, receipt_no, pdf, fields)
        logger.info("portal: fetched %s", receipt_no)
        return DownloadedApplication(
            receipt_no=receipt_no,
            submitted_at=detail.submitted_at,
            procedure_code=detail.procedure_code,
            source=self.name,
            fields=fields,
            pdf_path=pdf_path,
            pdf_sha256=sha256,
        )

    def mark_received(self, receipt_no: str) -> None:
        """Set the submission's status to 処理中 so the portal stops listing it.

        Setting the same status twice is harmless, so a re-run after a crash is safe.

        Raises:
            InputError: the portal does not know this 受付番号.
            TransientError: the portal stayed unreachable through all retries.
            PermanentError: credentials or the portal URL are wrong.
        """
        receipt_no = self._checked_receipt_no(receipt_no)
        self._request(
            "PUT",
            f"{API_PREFIX}/applications/{receipt_no}/status",
            json_body={"status": STATUS_RECEIVED},
            receipt_no=receipt_no,
        )
        logger.info("portal: marked %s as received", receipt_no)

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connection pool (unless the client was passed in)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- HTTP --------------------------------------------------------------------------------
    def _login(self) -> str:
        """Log in and remember the access token."""
        body = {"client_id": self.client_id, "secret": self._secret.get_secret_value()}
        _, content = self._request(
            "POST", f"{API_PREFIX}/auth/login", json_body=body, authenticated=False
        )
        try:
            login = _Login.model_validate_json(content)
        except ValidationError:
            self._bad_response("auth/login", "no access_token")
        self._token = login.access_token
        margin = min(TOKEN_MARGIN_S, login.expires_in / 2)  # short tokens: renew halfway
        self._token_expires = self._clock() + login.expires_in - margin
        logger.info("portal: logged in as %s", self.client_id)
        return login.access_token

    def _access_token(self) -> str:
        """The current token, logging in when there is none or it is about to expire."""
        if self._token is None or self._clock() >= self._token_expires:
            return self._login()
        return self._token

    def _get_json(
        self, path: str, *, params: dict[str, Any] | None = None, receipt_no: str | None = None
    ) -> Any:
        """GET a JSON document."""
        _, content = self._request("GET", path, params=params, receipt_no=receipt_no)
        try:
            return json.loads(content)
        except ValueError:
            self._bad_response(path.removeprefix(API_PREFIX + "/"), "not JSON")

    def _download(self, receipt_no: str, attachment: _Attachment) -> bytes:
        """Download one attachment and check its size and SHA-256."""
        path = (
            f"{API_PREFIX}/applications/{receipt_no}/attachments/"
            f"{quote(attachment.attachment_id, safe='')}"
        )
        _, content = self._request(
            "GET", path, receipt_no=receipt_no, max_bytes=self.max_attachment_bytes
        )
        if hashlib.sha256(content).hexdigest() != attachment.sha256.strip().lower():
            raise InputError(
                f"受付番号 {receipt_no} の添付ファイルのチェックサム（SHA-256）が一致しません。"
                "転送中に壊れた可能性があります。次回の実行で再取得されます。続く場合は"
                "電子申請システムの管理者に連絡してください。",
                f"Receipt {receipt_no}: the attachment's SHA-256 does not match; it may have "
                "been damaged in transit. The next run fetches it again; if this persists, "
                "contact the e-application system's administrator.",
                code="attachment_checksum",
            )
        return content

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        receipt_no: str | None = None,
        authenticated: bool = True,
        max_bytes: int | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """Send one API request with retries, re-login on 401, and error translation.

        Returns:
            The response (closed) and its body.
        """
        url = self.base_url + path
        relogged_in = False
        attempt = 0
        while True:
            headers = {}
            if authenticated:
                headers["Authorization"] = f"Bearer {self._access_token()}"
            try:
                response, content = self._send_once(
                    method, url, params, json_body, headers, receipt_no, max_bytes
                )
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise TransientError(
                        f"電子申請システムに接続できません（{exc}、{attempt + 1}回試行）。"
                        "時間をおいて再実行してください。続く場合は設定 CIVICFLOW_PORTAL_URL と"
                        "ネットワークを確認してください。",
                        f"The e-application portal is not answering ({exc}, "
                        f"{attempt + 1} attempts). Try again later; if this persists, check "
                        "the setting CIVICFLOW_PORTAL_URL and the network.",
                        code="portal_unavailable",
                    ) from None
                delay = self.backoff_s * 2**attempt
                logger.warning(
                    "portal: %s %s failed (%s), retry %d/%d in %.1f s",
                    method,
                    path,
                    exc,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                self._sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            if status == 401 and authenticated and not relogged_in:
                # The token expired or was revoked: log in again, once.
                logger.info("portal: token refused, logging in again")
                self._token = None
                relogged_in = True
                continue
            if 200 <= status < 300:
                return response, content
            self._raise_for_status(status, path, authenticated, receipt_no)

    def _send_once(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json_body: Any,
        headers: dict[str, str],
        receipt_no: str | None,
        max_bytes: int | None,
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: send, read the body (bounded), classify retryable failures."""
        try:
            request = self._client.build_request(
                method, url, params=params, json=json_body, headers=headers, timeout=self.timeout_s
            )
            response = self._client.send(request, stream=True)
            try:
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(f"HTTP {response.status_code}")
                if max_bytes is not None and response.is_success:
                    content = self._read_bounded(response, receipt_no or "", max_bytes)
                else:
                    content = response.read()
            finally:
                response.close()
        except httpx.TimeoutException:
            raise _Retryable("timeout") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Retryable(type(exc).__name__) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise PermanentError(
                f"電子申請システムの URL {self.base_url!r} が不正です。"
                "設定 CIVICFLOW_PORTAL_URL を確認してください。",
                f"The portal URL {self.base_url!r} is invalid. Check the setting "
                "CIVICFLOW_PORTAL_URL.",
                code="portal_bad_url",
            ) from None
        return response, content

    def _read_bounded(self, response: httpx.Response, receipt_no: str, max_bytes: int) -> bytes:
        """Read a body, refusing it as soon as it passes ``max_bytes``."""
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            self._too_large(receipt_no, int(length))
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > max_bytes:
                self._too_large(receipt_no, total)
            chunks.append(chunk)
        return b"".join(chunks)

    def _raise_for_status(
        self, status: int, path: str, authenticated: bool, receipt_no: str | None
    ) -> NoReturn:
        """Translate a non-2xx, non-retryable status into the right error."""
        if status in (401, 403):
            what_ja = "ログインできません" if not authenticated else "アクセスが拒否されました"
            what_en = "Login failed" if not authenticated else "Access was refused"
            raise PermanentError(
                f"電子申請システムに{what_ja}（HTTP {status}）。{_CREDENTIALS_HINT_JA}",
                f"{what_en} by the e-application portal (HTTP {status}). {_CREDENTIALS_HINT_EN}",
                code="portal_auth",
            )
        if status == 404 and receipt_no is not None:
            raise InputError(
                f"受付番号 {receipt_no} は電子申請システムにありません（取下げ等の可能性）。"
                "電子申請システムの画面で確認してください。",
                f"Receipt {receipt_no} is not in the e-application portal (it may have been "
                "withdrawn). Check it on the portal's screen.",
                code="portal_not_found",
            )
        raise PermanentError(
            f"電子申請システムが要求を拒否しました（HTTP {status}、{path}）。"
            "設定 CIVICFLOW_PORTAL_URL と電子申請システムの版を確認してください。",
            f"The e-application portal refused the request (HTTP {status}, {path}). Check "
            "the setting CIVICFLOW_PORTAL_URL and the portal's API version.",
            code="portal_http_error",
        )

    # --- helpers -----------------------------------------------------------------------------
    def _add_listing_item(
        self, listing: SourceListing, seen: set[str], item: dict[str, Any], where: str
    ) -> None:
        """Add one listing item as a ref, a quarantine record, or a duplicate."""
        raw_no = item.get("receipt_no")
        if isinstance(raw_no, str) and raw_no and not is_safe_receipt_no(raw_no):
            listing.quarantined.append(
                QuarantineRecord(
                    process=INTAKE_PROCESS, item_ref=where, reason=bad_receipt_no_reason(raw_no)
                )
            )
            return
        try:
            parsed = _ListItem.model_validate(item)
        except ValidationError as exc:
            ref = raw_no if isinstance(raw_no, str) and raw_no else where
            listing.quarantined.append(
                QuarantineRecord(
                    process=INTAKE_PROCESS,
                    item_ref=ref,
                    reason=quarantine_reason(
                        "portal_bad_listing_item",
                        f"電子申請システムの一覧の {ref} の形式が不正です"
                        f"（{_error_locations(exc)}）。電子申請システムの管理者に確認してください。",
                        f"The portal's listing entry {ref} is malformed "
                        f"({_error_locations(exc)}). Ask the e-application system's "
                        "administrator.",
                    ),
                )
            )
            return
        if parsed.status != STATUS_SUBMITTED:
            return  # the portal filtered loosely; only 送信済 is new to us
        if parsed.receipt_no in seen:
            if parsed.receipt_no not in listing.duplicates:
                listing.duplicates.append(parsed.receipt_no)
            return
        seen.add(parsed.receipt_no)
        listing.refs.append(
            SubmissionRef(
                receipt_no=parsed.receipt_no,
                submitted_at=parsed.submitted_at,
                procedure_code=parsed.procedure_code,
                status=parsed.status,
            )
        )

    @staticmethod
    def _checked_receipt_no(receipt_no: str) -> str:
        """A 受付番号 safe to put in a URL path and a folder name."""
        if not is_safe_receipt_no(receipt_no):
            reason = bad_receipt_no_reason(receipt_no)
            raise InputError(reason.message_ja, reason.message_en, code=reason.code)
        return receipt_no

    def _too_large(self, receipt_no: str, size: int) -> NoReturn:
        """Refuse an attachment over the size limit."""
        reason = pdf_too_large_reason(receipt_no, size, self.max_attachment_bytes)
        raise InputError(reason.message_ja, reason.message_en, code=reason.code)

    @staticmethod
    def _bad_response(what: str, detail: str) -> NoReturn:
        """Stop on a response that does not follow the documented API."""
        raise PermanentError(
            f"電子申請システムの応答が想定外の形式です（{what}: {detail}）。"
            "設定 CIVICFLOW_PORTAL_URL が電子申請APIを指しているか確認してください。",
            f"The e-application portal answered in an unexpected format ({what}: {detail}). "
            "Check that the setting CIVICFLOW_PORTAL_URL points at the e-application API.",
            code="portal_bad_response",
        )


def _english_fields(receipt_no: str, raw: dict[str, str | int | float | None]) -> dict[str, str]:
    """Map the API's Japanese labels to English keys; unknown labels are an input error."""
    unknown = [label for label in raw if label not in LABEL_TO_KEY]
    if unknown:
        raise InputError(
            f"受付番号 {receipt_no} に未知の項目があります: {'、'.join(unknown)}。"
            "申請様式が変わった可能性があります。様式定義を確認してください。",
            f"Receipt {receipt_no} has unknown fields: {', '.join(unknown)}. The form may "
            "have changed. Check the form definition.",
            code="manifest_unknown_fields",
        )
    fields = dict.fromkeys(CHILDCARE_FIELD_LABELS, "")
    for label, value in raw.items():
        fields[LABEL_TO_KEY[label]] = "" if value is None else str(value)
    return fields


def _pdf_attachment(receipt_no: str, attachments: list[_Attachment]) -> _Attachment:
    """The application form's PDF among the attachments (the first PDF)."""
    for attachment in attachments:
        content_type = attachment.content_type.split(";")[0].strip().lower()
        if content_type == "application/pdf" or attachment.filename.lower().endswith(".pdf"):
            return attachment
    raise InputError(
        f"受付番号 {receipt_no} に申請書 PDF が添付されていません。"
        "電子申請システムの画面で確認してください。",
        f"Receipt {receipt_no} has no application PDF attached. Check it on the portal's screen.",
        code="pdf_missing",
    )


def _error_locations(exc: ValidationError) -> str:
    """Where validation failed, without the input values (they may hold personal data)."""
    locations = sorted({".".join(str(p) for p in err["loc"]) or "(root)" for err in exc.errors()})
    return ", ".join(locations[:5])
