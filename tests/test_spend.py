"""course_utils.spend: the live spend cap is one total per learner (a ledger file shared by
notebooks, kernels and restarts), checked before a request is sent, held while it is in flight."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from conftest import TEST_KEY, go_live  # live_env and paid set TEST_KEY as OPENAI_API_KEY
from paid_server import PaidServer

from course_utils import client as course_client
from course_utils import config, spend
from course_utils.client import BudgetExceeded, backend_banner, get_client, make_client
from course_utils.pricing import DEFAULT_MODEL, estimate_cost
from course_utils.spend import SpendGuard, SpendLedger, SpendTotal
from course_utils.tokens import count_message_tokens


def _race(client: openai.OpenAI, body: dict, n: int, paid: PaidServer | None = None) -> list[str]:
    """Send ``body`` from ``n`` threads released at once; 'sent' or 'refused' for each.

    With ``paid`` (its ``gate`` set), the answers wait until every thread has either been
    refused or had its request arrive: whatever was sent is still in flight while the others
    are decided, however the threads are scheduled."""
    start = threading.Barrier(n)
    outcomes: list[str] = []

    def send() -> None:
        start.wait()
        try:
            client.responses.create(**body)
            outcomes.append("sent")
        except BudgetExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    if paid is not None:
        assert paid.gate is not None
        _wait_for(lambda: len(outcomes) + len(paid.arrivals) >= n)
        paid.gate.set()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _wait_for(condition: Callable[[], bool], within_s: float = 60) -> None:
    """Poll ``condition`` until it holds (or ``within_s`` passes: the caller's asserts say what
    went wrong)."""
    deadline = time.monotonic() + within_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_budget_exceeded_before_anything_is_sent(live_env, monkeypatch) -> None:
    sim = live_env
    monkeypatch.setenv("COURSE_BUDGET_USD", "0.001")
    course_client.reset_spend()
    client = get_client(max_retries=2)
    # gpt-5.4: 10,000 output tokens at $15/1M = $0.15, far over $0.001.
    before = len(sim.requests)
    with pytest.raises(BudgetExceeded) as info:
        client.responses.create(model="gpt-5.4", input="Say hi.", max_output_tokens=10_000)
    assert len(sim.requests) == before  # nothing reached the server, and no retry either
    assert "COURSE_BUDGET_USD" in str(info.value) and "Not sent" in str(info.value)
    assert isinstance(info.value, openai.OpenAIError)
    small = client.responses.create(model="gpt-5.4-nano", input="Say hi.", max_output_tokens=16)
    assert small.status in ("completed", "incomplete")
    assert len(sim.requests) == before + 1


@pytest.mark.parametrize("bad_input", [["hello"], [["a", "b"]], [1], {"a": 1}])
def test_malformed_input_reaches_the_api_and_gets_its_400(live_env, bad_input) -> None:
    client = get_client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:  # capped: uncapped would not fit $0.50
        client.responses.create(model=DEFAULT_MODEL, input=bad_input, max_output_tokens=30)
    assert info.value.status_code == 400 and info.value.param == "input"
    assert live_env.requests[-1].status == 400


def test_budget_counts_spend_so_far(live_env, monkeypatch) -> None:
    sim = live_env
    messages = [{"role": "user", "content": "Say hi."}]
    one = estimate_cost(DEFAULT_MODEL, count_message_tokens(messages), 100)
    monkeypatch.setenv("COURSE_BUDGET_USD", f"{one * 1.2:.10f}")
    course_client.reset_spend()
    client = get_client(max_retries=0)
    client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, max_tokens=100)
    spent = course_client.spent_usd()
    assert one * 0.2 < spent <= one  # the actual cost, from usage, below the worst case
    with pytest.raises(BudgetExceeded):
        client.chat.completions.create(model=DEFAULT_MODEL, messages=messages, max_tokens=100)
    assert len(sim.requests) == 1


# --- the ledger ---------------------------------------------------------------------------------


def test_ledger_starts_at_zero_adds_and_resets(tmp_path) -> None:
    ledger = SpendLedger(tmp_path / "sub" / "spend.json")
    assert ledger.read() == SpendTotal()
    ledger.add(0.25)
    total = ledger.add(0.5)
    assert (total.spent_usd, total.requests) == (0.75, 2) and total.since
    assert ledger.read() == total
    ledger.reset()
    assert (ledger.read().spent_usd, ledger.read().requests) == (0.0, 0)
    assert json.loads(ledger.path.read_text())["spent_usd"] == 0.0
    assert not list(ledger.path.parent.glob("*.tmp"))  # no temporary file left behind


@pytest.mark.parametrize("bad", [-0.01, float("nan"), "1", True])
def test_ledger_refuses_bad_amounts(tmp_path, bad) -> None:
    with pytest.raises(ValueError, match="dollars"):
        SpendLedger(tmp_path / "spend.json").add(bad)


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '{"spent_usd": -1, "requests": 0}', '{"spent_usd": 1}']
)
def test_a_damaged_ledger_stops_live_requests_with_a_clear_error(tmp_path, text) -> None:
    path = tmp_path / "spend.json"
    path.write_text(text)
    with pytest.raises(config.ConfigError, match=r"spend ledger .*spend\.json is damaged") as info:
        SpendLedger(path).read()
    assert "reset_spend()" in str(info.value)


ADDER = """
import sys
from pathlib import Path
from course_utils.spend import SpendLedger
ledger = SpendLedger(Path(sys.argv[1]))
sys.stdin.readline()  # start together
for _ in range(int(sys.argv[2])):
    ledger.add(0.001)
