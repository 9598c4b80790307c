"""The course map, one source (``data/course_map.toml``) rendered wherever the course shows it.

The README, INSTRUCTOR.md and lesson 00 each hold the map between two comment lines
(``<!-- course-map -->`` … ``<!-- /course-map -->``), invisible when rendered; ``sync``
rewrites only that block, so the rest of each file stays its authors'. The exercise headers are
rendered by ``build_exercises`` with ``render(here=...)``.
``python -m course_utils.course_map [--check]`` writes the blocks, or lists those that differ
from the data (``make exercises`` does both).
"""

from __future__ import annotations

import argparse
import posixpath
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "DATA",
    "MAP_END",
    "MAP_START",
    "TARGETS",
    "MapError",
    "Row",
    "load",
    "render",
    "stale_targets",
    "sync",
]

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "course_map.toml"
# The block's edges: short (a lesson's reading is counted), and the data file says how to edit it.
MAP_START = "<!-- course-map -->"
MAP_END = "<!-- /course-map -->"
CLASS_SLOTS = ("0–8", "8–18", "18–28", "28–38", "38–45")  # the session plan's order
# Documents that show the map: path from the root -> whether it shows the "covers" column.
TARGETS = {
    "README.md": True,
    "INSTRUCTOR.md": True,
    "notebooks/00_start_here.ipynb": False,
}


class MapError(ValueError):
    """The map's data or a document's map block is not as the renderer needs it."""


@dataclass(frozen=True)
class Row:
    """One line of the map: a slot (or "after class"), its lessons and its exercise."""

    minutes: str
    topic: str
    lessons: tuple[str, ...]
    covers: str
    exercise: str = ""
    in_class: str = ""
    homework: str = ""


def load(path: Path = DATA) -> list[Row]:
    """The map's rows, checked: the class slots come first, in the plan's order."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        rows = [Row(**{**row, "lessons": tuple(row["lessons"])}) for row in data["row"]]
    except (KeyError, TypeError) as err:
        raise MapError(
            f"{path}: every [[row]] needs minutes, topic, lessons and covers ({err})"
        ) from None
    slots = [r.minutes for r in rows if r.minutes != "after class"]
    if tuple(slots) != CLASS_SLOTS or any(r.minutes != "after class" for r in rows[len(slots) :]):
        order = ", ".join(CLASS_SLOTS)
        raise MapError(f"{path}: the class slots must be {order}, then 'after class' rows")
    return rows


def _link(target: str, base: str) -> str:
    name = posixpath.splitext(posixpath.basename(target))[0]
    return f"[{name}]({posixpath.relpath(target, base or '.')})"


def render(base: str = "", *, covers: bool = True, here: str | None = None) -> str:
    """The map as a Markdown table for a document in folder ``base`` (links relative to it).

    ``covers``: the whole map with what each row covers (README, INSTRUCTOR.md). Without it,
    the class's 45 minutes only, plus any later row ``here`` is on (lesson 00, the exercises):
    what a learner reads in class stays short. ``here`` (a path from the root) marks its rows.
    """
    rows = [
        r
        for r in load()
        if covers or r.minutes != "after class" or here in (*r.lessons, r.exercise)
    ]
    last = "exercise" if covers else "exercise in class"
    head = ["minutes", "topic", "lessons", *(["what it covers"] if covers else []), last]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        mark = " **← you are here**" if here in (*row.lessons, row.exercise) else ""
        if covers:
            work = [f"in class: {row.in_class}" if row.in_class else ""]
            work += [f"homework: {row.homework}" if row.homework else ""]
        else:  # the short map: what is done in class, every word counted in a lesson's time
            work = [row.in_class or ("(homework)" if row.homework else "")]
        link = [_link(row.exercise, base)] if row.exercise else []
        exercise = " · ".join(link + [w for w in work if w])
        cells = [
            row.minutes + mark,
            row.topic,
            ", ".join(_link(lesson, base) for lesson in row.lessons),
            *([row.covers] if covers else []),
            exercise,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _block(target: str) -> str:
    base = posixpath.dirname(target)
    # Blank lines around the table: a line right after a table would be read as one more row.
    return f"{MAP_START}\n\n{render(base, covers=TARGETS[target])}\n\n{MAP_END}"


def _replace(text: str, block: str, where: str) -> str:
    start, end = text.find(MAP_START), text.find(MAP_END)
    if start < 0 or end < start:
        raise MapError(f"{where} has no course-map block ({MAP_START!r} … {MAP_END!r})")
    return text[:start] + block + text[end + len(MAP_END) :]


def _synced(root: Path, target: str) -> tuple[str, str]:
    """(current file text, the text with its map block re-rendered)."""
    path = root / target
    text = path.read_text(encoding="utf-8")
    if not target.endswith(".ipynb"):
        return text, _replace(text, _block(target), target)
    nb = nbformat.reads(text, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "markdown" and MAP_START in c.source]
    if len(cells) != 1:
        raise MapError(f"{target}: expected one markdown cell with the course-map block")
    cells[0].source = _replace(cells[0].source, _block(target), target)
    new = nbformat.writes(nb)
    return text, new if new.endswith("\n") else new + "\n"


def stale_targets(root: Path = ROOT) -> list[str]:
    """The documents whose map block differs from the data."""
    return [t for t in TARGETS if (pair := _synced(root, t))[0] != pair[1]]


def sync(root: Path = ROOT) -> list[str]:
    """Re-render every document's map block; return those that changed."""
    changed = []
    for target in TARGETS:
        old, new = _synced(root, target)
        if old != new:
            (root / target).write_text(new, encoding="utf-8")
            changed.append(target)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the map blocks, or ``--check`` that they are current."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.course_map")
    parser.add_argument("--check", action="store_true", help="exit 1 if a map block is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_targets()
            for target in stale:
                print(f"stale course map: {target}", file=sys.stderr)
            return 1 if stale else 0
        changed = sync()
    except MapError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"course map: updated {len(changed)} document(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
