"""Review forms must be submittable from the Prefect UI.

Prefect 3.8.8's V2 Resume dialog sends the typed answer to ``/api/ui/schemas/validate``
*as the schema*: a top-level field named like a JSON-Schema keyword (``items``, ``type`` …)
makes every submission fail with "Failed to validate input" (found by tests/e2e).
"""

from __future__ import annotations

import pytest
from prefect.input import RunInput

from flows.bus_pass import BusPassReviewInput
from flows.childcare_support import ChildcareReviewInput
from flows.overtime_notice import OvertimeCheckInput

SCHEMA_KEYWORDS = {
    "items", "prefixItems", "properties", "patternProperties", "additionalProperties", "type",
    "required", "enum", "const", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "contains", "minimum", "maximum", "minLength", "maxLength", "pattern", "format",
    "minItems", "maxItems", "uniqueItems", "dependentRequired", "dependentSchemas",
    "propertyNames", "definitions", "$defs", "$ref", "multipleOf", "exclusiveMinimum",
    "exclusiveMaximum", "title", "description", "default", "examples",
}  # fmt: skip


@pytest.mark.parametrize("form", [ChildcareReviewInput, BusPassReviewInput, OvertimeCheckInput])
def test_no_review_form_field_is_named_like_a_json_schema_keyword(form: type[RunInput]) -> None:
    assert not set(form.model_fields) & SCHEMA_KEYWORDS
    assert "reviewer" in form.model_fields
