"""The one figure class the course draws with: a ``Figure`` that shows itself as a PNG.

Figures are built without pyplot (no global state), so they work under any backend, Agg
included. A bare ``matplotlib.figure.Figure`` made that way has no image form of its own: in a
kernel where pyplot was never imported (JupyterLab's default until ``%matplotlib inline`` runs)
IPython prints it as the text ``<Figure size ...>``. ``CourseFigure`` draws itself instead; where
the inline backend has registered its formatter, IPython uses that, so the cell still shows
exactly one image.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["CourseFigure", "figure_png"]


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for widgets, files and tests)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


class CourseFigure(Figure):
    """A ``Figure`` that IPython displays as one PNG, with or without a plotting backend."""

    def _repr_png_(self) -> bytes:
        return figure_png(self)
