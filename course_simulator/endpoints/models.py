"""``GET /v1/models``: the course catalogue's model ids."""

from __future__ import annotations

from course_utils.pricing import list_models

from ..protocol import Call, Host, Reply

__all__ = ["list_all"]


def list_all(host: Host, call: Call) -> Reply:
    """GET /v1/models: the course catalogue's ids."""
    data = [
        {"id": m.id, "object": "model", "created": 1_767_225_600, "owned_by": "course-simulator"}
        for m in list_models()
    ]
    return Reply(200, {"object": "list", "data": data})
