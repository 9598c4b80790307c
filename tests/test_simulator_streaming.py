"""Streaming (``stream: true``) through the real SDK: every event parses, the text and usage
equal the non-streamed call, limits and faults come before the stream, ``stream_cut`` breaks
it half-way, and the deltas are paced by the model's latency profile (read from recorded
pauses, never waited for)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pydantic
import pytest
from conftest import warnings_as_errors
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

from course_simulator import Simulator
from course_simulator.endpoints import event_stream
from course_utils.pricing import DEFAULT_MODEL

QUESTION = "Explain API rate limits for a beginner in 3 bullet points, under 60 words."
LONG = "Write a comprehensive, detailed explanation of how tokens work in language models."
MESSAGES = [{"role": "user", "content": QUESTION}]
EVENTS = pydantic.TypeAdapter(ResponseStreamEvent)

# (request settings, the output item types, final event): a plain answer; hidden reasoning
# first; a cut answer; a cap that reasoning uses up before any text.
CASES = [
    pytest.param({}, ["message"], "response.completed", id="plain"),
    pytest.param(
        {"reasoning": {"effort": "medium"}}, ["reasoning", "message"], "response.completed",
        id="reasoning",
    ),
    pytest.param(
        {"max_output_tokens": 20, "reasoning": {"effort": "none"}}, ["message"],
        "response.incomplete", id="cut-at-cap",
    ),
    pytest.param(
        {"max_output_tokens": 16, "reasoning": {"effort": "high"}}, ["reasoning"],
        "response.incomplete", id="reasoning-uses-the-cap",
    ),
]  # fmt: skip


@pytest.fixture
def client(sim: Simulator) -> Iterator[openai.OpenAI]:
    c = sim.client(max_retries=0)
    yield c
    c.close()


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings_as_errors():
        yield


# --- Responses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "item_types", "final"), CASES)
def test_responses_stream_parses_and_equals_the_json_reply(
    client: openai.OpenAI, no_warnings: None, settings: dict, item_types: list, final: str
) -> None:
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG, **settings)
    events = list(client.responses.create(model=DEFAULT_MODEL, input=LONG, stream=True, **settings))
    for event in events:  # strict: each event validates against the SDK's own union
        EVENTS.validate_python(event.to_dict())
    assert [e.sequence_number for e in events] == list(range(len(events)))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == final
    assert kinds.count("response.output_item.added") == len(item_types)
    assert kinds.count("response.output_item.done") == len(item_types)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == whole.output_text
    last = events[-1].response  # type: ignore[union-attr]
    assert [item.type for item in last.output] == item_types
    assert last.output_text == whole.output_text
    assert last.usage == whole.usage  # the spend guard can settle a stream from this event
    assert last.status == whole.status
    assert last.incomplete_details == whole.incomplete_details
    created = events[0].response  # type: ignore[union-attr]
    assert (created.status, created.output, created.usage) == ("in_progress", [], None)
    assert created.id == last.id
    if "message" in item_types:
        done = next(e for e in events if e.type == "response.output_text.done")
        assert done.text == whole.output_text  # type: ignore[union-attr]


def test_the_stream_helper_gives_the_final_response(
    client: openai.OpenAI, no_warnings: None
) -> None:
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG)
    with client.responses.stream(model=DEFAULT_MODEL, input=LONG) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == whole.output_text
    assert final.usage == whole.usage
    assert final.status == "completed"


def test_the_stream_helper_on_a_cut_answer_ends_with_response_incomplete(
    client: openai.OpenAI, no_warnings: None
) -> None:
    """As live: the helper's get_final_response() wants response.completed, so a capped
    stream is read from its response.incomplete event."""
    kwargs: dict[str, Any] = {"model": DEFAULT_MODEL, "input": LONG, "max_output_tokens": 20}
    with client.responses.stream(**kwargs) as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details.reason == "max_output_tokens"  # type: ignore[union-attr]
    assert last.response.usage.output_tokens == 20  # type: ignore[union-attr]


def test_a_strict_client_validates_every_event(sim: Simulator, no_warnings: None) -> None:
    strict = sim.client(max_retries=0, _strict_response_validation=True)
    events = list(strict.responses.create(model=DEFAULT_MODEL, input=QUESTION, stream=True))
    assert events[-1].type == "response.completed"
    chunks = list(strict.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES,
                                                 stream=True))  # fmt: skip
    assert chunks[-1].choices[0].finish_reason == "stop"
    strict.close()


def test_the_wire_format(sim: Simulator) -> None:
    """event: + data: pairs for Responses; data: lines and [DONE] for Chat; chunked, with the
    rate-limit headers and a request id on the stream's response."""
    headers = {"Authorization": "Bearer sk-course-key-abcdef"}
    body = {"model": DEFAULT_MODEL, "input": QUESTION, "stream": True}
    r = httpx2.post(f"{sim.base_url}/responses", json=body, headers=headers)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.headers["x-request-id"].startswith("req_")
    assert "x-ratelimit-remaining-requests" in r.headers
    frames = r.text.split("\n\n")
    assert frames[0].startswith("event: response.created\ndata: {")
    assert frames[-2].startswith("event: response.completed\n")
    assert "[DONE]" not in r.text
    body = {"model": DEFAULT_MODEL, "messages": MESSAGES, "stream": True}
    r = httpx2.post(f"{sim.base_url}/chat/completions", json=body, headers=headers)
    frames = [f for f in r.text.split("\n\n") if f]
    assert all(f.startswith("data: ") for f in frames)
    assert frames[-1] == "data: [DONE]"
    assert "event:" not in r.text


