"""What every body shares: strictness, the problem+json answer, names, e-mails, product ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from license_manager.domain.catalog import ProductId
from license_manager.domain.text import MAX_EMAIL_LENGTH, clean_email, clean_name


class In(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error and not silently ignored."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(clean_name),
    Field(description="Shown to other people: no control, invisible or direction-changing characters"),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=MAX_EMAIL_LENGTH, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    AfterValidator(clean_email),
    Field(description="Compared trimmed and lower-cased; no invisible characters", examples=["bob@example.com"]),
]
ProductRef = Annotated[ProductId, Field(description="A product_id of the catalog (GET /products)")]


class FieldError(BaseModel):
    model_config = ConfigDict(defer_build=True)

    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    model_config = ConfigDict(defer_build=True)

    type: str = Field(examples=["urn:license-manager:problem:not-found"])
    title: str
    status: int
    detail: str
    code: str | None = Field(default=None, description="A stable machine-readable reason, where one helps.")
    field: str | None = Field(default=None, description="The input field at fault, for single-field errors.")
    errors: list[FieldError] | None = Field(default=None, description="Every invalid field (422 from validation).")
