"""The childcare application form as a PDF (利用申請書): render it and read it back.

The e-application system (電子申請) exports each filled form as a one-page A4 PDF: the
title, a header line with 受付番号 and 申請日時, and a bordered two-column table, one row per
field of :data:`civicflow.models.CHILDCARE_FIELD_LABELS` (label | value). Values are printed
exactly as the applicant typed them (full-width digits, 和暦, variant kanji).

Rendering embeds a subset of IPAexGothic. fpdf2 would parse the whole 6 MB font and run the
fontTools subsetter over its 12,000 glyphs for every document (~130 ms); instead the font is
parsed once, and each document gets a tiny font holding only its own glyphs, cut straight from
the raw ``glyf`` table (:class:`_GlyphStore`), which fpdf2 then embeds as usual (~10 ms).

Characters IPAexGothic lacks (e.g. 𠮷, a JIS X 0213 outsider) are drawn with the glyph of their
everyday form (吉) or, failing that, the font's empty box; the text layer (ToUnicode) always
carries the original character, so :func:`parse_application_pdf` reads every value back exactly.
"""

from __future__ import annotations

import copy
import io
import logging
import re
import struct
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib_fontja
import pdfplumber
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.ttLib.sfnt import SFNTWriter  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont
from pdfminer.pdfdocument import PDFEncryptionError

from civicflow.errors import InputError, PermanentError
from civicflow.models import CHILDCARE_FIELD_LABELS, ParsedForm

logger = logging.getLogger(__name__)

FORM_TITLE = "産前産後家事・育児支援サービス利用申請書"
FONT_FAMILY = "IPAexGothic"
_FONT_KEY = FONT_FAMILY.lower()  # fpdf2's key for the regular style of a family

#: Characters IPAexGothic has no glyph for, drawn with the glyph of their everyday form.
#: Only the picture changes: the text layer keeps the original character.
GLYPH_ALIASES: dict[str, str] = {
    "𠮷": "吉",  # つちよし (U+20BB7): common in names, not in JIS X 0213
}

# --- page geometry (mm) ----------------------------------------------------------------------
_MARGIN = 15.0
_LABEL_W = 55.0
_VALUE_W = 125.0
_ROW_H = 9.0
_TEXT_PT = 10.0
_MIN_TEXT_PT = 6.0  # long values shrink to fit one line, down to this size, then wrap
_LINE_H = 1.25 * 25.4 / 72  # mm per point of font size: line height of wrapped values
_PAGE_BOTTOM = 297.0 - _MARGIN
_HEADER_RE = re.compile(r"受付番号[:：]\s*([^\s　]+)")
_LABEL_TO_KEY = {label: key for key, label in CHILDCARE_FIELD_LABELS.items()}
# pdfplumber must keep blank characters: a full-width space is part of a name (山田　花子).
_TABLE_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "text_keep_blank_chars": True,
}

# glyf table: composite glyphs have a negative contour count
_SIMPLE_GLYPH_HEADER = struct.Struct(">h")


