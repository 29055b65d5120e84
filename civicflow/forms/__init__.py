"""Paper forms (帳票): definitions in YAML, the blank form as PDF and PNG.

A form is one file ``data/forms/<id>.yaml`` (see ``data/forms/bus_pass.yaml``); adding a
form needs no code::

    from civicflow.forms import load_form
    from civicflow.forms.render import render_blank_png

    form = load_form("bus_pass")
    form.field("birth_date").cells      # where to crop, in mm
    render_blank_png(form, dpi=200)     # what synthetic scans are drawn on

The drawing functions live in :mod:`civicflow.forms.render` and are not re-exported here:
importing fpdf2 takes half a second that code needing only the geometry should not pay.
"""

from __future__ import annotations

from civicflow.forms.definition import (
    FIELD_TYPES,
    FORMS_DIR,
    Cell,
    FieldDefinition,
    FieldLayout,
    FormDefinition,
    FormDefinitionError,
    Option,
    PrintedText,
    Rect,
    RegistrationMark,
    ReviewPolicy,
    Validators,
    list_forms,
    load_form,
    load_form_file,
    mm_to_px,
    parse_form,
)

__all__ = [
    "FIELD_TYPES",
    "FORMS_DIR",
    "Cell",
    "FieldDefinition",
    "FieldLayout",
    "FormDefinition",
    "FormDefinitionError",
    "Option",
    "PrintedText",
    "Rect",
    "RegistrationMark",
    "ReviewPolicy",
    "Validators",
    "list_forms",
    "load_form",
    "load_form_file",
    "mm_to_px",
    "parse_form",
]
