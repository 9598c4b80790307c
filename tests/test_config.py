"""course_utils.config: backend choice is opt-in, the spend cap parses clearly."""

from __future__ import annotations

import openai._constants as sdk
import pytest

from course_utils import config


def test_simulator_is_the_default_even_with_a_key_set(monkeypatch):
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    assert config.backend() == "simulator"


@pytest.mark.parametrize("value", ["openai", " OpenAI ", "simulator"])
def test_backend_values(monkeypatch, value):
    monkeypatch.setenv("COURSE_BACKEND", value)
    assert config.backend() == value.strip().lower()


def test_unknown_backend_explains_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_BACKEND", "azure")
    with pytest.raises(config.ConfigError, match=r"'simulator'.*'openai'"):
        config.backend()


@pytest.mark.parametrize(("raw", "expected"), [("", 0.5), ("2", 2.0), ("0", 0.0)])
def test_budget(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_BUDGET_USD", raw)
    assert config.budget_usd() == expected


@pytest.mark.parametrize("raw", ["five", "-1", "nan", "inf"])
def test_bad_budget(monkeypatch, raw):
    monkeypatch.setenv("COURSE_BUDGET_USD", raw)
    with pytest.raises(config.ConfigError, match="COURSE_BUDGET_USD"):
        config.budget_usd()


def test_sdk_defaults_are_read_from_the_installed_sdk():
    assert config.SDK_DEFAULT_MAX_RETRIES == sdk.DEFAULT_MAX_RETRIES
    assert config.SDK_INITIAL_RETRY_DELAY_S == sdk.INITIAL_RETRY_DELAY
    assert config.SDK_MAX_RETRY_DELAY_S == sdk.MAX_RETRY_DELAY
