"""The review page in a real headless Chromium (Debian's, driven by Playwright) against a real
`fiscalocr serve` on 127.0.0.1: sign in, upload by drag and drop, watch progress, open the workspace,
jump to a finding with the keyboard, correct the cell, see the finding go and the record change,
approve, download XLSX and the annotated PDF, another tenant's document is a 404 page, sign out.
Every request the page makes is recorded: none may leave the app's origin."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from review_scan import RIGHT, WRONG, write_misprinted_pdf
from svc_harness import Api, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("FISCALOCR_REVIEW_SCREENSHOTS")  # a folder: keep the screenshots there
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


def red_pixels_around(png: bytes, box: tuple[float, float, float, float]) -> int:
    """Strongly red pixels on the outline band of ``box`` (pixels of this image)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x0, y0, x1, y1 = (round(v) for v in box)
    count = 0
    for x in range(max(0, x0 - 4), min(image.width, x1 + 5)):
        for y in range(max(0, y0 - 4), min(image.height, y1 + 5)):
            inside = x0 + 4 < x < x1 - 4 and y0 + 4 < y < y1 - 4
            r, g, b = image.getpixel((x, y))  # type: ignore[misc]
            if not inside and r > 170 and g < 100 and b < 100:
                count += 1
    return count


def first_page_png(pdf: Path, out: Path) -> bytes:
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(pdf), str(out)], check=True)
    return next(out.parent.glob(f"{out.name}*.png")).read_bytes()


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def cell_box_pt(api: Api, document_id: str, row: int, col: int) -> tuple[float, float, float, float]:
    """The cell's box in PDF points (the report draws page pixels at the job's DPI as 72/DPI points)."""
    document = api.client.get(f"/v1/documents/{document_id}").json()
    tables = api.client.get(f"/v1/documents/{document_id}/tables").json()["tables"]
    detail = api.client.get(f"/v1/documents/{document_id}/tables/{tables[0]['table_id']}").json()
    cell = next(c for c in detail["cells"] if (c["row"], c["col"]) == (row, col))
    assert document["pages"] == 1
    from svc_scans import DPI
    return tuple(v * 72.0 / DPI for v in cell["bbox"])  # type: ignore[return-value]


def shoot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=False)


