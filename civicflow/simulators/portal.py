"""A simulator of the e-application API (電子申請等情報受取等API), for demos and tests.

It serves an export folder's applications (``manifest.csv``/``manifest.json`` + ``pdf/``)
through the API documented in ``docs/portal-api.md``, keeps statuses in a JSON state file
(so 処理中 survives a restart), and injects faults switchable at runtime
(``GET``/``PUT /_sim/faults``): 503s, answers slower than the client's timeout, added
latency and corrupted attachments.

Run it with::

    python -m civicflow.simulators.portal --port 8710 --export-dir DIR --state PATH \\
        --fail-rate 0.1 --timeout-rate 0.02 --delay 0.05

The access log is off: request paths carry 受付番号 only, but a real deployment's proxy logs
are not ours to design, and the simulator should not teach logging habits it would not keep.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr

from civicflow.errors import PermanentError
from civicflow.models import CHILDCARE_FIELD_LABELS
from civicflow.settings import Settings, get_settings
from civicflow.sources.export_folder import JST, ManifestRow, read_export

logger = logging.getLogger(__name__)

#: The statuses an application can have (municipal e-application vocabulary).
STATUSES: tuple[str, ...] = ("送信済", "処理中", "処理完了", "申請却下", "差し戻し", "取下げ")
INITIAL_STATUS = "送信済"
ATTACHMENT_ID = "1"  # one attachment per application: the form's PDF
#: The simulator serves whatever size the folder holds; the client enforces its own limit.
_NO_SIZE_LIMIT = 2**62


def _default_client_id() -> str:
    default = Settings.model_fields["portal_client_id"].default
    return str(default)


def _default_secret() -> str:
    default = Settings.model_fields["portal_secret"].default
    return default.get_secret_value() if isinstance(default, SecretStr) else str(default)


class Faults(BaseModel):
    """Faults the simulator injects into ``/api/`` requests."""

    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # probability of a 503
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # probability of a very slow answer
    delay_s: float = Field(default=0.0, ge=0.0)  # latency added to every answer
    timeout_sleep_s: float = Field(default=15.0, ge=0.0)  # "very slow": > the client's 10 s
    corrupt_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # attachment with a flipped byte
    seed: int | None = None  # makes the faults reproducible


class LoginRequest(BaseModel):
    """Body of ``POST /api/v1/auth/login``."""

    client_id: str
    secret: str


class StatusUpdate(BaseModel):
    """Body of ``PUT /api/v1/applications/{receipt_no}/status``."""

    status: str


class _SimState:
    """The simulator's mutable state: faults, tokens, statuses, the cached export."""

    def __init__(self, export_dir: Path, state_path: Path, faults: Faults) -> None:
        self.export_dir = export_dir
        self.state_path = state_path
        self.lock = threading.Lock()
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.tokens: dict[str, float] = {}  # token → monotonic expiry
        self.statuses: dict[str, str] = self._load_statuses()
        self._rows: list[ManifestRow] = []
        self._stamp: tuple[float, ...] | None = None

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def draw(self) -> tuple[bool, bool, float, float]:
        """Roll the dice for one request: (fail, time out, delay, timeout sleep)."""
        with self.lock:
            f = self.faults
            fail = self.rng.random() < f.fail_rate
            slow = not fail and self.rng.random() < f.timeout_rate
            return fail, slow, f.delay_s, f.timeout_sleep_s

    def corrupt(self) -> bool:
        with self.lock:
            return self.rng.random() < self.faults.corrupt_rate

    # --- the export folder ---------------------------------------------------------------
    def rows(self) -> list[ManifestRow]:
        """The export's valid rows, one per 受付番号, reread when the manifest changes."""
        stamp = tuple(
            p.stat().st_mtime if p.is_file() else -1.0
            for p in (self.export_dir / "manifest.csv", self.export_dir / "manifest.json")
        )
        with self.lock:
            if stamp != self._stamp:
                try:
                    reading = read_export(self.export_dir, _NO_SIZE_LIMIT)
                except PermanentError as exc:
                    logger.warning("simulator: %s", exc.message_en)
                    self._rows = []
                else:
                    # Rows the folder source would quarantine are not served.
                    self._rows = reading.rows
                    logger.info(
                        "simulator: serving %d applications (%d rows skipped)",
                        len(reading.rows),
                        len(reading.listing.quarantined) + len(reading.listing.duplicates),
                    )
                self._stamp = stamp
            return self._rows

    def row(self, receipt_no: str) -> ManifestRow:
        for row in self.rows():
            if row.receipt_no == receipt_no:
                return row
        raise HTTPException(status_code=404, detail="application not found")

    # --- statuses ------------------------------------------------------------------------
    def status_of(self, receipt_no: str) -> str:
        with self.lock:
            return self.statuses.get(receipt_no, INITIAL_STATUS)

    def set_status(self, receipt_no: str, status: str) -> None:
        with self.lock:
            self.statuses[receipt_no] = status
            self._save_statuses()

    def _load_statuses(self) -> dict[str, str]:
        if not self.state_path.is_file():
            return {}
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        statuses = data.get("statuses", {}) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in statuses.items()}

    def _save_statuses(self) -> None:
        # Write then rename: a crash never leaves a half-written state file.
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f".{self.state_path.name}.{os.getpid()}.tmp")
        body = {"statuses": self.statuses}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_path)


