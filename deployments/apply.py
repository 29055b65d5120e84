"""Apply every deployment in prefect.yaml: ``prefect --no-prompt deploy --all``, made to exit 0.

Prefect 3.8.8's deploy command, *after* creating the deployments, asks the server for the
pool's online workers with ``limit=None, offset=None``; the server (with the fastapi pin that
prefect 3.8.8 needs) rejects that with a 422 and the command exits 1 although every
deployment was applied. We give that one client call explicit values and run the real CLI.
Remove this file once prefect is upgraded past the bug.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect.client.orchestration._work_pools.client import WorkPoolAsyncClient

_original = WorkPoolAsyncClient.read_workers_for_work_pool


async def _read_workers(
    self: WorkPoolAsyncClient,
    work_pool_name: str,
    worker_filter: Any = None,
    offset: int | None = None,
    limit: int | None = None,
) -> Any:
    return await _original(self, work_pool_name, worker_filter, offset or 0, limit or 100)


WorkPoolAsyncClient.read_workers_for_work_pool = _read_workers  # type: ignore[method-assign]

if __name__ == "__main__":
    from prefect.cli import app

    sys.argv = ["prefect", "--no-prompt", "deploy", "--all"]
    app()  # exits with the command's status
