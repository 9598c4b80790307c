"""The simulator's endpoints, one module per family, and the one route table that maps to them.

Each endpoint is a function ``(host, call) -> Reply`` (see ``protocol``). ``ROUTES`` says, for
each (method, path), which endpoint serves it and whether it *generates* an answer: only
generating routes take a queued or ``fail_rate`` fault, so listing models or counting tokens
never uses up a fault scripted for a generation. A new endpoint is one module and one row here.

A path may hold parameters in braces, ``/v1/files/{file_id}``: each matches one path segment and
reaches the endpoint as ``call.params["file_id"]``. Exact paths win over patterns, so
``/v1/responses/input_tokens`` never reads as a response id.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..protocol import Endpoint
from . import batches, chat, files, input_tokens, models, responses

__all__ = [
    "ROUTES",
    "Route",
    "allowed_methods",
    "match_route",
    "max_body",
    "online_endpoint",
    "route_for",
]


@dataclass(frozen=True)
class Route:
    """One row of the route table."""

    method: str
    path: str
    endpoint: Endpoint
    generating: bool = False  # answers with a model's output: takes queued / fail_rate faults
    multipart: bool = False  # takes a multipart/form-data body (an upload), not JSON
    max_body_bytes: int | None = None  # a larger request body than http.MAX_BODY_BYTES allows


# (method, path) -> Route. A dict so a test can add a route for one test with monkeypatch.
ROUTES: dict[tuple[str, str], Route] = {
    (r.method, r.path): r
    for r in (
        Route("POST", "/v1/responses", responses.create, generating=True),
        Route("POST", "/v1/responses/input_tokens", input_tokens.count),
        Route("POST", "/v1/chat/completions", chat.create, generating=True),
        Route("GET", "/v1/models", models.list_all),
        Route("GET", "/v1/models/{model}", models.retrieve),
        Route(
            "POST",
            "/v1/files",
            files.create,
            multipart=True,
            max_body_bytes=files.MAX_UPLOAD_BODY_BYTES,
        ),
        Route("GET", "/v1/files", files.list_all),
        Route("GET", "/v1/files/{file_id}", files.retrieve),
        Route("DELETE", "/v1/files/{file_id}", files.delete),
        Route("GET", "/v1/files/{file_id}/content", files.content),
        Route("POST", "/v1/batches", batches.create),
        Route("GET", "/v1/batches", batches.list_all),
        Route("GET", "/v1/batches/{batch_id}", batches.retrieve),
        Route("POST", "/v1/batches/{batch_id}/cancel", batches.cancel),
    )
}


def _params(pattern: str, path: str) -> dict[str, str] | None:
    """The parameters ``path`` gives ``pattern`` (``{name}`` = one non-empty segment), or None."""
    want, got = pattern.split("/"), path.split("/")
    if len(want) != len(got):
        return None
    params: dict[str, str] = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            if not g:
                return None
            params[w[1:-1]] = g
        elif w != g:
            return None
    return params


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``method path`` and its path parameters, or None."""
    route = ROUTES.get((method, path))
    if route is not None:
        return route, {}
    for (m, pattern), route in ROUTES.items():
        if m == method and "{" in pattern:
            params = _params(pattern, path)
            if params is not None:
                return route, params
    return None


def route_for(method: str, path: str) -> Route | None:
    """The route serving ``method path``, or None."""
    found = match_route(method, path)
    return found[0] if found else None


def allowed_methods(path: str) -> list[str]:
    """The methods some route serves at ``path`` (for a 405's ``Allow``), in table order."""
    return [m for m, p in ROUTES if p == path or ("{" in p and _params(p, path) is not None)]


def max_body(method: str, target: str) -> int | None:
    """The route's own bound on the request body (an upload allows more), or None."""
    found = match_route(method, urlsplit(target).path.rstrip("/") or "/")
    return found[0].max_body_bytes if found is not None else None


def online_endpoint(url: str) -> Endpoint | None:
    """The endpoint an online POST to ``url`` reaches (a batch line runs through it)."""
    route = route_for("POST", url)
    return route.endpoint if route is not None else None
