"""Notebook demo helpers: scripted faults on the shared simulator (nothing live), side by side."""

from __future__ import annotations

import openai
import pytest

import course_utils
from course_utils.demo import SideBySide, scripted_faults, side_by_side
from course_utils.pricing import DEFAULT_MODEL


@pytest.fixture
def simulator_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "simulator")


def _ask(client: openai.OpenAI) -> str:
    try:
        client.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=16)
    except openai.APIError as err:
        return type(err).__name__
    return "answered"


def test_scripted_faults_reach_the_real_sdk_in_order_then_are_cleared(
    simulator_backend: None,
) -> None:
    client = course_utils.get_client(max_retries=0)
    with scripted_faults("rate_limit", None, "quota", "server_error") as sim:
        assert sim is course_utils.get_simulator()
        seen = [_ask(client) for _ in range(3)]
        assert sim.pending_faults == ["server_error"]
    assert seen == ["RateLimitError", "answered", "RateLimitError"]
    assert sim.pending_faults == []  # the unused one never reaches a later cell
    assert _ask(client) == "answered"


def test_scripted_faults_drop_leftovers_and_clear_even_when_the_cell_fails(
    simulator_backend: None,
) -> None:
    sim = course_utils.get_simulator()
    sim.queue_faults(["auth", "auth"])  # left by an earlier, interrupted cell
    with pytest.raises(ZeroDivisionError), scripted_faults("timeout"):
        assert sim.pending_faults == ["timeout"]
        _ = 1 / 0
    assert sim.pending_faults == []


def test_scripted_faults_do_nothing_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    with scripted_faults("rate_limit") as sim:
        assert sim is None


def test_scripted_faults_name_the_mistake(simulator_backend: None) -> None:
    with (
        pytest.raises(ValueError, match="'ratelimit' is not a simulator fault"),
        scripted_faults("ratelimit"),
    ):
        pass
    with (
        pytest.raises(TypeError, match=r"scripted_faults\('rate_limit', None\), not a list"),
        scripted_faults(["rate_limit", None]),  # type: ignore[arg-type]
    ):
        pass


def test_side_by_side_is_readable_text_in_columns() -> None:
    shown = side_by_side(verbose="A long answer. " * 8, concise="- one\n- two", width=30)
    lines = str(shown).splitlines()
    assert lines[0].split("|")[0].strip() == "verbose" and lines[0].endswith("concise")
    assert "- one" in lines[2] and "- two" in lines[3]  # line breaks kept
    assert max(len(line.split("|")[0].rstrip()) for line in lines) <= 30


def test_side_by_side_html_escapes_and_marks_an_empty_answer() -> None:
    page = side_by_side(verbose="<script>x</script>", concise="")._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "(empty answer)" in page and 'class="course-side-by-side"' in page


def test_side_by_side_rejects_what_is_not_text() -> None:
    with pytest.raises(TypeError, match="concise is not a str"):
        side_by_side(verbose="a", concise=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a column"):
        SideBySide({})


def test_top_level_exports() -> None:
    assert course_utils.scripted_faults is scripted_faults
    assert course_utils.side_by_side is side_by_side
    assert "Recommended action" in course_utils.categories_markdown()
