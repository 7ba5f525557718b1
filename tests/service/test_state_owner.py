"""Job and document state are written in one module only (``service.jobs.lifecycle``).

An AST scan of ``service/`` for the ways state gets written: ``x.state = ...`` / ``x.status = ...``
where ``x`` is a Job or Document (a name bound to one, by annotation, ``session.get(Job, ...)``,
constructor or naming convention), ``Job(state=...)``/``Document(status=...)``, and
``update(Job|Document).values(state=/status=...)``. Unrelated objects with a ``.status`` (HTTP errors,
responses) are not flagged: the target's type decides, not the attribute name.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"
OWNER = SERVICE / "jobs" / "lifecycle.py"
FIELDS = {"Job": "state", "Document": "status"}
# Names that hold a Job or Document throughout the service's code (checked by the scan as well).
CONVENTIONAL = {"job": "Job", "document": "Document", "doc": "Document"}


def _model_of(node: ast.expr | None) -> str | None:
    """'Job'/'Document' when the expression is (an annotation naming / a call building) one."""
    if node is None:
        return None
    if isinstance(node, ast.Name) and node.id in FIELDS:
        return node.id
    if isinstance(node, ast.BinOp):  # Job | None
        return _model_of(node.left) or _model_of(node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.split(" |")[0] in FIELDS:
        return node.value.split(" |")[0]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in FIELDS:
            return func.id  # Job(...)
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            return _model_of(node.args[0])  # session.get(Job, ...)
    return None


def _bound_names(tree: ast.AST) -> dict[str, str]:
    """Names bound to a Job or Document anywhere in the module (annotations, assignments)."""
    bound = dict(CONVENTIONAL)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and _model_of(node.annotation):
            bound[node.arg] = _model_of(node.annotation) or ""
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if _model_of(node.annotation):
                bound[node.target.id] = _model_of(node.annotation) or ""
        elif isinstance(node, ast.Assign) and _model_of(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = _model_of(node.value) or ""
    return bound


def _keyword_writes(call: ast.Call) -> list[str]:
    """``Job(state=...)``, ``Document(status=...)``, ``update(Job).values(state=...)``."""
    model = _model_of(call)
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "values":
        inner = func.value
        while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
            inner = inner.func.value  # update(Job).where(...).values(...)
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "update":
            model = _model_of(inner.args[0]) if inner.args else None
    if model is None:
        return []
    return [f"{model}({kw.arg}=...)" for kw in call.keywords if kw.arg == FIELDS[model]]


def violations(source: str) -> list[str]:
    tree = ast.parse(source)
    bound = _bound_names(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                model = bound.get(target.value.id)
                if model and target.attr == FIELDS[model]:
                    found.append(f"line {target.lineno}: {target.value.id}.{target.attr} = ...")
        if isinstance(node, ast.Call):
            found += [f"line {node.lineno}: {write}" for write in _keyword_writes(node)]
    return found


def test_only_the_lifecycle_module_writes_job_or_document_state() -> None:
    offenders = {str(path.relative_to(SERVICE)): found for path in sorted(SERVICE.rglob("*.py"))
                 if path != OWNER and (found := violations(path.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_the_owner_is_where_the_writes_are() -> None:
    assert violations(OWNER.read_text(encoding="utf-8"))  # the scan sees the writes it is meant to find


def test_the_scan_flags_each_way_of_writing_state() -> None:
    samples = [
        "def f(document: Document) -> None:\n    document.status = 'queued'\n",
        "def f(session, job_id):\n    row = session.get(Job, job_id)\n    row.state = 'failed'\n",
        "def f(d: 'Document | None'):\n    d.status = 'x'\n",
        "def f(job):\n    job.state = JobState.cancelled\n",
        "def f(session):\n    session.execute(update(Job).where(x).values(state='failed'))\n",
        "def f():\n    return Document(id='x', status='running')\n",
    ]
    for sample in samples:
        assert violations(sample), sample


def test_the_scan_leaves_other_status_attributes_alone() -> None:
    samples = [
        "def f(exc: ServiceError) -> None:\n    exc.status = 404\n",
        "def f(response):\n    response.status = 200\n",
        "def f(session):\n    session.execute(update(Batch).values(status='x'))\n",
        "def f(job):\n    job.pages_done = 3\n",
    ]
    for sample in samples:
        assert not violations(sample), sample
