"""Lessons 00-02: links that exist, a core path that fits the clock, and symbols with words.

What their demos show when executed (lesson 00's usage numbers, lesson 01's overflow and chunks,
lesson 02's reasoning cut) is asserted in test_learner_view.py, on the run that judges what a
learner sees, instead of running each lesson once more here."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = [ROOT / "notebooks" / f"{n}.ipynb" for n in ("00_start_here", "01_tokens",
                                                       "02_prompt_efficiency")]  # fmt: skip
LINK = re.compile(r"\]\(([^)\s]+)\)")
WORD = re.compile(r"[A-Za-z0-9_'’\-]+")
GOING_FURTHER = re.compile(r"^# Going further", re.M)


def markdown_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_links_point_at_files_that_exist(path):
    for source in markdown_cells(path):
        for target in LINK.findall(source):
            if target.startswith(("http://", "https://", "#")):
                continue
            file = (path.parent / target.split("#")[0]).resolve()
            assert file.exists(), f"{path.name} links to missing {target}"


def test_exercise_1_and_the_next_lesson_are_linked():
    lesson_02 = "\n".join(markdown_cells(LESSONS[2]))
    assert "](../exercises/01_prompt_styles.ipynb)" in lesson_02
    assert "](03_rate_limits_backoff.ipynb)" in lesson_02


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_core_section_says_its_minutes(path):
    headings = [
        line
        for cell in _class_time().core_cells(path)
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ") and line != "## Recap"
    ]
    assert headings
    for heading in headings:
        assert re.search(r"\(min \d+(–\d+)?\)$", heading), f"no minutes in {heading!r}"


@pytest.mark.parametrize("path", LESSONS[1:], ids=lambda p: p.stem)
def test_going_further_follows_the_recap(path):
    sources = markdown_cells(path)
    further = next(i for i, s in enumerate(sources) if GOING_FURTHER.search(s))
    recap = next(i for i, s in enumerate(sources) if re.search(r"^## Recap", s, re.M))
    assert recap < further, "the recap ends the core path; Going further comes after it"
    assert "self-paced" in sources[further]


def _class_time() -> ModuleType:
    """bench/class_time.py, the one measure of a core path's minutes (it also prints them)."""
    spec = importlib.util.spec_from_file_location("class_time", ROOT / "bench" / "class_time.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_core_paths_fit_their_slots():
    """At 180 words a minute plus 15 s per code cell: lesson 00 fills minutes 0-8; lessons 01
    and 02 leave room in minutes 8-18 for Exercise 1's in-class part."""
    minutes = {p.stem: _class_time().core_minutes(p) for p in LESSONS}
    assert minutes["00_start_here"] <= 8.0, minutes
    assert minutes["01_tokens"] + minutes["02_prompt_efficiency"] <= 6.5, minutes


def test_the_core_path_ends_at_the_first_going_further_or_homework_heading(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 07 · Wrap-up: checklist, homework"),  # a title
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("## Homework"),
        nbformat.v4.new_code_cell("y = 2"),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert len(_class_time().core_cells(path)) == 2
    words = 4  # 07, Wrap-up, checklist, homework (the dot is not a word)
    assert _class_time().core_minutes(path) == pytest.approx(words / 180 + 15 / 60)


def test_lesson_07_says_which_keys_work_for_the_quiz():
    """A one-answer question's options are a radio group: Tab enters it and the arrow keys
    choose (the browser suite presses them in JupyterLab); a box is ticked with Space."""
    text = " ".join(" ".join(markdown_cells(ROOT / "notebooks" / "07_wrap_up.ipynb")).split())
    assert "Tab into them, then the arrow keys choose" in text and "Space ticks it" in text


SYMBOL_FILES = [
    *LESSONS,
    ROOT / "course_utils" / "widgets.py",
    ROOT / "course_utils" / "prompting.py",
    ROOT / "course_utils" / "plots.py",
]


@pytest.mark.parametrize("path", SYMBOL_FILES, ids=lambda p: p.name)
def test_check_marks_always_come_with_words(path):
    """Where no emoji font is installed ✅ and ❌ draw as the same empty box."""
    text = path.read_text("utf-8")
    for match in re.finditer("[✅❌]", text):
        near = text[max(0, match.start() - 20) : match.end() + 20]
        assert re.search(r"PASS|FAIL|Correct|Not yet", near), f"{path.name}: bare {near!r}"
