"""show_source: the code a lesson teaches, collapsible and highlighted in JupyterLab, plain
text anywhere else; and the teaching modules it shows stay short enough to read."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from IPython.core.formatters import DisplayFormatter

from course_utils import RateLimiter, Result, retry_call, run_prompts, show_source

ROOT = Path(__file__).resolve().parents[1]


def test_html_is_a_closed_details_block_with_highlighted_source():
    view = show_source(retry_call)
    page = view._repr_html_()
    assert page.startswith("<details><summary>") and page.endswith("</details>")
    assert "course_utils.backoff.retry_call" in page and "course_utils/backoff.py" in page
    assert "<span" in page  # Pygments coloured it
    assert "def" in page and "retry_call" in html.unescape(page)
    assert show_source(retry_call, expanded=True)._repr_html_().startswith("<details open>")


def test_plain_text_names_the_place_then_shows_the_code():
    text = str(show_source(RateLimiter))
    first, rest = text.split("\n", 1)
    assert first.startswith("# course_utils.ratelimit.RateLimiter (course_utils/ratelimit.py")
    assert rest.startswith("class RateLimiter")
    data, _ = DisplayFormatter().format(show_source(Result))
    assert {"text/html", "text/plain"} <= set(data)


def test_a_wrapped_function_shows_its_own_code():
    assert "def run_prompts" in show_source(run_prompts).code


@pytest.mark.parametrize("thing", [42, len, "retry_call"])
def test_something_without_source_gets_a_clear_message(thing):
    with pytest.raises(TypeError, match="show_source\\(\\) shows a function, class or method"):
        show_source(thing)


TEACHING = {  # module: the object a lesson shows
    "course_utils/backoff.py": "retry_call",
    "course_utils/ratelimit.py": "RateLimiter",
    "course_utils/results.py": "Result",
}


@pytest.mark.parametrize(("path", "main"), TEACHING.items())
def test_the_code_a_lesson_shows_is_short_and_plain(path, main):
    """Issue 30: each teaching module <= 250 lines, its main object <= 120; validation in one
    shared place (at most one bool guard: results' whole-number test for data read from files)."""
    source = (ROOT / path).read_text("utf-8")
    assert len(source.splitlines()) <= 250
    tree = ast.parse(source)
    (node,) = [n for n in tree.body if getattr(n, "name", None) == main]
    assert node.end_lineno - node.lineno + 1 <= 120
    assert len(re.findall(r"not isinstance\(\w+, bool\)", source)) <= 1
    assert "_check_" not in source
