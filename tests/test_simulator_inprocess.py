"""One app served two ways: the same SDK calls over a socket and through the in-process
transports (``Simulator(serve=False)``) give the same answers, errors, headers and log."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import openai
import pytest

from course_simulator import Simulator
from course_simulator.server import IN_PROCESS_URL
from course_utils.pricing import DEFAULT_MODEL

WAYS = ("socket", "in-process")
PROMPT = "Explain what a rate limit is, in three sentences."
# Headers that differ between two runs whatever the transport: ids, and the buckets' refill.
VARYING = {"x-request-id", "date", "server", "x-ratelimit-reset-requests",
           "x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"}  # fmt: skip


def both(
    make_sim: Callable[..., Simulator], run: Callable[[Simulator], Any], **kwargs: Any
) -> list:
    """``run(sim)`` on a socket simulator and on an in-process one (same settings)."""
    return [run(make_sim(serve=way == "socket", **kwargs)) for way in WAYS]


def headers_of(response: httpx2.Response) -> dict[str, str]:
    kept = {k: v for k, v in response.headers.items() if k not in VARYING}
    kept.pop("connection", None)  # keep-alive framing is the socket's own business
    return kept


def test_in_process_binds_no_port_and_names_an_address_that_never_resolves(make_sim) -> None:
    sim = make_sim(serve=False)
    assert sim.base_url == IN_PROCESS_URL and sim.running
    with pytest.raises(openai.APIConnectionError):  # a client without its transport gets nowhere
        openai.OpenAI(api_key="k", base_url=sim.base_url, max_retries=0).models.list()


def test_a_normal_answer_is_the_same_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> tuple:
        raw = sim.client(max_retries=0).responses.with_raw_response.create(
            model=DEFAULT_MODEL, input=PROMPT
        )
        answer = raw.parse()
        rec = sim.requests[-1]
        return (answer.output_text, answer.usage.model_dump(), raw.status_code,
                headers_of(raw.http_response), (rec.path, rec.status, rec.outcome))  # fmt: skip

    socket_way, in_process = both(make_sim, run)
    assert socket_way == in_process
    assert in_process[0] and in_process[4] == ("/v1/responses", 200, "ok")


@pytest.mark.parametrize(
    "fault",
    ["rate_limit", "quota", "server_error", "overloaded", "bad_request", "auth", "context_length"],
)
def test_every_response_fault_is_the_same_reply_both_ways(make_sim, fault: str) -> None:
    def run(sim: Simulator) -> tuple:
        with pytest.raises(openai.APIStatusError) as info:
            sim.client(max_retries=0).responses.create(
                model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": fault}
            )
        err = info.value
        body = dict(err.body)  # type: ignore[arg-type]
        return type(err), err.status_code, body, headers_of(err.response)

    socket_way, in_process = both(make_sim, run)
    assert socket_way == in_process


def test_a_rate_limit_error_carries_its_retry_headers_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> dict[str, str]:
        with pytest.raises(openai.RateLimitError) as info:
            sim.client(max_retries=0).responses.create(
                model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": "rate_limit"}
            )
        return dict(info.value.response.headers)

    for headers in both(make_sim, run, fault_retry_after_ms=250):
        assert (headers["retry-after"], headers["retry-after-ms"]) == ("1", "250")
        assert headers["x-ratelimit-limit-requests"] and headers["x-request-id"].startswith("req_")


def test_the_sdk_retries_through_500s_the_same_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> tuple:
        sim.queue_faults(["server_error", "overloaded"])
        answer = sim.client(max_retries=2).responses.create(model=DEFAULT_MODEL, input=PROMPT)
        return answer.output_text, [(r.status, r.fault) for r in sim.requests]

    # Both ways at once: most of each is the SDK's own backoff (no retry-after on a 500 or 503).
    sims = [make_sim(serve=way == "socket") for way in WAYS]
    with ThreadPoolExecutor(len(sims)) as pool:
        socket_way, in_process = pool.map(run, sims)
    assert socket_way == in_process
    assert in_process[1] == [(500, "server_error"), (503, "overloaded"), (200, None)]


def test_a_stream_is_the_same_events_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> list[tuple[str, str]]:
        stream = sim.client(max_retries=0).responses.create(
            model=DEFAULT_MODEL, input=PROMPT, stream=True
        )
        return [(e.type, getattr(e, "delta", "")) for e in stream]

    socket_way, in_process = both(make_sim, run)
    assert socket_way == in_process
    assert in_process[-1][0] == "response.completed" and len(in_process) > 10


def test_a_cut_stream_raises_connection_error_in_the_loop_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> tuple[int, str]:
        stream = sim.client(max_retries=0).chat.completions.create(
            model=DEFAULT_MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True,
            extra_headers={"X-Sim-Fault": "stream_cut"},
        )  # fmt: skip
        seen = 0
        with pytest.raises(openai.APIConnectionError):
            for _ in stream:
                seen += 1
        return seen, sim.requests[-1].outcome

    socket_way, in_process = both(make_sim, run)
    assert socket_way == in_process
    assert in_process[0] > 1 and in_process[1] == "stream_cut"


@pytest.mark.parametrize("fault", ["disconnect", "stream_cut"])
def test_a_dropped_connection_is_a_connection_error_both_ways(make_sim, fault: str) -> None:
    def run(sim: Simulator) -> tuple[str, int | None]:
        with pytest.raises(openai.APIConnectionError) as info:
            sim.client(max_retries=0).responses.create(
                model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": fault}
            )
        return type(info.value).__name__, sim.requests[-1].status

    assert both(make_sim, run) == [("APIConnectionError", None)] * 2


def test_a_held_request_times_out_in_process_at_once(make_sim) -> None:
    sim = make_sim(serve=False, hold_max_s=30)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sim.client(max_retries=0).responses.create(
            model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": "timeout"}
        )
    assert time.monotonic() - started < 5  # not the 30 s hold, nor the SDK's 600 s timeout
    assert (sim.requests[-1].fault, sim.requests[-1].status) == ("timeout", None)


def test_a_reply_slower_than_the_read_timeout_times_out_in_process_without_waiting(
    make_sim,
) -> None:
    sim = make_sim(serve=False, latency_ms=20_000)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sim.client(max_retries=0, timeout=1.0).responses.create(model=DEFAULT_MODEL, input="hi")
    assert time.monotonic() - started < 5


def test_models_retrieve_and_the_log_agree_both_ways(make_sim) -> None:
    def run(sim: Simulator) -> tuple:
        client = sim.client(max_retries=0)
        found = client.models.retrieve(DEFAULT_MODEL).id
        with pytest.raises(openai.NotFoundError) as info:
            client.models.retrieve("no-such-model")
        return found, info.value.code, [(r.path, r.status) for r in sim.requests]

    socket_way, in_process = both(make_sim, run)
    assert socket_way == in_process


def test_the_async_sdk_client_gets_answers_streams_and_cuts(make_sim) -> None:
    sim = make_sim(serve=False)

    async def main() -> tuple[str, int, int]:
        client = sim.async_client(max_retries=0)
        answer = await client.responses.create(model=DEFAULT_MODEL, input=PROMPT)
        stream = await client.responses.create(model=DEFAULT_MODEL, input=PROMPT, stream=True)
        events = [event async for event in stream]
        cut = await client.responses.create(
            model=DEFAULT_MODEL, input=PROMPT, stream=True,
            extra_headers={"X-Sim-Fault": "stream_cut"},
        )  # fmt: skip
        seen = 0
        with pytest.raises(openai.APIConnectionError):
            async for _ in cut:
                seen += 1
        with pytest.raises(openai.RateLimitError):
            await client.responses.create(
                model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": "rate_limit"}
            )
        await client.close()
        return answer.output_text, len(events), seen

    text, n_events, seen = asyncio.run(main())
    assert text and n_events > 10 and 0 < seen < n_events
    assert [r.outcome for r in sim.requests] == ["ok", "ok", "stream_cut", "rate_limit"]


def test_the_async_transport_starts_no_thread(make_sim, monkeypatch) -> None:
    """A browser kernel has no threads: the transport answers, streams and cuts without one.
    (The SDK's own async client may use asyncio's executor; that is the SDK's business.)"""
    sim = make_sim(serve=False)

    def no_thread(self: threading.Thread) -> None:
        raise AssertionError(f"the in-process transport started a thread ({self.name})")

    async def main() -> tuple[int, int, str]:
        auth = {"Authorization": "Bearer k"}
        async with httpx2.AsyncClient(transport=sim.async_transport()) as client:
            url = f"{sim.base_url}/responses"
            answer = await client.post(url, json={"model": DEFAULT_MODEL, "input": "hi"},
                                       headers=auth)  # fmt: skip
            body = {"model": DEFAULT_MODEL, "input": PROMPT, "stream": True}
            async with client.stream("POST", url, json=body, headers=auth) as stream:
                events = [line async for line in stream.aiter_lines() if line.startswith("data")]
            cut_headers = {**auth, "X-Sim-Fault": "stream_cut"}
            with pytest.raises(httpx2.RemoteProtocolError) as cut:
                async with client.stream("POST", url, json=body, headers=cut_headers) as stream:
                    async for _ in stream.aiter_bytes():
                        pass
        return answer.status_code, len(events), str(cut.value)

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    status, n_events, cut = asyncio.run(main())
    assert status == 200 and n_events > 10 and "stream cut" in cut


def test_the_async_transport_waits_with_asyncio_sleep_never_blocking(make_sim, monkeypatch) -> None:
    """The latency and a stream's pacing are awaited on the loop; the blocking wait is unused."""
    from course_simulator import inprocess

    sim = make_sim(serve=False, latency_ms=40)
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    def blocking(seconds: float) -> None:
        raise AssertionError("the async transport must not block the loop")

    monkeypatch.setattr(inprocess.asyncio, "sleep", sleep)
    monkeypatch.setattr(sim, "pause", blocking)

    async def main() -> None:
        client = sim.async_client(max_retries=0)
        await client.responses.create(model=DEFAULT_MODEL, input="hi")
        stream = await client.responses.create(model=DEFAULT_MODEL, input="hi", stream=True)
        async for _ in stream:
            pass
        await client.close()

    asyncio.run(main())
    assert slept[0] == pytest.approx(0.04)  # the JSON reply's latency
    assert sum(s > 0 for s in slept[1:]) >= 1  # the stream's time to first token