# --- Chat Completions -------------------------------------------------------------------------


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("cap", [None, 12])
def test_chat_stream_equals_the_json_reply(
    client: openai.OpenAI, no_warnings: None, include_usage: bool, cap: int | None
) -> None:
    kwargs: dict[str, Any] = {"model": DEFAULT_MODEL, "messages": MESSAGES}
    if cap:
        kwargs["max_completion_tokens"] = cap
    whole = client.chat.completions.create(**kwargs)
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(client.chat.completions.create(stream=True, **kwargs, **options))
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.to_dict())
        assert chunk.object == "chat.completion.chunk" and chunk.id == chunks[0].id
    choices = [c.choices[0] for c in chunks if c.choices]
    assert choices[0].delta.role == "assistant"
    assert "".join(c.delta.content or "" for c in choices) == whole.choices[0].message.content
    assert choices[-1].finish_reason == whole.choices[0].finish_reason
    assert all(c.finish_reason is None for c in choices[:-1])
    if include_usage:
        assert chunks[-1].choices == []
        assert chunks[-1].usage == whole.usage
        assert all(c.usage is None for c in chunks[:-1])
    else:
        assert all(c.usage is None and c.choices for c in chunks)


# --- before the stream: parameters, limits, faults ---------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "extra", "param"),
    [
        ("responses", {"stream_options": {"include_obfuscation": False}}, "stream_options"),
        ("responses", {"stream": True, "stream_options": {"include_usage": True}},
         "stream_options.include_usage"),
        ("chat", {"stream": True, "stream_options": {"include_usage": "yes"}},
         "stream_options.include_usage"),
        ("chat", {"stream": True, "stream_options": []}, "stream_options"),
        ("chat", {"stream": "true"}, "stream"),
    ],
)  # fmt: skip
def test_bad_stream_parameters_get_the_service_400(
    client: openai.OpenAI, endpoint: str, extra: dict, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        if endpoint == "chat":
            client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES,
                                           extra_body=extra)  # fmt: skip
        else:
            client.responses.create(model=DEFAULT_MODEL, input="hi", extra_body=extra)
    assert info.value.param == param


def test_a_rate_limit_is_raised_before_the_stream_starts(make_sim: Any) -> None:
    sim = make_sim(rpm=1)
    client = sim.client(max_retries=0)
    list(client.responses.create(model=DEFAULT_MODEL, input=QUESTION, stream=True))
    with pytest.raises(openai.RateLimitError):  # from create(): no stream object to iterate
        client.responses.create(model=DEFAULT_MODEL, input=QUESTION, stream=True)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES, stream=True)


@pytest.mark.parametrize("fault", ["server_error", "quota", "bad_request"])
def test_a_fault_is_raised_before_the_stream_starts(
    sim: Simulator, client: openai.OpenAI, fault: str
) -> None:
    sim.queue_faults([fault])
    with pytest.raises(openai.APIStatusError):
        client.responses.create(model=DEFAULT_MODEL, input=QUESTION, stream=True)
    assert [r.fault for r in sim.requests] == [fault]


