"""What a learner sees in JupyterLab, judged from executed notebooks.

Every notebook in ``notebooks/`` and ``solutions/`` runs in a real kernel as JupyterLab starts
it on Binder or from a plain ``jupyter lab``: none of the Makefile's variables (no
``COURSE_BACKEND``: the simulator is the default; no ``MPLBACKEND``: matplotlib's inline backend;
no ``PYTHONHASHSEED``) and no key. It fails on:

- a figure printed as text (``<Figure size ...>`` without an image beside it);
- a ``$`` that JupyterLab would typeset as math, in a Markdown cell or a Markdown output;
- an error output (except in a cell tagged ``raises-exception``, a traceback shown on purpose);
- a number outside the range ``tests/claims.toml`` gives it (the prose states it; the output
  must agree).

Each lesson then runs a second time in the same kernel (Run All twice) and must print the same
text, apart from the volatile bits ``claims.toml`` declares (ports, timings, temporary paths).

Every solution's check cells say PASS (and nothing says FAIL). A few demos are held to more
than a number in range (``DEMOS``): on the first Run All, lesson 00 shows three usage numbers,
lesson 01's overflow is refused for real and its chunks fit the budget, and lesson 02's
reasoning demo shows an empty cut answer beside a full one.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from notebook_kernel import kernel_env, run_cells, running_kernel, text_of, unescaped_dollars

ROOT = Path(__file__).resolve().parents[1]
CLAIMS_FILE = ROOT / "tests" / "claims.toml"
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
MAKEFILE_ONLY = ("COURSE_BACKEND", "PYTHONHASHSEED", "OPENAI_API_KEY", "OPENAI_BASE_URL")
EXPECTED_ERROR = "raises-exception"  # the tag nbval, JupyterLab and tests_browser honour
FIGURE_AS_TEXT = re.compile(r"<\w*Figure size \d+x\d+")


@dataclass(frozen=True)
class Claim:
    notebook: str
    cell: str
    pattern: str
    min: float | None
    max: float | None
    says: str


@dataclass(frozen=True)
class Volatile:
    notebook: str  # "*" for every notebook
    cell: str | None  # None for every cell
    pattern: re.Pattern[str]


def load_claims() -> tuple[list[Claim], list[Volatile]]:
    """The claims and the volatile patterns, with a clear message for a malformed row."""
    data = tomllib.loads(CLAIMS_FILE.read_text("utf-8"))
    claims = []
    for row in data.get("claim", []):
        unknown = set(row) - {"notebook", "cell", "pattern", "min", "max", "says"}
        assert not unknown, f"claims.toml: unknown keys {sorted(unknown)} in {row}"
        claims.append(
            Claim(row["notebook"], row["cell"], row["pattern"], row.get("min"), row.get("max"),
                  row["says"])
        )  # fmt: skip
    volatile = []
    for row in data.get("volatile", []):
        unknown = set(row) - {"notebook", "cell", "pattern"}
        assert not unknown, f"claims.toml: unknown keys {sorted(unknown)} in {row}"
        volatile.append(Volatile(row["notebook"], row.get("cell"), re.compile(row["pattern"])))
    return claims, volatile


CLAIMS, VOLATILE = load_claims()


def cell_text(cell: nbformat.NotebookNode) -> str:
    """What a cell shows, as text. Consecutive stream outputs of one name are joined as they
    are, the way JupyterLab shows them: one print() may reach the kernel's client in pieces."""
    parts: list[str] = []
    last_stream = None
    for output in cell.get("outputs", []):
        stream = output.get("name") if output.output_type == "stream" else None
        if stream is not None and stream == last_stream:
            parts[-1] += text_of(output)
        else:
            parts.append(text_of(output))
        last_stream = stream
    return "\n".join(parts)


def problems_seen(name: str, cells: list[nbformat.NotebookNode]) -> list[str]:
    """Everything a learner would see broken in one executed notebook."""
    problems = []
    for cell in cells:
        where = f"{name} cell {cell.get('id')}"
        if cell.cell_type == "markdown":
            problems += [f"{where}: unescaped $ in Markdown: {line!r}"
                         for line in unescaped_dollars(cell.source)]  # fmt: skip
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                if EXPECTED_ERROR not in cell.get("metadata", {}).get("tags", []):
                    problems.append(f"{where}: error output {output.ename}: {output.evalue}")
                continue
            data = output.get("data", {})
            shown = output.get("text", "") + str(data.get("text/plain", ""))
            if FIGURE_AS_TEXT.search(shown) and "image/png" not in data:
                problems.append(f"{where}: a figure printed as text: {shown.strip()[:60]!r}")
            for line in unescaped_dollars(str(data.get("text/markdown", ""))):
                problems.append(f"{where}: unescaped $ in a Markdown output: {line!r}")
    return problems


