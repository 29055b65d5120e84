"""Where e-applications (電子申請) arrive: the portal API or the export folder.

Flows call :func:`make_source` and use the :class:`ApplicationSource` it returns.
"""

from __future__ import annotations

from civicflow.sources.base import ApplicationSource, SourceListing, make_source, save_download
from civicflow.sources.export_folder import ExportFolderSource
from civicflow.sources.portal import PortalClient

__all__ = [
    "ApplicationSource",
    "ExportFolderSource",
    "PortalClient",
    "SourceListing",
    "make_source",
    "save_download",
]
