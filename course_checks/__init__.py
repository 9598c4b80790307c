"""Self-checking exercises: ``check(name, fn)``, ``hint(name)`` and ``solution(name)``.

A learner's notebook needs one import::

    from course_utils import check, hint

    check("generate_with_retry", generate_with_retry)  # ✅ PASS, or ❌ FAIL naming a rule
    hint("generate_with_retry")                        # the hint the last check named, or the next
    hint("generate_with_retry", 2)                     # a given hint
    solution("generate_with_retry")                    # the reference solution, only when asked

Authors declare exercises with the public ``course_checks.authoring`` API, one module per
exercise family; each family is imported below, so registration never depends on which notebook
ran first.
"""

from __future__ import annotations

from . import batch, caching, prompts, retry, runner, structured
from ._commands import check, hint, solution
from .authoring import (
    EXERCISES,
    CheckResult,
    Incorrect,
    NotStarted,
    assert_fails,
    assert_passes,
    evaluate,
)

__all__ = [
    "EXERCISES",
    "EXERCISE_FAMILIES",
    "CheckResult",
    "Incorrect",
    "NotStarted",
    "assert_fails",
    "assert_passes",
    "check",
    "evaluate",
    "hint",
    "solution",
]

# the modules that declare exercises
EXERCISE_FAMILIES = (caching, prompts, retry, runner, structured, batch)