def claim_failures(name: str, cells: list[nbformat.NotebookNode]) -> list[str]:
    by_id = {c.get("id"): c for c in cells}
    failures = []
    for claim in (c for c in CLAIMS if c.notebook == name):
        cell = by_id.get(claim.cell)
        if cell is None:
            failures.append(f"claim {claim.says!r}: no cell {claim.cell!r} in {name}")
            continue
        match = re.search(claim.pattern, cell_text(cell))
        if match is None:
            failures.append(f"claim {claim.says!r}: {claim.pattern!r} not in cell {claim.cell}")
            continue
        if claim.min is None and claim.max is None:
            continue
        value = float(match.group(1).replace(",", ""))
        low = claim.min if claim.min is not None else float("-inf")
        high = claim.max if claim.max is not None else float("inf")
        if not low <= value <= high:
            failures.append(
                f"claim {claim.says!r} in cell {claim.cell}: {value:g} is outside "
                f"[{claim.min}, {claim.max}]"
            )
    return failures


def _blank(match: re.Match[str]) -> str:
    """A volatile bit becomes a marker; a volatile whole line (ending in a newline) goes."""
    return "" if match.group().endswith("\n") else "<volatile>"


def steady_text(name: str, cells: list[nbformat.NotebookNode]) -> list[str]:
    """Each code cell's text with the declared volatile bits blanked and blank lines dropped
    (how a stream's text is split into outputs depends on timing, not on the lesson)."""
    texts = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        text = cell_text(cell)
        for v in VOLATILE:
            if v.notebook in ("*", name) and v.cell in (None, cell.get("id")):
                text = v.pattern.sub(_blank, text)
        lines = [line for line in text.splitlines() if line.strip()]
        texts.append("\n".join([f"[{cell.get('id')}]", *lines]))
    return texts


def demo_text(cells: list[nbformat.NotebookNode]) -> str:
    """Every code cell's streams and plain text, one cell after another."""
    return "\n".join(
        "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
        for c in cells
        if c.cell_type == "code"
    )


def lesson_00_shows_three_usage_numbers_not_the_raw_repr(out: str) -> None:
    for label in ("input:", "output:", "total:"):
        assert re.search(rf"^{label} +\d+ tokens", out, re.M), label
    assert "ResponseUsage(" not in out


def lesson_01_overflow_is_real_and_chunks_stay_within_budget(out: str) -> None:
    assert "refused: HTTP 400, code 'context_length_exceeded'" in out
    assert "exceeds the context window" in out
    assert re.search(r"within the 1,500 budget: True", out)
    billed = re.search(r"requests, billed \[([\d, ]+)\]", out)
    assert billed and max(int(n) for n in billed.group(1).split(",")) <= 1500


def lesson_02_reasoning_demo_shows_an_empty_cut_and_a_full_answer(out: str) -> None:
    assert re.search(r"^  none: completed +0 reasoning", out, re.M)
    assert re.search(r"^medium: incomplete +200 reasoning \+ +0 answer .* 0 characters", out, re.M)
    assert "status: 'incomplete', reason: 'max_output_tokens'" in out


DEMOS = {  # (moved from test_lessons.py, which ran these lessons once more to see them)
    "00_start_here": lesson_00_shows_three_usage_numbers_not_the_raw_repr,
    "01_tokens": lesson_01_overflow_is_real_and_chunks_stay_within_budget,
    "02_prompt_efficiency": lesson_02_reasoning_demo_shows_an_empty_cut_and_a_full_answer,
}


