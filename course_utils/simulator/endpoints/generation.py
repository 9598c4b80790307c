"""The core every generating endpoint shares: count, check the window, reserve, generate, wait."""

from __future__ import annotations

from ...tokens import output_reserve, request_messages
from ..errors import bad_request
from ..model import Answer, UnsupportedSetting, generate, profile, resolve_effort, resolve_verbosity
from ..params import context_length_error, count_input_or_400, output_format
from ..protocol import Call, Host

__all__ = ["answer", "settings"]


def settings(body: dict, model: str, endpoint: str) -> tuple[str | None, str]:
    """(reasoning effort, verbosity) a request runs at, or the service's 400 for a bad value.

    Responses sends ``reasoning.effort`` and ``text.verbosity``; Chat sends ``reasoning_effort``
    and ``verbosity``. Which values a model takes is the catalogue's (see ``model.py``).
    """
    if endpoint == "chat":
        effort, verbosity = body.get("reasoning_effort"), body.get("verbosity")
        names = ("reasoning_effort", "verbosity")
    else:
        reasoning, text = body.get("reasoning"), body.get("text")
        if reasoning is not None and not isinstance(reasoning, dict):
            raise bad_request(
                f"Invalid type for 'reasoning': expected an object, but got "
                f"{type(reasoning).__name__} instead.",
                "reasoning",
                "invalid_type",
            )
        effort = (reasoning or {}).get("effort")
        verbosity = text.get("verbosity") if isinstance(text, dict) else None
        names = ("reasoning.effort", "text.verbosity")
    try:
        return resolve_effort(model, effort, names[0]), resolve_verbosity(
            model, verbosity, names[1]
        )
    except UnsupportedSetting as err:
        raise bad_request(str(err), err.param, err.code) from None


def answer(
    host: Host, call: Call, model: str, endpoint: str, cap: int | None, fmt: object, param: str
) -> tuple[Answer, dict[str, str]]:
    """Answer a validated request; returns the answer and the rate-limit headers.

    The input is counted with ``tokens.count_request_input`` and the TPM bucket takes the input
    plus ``tokens.output_reserve`` -- the same figures a client-side limiter computes with
    ``tokens.estimate_request_tokens``.
    """
    input_tokens = count_input_or_400(call.body, model, endpoint, param)
    if input_tokens > profile(model).context_window:
        raise context_length_error(model, input_tokens, param)
    effort, verbosity = settings(call.body, model, endpoint)
    headers = host.admit(call, model, input_tokens + output_reserve(model, cap))
    json_mode, schema = output_format(fmt)
    result = generate(
        request_messages(call.body, endpoint),
        model,
        cap,
        json_mode=json_mode,
        schema=schema,
        input_tokens=input_tokens,
        reasoning_effort=effort,
        verbosity=verbosity,
    )
    host.wait_latency(call, model, result.output_tokens)
    return result, headers
