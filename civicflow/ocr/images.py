"""Open a scanned file as greyscale pages: PNG, JPEG, TIFF (multi-page too) and PDF.

A multifunction printer sends PDFs with one image per page; Pillow decodes the image
formats and pypdfium2 (installed with pdfplumber) takes the image out of each PDF page
without resampling it. Every problem with the file itself becomes an
:class:`~civicflow.errors.InputError` with a stable code, so one bad file is quarantined
and the batch goes on:

==================== =============================================================
``image_truncated``  the file ends early (an interrupted transfer)
``image_unreadable`` not an image or PDF this reader knows
``pdf_no_image``     a PDF page holds no scanned image (a text-only PDF, a fax cover)
``resolution_too_low`` far fewer pixels than an A4 page scanned at ~150 dpi (a phone photo)
==================== =============================================================

A file-level problem raises; a page-level one (one page of a PDF without an image, one
page too small) is returned on that page, so the other pages are still read.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from civicflow.errors import InputError

GrayImage = npt.NDArray[np.uint8]

#: An A4 page's short side in mm; pages are checked against it at ``min_dpi``.
A4_SHORT_MM = 210.0
#: The lowest scan resolution the reader accepts (a 150 dpi A4 page is 1240 px wide).
DEFAULT_MIN_DPI = 150.0
#: Slack on the size check: a page a little smaller than A4 at 150 dpi still passes.
SIZE_TOLERANCE = 0.85
_PDF_MAGIC = b"%PDF"
#: Signatures of the raster formats a scanner writes: a file that starts like one of them
#: but cannot be opened was cut short, not of the wrong kind.
_RASTER_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")
# A decompression bomb guard: an A4 page at 600 dpi is 35 Mpx; refuse well above that.
_MAX_PIXELS = 120_000_000


@dataclass
class PageImage:
    """One page of an input file.

    Attributes:
        page: 1-based page number within the file.
        image: The page in greyscale (0 black, 255 white), or None when ``error`` is set.
        dpi: The resolution the file states or implies (None when unknown).
        error: Why this page cannot be read (the other pages may still be fine).
    """

    page: int
    image: GrayImage | None
    dpi: float | None = None
    error: InputError | None = None


def _truncated(name: str, detail: str) -> InputError:
    return InputError(
        f"{name} は途中で切れています（転送が中断された可能性があります）。"
        "スキャンし直すか、ファイルを送り直してください。",
        f"{name} is truncated (the transfer may have been interrupted). "
        f"Scan it again or resend the file. ({detail})",
        code="image_truncated",
    )


def _unreadable(name: str, detail: str) -> InputError:
    return InputError(
        f"{name} は画像または PDF として読めません。PNG・JPEG・TIFF・PDF で保存し直してください。",
        f"{name} cannot be read as an image or PDF. Save it as PNG, JPEG, TIFF or PDF. ({detail})",
        code="image_unreadable",
    )


def _no_image(name: str, page: int) -> InputError:
    return InputError(
        f"{name} の {page} ページ目にスキャン画像がありません（文字だけの PDF です）。"
        "申請書をスキャンした PDF を送ってください。",
        f"Page {page} of {name} holds no scanned image (a text-only PDF). "
        "Send a PDF scanned from the application form.",
        code="pdf_no_image",
    )


def _too_small(name: str, page: int, size: tuple[int, int], dpi: float) -> InputError:
    return InputError(
        f"{name} の {page} ページ目は解像度が低すぎます（{size[0]}×{size[1]} 画素、"
        f"約 {dpi:.0f} dpi）。{DEFAULT_MIN_DPI:.0f} dpi 以上でスキャンし直してください。",
        f"Page {page} of {name} has too low a resolution ({size[0]}x{size[1]} px, "
        f"about {dpi:.0f} dpi). Scan it again at {DEFAULT_MIN_DPI:.0f} dpi or more.",
        code="resolution_too_low",
    )


def _to_gray(image: Image.Image) -> GrayImage:
    """Greyscale uint8, with a white background for transparent images."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        scale = 255.0 / max(float(array.max()), 1.0)
        return np.clip(array * scale, 0, 255).astype(np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def _effective_dpi(size: tuple[int, int], page_mm: float = A4_SHORT_MM) -> float:
    """The resolution implied by the pixel size, taking the short side as A4's."""
    return min(size) / (page_mm / 25.4)


def _check_size(
    page: PageImage, name: str, min_dpi: float, page_short_mm: float = A4_SHORT_MM
) -> PageImage:
    """Set ``resolution_too_low`` on a page far smaller than A4 at ``min_dpi``."""
    if page.image is None:
        return page
    h, w = page.image.shape
    needed = page_short_mm / 25.4 * min_dpi * SIZE_TOLERANCE
    if min(w, h) < needed:
        page.error = _too_small(name, page.page, (w, h), _effective_dpi((w, h), page_short_mm))
        page.image = None
    return page


def _decode_raster(data: bytes, name: str) -> list[PageImage]:
    """Every frame of a PNG/JPEG/TIFF, EXIF orientation applied."""
    # A cut-off file makes Pillow warn (corrupt EXIF) before it fails; the failure is the
    # news, reported as an InputError, so the warning is not repeated on the console.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _decode_frames(data, name)


def _cut_short(data: bytes) -> str | None:
    """Why a PNG or JPEG file visibly ends early, or None.

    Pillow is not asked: another library in the same process (WeasyPrint does, on import)
    may have set ``ImageFile.LOAD_TRUNCATED_IMAGES``, and Pillow then fills the missing
    part of the page with grey instead of failing.
    """
    tail = data[-4096:]
    if data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" not in tail:
        return "the PNG has no end marker (IEND)"
    if data.startswith(b"\xff\xd8\xff") and b"\xff\xd9" not in tail:
        return "the JPEG has no end marker (EOI)"
    return None


def _decode_frames(data: bytes, name: str) -> list[PageImage]:
    short = _cut_short(data)
    if short is not None:
        raise _truncated(name, short)
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        if data.startswith(_RASTER_MAGIC):
            raise _truncated(name, str(exc)) from exc
        raise _unreadable(name, str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _truncated(name, str(exc)) from exc
    if image.width * image.height > _MAX_PIXELS:
        raise _unreadable(name, f"{image.width}x{image.height} px is larger than any scan")
    pages: list[PageImage] = []
    frames = getattr(image, "n_frames", 1)
    for index in range(frames):
        try:
            image.seek(index)
            image.load()
            frame = ImageOps.exif_transpose(image) or image
            gray = _to_gray(frame)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Pillow reports an early end of data as OSError ("image file is truncated",
            # "-2 when reading image file", "broken data stream"): all one cause here.
            if index == 0:
                raise _truncated(name, str(exc)) from exc
            pages.append(PageImage(index + 1, None, None, _truncated(name, str(exc))))
            break
        dpi_info = image.info.get("dpi")
        dpi = float(dpi_info[0]) if isinstance(dpi_info, tuple) and dpi_info[0] else None
        pages.append(PageImage(index + 1, gray, dpi))
    return pages


def _decode_pdf(data: bytes, name: str) -> list[PageImage]:
    """The scanned image of every PDF page (the largest one when a page has several)."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        detail = str(exc)
        if "password" in detail.lower():
            raise _unreadable(name, "the PDF is password-protected") from exc
        raise _truncated(name, detail) from exc
    pages: list[PageImage] = []
    try:
        for index in range(len(document)):
            page = document[index]
            number = index + 1
            try:
                width_pt, _ = page.get_size()
                images = list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)))
                if not images:
                    pages.append(PageImage(number, None, None, _no_image(name, number)))
                    continue
                largest = max(images, key=lambda obj: obj.get_px_size()[0] * obj.get_px_size()[1])
                left, _, right, _ = largest.get_bounds()
                pil = largest.get_bitmap(render=False).to_pil()
                gray = _to_gray(pil)
                shown_in = max(right - left, 1.0) / 72.0
                # A page whose image covers only part of it is scanned at the image's own
                # resolution; the page's size decides nothing about the pixels.
                dpi = gray.shape[1] / shown_in if shown_in > 0 else None
                if width_pt > 0 and (right - left) < 0.6 * width_pt:
                    dpi = None
                pages.append(PageImage(number, gray, dpi))
            except pdfium.PdfiumError as exc:
                pages.append(PageImage(number, None, None, _truncated(name, str(exc))))
            finally:
                page.close()
    finally:
        document.close()
    if not pages:
        raise _no_image(name, 1)
    return pages


def load_pages(
    source: Path | bytes, *, name: str | None = None, min_dpi: float = DEFAULT_MIN_DPI
) -> list[PageImage]:
    """Open a scanned file as greyscale pages.

    Args:
        source: A file path or the file's bytes.
        name: The name to use in messages (default: the file name, or ``"input"``).
        min_dpi: Pages with fewer pixels than an A4 page at this resolution are refused.

    Returns:
        One :class:`PageImage` per page (a PDF or multi-page TIFF has several). A page
        that cannot be read carries its ``error`` and no image.

    Raises:
        InputError: ``image_unreadable``, ``image_truncated`` or ``pdf_no_image`` (every
            page of the PDF lacks an image) for the file as a whole.
    """
    label = name or (source.name if isinstance(source, Path) else "input")
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise _unreadable(label, str(exc)) from exc
    else:
        data = source
    if not data:
        raise _truncated(label, "the file is empty")
    if data[:1024].lstrip().startswith(_PDF_MAGIC):
        pages = _decode_pdf(data, label)
        if all(p.error is not None and p.error.code == "pdf_no_image" for p in pages):
            raise _no_image(label, 1)
    else:
        pages = _decode_raster(data, label)
    return [_check_size(page, label, min_dpi) for page in pages]
