"""The check harness: outcomes rendered in one place, stated rules, hints, bounded learner code."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

import course_checks as checks
from course_checks import _commands, authoring
from course_checks.authoring import Incorrect, exercise, run_learner, shown

TOY = "toy_double"
TOY_HINTS = ("Multiply by two.", "Return x * 2, an int.", "No, really: `return x * 2`.")
TOY_RULES = ("return an int", "return twice the input")
ROOT = Path(__file__).resolve().parents[1]


def _forget(name: str) -> None:
    authoring._forget(name)
    _commands._revealed.pop(name, None)
    _commands._pointed.pop(name, None)
    _commands._passed.discard(name)


@pytest.fixture
def toy() -> Iterator[str]:
    """A tiny pure exercise with two stated rules, registered for one test and then removed."""
    _forget(TOY)

    @exercise(
        TOY, rules=TOY_RULES, hints=TOY_HINTS, solution="def toy_double(x):\n    return x * 2"
    )
    def _check(fn):  # type: ignore[no-untyped-def]
        run = run_learner(fn, 21)
        run.raise_unexpected()
        if not isinstance(run.value, int):
            raise Incorrect(f"`{run.fn_name}(21)` returned {shown(run.value)}.", rule=1)
        if run.value != 42:
            raise Incorrect(f"`{run.fn_name}(21)` returned {run.value!r}.", rule=2)
        return "Doubling done."

    yield TOY
    _forget(TOY)


def toy_double(x: int) -> int:
    return x * 2


def _threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]


def _all_ended(prefix: str, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while _threads(prefix) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _threads(prefix)


# --- rendering --------------------------------------------------------------------------------


def test_pass_prints_tick_with_the_word_and_returns_result(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert out == "✅ PASS — `toy_double` passes. Doubling done.\n"
    assert result.passed and bool(result) and result.name == toy and result.status == "passed"
    assert result.messages == [out.strip()]


def test_incorrect_names_its_rule_points_to_a_hint_and_hides_the_answer(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def toy_double(x: int) -> int:
        return x + 2

    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert not result.passed and result.status == "incorrect"
    assert (result.rule, result.hint_level) == (2, 2)
    assert out.startswith(
        "❌ FAIL (rule 2: return twice the input) — `toy_double(21)` returned 23."
    )
    assert 'hint("toy_double") shows hint 2' in out
    assert "x * 2" not in out  # the answer is only shown on request


def test_every_symbol_has_its_word_beside_it(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without an emoji font the symbols render as empty boxes: the word must carry the news."""

    def wrong(x: int) -> int:
        return x

    def unstarted(x: int) -> int:
        raise NotImplementedError

    def crashing(x: int) -> int:
        raise KeyError("boom")

    for fn in (toy_double, wrong, unstarted, crashing, 42):
        checks.check(toy, fn)
    checks.hint(toy)
    words = {"✅": "PASS", "❌": "FAIL", "⏳": "NOT STARTED", "💡": "HINT", "⚠️": "COURSE BUG"}
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    marked = [ln for ln in lines if any(symbol in ln for symbol in words)]
    assert len(marked) == 6
    for line in marked:
        symbol = next(s for s in words if s in line)
        assert line.startswith(f"{symbol} {words[symbol]}"), line