def create_app(
    export_dir: Path,
    state_path: Path,
    faults: Faults,
    *,
    client_id: str | None = None,
    secret: str | None = None,
    token_ttl_s: int = 3600,
    page_size: int = 50,
) -> FastAPI:
    """Build the simulator's FastAPI app.

    Args:
        export_dir: The export folder whose applications are served.
        state_path: JSON file keeping statuses across restarts.
        faults: Faults to inject at start (changeable via ``PUT /_sim/faults``).
        client_id: Accepted client ID (default: the Settings default).
        secret: Accepted secret (default: the Settings default).
        token_ttl_s: Lifetime of an access token.
        page_size: Default number of items per listing page.

    Returns:
        The app; serve it with uvicorn or test it with ``fastapi.testclient.TestClient``.
    """
    state = _SimState(export_dir, state_path, faults)
    expected_id = client_id if client_id is not None else _default_client_id()
    expected_secret = secret if secret is not None else _default_secret()
    app = FastAPI(title="e-application API simulator (電子申請API シミュレータ)", version="1")
    app.state.sim = state

    @app.middleware("http")
    async def inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith("/api/"):
            return await call_next(request)
        fail, slow, delay, timeout_sleep = state.draw()
        if delay:
            await asyncio.sleep(delay)
        if fail:
            return JSONResponse(
                {"detail": "service temporarily unavailable (simulated)"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        if slow:
            await asyncio.sleep(timeout_sleep)
        return await call_next(request)

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        with state.lock:
            expiry = state.tokens.get(token) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.monotonic():
            raise HTTPException(
                status_code=401,
                detail="invalid or expired token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    authorized = [Depends(require_token)]

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "applications": len(state.rows())}

    @app.get("/_sim/faults")
    def get_faults() -> Faults:
        return state.faults

    @app.put("/_sim/faults")
    def put_faults(new: Faults) -> Faults:
        state.set_faults(new)
        logger.info("simulator: faults now %s", new.model_dump())
        return new

    @app.post("/_sim/revoke-tokens")
    def revoke_tokens() -> dict[str, int]:
        with state.lock:
            revoked = len(state.tokens)
            state.tokens.clear()
        return {"revoked": revoked}

    @app.post("/api/v1/auth/login")
    def login(body: LoginRequest) -> dict[str, Any]:
        ok_id = secrets.compare_digest(body.client_id.encode(), expected_id.encode())
        ok_secret = secrets.compare_digest(body.secret.encode(), expected_secret.encode())
        if not (ok_id and ok_secret):
            raise HTTPException(status_code=401, detail="invalid client_id or secret")
        token = secrets.token_urlsafe(24)
        with state.lock:
            now = time.monotonic()
            state.tokens = {t: e for t, e in state.tokens.items() if e >= now}
            state.tokens[token] = now + token_ttl_s
        return {"access_token": token, "token_type": "Bearer", "expires_in": token_ttl_s}

    @app.get("/api/v1/applications", dependencies=authorized)
    def list_applications(
        status: Annotated[str | None, Query()] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int | None, Query(ge=1, le=500)] = None,
    ) -> dict[str, Any]:
        size = per_page or page_size
        items = [
            {
                "receipt_no": row.receipt_no,
                "submitted_at": row.submitted_at.isoformat(),
                "procedure_code": row.procedure_code,
                "status": state.status_of(row.receipt_no),
            }
            for row in state.rows()
        ]
        if status is not None:
            items = [item for item in items if item["status"] == status]
        start = (page - 1) * size
        next_page = page + 1 if start + size < len(items) else None
        return {"items": items[start : start + size], "next_page": next_page}

    @app.get("/api/v1/applications/{receipt_no}", dependencies=authorized)
    def get_application(receipt_no: str) -> dict[str, Any]:
        row = state.row(receipt_no)
        pdf = _read(row.pdf_path)
        return {
            "receipt_no": row.receipt_no,
            "submitted_at": row.submitted_at.isoformat(),
            "procedure_code": row.procedure_code,
            "status": state.status_of(row.receipt_no),
            "fields": {
                label: row.fields.get(key, "") for key, label in CHILDCARE_FIELD_LABELS.items()
            },
            "attachments": [
                {
                    "attachment_id": ATTACHMENT_ID,
                    "filename": row.pdf_path.name,
                    "content_type": "application/pdf",
                    "size": len(pdf),
                    "sha256": hashlib.sha256(pdf).hexdigest(),
                }
            ],
        }

    @app.get(
        "/api/v1/applications/{receipt_no}/attachments/{attachment_id}",
        dependencies=authorized,
        response_class=Response,
    )
    def get_attachment(receipt_no: str, attachment_id: str) -> Response:
        row = state.row(receipt_no)
        if attachment_id != ATTACHMENT_ID:
            raise HTTPException(status_code=404, detail="attachment not found")
        pdf = _read(row.pdf_path)
        if pdf and state.corrupt():
            pdf = pdf[:-1] + bytes([pdf[-1] ^ 0xFF])
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{row.pdf_path.name}"'},
        )

    @app.put("/api/v1/applications/{receipt_no}/status", dependencies=authorized)
    def put_status(receipt_no: str, body: StatusUpdate) -> dict[str, Any]:
        row = state.row(receipt_no)
        if body.status not in STATUSES:
            raise HTTPException(
                status_code=422, detail=f"status must be one of {', '.join(STATUSES)}"
            )
        state.set_status(row.receipt_no, body.status)
        return {
            "receipt_no": row.receipt_no,
            "status": body.status,
            "updated_at": dt.datetime.now(JST).isoformat(timespec="seconds"),
        }

    return app


