"""Counting tokens with real tiktoken (offline), and the token account of one API request.

Request accounting lives here, in the foundation, so that every part that must agree on what a
request costs uses the same count: the course simulator's ``usage`` and rate-limit buckets, the
live spend guard, and client-side limiters. ``request_messages`` turns a Responses or Chat body
into chat messages, ``count_request_input`` counts them exactly as the simulator bills them, and
``estimate_request_tokens`` adds the output tokens a request reserves (its cap, else
``DEFAULT_OUTPUT_RESERVE_TOKENS``) -- what a TPM bucket takes before the answer exists.

Chunking and truncation live in ``chunking``, the offline vocabulary in ``vocab``; their names are
re-exported here so ``from course_utils.tokens import chunk_text`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .chunking import _require_text, chunk_text, truncate_to_tokens
from .pricing import DEFAULT_MODEL, model_or_default
from .vocab import (
    FALLBACK_ENCODING,
    encode_text,
    encoding_for,
    encoding_name_for,
    ensure_offline_vocab,
)

__all__ = [
    "DEFAULT_OUTPUT_RESERVE_TOKENS",
    "ENDPOINTS",
    "FALLBACK_ENCODING",
    "MESSAGE_OVERHEAD_TOKENS",
    "NAME_OVERHEAD_TOKENS",
    "REPLY_PRIMER_TOKENS",
    "chunk_text",
    "content_text",
    "count_message_tokens",
    "count_request_input",
    "count_tokens",
    "encoding_for",
    "encoding_name_for",
    "ensure_offline_vocab",
    "estimate_request_tokens",
    "output_reserve",
    "request_messages",
    "requested_output_cap",
    "truncate_to_tokens",
]

# The chat format wraps every message in a few special tokens. These are the numbers from
# OpenAI's cookbook ("How to count tokens with tiktoken") for current chat models; the course
# simulator charges exactly this, and tests/test_tokens.py checks it against the SDK's usage.
MESSAGE_OVERHEAD_TOKENS = 3  # per message: start marker, role separator, end marker
NAME_OVERHEAD_TOKENS = 1  # a message that carries "name"
REPLY_PRIMER_TOKENS = 3  # every request: the tokens that start the assistant's reply

# A request that sets no output cap reserves this many output tokens against a TPM limit (the
# simulator's buckets, a client-side limiter). The service reserves the model's own default; the
# catalogue's 128k maximum would make a small TPM limit refuse every uncapped request, so the
# course picks the size of a long answer instead. (Money is different: the live spend guard
# prices an uncapped request at the model's maximum output, since that is what it may cost.)
DEFAULT_OUTPUT_RESERVE_TOKENS = 1024

# The generating endpoints whose bodies this module reads: POST /v1/responses and
# POST /v1/chat/completions.
ENDPOINTS = ("responses", "chat")
_CAP_FIELDS = {
    "responses": ("max_output_tokens",),
    "chat": ("max_completion_tokens", "max_tokens"),  # the second is chat's legacy name
    None: ("max_output_tokens", "max_completion_tokens", "max_tokens"),
}


def count_tokens(text: str, model: str = DEFAULT_MODEL) -> int:
    """How many tokens ``text`` is for ``model``.

    Special-token strings such as ``<|endoftext|>`` inside the text count as ordinary text,
    which is how the API treats text a user sends.
    """
    return len(encode_text(encoding_for(model), _require_text(text)))


def content_text(content: object) -> str:
    """The text of a message's content: a string, or a list of text parts.

    The one reader of message content: Chat parts (``{"type": "text", "text": ...}``) and
    Responses parts (``input_text`` / ``output_text``) both carry ``text``. A part without text
    (an image, a file) is a ``TypeError``: the course counts and simulates text only.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raise TypeError(
                    "message content parts must be strings or {'type': ..., 'text': ...} "
                    f"dicts, got {part!r}"
                )
        return "".join(texts)
    raise TypeError(f"message content must be a string or a list of parts, got {content!r}")


def count_message_tokens(
    messages: Iterable[Mapping[str, object]], model: str = DEFAULT_MODEL
) -> int:
    """Input tokens of a chat-formatted request, wrapper tokens included.

    Each message costs its role and content (and name) plus ``MESSAGE_OVERHEAD_TOKENS``
    (+``NAME_OVERHEAD_TOKENS`` with a name); every request adds ``REPLY_PRIMER_TOKENS``.
    """
    if isinstance(messages, str | bytes) or not isinstance(messages, Iterable):
        raise TypeError(
            "messages must be a list of {'role': ..., 'content': ...} dicts; "
            "for a plain string use count_tokens(text, model)"
        )
    enc = encoding_for(model)
    total = REPLY_PRIMER_TOKENS
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise TypeError(
                f"messages[{i}] must be a dict with 'role' and 'content', got {message!r}"
            )
        total += MESSAGE_OVERHEAD_TOKENS
        total += len(encode_text(enc, str(message["role"])))
        total += len(encode_text(enc, content_text(message.get("content"))))
        name = message.get("name")
        if name:
            total += NAME_OVERHEAD_TOKENS + len(encode_text(enc, str(name)))
    return total


