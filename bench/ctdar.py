"""Read ICDAR 2019 cTDaR (Track B2, relabelled) annotations: table and cell polygons with neighbour links."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from bench.metrics import FloatBox, Relation


@dataclass
class CtdarPage:
    image: Path
    tables: list[FloatBox] = field(default_factory=list)
    cells: dict[int, FloatBox] = field(default_factory=dict)  # page-unique key -> box
    relations: set[Relation] = field(default_factory=set)


def _polygon_box(element: ET.Element) -> FloatBox:
    coords = element.find("Coords")
    if coords is None:
        raise ValueError("element without Coords")
    points = [tuple(float(v) for v in pair.split(",")) for pair in coords.attrib["points"].split()]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def load_page(xml_path: Path, images_dir: Path) -> CtdarPage:
    root = ET.parse(xml_path).getroot()
    page = CtdarPage(image=images_dir / root.attrib["filename"])
    for t_index, table in enumerate(root.iter("table")):
        page.tables.append(_polygon_box(table))
        base = (t_index + 1) * 100_000  # cell ids restart per table in some files
        for cell in table.iter("cell"):
            key = base + int(cell.attrib["id"])
            page.cells[key] = _polygon_box(cell)
            for link in cell.attrib.get("neighbors", "").split():
                other, side = link.split(":")
                if side == "R":
                    page.relations.add((key, base + int(other), "h"))
                elif side == "B":
                    page.relations.add((key, base + int(other), "v"))
    return page


def load_dataset(root: Path) -> list[CtdarPage]:
    images = root / "images"
    return [load_page(xml, images) for xml in sorted((root / "annotations").glob("*.xml"))]
