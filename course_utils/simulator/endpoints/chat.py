"""``POST /v1/chat/completions``: the Chat Completions answer object."""

from __future__ import annotations

import time
import uuid

from ..params import (
    check_messages,
    check_temperature,
    model_param,
    no_streaming,
    output_cap,
    require,
)
from ..protocol import Call, Host, Reply
from .generation import answer

__all__ = ["create"]


def create(host: Host, call: Call) -> Reply:
    """POST /v1/chat/completions."""
    body = call.body
    model = model_param(body)
    check_messages(require(body, "messages"), "messages")
    no_streaming(body)
    cap = output_cap(body, "max_completion_tokens", 1, model)
    legacy = output_cap(body, "max_tokens", 1, model)
    cap = cap if cap is not None else legacy
    check_temperature(body)
    fmt = body.get("response_format")
    result, headers = answer(host, call, model, "chat", cap, fmt, "messages")
    out = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
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
        "usage": {
            "prompt_tokens": result.input_tokens,
            "completion_tokens": result.output_tokens,
            "total_tokens": result.input_tokens + result.output_tokens,
            "prompt_tokens_details": {
                "cached_tokens": 0,
                "cache_write_tokens": 0,
                "audio_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_course_sim",
    }
    return Reply(
        200, out, headers, outcome="incomplete" if result.truncated else "ok",
        input_tokens=result.input_tokens, output_tokens=result.output_tokens,
    )  # fmt: skip
