"""The check framework: outcomes rendered in one place, hints one level at a time, solutions."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import course_utils.checks as checks
from course_utils.checks import _core
from course_utils.checks._core import Incorrect, exercise, run_learner

TOY = "toy_double"
TOY_HINTS = ("Multiply by two.", "Return x * 2, an int.", "No, really: `return x * 2`.")


@pytest.fixture
def toy() -> Iterator[str]:
    """A tiny pure exercise, registered for one test and removed afterwards."""

    @exercise(TOY, hints=TOY_HINTS, solution="def toy_double(x):\n    return x * 2")
    def _check(fn):  # type: ignore[no-untyped-def]
        run = run_learner(fn, 21)
        run.raise_unexpected()
        if run.value != 42:
            raise Incorrect(f"`{run.fn_name}(21)` returned {run.value!r}.", 2)
        return "Doubling done."

    _core._revealed.pop(TOY, None)
    yield TOY
    _core.EXERCISES.pop(TOY, None)
    _core._revealed.pop(TOY, None)


def toy_double(x: int) -> int:
    return x * 2


def test_pass_prints_tick_and_returns_result(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert out == "✅ `toy_double` passes. Doubling done.\n"
    assert result.passed and bool(result) and result.name == toy and result.status == "passed"
    assert result.messages == [out.strip()]


def test_incorrect_names_function_points_to_hint_and_hides_answer(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def toy_double(x: int) -> int:
        return x + 2

    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert not result.passed and result.status == "incorrect" and result.hint_level == 2
    assert out.startswith("❌ `toy_double(21)` returned 23.")
    assert 'hint("toy_double", 2)' in out
    assert "x * 2" not in out  # the answer is only shown on request


def test_not_implemented_is_not_started(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    def toy_double(x: int) -> int:
        raise NotImplementedError("write the body of this function")

    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert result.status == "not_started" and not result.passed
    assert "not started yet" in out and "Traceback" not in out and "❌" not in out


@pytest.mark.parametrize("value", [None, ...])
def test_placeholder_values_are_not_started(toy: str, value: object) -> None:
    checks.assert_fails(toy, value, status="not_started", contains="not started yet")


def test_unexpected_exception_is_a_cross_naming_type_and_message(toy: str) -> None:
    def toy_double(x: int) -> int:
        return {}["missing"]

    result = checks.assert_fails(toy, toy_double, contains="raised KeyError: 'missing'")
    assert "Traceback" not in str(result) and result.hint_level is None


def test_wrong_signature_is_reported_not_raised(toy: str) -> None:
    def toy_double() -> int:
        return 42

    checks.assert_fails(toy, toy_double, contains="TypeError")


def test_not_callable_is_reported(toy: str) -> None:
    checks.assert_fails(toy, 42, contains="should be a function")


def test_a_bug_in_a_checker_is_blamed_on_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    @exercise("broken_check", hints=("h",), solution="pass")
    def _check(fn):  # type: ignore[no-untyped-def]
        raise RuntimeError("checker bug")

    try:
        result = checks.check("broken_check", toy_double)
    finally:
        _core.EXERCISES.pop("broken_check")
    assert result.status == "error" and "course bug" in capsys.readouterr().out


def test_runaway_learner_code_is_stopped(toy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "LEARNER_TIME_LIMIT_S", 0.1)
    gate = threading.Event()

    def toy_double(x: int) -> int:
        gate.wait(5)
        return x * 2

    try:
        checks.assert_fails(toy, toy_double, contains="did not finish")
    finally:
        gate.set()


def test_unknown_exercise_lists_the_real_ones() -> None:
    with pytest.raises(ValueError, match="'generate_with_retry'") as caught:
        checks.check("generate_retry", toy_double)
    assert "no exercise called 'generate_retry'" in str(caught.value)


def test_hints_reveal_one_level_at_a_time(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    for level in (1, 2, 3, 3):
        checks.hint(toy)
        out = capsys.readouterr().out
        assert out.startswith(f"💡 Hint {level}/3 for `toy_double`: {TOY_HINTS[level - 1]}")
    assert "last hint" in out


def test_hint_at_a_given_level(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    checks.hint(toy, 2)
    assert TOY_HINTS[1] in capsys.readouterr().out
    checks.hint(toy)  # the next one after the highest seen
    assert TOY_HINTS[2] in capsys.readouterr().out


@pytest.mark.parametrize("level", [0, 4, "2", True])
def test_hint_level_out_of_range_is_a_clear_error(toy: str, level: object) -> None:
    with pytest.raises(ValueError, match="has hints 1 to 3"):
        checks.hint(toy, level)  # type: ignore[arg-type]


def test_solution_only_on_request_from_snippet(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    checks.check(toy, toy_double)
    checks.hint(toy)
    assert "return x * 2" not in capsys.readouterr().out
    checks.solution(toy)
    assert "def toy_double(x):\n    return x * 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "notebook"),
    [
        ("generate_with_retry", "02_retry_wrapper.ipynb"),
        ("safe_generate", "03_safe_generate.ipynb"),
    ],
)
def test_solution_from_the_solutions_notebook(
    name: str, notebook: str, capsys: pytest.CaptureFixture[str]
) -> None:
    checks.solution(name)
    out = capsys.readouterr().out
    assert out.startswith(f"# Reference solution for {name}\ndef {name}(")
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out and "### TODO" not in out
    assert (Path(_core.SOLUTIONS_DIR) / notebook).is_file()


def test_declarations_are_validated() -> None:
    with pytest.raises(ValueError, match="at least one non-empty hint"):
        exercise("x", hints=(), solution="pass")
    with pytest.raises(ValueError, match="solution_notebook= or solution="):
        exercise("x", hints=("h",))
    with pytest.raises(ValueError, match="declared twice"):
        exercise("generate_with_retry", hints=("h",), solution="pass")(lambda fn: None)


def test_every_exercise_module_is_listed_and_registration_ignores_import_order() -> None:
    folder = Path(checks.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(checks.EXERCISE_MODULES)
    code = (
        "import course_utils.checks.structured, course_utils.checks as c;"
        "print(','.join(sorted(c.EXERCISES)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert set(out.strip().split(",")) >= {"generate_with_retry", "safe_generate"}
    assert set(out.strip().split(",")) == set(checks.EXERCISES) - {TOY}


def test_public_surface() -> None:
    for module in (checks, _core):
        for name in module.__all__:
            assert hasattr(module, name), name
    from course_utils import check, hint, solution

    assert (check, hint, solution) == (checks.check, checks.hint, checks.solution)


def test_hint_accepts_the_function_itself(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    checks.hint(toy_double)  # type: ignore[arg-type]
    assert capsys.readouterr().out.startswith("💡 Hint 1/3 for `toy_double`")


def test_simulator_internal_error_is_a_course_bug_not_the_learner(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from course_utils.simulator import Simulator

    def crashing_call(client: Any, prompt: str, *, sleep: Any) -> str:
        sim.server_errors.append("Traceback ...\nKeyError: 'boom'")  # as the server thread does
        return "fine"

    @exercise("sim_bug_check", hints=("h",), solution="pass")
    def _check(fn):  # type: ignore[no-untyped-def]
        _core.sim_run(sim, fn)
        raise Incorrect("the learner would be blamed here")

    with Simulator(seed=0) as sim:
        try:
            result = checks.check("sim_bug_check", crashing_call)
        finally:
            _core.EXERCISES.pop("sim_bug_check")
    out = capsys.readouterr().out
    assert result.status == "course_bug" and not result.passed
    assert "not your fault" in out and "KeyError: 'boom'" in out and "learner" not in out


def test_sim_run_closes_its_client_when_the_learner_has_not_started() -> None:
    from course_utils.simulator import Simulator

    seen: list[Any] = []

    def unstarted(client: Any, prompt: str, *, sleep: Any) -> str:
        seen.append(client)
        raise NotImplementedError

    with Simulator(seed=0) as sim, pytest.raises(_core.NotStarted):
        _core.sim_run(sim, unstarted)
    assert seen and seen[0].is_closed()
