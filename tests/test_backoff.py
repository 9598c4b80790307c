"""backoff: exact delay lists from seeded rngs, one retry-after table, the SDK's own rules read
from the installed package, and retry_call against the real simulator with injected sleep."""

from __future__ import annotations

import email.utils
import logging
import math
import random

import httpx2
import openai
import pytest
from openai import _constants as sdk_constants
from openai._models import FinalRequestOptions

from course_utils.backoff import (
    RETRY_AFTER_CEILING_S,
    RetryPolicy,
    delays,
    equal_jitter,
    exponential,
    fixed,
    full_jitter,
    no_jitter,
    parse_retry_after,
    retry_call,
)
from course_utils.backoff_extras import JITTERS, SDK_RETRY, decorrelated, make_schedule, sdk_jitter

MODEL = "gpt-5.4-mini"

# --- schedules ---------------------------------------------------------------------------------


def test_exponential_doubles_then_caps():
    assert delays(exponential(1, 2, 8), 6) == [1, 2, 4, 8, 8, 8]
    assert delays(exponential(0.5, 3, 60), 5) == [0.5, 1.5, 4.5, 13.5, 40.5]
    assert delays(no_jitter(exponential()), 7) == [1, 2, 4, 8, 16, 32, 60]
    assert delays(fixed(0.25), 3) == [0.25, 0.25, 0.25]
    assert exponential(1, 2, 60)(10**9, random.Random()) == 60  # no overflow on huge attempts
    assert exponential(1, 1, 60)(50, random.Random()) == 1  # factor 1: constant


def test_jitters_give_the_exact_seeded_values():
    base = [1.0, 2.0, 4.0, 8.0]
    r = random.Random(7)
    assert delays(full_jitter(exponential(1, 2, 60)), 4, 7) == [r.uniform(0, d) for d in base]
    r = random.Random(7)
    expected = [d / 2 + r.uniform(0, d / 2) for d in base]
    assert delays(equal_jitter(exponential(1, 2, 60)), 4, 7) == expected
    r = random.Random(7)
    sdk = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert delays(sdk_jitter(exponential(0.5, 2, 8)), 6, 7) == [
        d * (1 - 0.25 * r.random()) for d in sdk
    ]


def test_jitter_stays_in_its_band():
    rng = random.Random(1)
    for n in range(1, 8):
        d = min(60, 2 ** (n - 1))
        for _ in range(50):
            assert 0 <= full_jitter(exponential())(n, rng) <= d
            assert d / 2 <= equal_jitter(exponential())(n, rng) <= d
            assert 0.75 * d <= sdk_jitter(exponential())(n, rng) <= d


def test_decorrelated_follows_the_chain_and_restarts_per_call():
    r = random.Random(3)
    expected, previous = [], 1.0
    for _ in range(5):
        previous = min(20.0, r.uniform(1.0, previous * 3))
        expected.append(previous)
    schedule = decorrelated(1.0, 20.0)
    assert delays(schedule, 5, 3) == expected
    assert delays(schedule, 5, 3) == expected  # each call of delays() starts a fresh chain
    assert schedule.fresh() is not schedule
    wrapped = decorrelated(exponential(1, 2, 20))  # the wrapper form: base 1 s, cap 20 s
    assert delays(wrapped, 5, 3) == expected


def test_schedules_add():
    combined = exponential(1, 2, 60) + full_jitter(fixed(0.5))
    r = random.Random(4)
    assert delays(combined, 3, 4) == [d + r.uniform(0, 0.5) for d in (1, 2, 4)]
    assert delays(exponential(1, 2, 60) + 0.5, 2) == [1.5, 2.5]
    assert "exponential" in repr(combined) and "full_jitter" in repr(combined)


