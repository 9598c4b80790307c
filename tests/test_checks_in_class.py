"""The exercises' in-class parts (issue 28): a skeleton with a few blanks that fits its slot, is
judged by the same numbered rules as the homework, and whose demo hands a mistake over to the
check (issue 27, item 6)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.build_exercises import BEGIN, END, TODO_PREFIX

ROOT = Path(__file__).resolve().parents[1]
IN_CLASS = ("01_prompt_styles.ipynb", "02_retry_wrapper.ipynb", "03_safe_generate.ipynb")
# The course's reading measure (issue 28): 180 words a minute plus 15 s per code cell, over the
# core path (every cell before the first heading that starts a later part).
WORDS_PER_MIN = 180
CODE_CELL_MIN = 0.25
LATER_PART = re.compile(r"^#+ .*(Going further|Homework|After class|Extension|Optional)", re.M)
READING_BUDGET_MIN = 2.75  # an exercise's in-class part; the lessons of its slot get the rest
TYPING_BUDGET_MIN = 3.0  # at most 3 minutes of typing on top (issue 28)
TYPING_CHARS_PER_MIN = 120  # about 24 words a minute: a learner typing code with care
# The stubs the build leaves: in a function, a TODO and a raise (maybe wrapped); at top level, a
# TODO and `name = ...` for each name the answer assigns.
STUB = re.compile(
    r"^(?P<indent>[ \t]*)# TODO: .*\n"
    r"(?P=indent)raise NotImplementedError\((?:\n.*\n(?P=indent))?.*\)$"
    r"|^(?P<top>)# TODO: .*(?:\n\w+ = \.\.\.)+$",
    re.M,
)


def _in_class(path: Path) -> list[nbformat.NotebookNode]:
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown" and LATER_PART.search(cell.source):
            return cells
        cells.append(cell)
    raise AssertionError(f"{path.name} has no Homework part")


UNREAD = re.compile(r"\]\([^)]*\)|<[^>]*>")  # a link's address and HTML tags are not read
WORD = re.compile(r"\S*\w\S*")  # a word holds a letter or digit: table bars are not words


def _reading_min(cells: list[nbformat.NotebookNode]) -> float:
    words = sum(
        len(WORD.findall(UNREAD.sub("]", c.source))) for c in cells if c.cell_type == "markdown"
    )
    code = sum(1 for c in cells if c.cell_type == "code")
    return words / WORDS_PER_MIN + code * CODE_CELL_MIN


def _typing_min(cells: list[nbformat.NotebookNode]) -> float:
    typed = 0
    for cell in cells:
        inside = False
        for line in cell.source.splitlines():
            marker = line.strip()
            if marker in (BEGIN, END):
                inside = marker == BEGIN
            elif inside and not marker.startswith(TODO_PREFIX):
                typed += len(marker)
    return typed / TYPING_CHARS_PER_MIN


@pytest.mark.parametrize("name", IN_CLASS)
def test_each_in_class_part_fits_its_slot(name: str) -> None:
    reading = _reading_min(_in_class(ROOT / "exercises" / name))
    typing = _typing_min(_in_class(ROOT / "solutions" / name))
    print(f"{name}: reading {reading:.1f} min, typing {typing:.1f} min")
    assert reading <= READING_BUDGET_MIN, f"{name}: {reading:.1f} min of reading in class"
    assert 0 < typing <= TYPING_BUDGET_MIN, f"{name}: {typing:.1f} min of typing in class"


@pytest.mark.parametrize("name", IN_CLASS)
def test_the_in_class_part_is_a_skeleton_with_a_few_blanks_and_the_homework_is_whole(
    name: str,
) -> None:
    in_class = "\n".join(c.source for c in _in_class(ROOT / "exercises" / name))
    assert 1 <= len(STUB.findall(in_class)) <= 3
    nb = nbformat.read(ROOT / "exercises" / name, as_version=4)
    scratch = [c.source for c in nb.cells if "def " in c.source and "_from_scratch(" in c.source]
    assert len(scratch) == 1 and len(STUB.findall(scratch[0])) == 1
    assert STUB.search(scratch[0]).group("indent") == "    "  # the whole body is the learner's


def _fill(source: str, answers: list[str]) -> str:
    """The skeleton with its stubs replaced, in order, by ``answers`` (each at its indent)."""
    pending = iter(answers)

    def answer(found: re.Match[str]) -> str:
        indent = found.group("indent") or ""
        return "\n".join(indent + line for line in next(pending).splitlines())

    filled = STUB.sub(answer, source)
    assert next(pending, None) is None, "more answers than blanks"
    return filled


def _run_in_class(name: str, answers: list[str]) -> str:
    """Run the in-class cells of ``exercises/name`` with the blanks filled; return the output."""
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        for cell in _in_class(ROOT / "exercises" / name):
            if cell.cell_type != "code":
                continue
            blanks = len(STUB.findall(cell.source))
            source = _fill(cell.source, answers[:blanks]) if blanks else cell.source
            answers = answers[blanks:]
            exec(compile(source, f"{name}:{cell.id}", "exec"), namespace)
    return out.getvalue()


# A plausible mistake in each in-class part: the demo must not stop Run All, and the check must
# name the rule the mistake breaks (the same numbered rules as the homework).
MISTAKES = {
    "01_prompt_styles.ipynb": (
        [
            'MY_CONCISE_PROMPT = "Explain Python decorators: 3 bullet points, under 120 words."',
            'report[label] = {"input_tokens": usage.input_tokens, '
            '"output_tokens": usage.output_tokens, "cost_usd": 0.0}',  # no text, no price
        ],
        "compare_prompts",
        "❌ FAIL (rule 2: return the report)",
    ),
    "02_retry_wrapper.ipynb": (
        [
            "retriable = isinstance(err, openai.RateLimitError)",  # forgets 5xx, retries quota
            "delay = min(8.0, 0.5 * 2**attempt) + random.uniform(0, 0.5)",
        ],
        None,  # the demo catches the API's errors itself
        "❌ FAIL (rule 2: retry transient errors)",
    ),
    "03_safe_generate.ipynb": (
        [
            "return Result.from_error(\n"
            "    prompt_id, prompt, err, attempts=attempts, latency_s=time.monotonic() - started\n"
            ")"  # the record itself, not .to_dict()
        ],
        "safe_generate",
        "❌ FAIL (rule 1: return a dict with the result fields)",
    ),
}


@pytest.mark.parametrize("name", IN_CLASS)
def test_a_mistake_in_a_blank_reaches_the_check_which_names_its_rule(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "simulator")
    answers, demo_stops, verdict = MISTAKES[name]
    text = _run_in_class(name, answers)
    if demo_stops:
        assert f"The demo of `{demo_stops}` stopped" in text, text
    assert verdict in text, text
    assert "Traceback" not in text and "COURSE BUG" not in text


EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_every_demo_survives_a_function_that_returns_nothing(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commonest slip (no `return`): no demo raises, so Run All reaches the check."""
    monkeypatch.setenv("COURSE_BACKEND", "simulator")
    namespace: dict = {"__name__": "__main__"}
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    demos = 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        for cell in cells:
            if cell.source.lstrip().startswith(("check(", "hint(")):
                continue
            where = f"{path.name}:{cell.id}"
            exec(compile(cell.source, where, "exec"), namespace)
            if STUB.search(cell.source):  # the learner's functions, written without a return
                for name, value in list(namespace.items()):
                    if getattr(getattr(value, "__code__", None), "co_filename", "") == where:
                        namespace[name] = lambda *args, **kwargs: None
            demos += "try_it(" in cell.source
    assert demos, f"{path.name} has no demo of the learner's function"  # and none raised