class _GlyphStore:
    """The font's raw tables, parsed once, and a cutter of per-document subsets.

    The cut keeps the tables a PDF viewer needs for a CIDFontType2 (glyf, loca, hmtx, hhea,
    maxp, head, hinting) with only the requested glyphs, renumbered densely; glyph names are
    given back through the glyph order, so fpdf2 finds each glyph by the name it knows.
    """

    _COPIED_TABLES = ("OS/2", "name", "cvt ", "fpgm", "prep", "gasp")

    def __init__(self, font: Any) -> None:
        reader = font.reader
        self.tables = {tag: reader[tag] for tag in self._COPIED_TABLES if tag in reader}
        self.head: bytes = reader["head"]
        self.hhea: bytes = reader["hhea"]
        self.maxp: bytes = reader["maxp"]
        self.post: bytes = reader["post"]
        self.glyf: bytes = reader["glyf"]
        self.glyph_order: list[str] = list(font.getGlyphOrder())
        self.gid_by_name = {name: gid for gid, name in enumerate(self.glyph_order)}
        count = len(self.glyph_order)
        (loc_format,) = struct.unpack_from(">h", self.head, 50)
        raw_loca: bytes = reader["loca"]
        if loc_format == 0:
            self.loca = [2 * x for x in struct.unpack(f">{count + 1}H", raw_loca[: 2 * count + 2])]
        else:
            self.loca = list(struct.unpack(f">{count + 1}I", raw_loca[: 4 * count + 4]))
        (long_metrics,) = struct.unpack_from(">H", self.hhea, 34)
        raw_hmtx: bytes = reader["hmtx"]
        pairs = list(struct.iter_unpack(">Hh", raw_hmtx[: 4 * long_metrics]))
        last_advance = pairs[-1][0]
        lsbs = struct.unpack_from(f">{count - long_metrics}h", raw_hmtx, 4 * long_metrics)
        self.metrics: list[tuple[int, int]] = pairs + [(last_advance, lsb) for lsb in lsbs]

    def subset(self, glyph_names: Iterable[str]) -> Any | None:
        """A fontTools ``TTFont`` holding only these glyphs (plus the first four).

        Returns:
            The small font, or None when a requested glyph is composite (the caller then
            falls back to fpdf2's own subsetting).
        """
        gids = sorted({0, 1, 2, 3} | {self.gid_by_name[name] for name in glyph_names})
        glyf = bytearray()
        loca = [0]
        for gid in gids:
            start, end = self.loca[gid], self.loca[gid + 1]
            if end > start:
                (contours,) = _SIMPLE_GLYPH_HEADER.unpack_from(self.glyf, start)
                if contours < 0:
                    return None
                glyf += self.glyf[start:end]
                glyf += b"\0" * (-len(glyf) % 4)
            loca.append(len(glyf))
        count = len(gids)
        head = bytearray(self.head)
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment: fontTools recomputes it
        struct.pack_into(">h", head, 50, 1)  # long loca offsets
        tables = dict(self.tables)
        tables.update(
            {
                "head": bytes(head),
                "hhea": self.hhea[:34] + struct.pack(">H", count) + self.hhea[36:],
                "maxp": self.maxp[:4] + struct.pack(">H", count) + self.maxp[6:],
                "hmtx": b"".join(struct.pack(">Hh", *self.metrics[gid]) for gid in gids),
                "loca": struct.pack(f">{count + 1}I", *loca),
                "glyf": bytes(glyf),
                "post": struct.pack(">I", 0x00030000) + self.post[4:32],  # no glyph names
                "cmap": _EMPTY_CMAP,  # a CIDFontType2 is addressed through CIDToGIDMap
            }
        )
        out = io.BytesIO()
        writer = SFNTWriter(out, len(tables))
        for tag in sorted(tables):
            writer[tag] = tables[tag]
        writer.close()
        out.seek(0)
        small = TTFont(out, recalcTimestamp=False, recalcBBoxes=False)
        small.setGlyphOrder([self.glyph_order[gid] for gid in gids])
        return small


# cmap version 0 with one (3, 1) format-4 subtable holding only the 0xFFFF end segment
_EMPTY_CMAP = struct.pack(
    ">HHHHI" + "HHHHHHH" + "HHHhH",
    *(0, 1, 3, 1, 12),
    *(4, 24, 0, 2, 2, 0, 0),
    *(0xFFFF, 0, 0xFFFF, 1, 0),
)


