"""The core every generating endpoint shares: count, check the window, reserve, generate, wait."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from course_utils.tokens import output_reserve, request_messages

from ..answer_memo import AnswerMemo, answer_key
from ..error_replies import bad_request
from ..model import Answer, UnsupportedSetting, generate, profile, resolve_effort, resolve_verbosity
from ..params import context_length_error, count_input_or_400, output_format
from ..prompt_cache import MIN_CACHED_TOKENS, CacheSettings, prompt_token_ids
from ..protocol import Call, Host, Reply

__all__ = ["ANSWERS", "Served", "deliver", "serve", "settings"]

ANSWERS = AnswerMemo()  # the answers already written, shared by every simulator in the process


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


@dataclass(frozen=True)
class Served:
    """One generated answer with what its delivery needs: headers, cache hit, pacing."""

    result: Answer
    headers: dict[str, str]
    cached_tokens: int = 0  # input tokens served from the prompt cache
    first_token_s: float = 0.0  # before the first visible token (hidden reasoning included)
    per_token_s: float = 0.0  # between visible output tokens


def serve(
    host: Host,
    call: Call,
    model: str,
    endpoint: str,
    cap: int | None,
    fmt: object,
    param: str,
    *,
    cache: CacheSettings | None = None,
) -> Served:
    """Answer a validated request: count, check the window, reserve, look up the cache, generate.

    The input is counted with ``tokens.count_request_input`` and the TPM bucket takes the input
    plus ``tokens.output_reserve`` -- the same figures a client-side limiter computes with
    ``tokens.estimate_request_tokens``. An uncapped answer stops at the model's maximum output
    (``incomplete``, reason ``max_output_tokens``), as the service's does. Nothing waits here:
    ``deliver`` turns ``first_token_s`` and ``per_token_s`` into the reply's ``delay_s`` (a JSON
    reply) or the stream's pacing, which add up to the same total. A request asked before is
    answered from ``ANSWERS`` (the model is deterministic: see ``answer_memo``).
    """
    input_tokens = count_input_or_400(call.body, model, endpoint, param)
    if input_tokens > profile(model).context_window:
        raise context_length_error(model, input_tokens, param)
    effort, verbosity = settings(call.body, model, endpoint)
    headers = host.admit(call, model, input_tokens + output_reserve(model, cap))
    messages = request_messages(call.body, endpoint)
    cached = 0
    cache = cache if cache is not None else CacheSettings()
    if cache.enabled and input_tokens >= MIN_CACHED_TOKENS:
        ids = prompt_token_ids(messages, profile(model).id)
        cached = host.prompt_cache.serve((call.key or "", model, cache.key), ids, cache.ttl_s)
    json_mode, schema = output_format(fmt)
    most = cap if cap is not None else profile(model).max_output
    inputs = (messages, model, most, json_mode, schema, input_tokens, effort, verbosity)
    result = ANSWERS.get_or_make(
        answer_key(*inputs),
        lambda: generate(
            messages, model, most, json_mode=json_mode, schema=schema,
            input_tokens=input_tokens, reasoning_effort=effort, verbosity=verbosity,
        ),
    )  # fmt: skip
    first_s, per_token_s = host.timing(call, model, input_tokens, cached)
    first_s += per_token_s * result.reasoning_tokens
    return Served(result, headers, cached, first_s, per_token_s)


def deliver(
    served: Served, body: dict, stream: Iterator[bytes | float] | None, *, cut: bool
) -> Reply:
    """The reply carrying ``body`` whole, or ``stream`` when the request streams.

    Under fault ``stream_cut`` (``cut``) a stream breaks half-way (the stream's own doing) and
    a JSON reply is dropped before it is sent; either way the answer was made and is billed.
    """
    result = served.result
    outcome = "stream_cut" if cut else "incomplete" if result.truncated else "ok"
    reply = Reply(
        200, None if stream is not None else body, served.headers, outcome,
        input_tokens=result.input_tokens, output_tokens=result.output_tokens, stream=stream,
    )  # fmt: skip
    if stream is None:  # the whole answer waits its latency (the sender waits ``delay_s``)
        visible = result.output_tokens - result.reasoning_tokens
        reply.delay_s = served.first_token_s + served.per_token_s * visible
    if cut and stream is None:
        reply.action = "drop"
    return reply
