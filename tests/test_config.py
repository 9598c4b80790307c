"""course_utils.config: backend choice is opt-in, the spend cap parses clearly."""

from __future__ import annotations

import subprocess
import sys

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


def test_the_simulator_process_never_imports_the_sdk():
    """Its settings come from here; the SDK costs each class-server start half a second."""
    code = "import sys, course_simulator.__main__; print('openai' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(("raw", "expected"), [("", 0.02), ("0", 0.0), ("1", 1.0), ("0.5", 0.5)])
def test_sim_latency_scale(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_SIM_LATENCY_SCALE", raw)
    assert config.sim_latency_scale() == expected


@pytest.mark.parametrize("raw", ["fast", "-1", "nan", "inf"])
def test_bad_latency_scale(monkeypatch, raw):
    monkeypatch.setenv("COURSE_SIM_LATENCY_SCALE", raw)
    with pytest.raises(config.ConfigError, match="COURSE_SIM_LATENCY_SCALE"):
        config.sim_latency_scale()


def test_spend_ledger_path_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_SPEND_LEDGER")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert config.spend_ledger_path() == tmp_path / "course_utils" / "spend.json"
    monkeypatch.setenv("COURSE_SPEND_LEDGER", str(tmp_path / "mine.json"))
    assert config.spend_ledger_path() == tmp_path / "mine.json"


def test_live_base_url_and_key_presence(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert config.live_base_url() == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    assert config.live_base_url() == "http://localhost:8000/v1"
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    assert config.api_key_set() is False


def test_every_setting_goes_through_one_helper():
    """No module but config reads a COURSE_* variable itself. (The SDK's OPENAI_* variables are
    the SDK's: logs reads the key only to redact it; tiktoken's cache variables are vocab's.)"""
    import pathlib
    import re

    root = pathlib.Path(config.__file__).parent
    readers = re.compile(r"os\.environ(?:\.get)?[\[(]\s*['\"]COURSE_")
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "config.py" and readers.search(p.read_text("utf-8"))
    ]
    assert offenders == []
