"""Lessons 03-05 on the class track: each core path fits its slot, shows the code it teaches,
covers the plan's points, and caps every answer it asks for.

The core path is every cell before the first heading that says Going further / Homework /
After class / Extension / Optional, timed at 180 words a minute of Markdown plus 15 s per
code cell (issue 28's measure).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
END_OF_CORE = re.compile(
    r"^#+\s.*(Going further|Homework|After class|Extension|Optional)", re.I | re.M
)
SLOT_MINUTES = {  # the minutes each lesson's core path may take in the 45-minute plan
    "03_rate_limits_backoff": 5.5,  # 18-28, with Exercise 2's in-class part after it
    "04_error_handling": 5.5,  # 28-38, with Exercise 3's in-class part after it
    "05_mini_project": 7.0,  # 38-45
}


def cells(stem: str) -> list[nbformat.NotebookNode]:
    return nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4).cells


def core(stem: str) -> list[nbformat.NotebookNode]:
    out = []
    for cell in cells(stem):
        if cell.cell_type == "markdown" and END_OF_CORE.search(cell.source):
            break
        out.append(cell)
    return out


def core_text(stem: str, kind: str) -> str:
    return "\n".join(c.source for c in core(stem) if c.cell_type == kind)


@pytest.mark.parametrize(("stem", "minutes"), SLOT_MINUTES.items())
def test_core_path_fits_its_slot(stem, minutes):
    path = core(stem)
    words = sum(len(c.source.split()) for c in path if c.cell_type == "markdown")
    code = sum(c.cell_type == "code" for c in path)
    taken = words / 180 + code * 15 / 60
    assert taken <= minutes, f"{stem}: {words} words + {code} code cells = {taken:.1f} min"
    assert len(path) < len(cells(stem)), "the rest is kept under Going further, not deleted"


def test_lesson_03_shows_the_loop_and_the_limiter_and_names_a_library():
    code, prose = (
        core_text("03_rate_limits_backoff", "code"),
        core_text("03_rate_limits_backoff", "markdown"),
    )
    assert "show_source(retry_call)" in code and "show_source(RateLimiter)" in code
    assert "aiolimiter" in prose  # a pacing library beside the course's limiter, and when
    assert re.search(r"avoid aggressive loops", prose, re.I)  # the plan's checklist item
    assert "Tab" in prose and "Space" in prose  # keys that work in JupyterLab


def test_lesson_03_shows_the_decorator_on_a_learners_own_function():
    code = "\n".join(c.source for c in cells("03_rate_limits_backoff") if c.cell_type == "code")
    assert re.search(r"@rate_limited\(rpm=\d+, tpm=[\d_]+\)\ndef \w+\(prompt: str\)", code)


def test_lesson_05_shows_the_runner_core_and_logs_each_prompt():
    code = core_text("05_mini_project", "code")
    assert "show_source(run_prompts)" in code
    loop = next(c.source for c in core("05_mini_project") if "def process_prompts" in c.source)
    assert "log.info(" in loop and "log.error(" in loop  # success and failure, as they happen


def test_lesson_05_prose_states_the_refill_rate_of_its_limit():
    prose = core_text("05_mini_project", "markdown")
    assert "120 requests a minute" in prose or "120 RPM" in prose
    assert "2 a second" in prose and "5 a second" not in prose  # 120 per minute is 2 a second


def _creates_without_a_cap(source: str) -> list[str]:
    """Calls to ``*.create`` (direct, or handed to retry_call) with no max_output_tokens."""
    tree = ast.parse(source)
    capped_dicts = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
        for target in node.targets
        if isinstance(target, ast.Name)
        and any(isinstance(k, ast.Constant) and k.value == "max_output_tokens"
                for k in node.value.keys)
    }  # fmt: skip
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        hands_create = name == "retry_call" and node.args and "create" in ast.unparse(node.args[0])
        if name != "create" and not hands_create:
            continue
        if "chat" in ast.unparse(node.func) or "batches" in ast.unparse(node.func):
            continue
        keywords = {k.arg for k in node.keywords}
        spread = {ast.unparse(k.value) for k in node.keywords if k.arg is None}
        if "max_output_tokens" not in keywords and not spread & capped_dicts:
            missing.append(ast.unparse(node)[:90])
    return missing


@pytest.mark.parametrize("stem", SLOT_MINUTES)
def test_every_request_a_lesson_makes_caps_its_answer(stem):
    """Live mode prices a request without a cap at the model's maximum output, so the default
    spend cap would refuse it (issue 28): every request sets max_output_tokens."""
    missing = []
    for cell in cells(stem):
        if cell.cell_type == "code" and "create" in cell.source:
            missing += [f"{cell.id}: {call}" for call in _creates_without_a_cap(cell.source)]
    assert not missing, "\n".join(missing)
