"""The architecture rules (README, "Architecture") hold, and the check that enforces them bites.

The import rules are import-linter contracts in pyproject.toml; `make lint` runs them and so does
this module, which also proves each contract fails when someone breaks its rule: it copies the
package to a temporary folder, injects one bad import and expects `lint-imports` to refuse it.
The last rule (notebooks import only the package's top level) is about notebooks, which
import-linter cannot read, so it is a plain scan of their code cells.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import course_utils

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
NOTEBOOKS = sorted(
    p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb")
)
# Imports that break the notebook rule today, each with the fix its owner has been asked for.
# An entry allows exactly one (notebook, name) pair; delete it when the notebook is fixed.
KNOWN_NOTEBOOK_EXCEPTIONS = {
    # lesson 00 shows the settings with config.backend() and config.budget_usd(); the same two
    # functions are exported as course_utils.backend and course_utils.budget_usd.
    ("notebooks/00_start_here.ipynb", "config"),
}


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on ``project`` (a folder with pyproject.toml and course_utils/)."""
    env = dict(os.environ, PYTHONPATH=str(project), COLUMNS="200")  # no wrapped names
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "--config", "pyproject.toml"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout  # the summary line ("N kept, 0 broken"): the contracts ran
    assert " 0 broken" in result.stdout


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the package and its contracts, safe to break."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "course_utils",
        tmp_path / "course_utils",
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    return tmp_path


def inject(project: Path, module: str, line: str) -> None:
    """Add ``line`` at the end of ``course_utils/<module>`` (created if it does not exist)."""
    path = project / "course_utils" / module
    text = path.read_text("utf-8") if path.exists() else '"""An injected module."""\n'
    path.write_text(f"{text}\n{line}\n", "utf-8")


def test_an_untouched_copy_passes(package_copy: Path):
    """So each failure below is the injected import's doing, not the copy's."""
    result = lint_imports(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr


# case -> (edits: (module, line) pairs applied in order, the contract that must catch it)
VIOLATIONS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "simulator imports the client": (
        [("simulator/server.py", "import course_utils.client")],
        "Layers",
    ),
    "simulator imports a module that does not exist yet": (
        [("spend.py", "import json"), ("simulator/limits.py", "from course_utils import spend")],
        "Layers",
    ),
    "client imports simulator internals": (
        [("client.py", "from course_utils.simulator.limits import TokenBucket")],
        "never imports the simulator's internals",
    ),
    "a new live module imports simulator internals": (
        [("spend.py", "from course_utils.simulator import faults")],
        "never imports the simulator's internals",
    ),
    "logic imports a widget": (
        [("prompting.py", "from course_utils import widgets")],
        "Layers",
    ),
    "foundation draws with matplotlib": (
        [("tokens.py", "import matplotlib.pyplot as plt")],
        "Logic never draws",
    ),
    "a new logic module imports ipywidgets": (
        [("backoff.py", "import ipywidgets")],
        "Logic never draws",
    ),
    "a new module outside every layer": (
        [("helpers.py", "import json")],
        "Layers",
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_contract_fails_when_its_rule_is_broken(package_copy: Path, case: str):
    edits, contract = VIOLATIONS[case]
    for module, line in edits:
        inject(package_copy, module, line)
    result = lint_imports(package_copy)
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"lint-imports accepted {case!r}:\n{out}"
    broken = [ln for ln in out.splitlines() if " BROKEN" in ln]  # "<name> BROKEN (...)"
    assert any(contract in ln for ln in broken), f"expected {contract!r} broken:\n{out}"


# --- notebooks import only the package's top level -------------------------------------------


def course_imports(source: str) -> list[str]:
    """What a code cell imports from course_utils, as problems ('course_utils.x', 'name')."""
    python = TransformerManager().transform_cell(source)  # %magics and !shell -> plain Python
    problems = []
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name.startswith("course_utils.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("course_utils."):
                problems.append(node.module)
            elif node.module == "course_utils":
                problems += [a.name for a in node.names if a.name not in course_utils.__all__]
    return problems


def test_the_notebook_scan_sees_submodule_imports():
    assert course_imports("from course_utils import count_tokens, get_client") == []
    assert course_imports("import course_utils\n%matplotlib inline\n!ls") == []
    assert course_imports("from course_utils.checks import check") == ["course_utils.checks"]
    assert course_imports("import course_utils.tokens as t") == ["course_utils.tokens"]
    assert course_imports("from course_utils import (\n    tokens,\n    get_client,\n)") == [
        "tokens"
    ]
    assert course_imports("def f():\n    from course_utils.simulator import server") == [
        "course_utils.simulator"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_import_only_the_top_level(path: Path):
    """`from course_utils import <public name>`: internals can move without breaking a lesson."""
    rel = path.relative_to(ROOT).as_posix()
    cells = json.loads(path.read_text("utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        bad = [
            name
            for name in course_imports("".join(cell["source"]))
            if (rel, name) not in KNOWN_NOTEBOOK_EXCEPTIONS
        ]
        assert not bad, (
            f"{rel} cell {i} imports {bad} from inside course_utils: import public names from "
            "the top level (`from course_utils import ...`), adding the name to _EXPORTS in "
            "course_utils/__init__.py if it is missing"
        )
