"""Reproducible .xlsx bytes for generated samples: the same seed gives the same file."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

_DOC_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def freeze_xlsx(data: bytes, moment: dt.datetime) -> bytes:
    """Re-zip a workbook with fixed member timestamps and document dates.

    openpyxl stamps the current time into ``docProps/core.xml`` and the zip members;
    generated samples must be byte-identical for a seed, so both are set to ``moment``.
    """
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _DOC_TIME.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            member = zipfile.ZipInfo(info.filename, date_time=moment.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, content)
    return out.getvalue()