def test_make_schedule_names_every_jitter():
    assert JITTERS == ("none", "full", "equal", "decorrelated", "sdk")
    for name in JITTERS:
        assert delays(make_schedule(name, 1, 2, 8), 3, 0)
    with pytest.raises(ValueError, match="not one of none, full"):
        make_schedule("gaussian")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: exponential(base_s=0), "base_s must be a finite number of seconds > 0, got 0"),
        (lambda: exponential(cap_s=-1), "cap_s"),
        (lambda: exponential(base_s=math.nan), "base_s"),
        (lambda: exponential(factor=0.5), "factor must be a finite number .* >= 1 and <= 100"),
        (lambda: fixed(-1), "seconds"),
        (lambda: decorrelated(base_s=5, cap_s=1), "cap_s"),
        (lambda: full_jitter(lambda n, rng: 1.0), "wraps a schedule"),
        (lambda: exponential()(0, random.Random()), "attempt counts retries from 1"),
        (lambda: delays(exponential(), -1), "retries must be a whole number"),
        (lambda: RetryPolicy(-1), "max_retries must be a whole number >= 0 \\(retries after"),
        (lambda: sdk_jitter(exponential(), fraction=2), "fraction must be"),
        (lambda: RetryPolicy(2, schedule=lambda n, rng: 1.0), "schedule must be"),
    ],
)
def test_bad_settings_fail_when_built(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


# --- retry-after: one table --------------------------------------------------------------------

NOW = 1_700_000_000.0  # a fixed wall-clock time for the HTTP-date rows
IN_90_S = email.utils.formatdate(NOW + 90, usegmt=True)
IN_300_S = email.utils.formatdate(NOW + 300, usegmt=True)
AGO_30_S = email.utils.formatdate(NOW - 30, usegmt=True)

RETRY_AFTER_TABLE = [
    # (headers, what parse_retry_after returns)
    ({}, None),
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "1.5"}, 1.5),  # non-standard float seconds, accepted like the SDK
    ({"retry-after": " 3 "}, 3.0),
    ({"Retry-After": "4"}, 4.0),  # header names are case-insensitive
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),  # milliseconds win
    ({"retry-after-ms": "soon", "retry-after": "1"}, 1.0),  # junk ms: the next header decides
    ({"retry-after-ms": "-5", "retry-after": "1"}, None),  # first number decides: negative
    ({"retry-after": "0"}, 0.0),
    ({"retry-after": "-1"}, None),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "inf"}, None),
    ({"retry-after": "-inf"}, None),
    ({"retry-after": "Infinity"}, None),
    ({"retry-after": "1e400"}, RETRY_AFTER_CEILING_S),  # an overflow means "very long"
    ({"retry-after": "999999999"}, RETRY_AFTER_CEILING_S),
    ({"retry-after": ""}, None),
    ({"retry-after": "later"}, None),
    ({"retry-after": IN_90_S}, 90.0),
    ({"retry-after": IN_300_S}, 300.0),
    ({"retry-after": AGO_30_S}, 0.0),  # a date already past: no wait
    ({"retry-after": "Mon, 99 Foo 2024 99:99:99 GMT"}, None),
]


@pytest.mark.parametrize(("headers", "expected"), RETRY_AFTER_TABLE, ids=repr)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers, now=NOW) == expected
    assert parse_retry_after(httpx2.Headers(headers), now=NOW) == expected


def test_parse_retry_after_rejects_non_mappings():
    assert parse_retry_after(None) is None
    with pytest.raises(TypeError, match="headers must be a mapping"):
        parse_retry_after("retry-after: 2")


def sdk_client() -> openai.OpenAI:
    return openai.OpenAI(api_key="sim-course-key", base_url="http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [row for row in RETRY_AFTER_TABLE if "GMT" not in str(row[0])],
    ids=repr,
)
def test_the_sdk_honours_exactly_the_hints_we_call_usable(headers, expected):
    """Where the SDK sleeps the server's number (0 < v <= 120 s), we read the same number."""
    client = sdk_client()
    sdk_value = client._parse_retry_after_header(httpx2.Headers(headers))
    sdk_honours = sdk_value is not None and math.isfinite(sdk_value) and 0 < sdk_value <= 120
    ours_usable = expected is not None and 0 < expected <= SDK_RETRY.max_retry_after_s
    assert sdk_honours == ours_usable
    if sdk_honours:
        assert sdk_value == expected


# --- the SDK's own rules -----------------------------------------------------------------------