"""


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path) -> None:
    path, n = tmp_path / "spend.json", 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(path), str(n)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        for _ in range(2)
    ]
    for p in procs:  # both are running before either starts writing
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    total = SpendLedger(path).read()
    assert total.requests == 2 * n
    assert total.spent_usd == pytest.approx(2 * n * 0.001)


def test_threads_writing_at_once_lose_nothing(tmp_path) -> None:
    ledger = SpendLedger(tmp_path / "spend.json")
    threads = [
        threading.Thread(target=lambda: [ledger.add(0.01) for _ in range(50)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.read().requests == 200
    assert ledger.read().spent_usd == pytest.approx(2.0)


# --- one total across notebooks and restarts ----------------------------------------------------

ONE_LIVE_REQUEST = """
from course_utils import get_client
r = get_client(max_retries=0).responses.create(
    model="gpt-5.4-mini", input="Say hi.", max_output_tokens=30
)
print(r.usage.input_tokens, r.usage.output_tokens)
"""


@pytest.mark.slow
def test_spend_of_another_kernel_counts_against_the_same_cap(live_env, monkeypatch) -> None:
    """A second kernel (a subprocess here) spends; this one sees it and its cap shrinks."""
    proc = subprocess.run(
        [sys.executable, "-c", ONE_LIVE_REQUEST],
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    inp, out = map(int, proc.stdout.split()[-2:])
    cost = estimate_cost("gpt-5.4-mini", inp, out)
    assert spend.spent_usd() == pytest.approx(cost)
    assert spend.remaining_usd() == pytest.approx(0.50 - cost)
    # A cap just above what the other kernel spent refuses this kernel's next request.
    monkeypatch.setenv("COURSE_BUDGET_USD", f"{cost * 1.01:.10f}")
    with pytest.raises(BudgetExceeded):
        get_client(max_retries=0).responses.create(
            model="gpt-5.4-mini", input="Say hi.", max_output_tokens=30
        )


def test_a_kernel_restart_keeps_the_total(live_env) -> None:
    client = get_client(max_retries=0)
    client.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=30)
    before = spend.spent_usd()
    assert before > 0
    spend._guard = None  # what a restart loses: the process's guard; the ledger stays
    assert spend.spent_usd() == before
    assert spend.spend_guard().spent_usd == before


def test_reset_spend_starts_again_at_zero(live_env) -> None:
    get_client(max_retries=0).responses.create(
        model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=30
    )
    assert spend.spent_usd() > 0
    spend.reset_spend()
    assert spend.spent_usd() == 0 and spend.remaining_usd() == 0.50


def test_banner_shows_spent_and_remaining_in_live_mode(live_env) -> None:
    SpendLedger(config.spend_ledger_path()).add(0.125)
    banner = backend_banner()
    assert "spent $0.1250 of the $0.50 spend cap" in banner
    assert "$0.3750 remaining" in banner and "reset_spend()" in banner
    assert TEST_KEY not in banner


# --- holds: in-flight requests cannot pass the cap together ---------------------------------------


def test_concurrent_requests_cannot_pass_the_cap_together(paid) -> None:
    paid.gate = threading.Event()  # what was sent is answered once all four are decided
    body = {"model": DEFAULT_MODEL, "input": "Say hi.", "max_output_tokens": 400}
    one, _ = SpendGuard(budget_usd=1.0).estimate(body, "/v1/responses")
    guard = SpendGuard(budget_usd=one * 2.5, ledger=SpendLedger(config.spend_ledger_path()))
    client = make_client(base_url=paid.base_url, api_key=TEST_KEY, max_retries=0, guard=guard)
    outcomes = _race(client, body, 4, paid)
    assert sorted(outcomes) == ["refused", "refused", "sent", "sent"]
    assert len(paid.arrivals) == 2
    assert guard.held_usd == pytest.approx(0)  # both settled
    assert 0 < guard.spent_usd <= 2 * one


def test_an_error_reply_releases_its_hold_and_bills_nothing(live_env) -> None:
    client = get_client(max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=DEFAULT_MODEL, input=[1], max_output_tokens=30)
    assert spend.spend_guard().held_usd == 0
    assert spend.spent_usd() == 0


def test_the_ledger_file_is_where_config_says(live_env, tmp_path, monkeypatch) -> None:
    path = tmp_path / "elsewhere.json"
    monkeypatch.setenv("COURSE_SPEND_LEDGER", str(path))
    spend.reset_spend()
    get_client(max_retries=0).responses.create(
        model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=30
    )
    assert json.loads(Path(path).read_text())["requests"] == 1


# --- issue 16: the cap cannot be bypassed (against a fake *paid* server: conftest's `paid`) ------

MINI = "gpt-5.4-mini"  # $0.75 in / $4.50 out per 1M tokens
LARGE = "gpt-5.4"  # $2.50 in / $15.00 out per 1M tokens


def _ledger() -> SpendTotal:
    return SpendLedger(config.spend_ledger_path()).read()


def test_responses_streams_are_counted_from_their_final_usage_event(paid) -> None:
    """20 streams worth $0.45 each against $0.50: the first is sent and billed, the rest refused
    (before the fix all 20 were sent and spend stayed at $0)."""
    paid.output_tokens = 100_000  # $0.45 of output
    client = get_client(max_retries=0)
    outcomes = []
    for _ in range(20):
        try:
            with client.responses.create(
                model=MINI, input="Say hi.", max_output_tokens=100_000, stream=True
            ) as stream:
                for _event in stream:
                    pass
            outcomes.append("sent")
        except BudgetExceeded:
            outcomes.append("refused")
    assert outcomes == ["sent"] + ["refused"] * 19
    assert len(paid.arrivals) == 1
    assert spend.spent_usd() == pytest.approx(estimate_cost(MINI, 10, 100_000))
    assert _ledger().reserved_usd == pytest.approx(0)


def test_chat_streams_with_include_usage_are_counted(paid) -> None:
    paid.output_tokens = 100_000
    client = get_client(max_retries=0)
    outcomes = []
    for _ in range(20):
        try:
            stream = client.chat.completions.create(
                model=MINI,
                messages=[{"role": "user", "content": "Say hi."}],
                max_completion_tokens=100_000,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = list(stream)
            assert chunks[-1].usage.completion_tokens == 100_000
            outcomes.append("sent")
        except BudgetExceeded:
            outcomes.append("refused")
    assert outcomes == ["sent"] + ["refused"] * 19
    assert spend.spent_usd() == pytest.approx(estimate_cost(MINI, 10, 100_000))


def test_a_chat_stream_that_would_not_report_usage_is_refused(paid) -> None:
    client = get_client(max_retries=0)
    with pytest.raises(spend.LiveRequestRefused, match="include_usage"):
        client.chat.completions.create(
            model=MINI, messages=[{"role": "user", "content": "hi"}], max_tokens=50, stream=True
        )
    assert paid.arrivals == []


def test_a_stream_closed_before_its_usage_is_billed_at_its_reservation(paid) -> None:
    paid.usage_delay_s = 0.5  # the usage event comes late; the learner stops reading first
    client = get_client(max_retries=0)
    body = {"model": MINI, "input": "Say hi.", "max_output_tokens": 1000}
    reserved, _ = spend.spend_guard().estimate(body, "/v1/responses")
    with client.responses.create(**body, stream=True) as stream:
        next(iter(stream))  # one event, then the stream is closed
    total = _ledger()
    assert total.spent_usd == pytest.approx(reserved) and total.unanswered == 1
    assert total.reserved_usd == pytest.approx(0)


def test_an_uncapped_request_is_priced_at_the_models_maximum_output(paid, monkeypatch) -> None:
    """One uncapped gpt-5.4 request cost $1.92 while the guard guessed 1,024 tokens."""
    monkeypatch.setenv("COURSE_BUDGET_USD", "1.00")
    client = get_client(max_retries=0)
    with pytest.raises(BudgetExceeded) as info:
        client.responses.create(model=LARGE, input="Write everything you know.")
    message = str(info.value)
    assert "128,000" in message and "no output cap" in message and "max_output_tokens" in message
    assert info.value.estimate_usd >= 1.92
    assert paid.arrivals == []
    monkeypatch.setenv("COURSE_BUDGET_USD", "2.00")  # the worst case fits: sent, then settled
    client.responses.create(model=LARGE, input="Write everything you know.")
    assert spend.spent_usd() == pytest.approx(estimate_cost(LARGE, 10, 20))


def test_chat_n_choices_multiply_the_output_estimate(paid) -> None:
    body = {"model": MINI, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1000}
    one, _ = spend.spend_guard().estimate(body, "/v1/chat/completions")
    four, what = spend.spend_guard().estimate({**body, "n": 4}, "/v1/chat/completions")
    assert four > 3.9 * one and "x 4 choices" in what


def test_sixteen_threads_cannot_pass_the_cap_together(paid) -> None:
    """16 threads each estimated at $0.375 against $0.50: exactly one is sent."""
    paid.gate = threading.Event()  # what was sent is answered once all sixteen are decided
    body = {"model": LARGE, "input": "hi", "max_output_tokens": 25_000}
    one, _ = spend.spend_guard().estimate(body, "/v1/responses")
    assert one == pytest.approx(0.375, abs=0.001)
    client = get_client(max_retries=0)
    outcomes = _race(client, body, 16, paid)
    assert sorted(outcomes) == ["refused"] * 15 + ["sent"]
    assert len(paid.arrivals) == 1
    assert spend.spend_guard().held_usd == pytest.approx(0) and _ledger().reserved_usd == 0


TWO_KERNELS = """
import sys
from course_utils import get_client
from course_utils.spend import BudgetExceeded
sys.stdin.readline()  # start together
try:
    get_client(max_retries=0).responses.create(
        model="gpt-5.4", input="hi", max_output_tokens=25_000
    )
    print("sent")
