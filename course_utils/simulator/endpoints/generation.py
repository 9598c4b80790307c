"""The core every generating endpoint shares: count, check the window, reserve, generate, wait."""

from __future__ import annotations

from ...tokens import output_reserve, request_messages
from ..model import Answer, generate, profile
from ..params import context_length_error, count_input_or_400, output_format
from ..protocol import Call, Host

__all__ = ["answer"]


def answer(
    host: Host, call: Call, model: str, endpoint: str, cap: int | None, fmt: object, param: str
) -> tuple[Answer, dict[str, str]]:
    """Answer a validated request; returns the answer and the rate-limit headers.

    The input is counted with ``tokens.count_request_input`` and the TPM bucket takes the input
    plus ``tokens.output_reserve`` -- the same figures a client-side limiter computes with
    ``tokens.estimate_request_tokens``. An uncapped answer stops at the model's maximum output
    (``incomplete``, reason ``max_output_tokens``), as the service's does.
    """
    input_tokens = count_input_or_400(call.body, model, endpoint, param)
    if input_tokens > profile(model).context_window:
        raise context_length_error(model, input_tokens, param)
    headers = host.admit(call, model, input_tokens + output_reserve(model, cap))
    json_mode, schema = output_format(fmt)
    result = generate(
        request_messages(call.body, endpoint),
        model,
        cap if cap is not None else profile(model).max_output,
        json_mode=json_mode,
        schema=schema,
        input_tokens=input_tokens,
    )
    host.wait_latency(call, model, result.output_tokens)
    return result, headers
