"""Stand-ins for the external systems, for demos and tests (the real clients talk to them).

Only :mod:`civicflow.simulators.portal` is here so far: the e-application API.
"""

from __future__ import annotations
