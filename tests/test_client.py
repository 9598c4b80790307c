"""get_client(): the offline default, the live path (pointed at a simulator) and its spend cap."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import TEST_KEY  # the live_env fixture sets it as OPENAI_API_KEY

from course_utils import client as course_client
from course_utils.client import backend_banner, get_client, get_simulator
from course_utils.config import ConfigError
from course_utils.pricing import DEFAULT_MODEL, estimate_cost


def test_simulator_is_the_default_even_with_a_key(monkeypatch) -> None:
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    client = get_client(max_retries=0)
    shared = get_simulator()
    assert str(client.base_url).rstrip("/") == shared.base_url
    assert client.api_key != TEST_KEY  # the real key never goes to the simulator
    r = client.responses.create(model=DEFAULT_MODEL, input="Say hi in one sentence.")
    assert r.status == "completed"
    assert get_simulator() is shared
    assert "course simulator" in backend_banner() and shared.base_url in backend_banner()


def test_banner_printed_once(monkeypatch, capsys) -> None:
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    monkeypatch.setattr(course_client, "_banner_shown", False)
    get_client()
    get_client()
    assert capsys.readouterr().out.count("Backend: course simulator") == 1


def test_live_backend_uses_sdk_env_and_tracks_spend(live_env) -> None:
    sim = live_env
    client = get_client(max_retries=0)
    assert str(client.base_url).rstrip("/") == sim.base_url
    r = client.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=30)
    assert sim.requests[-1].key_hint == "sk-te***56"
    expected = estimate_cost(DEFAULT_MODEL, r.usage.input_tokens, r.usage.output_tokens)
    assert course_client.spent_usd() == pytest.approx(expected)
    assert "live" in backend_banner() and "$0.50" in backend_banner()


def test_live_backend_without_key_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY") as info:
        get_client()
    assert info.value.__cause__ is None and info.value.__suppress_context__ is False


def test_live_client_never_loads_the_simulator() -> None:
    """Live code must not depend on the fake server: a fresh interpreter's live get_client()
    leaves every course_simulator module unimported."""
    code = (
        "import sys; from course_utils import get_client; get_client(); "
        "print(sorted(m for m in sys.modules if m.startswith('course_simulator')))"
    )
    env = {**os.environ, "COURSE_BACKEND": "openai", "OPENAI_API_KEY": TEST_KEY}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("base_url", "secret", "shown"),
    [
        (
            "https://alice:tok-SECRET-123@proxy.example/v1",
            "tok-SECRET-123",
            "https://***@proxy.example/v1",
        ),
        (
            "https://tok-SECRET-123@proxy.example/v1",
            "tok-SECRET-123",
            "https://***@proxy.example/v1",
        ),
        (
            "https://proxy.example/v1?api-key=tok-SECRET-123",
            "tok-SECRET-123",
            "https://proxy.example/v1?api-key=***",
        ),
        ("http://localhost:8000/v1", None, "http://localhost:8000/v1"),
    ],
)
def test_live_banner_masks_credentials_in_the_base_url(
    monkeypatch, base_url, secret, shown
) -> None:
    """Every notebook saves the banner's output: a user:token@ part or a key in the query string
    must never be in it (issue 16)."""
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    banner = backend_banner()
    assert shown in banner
    if secret is not None:
        assert secret not in banner and "alice" not in banner
    assert TEST_KEY not in banner
