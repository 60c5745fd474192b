"""The layers of docs/architecture.md §2, enforced: every module of `ingest`, `njia`, `njia_demo` and `dags`
imports only the layers below its own, or its own component. Function-local and type-checking imports
count too: a lazy import still ties the two modules together.

The layer map below is the only list of it; docs/architecture.md §2 describes it in words.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "njia", "njia_demo")  # top-level packages of the product, as installed
DAGS = REPO / "dags"  # each file a top-level module on the dag-processor's sys.path

# From the bottom. A layer holds components; a component is a set of module prefixes (the longest prefix that
# matches a module names its component). Within a component, modules import each other freely.
LAYERS: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    ("core", {"core": ("njia.settings", "njia.paths", "njia.warehouse", "njia.cells", "njia.runlog", "njia.alerts")}),
    ("contract", {"contract": ("ingest.contract", "njia.reporting_tables", "njia.place_names")}),
    (
        "services",
        {
            "ingest": ("ingest",),  # every module of the package but its contract
            "transform": ("njia.transform",),
            "disclosure": ("njia.disclosure",),
            "report": ("njia.report",),
            "charts": ("njia.charts",),
            "maps": ("njia.maps",),
            "template": ("njia.template",),
            "access": ("njia.access",),
            "status": ("njia.status",),
            "monitor": ("njia.monitor",),
            "demo": ("njia_demo",),
        },
    ),
    ("application", {"application": ("njia.cli", "njia.pipeline", "njia.portal", "dags")}),
)

# Imports between two components of one layer that are part of the design, each with its reason.
SIDEWAYS: dict[tuple[str, str], str] = {
    ("transform", "disclosure"): "the build runs the joint suppression and audit before the swap",
    ("report", "transform"): "the report reads the published reporting schema the build names",
    ("report", "disclosure"): "the report pack audits the published tables again before writing",
    ("report", "charts"): "the report's HTML draws its charts",
    ("report", "maps"): "the report's HTML draws its maps",
    ("maps", "charts"): "the maps share the charts' palette, fonts, number format and bilingual SVG text",
    ("monitor", "ingest"): "the submission monitor reads the organisation registry",
    ("status", "monitor"): "njia status says who has not reported for the last closed quarter, as the monitor does",
    ("status", "ingest"): "njia status names a registry it cannot read instead of failing",
    ("demo", "template"): "the demo writes its workbooks the way the template is written",
}


@dataclass(frozen=True)
class Place:
    layer: int
    component: str

    def __str__(self) -> str:
        return f"{LAYERS[self.layer][0]}/{self.component}"


def place_of(module: str) -> Place | None:
    """The layer and component of one of the product's modules (None: not one of them)."""
    best: tuple[int, Place] | None = None
    for layer, (_, components) in enumerate(LAYERS):
        for component, prefixes in components.items():
            for prefix in prefixes:
                if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), Place(layer, component))
    return best[1] if best else None


def modules() -> dict[str, Path]:
    """Every module of the product, by dotted name (a DAG file under `dags.`)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in sorted(DAGS.glob("*.py")):
        found[f"dags.{path.stem}"] = path
    return found


def _imported(tree: ast.AST, module: str, dag_modules: set[str]) -> list[tuple[int, str]]:
    """(line, module imported) for every import in the tree, at any depth; names imported from a package
    that are modules count as those modules."""
    known = modules_cache()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package, then up a level per extra dot
                package = module.split(".")
                if known.get(module, Path()).name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}" if base else alias.name
                out.append((node.lineno, target if target in known else base))
    # A DAG imports its neighbours (njia_common) as top-level modules.
    return [(line, f"dags.{name}" if name in dag_modules else name) for line, name in out]


_MODULES: dict[str, Path] = {}


def modules_cache() -> dict[str, Path]:
    if not _MODULES:
        _MODULES.update(modules())
    return _MODULES


def violations(module: str, source: str, path: str) -> list[str]:
    """Every import of `source` (the text of `module`) that the layer map forbids, as a message naming the
    module, the line and the rule."""
    here = place_of(module)
    dag_modules = {p.stem for p in DAGS.glob("*.py")}
    found = []
    for line, target in _imported(ast.parse(source), module, dag_modules):
        there = place_of(target)
        if there is None:
            continue  # not the product's: the standard library or a dependency
        # An empty package `__init__` has no layer; a module that imports the product's needs one.
        assert here is not None, f"{path}: module {module} has no layer: add it to LAYERS in tests/test_layers.py"
        if there.component == here.component or there.layer < here.layer:
            continue
        if there.layer > here.layer:
            rule = f"a {LAYERS[here.layer][0]} module may not import the {LAYERS[there.layer][0]} layer above it"
        elif (here.component, there.component) in SIDEWAYS:
            continue
        else:
            rule = f"components of the {LAYERS[here.layer][0]} layer import each other only where SIDEWAYS says so"
        found.append(f"{path}:{line}: {module} ({here}) imports {target} ({there}): {rule}")
    return found


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_go_only_downward(module: str) -> None:
    path = modules_cache()[module]
    assert violations(module, path.read_text(encoding="utf-8"), str(path.relative_to(REPO))) == []


def test_every_part_of_the_map_names_modules_that_exist() -> None:
    names = set(modules())
    stale = [
        prefix
        for _, components in LAYERS
        for prefixes in components.values()
        for prefix in prefixes
        if not any(m == prefix or m.startswith(prefix + ".") for m in names)
    ]
    assert stale == [], f"LAYERS names modules that do not exist: {stale}"
    components = {c for _, layer in LAYERS for c in layer}
    assert {c for pair in SIDEWAYS for c in pair} <= components


def test_the_check_catches_an_upward_a_sideways_and_a_lazy_import() -> None:
    source = (
        "from njia import cli\n"  # core → application: upward
        "def f():\n"
        "    from njia.report import write_pack\n"  # lazy, and sideways from ingest
        "    import njia.warehouse\n"  # downward: fine
        "from ingest import load\n"  # own component: fine
    )
    found = violations("ingest.load", source, "ingest/load.py")
    assert len(found) == 2, found
    assert found[0].startswith("ingest/load.py:1: ingest.load (services/ingest) imports njia.cli (application/")
    assert "may not import the application layer above it" in found[0]
    assert found[1].startswith("ingest/load.py:3: ingest.load (services/ingest) imports njia.report (services/report)")
    assert "only where SIDEWAYS says so" in found[1]
    assert violations("njia.warehouse", "from ingest.contract import COLUMNS\n", "njia/warehouse.py")[0].endswith(
        "a core module may not import the contract layer above it"
    )
