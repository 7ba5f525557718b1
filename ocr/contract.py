"""The extraction contract, schema_version "1".

One JSON document per source file. The OCR core fills ``source``, ``pages`` and
``tables``; the fiscal layer fills ``records`` and ``findings``. The shape is a
public promise to scripts and portals: extend only by adding optional keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"

UNSURE = 0.8
"""A recogniser's score below which a reading (a cell, a character) is one the machine is unsure of:
it may be changed (a vocabulary correction) or set aside (a speck in an amount cell), never a sure one."""

BBox = tuple[int, int, int, int]
"""Pixel box ``[x0, y0, x1, y1]`` on the page image the table was found on."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    filename: str
    sha256: str
    pages: int = Field(description="Pages in the source file (not only the pages processed).")


class PageInfo(_Model):
    number: int = Field(description="1-based page number in the source.")
    width_px: int
    height_px: int
    dpi: int
    rotation: int = Field(0, description="Clockwise rotation applied to make the page upright: 0/90/180/270.")
    skew_deg: float = Field(0.0, description="Skew angle corrected, in degrees.")
    text: list[str] = Field(
        default_factory=list,
        description="Lines of text on the page outside any table (narrative, headings), top to bottom.",
    )
    text_boxes: list[BBox] = Field(
        default_factory=list, exclude_if=lambda value: not value,
        description="Pixel box of each line of ``text``, in the same order.")
    source: Literal["text", "ocr", "mixed"] | None = Field(
        None, exclude_if=lambda value: value is None,
        description="How the page was read: its text layer, OCR of its image, or the text layer with "
                    "pictures on it OCR'd.")


class Cell(_Model):
    row: int = Field(description="Logical grid row of the top-left of the cell (0-based).")
    col: int = Field(description="Logical grid column of the top-left of the cell (0-based).")
    row_span: int = 1
    col_span: int = 1
    text: str = Field("", description="Text as read: NFKC-normalised, no inner spaces in numbers.")
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    bbox: BBox = (0, 0, 0, 0)
    # Present only on corrected cells, so existing readers and committed files see no new noise.
    read_as: str | None = Field(
        None, exclude_if=lambda value: value is None,
        description="The recogniser's own reading, when a vocabulary correction changed the text.")
    source: Literal["text", "ocr"] | None = Field(
        None, exclude_if=lambda value: value is None,
        description="Where the text came from: the PDF's own text layer, or OCR of the page image.")


class Table(_Model):
    id: str
    page: int
    bbox: BBox = (0, 0, 0, 0)
    form: str | None = Field(None, description="Form number as printed, e.g. 公开01表, 预算02表.")
    title: str | None = None
    unit: str | None = Field(None, description="Unit as printed after 单位：, e.g. 万元 or 元.")
    department: str | None = None
    n_rows: int
    n_cols: int
    cells: list[Cell]
    continues: str | None = Field(
        None, description="Id of the table that continues this one on the next page."
    )
    notes: list[str] = Field(default_factory=list, description="Text attached to the table: 注：… lines.")


class Record(_Model):
    """One data row of a recognised fiscal table (filled by the fiscal layer)."""

    table: str
    form: str | None = None
    kind: str | None = Field(None, description="Recognised table kind id, e.g. final_01_income_expenditure.")
    row: int
    code: str | None = None
    name: str | None = None
    level: str | None = Field(None, description="类/款/项 for functional codes, 类/款 for economic ones.")
    parent: str | None = None
    values: dict[str, str | None] = Field(
        default_factory=dict,
        description=(
            "Column header as printed ('/'-joined levels) -> amount as decimal string, '-' or null (blank)."
        ),
    )
    fields: dict[str, str | None] = Field(
        default_factory=dict, description="Canonical column id -> amount as decimal string, '-' or null."
    )
    unit: str | None = Field(None, description="Unit of values/fields after normalisation (万元).")
    page: int | None = None
    cells: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="Provenance: canonical field id -> (row, col) in the table grid."
    )


class Correction(_Model):
    table: str
    cell: tuple[int, int]
    original: str
    proposed: str
    applied: bool = False
    reason: str = ""


Severity = Literal["error", "warning", "info"]


class Finding(_Model):
    rule: str = Field(description="Stable rule id, e.g. H01.1.")
    severity: Severity
    message: str
    message_en: str = ""
    table: str | None = None
    form: str | None = None
    cells: list[tuple[int, int]] = Field(default_factory=list)
    expected: str | None = None
    actual: str | None = None
    difference: str | None = None
    tolerance: str | None = None
    correction: Correction | None = None
    page: int | None = Field(None, exclude_if=lambda value: value is None,
                             description="Page the finding points at (first blamed cell, or its sentence).")
    bbox: BBox | None = Field(None, exclude_if=lambda value: value is None,
                              description="Pixel box on that page: blamed cells, or the sentence's lines.")
    quote: str | None = Field(None, exclude_if=lambda value: value is None,
                              description="The narrative sentence the finding is about.")


class Extraction(_Model):
    schema_version: Literal["1"] = SCHEMA_VERSION
    source: Source
    pages: list[PageInfo] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    records: list[Record] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
