"""Error classes that tell the operator what to do.

Adapters translate library exceptions at the boundary into one of three kinds:

* ``TransientError``: retry later (a 503, a timeout). Tasks retry only these.
* ``PermanentError``: stop and tell the operator how to fix it (bad settings, a broken store).
* ``InputError``: quarantine this one item with its reason and carry on with the batch.

Every message is written for a municipal operator, in Japanese and English.
"""

from __future__ import annotations


class CivicflowError(Exception):
    """Base class: a message in Japanese and English plus a stable reason code."""

    code: str = "error"

    def __init__(self, message_ja: str, message_en: str, *, code: str | None = None) -> None:
        self.message_ja = message_ja
        self.message_en = message_en
        if code is not None:
            self.code = code
        super().__init__(f"[{self.code}] {message_ja} / {message_en}")


class TransientError(CivicflowError):
    """A passing failure of an external system: retry with backoff."""

    code = "transient"


class PermanentError(CivicflowError):
    """A failure that retrying cannot fix: the operator must act."""

    code = "permanent"


class InputError(CivicflowError):
    """One input item is bad: quarantine it with this reason, carry on with the batch."""

    code = "input"
