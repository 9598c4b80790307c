"""get_client() and make_client(): the offline default, the live path (pointed at a simulator),
its spend cap, and the one factory every SDK client comes from."""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import openai
import pytest
from conftest import TEST_KEY  # the live_env fixture sets it as OPENAI_API_KEY

from course_utils import client as course_client
from course_utils.client import (
    backend_banner,
    get_async_client,
    get_client,
    get_simulator,
    make_client,
)
from course_utils.config import ConfigError
from course_utils.pricing import DEFAULT_MODEL, estimate_cost
from course_utils.spend import LiveRequestRefused, guard_of, spend_guard


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


@pytest.mark.slow
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


# --- make_client: the one factory ---------------------------------------------------------------


class _Counting(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """A real network transport that counts what reaches it (the innermost one)."""

    def __init__(self) -> None:
        self.sync, self.aio = httpx2.HTTPTransport(), httpx2.AsyncHTTPTransport()
        self.seen: list[str] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request.url.path)
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request.url.path)
        return await self.aio.handle_async_request(request)


def test_make_client_builds_both_kinds_around_the_transport_it_is_given(sim) -> None:
    inner = _Counting()
    sync = make_client(base_url=sim.base_url, api_key="k", transport=inner, max_retries=0)
    aio = make_client(asynchronous=True, like=sync)
    assert isinstance(sync, openai.OpenAI) and isinstance(aio, openai.AsyncOpenAI)
    assert (aio.base_url, aio.api_key) == (sync.base_url, sync.api_key)
    sync.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=20)

    async def run() -> None:
        await aio.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=20)
        await aio.close()

    asyncio.run(run())
    assert inner.seen == ["/v1/responses", "/v1/responses"]
    assert len(sim.requests) == 2


def test_the_guard_sits_in_front_of_the_transport_and_like_keeps_it(live_env) -> None:
    inner = _Counting()
    guarded = make_client(transport=inner, guard=spend_guard(), max_retries=0)
    twin = make_client(asynchronous=True, like=guarded)
    assert guard_of(guarded) is guard_of(twin) is spend_guard()
    assert guard_of(get_client()) is spend_guard() and guard_of(openai.OpenAI()) is None
    with pytest.raises(LiveRequestRefused):
        guarded.embeddings.create(model="text-embedding-3-small", input="hi")
    assert inner.seen == []  # refused before the transport


def test_a_guarded_client_refuses_an_http_client_it_cannot_guard(live_env) -> None:
    with pytest.raises(TypeError, match="transport="):
        make_client(guard=spend_guard(), http_client=openai.DefaultHttpxClient())


def test_every_path_without_a_key_gets_the_one_message(monkeypatch) -> None:
    from course_utils.runner import run_prompts

    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    messages = set()
    for build in (get_client, get_async_client, lambda: run_prompts(["hi"], progress=False)):
        with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set") as info:
            build()
        messages.add(str(info.value))
    assert len(messages) == 1


def test_only_the_factory_calls_the_sdk_constructors() -> None:
    """Three modules built SDK clients, each with its own idea of the guard and the key; the
    simulator and the checks build theirs through the factory too."""
    root = Path(course_client.__file__).parent.parent
    builders = []
    for package in ("course_utils", "course_simulator", "course_checks"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in ("OpenAI", "AsyncOpenAI"):
                        builders.append(path.relative_to(root).as_posix())
    assert sorted(set(builders)) == ["course_utils/sdk.py"]


class _Buffered(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers with the whole body read at once, as an in-process app transport does (its
    stream is both a sync and an async byte stream)."""

    def __init__(self) -> None:
        self.network = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        got = self.network.handle_request(request)
        return httpx2.Response(got.status_code, headers=got.headers, content=got.read())

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return self.handle_request(request)


def test_a_guarded_client_meters_answers_from_an_in_process_transport(live_env) -> None:
    sync = make_client(transport=_Buffered(), guard=spend_guard(), max_retries=0)
    aio = make_client(asynchronous=True, like=sync)
    first = sync.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=20)

    async def run() -> openai.types.responses.Response:
        try:
            return await aio.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=20)
        finally:
            await aio.close()

    second = asyncio.run(run())
    expected = sum(
        estimate_cost(DEFAULT_MODEL, r.usage.input_tokens, r.usage.output_tokens)
        for r in (first, second)
    )
    assert course_client.spent_usd() == pytest.approx(expected)


def test_clients_share_one_tls_context_instead_of_reading_the_ca_bundle_each(
    sim, monkeypatch
) -> None:
    """Each httpx client read the system's CA bundle (~30 ms, ten requests' worth), even to
    speak plain HTTP to the simulator; a lesson builds dozens of clients."""
    import ssl

    first = sim.client(max_retries=0)  # the process's one read, if it was not done already
    loads = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        loads.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    more = [sim.client(), sim.async_client(), make_client(api_key="k")]
    more.append(make_client(asynchronous=True, like=first))
    assert loads == []
    answer = first.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=20)
    assert answer.status in ("completed", "incomplete")
