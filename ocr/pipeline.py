"""Public entry points of the extraction core: file -> Extraction (schema v1).

Per page, the source is chosen first (``ocr.source``): a digital page is read from its text
layer and vector rules (``ocr.textlayer`` -> ``ocr.vectorgrid`` -> ``ocr.textpage``), any other
page is OCR'd (rasterise -> preprocess -> grid -> cells -> context text). Both give the same
page result; assemble links continuations for both. The page-level call exists so a distributed
runner can fan pages out to workers and assemble the results afterwards with the same code as
the embedded path.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ocr.allocator import release_free_memory
from ocr.cells import cut_table, read_cut_cells
from ocr.context import attach_context, find_text_lines, read_text_lines
from ocr.contract import BBox, Extraction, PageInfo, Source, Table
from ocr.engines import OcrEngine, Orientation, get_engine, get_orientation
from ocr.errors import InvalidPageRangeError, ProcessingTimeoutError
from ocr.grid import find_tables, page_lines
from ocr.lexicon import Lexicon
from ocr.preprocess import enlarge_small_text, make_upright
from ocr.rasterise import DocumentInfo, RasterPage, open_document, rasterise_page
from ocr.source import OcrMode, SourceChoice, choose_source
from ocr.textlayer import FloatBox, LayerPage, open_pdf, read_layer
from ocr.textpage import TextPage, read_text_page, text_fragments

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(pages_done, pages_total)`` after each page."""


@dataclass(frozen=True)
class ExtractOptions:
    engine: str = "rapidocr"  # "rapidocr" | "tesseract": made when no PixelReaders are passed
    dpi: int = 300
    pages: tuple[int, ...] | None = None  # 1-based page numbers; None = all
    max_pages: int = 500
    max_page_pixels: int = 60_000_000  # refuse rasters above this (e.g. 2 m² pages)
    page_timeout_s: float = 120.0
    debug_dir: Path | None = None
    # Known label terms (e.g. classification names): one misread character in them is corrected.
    lexicon: Lexicon | None = None
    # "auto": text layer where the page has a trustworthy one, OCR elsewhere; "always": OCR every
    # page; "never": read only text layers (a scanned page then gives no text).
    ocr: OcrMode = "auto"
    # Read an invisible text layer over a scan (another tool's OCR) instead of OCR'ing the image.
    trust_invisible_text: bool = False


@dataclass
class PageResult:
    page: PageInfo
    tables: list[Table] = field(default_factory=list)  # ids are page-local until assemble()


class PixelReaders:
    """The OCR engine and orientation classifier an extraction reads pixels with. Injected by the
    caller, or made from ``ExtractOptions.engine`` when first needed: a digital report loads no model."""

    def __init__(self, engine_name: str = "rapidocr", engine: OcrEngine | None = None,
                 orientation: Orientation | None = None) -> None:
        self._name, self._engine, self._orientation = engine_name, engine, orientation

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = get_engine(self._name)
        return self._engine

    @property
    def orientation(self) -> Orientation:
        if self._orientation is None:
            self._orientation = get_orientation()
        return self._orientation


def inspect_source(path: Path, max_pages: int | None = None) -> Source:
    """Validate the file (sniffed by content) and count its pages; raise a typed error if unusable.

    ``max_pages`` (optional) also refuses documents longer than that.
    """
    doc = open_document(path, max_pages if max_pages is not None else sys.maxsize)
    return Source(filename=path.name, sha256=_sha256(path), pages=doc.pages)


def extract_page(path: Path, page_number: int, options: ExtractOptions,
                 readers: PixelReaders | None = None) -> PageResult:
    """Rasterise and read one page (1-based) of a PDF or the single page of an image file."""
    doc = open_document(path, options.max_pages)
    with _LayerReader(doc, options, readers) as layers:
        return _extract_doc_page(doc, page_number, options, layers)


def assemble(source: Source, pages: list[PageResult]) -> Extraction:
    """Give tables document-wide ids (t0, t1, ...) in page order. Whether one continues another is
    decided by the fiscal layer (fiscal.continuation), which sees the tables' geometry and their kind."""
    ordered = sorted(pages, key=lambda result: result.page.number)
    tables: list[Table] = []
    for result in ordered:
        for table in sorted(result.tables, key=lambda t: (t.bbox[1], t.bbox[0])):
            tables.append(table.model_copy(update={"id": f"t{len(tables)}", "continues": None}))
    return Extraction(source=source, pages=[r.page for r in ordered], tables=tables)