except BudgetExceeded:
    print("refused")
"""


@pytest.mark.slow
def test_two_kernels_at_the_same_instant_cannot_pass_the_cap_together(paid) -> None:
    """The reservation is in the ledger, under its file lock: another kernel sees it at once
    (the old holds were per process, so two kernels could both pass)."""
    paid.gate = threading.Event()  # the one sent is answered once the other is decided
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_KERNELS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        for _ in range(2)
    ]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    _wait_for(lambda: sum(p.poll() is not None for p in procs) + len(paid.arrivals) >= 2)
    paid.gate.set()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(out.strip().splitlines()[-1])
    assert sorted(results) == ["refused", "sent"]
    assert len(paid.arrivals) == 1


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (
            lambda c: c.completions.create(model=MINI, prompt="hi", max_tokens=100_000),
            "completions",
        ),
        (lambda c: c.embeddings.create(model="text-embedding-3-small", input="hi"), "embeddings"),
        (lambda c: c.images.generate(model="gpt-image-1", prompt="a cat"), "images"),
        (lambda c: c.audio.speech.create(model="tts-1", voice="alloy", input="hi"), "audio"),
        (lambda c: c.files.create(file=("a.jsonl", b"{}"), purpose="batch"), "files"),
        (
            lambda c: c.batches.create(
                input_file_id="f", endpoint="/v1/responses", completion_window="24h"
            ),
            "batches",
        ),
    ],
)
def test_endpoints_the_guard_cannot_estimate_are_refused_live(paid, call, what) -> None:
    client = get_client(max_retries=0)
    with pytest.raises(spend.LiveRequestRefused, match=f"Not sent: POST /v1/{what}"):
        call(client)
    assert paid.arrivals == []


def test_free_requests_still_pass(paid) -> None:
    client = get_client(max_retries=0)
    assert client.models.list().data
    assert client.responses.input_tokens.count(model=MINI, input="hi").input_tokens == 7
    assert [a.path for a in paid.arrivals] == ["/v1/models", "/v1/responses/input_tokens"]
    assert _ledger() == SpendTotal(since=_ledger().since)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"model": "o1-pro"}, "no price for that model"),
        ({"tools": [{"type": "web_search"}]}, "built-in tool 'web_search'"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"service_tier": "priority"}, "service_tier='priority'"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input_image",
        ),
    ],
)
def test_what_the_guard_cannot_bound_is_refused(paid, extra, match) -> None:
    body = {"model": MINI, "input": "hi", "max_output_tokens": 50, **extra}
    with pytest.raises(spend.LiveRequestRefused, match=match):
        get_client(max_retries=0).responses.create(**body)
    assert paid.arrivals == []


def test_a_dated_snapshot_is_priced_as_its_model(paid) -> None:
    body = {"model": "gpt-5.4-mini-2026-03-17", "input": "hi", "max_output_tokens": 50}
    usd, what = spend.spend_guard().estimate(body, "/v1/responses")
    assert what.startswith("gpt-5.4-mini:") and usd > 0


def test_function_tools_count_towards_the_input_estimate(paid) -> None:
    body = {"model": MINI, "input": "hi", "max_output_tokens": 50}
    bare, _ = spend.spend_guard().estimate(body, "/v1/responses")
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "x": "y" * 900}}
    with_tool, what = spend.spend_guard().estimate({**body, "tools": [tool]}, "/v1/responses")
    assert with_tool > bare and "tools / schemas" in what


@pytest.mark.parametrize("mode", ["hang", "drop"])
def test_a_request_sent_and_never_answered_is_billed_at_its_reservation(paid, mode) -> None:
    """Every attempt the SDK makes (1 + 1 retry) reached the server; each may be billed."""
    paid.modes.extend([mode] * 2)
    body = {"model": MINI, "input": "Say hi.", "max_output_tokens": 1000}
    reserved, _ = spend.spend_guard().estimate(body, "/v1/responses")
    client = get_client(max_retries=1, timeout=0.25)
    with pytest.raises(openai.APIConnectionError):  # APITimeoutError is a subclass
        client.responses.create(**body)
    assert len(paid.arrivals) == 2
    total = _ledger()
    assert total.spent_usd == pytest.approx(2 * reserved)
    assert (total.unanswered, total.requests, total.reserved_usd) == (2, 2, 0)
    assert "2 never answered" in spend.spend_summary()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket closes


def test_a_request_that_never_left_is_not_billed(monkeypatch) -> None:
    go_live(monkeypatch, f"http://127.0.0.1:{_closed_port()}/v1")
    with pytest.raises(openai.APIConnectionError):
        get_client(max_retries=1).responses.create(model=MINI, input="hi", max_output_tokens=50)
    total = _ledger()
    assert (total.spent_usd, total.reserved_usd, total.requests) == (0, 0, 0)


def test_error_answers_are_not_billed(paid) -> None:
    paid.modes.append("500")
    with pytest.raises(openai.InternalServerError):
        get_client(max_retries=0).responses.create(model=MINI, input="hi", max_output_tokens=50)
    assert _ledger().spent_usd == 0 and _ledger().reserved_usd == 0


def test_answers_are_asked_for_uncompressed_and_settled_from_their_usage(paid) -> None:
    """The guard reads the bytes the SDK parses, once: it asks for them uncompressed (a server
    that compresses when asked to gzips this answer otherwise) instead of decoding twice."""
    paid.modes.append("gzip")
    r = get_client(max_retries=0).responses.create(model=MINI, input="hi", max_output_tokens=50)
    assert r.usage.output_tokens == 20
    assert spend.spent_usd() == pytest.approx(estimate_cost(MINI, 10, 20))


def test_an_answer_compressed_against_the_request_is_billed_at_its_reservation(paid) -> None:
    paid.modes.append("gzip-anyway")
    body = {"model": MINI, "input": "hi", "max_output_tokens": 50}
    reserved, _ = spend.spend_guard().estimate(body, "/v1/responses")
    r = get_client(max_retries=0).responses.create(**body)
    assert r.usage.output_tokens == 20  # the SDK reads it as ever
    total = _ledger()
    assert total.spent_usd == pytest.approx(reserved) and total.reserved_usd == pytest.approx(0)


def test_the_async_client_is_guarded_the_same_way(paid) -> None:
    import asyncio

    from course_utils.client import get_async_client

    paid.output_tokens = 100_000
    client = get_async_client(max_retries=0)

    async def run() -> list[str]:
        outcomes = []
        for _ in range(3):
            try:
                stream = await client.responses.create(
                    model=MINI, input="hi", max_output_tokens=100_000, stream=True
                )
                async for _event in stream:
                    pass
                outcomes.append("sent")
            except BudgetExceeded:
                outcomes.append("refused")
        with pytest.raises(spend.LiveRequestRefused):
            await client.embeddings.create(model="text-embedding-3-small", input="hi")
        await client.close()
        return outcomes

    assert asyncio.run(run()) == ["sent", "refused", "refused"]
    assert spend.spent_usd() == pytest.approx(estimate_cost(MINI, 10, 100_000))


def test_an_environment_proxy_is_used_and_still_guarded(paid, monkeypatch) -> None:
    """The client is built around its own transport, which makes httpx ignore HTTP_PROXY: the
    factory reads the environment's proxy itself, and the guard sits in front of it."""
    proxy = paid.base_url.removesuffix("/v1")  # the paid server, asked as a proxy
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://api.example.invalid/v1")
    client = get_client(max_retries=0)
    client.responses.create(model=MINI, input="hi", max_output_tokens=50)
    with pytest.raises(spend.LiveRequestRefused):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    assert [a.path for a in paid.arrivals] == ["http://api.example.invalid/v1/responses"]
    assert spend.spent_usd() == pytest.approx(estimate_cost(MINI, 10, 20))


