"""The package's import graph, read with ``ast``: no cycle, no upward import, no import of
another module's private names.

Layers, top to bottom (a module may import its own layer's package and the layers below):

    cli                                   the only entry point
    preview                               the live preview: serves what report, metrics and bia render
    bia                                   uses report's PDF and chart machinery
    ingest, transform, metrics, report, demo   features: never each other
    manifest, warehouse, landing_zone     shared services of the features
    contract, mapping, profile, files, errors, paths, outputs   foundations (profile: the city profile; mapping: mapped extracts)
    dbt_process                           transform's dbt child process, a script: imports dbt, nothing of the package

Below the features, a module may import its own layer too (the cycle test keeps that acyclic).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
LAYERS = [
    {"cli", "__main__"},
    {"preview"},
    {"bia"},
    {"ingest", "transform", "metrics", "report", "demo"},
    {"manifest", "warehouse", "landing_zone"},
    {"contract", "mapping", "profile", "files", "errors", "paths", "outputs", "__init__", "data"},
    {"dbt_process"},
]
FEATURES = 3  # the layer whose members never import each other


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


MODULES = _modules()


def _component(module: str) -> str:
    """'pipeline.report.charts' → 'report'; 'pipeline' → '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(component: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if component in layer)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _owner(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


@functools.cache
def _parse(source: str) -> ast.Module:
    """The syntax tree of a module's source, parsed once for all the checks below."""
    return ast.parse(source)


def imports() -> list[tuple[str, str, str]]:
    """(importer, imported module, imported name or '') for every import of the package."""
    names = frozenset(MODULES)
    return [found for module, path in MODULES.items()
            for found in _imports_of(module, path.name == "__init__.py", path.read_text(encoding="utf-8"), names)]


@functools.cache
def _imports_of(module: str, is_package: bool, source: str, names: frozenset[str]) -> tuple[tuple[str, str, str], ...]:
    """The imports of one module's source, walked once for all the checks below (``names``:
    the package's modules, which a test may change)."""
    found = []
    for node in ast.walk(_parse(source)):
        if isinstance(node, ast.Import):
            found += [(module, _owner(a.name) or a.name, "") for a in node.names
                      if a.name.split(".")[0] == "pipeline"]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            if base.split(".")[0] != "pipeline":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in names:
                    found.append((module, full, ""))
                else:
                    found.append((module, _owner(base) or base, alias.name))
    return tuple(found)


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted({_component(m) for m in MODULES} - set().union(*LAYERS))
    assert unknown == []


def test_no_upward_or_sideways_imports() -> None:
    bad = []
    for importer, imported, _name in imports():
        a, b = _component(importer), _component(imported)
        if a == b:
            continue
        if _layer(b) < _layer(a) or (_layer(b) == _layer(a) == FEATURES):
            bad.append(f"{importer} imports {imported}")
    assert bad == []


def test_no_private_names_across_modules() -> None:
    bad = [f"{importer} imports {imported}.{name}" for importer, imported, name in imports()
           if name.startswith("_") and not name.startswith("__") and imported != importer]
    attribute_uses = []
    for module, path in MODULES.items():
        tree = _parse(path.read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and (node.level or (node.module or "").startswith("pipeline")) for a in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                attribute_uses.append(f"{module}: {node.value.id}.{node.attr}")
    assert bad + attribute_uses == []


def test_no_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for importer, imported, _name in imports():
        # a package's __init__ re-exporting its submodules is not a cycle
        if imported != importer and not imported.startswith(importer + "."):
            graph.setdefault(importer, set()).add(imported)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("source, expected", [
    ("from .cli import main", "pipeline.contract imports pipeline.cli"),
    ("from .report import charts", "pipeline.contract imports pipeline.report"),
    ("from . import metrics", "pipeline.contract imports pipeline.metrics"),
])
def test_the_check_catches_an_upward_import(source: str, expected: str, monkeypatch, tmp_path) -> None:
    # The same walk over a contract module that imports upward must report it.
    fake = tmp_path / "contract.py"
    fake.write_text(source + "\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "pipeline.contract", fake)
    with pytest.raises(AssertionError) as failure:
        test_no_upward_or_sideways_imports()
    assert expected in str(failure.value)


def test_the_check_catches_a_private_import(monkeypatch, tmp_path) -> None:
    fake = tmp_path / "metrics.py"
    fake.write_text("from .warehouse import _secret\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, "pipeline.metrics", fake)
    with pytest.raises(AssertionError) as failure:
        test_no_private_names_across_modules()
    assert "pipeline.metrics imports pipeline.warehouse._secret" in str(failure.value)


READERS = ("metrics", "report", "bia", "warehouse", "manifest")  # what reads the built warehouse
SCHEMA_REF = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\.[a-z_]+")  # SQL in Python is upper case


def schemas_read(text: str) -> set[str]:
    return {m.group(1).lower() for m in SCHEMA_REF.finditer(text)}


def test_python_reads_only_the_marts() -> None:
    read = {}
    for module, path in MODULES.items():
        if _component(module) in READERS:
            read[module] = schemas_read(path.read_text(encoding="utf-8")) - {"marts"}
    assert {m: s for m, s in read.items() if s} == {}


def test_the_schema_check_sees_an_intermediate_read() -> None:
    assert schemas_read("SELECT x FROM intermediate.int_sr_bias b JOIN marts.m USING (k)") == {
        "intermediate", "marts"}
