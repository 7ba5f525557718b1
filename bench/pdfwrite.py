"""Write scanned pages (grayscale JPEG bytes) into a minimal, byte-deterministic PDF.

Each page is one image filling the page, sized so the image has its scan resolution, the way
a scanner's PDF export stores it. No dates or random ids, so the same pages give the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ScanPage:
    jpeg: bytes
    width_px: int
    height_px: int
    dpi: int


def pdf_bytes(pages: list[ScanPage]) -> bytes:
    objects: list[bytes] = []
    page_ids = [3 + 3 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for number, page in enumerate(pages):
        page_id = page_ids[number]
        width_pt = page.width_px * 72.0 / page.dpi
        height_pt = page.height_px * 72.0 / page.dpi
        content = f"q {width_pt:.3f} 0 0 {height_pt:.3f} 0 0 cm /Im0 Do Q".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt:.3f} {height_pt:.3f}] "
            f"/Resources << /XObject << /Im0 {page_id + 1} 0 R >> >> /Contents {page_id + 2} 0 R >>".encode()
        )
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {page.width_px} /Height {page.height_px} "
            f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {len(page.jpeg)} >>\n"
            "stream\n".encode()
            + page.jpeg
            + b"\nendstream"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    return serialise(objects)


def serialise(objects: list[bytes], version: str = "1.4") -> bytes:
    """Numbered objects (1 is the catalog) with their cross-reference table and trailer."""
    out = bytearray(f"%PDF-{version}\n".encode() + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_pdf(path: Path, pages: list[ScanPage]) -> None:
    path.write_bytes(pdf_bytes(pages))
