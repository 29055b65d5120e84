"""Render an HTML template to PDF with WeasyPrint, Japanese font embedded.

The machines have no Japanese system font, so every PDF embeds IPAexGothic (IPA
licence), which ships with the ``matplotlib-fontja`` package. ``templates/base.html.j2``
declares it with ``@font-face`` from the ``font_url`` variable this module passes in.
WeasyPrint may read local files only: nothing is fetched from the network (LGWAN).
"""

from __future__ import annotations

import importlib.util
import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, TemplateError

from civicflow.documents import atomic_write
from civicflow.documents.environment import TEMPLATES_DIR, get_environment
from civicflow.errors import PermanentError

log = logging.getLogger(__name__)

FONT_FAMILY = "IPAexGothic"
_FONT_FILE = "ipaexg.ttf"
GETA = "〓"  # U+3013: printed where the font has no glyph, the office convention
#: IPAmj明朝 (Debian fonts-ipamj-mincho, installed by `make setup`): the font made for the
#: characters of names in the resident and family registries (文字情報基盤, ~58,000 glyphs,
#: 𠮷 included). Used only for characters IPAexGothic lacks; absent, those print as 〓.
FALLBACK_FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
FALLBACK_FAMILY = "IPAmjMincho"
#: Characters that are never replaced: they draw nothing or combine with the previous one
#: (variation selectors of 異体字, joiners, spaces, controls).
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp"})


def find_japanese_font() -> Path:
    """The IPAexGothic TTF shipped with ``matplotlib-fontja``.

    The path is located without importing the package: importing it also switches
    matplotlib's default font, which a PDF writer has no business doing.

    Returns:
        The absolute path of ``ipaexg.ttf``.

    Raises:
        PermanentError: The package or the font file is missing.
    """
    spec = importlib.util.find_spec("matplotlib_fontja")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "fonts" / _FONT_FILE
        if candidate.is_file():
            return candidate.resolve()
    raise _font_missing(Path(locations[0]) / "fonts" / _FONT_FILE if locations else None)


def _font_missing(path: Path | None) -> PermanentError:
    """The error raised when the Japanese font cannot be found."""
    where = f"（{path}）" if path else ""
    where_en = f" ({path})" if path else ""
    return PermanentError(
        f"日本語フォント IPAexGothic が見つかりません{where}。"
        "PDF の日本語が表示できないため処理を停止しました。"
        "`pip install matplotlib-fontja==1.1.0` で再インストールしてください。",
        f"The Japanese font IPAexGothic was not found{where_en}; PDFs cannot show "
        "Japanese text. Reinstall it: `pip install matplotlib-fontja==1.1.0`.",
        code="font-missing",
    )


@lru_cache(maxsize=4)
def font_codepoints(font_path: Path) -> frozenset[int]:
    """The code points a TrueType font has glyphs for (read once per font).

    Args:
        font_path: The ``.ttf`` file.

    Returns:
        The code points of the font's best Unicode cmap.
    """
    # fontTools comes with WeasyPrint (which subsets fonts with it); it ships no type hints.
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(str(font_path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str, font_path: Path | None = None) -> list[str]:
    """The characters of ``text`` the font cannot draw, each once, in order of appearance.

    IPAexGothic covers JIS X 0208 and the common variants (髙, 﨑, 邉) but not, for
    example, 𠮷 (U+20BB7); the fallback font IPAmj明朝, when installed, covers the
    registry's name characters. Only what neither can draw is missing.

    Args:
        text: The text to check.
        font_path: The TTF; ``None`` finds IPAexGothic.

    Returns:
        The missing characters (invisible and combining characters are ignored).
    """
    covered = font_codepoints(find_japanese_font() if font_path is None else font_path)
    if FALLBACK_FONT.is_file():
        covered = covered | font_codepoints(FALLBACK_FONT)
    missing: dict[str, None] = {}
    for ch in text:
        if (
            ord(ch) >= 0x80
            and ord(ch) not in covered
            and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        ):
            missing[ch] = None
    return list(missing)


def render_html(
    template_name: str,
    context: dict[str, object],
    *,
    font_path: Path | None = None,
    env: Environment | None = None,
) -> str:
    """Render a template to an HTML string, with the font variables set.

    Args:
        template_name: A template in the templates folder, e.g. ``"childcare_request_letter.html.j2"``.
        context: The template's variables.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.
        env: The Environment to use; ``None`` is :func:`get_environment`.

    A character the font cannot draw is replaced by 〓 (geta, the office convention
    for "write this character by hand") and logged as a warning with its code point;
    callers that must know which record is affected check with :func:`missing_glyphs`.

    Returns:
        The HTML text.

    Raises:
        PermanentError: The font is missing, or the template is missing or broken
            (a variable it needs was not given).
    """
    font = find_japanese_font() if font_path is None else font_path
    if not font.is_file():
        raise _font_missing(font)
    environment = env or get_environment()
    fallback = FALLBACK_FONT if FALLBACK_FONT.is_file() else None
    try:
        template = environment.get_template(template_name)
        html_text = template.render(
            {
                **context,
                "font_url": font.resolve().as_uri(),
                "font_family": FONT_FAMILY,
                "fallback_font_url": fallback.as_uri() if fallback else "",
                "fallback_font_family": FALLBACK_FAMILY,
            }
        )
    except TemplateError as exc:
        raise PermanentError(
            f"帳票テンプレート {template_name} を表示できません: {exc}。"
            "テンプレートと渡したデータの項目を確認してください（開発担当へ連絡）。",
            f"Template {template_name} cannot be rendered: {exc}. "
            "Check the template against the data passed to it (contact the developers).",
            code="template",
        ) from exc
    # Markup is ASCII, so only text (the template's and the data's) can be replaced.
    missing = missing_glyphs(html_text, font)
    if missing:
        log.warning(
            "%s: %d character(s) not in font %s printed as %s: %s",
            template_name,
            len(missing),
            font.name,
            GETA,
            ", ".join(f"U+{ord(ch):04X}" for ch in missing),
        )
        html_text = html_text.translate({ord(ch): GETA for ch in missing})
    return html_text


def render_pdf(
    template_name: str,
    context: dict[str, object],
    out_path: Path,
    *,
    font_path: Path | None = None,
    env: Environment | None = None,
) -> Path:
    """Render a template to a PDF file (A4, 20 mm margins, IPAexGothic embedded).

    The page size and margins come from ``base.html.j2``. The file is written to a
    temporary name and renamed, so an existing PDF is replaced whole or not at all.

    Args:
        template_name: A template extending ``base.html.j2``.
        context: The template's variables (``font_url`` and ``font_family`` are added).
        out_path: Where to write the PDF.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.
        env: The Environment to use; ``None`` is :func:`get_environment`.

    Returns:
        ``out_path``.

    Raises:
        PermanentError: The font or the template is missing or broken, or the
            output folder is not writable.
        TransientError: Writing the file failed for another I/O reason.
    """
    html_text = render_html(template_name, context, font_path=font_path, env=env)
    # Imported here: WeasyPrint takes most of a second to import.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    environment = env or get_environment()
    loader_dirs = getattr(environment.loader, "searchpath", None) or [str(TEMPLATES_DIR)]
    document = HTML(
        string=html_text,
        base_url=Path(loader_dirs[0]).resolve().as_uri() + "/",
        url_fetcher=URLFetcher(allowed_protocols={"file", "data"}),
    )
    with atomic_write(out_path) as tmp:
        document.write_pdf(target=str(tmp))
    log.info("PDF written: %s (template %s)", out_path.name, template_name)
    return out_path
