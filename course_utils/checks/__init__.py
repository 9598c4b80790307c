"""Self-checking exercises: ``check(name, fn)``, ``hint(name)`` and ``solution(name)``.

A learner's notebook needs one import::

    from course_utils.checks import check, hint, solution

    check("generate_with_retry", generate_with_retry)  # ✅ or ❌ plus which hint helps
    hint("generate_with_retry")                        # the next hint, one level at a time
    hint("generate_with_retry", 2)                     # a given hint level
    solution("generate_with_retry")                    # the reference solution, only when asked

Exercises are declared in one module per family (see ``_core`` for how to declare one). Every
module listed in ``EXERCISE_MODULES`` is imported here, so registration never depends on which
notebook ran first.
"""

from __future__ import annotations

import importlib

from ._core import (
    EXERCISES,
    CheckResult,
    Incorrect,
    NotStarted,
    assert_fails,
    assert_passes,
    check,
    hint,
    solution,
)

__all__ = [
    "EXERCISES",
    "EXERCISE_MODULES",
    "CheckResult",
    "Incorrect",
    "NotStarted",
    "assert_fails",
    "assert_passes",
    "check",
    "hint",
    "solution",
]

# One module per exercise family; each registers its exercises when imported.
EXERCISE_MODULES: tuple[str, ...] = ("prompts", "retry", "structured")

for _module in EXERCISE_MODULES:
    importlib.import_module(f".{_module}", __name__)
