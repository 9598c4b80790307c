"""Project-wide rules: pinned installs, the notebook output policy, and the public surface."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb")
)
KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_-]{16,}")


def requirement_lines(name: str) -> list[str]:
    lines = (ln.split("#", 1)[0].strip() for ln in (ROOT / name).read_text().splitlines())
    return [ln for ln in lines if ln]


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_requirements_pin_exact_versions(name):
    for line in requirement_lines(name):
        if line in ("-e .", "-r requirements.txt"):
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), line


def test_requirements_install_the_course_package_for_binder():
    assert "-e ." in requirement_lines("requirements.txt")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_are_committed_clean(path):
    """Policy (README, 'Notebook outputs'): committed with outputs cleared, no key-like text."""
    text = path.read_text("utf-8")
    assert not KEY_LIKE.search(text), "something that looks like an API key"
    nb = json.loads(text)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {i} has outputs"
            assert cell["execution_count"] is None, f"cell {i} has an execution count"


def all_modules() -> list[str]:
    names = ["course_utils"]
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", all_modules())
def test_every_module_declares_its_public_names(module_name):
    module = importlib.import_module(module_name)
    assert isinstance(getattr(module, "__all__", None), list | tuple), "no __all__"
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names a missing {name!r}"


def test_top_level_exports_resolve():
    for name in course_utils.__all__:
        assert getattr(course_utils, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = course_utils.nope


# --- the house is small enough to read (issue 30: one module per concept, content as data) ----

MAX_MODULE_LINES = 700
PACKAGES = ("course_utils", "course_simulator", "course_checks")


def modules_over(root: Path, limit: int = MAX_MODULE_LINES) -> dict[str, int]:
    """``{path: lines}`` for each Python module under ``root``'s packages longer than ``limit``."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            lines = len(path.read_text("utf-8").splitlines())
            if lines > limit:
                found[path.relative_to(root).as_posix()] = lines
    return found


def test_no_module_is_over_700_lines():
    too_long = modules_over(ROOT)
    assert not too_long, (
        f"over {MAX_MODULE_LINES} lines (split each along a seam of concepts, or move content "
        f"to a data file): {too_long}"
    )


def test_the_size_rule_names_a_module_over_the_limit(tmp_path):
    for package in PACKAGES:
        (tmp_path / package / "sub").mkdir(parents=True)
    (tmp_path / "course_checks" / "sub" / "big.py").write_text("x = 1\n" * 701)
    (tmp_path / "course_utils" / "fits.py").write_text("x = 1\n" * 700)
    assert modules_over(tmp_path) == {"course_checks/sub/big.py": 701}
