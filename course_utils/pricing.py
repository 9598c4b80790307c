"""The model catalogue: prices, context windows and the simulator's latency profile.

Everything comes from ``data/models.toml`` so that model ids live in one place. Prices are USD
per 1 million tokens and carry the date they were read and whether they were verified.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "DEFAULT_MODEL",
    "PRICES_READ_ON",
    "PRICES_SOURCE",
    "ModelInfo",
    "UnknownModelError",
    "estimate_cost",
    "get_model",
    "list_models",
    "model_or_default",
]

TOKENS_PER_PRICE_UNIT = 1_000_000


class UnknownModelError(KeyError):
    """A model id that is not in the course catalogue (a KeyError that explains itself)."""

    def __str__(self) -> str:  # KeyError would repr() the message, quotes and all
        return str(self.args[0])


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue row. Prices are USD per 1M tokens; sizes are tokens."""

    id: str
    tier: str
    encoding: str
    context_window: int
    max_output: int
    input: float
    cached_input: float
    output: float
    verified: bool
    sim_first_token_ms: float
    sim_ms_per_output_token: float
    # Reasoning models spend hidden reasoning tokens (billed as output) before answering.
    reasoning: bool = False
    reasoning_efforts: tuple[str, ...] = ()  # the `reasoning.effort` values the model takes
    default_reasoning_effort: str | None = None  # used when a request sets no effort


@cache
def _catalogue() -> tuple[dict, dict[str, ModelInfo]]:
    text = resources.files("course_utils").joinpath("data/models.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    models = {
        mid: ModelInfo(
            id=mid, **{**row, "reasoning_efforts": tuple(row.get("reasoning_efforts", ()))}
        )
        for mid, row in raw["models"].items()
    }
    meta = raw["catalogue"]
    if meta["default_model"] not in models:
        raise ValueError(f"models.toml: default_model {meta['default_model']!r} has no row")
    return meta, models


DEFAULT_MODEL: str = _catalogue()[0]["default_model"]
PRICES_READ_ON: str = _catalogue()[0]["prices_read_on"]
PRICES_SOURCE: str = _catalogue()[0]["source"]


def list_models() -> list[ModelInfo]:
    """All catalogue rows, cheapest output price first (the order a chart reads best in)."""
    return sorted(_catalogue()[1].values(), key=lambda m: (m.output, m.input, m.id))


def get_model(model: str) -> ModelInfo:
    """The catalogue row for ``model``; an unknown id raises with the list of known ones."""
    models = _catalogue()[1]
    if not isinstance(model, str):
        raise TypeError(f"model must be a string such as {DEFAULT_MODEL!r}, got {model!r}")
    try:
        return models[model]
    except KeyError:
        known = ", ".join(sorted(models))
        raise UnknownModelError(
            f"{model!r} is not in the course's model catalogue (course_utils/data/models.toml). "
            f"Known models: {known}. Add a row there to price a new model."
        ) from None


def model_or_default(model: str) -> ModelInfo:
    """The catalogue row for ``model``, or the default model's for an id the catalogue lacks.

    The course simulator accepts any model id (a retired name must never break a lesson) and
    counts and shapes an unknown one as the default model; request accounting in ``tokens`` uses
    the same rule, so its counts equal the simulator's ``usage``.
    """
    try:
        return get_model(model)
    except (UnknownModelError, TypeError):
        return get_model(DEFAULT_MODEL)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative, got {value}")
    return value


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> float:
    """Cost in USD of one request with these token counts, from the catalogue prices.

    ``cached_input_tokens`` is the part of ``input_tokens`` served from the prompt cache (billed
    at the cached rate), as reported in ``usage.input_tokens_details.cached_tokens``.
    """
    info = get_model(model)
    input_tokens = _check_count("input_tokens", input_tokens)
    output_tokens = _check_count("output_tokens", output_tokens)
    cached = _check_count("cached_input_tokens", cached_input_tokens)
    if cached > input_tokens:
        raise ValueError(
            f"cached_input_tokens ({cached}) cannot exceed input_tokens ({input_tokens}): "
            "cached tokens are a part of the input"
        )
    usd = (
        (input_tokens - cached) * info.input
        + cached * info.cached_input
        + output_tokens * info.output
    )
    return usd / TOKENS_PER_PRICE_UNIT
