"""``POST /v1/responses``: the Responses API's answer object."""

from __future__ import annotations

import time
import uuid

from ..model import Answer
from ..params import (
    RESPONSES_MIN_OUTPUT_TOKENS,
    check_responses_input,
    check_temperature,
    int_param,
    model_param,
    no_streaming,
)
from ..protocol import Call, Host, Reply
from .generation import answer

__all__ = ["create", "output_items", "usage"]


def usage(result: Answer) -> dict:
    """The Responses ``usage`` object (exact tiktoken counts)."""
    return {
        "input_tokens": result.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": result.output_tokens,
        "output_tokens_details": {"reasoning_tokens": result.reasoning_tokens},
        "total_tokens": result.input_tokens + result.output_tokens,
    }


def output_items(result: Answer, status: str) -> list[dict]:
    """The ``output`` list: a reasoning item when hidden reasoning was spent, then the message
    (none when the cap ran out during reasoning, as on the service: ``output_text`` is "")."""
    items: list[dict] = []
    if result.reasoning_tokens:
        items.append({"type": "reasoning", "id": f"rs_{uuid.uuid4().hex}", "summary": []})
    if result.text or not result.truncated:
        text = {"type": "output_text", "text": result.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex}",
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
    no_streaming(body)
    cap = int_param(body, "max_output_tokens", RESPONSES_MIN_OUTPUT_TOKENS)
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
        "output": output_items(result, status),
        "parallel_tool_calls": True,
        "previous_response_id": None,
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
        "usage": usage(result),
        "user": None,
    }
    return Reply(
        200, out, headers, outcome="incomplete" if result.truncated else "ok",
        input_tokens=result.input_tokens, output_tokens=result.output_tokens,
    )  # fmt: skip