def extract(path: Path, options: ExtractOptions | None = None,
            progress: ProgressCallback | None = None, readers: PixelReaders | None = None) -> Extraction:
    """Whole document, page by page (never every page in memory at once)."""
    options = options or ExtractOptions()
    doc = open_document(path, options.max_pages)
    numbers = select_pages(doc.pages, options.pages)
    source = Source(filename=path.name, sha256=_sha256(path), pages=doc.pages)
    results = []
    with _LayerReader(doc, options, readers) as layers:
        for done, number in enumerate(numbers, start=1):
            results.append(_extract_doc_page(doc, number, options, layers))
            if progress is not None:
                progress(done, len(numbers))
    return assemble(source, results)


def select_pages(total: int, wanted: tuple[int, ...] | None) -> list[int]:
    """The 1-based pages to process, in order, without repeats; typed error if any does not exist."""
    if wanted is None:
        return list(range(1, total + 1))
    missing = sorted({n for n in wanted if not 1 <= n <= total})
    if missing or not wanted:
        raise InvalidPageRangeError(
            f"pages {missing} are outside 1-{total}" if missing else "no pages selected",
            detail={"pages": missing, "total": total},
        )
    return sorted(set(wanted))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Deadline:
    def __init__(self, page: int, seconds: float) -> None:
        self.page, self.seconds = page, seconds
        self.end = time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if time.monotonic() > self.end:
            raise ProcessingTimeoutError(
                f"page {self.page} exceeded {self.seconds:.0f} s (during {stage})",
                detail={"page": self.page, "stage": stage},
            )


class _LayerReader:
    """The PDF opened once for its text layers (None for images, or when every page is OCR'd), and
    the readers for the pages (or pictures) that need OCR."""

    def __init__(self, doc: DocumentInfo, options: ExtractOptions, readers: PixelReaders | None) -> None:
        self.doc = doc
        self.readers = readers or PixelReaders(options.engine)
        self.pdf = open_pdf(doc.path) if doc.kind == "pdf" and options.ocr != "always" else None

    def __enter__(self) -> _LayerReader:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pdf is not None:
            self.pdf.close()

    def layer(self, number: int, options: ExtractOptions, dpi: int | None = None) -> LayerPage | None:
        if self.pdf is None:
            return None
        return read_layer(self.pdf, number, dpi or options.dpi, options.max_page_pixels)


def _extract_doc_page(doc: DocumentInfo, number: int, options: ExtractOptions,
                      layers: _LayerReader) -> PageResult:
    started = time.monotonic()
    deadline = _Deadline(number, options.page_timeout_s)
    layer = layers.layer(number, options)
    choice = choose_source(layer, options.ocr, options.trust_invisible_text) if layer is not None else None
    if layer is not None and choice is not None and choice.source == "text":
        result = _read_layer_page(layers, layer, choice, options, deadline)
    else:
        raster = _raster(doc, number, options)
        deadline.check("rasterise")
        result = read_page(raster, options, layers.readers, deadline)
    log.info("page %d: %d tables in %.2f s (%s)", number, len(result.tables), time.monotonic() - started,
             choice.reason if choice is not None else "image")
    return result


def _read_layer_page(layers: _LayerReader, layer: LayerPage, choice: SourceChoice, options: ExtractOptions,
                     deadline: _Deadline) -> PageResult:
    """A page read from its text layer; pictures on it without text are OCR'd and their tables added."""
    doc = layers.doc
    text_page = read_text_page(layer, choice.glyphs)
    if not text_page.grids and choice.over_image:
        layer, text_page = _text_over_scan(layers, layer, options)
    tables, text, boxes = text_page.tables, text_page.context.text, text_page.context.text_boxes
    source = "text"
    if choice.pictures:
        raster = _raster(doc, layer.number, options)
        deadline.check("rasterise")
        pictured = read_page(_only_regions(raster, choice.pictures), options, layers.readers, deadline)
        tables, text, boxes = _with_picture_tables(tables, pictured.tables, layer, choice)
        text, boxes = text + pictured.page.text, boxes + pictured.page.text_boxes
        source = "mixed"
    page = PageInfo(number=layer.number, width_px=layer.width_px, height_px=layer.height_px, dpi=layer.dpi,
                    text=text, text_boxes=boxes, source=source)
    if options.debug_dir is not None:
        from ocr.debug import write_overlay

        image = _raster(doc, layer.number, options).image
        write_overlay(options.debug_dir / f"page-{layer.number:04d}.png", image, tables, text)
    return PageResult(page=page, tables=tables)


def _text_over_scan(layers: _LayerReader, layer: LayerPage,
                    options: ExtractOptions) -> tuple[LayerPage, TextPage]:
    """A scan with a trusted text layer: grids from the scan's pixels, cells from the layer.

    The scan may be read at its own resolution, so the layer is read again at that resolution.
    """
    raster = _raster(layers.doc, layer.number, options)
    if raster.dpi != layer.dpi:
        layer = layers.layer(layer.number, options, raster.dpi) or layer
    grids = find_tables(raster.image, raster.dpi, page_lines(raster.image, raster.dpi))
    return layer, read_text_page(layer, layer.glyphs, grids)


