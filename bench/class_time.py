"""Class time of each notebook's core path, the measure of the 45-minute plan (issue 28).

Run: ``python bench/class_time.py``. The core path is every cell before the first heading that
says Going further, Homework, After class, Extension or Optional (in an exercise: its in-class
part, before the homework heading). Its time is the words of its Markdown cells read at 180 words
a minute plus 15 s per code cell, before any typing. Prints figures only; the slots the lessons
must fit are asserted in tests/test_lessons.py with the same function.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

__all__ = ["CORE_END", "SECONDS_PER_CODE_CELL", "WORDS_PER_MINUTE", "core_cells", "core_minutes"]

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_MINUTE = 180
SECONDS_PER_CODE_CELL = 15
CORE_END = re.compile(
    r"^#+ +(Going further|Homework|After class|Extension|Optional)\b", re.M | re.I
)
WORD = re.compile(r"[A-Za-z0-9_'’\-]+")


def core_cells(path: Path) -> list[nbformat.NotebookNode]:
    """The cells before the first heading that ends the core path (all cells if none does)."""
    cells = nbformat.read(path, as_version=4).cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and CORE_END.search(cell.source):
            return cells[:i]
    return list(cells)


def core_minutes(path: Path) -> float:
    """Reading time of the core path's Markdown plus 15 s per code cell, in minutes."""
    cells = core_cells(path)
    words = sum(len(WORD.findall(c.source)) for c in cells if c.cell_type == "markdown")
    code = sum(1 for c in cells if c.cell_type == "code")
    return words / WORDS_PER_MINUTE + code * SECONDS_PER_CODE_CELL / 60


def main() -> int:
    print(f"core path at {WORDS_PER_MINUTE} words a minute + {SECONDS_PER_CODE_CELL} s a code cell")
    print(f"{'notebook':40} {'cells':>5} {'minutes':>8}")
    for folder in ("notebooks", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            name = path.relative_to(ROOT).as_posix()
            print(f"{name:40} {len(core_cells(path)):5} {core_minutes(path):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
