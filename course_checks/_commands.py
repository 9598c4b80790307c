"""What a learner types: ``check``, ``hint`` and ``solution``, and the one place outcomes print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course_utils.config import checks_raise

from .authoring import CheckResult, evaluate, get_exercise

__all__ = ["SOLUTIONS_DIR", "check", "hint", "solution"]

# The course's solutions/ folder: the nearest one above this package (wherever the package sits).
SOLUTIONS_DIR = next(
    (p / "solutions" for p in Path(__file__).resolve().parents if (p / "solutions").is_dir()),
    Path("solutions"),
)

_revealed: dict[str, int] = {}  # the highest hint shown per exercise
_pointed: dict[str, int] = {}  # the hint the last failed check named, shown by the next hint()
_passed: set[str] = set()  # exercises whose last check passed: hint() then pushes no hint


def _render(result: CheckResult) -> None:
    """The one place outcomes become text."""
    print("\n".join(result.messages))


def check(name: str, obj: Any) -> CheckResult:
    """Run the exercise's checks on ``obj``; print ✅ PASS or ❌ FAIL with the rule and hint.

    For a grader (``COURSE_CHECKS_RAISE=1``, or under nbgrader's autograder) anything but a
    pass raises ``AssertionError`` with the same message instead, so a test cell loses its marks.
    """
    result = evaluate(name, obj)
    if result.hint_level is not None:
        _pointed[result.name] = result.hint_level
    else:
        _pointed.pop(result.name, None)
    if result.passed:
        _passed.add(result.name)
    else:
        _passed.discard(result.name)
        if checks_raise():
            raise AssertionError(str(result))
    _render(result)
    return result


def hint(name: str, level: int | None = None) -> None:
    """Show a hint for ``name``: ``level`` when given; else the one the last failed check
    named; else the next one (one more each call). After a pass, only a hint asked for by
    number is shown."""
    ex = get_exercise(name)
    name, count = ex.name, len(ex.hints)
    if level is None and name in _passed:
        print(
            f"✅ `{name}` passed its check: no hint needed. To read one anyway, ask for it by "
            f'number: hint("{name}", 1) to hint("{name}", {count}).'
        )
        return
    if level is None:
        pointed = _pointed.pop(name, None)
        level = pointed if pointed is not None else min(_revealed.get(name, 0) + 1, count)
    elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= count:
        raise ValueError(f"{name!r} has hints 1 to {count}; got level {level!r}")
    else:
        _pointed.pop(name, None)
    _revealed[name] = max(_revealed.get(name, 0), level)
    following = min(_revealed[name] + 1, count)
    more = (
        " (that is the last hint)"
        if level == count
        else f' (run hint("{name}") again for hint {following})'
    )
    about = f" (rule {level}: {ex.rules[level - 1]})" if level <= len(ex.rules) else ""
    print(f"💡 HINT {level}/{count} for `{name}`{about}: {ex.hints[level - 1]}{more}")


def solution(name: str) -> None:
    """Print the reference solution for ``name`` (only ever shown when asked for)."""
    ex = get_exercise(name)
    code = None
    if ex.solution_notebook is not None:
        code = _solution_from_notebook(SOLUTIONS_DIR / ex.solution_notebook, name)
    if code is None:
        code = ex.solution_snippet
    if code is None:
        code = (
            f"# The solution notebook solutions/{ex.solution_notebook} is not in this copy of "
            "the course; open it in the course repository."
        )
    print(f"# Reference solution for {name}\n{code.rstrip()}")


def _solution_from_notebook(path: Path, name: str) -> str | None:
    """The code cell(s) of ``path`` holding a solution region for ``def name``, markers removed."""
    if not path.is_file():
        return None
    import nbformat

    from course_utils.build_exercises import BEGIN, END, TODO_PREFIX

    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == "code" and BEGIN in src and f"def {name}(" in src:
            lines = [ln for ln in src.splitlines() if ln.strip() not in (BEGIN, END)]
            lines = [ln for ln in lines if not ln.strip().startswith(TODO_PREFIX)]
            found.append("\n".join(lines))
    return "\n\n".join(found) if found else None