class _FontCache:
    """IPAexGothic parsed once: fpdf2's font object as a template, and the glyph store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        loader = FPDF()
        loader.add_font(FONT_FAMILY, fname=str(path))
        template = loader.fonts[_FONT_KEY]
        if not isinstance(template, TTFFont):  # pragma: no cover - fpdf2 always loads a TTF here
            raise TypeError(f"{path} did not load as a TrueType font")
        self.template = template
        self.glyphs = _GlyphStore(template.ttfont)
        self._lock = threading.Lock()

    def add_to(self, pdf: FPDF, texts: Iterable[str]) -> TTFFont:
        """Register a fresh copy of the font with ``pdf``, able to draw every char in ``texts``."""
        self._cover(texts)
        font = copy.copy(self.template)
        font.i = len(pdf.fonts) + 1
        font.desc = copy.copy(self.template.desc)  # fpdf2 numbers it per document
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[_FONT_KEY] = font
        return font

    def _cover(self, texts: Iterable[str]) -> None:
        """Map characters the font lacks to an alias glyph or the empty box (see module doc)."""
        font = self.template
        missing = {ch for text in texts for ch in text} - {chr(cp) for cp in (0, 0x20)}
        missing = {ch for ch in missing if ord(ch) not in font.glyph_ids}
        if not missing:
            return
        with self._lock:
            for ch in missing:
                alias = GLYPH_ALIASES.get(ch, "")
                if alias and ord(alias) in font.glyph_ids:
                    name = font.cmap[ord(alias)]
                    gid = font.glyph_ids[ord(alias)]
                    width = font.cw[ord(alias)]
                else:
                    name, gid, width = ".notdef", 0, font.desc.missing_width
                    logger.info(
                        "font %s has no glyph for U+%04X: drawn as a box", FONT_FAMILY, ord(ch)
                    )
                font.cmap[ord(ch)] = name
                font.cw[ord(ch)] = width
                font.glyph_ids[ord(ch)] = gid  # last: readers check this key first

    def embed(self, font: TTFFont) -> None:
        """Give ``font`` a fontTools font holding only the glyphs its document used."""
        small = self.glyphs.subset(font.subset.get_all_glyph_names())
        font.ttfont = (
            small if small is not None else TTFont(self.path, recalcTimestamp=False, lazy=True)
        )


_font_cache: _FontCache | None = None
_font_cache_lock = threading.Lock()


def _fonts() -> _FontCache:
    """The process-wide font cache, built on first use (~0.2 s)."""
    global _font_cache
    with _font_cache_lock:
        if _font_cache is None:
            try:
                _font_cache = _FontCache(Path(matplotlib_fontja.get_font_ttf_path()))
            except Exception as exc:
                raise PermanentError(
                    f"日本語フォント {FONT_FAMILY} を読み込めません（{type(exc).__name__}）。"
                    "matplotlib-fontja を再インストールしてください。",
                    f"Cannot load the Japanese font {FONT_FAMILY} ({type(exc).__name__})."
                    " Reinstall matplotlib-fontja.",
                    code="font_missing",
                ) from exc
        return _font_cache


def _printable(value: str) -> str:
    """A form value as one printed line: control characters (newlines, tabs) become spaces."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in value)


def render_application_pdf(
    receipt_no: str, submitted_at: datetime, fields: dict[str, str]
) -> bytes:
    """Render one filled application form as the e-application system exports it.

    Args:
        receipt_no: 受付番号, printed in the header line.
        submitted_at: 申請日時, printed in the header line and used as the PDF's creation date
            (so the same submission always gives the same bytes).
        fields: field key → value as typed; keys of ``CHILDCARE_FIELD_LABELS`` are printed in
            the form's order (a missing key prints an empty cell), other keys are ignored.
            A long value shrinks, then wraps inside its cell.

    Returns:
        The PDF document.

    Raises:
        ValueError: when the values are too long for one page (thousands of characters).
    """
    return _render(receipt_no, submitted_at, fields, fast_fonts=True)


