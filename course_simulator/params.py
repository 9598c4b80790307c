"""Request parameters checked the way the service checks them: each bad value is the API's 400.

Every function here raises ``SimError`` (a 400 ``invalid_request_error`` naming the parameter,
with the service's ``code``) or returns the value it checked; endpoints call them in the order
the service reports problems.
"""

from __future__ import annotations

import re

from course_utils.pricing import model_or_default
from course_utils.tokens import content_text, count_request_input, request_messages

from .error_replies import CONTEXT_LENGTH_MESSAGE, SimError, bad_request

__all__ = [
    "LONGEST_UNBROKEN_RUN",
    "MAX_CHARS_PER_TOKEN",
    "RESPONSES_MIN_OUTPUT_TOKENS",
    "check_messages",
    "check_responses_input",
    "check_temperature",
    "context_length_error",
    "count_input_or_400",
    "int_param",
    "model_param",
    "no_streaming",
    "output_cap",
    "output_format",
    "require",
]

RESPONSES_MIN_OUTPUT_TOKENS = 16  # the Responses API refuses a smaller max_output_tokens

# Cheap bounds checked before any tokenising, so that one huge body cannot hold a core for
# seconds (a 20 MB run of 'a' took 16.5 s and 1.1 GB). No real text averages more than 8
# characters per token (a run of one letter is exactly 8 in o200k_base; prose is about 4), so
# more than window x 8 characters cannot fit the model's window. tiktoken's time grows faster
# than linearly inside one unbroken run (and it crashes on a million spaces), so a run of
# letters, of whitespace or of symbols longer than LONGEST_UNBROKEN_RUN is refused too.
MAX_CHARS_PER_TOKEN = 8
LONGEST_UNBROKEN_RUN = 100_000
_RUN_CLASSES = (re.compile(r"[^\W\d_]+"), re.compile(r"\s+"), re.compile(r"[^\w\s]+"))


