"""INSTRUCTOR.md's "Rehearsed timings" table says what the measure says.

The table gives each slot's core path and in-class part in minutes (bench/class_time.py: 180
words a minute plus 15 s per code cell) and the typing its blanks need. A lesson cut or grown
changes the measure; this test makes the table follow, so the run sheet never promises a fit
the lessons no longer have.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from test_checks_in_class import TYPING_CHARS_PER_MIN
from test_lessons import _class_time as class_time  # bench/class_time.py, the one measure

from course_utils import course_map

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "INSTRUCTOR.md").read_text("utf-8")
CHARACTERS_PER_MINUTE = TYPING_CHARS_PER_MIN  # one typing pace: the in-class parts' own test
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def table() -> dict[str, list[str]]:
    """The rows of the table under '### Rehearsed timings', by slot ('8–18'), as cells."""
    section = TEXT.split("### Rehearsed timings", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| (\d+–\d+) [^|]*\|(.*)\|$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match[2].split("|")]
    return rows


def typed_characters(exercise: str) -> int:
    """Characters a learner types in the in-class part: the solution's blanks, spaces squeezed."""
    cells = nbformat.read(ROOT / exercise.replace("exercises/", "solutions/"), as_version=4).cells
    count = 0
    for cell in cells:
        if cell.cell_type == "markdown" and class_time().CORE_END.search(cell.source):
            break
        for block in SOLUTION.findall(cell.source) if cell.cell_type == "code" else []:
            lines = [ln for ln in block.splitlines() if not ln.strip().startswith("### TODO")]
            count += len(re.sub(r"\s+", " ", "\n".join(lines)).strip())
    return count


def test_the_table_gives_the_measure_of_every_slot() -> None:
    rows, measure = table(), class_time()
    slots = [r for r in course_map.load() if r.minutes != "after class"]
    assert sorted(rows) == sorted(r.minutes for r in slots), rows
    total_measured = total_typing = 0.0
    for slot in slots:
        minutes, lessons, in_class, measured, typing, with_typing = rows[slot.minutes]
        start, end = (int(m) for m in slot.minutes.split("–"))
        assert int(minutes) == end - start, slot.minutes
        lesson_minutes = {Path(p).stem[:2]: measure.core_minutes(ROOT / p) for p in slot.lessons}
        shown = dict(re.findall(r"(\d\d): ([\d.]+)", lessons))
        assert shown == {k: f"{v:.1f}" for k, v in lesson_minutes.items()}, slot.minutes
        part = measure.core_minutes(ROOT / slot.exercise) if slot.in_class else 0.0
        assert in_class == (f"{part:.1f}" if slot.in_class else "–"), slot.minutes
        chars = typed_characters(slot.exercise) if slot.in_class else 0
        minutes_typing = chars / CHARACTERS_PER_MINUTE
        assert typing.split()[0] == (f"{minutes_typing:.1f}" if chars else "0"), slot.minutes
        if chars:
            assert re.search(rf"\({chars}\b", typing), (slot.minutes, chars)
        whole = sum(lesson_minutes.values()) + part
        assert measured == f"{whole:.1f}", slot.minutes
        assert with_typing == f"{whole + minutes_typing:.1f}", slot.minutes
        total_measured += whole
        total_typing += minutes_typing
    totals = re.search(r"^\| \*\*total\*\* \|.*$", TEXT, re.M)
    assert totals, "the table has no total row"
    assert f"**{total_measured:.1f}**" in totals[0] and f"**{total_typing:.1f}**" in totals[0]


def test_every_slots_measure_fits_its_minutes() -> None:
    """The issue's criterion: the core path and the in-class part fit the slot by the measure."""
    for slot, cells in table().items():
        assert float(cells[3]) <= int(cells[0]), (slot, cells)
