"""The layering of architecture.md, checked: data flows adapters -> cache -> audit -> tui."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_importing_the_audit_core_loads_no_ui_network_or_database():
    audit_modules = [f"audit.{p.stem}" for p in (ROOT / "audit").glob("*.py") if p.stem != "__init__"]
    loaded = loaded_after_import(["audit", *audit_modules])
    for forbidden in ("textual", "httpx", "sqlite3", "sqlite_utils", "adapters", "cache", "tui"):
        assert forbidden not in loaded, f"importing audit loaded {forbidden}"


def test_the_cache_does_not_load_the_ui_or_the_network():
    loaded = loaded_after_import(["cache.store", "cache.schema"])
    for forbidden in ("textual", "httpx", "adapters", "tui"):
        assert forbidden not in loaded, f"importing cache loaded {forbidden}"


def _imports(package: str) -> set[str]:
    names: set[str] = set()
    for file in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


@pytest.mark.parametrize(
    "package, allowed_project_imports",
    [
        ("audit", {"audit"}),
        ("adapters", {"adapters", "audit"}),
        ("cache", {"cache", "audit"}),
    ],
)
def test_packages_import_only_upstream(package, allowed_project_imports):
    project = {"audit", "adapters", "cache", "tui", "sandbox", "sample_data"}
    used = {name.split(".")[0] for name in _imports(package)} & project
    assert used <= allowed_project_imports, f"{package} imports {sorted(used - allowed_project_imports)}"


def test_vendor_models_stay_inside_their_adapter():
    for package in ("audit", "cache", "tui"):
        leaked = {n for n in _imports(package) if n.startswith("adapters.") and n.endswith(".models")}
        assert not leaked, f"{package} imports vendor payload models {sorted(leaked)}"