def _raster(doc: DocumentInfo, number: int, options: ExtractOptions) -> RasterPage:
    return rasterise_page(doc, number, options.dpi, options.max_page_pixels, options.page_timeout_s)


def _only_regions(raster: RasterPage, regions: tuple[FloatBox, ...]) -> RasterPage:
    """The raster with everything outside ``regions`` painted white (the text layer covers it)."""
    blank = raster.image.copy()
    blank[:] = 255
    for x0, y0, x1, y1 in regions:
        top, bottom = max(0, int(y0)), min(raster.image.shape[0], int(y1) + 1)
        left, right = max(0, int(x0)), min(raster.image.shape[1], int(x1) + 1)
        blank[top:bottom, left:right] = raster.image[top:bottom, left:right]
    return RasterPage(number=raster.number, image=blank, dpi=raster.dpi)


def _with_picture_tables(tables: list[Table], pictured: list[Table], layer: LayerPage,
                         choice: SourceChoice) -> tuple[list[Table], list[str], list[BBox]]:
    """Text-layer tables plus the tables OCR found in pictures (page-local ids), and the page's text.

    A pasted table's title, form and unit are usually typed above the picture: they come from
    the text layer's context when the picture itself did not show them.
    """
    merged = sorted([*tables, *pictured], key=lambda t: (t.bbox[1], t.bbox[0]))
    outside = [g for g in choice.glyphs if not any(_holds(t.bbox, g.box) for t in merged)]
    context = attach_context(text_fragments(outside), [t.bbox for t in merged], layer.height_px)
    result = []
    for index, (table, ctx) in enumerate(zip(merged, context.tables, strict=True)):
        update: dict[str, object] = {"id": f"p{layer.number}t{index}"}
        for name in ("form", "title", "unit", "department"):
            if getattr(table, name) is None and getattr(ctx, name) is not None:
                update[name] = getattr(ctx, name)
        result.append(table.model_copy(update=update))
    return result, context.text, context.text_boxes


def _holds(box: tuple[int, int, int, int], glyph_box: FloatBox) -> bool:
    x, y = (glyph_box[0] + glyph_box[2]) / 2, (glyph_box[1] + glyph_box[3]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def read_page(raster: RasterPage, options: ExtractOptions, readers: PixelReaders,
              deadline: _Deadline | None = None) -> PageResult:
    """Everything after rasterisation for one page image."""
    try:
        deadline = deadline or _Deadline(raster.number, options.page_timeout_s)
        return _read_page(raster, options, readers, deadline)
    finally:
        # A page's masks and the recogniser's buffers, back to the system between pages. The mmap
        # threshold is left adaptive here: fixed at 256 KiB it cut a reader's peak from 435 to 389 MB
        # but cost 20 % more time (every page mask mapped and zeroed anew); see ocr.allocator.
        release_free_memory()


def _read_page(raster: RasterPage, options: ExtractOptions, readers: PixelReaders,
               deadline: _Deadline) -> PageResult:
    engine = readers.engine
    upright = make_upright(raster.image, readers.orientation)
    deadline.check("preprocess")
    image, scale = enlarge_small_text(upright.image)
    dpi = round(raster.dpi * scale)
    lines = page_lines(image, dpi)
    grids = find_tables(image, dpi, lines)
    deadline.check("grid")
    cell_lists = []
    for index, grid in enumerate(grids):
        grids[index], cut = cut_table(image, grid, lines, dpi)
        cell_lists.append(read_cut_cells(cut, engine, lexicon=options.lexicon))
        deadline.check("cells")
    boxes = find_text_lines(lines, [g.bbox for g in grids], dpi)
    context = attach_context(read_text_lines(image, boxes, engine), [g.bbox for g in grids], image.shape[0])
    deadline.check("context")
    tables = [
        Table(id=f"p{raster.number}t{i}", page=raster.number, bbox=grid.bbox, form=ctx.form, title=ctx.title,
              unit=ctx.unit, department=ctx.department, n_rows=grid.n_rows, n_cols=grid.n_cols, cells=cells,
              notes=ctx.notes)
        for i, (grid, cells, ctx) in enumerate(zip(grids, cell_lists, context.tables, strict=True))
    ]
    page = PageInfo(number=raster.number, width_px=image.shape[1], height_px=image.shape[0], dpi=dpi,
                    rotation=upright.rotation, skew_deg=upright.skew_deg, text=context.text,
                    text_boxes=context.text_boxes, source="ocr")
    if options.debug_dir is not None:
        from ocr.debug import write_overlay

        write_overlay(options.debug_dir / f"page-{raster.number:04d}.png", image, tables, context.text)
    return PageResult(page=page, tables=tables)