def _render(
    receipt_no: str, submitted_at: datetime, fields: dict[str, str], *, fast_fonts: bool
) -> bytes:
    """Render the form; ``fast_fonts=False`` uses fpdf2's own font handling (tests compare)."""
    header = f"受付番号：{receipt_no}　　申請日時：{submitted_at:%Y-%m-%d %H:%M}"
    values = {key: _printable(fields.get(key, "")) for key in CHILDCARE_FIELD_LABELS}
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(submitted_at)
    pdf.set_title(FORM_TITLE)
    cache = _fonts()
    if fast_fonts:
        font = cache.add_to(pdf, [header, *values.values()])
    else:
        pdf.add_font(FONT_FAMILY, fname=str(cache.path))
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, size=16)
    pdf.cell(0, 12, FORM_TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(size=_TEXT_PT)
    pdf.cell(0, 8, header, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    room = _VALUE_W - 2 * pdf.c_margin
    for key, label in CHILDCARE_FIELD_LABELS.items():
        pdf.set_font(size=_TEXT_PT)
        size, lines = _fit(pdf, values[key], room)
        row_h = max(_ROW_H, len(lines) * size * _LINE_H + 2)
        if pdf.get_y() + row_h > _PAGE_BOTTOM:
            raise ValueError("the form's values are too long to fit one A4 page")
        pdf.set_font(size=_TEXT_PT)
        pdf.cell(_LABEL_W, row_h, label, border=1)
        pdf.set_font(size=size)
        if len(lines) == 1:
            pdf.cell(_VALUE_W, row_h, lines[0], border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            continue
        x, y = pdf.get_x(), pdf.get_y()
        pdf.rect(x, y, _VALUE_W, row_h)
        for n, line in enumerate(lines):
            pdf.set_xy(x, y + 1 + n * size * _LINE_H)
            pdf.cell(_VALUE_W, size * _LINE_H, line)
        pdf.set_xy(_MARGIN, y + row_h)
    if fast_fonts:
        cache.embed(font)
    data = bytes(pdf.output())
    _clear_fpdf_caches()
    return data


def _fit(pdf: FPDF, value: str, room: float) -> tuple[float, list[str]]:
    """The font size and lines to print ``value`` in a cell ``room`` mm wide.

    A value that does not fit at the normal size shrinks, down to ``_MIN_TEXT_PT``; past
    that it is cut into lines character by character (never at spaces, which would be lost:
    the parser joins the lines back exactly).
    """
    width = pdf.get_string_width(value)
    if width <= room:
        return _TEXT_PT, [value]
    size = _TEXT_PT * room / width * 0.98
    if size >= _MIN_TEXT_PT:
        return size, [value]
    pdf.set_font(size=_MIN_TEXT_PT)
    lines: list[str] = []
    line = ""
    for ch in value:
        if line and pdf.get_string_width(line + ch) > room * 0.98:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    return _MIN_TEXT_PT, lines


def _clear_fpdf_caches() -> None:
    """Drop fpdf2's per-method caches, which otherwise keep every document's font alive."""
    for method in (SubsetMap.pick, SubsetMap.get_glyph):
        cache_clear = getattr(method, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


# --- parsing ---------------------------------------------------------------------------------
_REFETCH = (
    "電子申請システムから取得し直してください。",
    "Fetch it again from the e-application system.",
)
_CHECK_FORM = (
    "添付ファイルがこの申請書か確認してください（様式が改版された場合はシステム担当へ）。",
    "Check that the attachment is this application form (if the form was revised, tell"
    " the system administrator).",
)


def _input_error(
    code: str, message_ja: str, message_en: str, advice: tuple[str, str] = _REFETCH
) -> InputError:
    """An :class:`InputError` about the application PDF, with the operator's next step."""
    return InputError(
        f"申請書PDF: {message_ja} この申請は隔離しました。{advice[0]}",
        f"Application PDF: {message_en} The application was quarantined. {advice[1]}",
        code=code,
    )


def _is_encryption_error(exc: BaseException) -> bool:
    """True when pdfminer (possibly wrapped by pdfplumber) refused a password-protected file."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, PDFEncryptionError):
            return True
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return False


def _root_cause(exc: BaseException) -> BaseException:
    """The library's own exception inside pdfplumber's wrapper."""
    while exc.args and isinstance(exc.args[0], BaseException) and exc.args[0] is not exc:
        exc = exc.args[0]
    return exc


def _read_page(data: bytes) -> tuple[str, list[list[str | None]]]:
    """The first page's text and its largest table, as pdfplumber reads them."""
    with pdfplumber.open(io.BytesIO(data)) as doc:
        if not doc.pages:
            raise _input_error("pdf_corrupt", "ページがありません。", "the PDF has no page.")
        page = doc.pages[0]
        text = page.extract_text() or ""
        table = page.extract_table(_TABLE_SETTINGS) or []
    return text, table


def _cell_text(cell: str | None) -> str:
    """A table cell's text; a value shrunk or wrapped over lines is joined back."""
    return (cell or "").replace("\n", "")


def parse_application_pdf(data: bytes, *, max_bytes: int) -> ParsedForm:
    """Read 受付番号 and the fields back from an application PDF.

    Args:
        data: the PDF as downloaded.
        max_bytes: the largest file accepted (``Settings.max_attachment_bytes``).

    Returns:
        The receipt number and field key → value, for every form row found.

    Raises:
        InputError: with code ``pdf_too_large``, ``pdf_corrupt`` (not a PDF, truncated,
            unreadable), ``pdf_encrypted`` (password protected), ``pdf_wrong_form`` (not
            this form: no title, header or table) or ``pdf_unknown_fields`` (rows whose
            label is not on the form). No library exception escapes.
    """
    if len(data) > max_bytes:
        raise _input_error(
            "pdf_too_large",
            f"ファイルが大きすぎます（{len(data):,} バイト、上限 {max_bytes:,} バイト）。",
            f"the file is too large ({len(data):,} bytes, limit {max_bytes:,}).",
            (
                "添付ファイルを確認してください（上限は設定 max_attachment_bytes）。",
                "Check the attachment (the limit is the setting max_attachment_bytes).",
            ),
        )
    if b"%PDF-" not in data[:1024]:
        raise _input_error("pdf_corrupt", "PDFではありません。", "the file is not a PDF.")
    if b"%%EOF" not in data[-1024:]:
        raise _input_error(
            "pdf_corrupt", "ファイルが途中で切れています。", "the file is truncated."
        )
    try:
        text, table = _read_page(data)
    except InputError:
        raise
    except Exception as exc:  # any library failure is a bad input, never a crash
        if _is_encryption_error(exc):
            raise _input_error(
                "pdf_encrypted",
                "パスワードで保護されていて読めません。",
                "the file is password protected and cannot be read.",
                (
                    "パスワードのない PDF を電子申請システムから取得してください。",
                    "Get a PDF without a password from the e-application system.",
                ),
            ) from None
        cause = type(_root_cause(exc)).__name__
        raise _input_error(
            "pdf_corrupt",
            f"ファイルが壊れていて読めません（{cause}）。",
            f"the file is damaged and cannot be read ({cause}).",
        ) from None
    return _form_from_page(text, table)


def _form_from_page(text: str, table: Sequence[Sequence[str | None]]) -> ParsedForm:
    """Map the page's header and table rows to a :class:`ParsedForm`."""
    if FORM_TITLE not in text.replace(" ", ""):
        raise _input_error(
            "pdf_wrong_form",
            f"「{FORM_TITLE}」ではありません（表題が見つかりません）。",
            "this is not the childcare application form (title not found).",
            _CHECK_FORM,
        )
    header = _HEADER_RE.search(text)
    if header is None:
        raise _input_error(
            "pdf_wrong_form",
            "受付番号が見つかりません。",
            "the receipt number is missing.",
            _CHECK_FORM,
        )
    fields: dict[str, str] = {}
    unknown_rows: list[int] = []
    for row_no, row in enumerate(table, start=1):
        if len(row) != 2:
            unknown_rows.append(row_no)
            continue
        label = _cell_text(row[0]).strip()
        key = _LABEL_TO_KEY.get(label)
        if key is None:
            unknown_rows.append(row_no)
        else:
            fields[key] = _cell_text(row[1])
    if not fields:
        raise _input_error(
            "pdf_wrong_form",
            "申請内容の表が見つかりません。",
            "the table of application fields is missing.",
            _CHECK_FORM,
        )
    if unknown_rows:
        rows = ", ".join(str(n) for n in unknown_rows[:10])
        # the row numbers only: a stray cell may hold personal data
        raise _input_error(
            "pdf_unknown_fields",
            f"表に様式にない項目があります（{rows} 行目）。",
            f"the table has rows that are not on the form (rows {rows}).",
            _CHECK_FORM,
        )
    return ParsedForm(receipt_no=header.group(1), fields=fields)
