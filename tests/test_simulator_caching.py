"""Prompt caching: the rules on their own (a fake clock), then through the real SDK.

Below 1,024 tokens nothing is cached; cached tokens come in steps of 128 and never exceed the
shared prefix; one changed early token and nothing matches; entries expire after inactivity;
API keys, models and ``prompt_cache_key`` values never share entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from course_simulator import Simulator
from course_simulator.prompt_cache import (
    CACHE_STEP_TOKENS,
    DEFAULT_TTL_S,
    MIN_CACHED_TOKENS,
    PromptCache,
    cacheable_tokens,
    prompt_token_ids,
)
from course_utils.pricing import DEFAULT_MODEL, estimate_cost, get_model
from course_utils.tokens import count_message_tokens, count_request_input

# About 1,600 tokens of fixed instructions (a support handbook), the same in every request.
HANDBOOK = " ".join(
    f"Rule {i}: answer questions about order {i} politely, quote the policy section, and never "
    "promise a refund before the billing team has checked the account."
    for i in range(1, 61)
)
QUESTIONS = ("How do I reset my password?", "Can I change my billing date?", "Why was I charged?")


# --- the rules, with a fake clock -----------------------------------------------------------


@pytest.mark.parametrize(
    ("shared", "cached"),
    [(0, 0), (1023, 0), (1024, 1024), (1151, 1024), (1152, 1152), (1300, 1280), (5000, 4992)],
)
def test_cached_tokens_come_in_steps_of_128_from_1024(shared: int, cached: int) -> None:
    assert cacheable_tokens(shared) == cached
    assert cached <= shared and (cached == 0 or (cached - MIN_CACHED_TOKENS) % 128 == 0)


def ids(n: int, start: int = 0) -> list[int]:
    return list(range(start, start + n))


def test_below_1024_tokens_nothing_is_cached(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    assert cache.serve(("k",), ids(1023)) == 0
    assert cache.serve(("k",), ids(1023)) == 0
    assert len(cache) == 0


@pytest.mark.parametrize("shared", [1024, 1100, 1152, 1500, 3000])
def test_a_shared_prefix_is_served_on_the_128_grid(fake_clock: Any, shared: int) -> None:
    cache = PromptCache(fake_clock)
    assert cache.serve(("k",), ids(shared) + ids(400, start=10_000)) == 0
    second = ids(shared) + ids(400, start=20_000)  # same prefix, different question
    assert cache.serve(("k",), second) == cacheable_tokens(shared)


def test_the_same_request_twice_is_served_up_to_its_last_full_step(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    cache.serve(("k",), ids(2000))
    assert cache.serve(("k",), ids(2000)) == 1024 + 7 * CACHE_STEP_TOKENS  # 1,920 of 2,000


def test_a_changed_first_token_means_no_hit(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    cache.serve(("k",), ids(3000))
    changed = ids(3000)
    changed[0] = -99  # e.g. a timestamp at the top of the prompt
    assert cache.serve(("k",), changed) == 0
    late = ids(3000)
    late[1500] = -99  # a change after 1,500 tokens keeps the blocks before it
    assert cache.serve(("k",), late) == 1408


def test_entries_expire_after_inactivity_and_hits_renew_them(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    cache.serve(("k",), ids(1500))
    fake_clock.advance(DEFAULT_TTL_S - 1)
    assert cache.serve(("k",), ids(1500)) == 1408  # a hit renews the entry...
    fake_clock.advance(DEFAULT_TTL_S - 1)
    assert cache.serve(("k",), ids(1500)) == 1408  # ...so it outlives its first window
    fake_clock.advance(DEFAULT_TTL_S + 1)
    assert cache.serve(("k",), ids(1500)) == 0  # idle too long: gone (and written again)
    assert cache.serve(("k",), ids(1500)) == 1408


def test_a_longer_retention_outlives_the_default_window(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    cache.serve(("k",), ids(1500), ttl_s=24 * 3600)
    fake_clock.advance(3600)
    assert cache.serve(("k",), ids(1500)) == 1408


def test_scopes_never_share_entries(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock)
    cache.serve(("key-a", DEFAULT_MODEL, None), ids(2000))
    assert cache.serve(("key-b", DEFAULT_MODEL, None), ids(2000)) == 0
    assert cache.serve(("key-a", "gpt-5.4", None), ids(2000)) == 0
    assert cache.serve(("key-a", DEFAULT_MODEL, "tenant-1"), ids(2000)) == 0
    assert cache.serve(("key-a", DEFAULT_MODEL, None), ids(2000)) == 1920


def test_the_cache_is_bounded_and_forgets_the_oldest(fake_clock: Any) -> None:
    cache = PromptCache(fake_clock, max_blocks=4)
    cache.serve(("k",), ids(1024 + 3 * 128))  # 4 blocks
    cache.serve(("other",), ids(1024))  # 1 more: the oldest block goes
    assert len(cache) == 4
    assert cache.serve(("k",), ids(1024 + 3 * 128)) == 0  # its first block was evicted
    with pytest.raises(ValueError, match="max_blocks"):
        PromptCache(fake_clock, max_blocks=0)


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "hi"}],
        [{"role": "developer", "content": HANDBOOK}, {"role": "user", "content": "Why?"}],
        [{"role": "user", "name": "ana", "content": [{"type": "text", "text": "a"}, "b"]}],
        [{"role": "assistant", "content": None}, {"role": "user", "content": "🧪 café"}],
    ],
)
def test_the_token_sequence_is_as_long_as_the_billed_input(messages: list) -> None:
    assert len(prompt_token_ids(messages, DEFAULT_MODEL)) == count_message_tokens(
        messages, DEFAULT_MODEL
    )


# --- through the real SDK ---------------------------------------------------------------------


@pytest.fixture
def client(sim: Simulator) -> Iterator[openai.OpenAI]:
    c = sim.client(max_retries=0)
    yield c
    c.close()


def cached_of(response: Any) -> int:
    if hasattr(response.usage, "input_tokens_details"):
        return int(response.usage.input_tokens_details.cached_tokens)
    return int(response.usage.prompt_tokens_details.cached_tokens)


def ask(client: openai.OpenAI, question: str, **kwargs: Any) -> Any:
    return client.responses.create(
        model=DEFAULT_MODEL, instructions=HANDBOOK, input=question, max_output_tokens=40,
        **kwargs,
    )  # fmt: skip


def test_stable_first_requests_hit_the_cache(client: openai.OpenAI) -> None:
    first, *rest = (ask(client, q) for q in QUESTIONS)
    assert first.usage.input_tokens > MIN_CACHED_TOKENS
    assert cached_of(first) == 0
    shared = count_request_input({"model": DEFAULT_MODEL, "instructions": HANDBOOK, "input": ""})
    for r in rest:
        # shared: the instructions message and the user message up to its text (not its end
        # marker or the 3 reply-primer tokens that follow the text)
        assert cached_of(r) == cacheable_tokens(shared - 4) > 0
        assert cached_of(r) <= r.usage.input_tokens
        assert r.usage.input_tokens_details.cache_write_tokens == 0


def test_dynamic_first_requests_never_hit(client: openai.OpenAI) -> None:
    for q in QUESTIONS:
        r = client.responses.create(model=DEFAULT_MODEL, input=f"{q}\n\n{HANDBOOK}")
        assert cached_of(r) == 0


def test_a_short_prompt_reports_zero(client: openai.OpenAI) -> None:
    for _ in range(2):
        assert cached_of(client.responses.create(model=DEFAULT_MODEL, input="Say hi.")) == 0


def test_chat_reports_cached_tokens_too(client: openai.OpenAI) -> None:
    def chat(q: str) -> Any:
        messages = [{"role": "system", "content": HANDBOOK}, {"role": "user", "content": q}]
        return client.chat.completions.create(model=DEFAULT_MODEL, messages=messages)

    assert cached_of(chat(QUESTIONS[0])) == 0
    assert cached_of(chat(QUESTIONS[1])) >= MIN_CACHED_TOKENS


def test_a_streamed_request_reports_cached_tokens_in_its_last_event(
    client: openai.OpenAI,
) -> None:
    ask(client, QUESTIONS[0])
    events = list(
        client.responses.create(
            model=DEFAULT_MODEL, instructions=HANDBOOK, input=QUESTIONS[1], stream=True
        )
    )
    assert events[-1].response.usage.input_tokens_details.cached_tokens >= 1024  # type: ignore[union-attr]


def test_api_keys_never_share_a_cache(sim: Simulator) -> None:
    a = sim.client(api_key="key-a", max_retries=0)
    b = sim.client(api_key="key-b", max_retries=0)
    ask(a, QUESTIONS[0])
    assert cached_of(ask(b, QUESTIONS[1])) == 0
    assert cached_of(ask(a, QUESTIONS[2])) > 0


def test_prompt_cache_key_isolates_and_is_echoed(client: openai.OpenAI) -> None:
    first = ask(client, QUESTIONS[0], prompt_cache_key="tenant-1")
    assert first.prompt_cache_key == "tenant-1"
    assert cached_of(ask(client, QUESTIONS[1], prompt_cache_key="tenant-2")) == 0
    assert cached_of(ask(client, QUESTIONS[1])) == 0  # no key meets only no key
    assert cached_of(ask(client, QUESTIONS[2], prompt_cache_key="tenant-1")) > 0


def test_another_model_has_its_own_cache(client: openai.OpenAI) -> None:
    ask(client, QUESTIONS[0])
    other = client.responses.create(model="gpt-5.4-nano", instructions=HANDBOOK, input="Why?")
    assert cached_of(other) == 0


def test_expiry_follows_the_simulators_clock(make_sim: Any, fake_clock: Any) -> None:
    sim = make_sim(clock=fake_clock)
    client = sim.client(max_retries=0)
    ask(client, QUESTIONS[0])
    fake_clock.advance(DEFAULT_TTL_S + 1)
    assert cached_of(ask(client, QUESTIONS[1])) == 0
    assert cached_of(ask(client, QUESTIONS[2])) > 0
    ask(client, QUESTIONS[0], prompt_cache_retention="24h")
    fake_clock.advance(3600)
    assert cached_of(ask(client, QUESTIONS[1])) > 0  # the 24 h retention kept it
    ask(client, QUESTIONS[0], prompt_cache_options={"ttl": "12h"})
    fake_clock.advance(3 * 3600)
    assert cached_of(ask(client, QUESTIONS[1])) > 0


def test_reset_clears_the_cache(sim: Simulator, client: openai.OpenAI) -> None:
    ask(client, QUESTIONS[0])
    sim.reset()
    assert cached_of(ask(client, QUESTIONS[1])) == 0


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"prompt_cache_key": 7}, "prompt_cache_key"),
        ({"prompt_cache_retention": "1h"}, "prompt_cache_retention"),
        ({"prompt_cache_options": "30m"}, "prompt_cache_options"),
        ({"prompt_cache_options": {"ttl": "1h"}}, "prompt_cache_options.ttl"),
        ({"prompt_cache_options": {"mode": "auto"}}, "prompt_cache_options.mode"),
        ({"prompt_cache_options": {"prewarm": True}}, "prompt_cache_options.prewarm"),
    ],
)
def test_bad_cache_parameters_get_the_service_400(
    client: openai.OpenAI, extra: dict, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=DEFAULT_MODEL, input="hi", extra_body=extra)
    assert info.value.param == param


def test_explicit_mode_without_breakpoints_uses_no_cache(client: openai.OpenAI) -> None:
    options = {"mode": "explicit"}
    ask(client, QUESTIONS[0], prompt_cache_options=options)
    assert cached_of(ask(client, QUESTIONS[1], prompt_cache_options=options)) == 0


def test_a_cached_prefix_lowers_the_simulated_latency(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_sim(latency_scale=1.0)
    pauses: list[float] = []
    monkeypatch.setattr(sim, "pause", pauses.append)
    client = sim.client(max_retries=0)
    cold, warm = ask(client, QUESTIONS[0]), ask(client, QUESTIONS[0])
    assert cached_of(cold) == 0 and cached_of(warm) > 0
    assert cold.usage == warm.usage.model_copy(
        update={"input_tokens_details": cold.usage.input_tokens_details}
    )
    assert pauses[1] < pauses[0]
    saved = pauses[0] - pauses[1]
    per_input_token_s = 0.04 * 0.006  # gpt-5.4-mini: 4% of its 6 ms per output token
    assert saved == pytest.approx(0.9 * cached_of(warm) * per_input_token_s)


def test_cost_uses_the_catalogues_cached_price() -> None:
    info = get_model(DEFAULT_MODEL)
    cost = estimate_cost(DEFAULT_MODEL, 2000, 100, cached_input_tokens=1536)
    expected = (464 * info.input + 1536 * info.cached_input + 100 * info.output) / 1e6
    assert cost == pytest.approx(expected)
    assert cost < estimate_cost(DEFAULT_MODEL, 2000, 100)
