"""Small helpers for notebook demo cells: scripted faults, two answers side by side, and a
guard that turns a mistake in an exercise's demo into one line pointing to its check.

``scripted_faults`` replaces the pattern every demo cell used to repeat::

    if backend() == "simulator":
        get_simulator().queue_faults([...], replace=True)
    try:
        ...
    finally:
        if backend() == "simulator":
            get_simulator().clear_faults()
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from . import config

if TYPE_CHECKING:
    from course_simulator import Simulator

__all__ = ["SideBySide", "scripted_faults", "side_by_side", "try_it"]


@contextmanager
def scripted_faults(*faults: str | None) -> Iterator[Simulator | None]:
    """Script what the next requests get on the course simulator; do nothing live.

    Each argument is a simulator fault (``"rate_limit"``, ``"quota"``, ``"server_error"``, ...)
    or None for "answer normally", used by one generating request in order. Faults left over
    from an earlier run are dropped first, and those still unused when the block ends are
    cleared, so a demo cell never leaves a trap for the next one. Yields the simulator (to read
    ``sim.requests``), or None on the live API, where nothing can be scripted.
    """
    if len(faults) == 1 and isinstance(faults[0], list | tuple):
        raise TypeError(
            f"scripted_faults takes each fault as its own argument: "
            f"scripted_faults({', '.join(map(repr, faults[0]))}), not a list"
        )
    if config.backend() != "simulator":
        yield None
        return
    from .client import get_simulator

    sim = get_simulator()
    sim.queue_faults(list(faults), replace=True)  # a ValueError names an unknown fault
    try:
        yield sim
    finally:
        sim.clear_faults()


class SideBySide:
    """Texts in columns: an HTML table in Jupyter, wrapped text columns anywhere else."""

    def __init__(self, columns: Mapping[str, str], width: int = 48) -> None:
        if not columns:
            raise ValueError("side_by_side needs a column, e.g. side_by_side(verbose=a, concise=b)")
        bad = [k for k, v in columns.items() if not isinstance(v, str)]
        if bad:
            raise TypeError(
                f"side_by_side shows text: {', '.join(bad)} is not a str "
                f"(got {', '.join(type(columns[k]).__name__ for k in bad)})"
            )
        self.columns = dict(columns)
        self.width = width

    def _repr_html_(self) -> str:
        head = "".join(
            f'<th style="text-align:left">{html.escape(title)}</th>' for title in self.columns
        )
        cells = "".join(
            '<td style="vertical-align:top; text-align:left; width:'
            f'{100 // len(self.columns)}%"><div style="white-space:pre-wrap; '
            f'font-family:inherit">{html.escape(text) or "<em>(empty answer)</em>"}</div></td>'
            for text in self.columns.values()
        )
        return (
            '<table class="course-side-by-side" style="width:100%; table-layout:fixed">'
            f"<tr>{head}</tr><tr>{cells}</tr></table>"
        )

    def __str__(self) -> str:
        wrapped = [
            [title, "-" * min(len(title), self.width), *_wrap(text or "(empty answer)", self.width)]
            for title, text in self.columns.items()
        ]
        rows = max(len(col) for col in wrapped)
        lines = []
        for i in range(rows):
            parts = [(col[i] if i < len(col) else "").ljust(self.width) for col in wrapped]
            lines.append(" | ".join(parts).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap each line of ``text`` to ``width``, keeping line breaks (bullets stay bullets)."""
    return [part for line in text.splitlines() for part in textwrap.wrap(line, width) or [""]]


def side_by_side(width: int = 48, **columns: str) -> SideBySide:
    """Show texts next to each other (``side_by_side(verbose=a, concise=b)``), as the last line
    of a cell: readable text in columns, so two answers can be compared at a glance."""
    return SideBySide(columns, width)


@contextmanager
def try_it(name: str) -> Iterator[None]:
    """Run an exercise's demo of ``name``; a mistake ends the demo with one line, not a traceback.

    The demo is for looking, the check is for judging: an unwritten function (NotImplementedError)
    or one that returns the wrong shape must not stop *Run All* before the ``check(...)`` cell,
    which names the rule that was broken. KeyboardInterrupt still stops the cell.
    """
    try:
        yield
    except NotImplementedError:
        print(f"`{name}` is not written yet: fill in its TODO, run that cell, then this one.")
    except Exception as err:
        what = f"{type(err).__name__}: {str(err).strip()[:160]}".rstrip(": ")
        print(
            f"The demo of `{name}` stopped ({what}). Run the check cell below: it says which "
            "rule of the task to look at."
        )