# --- one request's account ----------------------------------------------------------------------


def _check_endpoint(endpoint: str) -> str:
    if endpoint not in ENDPOINTS:
        raise ValueError(
            f"endpoint must be 'responses' (POST /v1/responses) or 'chat' "
            f"(POST /v1/chat/completions), got {endpoint!r}"
        )
    return endpoint


def _message_list(items: object, param: str) -> list[dict]:
    if not isinstance(items, list):
        raise TypeError(f"'{param}' must be a list of messages, got {type(items).__name__}")
    messages = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("role"), str):
            raise TypeError(
                f"{param}[{i}] must be a message: a dict with a 'role' and 'content', got {item!r}"
            )
        messages.append(dict(item))
    return messages


def request_messages(body: Mapping[str, Any], endpoint: str = "responses") -> list[dict]:
    """The request ``body`` as chat messages, the form its input tokens are counted in.

    Responses (``endpoint="responses"``): ``instructions`` first as a developer message, then
    ``input`` (a string is one user message; a list holds messages). Chat (``"chat"``): the
    ``messages`` as sent. A body the service would refuse (no input, a non-message item) is a
    ``TypeError``/``ValueError`` saying what is wrong.
    """
    if not isinstance(body, Mapping):
        raise TypeError(f"body must be the request's JSON object (a dict), got {body!r}")
    if _check_endpoint(endpoint) == "chat":
        if body.get("messages") is None:
            raise ValueError("a chat request needs 'messages'")
        return _message_list(body["messages"], "messages")
    input, instructions = body.get("input"), body.get("instructions")
    if input is None:
        raise ValueError("a Responses request needs 'input' (a string or a list of messages)")
    if instructions is not None and not isinstance(instructions, str):
        raise TypeError(f"'instructions' must be a string, got {type(instructions).__name__}")
    messages: list[dict] = []
    if instructions:
        messages.append({"role": "developer", "content": instructions})
    if isinstance(input, str):
        messages.append({"role": "user", "content": input})
    else:
        messages.extend(_message_list(input, "input"))
    return messages


def count_request_input(
    body: Mapping[str, Any], model: str | None = None, endpoint: str = "responses"
) -> int:
    """Input tokens of one request body, equal to the ``usage.input_tokens`` it is billed.

    ``model`` defaults to the body's own ``model``. An id the catalogue lacks is counted as the
    default model, as the simulator does (see ``pricing.model_or_default``).
    """
    messages = request_messages(body, endpoint)
    if model is None:
        model = body.get("model")
    if not isinstance(model, str) or not model:
        raise TypeError(f"the request names no model: pass model=, got {model!r}")
    return count_message_tokens(messages, model_or_default(model).id)


def requested_output_cap(body: Mapping[str, Any], endpoint: str | None = None) -> int | None:
    """The output cap a request sets: ``max_output_tokens`` / ``max_completion_tokens`` /
    ``max_tokens``, the first present; None when it sets none.

    ``endpoint`` (``"responses"`` or ``"chat"``) reads only that endpoint's own fields, as the
    service does; None reads all three. A value the service would refuse with a 400 (a negative
    number, a string) counts as no cap, since such a request is never answered.
    """
    if endpoint is not None:
        _check_endpoint(endpoint)
    for name in _CAP_FIELDS[endpoint]:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def output_reserve(model: str, cap: int | None = None) -> int:
    """Output tokens a request reserves before its answer exists: its cap, else the default.

    The default is ``DEFAULT_OUTPUT_RESERVE_TOKENS``, or the model's maximum output if that is
    smaller (the model could never write more).
    """
    if cap is not None:
        return cap
    return min(DEFAULT_OUTPUT_RESERVE_TOKENS, model_or_default(model).max_output)


def estimate_request_tokens(body: Mapping[str, Any], endpoint: str = "responses") -> int:
    """Tokens one request takes from a TPM budget: its input + its output cap (or the reserve).

    Exactly what the course simulator's TPM bucket reserves for it, so a client-side limiter
    that reserves this never disagrees with the server about whether a request fits.
    """
    model = body.get("model") if isinstance(body, Mapping) else None
    input_tokens = count_request_input(body, endpoint=endpoint)
    cap = requested_output_cap(body, endpoint)
    return input_tokens + output_reserve(str(model), cap)
