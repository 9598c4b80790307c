"""``show_source(obj)``: the code a lesson teaches, shown where the lesson uses it.

In JupyterLab it is a collapsible block (an HTML ``<details>``) with the source highlighted by
Pygments, closed until the learner opens it; anywhere else (a terminal, a plain-text output,
a test) it is the source as text under a one-line header saying where it lives.
"""

from __future__ import annotations

import html
import inspect
from pathlib import Path
from typing import Any

__all__ = ["SourceView", "show_source"]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class SourceView:
    """The source of one function, class or method, ready to display (HTML or text)."""

    def __init__(self, obj: Any, *, expanded: bool = False) -> None:
        target = inspect.unwrap(obj) if callable(obj) else obj
        try:
            self.code = inspect.getsource(target)
            file = Path(inspect.getsourcefile(target) or "?").resolve()
            self.line = inspect.getsourcelines(target)[1]
        except (TypeError, OSError) as err:
            raise TypeError(
                f"show_source() shows a function, class or method written in Python, such as "
                f"show_source(retry_call); {obj!r} has no source to show ({err})"
            ) from None
        self.name = f"{target.__module__}.{target.__qualname__}"
        self.path = file.relative_to(_PACKAGE_ROOT) if file.is_relative_to(_PACKAGE_ROOT) else file
        self.expanded = expanded

    @property
    def lines(self) -> int:
        """How many lines the source has."""
        return len(self.code.splitlines())

    def header(self) -> str:
        """Where the code lives: its name, file and first line, and its length."""
        return f"{self.name} ({self.path}, line {self.line}, {self.lines} lines)"

    def __str__(self) -> str:
        return f"# {self.header()}\n{self.code}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight  # type: ignore[import-untyped]
            from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
            from pygments.lexers import PythonLexer  # type: ignore[import-untyped]

            body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True))
        except ImportError:  # Pygments comes with IPython; plain text if it is missing
            body = f"<pre>{html.escape(self.code)}</pre>"
        state = " open" if self.expanded else ""
        return (
            f"<details{state}><summary>Source: <code>{html.escape(self.name)}</code> "
            f"({html.escape(str(self.path))}, {self.lines} lines; click to "
            f"{'close' if self.expanded else 'open'})</summary>{body}</details>"
        )


def show_source(obj: Any, *, expanded: bool = False) -> SourceView:
    """Show ``obj``'s source: collapsible and highlighted in JupyterLab, plain text elsewhere.

    ``expanded=True`` opens it at once. Put it last in a cell (or ``display(...)`` it).
    """
    return SourceView(obj, expanded=expanded)
