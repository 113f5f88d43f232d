"""The layering rules that import-linter cannot express (docs/architecture.md, "Layers")."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "accounts", "lending", "risk", "debt_collection", "operations", "config")


def imports_of(path: Path):
    """(imported module, imported name) for every `from X import name` in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name


def test_no_module_imports_a_private_name_from_another_app():
    offences = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for module, name in imports_of(path):
                other = module.split(".")[0]
                if other in APPS and other != app and name.startswith("_"):
                    offences.append(f"{path.relative_to(ROOT)}: from {module} import {name}")
    assert offences == []


def test_the_checker_sees_a_private_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from lending.services.repayment import _private\n")
    assert list(imports_of(sample)) == [("lending.services.repayment", "_private")]
