"""The layers hold: each top-level package imports only the packages below it (docs/architecture.md)."""

from __future__ import annotations

import ast

import pytest

from tests.bot_process import ROOT

BELOW = {
    "domain": set(),
    "detectors": {"domain"},
    "storage": {"domain"},
    "platforms": {"domain"},
    "service": {"domain", "detectors", "storage", "platforms"},
    "handlers": {"domain", "detectors", "storage", "platforms", "service"},
    "cli": {"domain", "detectors", "storage", "platforms", "service"},
}
"""What each package may import; `bot.py` on top may import them all."""


def _imported_packages(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found & set(BELOW) - {package}


def test_every_package_folder_is_placed_in_a_layer() -> None:
    folders = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert folders == set(BELOW)


@pytest.mark.parametrize("package", sorted(BELOW))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    assert _imported_packages(package) <= BELOW[package]
