"""Checks that cannot be gamed, and a learner's mistakes that stay the learner's (issue 29 C).

Each test is an attack that once worked: a value whose ``==`` is always True, learner code that
rewrote the registry, a ``str`` subclass whose methods raise, unbounded output, threads left
running after a check, and ``os._exit`` ending the kernel silently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from course_checks import _commands, authoring, evaluate
from course_checks._values import plain_copy, same
from course_checks.authoring import Incorrect, exercise, run_learner

TOY = "toy_upper"


@pytest.fixture
def toy() -> Iterator[str]:
    """An exercise whose checker trusts the learner's value as a naive checker would."""

    @exercise(TOY, rules=("return the text in capitals",), hints=("`text.upper()`",),
              solution="def toy_upper(text):\n    return text.upper()")  # fmt: skip
    def _check(fn: Callable[..., Any]) -> str:
        run = run_learner(fn, " hi ")
        run.raise_unexpected()
        if not isinstance(run.value, str) or run.value.strip() != "HI":
            raise Incorrect(f"`{run.fn_name}` returned {run.value!r}.", rule=1)
        return "Loud and clear."

    yield TOY
    authoring._forget(TOY)
    _commands._pointed.pop(TOY, None)


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False


class LoudStr(str):
    def strip(self, chars: object = None) -> str:
        raise RuntimeError("learner's strip")

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


# --- exact types and copies -------------------------------------------------------------------


def test_a_copy_turns_builtin_subclasses_into_builtins_and_keeps_other_objects() -> None:
    odd = AlwaysEqual()
    copied = plain_copy({"a": [LoudStr("x"), (1, 2.5)], "b": odd})
    assert type(copied["a"][0]) is str and copied["a"][0] == "x"
    assert copied["b"] is odd
    assert same(copied["a"], ["x", (1, 2.5)])
    assert not same(odd, 1) and not same(True, 1) and not same(1.0, 1) and not same(copied, {})


def test_an_exit_code_that_equals_everything_never_passes(
    solution_from_notebook: Callable[[str, str], Any],
) -> None:
    reference = solution_from_notebook("05_runner_homework.ipynb", "run_prompt_file")

    def run_prompt_file(client: Any, path: Any, output: Any, **kwargs: Any) -> Any:
        reference(client, path, output, **kwargs)  # right records, and an exit code it never chose
        return AlwaysEqual()

    result = authoring.assert_fails("run_prompt_file", run_prompt_file, rule=4)
    assert "AlwaysEqual" in str(result)


def test_a_str_subclass_is_judged_by_its_text(toy: str) -> None:
    assert authoring.assert_passes(toy, lambda text: LoudStr(text.upper()))
    authoring.assert_fails(toy, lambda text: LoudStr("no"), rule=1)


def test_a_learner_object_that_raises_inside_the_checker_is_the_learners_error(
    toy: str,
) -> None:
    # Defined the way a notebook cell defines it: in a file that is not the course's.
    namespace: dict[str, Any] = {}
    cell = "class Text:\n    def __init__(self):\n        pass\n    def __eq__(self, o):\n" \
        "        raise ValueError('my eq')\n"  # fmt: skip
    exec(compile(cell, "/tmp/ipykernel_1/cell-3.py", "exec"), namespace)

    @exercise("toy_compare", hints=("h",), solution="pass")
    def _check(fn: Callable[..., Any]) -> None:
        if run_learner(fn).value == "x":  # a checker that compares before checking the type
            raise Incorrect("wrong")

    try:
        result = evaluate("toy_compare", lambda: namespace["Text"]())
    finally:
        authoring._forget("toy_compare")
    assert result.status == "crashed", result
    assert "ValueError: my eq" in str(result) and "COURSE BUG" not in str(result)


# --- the checks' own state --------------------------------------------------------------------


def test_the_registry_is_read_only(toy: str) -> None:
    with pytest.raises(TypeError):
        authoring.EXERCISES[TOY] = authoring.EXERCISES[TOY]  # type: ignore[index]


def test_learner_code_that_replaces_or_patches_a_checker_changes_no_later_verdict(
    toy: str,
) -> None:
    def wrong(text: str) -> str:
        return text

    real = authoring.EXERCISES[TOY]
    authoring._REGISTRY[TOY] = authoring.Exercise(TOY, ("h",), lambda fn: None, None, "pass")
    result = authoring.assert_fails(TOY, wrong, rule=1)
    assert "restored" in str(result)

    real.checker.__code__ = (lambda fn: None).__code__
    object.__setattr__(real, "rules", ())
    result = authoring.assert_fails(TOY, wrong, rule=1)
    assert "restored" in str(result)
    assert "restored" not in str(authoring.assert_fails(TOY, wrong, rule=1))


# --- what learner code does to the process ----------------------------------------------------


def test_output_printed_during_a_check_is_bounded(
    toy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def chatty(text: str) -> str:
        for _ in range(100):
            print("x" * 100_000)  # 10 MB in all
        return text.upper()

    result = _commands.check(TOY, chatty)
    out = capsys.readouterr().out
    assert result.passed
    assert len(out) < 5_000, len(out)
    assert "more characters, not shown" in out


def test_threads_the_learner_leaves_running_are_named(toy: str) -> None:
    release = threading.Event()

    def leaves_a_worker(text: str) -> str:
        threading.Thread(target=release.wait, name="my-worker", daemon=True).start()
        return text.upper()

    try:
        result = evaluate(TOY, leaves_a_worker)
    finally:
        release.set()
    assert result.passed
    assert "still running" in str(result) and "my-worker" in str(result)


def test_a_thread_that_ends_before_the_check_does_is_not_reported(toy: str) -> None:
    def waits_for_its_worker(text: str) -> str:
        worker = threading.Thread(target=lambda: None)
        worker.start()
        worker.join()
        return text.upper()

    assert "still running" not in str(evaluate(TOY, waits_for_its_worker))


def test_os_exit_in_learner_code_is_reported_not_a_silent_kernel_death(toy: str) -> None:
    def quits(text: str) -> str:
        os._exit(3)

    result = authoring.assert_fails(TOY, quits, status="crashed", contains="os._exit(3)")
    assert "ends the whole kernel" in str(result)
    assert os._exit.__module__ in ("posix", "nt")  # the real one is back after the check
