"""course_utils.spend: the live spend cap is one total per learner (a ledger file shared by
notebooks, kernels and restarts), checked before a request is sent, held while it is in flight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import openai
import pytest

from course_utils import client as course_client
from course_utils import config, spend
from course_utils.client import BudgetExceeded, backend_banner, get_client
from course_utils.pricing import DEFAULT_MODEL, estimate_cost
from course_utils.spend import SpendGuard, SpendLedger, SpendTotal
from course_utils.tokens import count_message_tokens

TEST_KEY = "sk-test-not-a-real-key-123456"


@pytest.fixture
def live_env(monkeypatch, sim):
    """COURSE_BACKEND=openai with the SDK's env vars pointing at a simulator."""
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("COURSE_BUDGET_USD", "0.50")
    course_client.reset_spend()
    yield sim
    course_client.reset_spend()


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
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=DEFAULT_MODEL, input=bad_input)
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


def test_concurrent_requests_cannot_pass_the_cap_together(make_sim, monkeypatch) -> None:
    sim = make_sim(latency_ms=1500)  # every answer takes 1.5 s: all four are in flight at once
    body = {"model": DEFAULT_MODEL, "input": "Say hi.", "max_output_tokens": 400}
    one, _ = SpendGuard(budget_usd=1.0).estimate(body, "/v1/responses")
    guard = SpendGuard(budget_usd=one * 2.5, ledger=SpendLedger(config.spend_ledger_path()))
    client = openai.OpenAI(
        base_url=sim.base_url, api_key=TEST_KEY, max_retries=0, http_client=guard.http_client()
    )
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def send() -> None:
        start.wait()
        try:
            client.responses.create(**body)
            outcomes.append("sent")
        except BudgetExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["refused", "refused", "sent", "sent"]
    assert len(sim.requests) == 2
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