def drop_file(page: Any, path: Path) -> None:
    """A real drop event on the drop zone carrying the file (what dragging it from a desktop does)."""
    payload = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([name, b64]) => { const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
             const transfer = new DataTransfer();
             transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
             return transfer; }""", [path.name, payload])
    page.dispatch_event("#dropzone", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def sign_in(page: Any, server: Server, key: str) -> None:
    page.goto(f"{server.url}/review")
    page.fill("#api_key", key)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/review/documents")


def test_review_workflow_in_chromium(server: Server, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    tenant = f"review-{uuid.uuid4().hex[:8]}"
    key = server.new_key(tenant, f"{tenant}-auditor")
    api = Api(server, key)
    other = Api(server, server.new_key(f"other-{uuid.uuid4().hex[:8]}"))
    foreign = other.upload(write_misprinted_pdf(tmp_path / "foreign.pdf")).json()["document_id"]

    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)  # a blocked script, style or image

    sign_in(page, server, key)
    cookie = next(c for c in context.cookies() if c["name"] == "fiscalocr_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert cookie["path"] == "/review"

    # Upload by drag and drop; the list shows the job in progress, then done.
    drop_file(page, write_misprinted_pdf(tmp_path / "misprint.pdf"))
    # (locator waits, not wait_for_function: the page's CSP forbids the eval that one needs)
    expect(page.locator("#upload-progress")).to_have_attribute("value", "100", timeout=TIMEOUT_MS)
    row = page.locator("#documents tbody tr", has_text="misprint.pdf")
    row.and_(page.locator('[data-status="queued"], [data-status="running"]')).wait_for()
    row.and_(page.locator('[data-status="succeeded"]')).wait_for()
    assert "错误 2" in row.inner_text()
    shoot(page, "review-list-1280.png")
    document_id = row.get_attribute("data-document-id")
    assert document_id

    # The annotated report before the correction: the misprinted cell is boxed in red.
    row.locator("a.doc-link").click()
    page.wait_for_url(f"{server.url}/review/documents/{document_id}")
    page.wait_for_selector("#findings li.finding")
    with page.expect_download() as before_download:
        page.click("#download-report")
    before_pdf = tmp_path / "before.pdf"
    before_download.value.save_as(before_pdf)
    box = cell_box_pt(api, document_id, 1, 3)
    assert red_pixels_around(first_page_png(before_pdf, tmp_path / "before"), box) > 100
    assert "错误 2 条" in pdf_text(before_pdf)

    # Keyboard: J until the misprinted cell is selected; Enter edits, Enter saves.
    page.evaluate("window.__sameDocument = true")
    for _ in range(6):
        page.keyboard.press("j")
        if page.locator("#grid td.selected").inner_text() == WRONG:
            break
    selected = page.locator("#grid td.selected")
    assert selected.inner_text() == WRONG
    assert page.locator("#findings li.finding.active").count() == 1
    assert page.locator("#overlay rect.fbox.active").count() >= 1
    assert WRONG in page.locator("#record").inner_text()
    page.wait_for_selector("#stage.loaded")
    shoot(page, "review-workspace-1280.png")
    page.keyboard.press("Enter")
    page.fill("#cell-input", RIGHT)
    page.keyboard.press("Enter")
    expect(page.locator("#findings li.finding")).to_have_count(0, timeout=TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert page.locator("#grid td.selected.corrected").inner_text() == RIGHT
    assert RIGHT in page.locator("#record").inner_text() and WRONG not in page.locator("#record").inner_text()
    history = page.locator("#history li").first.inner_text()
    assert WRONG in history and RIGHT in history and f"{tenant}-auditor" in history

    # Undo brings the misprint and its findings back; correct it again from the keyboard.
    page.locator("#history li button.undo").first.click()
    expect(page.locator("#findings li.finding")).to_have_count(2, timeout=TIMEOUT_MS)
    assert page.locator("#grid td.selected").inner_text() == WRONG
    assert page.locator("#history li").count() == 2
    page.keyboard.press("Enter")
    page.fill("#cell-input", RIGHT)
    page.keyboard.press("Enter")
    # Saving hands the keyboard back at once, so the next shortcut is not typed into the editor.
    assert page.evaluate("document.activeElement.id") != "cell-input"
    expect(page.locator("#findings li.finding")).to_have_count(0, timeout=TIMEOUT_MS)

    # Approve the table (A) and the document (Shift+A).
    page.keyboard.press("a")
    page.locator("#table-state.rv-approved").wait_for()
    page.keyboard.press("Shift+A")
    page.locator("#doc-state.rv-approved").wait_for()
    review = api.client.get(f"/v1/documents/{document_id}/review").json()
    assert review["state"] == "approved" and review["document"]["who"] == f"{tenant}-auditor"
    assert all(t["approved"] for t in review["tables"].values())

    # Downloads hold the corrected value (and the sign-off); the report lost the red box.
    with page.expect_download() as xlsx_download:
        page.click("#download-xlsx")
    xlsx = tmp_path / "records.xlsx"
    xlsx_download.value.save_as(xlsx)
    workbook = load_workbook(xlsx, read_only=True)
    values = [str(v) for row_ in workbook["records"].iter_rows(values_only=True) for v in row_]
    assert RIGHT in values and WRONG not in values
    review_rows = list(workbook["review"].iter_rows(values_only=True))
    assert review_rows[-1][:2] == ("document", "yes")
    with page.expect_download() as after_download:
        page.click("#download-report")
    after_pdf = tmp_path / "after.pdf"
    after_download.value.save_as(after_pdf)
    text = pdf_text(after_pdf)
    assert RIGHT in text and "错误 0 条" in text and "已审核通过" in text
    assert red_pixels_around(first_page_png(after_pdf, tmp_path / "after"), box) == 0

    # Another tenant's document is a 404 page.
    response = page.goto(f"{server.url}/review/documents/{foreign}")
    assert response is not None and response.status == 404
    assert page.locator("#not-found").is_visible()

    # Tablet width.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{server.url}/review/documents/{document_id}")
    page.wait_for_selector("#stage.loaded")
    shoot(page, "review-workspace-tablet.png")
    page.goto(f"{server.url}/review/documents")
    page.wait_for_selector("#documents tbody tr")
    shoot(page, "review-list-tablet.png")

    # Sign out: back to sign-in, and the list is no longer reachable.
    page.click("#sign-out")
    page.wait_for_url(f"{server.url}/review")
    page.goto(f"{server.url}/review/documents")
    assert page.url == f"{server.url}/review"

    outside = [url for url in requests if not url.startswith(f"{server.url}/")]
    assert requests and outside == []
    assert errors == []
    context.close()
