"""``POST /v1/chat/completions``: the Chat Completions answer object, whole or streamed.

With ``stream: true`` the answer arrives as ``chat.completion.chunk`` objects, one ``data:``
line each: the assistant role first, one chunk per token of content, a chunk with the
``finish_reason``, then ``data: [DONE]``. With ``stream_options: {"include_usage": true}``
every chunk carries ``"usage": null`` and one more chunk, with empty ``choices``, carries the
usage just before ``[DONE]`` (the only place a streamed chat answer reports its tokens).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from ..model import Answer
from ..params import (
    check_messages,
    check_temperature,
    model_param,
    output_cap,
    require,
)
from ..prompt_cache import cache_settings
from ..protocol import Call, Host, Reply, StreamCut, new_id
from .event_stream import DONE, Pacer, cut_point, deltas, sse, stream_settings
from .generation import Served, deliver, serve

__all__ = ["create", "stream_chunks", "usage"]


def usage(result: Answer, cached_tokens: int = 0) -> dict:
    """The Chat Completions ``usage`` object (exact tiktoken counts)."""
    return {
        "prompt_tokens": result.input_tokens,
        "completion_tokens": result.output_tokens,
        "total_tokens": result.input_tokens + result.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": cached_tokens,
            "cache_write_tokens": 0,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": result.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def create(host: Host, call: Call) -> Reply:
    """POST /v1/chat/completions."""
    body = call.body
    model = model_param(body)
    check_messages(require(body, "messages"), "messages")
    streaming = stream_settings(body, "chat")
    cache = cache_settings(body)
    cap = output_cap(body, "max_completion_tokens", 1, model)
    legacy = output_cap(body, "max_tokens", 1, model)
    cap = cap if cap is not None else legacy
    check_temperature(body)
    fmt = body.get("response_format")
    served = serve(host, call, model, "chat", cap, fmt, "messages", cache=cache)
    result = served.result
    out = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": result.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if result.truncated else "stop",
            }
        ],
        "usage": usage(result, served.cached_tokens),
        "service_tier": "default",
        "system_fingerprint": "fp_course_sim",
    }
    cut = call.fault == "stream_cut"
    chunks = (
        stream_chunks(host, out, served, include_usage=streaming.include_usage, cut=cut)
        if streaming.stream
        else None
    )
    return deliver(served, out, chunks, cut=cut)


def stream_chunks(
    host: Host, completion: dict, served: Served, *, include_usage: bool, cut: bool = False
) -> Iterator[bytes | float]:
    """The chunk stream of ``completion`` (the finished object), paced by ``served``'s timing.

    The role chunk waits the time to first token, each content chunk the time of its tokens.
    With ``cut`` the stream stops (``StreamCut``) after about half the content chunks.
    """
    head = {key: completion[key] for key in ("id", "created", "model", "service_tier",
                                              "system_fingerprint")}  # fmt: skip
    extra = {"usage": None} if include_usage else {}
    choice = completion["choices"][0]

    def chunk(delta: dict, finish_reason: str | None = None) -> bytes:
        return sse({**head, "object": "chat.completion.chunk", **extra, "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]})  # fmt: skip

    pacer = Pacer(host)
    yield pacer.wait(served.first_token_s)
    yield chunk({"role": "assistant", "content": "", "refusal": None})
    pieces = deltas(choice["message"]["content"], completion["model"])
    stop = cut_point(len(pieces)) if cut else None
    for i, (piece, n_tokens) in enumerate(pieces):
        if i == stop:
            raise StreamCut
        yield pacer.wait(served.per_token_s * n_tokens)
        yield chunk({"content": piece})
    if cut:
        raise StreamCut
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield sse({**head, "object": "chat.completion.chunk", "choices": [],
                   "usage": completion["usage"]})  # fmt: skip
    yield DONE
