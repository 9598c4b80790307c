"""Reasoning models and verbosity: which settings a model takes, and its hidden reasoning tokens.

Reasoning models (``reasoning = true`` in the catalogue) spend hidden reasoning tokens before
the visible answer, more for a higher ``reasoning.effort``; they are billed as output and
counted against ``max_output_tokens``, so a small cap can end ``incomplete`` with no visible
text, as on the service. ``text.verbosity`` makes open answers shorter or longer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cache

from course_utils.pricing import DEFAULT_MODEL, ModelInfo, UnknownModelError, get_model

__all__ = [
    "DEFAULT_VERBOSITY",
    "EFFORTS",
    "REASONING_TOKEN_STEP",
    "VERBOSITIES",
    "UnsupportedSetting",
    "profile",
    "reasoning_tokens",
    "resolve_effort",
    "resolve_verbosity",
]


@cache
def profile(model: str) -> ModelInfo:
    """The catalogue row that shapes ``model`` (any id works: unknown ids get the default's)."""
    try:
        return get_model(model)
    except (UnknownModelError, TypeError):
        return get_model(DEFAULT_MODEL)


EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")  # the SDK's ReasoningEffort
VERBOSITIES = ("low", "medium", "high")  # the SDK's ResponseTextConfig.verbosity
DEFAULT_VERBOSITY = "medium"

# Hidden reasoning spent per effort, in units of 64 tokens for a plain one-line question; a
# longer prompt, a longer answer or more constraints scale it up. "none" spends nothing and
# "minimal" next to nothing, as the service's docs describe them.
_EFFORT_UNITS = {
    "none": 0.0, "minimal": 0.6, "low": 2.0, "medium": 6.0, "high": 18.0, "xhigh": 36.0,
    "max": 60.0,
}  # fmt: skip
REASONING_TOKEN_STEP = 64  # reasoning counts come in whole steps of this many tokens


class UnsupportedSetting(ValueError):
    """A ``reasoning`` or ``verbosity`` value the model does not take (the service's 400)."""

    def __init__(self, message: str, param: str, code: str) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def _quoted(values: Sequence[str]) -> str:
    """'a', 'b', and 'c' — the service's way of listing supported values."""
    items = [f"'{v}'" for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f", and {items[-1]}"


def resolve_effort(model: str, effort: object, param: str = "reasoning.effort") -> str | None:
    """The reasoning effort a request runs at, or the service's 400 as ``UnsupportedSetting``.

    ``None`` (not set) means the model's default; models that do not reason take no effort at
    all and return ``None``.
    """
    info = profile(model)
    if effort is None:
        return info.default_reasoning_effort if info.reasoning else None
    if not isinstance(effort, str) or effort not in EFFORTS:
        raise UnsupportedSetting(
            f"Invalid value: {effort!r}. Supported values are: {_quoted(EFFORTS)}.",
            param,
            "invalid_value",
        )
    if not info.reasoning:
        raise UnsupportedSetting(
            f"Unsupported parameter: '{param}' is not supported with this model.",
            param,
            "unsupported_parameter",
        )
    if effort not in info.reasoning_efforts:
        raise UnsupportedSetting(
            f"Unsupported value: '{param}' does not support '{effort}' with this model. "
            f"Supported values are: {_quoted(info.reasoning_efforts)}.",
            param,
            "unsupported_value",
        )
    return effort


def resolve_verbosity(model: str, verbosity: object, param: str = "text.verbosity") -> str:
    """The verbosity a request runs at (``medium`` unless set), or the service's 400.

    The reasoning models (the gpt-5 family) take ``low``, ``medium`` and ``high``; the others
    take only ``medium``, as the service answers them.
    """
    if verbosity is None:
        return DEFAULT_VERBOSITY
    if not isinstance(verbosity, str) or verbosity not in VERBOSITIES:
        raise UnsupportedSetting(
            f"Invalid value: {verbosity!r}. Supported values are: {_quoted(VERBOSITIES)}.",
            param,
            "invalid_value",
        )
    if verbosity != DEFAULT_VERBOSITY and not profile(model).reasoning:
        raise UnsupportedSetting(
            f"Unsupported value: '{param}' does not support '{verbosity}' with this model. "
            f"Supported values are: '{DEFAULT_VERBOSITY}'.",
            param,
            "unsupported_value",
        )
    return verbosity


def spends_reasoning(effort: str | None) -> bool:
    """True when a request at ``effort`` spends hidden reasoning tokens (not at none)."""
    return _EFFORT_UNITS.get(effort or "none", 0.0) > 0


def reasoning_tokens(seed: int, effort: str | None, input_tokens: int, answer_tokens: int) -> int:
    """Hidden reasoning tokens for one request: more for higher effort and harder requests."""
    units = _EFFORT_UNITS.get(effort or "none", 0.0)
    if units == 0:
        return 0
    difficulty = 1.0 + answer_tokens / 400 + input_tokens / 2000
    wobble = 0.8 + 0.4 * random.Random(seed ^ 0x5EA5).random()  # same for every effort
    return round(units * difficulty * wobble) * REASONING_TOKEN_STEP
