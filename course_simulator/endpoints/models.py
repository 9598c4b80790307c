"""``GET /v1/models`` and ``GET /v1/models/{model}``: the course catalogue's model ids."""

from __future__ import annotations

from course_utils.pricing import list_models

from ..error_replies import SimError
from ..protocol import Call, Host, Reply

__all__ = ["list_all", "retrieve"]

CREATED = 1_767_225_600  # one fixed creation time, so every listing is the same


def _model_object(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": "course-simulator"}


def list_all(host: Host, call: Call) -> Reply:
    """GET /v1/models: the course catalogue's ids."""
    data = [_model_object(m.id) for m in list_models()]
    return Reply(200, {"object": "list", "data": data})


def retrieve(host: Host, call: Call) -> Reply:
    """GET /v1/models/{model}: one catalogue model, or the service's 404 ``model_not_found``."""
    model_id = call.params["model"]
    if any(m.id == model_id for m in list_models()):
        return Reply(200, _model_object(model_id))
    raise SimError(
        404,
        f"The model '{model_id}' does not exist or you do not have access to it.",
        "invalid_request_error",
        code="model_not_found",
        outcome="not_found",
    )
