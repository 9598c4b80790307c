"""One course map, one source: every copy equals the data, which keeps the session plan's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils import course_map
from course_utils.course_map import MAP_END, MAP_START, MapError

ROOT = Path(__file__).resolve().parents[1]


def test_every_document_shows_the_map_as_the_data_renders_it() -> None:
    assert course_map.stale_targets(ROOT) == [], "run `make exercises` to re-render the map"
    for target in course_map.TARGETS:
        text = (ROOT / target).read_text(encoding="utf-8")
        assert text.count(MAP_START) == 1 and text.count(MAP_END) == 1, target


def test_a_changed_copy_is_found_and_re_rendered(tmp_path: Path) -> None:
    for target in course_map.TARGETS:
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / target).read_text(encoding="utf-8")
        (tmp_path / target).write_text(text.replace("| 8–18 |", "| 8–20 |"), encoding="utf-8")
    assert course_map.stale_targets(tmp_path) == list(course_map.TARGETS)
    assert course_map.sync(tmp_path) == list(course_map.TARGETS)
    assert course_map.stale_targets(tmp_path) == []
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme == (ROOT / "README.md").read_text(encoding="utf-8")  # only the block changed


def test_a_document_without_the_block_is_a_clear_error(tmp_path: Path) -> None:
    for target in course_map.TARGETS:
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target).write_text("# no map here\n", encoding="utf-8")
    with pytest.raises(MapError, match=r"README\.md has no course-map block"):
        course_map.stale_targets(tmp_path)


def test_the_session_plans_order_holds() -> None:
    rows = course_map.load()
    slots = {r.minutes: r for r in rows if r.minutes != "after class"}
    assert list(slots) == ["0–8", "8–18", "18–28", "28–38", "38–45"]
    assert slots["0–8"].lessons == ("notebooks/00_start_here.ipynb",)
    assert slots["8–18"].exercise == "exercises/01_prompt_styles.ipynb"
    assert slots["18–28"].exercise == "exercises/02_retry_wrapper.ipynb"
    assert slots["28–38"].exercise == "exercises/03_safe_generate.ipynb"
    assert slots["38–45"].lessons == ("notebooks/05_mini_project.ipynb",)
    for minutes in ("8–18", "18–28", "28–38"):  # each exercise has an in-class part and homework
        assert slots[minutes].in_class and slots[minutes].homework
    assert all(r.minutes == "after class" for r in rows[len(slots) :])


def test_every_path_on_the_map_exists() -> None:
    for row in course_map.load():
        for path in (*row.lessons, row.exercise):
            assert not path or (ROOT / path).is_file(), path


def test_links_are_relative_to_the_document() -> None:
    assert "](01_tokens.ipynb)" in course_map.render("notebooks")
    assert "](../exercises/01_prompt_styles.ipynb)" in course_map.render("notebooks")
    assert "](notebooks/01_tokens.ipynb)" in course_map.render("")
    here = course_map.render("exercises", covers=False, here="exercises/02_retry_wrapper.ipynb")
    marked = [line for line in here.splitlines() if "you are here" in line]
    assert len(marked) == 1 and marked[0].startswith("| 18–28")
