"""Documents the office hands out or files: PDF letters, Excel ledgers, CP932 CSV.

The writers live in submodules so that importing one does not load the others
(WeasyPrint alone takes most of a second to import)::

    from civicflow.documents.environment import get_environment  # the one jinja2 Environment
    from civicflow.documents.pdf import render_pdf  # HTML template → PDF (WeasyPrint)
    from civicflow.documents.excel import write_table  # styled openpyxl sheets
    from civicflow.documents.csvfile import write_cp932_csv  # legacy-system CSV
    from civicflow.documents.childcare import write_request_letters  # 依頼書
    from civicflow.documents.childcare import update_performance_ledger  # 実績管理

Every writer replaces its output atomically (:func:`atomic_write`): a reader on the
file share sees the old file or the new one, never half a file, and a crash leaves no
partial output behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from civicflow.errors import PermanentError, TransientError


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    The temporary file sits in the same folder so the final ``os.replace`` is a rename
    on one file system. If the block raises, the temporary file is removed and
    ``path`` is left as it was.

    Args:
        path: The file to create or replace. Missing parent folders are created.

    Yields:
        The temporary path to write to (it exists, empty).

    Raises:
        PermanentError: The folder cannot be written to (permissions).
        TransientError: Another I/O failure (a network share that went away, a full disk).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not tempfile.mkstemp: its 0600 mode would survive the rename and lock the
        # other staff out of the file on the share; 0666 minus the umask is what a
        # plain open() gives.
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        raise _io_error(path, exc) from exc
    try:
        yield tmp
        with tmp.open("rb+") as fh:  # flush to disk before the rename makes it visible
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _io_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _io_error(path: Path, exc: OSError) -> PermanentError | TransientError:
    """Translate an OSError on an output file into an error that says what to do."""
    if isinstance(exc, PermissionError):
        return PermanentError(
            f"出力先に書き込めません（権限がありません）: {path}。"
            "フォルダの権限を確認するか、Excel 等でファイルを開いていれば閉じてください。",
            f"Cannot write {path}: permission denied. Check the folder's permissions, "
            "or close the file if it is open in Excel.",
            code="output-permission",
        )
    return TransientError(
        f"出力ファイルの書き込みに失敗しました: {path}（{exc.strerror or exc}）。"
        "共有フォルダの接続と空き容量を確認してください。",
        f"Writing {path} failed ({exc.strerror or exc}). "
        "Check the network share and free disk space.",
        code="output-io",
    )
