"""``POST /v1/responses``: the Responses API's answer object, whole or as a stream of events.

With ``stream: true`` the answer arrives as the service's server-sent events, each with an
``event:`` line and a ``sequence_number``: ``response.created``, ``response.in_progress``, then
per output item ``response.output_item.added`` (a reasoning item first when hidden reasoning
was spent, as in the non-streamed ``output``), for the message ``response.content_part.added``,
``response.output_text.delta`` (one per token), ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``; last ``response.completed`` or
``response.incomplete``, carrying the same response object (``usage`` included) a non-streamed
request gets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import count

from ..model import Answer
from ..params import (
    RESPONSES_MIN_OUTPUT_TOKENS,
    check_responses_input,
    check_temperature,
    model_param,
    output_cap,
)
from ..prompt_cache import cache_settings
from ..protocol import Call, Host, Reply, StreamCut, new_id
from .event_stream import Pacer, cut_point, deltas, sse, stream_settings
from .generation import Served, deliver, serve

__all__ = ["create", "output_items", "stream_events", "usage"]


def usage(result: Answer, cached_tokens: int = 0) -> dict:
    """The Responses ``usage`` object (exact tiktoken counts; cached tokens from the cache)."""
    return {
        "input_tokens": result.input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        "output_tokens": result.output_tokens,
        "output_tokens_details": {"reasoning_tokens": result.reasoning_tokens},
        "total_tokens": result.input_tokens + result.output_tokens,
    }


def output_items(result: Answer, status: str) -> list[dict]:
    """The ``output`` list: a reasoning item when hidden reasoning was spent, then the message
    (none when the cap ran out during reasoning, as on the service: ``output_text`` is "")."""
    items: list[dict] = []
    if result.reasoning_tokens:
        items.append({"type": "reasoning", "id": new_id("rs_"), "summary": []})
    if result.text or not result.truncated:
        text = {"type": "output_text", "text": result.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": new_id("msg_"),
                "status": status,
                "role": "assistant",
                "content": [text],
            }
        )
    return items


def create(host: Host, call: Call) -> Reply:
    """POST /v1/responses."""
    body = call.body
    model = model_param(body)
    check_responses_input(body)
    streaming = stream_settings(body, "responses")
    cache = cache_settings(body)
    cap = output_cap(body, "max_output_tokens", RESPONSES_MIN_OUTPUT_TOKENS, model)
    check_temperature(body)
    text_cfg = body.get("text")
    fmt = text_cfg.get("format") if isinstance(text_cfg, dict) else None
    served = serve(host, call, model, "responses", cap, fmt, "input", cache=cache)
    result = served.result
    status = "incomplete" if result.truncated else "completed"
    out = {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if result.truncated else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": cap,
        "metadata": body.get("metadata") or {},
        "model": model,
        "output": output_items(result, status),
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": cache.key,
        "prompt_cache_retention": body.get("prompt_cache_retention"),
        "reasoning": {"effort": result.reasoning_effort, "summary": None},
        "service_tier": "default",
        "store": False,
        "temperature": body.get("temperature", 1.0),
        "text": {
            "format": fmt if isinstance(fmt, dict) else {"type": "text"},
            "verbosity": result.verbosity,
        },
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage(result, served.cached_tokens),
        "user": None,
    }
    cut = call.fault == "stream_cut"
    events = stream_events(host, out, served, cut=cut) if streaming.stream else None
    return deliver(served, out, events, cut=cut)


def stream_events(
    host: Host, response: dict, served: Served, *, cut: bool = False
) -> Iterator[bytes | float]:
    """The event stream of ``response`` (the finished object), paced by ``served``'s timing.

    ``created`` and ``in_progress`` go at once (they carry the response so far: no output, no
    usage); the first output item waits the time to first token, each text delta the time of
    its tokens. With ``cut`` the stream stops (``StreamCut``) after about half the deltas.
    """
    numbers = count()

    def event(kind: str, **fields: object) -> bytes:
        return sse({"type": kind, **fields, "sequence_number": next(numbers)}, kind)

    start = {**response, "status": "in_progress", "output": [], "usage": None,
             "incomplete_details": None}  # fmt: skip
    yield event("response.created", response=start)
    yield event("response.in_progress", response=start)
    pacer = Pacer(host)
    yield pacer.wait(served.first_token_s)
    for index, item in enumerate(response["output"]):
        if item["type"] != "message":  # reasoning: hidden, so added and done at once
            yield event("response.output_item.added", output_index=index, item=item)
            yield event("response.output_item.done", output_index=index, item=item)
            continue
        text = item["content"][0]["text"]
        where = {"item_id": item["id"], "output_index": index, "content_index": 0}
        yield event(
            "response.output_item.added", output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )  # fmt: skip
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield event("response.content_part.added", **where, part=part)
        pieces = deltas(text, response["model"])
        stop = cut_point(len(pieces)) if cut else None
        for i, (piece, n_tokens) in enumerate(pieces):
            if i == stop:
                raise StreamCut
            yield pacer.wait(served.per_token_s * n_tokens)
            yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
        yield event("response.output_text.done", **where, text=text, logprobs=[])
        yield event("response.content_part.done", **where, part={**part, "text": text})
        yield event("response.output_item.done", output_index=index, item=item)
    if cut:  # nothing visible to cut (reasoning used the cap): drop before the last event
        raise StreamCut
    final = "response.completed" if response["status"] == "completed" else "response.incomplete"
    yield event(final, response=response)
