"""One structured record per request, shared by Exercise 3, the runner's JSONL and the batch path.

A ``Result`` turns every outcome, success or failure, into the same row of data, so a batch
keeps going past a bad prompt and a report can count, filter and retry failures later.

The schema (documented here once; the runner, the batch path and Exercise 3 use these names):

=============  ==================  ===========================================================
field          type                meaning
=============  ==================  ===========================================================
``id``         str or int          the prompt's id (a line number, or the id in a JSONL input)
``prompt``     str                 the prompt as sent (logs show only a preview; this keeps it)
``ok``         bool                True when an answer came back
``output``     str or None         the answer text; a str whenever ``ok`` (may be empty)
``error_type`` str or None         None when ``ok``; else a category name from
                                   ``course_utils.errors.CATEGORIES`` (``rate_limit``, ...)
``message``    str or None         on failure, what happened and what to do (required then)
``attempts``   int >= 0            requests actually sent (0: stopped before sending)
``usage``      dict or None        ``input_tokens``, ``output_tokens``, ``reasoning_tokens``,
                                   ``cached_tokens``, ``total_tokens`` (ints); None if unknown
``latency_s``  float >= 0          wall time for the whole call, retries and waits included
``request_id`` str or None         the service's ``x-request-id``, for a support ticket
``batch_id``   str or None         the Batch API job the record came from, if any
=============  ==================  ===========================================================

``to_dict()`` / ``Result.from_dict(d)`` and ``to_json()`` / ``Result.from_json(s)`` round-trip
exactly; ``to_json()`` is one line, so a JSONL file is one ``to_json()`` per line. Bad input
raises ``InvalidResult`` (a ``ValueError``) naming the field, what it got and what it expects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from course_utils.errors import CATEGORIES, InvalidResult, classify
from course_utils.usage import _CHAT_USAGE, USAGE_KEYS, output_text, usage_dict

__all__ = [
    "FIELD_NAMES",
    "USAGE_KEYS",
    "InvalidResult",
    "Result",
    "usage_dict",
]


def _whole(value: object) -> bool:
    return _number(value) and isinstance(value, int)


def _number(value: object) -> bool:
    """An int or float that is not a bool (JSON's true would otherwise pass as 1)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


# What each field must be, checked in one place when a Result is made (by code, or from a line
# of a JSONL file, the edge where bad data comes in): field -> (test, what it must be).
_FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "id": (lambda v: _whole(v) or (isinstance(v, str) and v != ""), "a non-empty str or an int"),
    "prompt": (lambda v: isinstance(v, str), "the prompt text (a str)"),
    "ok": (lambda v: isinstance(v, bool), "True or False"),
    "output": (_str_or_none, "the answer text (a str) or None"),
    "message": (_str_or_none, "a str or None"),
    "attempts": (lambda v: _whole(v) and v >= 0, "the requests sent, a whole number >= 0"),
    "latency_s": (lambda v: _number(v) and math.isfinite(v) and v >= 0, "seconds, a number >= 0"),
    "request_id": (_str_or_none, "a str or None"),
    "batch_id": (_str_or_none, "a str or None"),
}  # fmt: skip


def _usage(usage: Any, where: str) -> dict[str, int] | None:
    """The five usage counts, completed (``total_tokens``), or a clear InvalidResult."""
    if usage is None:
        return None
    if not isinstance(usage, Mapping):
        raise InvalidResult(
            f"{where}: usage must be a dict of token counts or None, got "
            f"{type(usage).__name__}; convert an SDK usage object with usage_dict(response.usage)"
        )
    unknown = [k for k in usage if k not in USAGE_KEYS]
    if unknown:
        chat = (
            " (Chat Completions names: usage_dict() converts them)"
            if set(unknown) & set(_CHAT_USAGE)
            else ""
        )
        raise InvalidResult(
            f"{where}: usage has unknown key(s) {', '.join(map(repr, unknown))}{chat}; "
            f"the keys are {', '.join(USAGE_KEYS)}"
        )
    for key in ("input_tokens", "output_tokens"):
        if key not in usage:
            raise InvalidResult(f"{where}: usage is missing {key!r}")
    for key, value in usage.items():
        if not _whole(value) or value < 0:
            raise InvalidResult(
                f"{where}: usage[{key!r}] must be a whole number >= 0, got {value!r}"
            )
    full = {k: int(usage.get(k, 0)) for k in USAGE_KEYS}
    if "total_tokens" not in usage:
        full["total_tokens"] = full["input_tokens"] + full["output_tokens"]
    return full


