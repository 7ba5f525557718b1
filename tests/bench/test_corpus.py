"""The scan generator: determinism, truth shape, and what the committed fixtures promise."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from bench.corpus import SMALL, DocSpec, build_document, corpus_specs
from ocr.contract import Extraction

ROOT = Path(__file__).resolve().parents[2]


def _truth(path: Path) -> Extraction:
    return Extraction.model_validate_json(path.read_text(encoding="utf-8"))


# What a library upgrade may change: OpenCV's blur/warp rounding and the JPEG encoder move single pixels by a
# few grey levels (up to 23 seen between OpenCV 4.x and 5.1). What it must not change: the truth (every cell,
# text and box) and the image as a whole. A real change to the generator moves far more than this.
MEAN_GREY_TOLERANCE = 0.5
FAR_GREY_LEVELS = 32
FAR_PIXEL_SHARE = 0.001


def _without_file_hash(path: Path) -> dict[str, object]:
    """The truth minus source.sha256, the hash of the PDF bytes (which follow the pixels)."""
    truth = json.loads(path.read_text(encoding="utf-8"))
    truth["source"].pop("sha256")
    return truth


def _page_images(pdf: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(image.data)).convert("L"), dtype=np.int16)
            for page in PdfReader(pdf).pages for image in page.images]


def _assert_same_pixels_within_tolerance(ours: Path, committed: Path) -> None:
    mine, theirs = _page_images(ours), _page_images(committed)
    assert len(mine) == len(theirs), ours.name
    for number, (a, b) in enumerate(zip(mine, theirs, strict=True), start=1):
        assert a.shape == b.shape, (ours.name, number)
        difference = np.abs(a - b)
        assert difference.mean() <= MEAN_GREY_TOLERANCE, (ours.name, number, float(difference.mean()))
        assert (difference > FAR_GREY_LEVELS).mean() <= FAR_PIXEL_SHARE, (ours.name, number)


def test_regenerating_the_small_set_gives_the_committed_truth(
    tmp_path: Path, scans_dir: Path, shared_dir: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "generate", "--size", "small", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = sorted(p.name for p in scans_dir.glob("*.truth.json"))
    assert committed == sorted(p.name for p in tmp_path.glob("*.truth.json"))
    assert len(committed) == len(SMALL)
    for name in committed:
        assert _without_file_hash(tmp_path / name) == _without_file_hash(scans_dir / name), name
        pdf = name.removesuffix(".truth.json") + ".pdf"
        _assert_same_pixels_within_tolerance(tmp_path / pdf, scans_dir / pdf)
    assert json.loads((tmp_path / "manifest.json").read_text()) == json.loads(
        (scans_dir / "manifest.json").read_text()
    )


def test_pixel_tolerance_still_catches_a_changed_page(tmp_path: Path, scans_dir: Path) -> None:
    """The tolerance is not blind: the same page with its damage redrawn from another seed fails it."""
    spec = DocSpec("probe", "seed:000", (0,), dpi=300, level="light")
    build_document(spec, tmp_path, 1)
    with pytest.raises(AssertionError):
        _assert_same_pixels_within_tolerance(tmp_path / "probe.pdf", scans_dir / "gongkai01-300dpi-light.pdf")


def test_another_seed_gives_other_damage_but_the_same_tables(tmp_path: Path, shared_dir: Path) -> None:
    spec = DocSpec("probe", "seed:000", (6,), dpi=200, level="heavy")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build_document(spec, tmp_path / "a", 1)
    second = build_document(spec, tmp_path / "b", 2)
    assert first["pages"] != second["pages"]
    truth_a = _truth(tmp_path / "a" / "probe.truth.json")
    truth_b = _truth(tmp_path / "b" / "probe.truth.json")
    assert [c.text for c in truth_a.tables[0].cells] == [c.text for c in truth_b.tables[0].cells]


def test_every_fixture_truth_is_a_valid_extraction_with_consistent_geometry(scans_dir: Path) -> None:
    for path in sorted(scans_dir.glob("*.truth.json")):
        truth = _truth(path)
        pdf = scans_dir / truth.source.filename
        assert len(PdfReader(pdf).pages) == truth.source.pages == len(truth.pages)
        for table in truth.tables:
            x0, y0, x1, y1 = table.bbox
            covered: set[tuple[int, int]] = set()
            for cell in table.cells:
                cx0, cy0, cx1, cy1 = cell.bbox
                assert x0 <= cx0 < cx1 <= x1 and y0 <= cy0 < cy1 <= y1, (path.name, cell)
                slots = {
                    (r, c)
                    for r in range(cell.row, cell.row + cell.row_span)
                    for c in range(cell.col, cell.col + cell.col_span)
                }
                assert not slots & covered, (path.name, cell)
                covered |= slots
            assert covered == {(r, c) for r in range(table.n_rows) for c in range(table.n_cols)}, path.name


def test_fixture_set_has_the_promised_pages(scans_dir: Path) -> None:
    manifest = json.loads((scans_dir / "manifest.json").read_text())
    by_name = {d["name"]: d for d in manifest["documents"]}
    light = _truth(scans_dir / "gongkai01-300dpi-light.truth.json")
    assert light.pages[0].dpi == 300 and light.tables[0].form == "公开01表" and light.tables[0].unit == "万元"
    assert any(c.row_span > 1 or c.col_span > 1 for c in light.tables[0].cells)

    turned = _truth(scans_dir / "rot90-expenditure.truth.json")
    page = PdfReader(scans_dir / "rot90-expenditure.pdf").pages[0]
    assert turned.pages[0].rotation == 90
    assert (float(page.mediabox.width) > float(page.mediabox.height)) != (
        turned.pages[0].width_px > turned.pages[0].height_px
    )

    continued = _truth(scans_dir / "continued-2pages.truth.json")
    assert [t.page for t in continued.tables] == [1, 2]
    assert continued.tables[0].continues == continued.tables[1].id

    putuo = _truth(scans_dir / "putuo-finance-p6.truth.json")
    assert by_name["putuo-finance-p6"]["source"].endswith(".pdf")
    texts = {c.text for c in putuo.tables[0].cells}
    assert "2,940.05" in texts and putuo.tables[0].title == "收入支出决算总表"


def test_corpus_sizes_grow_and_unknown_size_is_refused() -> None:
    assert len(corpus_specs("small")) < len(corpus_specs("medium")) < len(corpus_specs("large"))
    assert len({s.name for s in corpus_specs("large")}) == len(corpus_specs("large"))
    with pytest.raises(ValueError, match="unknown corpus size"):
        corpus_specs("huge")
