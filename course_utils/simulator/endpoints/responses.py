"""``POST /v1/responses``: the Responses API's answer object."""

from __future__ import annotations

import time
import uuid

from ..model import Answer
from ..params import (
    RESPONSES_MIN_OUTPUT_TOKENS,
    check_responses_input,
    check_temperature,
    model_param,
    no_streaming,
    output_cap,
)
from ..protocol import Call, Host, Reply
from .generation import answer

__all__ = ["create", "usage"]


def usage(result: Answer) -> dict:
    """The Responses ``usage`` object (exact tiktoken counts)."""
    return {
        "input_tokens": result.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": result.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": result.input_tokens + result.output_tokens,
    }


def create(host: Host, call: Call) -> Reply:
    """POST /v1/responses."""
    body = call.body
    model = model_param(body)
    check_responses_input(body)
    no_streaming(body)
    cap = output_cap(body, "max_output_tokens", RESPONSES_MIN_OUTPUT_TOKENS, model)
    check_temperature(body)
    text_cfg = body.get("text")
    fmt = text_cfg.get("format") if isinstance(text_cfg, dict) else None
    result, headers = answer(host, call, model, "responses", cap, fmt, "input")
    status = "incomplete" if result.truncated else "completed"
    out = {
        "id": f"resp_{uuid.uuid4().hex}",
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
        "output": [
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex}",
                "status": status,
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": result.text, "annotations": [], "logprobs": []}
                ],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt if isinstance(fmt, dict) else {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage(result),
        "user": None,
    }
    return Reply(
        200, out, headers, outcome="incomplete" if result.truncated else "ok",
        input_tokens=result.input_tokens, output_tokens=result.output_tokens,
    )  # fmt: skip
