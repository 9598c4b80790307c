"""What a checker reports, and the bounds every check keeps (``course_checks.authoring`` is
the public door to these names).

A checker passes by returning and reports anything else by raising an ``Outcome``: the
learner's rule broken (``Incorrect``), not written yet (``NotStarted``), an unexpected exception
(``Crashed``), an overrun (``TooSlow``), or the course's own fault (``CourseBug``). A message
shows learner values with ``shown`` / ``describe_exception``, which never wait on a slow
``__repr__`` or ``__str__``. The time limits are here, below everything that applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._bounded import call_with_limit

__all__ = [
    "LIMITS",
    "CourseBug",
    "Crashed",
    "Incorrect",
    "NotStarted",
    "Outcome",
    "TooSlow",
    "describe_exception",
    "shown",
]

# --- limits every check shares (units in the names) -------------------------------------------


@dataclass
class Limits:
    """The time bounds every check keeps, in seconds. One shared instance (``LIMITS``) is read
    each time a bound applies, so a test that shortens a limit shortens it everywhere."""

    learner_s: float = 20.0  # one call of the learner's function; then it is stopped
    check_s: float = 90.0  # a whole check, including every learner call and repr
    repr_s: float = 2.0  # showing one learner value in a message
    stop_within_s: float = 1.0  # how long to keep stopping a runaway call before saying so


LIMITS = Limits()


# --- outcomes ---------------------------------------------------------------------------------


class Outcome(Exception):
    """Base of the exceptions a checker raises to report a result other than a pass."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotStarted(Outcome):
    """The learner has not written the function yet (it raises NotImplementedError)."""


class CourseBug(Outcome):
    """The course's own machinery (the simulator) failed: report it, never blame the learner."""


class Crashed(Outcome):
    """The learner's function raised an exception the exercise does not expect."""


class TooSlow(Outcome):
    """A call of the learner's code did not finish within its limit (and was stopped)."""


class Incorrect(Outcome):
    """The function runs but breaks ``rule`` (1-based, declared in ``exercise(rules=...)``).

    ``hint_level`` is the hint that helps most; by default the hint with the rule's number.
    """

    def __init__(
        self, message: str, hint_level: int | None = None, *, rule: int | None = None
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.hint_level = hint_level if hint_level is not None else rule


# --- showing learner values, always bounded ---------------------------------------------------


def shown(value: object, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters, never waiting on a slow ``__repr__``."""
    box = call_with_limit(
        repr, (value,), limit_s=LIMITS.repr_s, stop_within_s=LIMITS.stop_within_s,
        name="check:repr",
    )  # fmt: skip
    if not box.finished:
        return f"an object of type {type(value).__name__} whose repr() did not finish in time"
    if box.error is not None or not isinstance(box.value, str):
        return f"an object of type {type(value).__name__} (its repr() failed)"
    text: str = box.value
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """``TypeError: message`` on one line (without a traceback); bounded like ``shown``."""
    box = call_with_limit(
        str, (exc,), limit_s=LIMITS.repr_s, stop_within_s=LIMITS.stop_within_s, name="check:str"
    )
    text = box.value.strip() if box.finished and isinstance(box.value, str) else ""
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__
