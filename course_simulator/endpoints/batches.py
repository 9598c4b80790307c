"""``/v1/batches``: create a batch over an uploaded file, retrieve, list and cancel it.

The parameters are checked here as the service checks them (an endpoint the simulator can run,
``completion_window`` ``24h`` only, ``metadata`` of at most 16 short string pairs); the work
itself runs in the background (``batch_worker``), so ``create`` answers at once with a batch in
``validating``.
"""

from __future__ import annotations

from ..batch_worker import (
    BATCH_ENDPOINTS,
    COMPLETION_WINDOWS,
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
)
from ..error_replies import bad_request
from ..params import require
from ..protocol import Call, Host, Reply
from .files import page, query_params

__all__ = ["cancel", "create", "list_all", "retrieve"]


def _metadata(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise bad_request(
            "Invalid 'metadata': expected an object of string keys and string values.",
            "metadata",
            "invalid_type",
        )
    if len(value) > MAX_METADATA_PAIRS:
        raise bad_request(
            f"Invalid 'metadata': at most {MAX_METADATA_PAIRS} key-value pairs, got {len(value)}.",
            "metadata",
            "invalid_value",
        )
    for key, text in value.items():
        if len(key) > MAX_METADATA_KEY or len(text) > MAX_METADATA_VALUE:
            raise bad_request(
                f"Invalid 'metadata': keys may be at most {MAX_METADATA_KEY} characters and values "
                f"at most {MAX_METADATA_VALUE}; {key[:40]!r} is too long.",
                "metadata",
                "invalid_value",
            )
    return dict(value)


def create(host: Host, call: Call) -> Reply:
    """POST /v1/batches."""
    body = call.body
    input_file_id = require(body, "input_file_id")
    if not isinstance(input_file_id, str):
        raise bad_request(
            "Invalid type for 'input_file_id': expected a file id string such as 'file-abc123'.",
            "input_file_id",
            "invalid_type",
        )
    endpoint = require(body, "endpoint")
    if endpoint not in BATCH_ENDPOINTS:
        raise bad_request(
            f"Invalid value for 'endpoint': {endpoint!r}. The course simulator runs batches for "
            f"{' and '.join(BATCH_ENDPOINTS)}.",
            "endpoint",
            "invalid_value",
        )
    window = require(body, "completion_window")
    if window not in COMPLETION_WINDOWS:
        raise bad_request(
            f"Invalid value for 'completion_window': {window!r}. Supported values are: "
            f"{', '.join(repr(w) for w in COMPLETION_WINDOWS)}.",
            "completion_window",
            "invalid_value",
        )
    metadata = _metadata(body.get("metadata"))
    job = host.batch.create(call.key or "", input_file_id, str(endpoint), str(window), metadata)
    return Reply(200, job.created_object or job.object())


def retrieve(host: Host, call: Call) -> Reply:
    """GET /v1/batches/{batch_id}."""
    return Reply(200, host.batch.get(call.key or "", call.params["batch_id"]).object())


def cancel(host: Host, call: Call) -> Reply:
    """POST /v1/batches/{batch_id}/cancel."""
    return Reply(200, host.batch.cancel(call.key or "", call.params["batch_id"]).object())


def list_all(host: Host, call: Call) -> Reply:
    """GET /v1/batches: newest first, ``limit`` 1-100 (default 20), cursor ``after``."""
    data = [job.object() for job in host.batch.batches(call.key or "")]
    return Reply(200, page(data, query_params(call), 20, 100))
