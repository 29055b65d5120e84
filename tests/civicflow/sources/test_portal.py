"""The portal client against the simulator (in-process ASGI), plus one real-HTTP round trip."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from civicflow.errors import InputError, PermanentError, TransientError
from civicflow.models import CHILDCARE_FIELD_LABELS, SubmissionRef
from civicflow.settings import Settings
from civicflow.simulators.portal import Faults, create_app
from civicflow.sources import PortalClient

with warnings.catch_warnings():  # starlette 1.x warns that it will want httpx2 one day
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Row = Callable[..., dict[str, str]]
BASE = "http://portal.test"
DEFAULTS = Settings()
SECRET = DEFAULTS.portal_secret.get_secret_value()


class Harness:
    """A simulator app, a TestClient on it, and a factory of portal clients."""

    def __init__(self, export: Path, state: Path, faults: Faults, **app_kwargs: Any) -> None:
        self.export = export
        self.state = state
        self.app = create_app(export, state, faults, **app_kwargs)
        self.http = TestClient(self.app, base_url=BASE)
        self.sleeps: list[float] = []
        self.paths: list[str] = []
        self.http.event_hooks = {"request": [lambda r: self.paths.append(r.url.path)]}

    def client(self, secret: str = SECRET, **kwargs: Any) -> PortalClient:
        params: dict[str, Any] = {"retries": 3, "backoff_s": 0.5, "max_attachment_bytes": 4096}
        params |= kwargs
        return PortalClient(
            BASE,
            DEFAULTS.portal_client_id,
            SecretStr(secret),
            client=self.http,
            sleep=self.sleeps.append,
            **params,
        )

    def set_faults(self, **faults: Any) -> None:
        self.http.put("/_sim/faults", json=faults).raise_for_status()

    def logins(self) -> int:
        return self.paths.count("/api/v1/auth/login")


@pytest.fixture
def harness(make_export: Any, row: Row, tmp_path: Path) -> Iterator[Harness]:
    export = make_export([row("R0001"), row("R0002"), row("R0003"), row("R0002")])
    h = Harness(export, tmp_path / "state.json", Faults(), page_size=2)
    yield h
    h.http.close()


def test_list_fetch_and_mark_received(harness: Harness, tmp_path: Path) -> None:
    client = harness.client()
    listing = client.list_new()  # three applications over two pages (page_size=2)
    assert [r.receipt_no for r in listing.refs] == ["R0001", "R0002", "R0003"]
    assert {r.status for r in listing.refs} == {"送信済"}

    dest = tmp_path / "intake"
    app = client.fetch(listing.refs[0], dest)
    pdf = (harness.export / "pdf" / "R0001.pdf").read_bytes()
    assert app.source == "portal" and app.receipt_no == "R0001"
    assert app.pdf_path.read_bytes() == pdf
    assert app.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    saved = json.loads((dest / "R0001" / "fields.json").read_text(encoding="utf-8"))
    assert list(saved) == list(CHILDCARE_FIELD_LABELS) and saved == app.fields
    assert saved["service"] == "家事支援"

    client.mark_received("R0001")
    client.mark_received("R0001")  # idempotent
    assert [r.receipt_no for r in client.list_new().refs] == ["R0002", "R0003"]
    detail = harness.http.get(
        "/api/v1/applications/R0001",
        headers={"Authorization": f"Bearer {client._access_token()}"},
    )
    assert detail.json()["status"] == "処理中"
    assert harness.logins() == 1  # one token for the whole session

    # A restarted simulator keeps the status (state file).
    restarted = Harness(harness.export, harness.state, Faults())
    assert [r.receipt_no for r in restarted.client().list_new().refs] == ["R0002", "R0003"]


def test_503_faults_are_retried(harness: Harness, tmp_path: Path) -> None:
    harness.set_faults(fail_rate=0.5, seed=7)
    client = harness.client(retries=8)
    listing = client.list_new()
    for ref in listing.refs:
        client.fetch(ref, tmp_path)
        client.mark_received(ref.receipt_no)
    assert client.list_new().refs == []
    assert harness.sleeps, "the seed should have produced at least one 503"
    assert set(harness.sleeps) <= {0.5 * 2**n for n in range(8)}


def test_exhausted_retries_raise_transient(harness: Harness) -> None:
    harness.set_faults(fail_rate=1.0)
    with pytest.raises(TransientError) as err:
        harness.client(retries=3, backoff_s=1.0).list_new()
    assert err.value.code == "portal_unavailable"
    assert harness.sleeps == [1.0, 2.0, 4.0]  # exponential backoff, bounded by retries
    assert "CIVICFLOW_PORTAL_URL" in err.value.message_en


def test_bad_secret_is_permanent_and_names_the_settings(harness: Harness) -> None:
    wrong = "not-the-secret-123"
    with pytest.raises(PermanentError) as err:
        harness.client(secret=wrong).list_new()
    assert err.value.code == "portal_auth"
    assert "CIVICFLOW_PORTAL_SECRET" in err.value.message_ja
    assert "CIVICFLOW_PORTAL_CLIENT_ID" in err.value.message_en
    assert wrong not in str(err.value)
    assert harness.sleeps == []  # never retried


def test_expired_token_logs_in_again_once(harness: Harness) -> None:
    client = harness.client()
    assert len(client.list_new().refs) == 3
    assert harness.http.post("/_sim/revoke-tokens").json() == {"revoked": 1}
    assert len(client.list_new().refs) == 3
    assert harness.logins() == 2


def test_token_refused_twice_is_permanent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/login"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(401, json={"detail": "no"})

    client = PortalClient(BASE, "id", SecretStr("s"), transport=httpx.MockTransport(handler))
    with pytest.raises(PermanentError) as err:
        client.list_new()
    assert err.value.code == "portal_auth"


def test_checksum_mismatch_is_an_input_error(harness: Harness, tmp_path: Path) -> None:
    client = harness.client()
    ref = client.list_new().refs[0]
    harness.set_faults(corrupt_rate=1.0)
    dest = tmp_path / "intake"
    with pytest.raises(InputError) as err:
        client.fetch(ref, dest)
    assert err.value.code == "attachment_checksum"
    assert not dest.exists() or list(dest.iterdir()) == []  # nothing half-written


def test_oversize_attachment_and_unknown_application(harness: Harness, tmp_path: Path) -> None:
    client = harness.client(max_attachment_bytes=5)
    refs = client.list_new().refs
    with pytest.raises(InputError) as large:
        client.fetch(refs[0], tmp_path)
    assert large.value.code == "pdf_too_large"
    with pytest.raises(InputError) as missing:
        client.fetch(refs[0].model_copy(update={"receipt_no": "R0404"}), tmp_path)
    assert missing.value.code == "portal_not_found"
    with pytest.raises(InputError) as status:
        client.mark_received("R0404")
    assert status.value.code == "portal_not_found"


def _detail(**overrides: Any) -> dict[str, Any]:
    pdf = b"%PDF mock"
    detail: dict[str, Any] = {
        "receipt_no": "R0001",
        "submitted_at": "2024-04-01T09:30:00+09:00",
        "procedure_code": "MINATO-KOSODATE-KAJI-01",
        "status": "送信済",
        "fields": {"申請者氏名": "髙橋 花子", "希望事業者番号": "P001"},
        "attachments": [
            {
                "attachment_id": "a1",
                "filename": "R0001.pdf",
                "content_type": "application/pdf",
                "size": len(pdf),
                "sha256": hashlib.sha256(pdf).hexdigest(),
            }
        ],
    }
    return detail | overrides


def _mock_client(detail: dict[str, Any], list_status: int = 200) -> PortalClient:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/auth/login"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if path == "/api/v1/applications":
            return httpx.Response(list_status, json={"items": [], "next_page": None})
        if path.endswith("/attachments/a1"):
            return httpx.Response(200, content=b"%PDF mock")
        return httpx.Response(200, json=detail)

    return PortalClient(BASE, "id", SecretStr("s"), transport=httpx.MockTransport(handler))


def test_unknown_field_label_is_an_input_error(tmp_path: Path) -> None:
    ok = _mock_client(_detail()).fetch(_ref("R0001"), tmp_path)
    assert ok.fields["applicant_name"] == "髙橋 花子" and ok.fields["due_date"] == ""

    bad = _detail(fields={"申請者氏名": "x", "ペットの名前": "ポチ"})
    with pytest.raises(InputError) as err:
        _mock_client(bad).fetch(_ref("R0001"), tmp_path / "other")
    assert err.value.code == "manifest_unknown_fields"
    assert "ペットの名前" in err.value.message_ja


def test_other_4xx_is_permanent() -> None:
    with pytest.raises(PermanentError) as err:
        _mock_client(_detail(), list_status=400).list_new()
    assert err.value.code == "portal_http_error"


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_timeouts_and_connection_errors_are_retried(exc: Exception) -> None:
    calls: list[str] = []
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) <= 2:
            raise exc
        if request.url.path.endswith("/auth/login"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"items": [], "next_page": None})

    client = PortalClient(
        BASE, "id", SecretStr("s"), transport=httpx.MockTransport(handler), sleep=sleeps.append
    )
    assert client.list_new().refs == []
    assert sleeps == [1.0, 2.0]

    calls.clear()
    always = PortalClient(
        BASE,
        "id",
        SecretStr("s"),
        retries=2,
        transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(exc)),
        sleep=sleeps.append,
    )
    with pytest.raises(TransientError):
        always.list_new()


def test_logs_carry_neither_secret_nor_personal_data(
    harness: Harness,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    pii_values: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.set_faults(fail_rate=0.3, seed=1)
    client = harness.client(retries=10)
    for ref in client.list_new().refs:
        client.fetch(ref, tmp_path)
        client.mark_received(ref.receipt_no)
    assert "R0003" in caplog.text
    for value in [SECRET, *pii_values]:
        assert value not in caplog.text
    assert SECRET not in repr(client)


def _ref(receipt_no: str) -> SubmissionRef:
    return SubmissionRef(receipt_no=receipt_no, submitted_at="2024-04-01T09:30:00+09:00")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.e2e
def test_real_http_round_trip(make_export: Any, row: Row, tmp_path: Path) -> None:
    export = make_export([row("R0001"), row("R0002")])
    app = create_app(export, tmp_path / "state.json", Faults(delay_s=0.01))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "simulator did not start"
            time.sleep(0.02)
        with PortalClient(
            f"http://127.0.0.1:{port}",
            DEFAULTS.portal_client_id,
            DEFAULTS.portal_secret,
            timeout_s=5,
            retries=1,
            backoff_s=0.01,
        ) as client:
            refs = client.list_new().refs
            assert [r.receipt_no for r in refs] == ["R0001", "R0002"]
            app_ = client.fetch(refs[1], tmp_path / "intake")
            assert app_.pdf_path.read_bytes() == (export / "pdf" / "R0002.pdf").read_bytes()
            client.mark_received("R0002")
            assert [r.receipt_no for r in client.list_new().refs] == ["R0001"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["applications"] == 2

        # A stalled portal: the client's own timeout fires, retries run out → TransientError.
        slow = {"timeout_rate": 1.0, "timeout_sleep_s": 0.5}
        httpx.put(f"http://127.0.0.1:{port}/_sim/faults", json=slow).raise_for_status()
        with (
            PortalClient(
                f"http://127.0.0.1:{port}",
                DEFAULTS.portal_client_id,
                DEFAULTS.portal_secret,
                timeout_s=0.1,
                retries=1,
                backoff_s=0.01,
            ) as client,
            pytest.raises(TransientError, match="timeout"),
        ):
            client.list_new()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