def _read(path: Path) -> bytes:
    """A PDF's bytes; 404 if it vanished since the manifest was read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise HTTPException(status_code=404, detail="attachment file missing") from None


def run_simulator(host: str, port: int, export_dir: Path, state_path: Path, faults: Faults) -> None:
    """Serve the simulator with uvicorn until interrupted (access log off).

    Args:
        host: Interface to bind (``127.0.0.1`` keeps it on this machine).
        port: TCP port (the Settings default portal URL uses 8710).
        export_dir: The export folder to serve.
        state_path: JSON file keeping statuses across restarts.
        faults: Faults to inject at start.
    """
    import uvicorn

    app = create_app(export_dir, state_path, faults)
    logger.info("simulator: serving %s on http://%s:%d", export_dir, host, port)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: ``python -m civicflow.simulators.portal``."""
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m civicflow.simulators.portal",
        description="Serve an export folder through the simulated e-application API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--export-dir", type=Path, default=settings.folder_export_dir)
    parser.add_argument("--state", type=Path, default=settings.var_dir / "portal-sim-state.json")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="probability of a 503")
    parser.add_argument("--timeout-rate", type=float, default=0.0, help="probability of a stall")
    parser.add_argument("--timeout-sleep", type=float, default=15.0, help="stall length (s)")
    parser.add_argument("--delay", type=float, default=0.0, help="latency added (s)")
    parser.add_argument("--corrupt-rate", type=float, default=0.0, help="bad attachment odds")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    faults = Faults(
        fail_rate=args.fail_rate,
        timeout_rate=args.timeout_rate,
        timeout_sleep_s=args.timeout_sleep,
        delay_s=args.delay,
        corrupt_rate=args.corrupt_rate,
        seed=args.seed,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run_simulator(args.host, args.port, args.export_dir, args.state, faults)


if __name__ == "__main__":
    main()
