"""Classification dictionaries (支出功能分类 / 部门预算支出经济分类), versioned by fiscal year.

The shipped CSVs are partial scaffolding built for this project (see fiscal/data). An official
edition for a year can be dropped in with :func:`register_edition`; lookups for a year use the
newest edition not later than that year. Known renamings are aliases: accepted with a warning.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

FUNCTION = "function"
ECONOMIC = "economic"

# old name -> (code, current name); REFERENCE §1.2 and the seeds' own glossaries
ALIASES: dict[str, tuple[str, str]] = {
    "医疗卫生与计划生育支出": ("210", "卫生健康支出"),
    "归口管理的行政单位离退休": ("2080501", "行政单位离退休"),
    "基层政权和社区建设": ("2080208", "基层政权建设和社区治理"),
    "机关事业单位基本养老保险费": ("30108", "机关事业单位基本养老保险缴费"),
    "公务员医疗补助费": ("30111", "公务员医疗补助缴费"),
    "服装购置费": ("30224", "被装购置费"),
}

_LEVELS = {FUNCTION: {3: "类", 5: "款", 7: "项"}, ECONOMIC: {3: "类", 5: "款"}}


@dataclass(frozen=True)
class CodeEntry:
    code: str
    name: str
    level: str
    parent: str | None
    confidence: str


@dataclass
class Edition:
    year: int
    system: str
    entries: dict[str, CodeEntry] = field(default_factory=dict)
    complete: bool = False

    def by_name(self, name: str, parent: str | None = None) -> list[CodeEntry]:
        key = name_key(name)
        return [
            e
            for e in self.entries.values()
            if name_key(e.name) == key and (parent is None or e.parent == parent)
        ]


def name_key(name: str) -> str:
    """Compare names ignoring width, spaces, brackets style and the (类)/(款)/(项) suffixes."""
    text = unicodedata.normalize("NFKC", name or "")
    text = re.sub(r"[\s\"“”'‘’]", "", text)
    text = re.sub(r"\((类|款|项)\)$", "", text)
    return text


_EDITIONS: dict[str, list[Edition]] = {FUNCTION: [], ECONOMIC: []}


def register_edition(edition: Edition) -> None:
    editions = _EDITIONS[edition.system]
    editions[:] = [e for e in editions if e.year != edition.year] + [edition]
    editions.sort(key=lambda e: e.year)
    _cached_class_codes.cache_clear()


def load_csv_text(text: str, system: str, year: int, complete: bool = False) -> Edition:
    """Rows `code,level,name,parent_code,confidence,...`; also accepts a bare `code|name` list."""
    edition = Edition(year, system, complete=complete)
    lines = text.splitlines()
    if lines and "|" in lines[0] and "," not in lines[0]:
        for line in lines:
            code, _, name = line.partition("|")
            if code.strip().isdigit():
                edition.entries[code.strip()] = _entry(code.strip(), name.strip(), system, None)
        return edition
    for row in csv.DictReader(lines):
        code = (row.get("code") or "").strip()
        if code.isdigit():
            edition.entries[code] = _entry(code, row.get("name") or "", system, row.get("confidence"))
    return edition


def _entry(code: str, name: str, system: str, confidence: str | None) -> CodeEntry:
    level = _LEVELS[system].get(len(code), "")
    parent = code[:-2] if len(code) > 3 else None
    return CodeEntry(code, name, level, parent, confidence or "official")


def _load_shipped() -> None:
    if _EDITIONS[FUNCTION]:
        return
    data = resources.files("fiscal") / "data"
    func = load_csv_text((data / "func_classification_partial.csv").read_text("utf-8"), FUNCTION, 2023)
    econ = load_csv_text((data / "econ_classification_dept.csv").read_text("utf-8"), ECONOMIC, 2023)
    register_edition(func)
    register_edition(econ)


def edition(system: str, year: int | None = None) -> Edition:
    _load_shipped()
    editions = _EDITIONS[system]
    if year is None:
        return editions[-1]
    eligible = [e for e in editions if e.year <= year]
    return eligible[-1] if eligible else editions[0]


def level_of(code: str, system: str = FUNCTION) -> str | None:
    return _LEVELS.get(system, {}).get(len(code))


def parent_of(code: str, system: str = FUNCTION) -> str | None:
    if system == "unit":
        return code[:3] if len(code) > 3 else None
    return code[:-2] if len(code) > 3 else None


@lru_cache(maxsize=1)
def _cached_class_codes() -> dict[str, str]:
    names = {name_key(e.name): e.code for e in edition(FUNCTION).entries.values() if e.level == "类"}
    for old, (code, _new) in ALIASES.items():
        if len(code) == 3:
            names[name_key(old)] = code
    return names


def class_code_for_name(label: str) -> str | None:
    """'一般公共服务支出' -> '201' (类 names, old aliases included).

    An OCR-damaged name ('节牛健康支出' for 卫生健康支出) still finds its class when exactly one class
    name is within a small edit distance: 01-style tables list classes by name only, so a misread
    character must not silently drop a line from the expenditure total.
    """
    key = name_key(label)
    return _cached_class_codes().get(key) or _closest_class_code(key)


@lru_cache(maxsize=4096)
def _closest_class_code(key: str) -> str | None:
    if len(key) < 4:
        return None
    allowed = max(1, len(key) // 3)
    scored = sorted(
        (_char_distance(key, name), code)
        for name, code in _cached_class_codes().items()
        if abs(len(name) - len(key)) <= allowed
    )
    if not scored or scored[0][0] > allowed:
        return None
    best_distance, best_code = scored[0]
    # the runner-up must be clearly worse, or the damaged name is ambiguous
    runner_up = next((d for d, code in scored if code != best_code), None)
    return best_code if runner_up is None or runner_up > best_distance else None


def lookup(code: str, system: str = FUNCTION, year: int | None = None) -> CodeEntry | None:
    return edition(system, year).entries.get(code)


@dataclass(frozen=True)
class NameVerdict:
    status: str  # ok | alias | mismatch | unknown_code
    expected: str | None = None


def check_name(code: str, name: str, system: str = FUNCTION, year: int | None = None) -> NameVerdict:
    entry = lookup(code, system, year)
    if entry is None:
        return NameVerdict("unknown_code")
    if name_key(entry.name) == name_key(name) or _variant_equal(entry.name, name):
        return NameVerdict("ok", entry.name)
    alias = ALIASES.get(name_key(name))
    if alias and alias[0] == code:
        return NameVerdict("alias", entry.name)
    return NameVerdict("mismatch", entry.name)


def _variant_equal(reference: str, printed: str) -> bool:
    """Tolerate template variants: '…缴费' vs '…缴费支出', '费用' vs '费'."""
    a, b = name_key(reference), name_key(printed)
    for suffix in ("支出", "费用", "费"):
        a, b = a.removesuffix(suffix), b.removesuffix(suffix)
    return a == b


def edit_distance_one(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def repair_code(code: str, name: str, system: str = FUNCTION, year: int | None = None) -> str | None:
    """A dictionary code one edit away from `code` whose name matches `name` (unique), else None."""
    book = edition(system, year)
    parent = parent_of(code, system)
    if not name or (parent is not None and parent not in book.entries and not book.complete):
        return None  # a branch the partial list does not cover: unknown, not damaged
    matches = [
        e.code
        for e in book.entries.values()
        if edit_distance_one(e.code, code)
        and (name_key(e.name) == name_key(name) or _variant_equal(e.name, name))
    ]
    return matches[0] if len(matches) == 1 else None


def repair_name(code: str, name: str, system: str = FUNCTION, year: int | None = None) -> str | None:
    """The dictionary name of `code` when `name` is that name with OCR damage (one or two chars off)."""
    entry = lookup(code, system, year)
    if entry is None or not name:
        return None
    a, b = name_key(entry.name), name_key(name)
    if a == b:
        return None
    if len(a) >= 4 and abs(len(a) - len(b)) <= 1 and _char_distance(a, b) <= max(1, len(a) // 5):
        return entry.name
    return None


def _char_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]
