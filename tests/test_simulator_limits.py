"""RPM/TPM buckets: Go durations, bucket arithmetic on a fake clock, headers and 429s."""

from __future__ import annotations

import math

import httpx2
import openai
import pytest

from course_simulator import TokenBucket, format_duration
from course_simulator.limits import (
    DEFAULT_REPORTED_RPM,
    DEFAULT_REPORTED_TPM,
    KeyBuckets,
)
from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import DEFAULT_OUTPUT_RESERVE_TOKENS, count_message_tokens

PROMPT = "Explain rate limits in one sentence."


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.0004, "1ms"),
        (0.001, "1ms"),
        (0.12, "120ms"),
        (0.9994, "1s"),
        (1, "1s"),
        (1.5, "1.5s"),
        (12.34, "12.34s"),
        (59.999, "59.999s"),
        (60, "1m0s"),
        (360, "6m0s"),
        (252.172, "4m12.172s"),
        (3600, "1h0m0s"),
        (3723.5, "1h2m3.5s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_format_duration_rejects(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_duration(bad)


def test_bucket_refills_continuously(fake_clock) -> None:
    bucket = TokenBucket(60, clock=fake_clock)  # 1 per second
    bucket.take(30)
    assert bucket.level == 30
    fake_clock.advance(10)
    assert bucket.level == 40
    assert bucket.wait_for(50) == 10
    assert bucket.wait_for(61) == math.inf
    assert bucket.time_to_full() == 20
    assert repr(bucket) == "<TokenBucket 40.0/60 (+1.00/s, full in 20s)>"
    fake_clock.advance(1000)
    assert bucket.level == 60  # never above capacity


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, None])
def test_bucket_rejects_bad_capacity(bad: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(bad, clock=lambda: 0.0)  # type: ignore[arg-type]


def test_limiter_refuses_and_names_the_limit(fake_clock) -> None:
    limiter = KeyBuckets(rpm=2, tpm=1000, clock=fake_clock)
    assert limiter.admit("k", 100).admitted
    assert limiter.admit("k", 100).admitted
    third = limiter.admit("k", 100)
    assert (third.admitted, third.limit_type, third.limit, third.used) == (
        False, "requests", 2, 2
    )  # fmt: skip
    assert third.retry_after_s == 30
    assert limiter.admit("other-key", 100).admitted  # buckets are per key
    fake_clock.advance(30)
    assert limiter.admit("k", 100).admitted


def test_limiter_token_refusal(fake_clock) -> None:
    limiter = KeyBuckets(tpm=1000, clock=fake_clock)
    assert limiter.admit("k", 800).admitted
    fake_clock.advance(3)  # +50 tokens
    tokens = limiter.admit("k", 900)
    assert (tokens.admitted, tokens.limit_type, tokens.used, tokens.requested) == (
        False, "tokens", 750, 900
    )  # fmt: skip
    assert tokens.retry_after_s == pytest.approx((900 - 250) / (1000 / 60))
    assert limiter.admit("k", 1001).retry_after_s == math.inf


def test_limiter_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="rpm"):
        KeyBuckets(rpm=0)


def _reserve(cap: int) -> int:
    return count_message_tokens([{"role": "user", "content": PROMPT}], DEFAULT_MODEL) + cap


def test_headers_arithmetic(make_sim, fake_clock) -> None:
    sim = make_sim(rpm=100, tpm=10_000, clock=fake_clock)
    client = sim.client(max_retries=0)
    raw = client.responses.with_raw_response.create(
        model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=50
    )
    h = raw.headers
    used = _reserve(50)
    assert h["x-ratelimit-limit-requests"] == "100"
    assert h["x-ratelimit-limit-tokens"] == "10000"
    assert h["x-ratelimit-remaining-requests"] == "99"
    assert h["x-ratelimit-remaining-tokens"] == str(10_000 - used)
    assert h["x-ratelimit-reset-requests"] == "600ms"  # 1 request at 100/min
    assert h["x-ratelimit-reset-tokens"] == format_duration(used * 60 / 10_000)
    h2 = client.responses.with_raw_response.create(
        model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=50
    ).headers
    assert h2["x-ratelimit-remaining-requests"] == "98"
    assert h2["x-ratelimit-remaining-tokens"] == str(10_000 - 2 * used)
    fake_clock.advance(0.6)  # one request and 100 tokens back
    h3 = client.models.with_raw_response.list().headers  # reads, does not reserve
    assert h3["x-ratelimit-remaining-requests"] == "99"
    assert h3["x-ratelimit-remaining-tokens"] == str(10_000 - 2 * used + 100)


def test_uncapped_request_reserves_default(make_sim, fake_clock) -> None:
    sim = make_sim(tpm=100_000, clock=fake_clock)
    h = (
        sim.client(max_retries=0)
        .responses.with_raw_response.create(model=DEFAULT_MODEL, input=PROMPT)
        .headers
    )
    remaining = 100_000 - _reserve(DEFAULT_OUTPUT_RESERVE_TOKENS)
    assert h["x-ratelimit-remaining-tokens"] == str(remaining)


def test_default_limits_reported_but_not_enforced(sim) -> None:
    h = (
        sim.client(max_retries=0)
        .responses.with_raw_response.create(model=DEFAULT_MODEL, input=PROMPT)
        .headers
    )
    assert h["x-ratelimit-limit-requests"] == str(DEFAULT_REPORTED_RPM)
    assert h["x-ratelimit-limit-tokens"] == str(DEFAULT_REPORTED_TPM)


