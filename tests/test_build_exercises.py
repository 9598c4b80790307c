"""build_exercises: markers, stubs, hard errors, no solution text, determinism, exercises/ fresh."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils import build_exercises as bx
from course_utils import course_map
from course_utils.build_exercises import BEGIN, END, MarkerError, build_notebook, find_regions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

FUNCTION_CELL = f"""def add(a, b):
    \"\"\"Add.\"\"\"
    {BEGIN}
    ### TODO: return the sum of a and b
    total = a + b
    return total
    {END}
"""
TOPLEVEL_CELL = f"""x0 = 1
{BEGIN}
answer = 40 + 2
low, high = 1, 9
cap: int = 5
{END}
print("after")
"""


def _nb(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return new_notebook(
        cells=list(cells),
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def _build(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return build_notebook(_nb(*cells), "solutions/demo.ipynb")


def test_function_region_becomes_todo_and_raise_keeping_indentation() -> None:
    out = _build(new_code_cell(FUNCTION_CELL)).cells[1].source
    assert out.splitlines()[2:] == [
        "    # TODO: return the sum of a and b",
        '    raise NotImplementedError("return the sum of a and b")',
    ]
    namespace: dict = {}
    exec(out, namespace)  # defining the stub must not raise
    with pytest.raises(NotImplementedError, match="sum of a and b"):
        namespace["add"](1, 2)


def test_generic_todo_when_no_todo_line() -> None:
    src = f"def f():\n        {BEGIN}\n        return 1\n        {END}"
    out = _build(new_code_cell(src)).cells[1].source
    assert "        # TODO: write the body of this function" in out
    assert '        raise NotImplementedError("write the body of this function")' in out


def test_long_todo_is_wrapped_like_ruff_format() -> None:
    todo = "x" * 90
    src = f"def f():\n    {BEGIN}\n    ### TODO: {todo}\n    return 1\n    {END}"
    out = _build(new_code_cell(src)).cells[1].source
    assert f'    raise NotImplementedError(\n        "{todo}"\n    )' in out


def test_toplevel_region_assigns_ellipsis_to_the_same_names_and_runs() -> None:
    out = _build(new_code_cell(TOPLEVEL_CELL)).cells[1].source
    assert out.splitlines() == [
        "x0 = 1",
        "# TODO: write your code here",
        "answer = ...",
        "low = ...",
        "high = ...",
        "cap = ...",
        'print("after")',
    ]
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(out, namespace)
    assert namespace["answer"] is Ellipsis


def test_markdown_region_and_multiple_regions() -> None:
    md = new_markdown_cell(f"Why?\n{BEGIN}\nBecause jitter spreads retries.\n{END}\nEnd.")
    two = new_code_cell(f"{BEGIN}\na = 1\n{END}\nmiddle = 2\n{BEGIN}\nb = 3\n{END}")
    nb = _build(md, two)
    assert nb.cells[1].source == "Why?\n_Write your answer here._\nEnd."
    assert nb.cells[2].source == (
        "# TODO: write your code here\na = ...\nmiddle = 2\n# TODO: write your code here\nb = ..."
    )


def test_solution_only_cells_dropped_outputs_cleared_header_first() -> None:
    hidden = new_code_cell("print('demo of the answer')", metadata={"tags": ["solution-only"]})
    ran = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", text="1\n")])
    nb = _build(hidden, ran)
    assert [c.source for c in nb.cells[1:]] == ["print(1)"]
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    header = nb.cells[0]
    assert header.cell_type == "markdown" and header.id == bx.HEADER_CELL_ID


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_header_speaks_to_the_learner_and_shows_the_map_with_this_exercise_marked(
    path: Path,
) -> None:
    header = nbformat.read(ROOT / "exercises" / path.name, as_version=4).cells[0].source
    first = header.splitlines()[0]
    assert first.startswith("**This notebook is yours to edit:**")
    assert "do not edit" not in header.lower() and not first.lower().startswith("generated")
    assert course_map.render("exercises", covers=False, here=f"exercises/{path.name}") in header
    marked = [line for line in header.splitlines() if "you are here" in line]
    assert marked and all(f"({path.name})" in line for line in marked)


# --- nbgrader ---------------------------------------------------------------------------------


def _kinds(path: Path) -> dict[str, list[str]]:
    cells = nbformat.read(path, as_version=4).cells
    found: dict[str, list[str]] = {"solution": [], "check": [], "other": []}
    for cell in cells:
        meta = cell.metadata.get("nbgrader")
        kind = "other" if meta is None else "solution" if meta["solution"] else "check"
        found[kind].append(cell.source)
        if meta is not None:
            assert meta["grade_id"] == cell.id and meta["schema_version"] == 3
            assert meta["locked"] == meta["grade"] == (kind == "check")
    return found


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_and_check_cells_carry_nbgrader_metadata(folder: str, path: Path) -> None:
    kinds = _kinds(ROOT / folder / path.name)
    assert kinds["solution"] and kinds["check"]
    marker = BEGIN if folder == "solutions" else bx.STUB_MARK
    assert all(marker in source for source in kinds["solution"])
    assert all("check(" in source for source in kinds["check"])
    assert not any(marker in s or s.startswith("check(") for s in kinds["other"])


@pytest.mark.slow
def test_nbgrader_clears_the_solutions_only_with_the_metadata() -> None:
    clear = pytest.importorskip("nbgrader.preprocessors").ClearSolutions
    source = nbformat.read(ROOT / "solutions" / "08_batch_input.ipynb", as_version=4)
    cleared, _ = clear().preprocess(nbformat.from_dict(source), {})
    code = "\n".join(c.source for c in cleared.cells if c.cell_type == "code")
    assert BEGIN not in code and "raise NotImplementedError" in code
    for cell in source.cells:  # as before the build wrote the metadata
        cell.metadata.pop("nbgrader", None)
    with pytest.raises(RuntimeError, match="Solution region detected in a non-solution cell"):
        clear().preprocess(source, {})


@pytest.mark.slow
def test_under_nbgrader_a_wrong_answer_loses_its_marks_and_a_right_one_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    preprocessors = pytest.importorskip("nbgrader.preprocessors")
    from nbgrader.utils import determine_grade

    monkeypatch.setenv("COURSE_BACKEND", "simulator")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # as nbgrader's autograder sets it
    exercise = nbformat.read(ROOT / "exercises" / "08_batch_input.ipynb", as_version=4)
    setup = next(c for c in exercise.cells if c.cell_type == "code")
    check_cell = next(c for c in exercise.cells if c.metadata.get("nbgrader", {}).get("grade"))
    wrong = "def build_batch_input(prompts, **kwargs):\n    return '\\n'.join(prompts)"
    right = (
        "def build_batch_input(prompts, *, model=DEFAULT_MODEL, max_output_tokens=100):\n"
        "    return ''.join(json.dumps({'custom_id': f'p{i}', 'method': 'POST', "
        "'url': '/v1/responses', 'body': {'model': model, 'input': p, "
        "'max_output_tokens': max_output_tokens}}) + '\\n' for i, p in enumerate(prompts))"
    )
    graded = []
    for number in range(2):  # one check cell after each answer
        cell = nbformat.from_dict(check_cell)
        cell.metadata.nbgrader["grade_id"] = cell.id = f"check-{number}"
        graded.append(cell)
    nb = _nb(setup, new_code_cell(wrong), graded[0], new_code_cell(right), graded[1])
    executed, _ = preprocessors.Execute(timeout=120).preprocess(nb, {})
    scores = [
        determine_grade(c, None)
        for c in executed.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert scores == [(0, 1), (1, 1)], [c.outputs for c in executed.cells]
    failure = next(o for o in executed.cells[2].outputs if o.output_type == "error")
    assert failure.ename == "AssertionError" and "❌ FAIL (rule 1" in failure.evalue


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (f"{BEGIN}\na = 1\n    {BEGIN}\n{END}\n{END}", "nested ### BEGIN SOLUTION on line 3"),
        (f"a = 1\n{END}", "### END SOLUTION on line 2 has no ### BEGIN SOLUTION"),
        (f"a = 1\n{BEGIN}\nb = 2", "### BEGIN SOLUTION on line 2 has no ### END SOLUTION"),
    ],
)
def test_bad_markers_are_hard_errors_naming_notebook_and_cell(source: str, message: str) -> None:
    nb = _nb(new_markdown_cell("intro"), new_code_cell("ok = 1"), new_code_cell(source))
    with pytest.raises(MarkerError) as caught:
        build_notebook(nb, "solutions/demo.ipynb")
    assert str(caught.value).startswith("solutions/demo.ipynb, cell 2: ")
    assert message in str(caught.value)


def test_bad_markers_in_markdown_are_errors_too() -> None:
    with pytest.raises(MarkerError, match="cell 0"):
        build_notebook(_nb(new_markdown_cell(f"{BEGIN}\nanswer")), "solutions/x.ipynb")


def test_find_regions_returns_line_pairs() -> None:
    assert find_regions(f"a\n{BEGIN}\nb\n{END}\n  {BEGIN}\n  {END}", "w") == [(1, 3), (4, 5)]


def _region_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Stripped lines only found inside solution regions, specific enough to recognise."""
    inside: set[str] = set()
    outside: set[str] = set()
    for index, cell in enumerate(nb.cells):
        src = cell.source.splitlines()
        hidden: set[int] = set()
        for start, end in find_regions(cell.source, f"cell {index}"):
            hidden.update(range(start, end + 1))
            for line in src[start + 1 : end]:
                text = line.strip()
                if len(text) >= 6 and re.search(r"\w", text) and not text.startswith("### TODO"):
                    inside.add(text)
        outside.update(line.strip() for n, line in enumerate(src) if n not in hidden)
    return inside - outside  # a line the notebook also shows outside a region is no secret


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_text_survives(path: Path) -> None:
    solution = nbformat.read(path, as_version=4)
    secret = _region_lines(solution)
    assert secret, f"{path.name} has no solution region"
    generated = nbformat.reads(bx.render(path), as_version=4)
    shown = {line.strip() for cell in generated.cells for line in cell.source.splitlines()}
    assert not secret & shown
    assert all(not c.get("outputs") for c in generated.cells)
    assert BEGIN not in bx.render(path) and END not in bx.render(path)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebooks_are_committed_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    bx.write_all(ROOT / "solutions", first)
    bx.write_all(ROOT / "solutions", second)
    for path in sorted(first.glob("*.ipynb")):
        data = path.read_bytes()
        assert data == (second / path.name).read_bytes()
        assert data.endswith(b"}\n")
    assert bx.write_all(ROOT / "solutions", first) == []  # nothing changes the second time