def _has_run_over(text: str, limit: int) -> bool:
    """Whether ``text`` holds a run of one class (letters, whitespace, symbols) over ``limit``.

    Sublinear for ordinary text: a run over ``limit`` characters covers ``limit // 2``
    characters after one of the positions ``0, limit // 2, limit, ...``, so only those
    positions are looked at, each for as long as its run goes on (a few characters in text).
    """
    step = max(1, limit // 2)
    for p in range(0, len(text), step):
        for run in _RUN_CLASSES:
            ahead = run.match(text, p, p + limit + 1)
            if ahead is None or ahead.end() - p < step:
                continue
            back = run.match(text[max(0, p - limit - 1) : p][::-1])
            if (ahead.end() - p) + (back.end() if back else 0) > limit:
                return True
    return False


def require(body: dict, name: str) -> object:
    """The value of a required parameter; missing, empty or null is the service's 400."""
    if body.get(name) in (None, "", []):
        raise bad_request(
            f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
        )
    return body[name]


def model_param(body: dict) -> str:
    """The request's ``model``: required, a string (any id is accepted, as issue 3 asks)."""
    model = require(body, "model")
    if not isinstance(model, str):
        raise bad_request(
            f"Invalid type for 'model': expected a string such as 'gpt-5.4-mini', got {model!r}.",
            "model",
            "invalid_type",
        )
    return model


def int_param(body: dict, name: str, minimum: int) -> int | None:
    """An optional integer parameter, checked the way the service checks it."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(
            f"Invalid type for '{name}': expected an integer, but got {type(value).__name__} "
            "instead.",
            name,
            "invalid_type",
        )
    if value < minimum:
        raise bad_request(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {minimum}, "
            f"but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    return value


def output_cap(body: dict, name: str, minimum: int, model: str) -> int | None:
    """An optional output cap (``max_output_tokens`` / ``max_tokens`` / ...): an integer from
    ``minimum`` to the model's maximum output, refused with the service's 400 above it."""
    value = int_param(body, name, minimum)
    top = model_or_default(model).max_output
    if value is None or value <= top:
        return value
    if name == "max_output_tokens":
        raise bad_request(
            f"Invalid '{name}': integer above maximum value. Expected a value <= {top}, but got "
            f"{value} instead. ({model} writes at most {top:,} output tokens.)",
            name,
            "integer_above_max_value",
        )
    raise bad_request(  # Chat Completions words it this way
        f"{name} is too large: {value}. This model supports at most {top} completion tokens, "
        f"whereas you provided {value}.",
        name,
    )


def check_temperature(body: dict) -> None:
    """``temperature``, if given, is a number from 0 to 2 (it does not change the text)."""
    value = body.get("temperature")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise bad_request(
            f"Invalid 'temperature': expected a number between 0 and 2, but got {value!r}.",
            "temperature",
            "invalid_value",
        )


def check_messages(messages: object, param: str) -> list[dict]:
    """A list of message objects, each with a string ``role``."""
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages
    ):
        raise bad_request(
            f"Invalid '{param}': expected a list of messages, each an object with a 'role' and "
            "'content'.",
            param,
            "invalid_type",
        )
    return messages


def check_responses_input(body: dict) -> None:
    """Responses ``input`` (a string or a list of messages) and ``instructions`` (a string)."""
    input = require(body, "input")
    if not isinstance(input, str):
        check_messages(input, "input")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise bad_request("Invalid 'instructions': expected a string.", "instructions")


def no_streaming(body: dict) -> None:
    """``stream: true`` is refused until the simulator streams (server-sent events)."""
    if body.get("stream"):
        raise bad_request(
            "The course simulator does not simulate streaming yet: send the request without "
            "'stream' (or stream=False) and read the whole response.",
            "stream",
            "unsupported_value",
        )


def output_format(fmt: object) -> tuple[bool, dict | None]:
    """(json_mode, schema) from ``text.format`` (Responses) / ``response_format`` (Chat)."""
    if not isinstance(fmt, dict):
        return False, None
    kind = fmt.get("type")
    if kind == "json_object":
        return True, None
    if kind == "json_schema":
        spec = fmt.get("json_schema", fmt)  # chat nests it; Responses does not
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return True, schema if isinstance(schema, dict) else {}
    return False, None


def count_input_or_400(body: dict, model: str, endpoint: str, param: str) -> int:
    """Input tokens (``tokens.count_request_input``), or the service's 400 for content the
    simulator cannot read; a body too big to count cheaply is refused before counting."""
    try:
        check_input_size(body, model, endpoint, param)
        return count_request_input(body, model, endpoint)
    except TypeError as err:
        raise bad_request(
            f"Invalid '{param}': {err}. The simulator reads text content only (strings or "
            "text parts); images, audio and files are not simulated.",
            param,
            "invalid_type",
        ) from None
    except ValueError as err:  # e.g. text tiktoken cannot encode
        raise bad_request(f"Invalid '{param}': {err}", param, "invalid_value") from None


def check_input_size(body: dict, model: str, endpoint: str, param: str) -> None:
    """Refuse, before any tokenising, an input that cannot fit (more than ``window x
    MAX_CHARS_PER_TOKEN`` characters) or holds an unbroken run over ``LONGEST_UNBROKEN_RUN``."""
    texts = []
    for message in request_messages(body, endpoint):
        texts.append(content_text(message.get("content")))
        texts.extend(str(message.get(k) or "") for k in ("role", "name"))
    chars = sum(map(len, texts))
    window = model_or_default(model).context_window
    if chars > window * MAX_CHARS_PER_TOKEN:
        raise SimError(
            400,
            f"Your input is {chars:,} characters: at least {chars // MAX_CHARS_PER_TOKEN:,} "
            f"tokens even at {MAX_CHARS_PER_TOKEN} characters per token (more than any real "
            f"text packs), and {model} takes at most {window:,}. Shorten or chunk the input "
            "and try again. (The course simulator refuses it without counting.)",
            "invalid_request_error",
            param,
            "context_length_exceeded",
            "context_length",
        )
    for text in texts:
        if len(text) > LONGEST_UNBROKEN_RUN and _has_run_over(text, LONGEST_UNBROKEN_RUN):
            raise bad_request(
                f"Invalid '{param}': the input holds an unbroken run of more than "
                f"{LONGEST_UNBROKEN_RUN:,} letters, spaces or symbols with no break. The course "
                "simulator does not tokenise such runs (tiktoken slows down sharply inside one, "
                "and crashes on a million spaces); a real model would count it. Break it up "
                "or shorten it.",
                param,
                "invalid_value",
            )


def context_length_error(model: str, tokens: int, param: str) -> SimError:
    """The service's 400 ``context_length_exceeded`` for an input of ``tokens`` tokens."""
    window = model_or_default(model).context_window
    return SimError(
        400,
        CONTEXT_LENGTH_MESSAGE.format(tokens=tokens, model=model, window=window),
        "invalid_request_error",
        param,
        "context_length_exceeded",
        "context_length",
    )
