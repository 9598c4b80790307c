"""``/v1/files``: upload (multipart), list, retrieve, read the content of, and delete files.

Files are kept in memory per API key (``batch_worker.BatchService``); a batch reads its input
file from here and writes its output and error files here. Uploads are checked the way the
service checks them: a ``purpose`` from its list, and for ``purpose=batch`` a ``.jsonl`` file of
at most 200 MB.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from ..batch_worker import FILE_PURPOSES, MAX_FILE_BYTES
from ..error_replies import SimError, bad_request
from ..protocol import Call, Host, Reply

__all__ = [
    "MAX_UPLOAD_BODY_BYTES",
    "content",
    "create",
    "delete",
    "list_all",
    "page",
    "parse_multipart",
    "query_params",
    "retrieve",
]

MAX_UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 1024 * 1024  # the file plus the multipart framing
_DISPOSITION = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a ``multipart/form-data`` body: name -> (filename or None, bytes)."""
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        raise bad_request(
            "The upload's Content-Type has no multipart boundary: send the file as "
            "multipart/form-data (the SDK's client.files.create does).",
        )
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, sep, body = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("The multipart body is malformed: a part has no blank line.")
        disposition = ""
        for header in head.decode("latin-1").split("\r\n"):
            name, _, value = header.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value
        found = dict(_DISPOSITION.findall(disposition))
        if "name" in found:
            filename = found.get("filename")
            fields[found["name"]] = (filename, body.removesuffix(b"\r\n"))
    return fields


def create(host: Host, call: Call) -> Reply:
    """POST /v1/files: store an upload, return its ``FileObject``."""
    kind = call.headers.get("Content-Type") or ""
    if not kind.lower().startswith("multipart/form-data"):
        raise bad_request(
            "Upload files as multipart/form-data with the fields 'file' and 'purpose' "
            "(client.files.create(file=open('requests.jsonl', 'rb'), purpose='batch')).",
        )
    fields = parse_multipart(kind, call.raw)
    purpose_field = fields.get("purpose")
    if purpose_field is None or not purpose_field[1].strip():
        raise bad_request(
            "Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter"
        )
    purpose = purpose_field[1].decode("utf-8", "replace").strip()
    if purpose not in FILE_PURPOSES:
        raise bad_request(
            f"Invalid value for 'purpose': {purpose!r}. Supported values are: "
            f"{', '.join(repr(p) for p in FILE_PURPOSES)}.",
            "purpose",
            "invalid_value",
        )
    upload = fields.get("file")
    if upload is None:
        raise bad_request(
            "Missing required parameter: 'file'.", "file", "missing_required_parameter"
        )
    filename, data = upload
    filename = filename or "upload"
    if len(data) > MAX_FILE_BYTES:
        raise bad_request(
            f"The file is {len(data):,} bytes; a file may be at most {MAX_FILE_BYTES:,}.",
            "file",
            "file_too_large",
        )
    if purpose == "batch":
        limit = host.batch.max_batch_file_bytes
        if not filename.lower().endswith(".jsonl"):
            raise bad_request(
                f"The Batch API only reads .jsonl files; '{filename}' is not one. Name the file "
                "requests.jsonl (one request object a line).",
                "file",
                "invalid_file_format",
            )
        if len(data) > limit:
            raise bad_request(
                f"A batch input file may be at most {limit:,} bytes (200 MB); this one is "
                f"{len(data):,}. Split the requests over several files and batches.",
                "file",
                "file_too_large",
            )
    stored = host.batch.add_file(call.key or "", filename, purpose, data)
    return Reply(200, stored.object())


def retrieve(host: Host, call: Call) -> Reply:
    """GET /v1/files/{file_id}."""
    return Reply(200, host.batch.file(call.key or "", call.params["file_id"]).object())


def content(host: Host, call: Call) -> Reply:
    """GET /v1/files/{file_id}/content: the file's bytes."""
    stored = host.batch.file(call.key or "", call.params["file_id"])
    kind = "application/jsonl" if stored.filename.endswith(".jsonl") else "application/octet-stream"
    return Reply(200, None, content=stored.data, content_type=kind)


def delete(host: Host, call: Call) -> Reply:
    """DELETE /v1/files/{file_id}."""
    file_id = call.params["file_id"]
    host.batch.delete_file(call.key or "", file_id)
    return Reply(200, {"id": file_id, "object": "file", "deleted": True})


def query_params(call: Call) -> dict[str, str]:
    """The query string's parameters (the last value of a repeated one)."""
    return {k: v[-1] for k, v in parse_qs(call.query).items()}


def list_all(host: Host, call: Call) -> Reply:
    """GET /v1/files: this key's files, newest first unless ``order=asc``; cursor ``after``."""
    query = query_params(call)
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(
            f"Invalid value for 'order': {order!r}; use 'asc' or 'desc'.", "order", "invalid_value"
        )
    files = host.batch.files(call.key or "", query.get("purpose"))
    if order == "desc":
        files.reverse()
    data = [f.object() for f in files]
    return Reply(200, page(data, query, 10_000, 10_000))


def page(data: list[dict], query: dict[str, str], default: int, most: int) -> dict:
    """One page of a cursor-paginated list, as the SDK's ``CursorPage`` reads it."""
    raw = query.get("limit", str(default))
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if not 1 <= limit <= most:
        raise bad_request(
            f"Invalid value for 'limit': {raw!r}; expected a whole number from 1 to {most:,}.",
            "limit",
            "invalid_value",
        )
    after = query.get("after")
    if after:
        ids = [item["id"] for item in data]
        if after not in ids:
            raise SimError(
                404, f"No object found with id '{after}' to list after.", param="after",
                code="not_found", outcome="not_found",
            )  # fmt: skip
        data = data[ids.index(after) + 1 :]
    shown = data[:limit]
    return {
        "object": "list",
        "data": shown,
        "first_id": shown[0]["id"] if shown else None,
        "last_id": shown[-1]["id"] if shown else None,
        "has_more": len(data) > limit,
    }