def test_a_reservation_left_by_a_dead_kernel_still_counts(paid) -> None:
    SpendLedger(config.spend_ledger_path()).reserve(0.45, 0.50, "a request in flight")
    assert spend.remaining_usd() == pytest.approx(0.05)
    assert "reserved by requests in flight" in spend.spend_summary()
    with pytest.raises(BudgetExceeded, match="reserved by requests in flight"):
        get_client(max_retries=0).responses.create(model=MINI, input="hi", max_output_tokens=20_000)


def test_streams_from_the_course_simulator_are_settled_from_their_usage(live_env) -> None:
    """The simulator streams like the service now: live mode against it settles at the usage
    of the final event, for both APIs."""
    client = get_client(max_retries=0)
    with client.responses.stream(model=MINI, input="Say hi.", max_output_tokens=60) as stream:
        final = stream.get_final_response()
    chunks = list(
        client.chat.completions.create(
            model=MINI,
            messages=[{"role": "user", "content": "Say hi."}],
            max_completion_tokens=60,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = chunks[-1].usage
    expected = estimate_cost(MINI, final.usage.input_tokens, final.usage.output_tokens)
    expected += estimate_cost(MINI, usage.prompt_tokens, usage.completion_tokens)
    total = _ledger()
    assert total.spent_usd == pytest.approx(expected)
    assert (total.requests, total.unanswered, total.reserved_usd) == (2, 0, 0)


# --- issue 29 A: every path gets its client from the one factory, guarded by its transport -------


@pytest.mark.parametrize(
    "spelling",
    [
        "http://LOCALHOST:{port}/v1",
        "http://localhost:{port}/v1/",
        "https://api.openai.com:443/v1",  # a default port (refused before anything leaves)
    ],
)
def test_the_runner_keeps_the_guard_of_get_client_however_the_url_is_spelled(
    paid, monkeypatch, spelling
) -> None:
    """The runner re-built the client and kept the guard only when ``str(client.base_url)``
    equalled OPENAI_BASE_URL as written: an upper-case host sent every prompt past the cap."""
    from course_utils.runner import run_prompts

    port = paid.base_url.split(":")[2].split("/")[0]
    monkeypatch.setenv("OPENAI_BASE_URL", spelling.format(port=port))
    monkeypatch.setenv("COURSE_BUDGET_USD", "0.0002")  # one prompt's worst case is more
    summary = run_prompts(["one", "two", "three"], client=get_client(), progress=False)
    assert paid.arrivals == []
    assert summary.results is not None
    assert all("COURSE_BUDGET_USD" in (r.message or "") for r in summary.results)  # the cap
    assert _ledger().spent_usd == 0 and _ledger().reserved_usd == 0


def test_get_async_client_is_guarded_and_so_is_the_runner_with_it(paid, monkeypatch) -> None:
    from course_utils.client import get_async_client
    from course_utils.runner import run_prompts

    client = get_async_client(max_retries=0)
    assert isinstance(client, openai.AsyncOpenAI)
    monkeypatch.setenv("COURSE_BUDGET_USD", "0.0002")
    summary = run_prompts(["one", "two"], client=client, progress=False)
    assert paid.arrivals == [] and summary.results is not None
    assert not any(r.ok for r in summary.results)


def test_the_runner_releases_what_it_reserved_for_requests_that_never_left(monkeypatch) -> None:
    """Refused connections: the runner's event hooks never saw them, so each kept its
    reservation ($0.48 held after 16) and every later live request was refused."""
    from course_utils.runner import run_prompts

    go_live(monkeypatch, f"http://127.0.0.1:{_closed_port()}/v1")
    summary = run_prompts(["one", "two", "three"], max_retries=1, progress=False)
    assert summary.results is not None and not any(r.ok for r in summary.results)
    total = _ledger()
    assert (total.spent_usd, total.reserved_usd, total.requests) == (0, 0, 0)


def test_the_runner_bills_a_dropped_connection_once_per_attempt_and_holds_nothing(paid) -> None:
    from course_utils.runner import run_prompts

    paid.modes.extend(["drop"] * 2)
    summary = run_prompts(["one"], client=get_client(), max_retries=1, progress=False)
    assert summary.results is not None and not summary.results[0].ok
    total = _ledger()
    assert total.unanswered == 2 and total.reserved_usd == pytest.approx(0)


def test_a_vanished_ledger_stops_live_requests_until_reset(paid) -> None:
    client = get_client(max_retries=0)
    client.responses.create(model=MINI, input="hi", max_output_tokens=50)
    config.spend_ledger_path().unlink()  # deleted by hand: the count must not restart at $0
    with pytest.raises(config.ConfigError, match="vanished") as info:
        client.responses.create(model=MINI, input="hi", max_output_tokens=50)
    assert isinstance(info.value, spend.LiveRequestRefused)  # the runner records a refusal
    assert str(config.spend_ledger_path()) in str(info.value)
    assert "reset_spend()" in str(info.value)
    assert len(paid.arrivals) == 1
    spend.reset_spend()
    client.responses.create(model=MINI, input="hi", max_output_tokens=50)
    assert len(paid.arrivals) == 2 and _ledger().requests == 1


def test_a_compressed_request_body_is_refused_not_sent_unreserved(paid) -> None:
    """The guard read a gzip body as 'not JSON' and let it through with nothing reserved."""
    import gzip

    body = json.dumps({"model": LARGE, "input": "hi", "max_output_tokens": 100_000}).encode()
    client = get_client(max_retries=0)
    with pytest.raises(spend.LiveRequestRefused, match="Content-Encoding: gzip"):
        client.post(
            "/responses",
            cast_to=object,
            content=gzip.compress(body),
            options={"headers": {"Content-Encoding": "gzip", "Content-Type": "application/json"}},
        )
    assert paid.arrivals == []


# --- the batch path: each line priced at its own model, every line of a batch counted once ------

BATCH_POLL = {"min_poll_s": 0.005, "max_poll_s": 0.05, "progress": False, "log": None}


@pytest.fixture
def live_batches(make_sim, monkeypatch):
    """A live backend whose server is a simulator with a fast Batch API; cap $5."""
    sim = make_sim(batch_time_scale=1e6)  # a batch day passes in a blink
    go_live(monkeypatch, sim.base_url, "sim-course-key")
    monkeypatch.setenv("COURSE_BUDGET_USD", "5")
    return sim


def _batch_cost(records) -> float:  # type: ignore[no-untyped-def]
    return sum(
        estimate_cost(
            model,
            r.usage["input_tokens"],
            r.usage["output_tokens"],
            min(r.usage["cached_tokens"], r.usage["input_tokens"]),
            batch=True,
        )
        for r, model in records
        if r.usage
    )


def test_a_live_batch_is_settled_at_each_lines_own_model(live_batches, tmp_path) -> None:
    """gpt-5.4 lines under --model gpt-5-nano were settled at nano prices ($0.0098 in the
    ledger for $0.369 billed)."""
    from course_utils.runner import read_results, run_batch

    prompts = [{"id": f"p{i}", "prompt": "Explain tokens.", "model": LARGE} for i in range(3)]
    out = tmp_path / "o.jsonl"
    summary = run_batch(prompts, out, model="gpt-5-nano", **BATCH_POLL)
    assert summary.line().startswith("3 succeeded")
    expected = _batch_cost((r, LARGE) for r in read_results(out))
    total = _ledger()
    assert total.spent_usd == pytest.approx(expected) and total.reserved_usd == pytest.approx(0)


def test_a_batch_resumed_after_its_collection_crashed_is_counted_whole(
    live_batches, tmp_path, monkeypatch
) -> None:
    """The disk filled up while the answers were being written; ``--resume`` then settled only
    the lines it still had to write ($0.0783 settled, $0.0922 true)."""
    import errno

    from course_utils.runner import outputs, read_results, run_batch

    write = outputs.Sink.write
    written = []

    def fills_up(self, result):  # type: ignore[no-untyped-def]
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(result)
        write(self, result)

    monkeypatch.setattr(outputs.Sink, "write", fills_up)
    prompts = [f"Explain {t} in one sentence." for t in ("tokens", "limits", "retries", "jitter")]
    out = tmp_path / "o.jsonl"
    with pytest.raises(OSError, match="No space"):
        run_batch(prompts, out, **BATCH_POLL)
    monkeypatch.setattr(outputs.Sink, "write", write)
    run_batch(prompts, out, resume=True, **BATCH_POLL)
    records = read_results(out)
    assert len(records) == 4
    total = _ledger()
    assert total.spent_usd == pytest.approx(_batch_cost((r, DEFAULT_MODEL) for r in records))
    assert total.reserved_usd == pytest.approx(0)


def test_the_batch_paths_guard_lets_only_the_batch_api_through(paid) -> None:
    """The batch path reserves each whole batch itself; its client may upload and create
    batches, and is still refused everything else the guard cannot price."""
    client = make_client(guard=spend.spend_guard().for_batches(), max_retries=0)
    client.files.create(file=("a.jsonl", b"{}"), purpose="batch")
    client.batches.create(input_file_id="f", endpoint="/v1/responses", completion_window="24h")
    with pytest.raises(spend.LiveRequestRefused, match="embeddings"):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    assert [a.path for a in paid.arrivals] == ["/v1/files", "/v1/batches"]
    assert _ledger().reserved_usd == 0 and _ledger().spent_usd == 0