def test_not_implemented_is_not_started(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    def toy_double(x: int) -> int:
        raise NotImplementedError("write the body of this function")

    result = checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert result.status == "not_started" and not result.passed
    assert "NOT STARTED" in out and "not written yet" in out
    assert "Traceback" not in out and "❌" not in out


@pytest.mark.parametrize("value", [None, ...])
def test_placeholder_values_are_not_started(toy: str, value: object) -> None:
    checks.assert_fails(toy, value, status="not_started", contains="not written yet")


def test_unexpected_exception_is_a_crash_naming_type_and_message(toy: str) -> None:
    def toy_double(x: int) -> int:
        return {}["missing"]  # type: ignore[no-any-return]

    result = checks.assert_fails(
        toy, toy_double, status="crashed", contains="raised KeyError: 'missing'"
    )
    assert "Traceback" not in str(result) and result.hint_level is None


def test_wrong_signature_is_reported_not_raised(toy: str) -> None:
    def toy_double() -> int:
        return 42

    checks.assert_fails(toy, toy_double, status="crashed", contains="signature")


def test_not_callable_is_reported(toy: str) -> None:
    checks.assert_fails(toy, 42, status="not_callable", contains="should be a function")


def test_a_bug_in_a_checker_is_blamed_on_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    @exercise("broken_check", hints=("h",), solution="pass")
    def _check(fn):  # type: ignore[no-untyped-def]
        raise RuntimeError("checker bug")

    try:
        result = checks.check("broken_check", toy_double)
    finally:
        _forget("broken_check")
    out = capsys.readouterr().out
    assert result.status == "error" and "COURSE BUG" in out and "not your code" in out


def test_an_incorrect_naming_no_stated_rule_is_a_course_bug(toy: str) -> None:
    """A check may enforce only what its task states: a rule it did not declare is its bug."""
    for bad in ({}, {"rule": 3}):

        @exercise("unruly", rules=("the only rule",), hints=("h",), solution="pass")
        def _check(fn, bad=bad):  # type: ignore[no-untyped-def]
            raise Incorrect("something unstated", **bad)

        try:
            result = checks.assert_fails("unruly", toy_double, status="error")
        finally:
            _forget("unruly")
        assert "not a stated rule" in str(result)


def test_unknown_exercise_lists_the_real_ones() -> None:
    with pytest.raises(ValueError, match="'generate_with_retry'") as caught:
        checks.check("generate_retry", toy_double)
    assert "no exercise called 'generate_retry'" in str(caught.value)


# --- hints ------------------------------------------------------------------------------------


def test_hints_reveal_one_level_at_a_time(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    for level in (1, 2, 3, 3):
        checks.hint(toy)
        out = capsys.readouterr().out
        assert out.startswith(f"💡 HINT {level}/3 for `toy_double`")
        assert TOY_HINTS[level - 1] in out
    assert "last hint" in out


def test_a_hint_names_the_rule_it_helps_with(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    checks.hint(toy, 2)
    assert "(rule 2: return twice the input)" in capsys.readouterr().out
    checks.hint(toy, 3)  # hint 3 goes with no rule
    assert "(rule" not in capsys.readouterr().out


def test_hint_at_a_given_level(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    checks.hint(toy, 2)
    assert TOY_HINTS[1] in capsys.readouterr().out
    checks.hint(toy)  # the next one after the highest seen
    assert TOY_HINTS[2] in capsys.readouterr().out


def test_after_a_failed_check_hint_shows_the_hint_the_check_named(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def toy_double(x: int) -> int:
        return x + 2  # breaks rule 2: the check names hint 2

    checks.check(toy, toy_double)
    out = capsys.readouterr().out
    assert "shows hint 2" in out
    checks.hint(toy)
    out = capsys.readouterr().out
    assert out.startswith("💡 HINT 2/3") and "again for hint 3" in out
    checks.hint(toy)
    assert capsys.readouterr().out.startswith("💡 HINT 3/3")


def test_after_a_pass_the_hint_cell_pushes_no_hint(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    checks.check(toy, lambda x: x + 2)
    checks.check(toy, toy_double)
    checks.hint(toy)
    out = capsys.readouterr().out.splitlines()[-1]
    assert "passed its check: no hint needed" in out and "HINT" not in out
    checks.hint(toy, 2)  # asked for by number: shown
    assert capsys.readouterr().out.startswith("💡 HINT 2/3")
    checks.check(toy, lambda x: x + 2)  # failing again: hints come back
    checks.hint(toy)
    assert capsys.readouterr().out.splitlines()[-1].startswith("💡 HINT 2/3")


@pytest.mark.parametrize("env", [{"COURSE_CHECKS_RAISE": "1"}, {"NBGRADER_EXECUTION": "autograde"}])
def test_a_grader_gets_an_assertion_error_with_the_same_message(
    toy: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = str(checks.evaluate(toy, lambda x: x + 2))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(AssertionError) as raised:
        checks.check(toy, lambda x: x + 2)
    assert str(raised.value) == expected
    with pytest.raises(AssertionError, match="NOT STARTED"):
        checks.check(toy, None)
    assert checks.check(toy, toy_double).passed  # a pass never raises


def test_a_raise_setting_the_course_cannot_read_is_named(
    toy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_utils.config import ConfigError

    monkeypatch.setenv("COURSE_CHECKS_RAISE", "yes")
    with pytest.raises(ConfigError, match="COURSE_CHECKS_RAISE='yes': set it to 1"):
        checks.check(toy, lambda x: x + 2)


@pytest.mark.parametrize("level", [0, 4, "2", True])
def test_hint_level_out_of_range_is_a_clear_error(toy: str, level: object) -> None:
    with pytest.raises(ValueError, match="has hints 1 to 3"):
        checks.hint(toy, level)  # type: ignore[arg-type]


def test_hint_accepts_the_function_itself(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    checks.hint(toy_double)  # type: ignore[arg-type]
    assert capsys.readouterr().out.startswith("💡 HINT 1/3 for `toy_double`")


# --- solutions --------------------------------------------------------------------------------


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
    assert (Path(_commands.SOLUTIONS_DIR) / notebook).is_file()


# --- declarations and the public surface ------------------------------------------------------


def test_declarations_are_validated() -> None:
    with pytest.raises(ValueError, match="at least one non-empty hint"):
        exercise("x", hints=(), solution="pass")
    with pytest.raises(ValueError, match="solution_notebook= or solution="):
        exercise("x", hints=("h",))
    with pytest.raises(ValueError, match="give each rule its hint"):
        exercise("x", rules=("a", "b"), hints=("h",), solution="pass")
    with pytest.raises(ValueError, match="non-empty title"):
        exercise("x", rules=(" ",), hints=("h",), solution="pass")
    with pytest.raises(ValueError, match="declared twice"):
        exercise("generate_with_retry", hints=("h",), solution="pass")(lambda fn: None)


def test_every_family_module_is_imported_plainly_and_registration_ignores_import_order() -> None:
    folder = Path(checks.__file__).parent
    families = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")} - {"authoring"}
    assert families == {m.__name__.rsplit(".", 1)[1] for m in checks.EXERCISE_FAMILIES}
    assert "importlib" not in (folder / "__init__.py").read_text("utf-8")
    code = (
        "import course_checks.structured, course_checks as c;print(','.join(sorted(c.EXERCISES)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert set(out.strip().split(",")) == set(checks.EXERCISES)
    assert {"compare_prompts", "generate_in_style", "generate_with_retry", "safe_generate"} <= set(
        checks.EXERCISES
    )


def test_public_surface() -> None:
    for module in (checks, authoring):
        for name in module.__all__:
            assert hasattr(module, name), name
    from course_utils import check, hint, solution

    assert (check, hint, solution) == (checks.check, checks.hint, checks.solution)


# --- every rule a check enforces is stated in its task ------------------------------------------


def _task_text(notebook: str) -> str:
    nb = nbformat.read(ROOT / "solutions" / notebook, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


COURSE_EXERCISES = (
    "compare_prompts",
    "generate_in_style",
    "generate_with_retry",
    "generate_with_timestamps",
    "safe_generate",
)


@pytest.mark.parametrize("name", COURSE_EXERCISES)
def test_each_rule_a_check_enforces_is_stated_in_its_task(name: str) -> None:
    ex = authoring.EXERCISES[name]
    assert ex.rules, f"{name} declares no rules, so its failures could name none"
    assert ex.solution_notebook is not None
    for notebook in (
        ROOT / "solutions" / ex.solution_notebook,
        ROOT / "exercises" / ex.solution_notebook,
    ):
        text = "\n".join(
            c.source
            for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == "markdown"
        )
        flat = re.sub(r"\s+", " ", text).lower()
        for n, title in enumerate(ex.rules, 1):
            assert f"rule {n}: {title}".lower() in flat, f"{notebook.name} does not state rule {n}"


@pytest.mark.parametrize("name", COURSE_EXERCISES)
def test_rules_are_stated_once_and_in_order_in_their_own_exercise_section(name: str) -> None:
    ex = authoring.EXERCISES[name]
    flat = re.sub(r"\s+", " ", _task_text(ex.solution_notebook or "")).lower()
    positions = [flat.find(f"rule {n}: {t}".lower()) for n, t in enumerate(ex.rules, 1)]
    assert positions == sorted(positions)
    assert all(flat.count(f"rule {n}: {t}".lower()) == 1 for n, t in enumerate(ex.rules, 1))


# --- learner code is never called without a bound ---------------------------------------------


def test_runaway_learner_code_is_stopped_not_left_burning_a_core(
    toy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authoring.LIMITS, "learner_s", 0.2)

    def toy_double(x: int) -> int:
        n = 0
        while True:  # a loop that never ends, as a learner's wrong loop would
            n += 1

    result = checks.assert_fails(toy, toy_double, status="too_slow", contains="within 0.2 s")
    assert "The check stopped it" in str(result)
    assert _all_ended("check:toy_double"), "the runaway call is still running after its ❌"


def test_runaway_learner_that_swallows_base_exception_is_reported_honestly(
    toy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authoring.LIMITS, "learner_s", 0.2)
    monkeypatch.setattr(authoring.LIMITS, "stop_within_s", 0.2)
    done = threading.Event()

    def toy_double(x: int) -> int:
        while not done.is_set():
            try:  # noqa: SIM105  (written out: this is the mistake the test is about)
                sum(range(2000))
            except BaseException:
                pass
        return 0

    try:
        result = checks.assert_fails(toy, toy_double, status="too_slow", contains="within 0.2 s")
        text = str(result)
        # The stop lands between bytecodes, so now and then it hits the loop test rather than
        # the try and does stop it. Either way the report must tell the truth.
        if "The check stopped it" in text:
            assert _all_ended("check:toy_double")
        else:
            assert "could not stop it" in text and "restart the kernel" in text
    finally:
        done.set()  # end it ourselves: a test must not leave a core busy
    assert _all_ended("check:toy_double")


@pytest.mark.timeout(60)
def test_a_value_with_a_slow_repr_does_not_hang_the_check(
    toy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authoring.LIMITS, "repr_s", 0.2)

    class Slow:
        def __repr__(self) -> str:
            while True:
                pass

    result = checks.assert_fails(toy, lambda x: Slow(), rule=1, contains="did not finish")
    assert "an object of type Slow whose repr() did not finish" in str(result)
    assert _all_ended("check:repr")


@pytest.mark.timeout(60)
def test_the_whole_check_is_bounded_even_where_it_compares_learner_values(
    toy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authoring.LIMITS, "check_s", 0.5)

    @exercise("naive_compare", hints=("h",), solution="pass")
    def _check(fn):  # type: ignore[no-untyped-def]
        if run_learner(fn, 21).value != 42:  # a checker that lets a learner's __ne__ run
            raise Incorrect("wrong")

    class Stubborn:
        def __ne__(self, other: object) -> bool:
            while True:
                pass

    try:
        result = checks.assert_fails("naive_compare", lambda x: Stubborn(), status="too_slow")
    finally:
        _forget("naive_compare")
    assert "did not finish within 0.5 s in total" in str(result)
    assert "The check stopped it" in str(result)
    assert _all_ended("check:naive_compare")


def test_check_simulator_factory_uses_the_shared_settings() -> None:
    sim = authoring.check_simulator()
    assert sim.hold_max_s == authoring.SIM_HOLD_MAX_S
    assert sim.fault_retry_after_ms == authoring.FAULT_RETRY_AFTER_MS
    assert not sim.running
    assert authoring.check_simulator(hold_max_s=2.0).hold_max_s == 2.0


def test_simulator_internal_error_is_a_course_bug_not_the_learner(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def crashing_call(client: Any, prompt: str, *, sleep: Any) -> str:
        sim.server_errors.append("Traceback ...\nKeyError: 'boom'")  # as the server thread does
        return "fine"

    @exercise("sim_bug_check", hints=("h",), solution="pass")
    def _check(fn):  # type: ignore[no-untyped-def]
        authoring.run_on_simulator(sim, fn, "hi", record_sleep=True)
        raise Incorrect("the learner would be blamed here")

    with authoring.check_simulator() as sim:
        try:
            result = checks.check("sim_bug_check", crashing_call)
        finally:
            _forget("sim_bug_check")
    out = capsys.readouterr().out
    assert result.status == "course_bug" and not result.passed
    assert "not your fault" in out and "KeyError: 'boom'" in out and "learner" not in out


def test_run_on_simulator_closes_its_client_when_the_learner_has_not_started() -> None:
    seen: list[Any] = []

    def unstarted(client: Any, prompt: str, *, sleep: Any) -> str:
        seen.append(client)
        raise NotImplementedError

    with authoring.check_simulator() as sim, pytest.raises(authoring.NotStarted):
        authoring.run_on_simulator(sim, unstarted, "hi", record_sleep=True)
    assert seen and seen[0].is_closed()


def test_run_on_simulator_stops_the_simulator_when_the_learner_overruns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(authoring.LIMITS, "learner_s", 0.3)

    def hammer(client: Any, prompt: str) -> str:
        while True:
            try:
                client.models.list()
            except Exception:  # a learner's wrong loop
                continue

    with (
        authoring.check_simulator() as sim,
        pytest.raises(authoring.TooSlow, match=r"within 0\.3 s"),
    ):
        authoring.run_on_simulator(sim, hammer, "hi")
    assert not sim.running
    assert _all_ended("check:hammer")


def test_ctrl_c_probe_interrupts_only_the_first_request() -> None:
    def twice(client: Any, prompt: str) -> list[str]:
        seen = []
        for _ in range(2):
            try:
                client.responses.create(model="gpt-5.4-mini", input=prompt, max_output_tokens=16)
                seen.append("answered")
            except BaseException as exc:  # recording what arrived
                seen.append(type(exc).__name__)
        return seen

    with authoring.check_simulator() as sim:
        run = authoring.run_on_simulator(sim, twice, "hi", interrupt=True)
    assert run.value == ["KeyboardInterrupt", "answered"] and run.attempts == 1


def test_log_capture_sees_a_logger_that_does_not_propagate() -> None:
    import logging

    course = logging.getLogger("course_test_capture")
    handler = logging.StreamHandler(sys.stdout)
    course.addHandler(handler)
    course.propagate = False
    try:

        def logs(client: Any, prompt: str) -> str:
            logging.getLogger("course_test_capture.retry").warning("retrying")
            logging.getLogger("elsewhere").warning("also seen")
            return "x"

        with authoring.check_simulator() as sim:
            run = authoring.run_on_simulator(sim, logs, "hi")
        assert [r.getMessage() for r in run.log_records] == ["retrying", "also seen"]
        assert course.handlers == [handler] and course.propagate is False
    finally:
        course.removeHandler(handler)
        course.propagate = True