def test_exercises_folder_is_not_stale(capsys: pytest.CaptureFixture[str]) -> None:
    code = bx.main(["--check"])
    err = capsys.readouterr().err
    assert code == 0, f"exercises/ is stale, run `make exercises`:\n{err}"


def test_check_mode_lists_stale_files_without_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(_nb(new_code_cell(FUNCTION_CELL)), solutions / "01_demo.ipynb")
    code = bx.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)])
    assert code == 1
    assert "01_demo.ipynb" in capsys.readouterr().err
    assert not exercises.exists()
    assert bx.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 0
    assert bx.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)]) == 0
    (exercises / "99_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert bx.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)]) == 1
    assert "99_orphan.ipynb" in capsys.readouterr().err


def test_cli_reports_marker_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(_nb(new_code_cell(f"{BEGIN}\nx = 1")), solutions / "bad.ipynb")
    code = bx.main(["--solutions", str(solutions), "--exercises", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "solutions/bad.ipynb, cell 0" in err and "Traceback" not in err


def _run_cells(path: Path) -> str:
    """Execute a notebook's code cells in one namespace, as Run All would; return the output."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, f"{path.name}:{cell.id}", "exec"), namespace)
    return out.getvalue()


# That each solution's check cells print PASS is asserted in test_learner_view.py, on the run
# in a real kernel that judges what a learner sees.


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_untouched_exercise_runs_and_says_not_started(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "simulator")
    text = _run_cells(ROOT / "exercises" / path.name)
    assert "⏳ NOT STARTED" in text and "not written yet" in text
    assert "✅" not in text and "❌" not in text and "Traceback" not in text


# Lessons being written in this release; a link to one is allowed before it lands, nothing else.
LESSONS_BEING_WRITTEN: set[str] = set()  # every lesson an exercise links to has landed
NOTEBOOK_LINK = re.compile(r"notebooks/[\w.-]*")


def _markdown(path: Path) -> str:
    cells = nbformat.read(path, as_version=4).cells
    return "\n".join(c.source for c in cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_links_name_notebooks_that_exist(path: Path) -> None:
    pending: set[str] = set()
    for notebook in (path, ROOT / "exercises" / path.name):
        text = _markdown(notebook)
        links = set(NOTEBOOK_LINK.findall(text))
        assert "notebooks/" not in links, f"{notebook.name} points at the folder, not a lesson"
        siblings = set(re.findall(r"`(\d\d_[\w-]+\.ipynb)` in this folder", text))
        missing = {link for link in links if not (ROOT / link).is_file()}
        missing |= {s for s in siblings if not (notebook.parent / s).is_file()}
        assert missing <= LESSONS_BEING_WRITTEN, f"{notebook.name} links to {missing}"
        pending |= missing
    if pending:
        pytest.skip(f"links to lessons not merged yet: {', '.join(sorted(pending))}")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_tick_and_cross_has_its_word(path: Path) -> None:
    """Without an emoji font ✅ and ❌ render as empty boxes: the words must be beside them."""
    for notebook in (path, ROOT / "exercises" / path.name):
        text = _markdown(notebook)
        assert text.count("✅") == text.count("✅ PASS"), notebook.name
        assert text.count("❌") == text.count("❌ FAIL"), notebook.name


def test_the_check_symbols_appear_with_their_words_somewhere() -> None:
    """Guard for the test above: the exercise text does show ✅ PASS / ❌ FAIL to learners."""
    text = "".join(_markdown(p) for p in SOLUTIONS)
    assert "✅ PASS" in text and "❌ FAIL" in text
