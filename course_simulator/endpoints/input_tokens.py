"""``POST /v1/responses/input_tokens``: the service's own count of a request's input."""

from __future__ import annotations

from ..params import check_responses_input, count_input_or_400, model_param
from ..protocol import Call, Host, Reply

__all__ = ["count"]


def count(host: Host, call: Call) -> Reply:
    """POST /v1/responses/input_tokens: what ``usage.input_tokens`` would be, nothing generated."""
    model = model_param(call.body)
    check_responses_input(call.body)
    tokens = count_input_or_400(call.body, model, "responses", "input")
    body = {"object": "response.input_tokens", "input_tokens": tokens}
    return Reply(200, body, input_tokens=tokens)
