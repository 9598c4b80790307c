"""ratelimit: token buckets on a fake clock whose sleep moves it, exact waits, pauses, headers
from the real simulator, the decorator, and asyncio."""

from __future__ import annotations

import asyncio

import openai
import pytest

from course_utils.ratelimit import RateLimiter
from course_utils.ratelimit_extras import (
    OUTPUT_RESERVE_TOKENS,
    AdaptiveRateLimiter,
    ScaledClock,
    estimate_call_tokens,
    rate_limited,
)
from course_utils.ratelimit_headers import parse_duration, read_rate_limit_headers
from course_utils.tokens import count_tokens

MODEL = "gpt-5.4-mini"


class FakeTime:
    """A clock that stands still; its ``sleep`` moves it (and records the wait)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(t: FakeTime, rpm=None, tpm=None, headroom_s=0.0) -> AdaptiveRateLimiter:
    """The adaptive limiter: every core test below runs through the subclass too."""
    return AdaptiveRateLimiter(rpm, tpm, clock=t, sleep=t.sleep, headroom_s=headroom_s)


def test_the_core_limiter_paces_on_its_own():
    """The class lesson 03 shows: buckets and waiting, nothing learned from a server."""
    t = FakeTime()
    core = RateLimiter(rpm=60, tpm=1_000, clock=t, sleep=t.sleep, headroom_s=0)
    assert [core.acquire(100) for _ in range(10)] == [0.0] * 10  # the full token bucket
    assert core.acquire(100) == pytest.approx(6.0)  # 100 tokens at 1,000/60 a second
    assert not hasattr(core, "pause") and not hasattr(core, "update_from_headers")
    assert repr(core).startswith("<RateLimiter requests 55.0/60")  # 49 + 6 s of refill


# --- durations and headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0s", 0.0), ("1s", 1.0), ("12ms", 0.012), ("6m0s", 360.0), ("1h0m0s", 3600.0),
        ("4m12.172s", 252.172), ("1.5s", 1.5), ("250us", 0.00025), ("7ns", 7e-9),
        ("1h2m3.5s", 3723.5), ("0.5", 0.5), ("2", 2.0), (" 20ms ", 0.02),
    ],
)  # fmt: skip
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "1x", "1s junk", "-1s", "-1", "nan", "inf", "1 s"])
def test_parse_duration_rejects_junk(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_read_rate_limit_headers_tolerates_missing_and_junk():
    info = read_rate_limit_headers(
        {
            "X-RateLimit-Limit-Requests": "60",
            "x-ratelimit-remaining-requests": "59",
            "x-ratelimit-reset-requests": "1s",
            "x-ratelimit-limit-tokens": "lots",
            "x-ratelimit-reset-tokens": "soon",
        }
    )
    assert (info.limit_requests, info.remaining_requests, info.reset_requests_s) == (60, 59, 1.0)
    assert info.limit_tokens is None and info.remaining_tokens is None
    assert info.reset_tokens_s is None and not info.empty
    assert read_rate_limit_headers({}).empty and read_rate_limit_headers(None).empty
    assert "no x-ratelimit-* headers" in str(read_rate_limit_headers({}))
    assert "60 requests" in str(info) and "1 s" in str(info)
    with pytest.raises(TypeError, match="with_raw_response"):
        read_rate_limit_headers("x-ratelimit-limit-requests: 60")


def test_headers_from_the_real_simulator(make_sim):
    sim = make_sim(rpm=60, tpm=10_000)
    raw = sim.client(max_retries=0).responses.with_raw_response.create(
        model=MODEL, input="hi", max_output_tokens=100
    )
    info = read_rate_limit_headers(raw.headers)
    assert (info.limit_requests, info.limit_tokens) == (60, 10_000)
    assert info.remaining_requests == 59
    assert info.remaining_tokens == 10_000 - sim.requests[0].input_tokens - 100
    assert 0 < info.reset_requests_s <= 1.0 and info.reset_tokens_s > 0


# --- the buckets -------------------------------------------------------------------------------


def test_a_full_bucket_lets_a_burst_through_then_spaces_requests_evenly():
    t = FakeTime()
    lim = limiter(t, rpm=60)
    waits = [lim.acquire() for _ in range(63)]
    assert waits[:60] == [0.0] * 60
    assert waits[60:] == pytest.approx([1.0, 1.0, 1.0])
    assert lim.admitted == 63 and lim.waited_s == pytest.approx(3.0)


def test_tokens_per_minute_and_requests_per_minute_together():
    t = FakeTime()
    lim = limiter(t, rpm=600, tpm=6_000)  # 10 requests/s, 100 tokens/s
    assert lim.acquire(5_000) == 0.0
    assert lim.acquire(1_000) == 0.0
    assert lim.acquire(500) == pytest.approx(5.0)  # 500 tokens at 100/s
    assert lim.acquire(0) == 0.0  # a zero-token call only needs a request slot
    with pytest.raises(ValueError, match=r"needs 6,001 tokens but the limit is 6,000 tokens"):
        lim.acquire(6_001)


def test_waiting_callers_leave_one_by_one():
    """Reserved slots are handed out in order: no herd when the bucket refills."""
    t = FakeTime()
    lim = limiter(t, rpm=60)
    for _ in range(60):
        lim.acquire()
    slots = [lim._reserve(0)[0] - t.now for _ in range(4)]
    assert slots == pytest.approx([1.0, 2.0, 3.0, 4.0])


def test_headroom_trims_the_burst_not_the_rate():
    t = FakeTime()
    lim = limiter(t, rpm=60, headroom_s=2.0)
    waits = [lim.acquire() for _ in range(60)]
    assert waits[:58] == [0.0] * 58 and waits[58] == pytest.approx(1.0)
    assert waits[59] == pytest.approx(1.0)  # then the full rate: 1 per second


def test_pause_holds_every_caller_and_keeps_the_queue_in_order():
    t = FakeTime()
    lim = limiter(t, rpm=60)
    for _ in range(60):
        lim.acquire()
    ticket = lim._reserve(0)  # a caller queued for t+1
    lim.pause(5.0)
    assert lim._left(ticket) == pytest.approx(6.0)  # pushed back by the pause
    assert lim.acquire() == pytest.approx(7.0)  # the next one queues behind it
    lim.pause(3.0)  # nobody queued now: a fresh pause holds the next caller
    assert lim.acquire() == pytest.approx(3.0)
    assert lim.pauses == 2


def test_overlapping_pauses_do_not_add_up():
    t = FakeTime()
    lim = limiter(t)  # limits unknown: only the pause holds callers
    lim.pause(1.0)
    t.now += 0.5
    lim.pause(1.0)  # ends 0.5 s after the first one would have
    assert lim.acquire() == pytest.approx(1.0)
    lim.pause(0.0)
    assert lim.acquire() == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rpm": 0}, "rpm must be a whole number >= 1"),
        ({"tpm": 1.5}, "tpm must be a whole number >= 1"),
        ({"headroom_s": -1}, "headroom_s must be"),
    ],
)
def test_bad_limits_fail_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RateLimiter(**kwargs)


@pytest.mark.parametrize("tokens", [-1, 1.5, "10", None])
def test_bad_token_counts_fail_clearly(tokens):
    with pytest.raises(ValueError, match="tokens must be a whole number"):
        RateLimiter(rpm=60).acquire(tokens)


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_bad_pauses_fail_clearly(seconds):
    with pytest.raises(ValueError, match="seconds must be a finite number"):
        AdaptiveRateLimiter().pause(seconds)


def test_repr_shows_the_buckets():
    t = FakeTime()
    lim = limiter(t, rpm=60, tpm=10_000)
    lim.acquire(1_000)
    text = repr(lim)
    assert "requests 59.0/60 per min (+1.00/s)" in text
    assert "tokens 9,000.0/10,000 per min (+166.67/s)" in text
    assert "0 waiting" in text and "1 admitted" in text
    lim.pause(2)
    assert "paused 2.00 s more" in repr(lim)
    assert "requests unknown" in repr(RateLimiter())


# --- learning from the server ------------------------------------------------------------------


def test_update_from_headers_learns_unknown_limits_and_what_is_left():
    t = FakeTime()
    lim = limiter(t)
    assert lim.rpm is None and lim.acquire() == 0.0
    lim.update_from_headers(
        {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0",
         "x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "5000"}
    )  # fmt: skip
    assert (lim.rpm, lim.tpm) == (60, 6_000)
    assert lim.acquire() == pytest.approx(1.0)  # the server said none left


def test_update_from_headers_only_ever_lowers():
    t = FakeTime()
    lim = limiter(t, rpm=60)
    lim.update_from_headers({"x-ratelimit-limit-requests": "600"})
    assert lim.rpm == 60  # ours is lower: keep it (room for other clients)
    lim.update_from_headers({"x-ratelimit-limit-requests": "30"})
    assert lim.rpm == 30
    lim.update_from_headers({"x-ratelimit-remaining-requests": "10"})  # other clients used some
    waits = [lim.acquire() for _ in range(11)]
    assert waits[:10] == [0.0] * 10 and waits[10] == pytest.approx(2.0)
    lim.update_from_headers({})  # nothing there: nothing changes
    assert lim.rpm == 30


def test_a_rate_limit_429_in_a_slot_pauses_everyone(make_sim):
    sim = make_sim(rpm=60, fault_retry_after_ms=1500)
    sim.queue_faults(["rate_limit", "quota"])
    client = sim.client(max_retries=0)
    t = FakeTime()
    lim = limiter(t)
    with pytest.raises(openai.RateLimitError), lim.slot():
        client.responses.create(model=MODEL, input="hi", max_output_tokens=16)
    assert lim.rpm == 60 and lim.pauses == 1
    assert lim.acquire() == pytest.approx(1.5)
    with pytest.raises(openai.RateLimitError), lim.slot():  # insufficient_quota: no pause
        client.responses.create(model=MODEL, input="hi", max_output_tokens=16)
    assert lim.pauses == 1


# --- decorator and asyncio ---------------------------------------------------------------------


def test_rate_limited_paces_a_function():
    t = FakeTime()
    shared = limiter(t, rpm=60, tpm=600)
    calls = []

    @rate_limited(limiter=shared, tokens=lambda prompt, cap: len(prompt) + cap)
    def ask(prompt: str, cap: int) -> str:
        calls.append((prompt, t.now))
        return prompt.upper()

    assert ask("hello", 495) == "HELLO"  # takes 500 of 600 tokens
    assert ask("abcde", 95) == "ABCDE"  # 100 more
    assert ask.limiter is shared and ask.__name__ == "ask"
    assert calls[1][1] == 100.0
    ask("x", 9)  # 10 tokens at 10 tokens/s
    assert calls[2][1] == pytest.approx(101.0)


def test_rate_limited_settings_are_checked():
    with pytest.raises(ValueError, match="either limiter= or rpm="):
        rate_limited(rpm=5, limiter=RateLimiter())
    with pytest.raises(ValueError, match="tokens must be a whole number"):
        rate_limited(rpm=5, tokens=-3)

    @rate_limited(rpm=5, tokens=lambda: "many")
    def f() -> None: ...

    with pytest.raises(ValueError, match="tokens must be a whole number"):
        f()
    assert rate_limited(rpm=5)(len)("abc") == 3  # no tpm: nothing to estimate


def test_rate_limited_wraps_the_sdk_call(make_sim):
    sim = make_sim(rpm=60, tpm=10_000)
    t = FakeTime()
    create = rate_limited(limiter=limiter(t, rpm=60, tpm=10_000), tokens=200)(
        sim.client(max_retries=0).responses.create
    )
    assert create(model=MODEL, input="hi", max_output_tokens=100).output_text
    assert create.limiter.admitted == 1


def test_acquire_async_and_async_decorator():
    t = FakeTime()
    lim = limiter(t, rpm=60)
    for _ in range(60):
        lim.acquire()

    @rate_limited(limiter=lim, tokens=0)
    async def job(n: int) -> int:
        return n * 2

    async def main() -> list[float]:
        waits = [await lim.acquire_async(), await lim.acquire_async()]
        assert await job(4) == 8
        async with lim.slot_async():
            pass
        return waits

    assert asyncio.run(main()) == pytest.approx([1.0, 1.0])
    assert t.now == pytest.approx(104.0)


def test_scaled_clock():
    fast = ScaledClock(1000)
    start = fast.now()
    fast.sleep(50)  # 50 simulated seconds: 0.05 real
    assert fast.now() - start >= 50
    assert "1000x" in repr(fast)
    asyncio.run(fast.sleep_async(10))
    with pytest.raises(ValueError, match="speed must be a finite number"):
        ScaledClock(0)


def test_rate_limited_estimates_tokens_as_the_server_reserves_them(make_sim):
    """No tokens=: the decorator reserves input + output cap, the simulator's own count."""
    t = FakeTime()
    sim = make_sim(rpm=60, tpm=10_000, clock=t)  # one clock that stands still: no refill
    shared = limiter(t, rpm=60, tpm=10_000)
    create = rate_limited(limiter=shared)(sim.client(max_retries=0).responses.create)
    create(model=MODEL, input="How do token buckets work?", max_output_tokens=100)
    raw = sim.client(max_retries=0).responses.with_raw_response.create(
        model=MODEL, input="hi", max_output_tokens=16
    )
    server_left = read_rate_limit_headers(raw.headers).remaining_tokens
    reserved = 10_000 - shared._buckets["tokens"].level
    assert reserved == sim.requests[0].input_tokens + 100
    assert server_left == 10_000 - reserved - (sim.requests[1].input_tokens + 16)
    chat = rate_limited(limiter=shared)(sim.client(max_retries=0).chat.completions.create)
    chat(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=20)
    assert shared.admitted == 2


def test_rate_limited_on_a_learners_own_function():
    """Regression (issue 27 item 8): the article's ``@rate_limited(rpm=60, tpm=10_000)`` on a
    learner's ``def ask(prompt)`` raised "a Responses request needs 'input'" on every call,
    because the estimate read the call as an SDK body. Now it reserves the tokens of the
    string arguments plus a stated output reserve."""

    @rate_limited(rpm=60, tpm=10_000)
    def ask(prompt: str) -> str:
        return f"answer to {prompt}"

    assert ask("What is a token?") == "answer to What is a token?"
    assert ask(prompt="And a rate limit?") == "answer to And a rate limit?"
    assert ask.limiter.admitted == 2

    t = FakeTime()
    shared = limiter(t, rpm=60, tpm=10_000)
    paced = rate_limited(limiter=shared, output_reserve=200)(lambda prompt, style: style)
    paced("How do token buckets work?", style="briefly")
    expected = count_tokens("How do token buckets work?") + count_tokens("briefly") + 200
    assert 10_000 - shared._buckets["tokens"].level == expected
    assert estimate_call_tokens(("hi",), {}) == count_tokens("hi") + OUTPUT_RESERVE_TOKENS