def test_sdk_numbers_come_from_the_installed_package():
    assert SDK_RETRY.max_retries == sdk_constants.DEFAULT_MAX_RETRIES == 2
    assert SDK_RETRY.initial_delay_s == sdk_constants.INITIAL_RETRY_DELAY == 0.5
    assert SDK_RETRY.max_delay_s == sdk_constants.MAX_RETRY_DELAY == 8.0
    assert SDK_RETRY.max_retry_after_s == sdk_constants.MAX_RETRY_AFTER_DELAY == 120
    assert "2 retries" in SDK_RETRY.describe() and "0.5, 1, 2, 4, 8 s" in SDK_RETRY.describe()


@pytest.mark.parametrize("max_retries", [2, 5])
def test_sdk_schedule_matches_calculate_retry_timeout(max_retries):
    """Same seed, same numbers: our copy of the SDK's backoff is its backoff."""
    client = sdk_client().with_options(max_retries=max_retries)
    options = FinalRequestOptions.construct(method="post", url="/responses")
    random.seed(11)  # the SDK draws from the random module's global generator
    sdk = [
        client._calculate_retry_timeout(max_retries - n, options, httpx2.Headers({}))
        for n in range(max_retries)
    ]
    assert delays(SDK_RETRY.schedule, max_retries, 11) == sdk
    retry_after = httpx2.Headers({"retry-after-ms": "1500"})
    assert client._calculate_retry_timeout(max_retries, options, retry_after) == 1.5
    assert SDK_RETRY.delay(1, retry_after) == 1.5  # slept exactly: no jitter


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (400, {}), (401, {}), (403, {}), (404, {}), (408, {}), (409, {}), (422, {}), (429, {}),
        (500, {}), (503, {}), (429, {"retry-after": "300"}), (429, {"retry-after": "120"}),
        (429, {"retry-after": "1e400"}), (429, {"retry-after": "inf"}),
        (400, {"x-should-retry": "true"}), (500, {"x-should-retry": "false"}),
        (429, {"retry-after": "300", "x-should-retry": "true"}),
    ],
    ids=repr,
)  # fmt: skip
def test_would_retry_matches_should_retry(status, headers):
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/responses")
    response = httpx2.Response(status, headers=headers, request=request)
    assert SDK_RETRY.would_retry(status, headers) == sdk_client()._should_retry(response)


# --- the policy --------------------------------------------------------------------------------


def caught(sim, *faults, **kwargs):
    """The exception the real SDK raises for the next scripted fault."""
    sim.queue_faults(list(faults), replace=True)
    client = sim.client(max_retries=0, **kwargs)
    try:
        client.responses.create(model=MODEL, input="hi", max_output_tokens=16)
    except openai.APIError as err:
        return err
    raise AssertionError("expected an error")


def test_policy_retries_only_transient_errors(sim):
    policy = RetryPolicy(3, schedule=no_jitter(exponential(1, 2, 60)), honour_retry_after=False)
    rng = random.Random(0)
    assert policy.delay_for(caught(sim, "server_error"), 1, rng) == 1.0
    assert policy.delay_for(caught(sim, "overloaded"), 2, rng) == 2.0
    assert policy.delay_for(caught(sim, "rate_limit"), 3, rng) == 4.0
    assert policy.delay_for(caught(sim, "rate_limit"), 4, rng) is None  # out of retries
    for permanent in ("quota", "auth", "bad_request", "context_length"):
        delay, reason = policy.decide(caught(sim, permanent), 1, rng)
        assert delay is None and "not transient" in reason


def test_policy_honours_retry_after_with_jitter_on_top(sim):
    policy = RetryPolicy(3, schedule=full_jitter(exponential(1, 2, 60)))
    err = caught(sim, "rate_limit")  # the simulator's scripted 429 says retry-after-ms: 100
    assert parse_retry_after(err.response.headers) == 0.1
    r = random.Random(5)
    assert policy.delay_for(err, 2, random.Random(5)) == 0.1 + r.uniform(0, 2)