# --- stream_cut: an error half-way -------------------------------------------------------------


def test_stream_cut_raises_in_the_learners_loop_after_some_text(
    sim: Simulator, no_warnings: None
) -> None:
    client = sim.client()  # the SDK's default two retries: they cannot help once iterating
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG).output_text
    sim.reset()
    sim.queue_faults(["stream_cut"])
    received = ""
    stream = client.responses.create(model=DEFAULT_MODEL, input=LONG, stream=True)
    with pytest.raises(openai.APIConnectionError):
        for event in stream:
            if event.type == "response.output_text.delta":
                received += event.delta
    assert 0 < len(received) < len(whole) and whole.startswith(received)
    [record] = sim.requests  # one request: the SDK did not (and could not) retry it
    assert (record.status, record.outcome, record.fault) == (200, "stream_cut", "stream_cut")
    assert record.output_tokens and record.input_tokens  # the whole answer was billed
    client.close()


def test_stream_cut_on_chat(sim: Simulator, client: openai.OpenAI) -> None:
    sim.queue_faults(["stream_cut"])
    got: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(
            model=DEFAULT_MODEL, messages=MESSAGES, stream=True
        ):
            got.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(got)
    follow = client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES)
    assert follow.choices[0].message.content.startswith("".join(got))


def test_stream_cut_on_a_json_reply_drops_it_and_the_sdk_retries(sim: Simulator) -> None:
    sim.queue_faults(["stream_cut"])
    client = sim.client(max_retries=1)
    response = client.responses.create(model=DEFAULT_MODEL, input=QUESTION)
    assert response.status == "completed"
    assert [r.outcome for r in sim.requests] == ["stream_cut", "ok"]
    client.close()


def test_a_client_that_stops_reading_early_leaves_the_server_clean(
    sim: Simulator, client: openai.OpenAI
) -> None:
    stream = client.responses.create(model=DEFAULT_MODEL, input=LONG, stream=True)
    for i, _event in enumerate(stream):
        if i == 3:
            break
    stream.close()
    assert client.responses.create(model=DEFAULT_MODEL, input="Say hi.").status == "completed"


def test_a_simulator_bug_mid_stream_is_recorded_and_cuts_the_stream(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_simulator.endpoints import chat

    def broken(text: str, model: str) -> list[tuple[str, int]]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(chat, "deltas", broken)
    sim = make_sim()
    client = sim.client(max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES, stream=True))
    assert "ZeroDivisionError" in sim.server_errors[-1]
    sim.server_errors.clear()


# --- pacing ---------------------------------------------------------------------------------------


def _paced(sim: Simulator, monkeypatch: pytest.MonkeyPatch, clock: Any = None) -> list[float]:
    """Record each pause instead of waiting; a fake ``clock`` moves on by the pause."""
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if clock is not None:
            clock.advance(max(seconds, 0.0))

    monkeypatch.setattr(sim, "pause", pause)
    return pauses


def test_deltas_are_paced_by_the_profile_and_add_up_to_the_json_latency(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch, fake_clock: Any
) -> None:
    sim = make_sim(latency_scale=1.0, clock=fake_clock)  # the stream's schedule, never late
    pauses = _paced(sim, monkeypatch, fake_clock)
    client = sim.client(max_retries=0)
    whole = client.responses.create(model="gpt-5.4", input=LONG, reasoning={"effort": "none"})
    [json_wait] = pauses
    pauses.clear()
    events = list(client.responses.create(model="gpt-5.4", input=LONG, stream=True,
                                          reasoning={"effort": "none"}))  # fmt: skip
    n_deltas = sum(e.type == "response.output_text.delta" for e in events)
    assert len(pauses) == 1 + n_deltas  # before the first output item, then before each delta
    assert sum(pauses) == pytest.approx(json_wait)
    assert json_wait == pytest.approx(
        sim.latency_s("gpt-5.4", whole.usage.output_tokens, input_tokens=whole.usage.input_tokens)
    )
    time_to_first_token = pauses[0] + pauses[1]
    assert time_to_first_token == pytest.approx(
        0.450 + 0.014 + 0.04 * 0.014 * whole.usage.input_tokens
    )
    assert time_to_first_token < 0.2 * sum(pauses)  # a long answer: most of the time is after it