def learner_env() -> dict[str, str]:
    """A kernel's environment with no ``make`` (Binder, JupyterHub, ``jupyter lab``) and no key."""
    return {k: v for k, v in kernel_env().items() if k not in MAKEFILE_ONLY}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def assert_learner_sees_it_right(name: str, cells: list[nbformat.NotebookNode]) -> None:
    problems = problems_seen(name, cells) + claim_failures(name, cells)
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.timeout(600)  # two Run Alls of a whole lesson
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_shows_what_it_says_and_tells_the_same_story_when_run_again(path: Path) -> None:
    name = relative(path)
    with running_kernel(path, learner_env()) as client:
        first = run_cells(client)
        assert_learner_sees_it_right(name, first)
        if path.stem in DEMOS:
            DEMOS[path.stem](demo_text(first))
        second = run_cells(client)
    assert_learner_sees_it_right(name, second)
    changed = [
        "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm=""))
        for before, after in zip(steady_text(name, first), steady_text(name, second), strict=True)
        if before != after
    ]
    assert not changed, f"{name}: Run All a second time showed something else:\n" + "\n".join(
        changed
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_a_solution_shows_what_it_says(path: Path) -> None:
    name = relative(path)
    with running_kernel(path, learner_env()) as client:
        cells = run_cells(client)
    assert_learner_sees_it_right(name, cells)
    shown = "\n".join(cell_text(cell) for cell in cells if cell.cell_type == "code")
    assert "✅ PASS" in shown and "❌" not in shown and "FAIL" not in shown, shown


def test_every_claim_points_at_a_notebook_and_a_cell_that_exist() -> None:
    for claim in CLAIMS:
        path = ROOT / claim.notebook
        assert path.exists(), f"claims.toml names {claim.notebook}, which does not exist"
        ids = {c.get("id") for c in nbformat.read(path, as_version=4).cells}
        assert claim.cell in ids, f"claims.toml: no cell {claim.cell!r} in {claim.notebook}"
        re.compile(claim.pattern)
        if claim.min is not None or claim.max is not None:
            assert re.compile(claim.pattern).groups >= 1, f"{claim.says!r}: a range needs a group"


def test_every_demo_names_a_lesson_and_fails_on_an_empty_output() -> None:
    assert set(DEMOS) <= {path.stem for path in LESSONS}
    for demo in DEMOS.values():
        with pytest.raises(AssertionError):
            demo("")


# The checks themselves, on made-up outputs: each must catch what it is for.


def _cell(**outputs: object) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(**outputs)])


def test_a_figure_printed_as_text_is_caught_and_an_image_passes() -> None:
    text = {"text/plain": "<Figure size 800x340 with 1 Axes>"}
    as_text = _cell(output_type="execute_result", data=text, execution_count=1)
    drawn = _cell(output_type="display_data", data={**text, "image/png": "iVBOR"})
    assert problems_seen("x", [as_text]) and not problems_seen("x", [drawn])


def test_an_error_is_caught_unless_its_cell_is_tagged_as_expected() -> None:
    error = _cell(output_type="error", ename="TypeError", evalue="boom", traceback=[])
    assert problems_seen("x", [error])
    error.metadata["tags"] = [EXPECTED_ERROR]
    assert not problems_seen("x", [error])


def test_dollars_outside_code_are_caught_and_escaped_or_coded_ones_pass() -> None:
    assert unescaped_dollars("| a | $0.01 |\n| b | $0.02 |") == ["| a | $0.01 |", "| b | $0.02 |"]
    assert not unescaped_dollars(r"costs \$0.01 or `$HOME` or" + "\n```bash\necho $X\n```")
    md = _cell(output_type="display_data", data={"text/markdown": "cost $1", "text/plain": "x"})
    assert [p.split(": ", 1)[1] for p in problems_seen("x", [md])] == [
        "unescaped $ in a Markdown output: 'cost $1'"
    ]


def test_one_print_split_into_two_stream_outputs_reads_as_one_line() -> None:
    """A print() can reach the client as two stream messages; JupyterLab shows one line."""
    cell = nbformat.v4.new_code_cell(
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="44 of 200 tokens ->"),
            nbformat.v4.new_output("stream", name="stdout", text=" {'topic': 'x'}\n"),
            nbformat.v4.new_output("stream", name="stderr", text="a warning\n"),
        ]
    )
    assert cell_text(cell) == "44 of 200 tokens -> {'topic': 'x'}\n\na warning\n"


def test_a_widget_reads_as_drawn_not_as_its_repr() -> None:
    """JupyterLab draws a widget; its text/plain fallback (object addresses) is never shown."""
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2}}
    first = _cell(output_type="display_data", data={**view, "text/plain": "<W at 0x7f01>"})
    again = _cell(output_type="display_data", data={**view, "text/plain": "<W at 0x7f02>"})
    assert cell_text(first) == cell_text(again) == "[a widget]"
    plain = _cell(output_type="display_data", data={"text/plain": "<W at 0x7f01>"})
    assert cell_text(plain) == "<W at 0x7f01>"
