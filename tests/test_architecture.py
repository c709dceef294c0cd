"""The layers of docs/architecture.md hold: no module imports a layer below it in that table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retroprop"

DOC = PACKAGE.parent / "docs" / "architecture.md"


def documented_layers(text: str) -> dict[int, tuple[str, ...]]:
    """docs/architecture.md's "Layers" table: layer number -> the files and folders of its
    "where" column (the backticked names). A file may import its own layer and those with a
    lower number. Read from the document itself, so the check and the design cannot drift."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            layers[int(cells[0])] = tuple(re.findall(r"`([^`]+)`", cells[2]))
    return layers


LAYERS = documented_layers(DOC.read_text(encoding="utf-8"))
# Faces that stay apart: the report never imports the command line, the estimators neither.
APART = {"report/": ("cli/",), "sklearn/": ("cli/", "report/"), "dask/": ("cli/", "report/")}


def layer_of(relative: str) -> int:
    """The layer of a file (path relative to the package); the longest matching entry wins."""
    matches = [
        (len(place), layer)
        for layer, places in LAYERS.items()
        for place in places
        if relative == place or (place.endswith("/") and relative.startswith(place))
    ]
    if not matches:
        raise AssertionError(f"{relative} is in no layer of docs/architecture.md")
    return max(matches)[1]


def imported_files(path: Path) -> set[str]:
    """The package files (relative paths) that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != "retroprop":
                continue
            candidate = "/".join(parts[1:])
            if (PACKAGE / f"{candidate}.py").is_file():
                found.add(f"{candidate}.py")
            elif (PACKAGE / candidate / "__init__.py").is_file():
                found.add(f"{candidate}/__init__.py" if candidate else "__init__.py")
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_to_lower_layers(path):
    relative = str(path.relative_to(PACKAGE))
    mine = layer_of(relative)
    upward = sorted(f for f in imported_files(path) if layer_of(f) > mine)
    assert not upward, f"{relative} (layer {mine}) imports a higher layer: {upward}"
    for face, others in APART.items():
        if relative.startswith(face):
            crossing = sorted(f for f in imported_files(path) if f.startswith(others))
            assert not crossing, f"{relative} imports {crossing}"


def test_the_check_sees_an_upward_import(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from retroprop.training import fit\n")
    found = imported_files(path)
    assert "training/__init__.py" in found
    assert [f for f in found if layer_of(f) > layer_of("nn/linear.py")]  # what nn may not do


def test_the_layers_are_read_from_the_design_document():
    assert sorted(LAYERS) == list(range(9))
    assert LAYERS[0][:2] == ("registry.py", "backend.py") and "display/" in LAYERS[0]
    assert "training/" in LAYERS[5] and "dask/" in LAYERS[8] and "__main__.py" in LAYERS[8]
    table = "## Layers\n\n| # | layer | where |\n| ---: | --- | --- |\n| 0 | a | `x.py`, `y/` |\n"
    assert documented_layers(table + "\n## Next\n| 1 | b | `z.py` |") == {0: ("x.py", "y/")}
