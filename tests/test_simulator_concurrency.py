"""Many threads at once: no corrupted answers, and the buckets count every request exactly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import openai

from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import count_message_tokens

THREADS = 16
PROMPTS = [f"Explain topic number {i} in {1 + i % 3} sentences." for i in range(THREADS)]


def test_parallel_answers_are_intact_and_counted(make_sim, fake_clock) -> None:
    sim = make_sim(rpm=10_000, tpm=10_000_000, clock=fake_clock)  # clock frozen: no refill
    client = sim.client(max_retries=0)
    expected = {
        p: client.responses.create(model=DEFAULT_MODEL, input=p).output_text for p in PROMPTS
    }
    sim.reset()
    per_thread = 8

    def work(i: int) -> list[tuple[str, str, int]]:
        prompt = PROMPTS[i]
        out = []
        for _ in range(per_thread):
            r = client.responses.create(model=DEFAULT_MODEL, input=prompt, max_output_tokens=64)
            out.append((prompt, r.output_text, r.usage.input_tokens))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        results = [x for chunk in pool.map(work, range(THREADS)) for x in chunk]
    assert len(results) == THREADS * per_thread
    reserved = 0
    for prompt, text, input_tokens in results:
        assert expected[prompt].startswith(text)
        assert input_tokens == count_message_tokens([{"role": "user", "content": prompt}])
        reserved += input_tokens + 64
    h = client.models.with_raw_response.list().headers
    assert h["x-ratelimit-remaining-requests"] == str(10_000 - THREADS * per_thread)
    assert h["x-ratelimit-remaining-tokens"] == str(10_000_000 - reserved)
    assert len(sim.requests) == THREADS * per_thread + 1
    assert len({r.request_id for r in sim.requests}) == len(sim.requests)


def test_oversubscribed_bucket_admits_exactly_its_capacity(make_sim, fake_clock) -> None:
    sim = make_sim(rpm=50, clock=fake_clock)
    client = sim.client(max_retries=0)

    def one(_: int) -> str:
        try:
            client.responses.create(model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=16)
            return "ok"
        except openai.RateLimitError:
            return "429"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(one, range(80)))
    assert outcomes.count("ok") == 50
    assert outcomes.count("429") == 30
    assert sorted(r.status for r in sim.requests) == [200] * 50 + [429] * 30
