"""course_utils.pricing: the catalogue is complete and costs follow its prices."""

from __future__ import annotations

import math

import pytest

from course_utils.pricing import (
    DEFAULT_MODEL,
    PRICES_READ_ON,
    UnknownModelError,
    estimate_cost,
    get_model,
    list_models,
    model_or_default,
)

# USD per 1M input / output tokens, from the public copies of the price page.
EXPECTED = {
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5.4": (2.50, 15.0),
    "gpt-5.4-mini": (0.75, 4.50),
    "gpt-5.4-nano": (0.20, 1.25),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4o-mini": (0.15, 0.60),
}


@pytest.mark.parametrize(("model", "prices"), EXPECTED.items())
def test_catalogue_prices(model, prices):
    info = get_model(model)
    assert (info.input, info.output) == prices
    assert info.encoding == "o200k_base"
    assert 0 < info.max_output <= info.context_window


def test_gpt5_family_cached_input_is_a_tenth():
    for m in list_models():
        if m.id.startswith("gpt-5"):
            assert math.isclose(m.cached_input, m.input / 10)


def test_catalogue_metadata():
    assert DEFAULT_MODEL == "gpt-5.4-mini"
    assert PRICES_READ_ON.count("-") == 2
    assert all(m.verified is False for m in list_models())  # third-party copies, say so
    costs = [m.output for m in list_models()]
    assert costs == sorted(costs)


def test_estimate_cost_arithmetic():
    # 1,000 input + 500 output tokens on gpt-5.4-mini: 1000*0.75/1e6 + 500*4.5/1e6
    assert math.isclose(estimate_cost("gpt-5.4-mini", 1000, 500), 0.003)
    # cached part of the input is billed at the cached rate
    assert math.isclose(estimate_cost("gpt-5", 1000, 0, cached_input_tokens=1000), 0.000125)
    assert estimate_cost("gpt-5", 0, 0) == 0


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match=r"Known models: .*gpt-5\.4-mini") as info:
        get_model("gpt-3-turbo-lol")
    assert str(info.value).startswith("'gpt-3-turbo-lol' is not")


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("gpt-5", -1, 0), ValueError, "input_tokens cannot be negative"),
        (("gpt-5", 1.5, 0), TypeError, "whole number"),
        (("gpt-5", True, 0), TypeError, "whole number"),
        (("gpt-5", 10, 0, 11), ValueError, "cannot exceed input_tokens"),
        ((None, 1, 1), TypeError, "model must be a string"),
    ],
)
def test_estimate_cost_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        estimate_cost(*args)


def test_model_or_default_keeps_known_ids_and_maps_the_rest_to_the_default():
    assert model_or_default("gpt-5.4").id == "gpt-5.4"
    assert model_or_default("a-retired-name").id == DEFAULT_MODEL
    assert model_or_default(None).id == DEFAULT_MODEL  # type: ignore[arg-type]