def _validate(r: Result) -> None:
    """Every field as the schema says, and a success or a failure that is whole."""
    where = f"Result(id={r.id!r})"

    def bad(name: str, expected: str) -> InvalidResult:
        return InvalidResult(f"{where}: {name} must be {expected}, got {getattr(r, name)!r}")

    for name, (test, expected) in _FIELD_RULES.items():
        if not test(getattr(r, name)):
            raise bad(name, expected)
    if r.ok and r.output is None:
        raise bad("output", "the answer text when ok=True (use '' for an empty answer)")
    if r.ok and r.error_type is not None:
        raise bad("error_type", "None when ok=True")
    if r.ok and r.attempts < 1:
        raise bad("attempts", "at least 1 when ok=True (an answer needs a request)")
    names = [c.name for c in CATEGORIES]
    if not r.ok and r.error_type not in names:
        raise bad("error_type", f"a category name when ok=False (one of {', '.join(names)})")
    if not r.ok and not r.message:
        raise bad("message", "what happened and what to do when ok=False")


@dataclass(frozen=True)
class Result:
    """The outcome of one prompt, success or failure; the module docstring is the schema."""

    id: str | int
    prompt: str
    ok: bool
    output: str | None
    error_type: str | None
    message: str | None
    attempts: int
    usage: dict[str, int] | None
    latency_s: float
    request_id: str | None = None
    batch_id: str | None = None

    def __post_init__(self) -> None:
        _validate(self)
        object.__setattr__(self, "latency_s", float(self.latency_s))
        object.__setattr__(self, "usage", _usage(self.usage, f"Result(id={self.id!r})"))

    # --- building one -----------------------------------------------------------------------
    @classmethod
    def from_response(
        cls,
        id: str | int,
        prompt: str,
        response: Any,
        *,
        attempts: int,
        latency_s: float,
        batch_id: str | None = None,
    ) -> Result:
        """A success from an SDK response: its text, usage and request id."""
        request_id = getattr(response, "_request_id", None)
        return cls(
            id, prompt, True, output_text(response), None, None, attempts,
            usage_dict(getattr(response, "usage", None)), latency_s,
            request_id if isinstance(request_id, str) else None, batch_id,
        )  # fmt: skip

    @classmethod
    def from_error(
        cls,
        id: str | int,
        prompt: str,
        exc: BaseException,
        *,
        attempts: int,
        latency_s: float,
        batch_id: str | None = None,
    ) -> Result:
        """A failure from the exception that ended the call, classified by ``errors.classify``."""
        info = classify(exc)
        return cls(
            id, prompt, False, None, info.category, info.advice, attempts, None, latency_s,
            info.request_id, batch_id,
        )  # fmt: skip

    # --- data in and out --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain dict in schema order (a copy: changing it leaves the Result alone)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result a ``to_dict()`` (or a runner JSONL line, parsed) describes; strict."""
        if not isinstance(data, Mapping):
            raise InvalidResult(
                f"Result.from_dict() takes a dict with the fields {', '.join(FIELD_NAMES)}; "
                f"got {type(data).__name__}"
            )
        label = f"Result.from_dict(id={data.get('id')!r})"
        unknown = [k for k in data if k not in FIELD_NAMES]
        if unknown:
            raise InvalidResult(
                f"{label}: unknown field(s) {', '.join(map(repr, unknown))}; "
                f"a Result has {', '.join(FIELD_NAMES)}"
            )
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise InvalidResult(f"{label}: missing field(s) {', '.join(map(repr, missing))}")
        return cls(**dict(data))

    def to_json(self) -> str:
        """One line of JSON (a JSONL record); non-ASCII text kept readable."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Result:
        """The Result one JSON line describes."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as err:
            preview = repr(text[:60]) if isinstance(text, str | bytes) else type(text).__name__
            raise InvalidResult(f"Result.from_json(): not valid JSON ({err}): {preview}") from None
        return cls.from_dict(data)

    def with_(self, **changes: Any) -> Result:
        """A copy with some fields changed, validated again (``r.with_(batch_id="b_1")``)."""
        return replace(self, **changes)


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Result))
_REQUIRED = tuple(f.name for f in fields(Result) if f.name not in ("request_id", "batch_id"))
