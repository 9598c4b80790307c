"""The simulator's endpoints, one module per family, and the one route table that maps to them.

Each endpoint is a function ``(host, call) -> Reply`` (see ``protocol``). ``ROUTES`` says, for
each (method, path), which endpoint serves it and whether it *generates* an answer: only
generating routes take a queued or ``fail_rate`` fault, so listing models or counting tokens
never uses up a fault scripted for a generation. A new endpoint (files, batches) is one module
and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import Endpoint
from . import chat, input_tokens, models, responses

__all__ = [
    "ROUTES",
    "Route",
    "route_for",
]


@dataclass(frozen=True)
class Route:
    """One row of the route table."""

    method: str
    path: str
    endpoint: Endpoint
    generating: bool = False  # answers with a model's output: takes queued / fail_rate faults


# (method, path) -> Route. A dict so a test can add a route for one test with monkeypatch.
ROUTES: dict[tuple[str, str], Route] = {
    (r.method, r.path): r
    for r in (
        Route("POST", "/v1/responses", responses.create, generating=True),
        Route("POST", "/v1/responses/input_tokens", input_tokens.count),
        Route("POST", "/v1/chat/completions", chat.create, generating=True),
        Route("GET", "/v1/models", models.list_all),
    )
}


def route_for(method: str, path: str) -> Route | None:
    """The route serving ``method path``, or None."""
    return ROUTES.get((method, path))
