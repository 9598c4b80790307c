"""plots: every figure has a title, axis labels with units, and renders to PNG."""

from __future__ import annotations

import pytest

from course_utils.plots import (
    chunk_sizes_figure,
    comparer_figure,
    cost_per_1000_figure,
    figure_png,
)
from course_utils.pricing import estimate_cost, list_models


def _axes(fig):
    (ax,) = fig.axes
    return ax


def test_cost_figure_labels_and_values():
    fig = cost_per_1000_figure(500, 200)
    ax = _axes(fig)
    assert "1,000 requests" in ax.get_title()
    assert "(USD)" in ax.get_ylabel() and ax.get_xlabel() == "model"
    heights = [p.get_height() for p in ax.patches]
    expected = [estimate_cost(m.id, 500, 200) * 1000 for m in list_models()]
    assert heights == pytest.approx(expected)
    assert figure_png(fig).startswith(b"\x89PNG")


def test_cost_figure_rejects_no_models():
    with pytest.raises(ValueError, match="at least one model"):
        cost_per_1000_figure(1, 1, models=[])


def test_chunk_figure_marks_budget_and_overflow():
    fig = chunk_sizes_figure([900, 1000, 1200], 1000)
    ax = _axes(fig)
    assert "1,000-token budget" in ax.get_title()
    assert ax.get_ylabel() == "input tokens per request" and ax.get_xlabel() == "chunk number"
    assert [line.get_ydata()[0] for line in ax.lines] == [1000]
    colours = [p.get_facecolor() for p in ax.patches]
    assert colours[0] == colours[1] != colours[2]
    with pytest.raises(ValueError, match="empty"):
        chunk_sizes_figure([], 10)


def test_comparer_figure():
    ax = _axes(comparer_figure(["A", "B"], [40, 20], [300, 60]))
    assert ax.get_title() and ax.get_xlabel() == "tokens" and ax.get_ylabel() == "prompt"
    assert len(ax.patches) == 4
    with pytest.raises(ValueError, match="same length"):
        comparer_figure(["A"], [1, 2], [3])


def test_a_figure_displays_as_one_image_in_a_kernel_without_a_plotting_backend():
    """JupyterLab's kernel registers no figure formatter until pyplot or ``%matplotlib`` loads,
    so a bare pyplot-free Figure showed as the text ``<Figure size 800x340 with 1 Axes>``."""
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(chunk_sizes_figure([900, 1_400], 1_500))
    assert data["image/png"].startswith(b"\x89PNG")
    assert [kind for kind in data if kind.startswith("image/")] == ["image/png"]