def test_rpm_429_then_recovers(make_sim, fake_clock) -> None:
    sim = make_sim(rpm=2, clock=fake_clock)
    client = sim.client(max_retries=0)
    for _ in range(2):
        client.responses.create(model=DEFAULT_MODEL, input=PROMPT)
    with pytest.raises(openai.RateLimitError) as info:
        client.responses.create(model=DEFAULT_MODEL, input=PROMPT)
    err = info.value
    assert (err.status_code, err.code, err.type) == (429, "rate_limit_exceeded", "requests")
    assert "Limit 2, Used 2, Requested 1" in err.message and "try again in 30s" in err.message
    assert err.response.headers["retry-after"] == "30"
    assert err.response.headers["retry-after-ms"] == "30000"
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert [r.outcome for r in sim.requests] == ["ok", "ok", "rate_limit"]
    fake_clock.advance(30)
    assert client.responses.create(model=DEFAULT_MODEL, input=PROMPT).status == "completed"


def test_tpm_429_names_tokens(make_sim, fake_clock) -> None:
    sim = make_sim(tpm=1000, clock=fake_clock)
    client = sim.client(max_retries=0)
    client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=500)
    with pytest.raises(openai.RateLimitError) as info:
        client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=500)
    err = info.value
    assert err.type == "tokens"
    assert f"Limit 1,000, Used {_reserve(500)}, Requested {_reserve(500)}" in err.message
    wait = (2 * _reserve(500) - 1000) * 60 / 1000
    assert err.response.headers["retry-after-ms"] == str(math.ceil(wait * 1000))


def test_request_larger_than_tpm_can_never_fit(make_sim) -> None:
    sim = make_sim(tpm=100)
    with pytest.raises(openai.RateLimitError) as info:
        sim.client(max_retries=0).responses.create(
            model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=200
        )
    assert "Request too large" in info.value.message
    assert "can never fit" in info.value.message
    assert "retry-after" not in info.value.response.headers


def test_keys_have_separate_buckets(make_sim, fake_clock) -> None:
    sim = make_sim(rpm=1, clock=fake_clock)
    sim.client(api_key="course-key-one", max_retries=0).models.list()
    a = sim.client(api_key="course-key-one", max_retries=0)
    b = sim.client(api_key="course-key-two", max_retries=0)
    a.responses.create(model=DEFAULT_MODEL, input=PROMPT)
    b.responses.create(model=DEFAULT_MODEL, input=PROMPT)
    with pytest.raises(openai.RateLimitError):
        a.responses.create(model=DEFAULT_MODEL, input=PROMPT)


def test_sdk_honours_retry_after_ms(make_sim) -> None:
    # 600 ms is above the SDK's own first backoff (at most 0.5 s), so a gap of at least 0.6 s
    # between the two arrivals shows the SDK waited for the server's retry-after-ms.
    sim = make_sim(fault_retry_after_ms=600)
    sim.queue_faults(["rate_limit", None])
    r = sim.client(max_retries=1).responses.create(model=DEFAULT_MODEL, input=PROMPT)
    assert r.status == "completed"
    first, second = sim.requests
    assert (first.outcome, second.outcome) == ("rate_limit", "ok")
    assert second.time - first.time >= 0.6


def test_sdk_rides_out_a_real_tpm_429(make_sim) -> None:
    # 60,000 TPM refills 1,000 tokens/s. Two requests reserving 30,100 each overdraw by 200
    # tokens, so the second gets a 429 with retry-after-ms of about 200 and the SDK's own retry
    # gets through.
    sim = make_sim(tpm=60_000)
    cap = 30_100 - _reserve(0)
    client = sim.client(max_retries=2)
    client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=cap)
    r = client.responses.create(model=DEFAULT_MODEL, input=PROMPT, max_output_tokens=cap)
    assert r.status == "completed"
    outcomes = [rec.outcome for rec in sim.requests]
    assert outcomes[0] == "ok" and outcomes[-1] == "ok"
    assert set(outcomes[1:-1]) == {"rate_limit"}


def test_request_log_times_come_from_the_injected_clock(make_sim, fake_clock) -> None:
    sim = make_sim(clock=fake_clock)
    client = sim.client(max_retries=0)
    client.models.list()
    fake_clock.advance(12.5)
    client.models.list()
    assert [r.time for r in sim.requests] == [1000.0, 1012.5]


def test_unknown_keys_get_default_headers_without_a_bucket(make_sim) -> None:
    sim = make_sim(rpm=7, tpm=700, api_key="sk-course-only-this-key-0123")
    for i in range(5):
        raw = httpx2.get(
            f"{sim.base_url}/models", headers={"Authorization": f"Bearer sk-wrong-key-{i:04d}0000"}
        )
        assert raw.status_code == 401
        assert raw.headers["x-ratelimit-limit-requests"] == "7"
        assert raw.headers["x-ratelimit-remaining-tokens"] == "700"
        assert raw.headers["x-ratelimit-reset-requests"] == "0s"
    assert sim.limiter.keys == 0
    limiter = KeyBuckets()
    assert limiter.headers("never-seen")["x-ratelimit-limit-tokens"] == "150000000"
    assert limiter.keys == 0
