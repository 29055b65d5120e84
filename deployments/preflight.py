"""Checks `make up` makes before it starts anything: who may reach the server, which databases.

``python -m deployments.preflight`` (run by ``deployments/up.sh`` after ``env.sh``):

1. refuses to start a Prefect server that listens beyond loopback without
   ``PREFECT_SERVER_API_AUTH_STRING`` (anyone on the LAN could start, cancel or read runs);
2. on PostgreSQL, creates the store's database and Prefect's (``<store>_prefect``) when they
   do not exist yet: one setting, ``CIVICFLOW_DATABASE_URL``, moves both;
3. prints which database each uses, passwords hidden.

Exit status 0 when the services may start, 2 when access is refused, 1 when a database cannot
be reached or created; the message says what to do, in Japanese and English.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from civicflow.errors import PermanentError
from civicflow.settings import Settings

# Hosts that only this machine can reach. A name other than localhost may resolve anywhere.
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: str) -> bool:
    """True when ``host`` (an address or name the server binds to) is reachable only locally."""
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a hostname or a typo: assume the LAN can reach it


def access_problem(host: str, auth_string: str) -> PermanentError | None:
    """Why the server must not start on ``host`` with ``auth_string``, or None when it may.

    Args:
        host: ``PREFECT_SERVER_API_HOST``, the address the server listens on.
        auth_string: ``PREFECT_SERVER_API_AUTH_STRING`` (``user:password``), may be empty.

    Returns:
        None when the server may start; otherwise the error to show the operator.
    """
    auth_string = auth_string.strip()
    if auth_string:
        user, _, password = auth_string.partition(":")
        if not user or not password:
            return PermanentError(
                "PREFECT_SERVER_API_AUTH_STRING は「ユーザー名:パスワード」の形で設定してください"
                "（例: civicflow:長く推測されにくい文字列）。",
                "PREFECT_SERVER_API_AUTH_STRING must be 'user:password' "
                "(e.g. civicflow:a-long-random-string).",
                code="auth_string_malformed",
            )
        return None
    if is_loopback(host):
        return None
    return PermanentError(
        f"Prefect サーバーを {host} で待ち受けると他の端末から操作できますが、"
        "PREFECT_SERVER_API_AUTH_STRING（ユーザー名:パスワード）が設定されていません。"
        "認証文字列を設定するか、PREFECT_SERVER_API_HOST=127.0.0.1 にしてリバースプロキシ経由で"
        "公開してください（README「他の端末からの利用」）。起動を中止しました。",
        f"The Prefect server would listen on {host}, reachable from other machines, but "
        "PREFECT_SERVER_API_AUTH_STRING (user:password) is not set. Set it, or keep "
        "PREFECT_SERVER_API_HOST=127.0.0.1 behind the reverse proxy (README, 'Access from "
        "other PCs'). Not started.",
        code="auth_required",
    )


def client_auth_problem(server_auth: str, client_auth: str) -> PermanentError | None:
    """Why this machine's CLI, worker and flows would be refused by the server, or None."""
    if server_auth.strip() == client_auth.strip():
        return None
    return PermanentError(
        "PREFECT_API_AUTH_STRING（CLI・ワーカー用）が PREFECT_SERVER_API_AUTH_STRING と一致しません。"
        "同じ値にするか、PREFECT_API_AUTH_STRING を未設定にしてください（env.sh が写します）。",
        "PREFECT_API_AUTH_STRING (for the CLI and the worker) differs from "
        "PREFECT_SERVER_API_AUTH_STRING. Make them equal, or leave PREFECT_API_AUTH_STRING unset "
        "(env.sh copies it).",
        code="auth_string_mismatch",
    )


def describe_database(url: str, prefect_home: Path | None = None) -> str:
    """A database URL fit for a log line: the password hidden; "" means Prefect's SQLite."""
    if not url:
        home = prefect_home or Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
        return f"SQLite {home / 'prefect.db'}"
    return make_url(url).render_as_string(hide_password=True)


def _connect_kwargs(url: URL, database: str) -> dict[str, str | int]:
    kwargs: dict[str, str | int] = {"dbname": database, "connect_timeout": 10}
    for key, value in (
        ("host", url.host),
        ("port", url.port),
        ("user", url.username),
        ("password", url.password),
    ):
        if value:
            kwargs[key] = value
    if "sslmode" in url.query:  # asyncpg's 'ssl' and other driver options do not apply here
        kwargs["sslmode"] = str(url.query["sslmode"])
    return kwargs


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database ``url`` names unless it exists; True when created.

    Connects with the URL's own credentials to the ``postgres`` maintenance database (or
    ``template1``, or the database itself), so the role needs CREATEDB only the first time.

    Raises:
        PermanentError: the server cannot be reached, or the role may not create databases.
    """
    parsed = make_url(url)
    name = parsed.database or ""
    shown = describe_database(url)
    last: Exception | None = None
    for maintenance in ("postgres", "template1", name):
        try:
            conn = psycopg.connect(**_connect_kwargs(parsed, maintenance), autocommit=True)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            last = exc
            continue
        with conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                return False
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise PermanentError(
                    f"データベース {name} がなく、{parsed.username} には作成する権限がありません。"
                    f'管理者が作成してください: CREATE DATABASE "{name}" OWNER "{parsed.username}";',
                    f"Database {name} does not exist and {parsed.username} may not create it. "
                    f'Ask the DBA to run: CREATE DATABASE "{name}" OWNER "{parsed.username}";',
                    code="database_missing",
                ) from exc
            return True
    raise PermanentError(
        f"PostgreSQL に接続できません（{shown}）。CIVICFLOW_DATABASE_URL とサーバーの稼働を"
        f"確認してください: {last}",
        f"Cannot reach PostgreSQL ({shown}). Check CIVICFLOW_DATABASE_URL and that the server "
        f"is running: {last}",
        code="database_unreachable",
    )


def main() -> int:
    """Check access, create missing PostgreSQL databases, say which database each part uses."""
    # What the server will see: the environment, .env and the Prefect profile together.
    from prefect.settings import get_current_settings

    prefect = get_current_settings()
    server_auth, client_auth = (
        secret.get_secret_value() if secret else ""
        for secret in (prefect.server.api.auth_string, prefect.api.auth_string)
    )
    problem = access_problem(prefect.server.api.host, server_auth) or client_auth_problem(
        server_auth, client_auth
    )
    if problem:
        print(f"{problem.message_ja}\n{problem.message_en}", file=sys.stderr)
        return 2
    store_url = Settings().db_url
    # env.sh exported it from Settings().prefect_db_url unless the operator set it explicitly;
    # otherwise Prefect's default, SQLite under PREFECT_HOME.
    database = prefect.server.database.connection_url
    prefect_url = database.get_secret_value() if database else ""
    try:
        for label, url in (("store / 業務DB", store_url), ("Prefect", prefect_url)):
            created = url.startswith("postgresql") and ensure_database(url)
            note = "  (created / 作成しました)" if created else ""
            print(f"  {label}: {describe_database(url)}{note}")
    except PermanentError as exc:
        print(f"{exc.message_ja}\n{exc.message_en}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