def test_policy_gives_up_on_a_long_retry_after(make_sim):
    sim = make_sim(fault_retry_after_ms=300_000)
    err = caught(sim, "rate_limit")
    delay, reason = RetryPolicy(3).decide(err, 1, random.Random(0))
    assert delay is None and "above 120 s" in reason
    assert RetryPolicy(3, max_retry_after_s=600).delay_for(err, 1, random.Random(0)) >= 300


def test_policy_obeys_x_should_retry_false():
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/responses")
    response = httpx2.Response(500, headers={"x-should-retry": "false"}, request=request)
    err = openai.InternalServerError("boom", response=response, body=None)
    delay, reason = RetryPolicy(3).decide(err, 1, random.Random(0))
    assert delay is None and "x-should-retry" in reason


# --- retry_call: the real SDK, the real simulator, no real waiting -----------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_retry_call_waits_exact_delays_and_logs_one_line_per_decision(sim, caplog):
    sim.queue_faults(["server_error", "overloaded", "disconnect", None], replace=True)
    client = sim.client(max_retries=0)
    clock, waits = Clock(), []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    policy = RetryPolicy(4, schedule=full_jitter(exponential(1, 2, 60)))
    with caplog.at_level(logging.INFO, logger="course.retry"):
        response = retry_call(
            client.responses.create, model=MODEL, input="Why back off?", max_output_tokens=16,
            policy=policy, sleep=sleep, clock=clock, rng=random.Random(42),
        )  # fmt: skip
    assert response.status in ("completed", "incomplete")
    r = random.Random(42)
    assert waits == [r.uniform(0, 1), r.uniform(0, 2), r.uniform(0, 4)]
    outcomes = [rec.status for rec in sim.requests]
    assert outcomes == [500, 503, None, 200]  # None: the connection was dropped
    lines = [rec for rec in caplog.records if rec.name == "course.retry"]
    assert len(lines) == 3
    assert [rec.attempt for rec in lines] == [1, 2, 3]
    assert [rec.error_type for rec in lines] == ["server_error", "server_error", "connection"]
    assert lines[0].request_id and lines[0].request_id.startswith("req_")
    assert lines[2].elapsed_s == pytest.approx(waits[0] + waits[1], abs=1e-3)
    assert "retry 1 of 4 in" in lines[0].getMessage()


def test_retry_call_fails_fast_on_a_permanent_error(sim, caplog):
    sim.queue_faults(["quota"], replace=True)
    waits: list[float] = []
    with caplog.at_level(logging.INFO, logger="course.retry"), pytest.raises(openai.RateLimitError):
        retry_call(
            sim.client(max_retries=0).responses.create, model=MODEL, input="x",
            policy=RetryPolicy(4), sleep=waits.append, rng=random.Random(0),
        )  # fmt: skip
    assert waits == [] and len(sim.requests) == 1
    (line,) = [rec for rec in caplog.records if rec.name == "course.retry"]
    assert "giving up after attempt 1: quota is not transient" in line.getMessage()


def test_retry_call_reraises_the_last_error_after_max_retries(sim):
    sim.queue_faults(["server_error"] * 5, replace=True)
    waits: list[float] = []
    with pytest.raises(openai.InternalServerError):
        retry_call(
            sim.client(max_retries=0).responses.create, model=MODEL, input="x",
            policy=RetryPolicy(2, schedule=no_jitter(exponential(1, 2, 60))),
            sleep=waits.append,
        )  # fmt: skip
    assert waits == [1.0, 2.0] and len(sim.requests) == 3
    sim.clear_faults()


def test_retry_call_honours_retry_after_ms(sim):
    sim.queue_faults(["rate_limit", None], replace=True)
    waits: list[float] = []
    retry_call(
        sim.client(max_retries=0).responses.create, model=MODEL, input="x",
        policy=RetryPolicy(2, schedule=no_jitter(exponential(1, 2, 60))), sleep=waits.append,
    )  # fmt: skip
    assert waits == [0.1 + 1.0]


def test_retry_call_needs_a_policy():
    with pytest.raises(TypeError, match="policy must be a RetryPolicy"):
        retry_call(print, policy=None)  # type: ignore[arg-type]
