"""What the pipeline reads from a request before an endpoint sees it: the key and the JSON body.

Reading never raises: a body that is not one JSON object, or nests deeper than
``MAX_JSON_DEPTH``, comes back as the service's 400 for the pipeline to send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .error_replies import SimError, bad_request

__all__ = ["MAX_JSON_DEPTH", "bearer", "is_multipart", "parse_body"]

MAX_JSON_DEPTH = 64  # a body nested deeper is a 400 (a schema or message list is far shallower)

_UNREADABLE_BODY = (
    "We could not parse the JSON body of your request: send a JSON object, with Content-Type: "
    "application/json."
)


def bearer(headers: Any) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header, or None."""
    auth = headers.get("Authorization") or ""
    scheme, _, key = str(auth).partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def is_multipart(headers: Any) -> bool:
    """True for an upload (the endpoint reads the raw body itself)."""
    return (headers.get("Content-Type") or "").lower().startswith("multipart/form-data")


def _not_a_number(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


# Built once: ``json.loads(raw, parse_constant=...)`` builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_not_a_number)


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Iterable[object] = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in items)
    return deepest


def parse_body(raw: bytes) -> tuple[dict | None, SimError | None]:
    """The JSON object a body holds, or the 400 it earns (never an exception)."""
    if not raw:
        return {}, None
    try:
        body = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except RecursionError:
        body, depth = None, MAX_JSON_DEPTH + 1
    except ValueError:  # also bad UTF-8 and over-long integers
        return None, bad_request(_UNREADABLE_BODY)
    else:
        if not isinstance(body, dict):
            return None, bad_request(_UNREADABLE_BODY)
        depth = _depth(body)
    if depth > MAX_JSON_DEPTH:
        return None, bad_request(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; the course "
            "simulator reads at most that many (real requests nest a few levels).",
            code="invalid_value",
        )
    return body, None
