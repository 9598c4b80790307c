"""Request parameters checked the way the service checks them: each bad value is the API's 400.

Every function here raises ``SimError`` (a 400 ``invalid_request_error`` naming the parameter,
with the service's ``code``) or returns the value it checked; endpoints call them in the order
the service reports problems.
"""

from __future__ import annotations

from ..pricing import model_or_default
from ..tokens import count_request_input
from .errors import CONTEXT_LENGTH_MESSAGE, SimError, bad_request

__all__ = [
    "RESPONSES_MIN_OUTPUT_TOKENS",
    "check_messages",
    "check_responses_input",
    "check_temperature",
    "context_length_error",
    "count_input_or_400",
    "int_param",
    "model_param",
    "no_streaming",
    "output_format",
    "require",
]

RESPONSES_MIN_OUTPUT_TOKENS = 16  # the Responses API refuses a smaller max_output_tokens


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
    simulator cannot read."""
    try:
        return count_request_input(body, model, endpoint)
    except TypeError as err:
        raise bad_request(
            f"Invalid '{param}': {err}. The simulator reads text content only (strings or "
            "text parts); images, audio and files are not simulated.",
            param,
            "invalid_type",
        ) from None


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