def test_reasoning_time_comes_before_the_first_token(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch, fake_clock: Any
) -> None:
    sim = make_sim(latency_scale=1.0, clock=fake_clock)
    pauses = _paced(sim, monkeypatch, fake_clock)
    client = sim.client(max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-5.4", messages=MESSAGES, stream=True, reasoning_effort="high",
        stream_options={"include_usage": True},
    )  # fmt: skip
    events = list(stream)
    usage = events[-1].usage
    assert usage is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert pauses[0] >= 0.014 * reasoning + 0.450
    assert sum(pauses) == pytest.approx(
        sim.latency_s("gpt-5.4", usage.completion_tokens, input_tokens=usage.prompt_tokens)
    )


def test_a_request_can_ask_for_the_catalogue_latency(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch, fake_clock: Any
) -> None:
    sim = make_sim(clock=fake_clock)
    client = sim.client(max_retries=0)
    pauses = _paced(sim, monkeypatch, fake_clock)
    client.responses.create(model=DEFAULT_MODEL, input=QUESTION)
    assert pauses == [0]  # latency_scale 0: no latency
    pauses.clear()
    list(client.responses.create(model=DEFAULT_MODEL, input=QUESTION, stream=True,
                                 extra_headers={"X-Sim-Latency-Scale": "1"}))  # fmt: skip
    assert pauses[0] > 0.25  # gpt-5.4-mini: 250 ms to the first token, 6 ms per token after it
    assert all(p > 0 and abs(p / 0.006 - round(p / 0.006)) < 1e-9 for p in pauses[1:])
    with pytest.raises(openai.BadRequestError, match="X-Sim-Latency-Scale"):
        client.responses.create(model=DEFAULT_MODEL, input=QUESTION,
                                extra_headers={"X-Sim-Latency-Scale": "fast"})  # fmt: skip


# --- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "Hello, world!", "Emoji 🧪🦜 and accents: café, naïve.", "a" * 500]
)
def test_deltas_join_to_the_text_and_count_its_tokens(text: str) -> None:
    from course_utils.tokens import count_tokens

    pieces = event_stream.deltas(text, DEFAULT_MODEL)
    assert "".join(p for p, _ in pieces) == text
    assert sum(n for _, n in pieces) == count_tokens(text, DEFAULT_MODEL)
    assert all(p and n >= 1 for p, n in pieces)


@pytest.mark.parametrize(("n", "cut"), [(0, 0), (1, 1), (2, 1), (3, 1), (10, 5), (101, 50)])
def test_stream_cut_point(n: int, cut: int) -> None:
    assert event_stream.cut_point(n) == cut


def test_a_stream_keeps_to_its_schedule_when_writing_is_slow(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch, fake_clock: Any
) -> None:
    """Each wait ends when it is due on the clock, so time spent writing events is not added."""
    sim = make_sim(latency_scale=1.0, clock=fake_clock)
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        fake_clock.advance(max(seconds, 0) + 0.010)  # every event costs 10 ms to write

    monkeypatch.setattr(sim, "pause", pause)
    client = sim.client(max_retries=0)
    list(client.responses.create(model="gpt-5.4", input=LONG, stream=True))
    assert all(p <= 0.014 for p in pauses[2:])  # late after each write: shorter waits
    assert sum(max(p, 0) for p in pauses) < 0.450 + 0.014 * 300


def test_the_chat_stream_helper_and_a_reasoning_stream_helper(
    client: openai.OpenAI, no_warnings: None
) -> None:
    whole = client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES)
    with client.chat.completions.stream(
        model=DEFAULT_MODEL, messages=MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == whole.choices[0].message.content
    assert final.usage == whole.usage
    settings: dict[str, Any] = {"model": "gpt-5.4", "input": QUESTION,
                                "reasoning": {"effort": "high"}}  # fmt: skip
    plain = client.responses.create(**settings)
    with client.responses.stream(**settings) as events:
        streamed = events.get_final_response()
    assert [o.type for o in streamed.output] == ["reasoning", "message"]
    assert streamed.output_text == plain.output_text and streamed.usage == plain.usage
