"""The simulator's Batch API through the real SDK: files, batches, every status path.

Batches run on a fast time scale here (a "24h" window in well under a second) so no test waits
long; ``sim.batch.timings`` slows the schedule where a test needs to catch a batch mid-way.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from conftest import warnings_as_errors
from openai.types import Batch, FileDeleted, FileObject
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from course_simulator import Simulator
from course_simulator.batch_objects import BatchTimings
from course_simulator.endpoints import allowed_methods, match_route
from course_utils.pricing import DEFAULT_MODEL

FAST = 1e7  # simulated seconds per real second: a whole 24h window in ~9 ms
TERMINAL = ("completed", "failed", "expired", "cancelled")


def line(custom_id: str, prompt: str = "Explain tokens in one sentence.", **body: Any) -> dict:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/responses",
        "body": {"model": DEFAULT_MODEL, "input": prompt, "max_output_tokens": 60, **body},
    }


def jsonl(rows: list[Any]) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def upload(client: openai.OpenAI, data: bytes, name: str = "requests.jsonl") -> FileObject:
    return client.files.create(file=(name, io.BytesIO(data)), purpose="batch")


def submit(client: openai.OpenAI, rows: list[Any], endpoint: str = "/v1/responses") -> Batch:
    f = upload(client, jsonl(rows))
    return client.batches.create(
        input_file_id=f.id,
        endpoint=endpoint,  # type: ignore[arg-type]
        completion_window="24h",
    )


def wait(
    client: openai.OpenAI, batch_id: str, until: Callable[[Batch], bool] | None = None
) -> Batch:
    """Poll until the batch ends (or ``until`` holds); fails after 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch = client.batches.retrieve(batch_id)
        if (until or (lambda b: b.status in TERMINAL))(batch):
            return batch
        time.sleep(0.01)
    raise AssertionError(f"batch {batch_id} did not get there: {batch}")


def read_lines(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(t) for t in client.files.content(file_id).text.splitlines()]


@pytest.fixture
def fast(make_sim: Callable[..., Simulator]) -> Simulator:
    return make_sim(batch_time_scale=FAST)


@pytest.fixture
def client(fast: Simulator) -> openai.OpenAI:
    return fast.client(max_retries=0)


# --- the router ---------------------------------------------------------------------------------


def test_path_parameters_match_one_segment_and_exact_paths_win() -> None:
    route, params = match_route("GET", "/v1/files/file-abc/content") or (None, None)
    assert route is not None and route.path == "/v1/files/{file_id}/content"
    assert params == {"file_id": "file-abc"}
    assert match_route("GET", "/v1/files//content") is None
    assert match_route("POST", "/v1/responses/input_tokens")[0].path.endswith("input_tokens")  # type: ignore[index]
    assert allowed_methods("/v1/files/file-abc") == ["GET", "DELETE"]


def test_a_wrong_method_on_a_file_gets_405_naming_the_allowed_ones(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.put("/files/file-abc", cast_to=object)
    assert info.value.status_code == 405
    assert info.value.response.headers["allow"] == "GET, DELETE"


# --- files --------------------------------------------------------------------------------------


def test_a_file_round_trips_in_the_sdk_types_without_warnings(client: openai.OpenAI) -> None:
    data = jsonl([line("a"), line("b")])
    with warnings_as_errors():
        raw = client.files.with_raw_response.create(
            file=("requests.jsonl", io.BytesIO(data)), purpose="batch"
        )
        created = FileObject.model_validate(json.loads(raw.text))
        assert (created.purpose, created.bytes, created.filename) == (
            "batch",
            len(data),
            "requests.jsonl",
        )
        assert created.id.startswith("file-") and created.expires_at is not None
        assert client.files.retrieve(created.id) == created
        assert client.files.content(created.id).content == data
        assert [f.id for f in client.files.list(purpose="batch")] == [created.id]
        deleted = client.files.delete(created.id)
        FileDeleted.model_validate(deleted.model_dump())
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)


@pytest.mark.parametrize(
    ("name", "purpose", "param", "code"),
    [
        ("requests.txt", "batch", "file", "invalid_file_format"),
        ("requests.jsonl", "homework", "purpose", "invalid_value"),
    ],
)
def test_uploads_are_checked_like_the_service(
    client: openai.OpenAI, name: str, purpose: str, param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=(name, io.BytesIO(b"{}\n")), purpose=purpose)  # type: ignore[arg-type]
    assert (info.value.param, info.value.code) == (param, code)


def test_a_batch_file_over_the_size_limit_is_refused(
    fast: Simulator, client: openai.OpenAI
) -> None:
    fast.batch.max_batch_file_bytes = 100  # the service's 200 MB, scaled down for the test
    with pytest.raises(openai.BadRequestError) as info:
        upload(client, jsonl([line("a"), line("b")]))
    assert info.value.code == "file_too_large" and "200 MB" in info.value.message


def test_a_json_upload_is_told_to_use_multipart(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.post("/files", body={"purpose": "batch"}, cast_to=object)
    assert "multipart/form-data" in info.value.message


def test_files_belong_to_the_key_that_uploaded_them(fast: Simulator, client: openai.OpenAI) -> None:
    f = upload(client, jsonl([line("a")]))
    other = fast.client(api_key="another-learner-key", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.files.retrieve(f.id)
    assert list(other.files.list()) == []


# --- a batch that completes ---------------------------------------------------------------------


def test_a_batch_completes_with_one_line_per_request(
    fast: Simulator, client: openai.OpenAI
) -> None:
    prompts = ["Explain tokens in one sentence.", "What is a rate limit? Answer in 20 words."]
    created = submit(client, [line(f"q{i}", p) for i, p in enumerate(prompts)])
    assert created.status == "validating" and created.request_counts.total == 0  # type: ignore[union-attr]
    done = wait(client, created.id)
    with warnings_as_errors():
        raw = client.batches.with_raw_response.retrieve(done.id)
        strict = Batch.model_validate(json.loads(raw.text))
    assert strict.status == "completed" and strict.model == DEFAULT_MODEL
    assert strict.request_counts is not None
    assert (strict.request_counts.total, strict.request_counts.completed) == (2, 2)
    stamps = [strict.created_at, strict.in_progress_at, strict.finalizing_at, strict.completed_at]
    assert all(s is not None for s in stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    assert strict.expires_at == strict.created_at + 24 * 3600
    assert strict.error_file_id is None
    out = read_lines(client, strict.output_file_id)
    assert [r["custom_id"] for r in out] == ["q0", "q1"]
    online = fast.client(max_retries=0)
    for record, prompt in zip(out, prompts, strict=True):
        assert record["id"].startswith("batch_req_") and record["error"] is None
        assert record["response"]["status_code"] == 200
        assert record["response"]["request_id"].startswith("req_")
        body = Response.model_validate(record["response"]["body"])
        same = online.responses.create(model=DEFAULT_MODEL, input=prompt, max_output_tokens=60)
        assert body.output_text == same.output_text  # the same simulated model, no copy
        assert body.usage == same.usage
    assert strict.usage is not None
    assert strict.usage.input_tokens == sum(
        r["response"]["body"]["usage"]["input_tokens"] for r in out
    )


def test_a_chat_completions_batch(client: openai.OpenAI) -> None:
    row = {
        "custom_id": "c1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "Hi there"}]},
    }
    done = wait(client, submit(client, [row], endpoint="/v1/chat/completions").id)
    assert done.status == "completed"
    (record,) = read_lines(client, done.output_file_id)
    ChatCompletion.model_validate(record["response"]["body"])


def test_a_line_the_endpoint_refuses_lands_in_the_error_file(client: openai.OpenAI) -> None:
    done = wait(client, submit(client, [line("ok"), line("bad", max_output_tokens=3)]).id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    (error,) = read_lines(client, done.error_file_id)
    assert error["custom_id"] == "bad" and error["error"] is None
    assert error["response"]["status_code"] == 400
    assert error["response"]["body"]["error"]["param"] == "max_output_tokens"


def test_faults_apply_to_lines_and_never_as_a_429(fast: Simulator, client: openai.OpenAI) -> None:
    fast.queue_faults([None, "server_error", "rate_limit"])
    done = wait(client, submit(client, [line("a"), line("b"), line("c")]).id)
    errors = {r["custom_id"]: r["response"] for r in read_lines(client, done.error_file_id)}
    assert sorted(errors) == ["b", "c"]
    assert {e["status_code"] for e in errors.values()} == {500}  # a batch line never sees a 429
    assert errors["b"]["body"]["error"]["type"] == "server_error"


def test_fail_rate_applies_to_lines(make_sim: Callable[..., Simulator]) -> None:
    client = make_sim(batch_time_scale=FAST, fail_rate=0.5, seed=3).client(max_retries=0)
    done = wait(client, submit(client, [line(f"q{i}") for i in range(40)]).id)
    assert done.request_counts is not None
    assert 5 < done.request_counts.failed < 35
    assert done.request_counts.completed + done.request_counts.failed == 40
    assert len(read_lines(client, done.error_file_id)) == done.request_counts.failed


def test_batch_work_takes_nothing_from_the_per_minute_buckets(
    make_sim: Callable[..., Simulator],
) -> None:
    sim = make_sim(batch_time_scale=FAST, rpm=1, tpm=500)
    client = sim.client(max_retries=0)
    done = wait(client, submit(client, [line(f"q{i}") for i in range(20)]).id)
    assert done.request_counts is not None and done.request_counts.completed == 20
    # the one request a minute is still there for an online call
    client.responses.create(model=DEFAULT_MODEL, input="Hi", max_output_tokens=16)


# --- failing validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "code", "line_no", "param"),
    [
        ([line("a"), "{not json"], "invalid_json_line", 2, None),
        ([{**line("a"), "custom_id": ""}], "missing_required_parameter", 1, "custom_id"),
        ([line("a"), line("b"), line("a")], "duplicate_custom_id", 3, "custom_id"),
        ([{**line("a"), "url": "/v1/completions"}], "url_mismatch", 1, "url"),
        ([{**line("a"), "method": "GET"}], "invalid_value", 1, "method"),
        ([line("a"), line("b", model="gpt-4.1")], "model_mismatch", 2, "body.model"),
        ([{**line("a"), "body": "hello"}], "invalid_type", 1, "body"),
        ([line("a"), "", line("b")], "invalid_json_line", 2, None),
    ],
)  # fmt: skip
def test_a_bad_input_file_fails_the_batch_naming_the_line(
    client: openai.OpenAI, rows: list[Any], code: str, line_no: int, param: str | None
) -> None:
    done = wait(client, submit(client, rows).id)
    assert done.status == "failed" and done.failed_at is not None
    assert done.output_file_id is None and done.in_progress_at is None
    assert done.errors is not None and done.errors.data
    first = done.errors.data[0]
    assert (first.code, first.line, first.param) == (code, line_no, param)
    assert f"{line_no}" in (first.message or "")


def test_an_empty_file_and_too_many_lines_fail(fast: Simulator, client: openai.OpenAI) -> None:
    done = wait(client, submit(client, []).id)
    assert done.errors is not None and done.errors.data[0].code == "empty_file"
    fast.batch.max_requests = 3  # the service's 50,000, scaled down for the test
    done = wait(client, submit(client, [line(f"q{i}") for i in range(4)]).id)
    assert done.errors is not None and done.errors.data[0].code == "too_many_tasks"


@pytest.mark.parametrize(
    ("change", "param", "status"),
    [
        ({"completion_window": "1h"}, "completion_window", 400),
        ({"endpoint": "/v1/embeddings"}, "endpoint", 400),
        ({"input_file_id": "file-missing"}, "id", 404),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", 400),
    ],
)
def test_create_checks_its_parameters(
    client: openai.OpenAI, change: dict, param: str, status: int
) -> None:
    f = upload(client, jsonl([line("a")]))
    body = {"input_file_id": f.id, "endpoint": "/v1/responses", "completion_window": "24h"}
    body.update(change)
    with pytest.raises(openai.APIStatusError) as info:
        client.batches.create(**body)
    assert (info.value.status_code, getattr(info.value, "param", None)) == (status, param)


def test_only_a_batch_purpose_file_can_feed_a_batch(client: openai.OpenAI) -> None:
    f = client.files.create(file=("notes.jsonl", io.BytesIO(b"{}\n")), purpose="user_data")
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(input_file_id=f.id, endpoint="/v1/responses", completion_window="24h")
    assert "purpose 'batch'" in info.value.message


def test_the_enqueued_token_limit_fails_a_batch_with_the_services_error(
    make_sim: Callable[..., Simulator],
) -> None:
    client = make_sim(batch_time_scale=FAST, batch_enqueued_tokens=30).client(max_retries=0)
    done = wait(client, submit(client, [line(f"q{i}") for i in range(5)]).id)
    assert done.status == "failed" and done.errors is not None
    (problem,) = done.errors.data
    assert problem.code == "token_limit_exceeded" and "Limit: 30 enqueued tokens" in (
        problem.message or ""
    )


# --- cancel, expiry, listing, stopping -----------------------------------------------------------


def slow(sim: Simulator, lines_per_hour: float) -> None:
    sim.batch.timings = BatchTimings(queue_s=0, lines_per_hour=lines_per_hour)


def test_cancel_keeps_the_finished_part(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(batch_time_scale=3600)  # 10 lines a simulated hour: one every 0.1 s real
    slow(sim, 10)
    client = sim.client(max_retries=0)
    batch = submit(client, [line(f"q{i}") for i in range(50)])
    wait(
        client, batch.id, lambda b: b.request_counts is not None and b.request_counts.completed > 1
    )
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    done = wait(client, batch.id)
    assert done.status == "cancelled" and done.cancelled_at is not None
    finished = read_lines(client, done.output_file_id)
    unfinished = read_lines(client, done.error_file_id)
    assert len(finished) >= 2 and len(unfinished) > 0 and len(finished) + len(unfinished) == 50
    assert {r["error"]["code"] for r in unfinished} == {"batch_cancelled"}
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (
        len(finished),
        len(unfinished),
    )
    with pytest.raises(openai.ConflictError):  # SDK retries off: a finished batch stays finished
        client.batches.cancel(wait(client, submit(client, [line("x")]).id).id)


def test_a_batch_expires_with_the_unfinished_lines_in_the_error_file(
    make_sim: Callable[..., Simulator],
) -> None:
    sim = make_sim(batch_time_scale=FAST)
    slow(sim, 4)  # 4 lines per simulated hour: 96 fit in the 24h window
    client = sim.client(max_retries=0)
    done = wait(client, submit(client, [line(f"q{i}") for i in range(100)]).id)
    assert done.status == "expired" and done.expired_at == done.expires_at
    finished = read_lines(client, done.output_file_id)
    expired = read_lines(client, done.error_file_id)
    assert len(finished) == 95 and len(expired) == 5  # on the schedule, not the machine's speed
    assert {r["error"]["code"] for r in expired} == {"batch_expired"}
    assert [r["custom_id"] for r in finished + expired] == [f"q{i}" for i in range(100)]


def test_listing_pages_newest_first(client: openai.OpenAI) -> None:
    ids = [submit(client, [line("a")]).id for _ in range(3)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more is True
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]  # auto-pagination
    raw = json.loads(client.batches.with_raw_response.list(limit=2).text)
    assert (raw["first_id"], raw["last_id"]) == (ids[2], ids[1])
    assert [b.id for b in client.batches.list(after=ids[1])] == [ids[0]]
    with pytest.raises(openai.BadRequestError):
        client.batches.list(limit=101)


def test_stop_ends_the_worker_threads(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(batch_time_scale=3600)
    slow(sim, 1)
    client = sim.client(max_retries=0)
    submit(client, [line(f"q{i}") for i in range(5)])
    assert sim.batch.running_workers == 1
    started = time.monotonic()
    sim.stop()
    assert sim.batch.running_workers == 0 and time.monotonic() - started < 2


def test_reset_forgets_files_and_batches(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    f = upload(client, jsonl([line("a")]))
    sim.reset()
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(f.id)


def test_the_default_scale_runs_a_small_batch_in_about_a_second(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    started = time.monotonic()
    done = wait(client, submit(client, [line("a"), line("b")]).id)
    elapsed = time.monotonic() - started
    assert done.status == "completed"
    simulated = (done.completed_at or 0) - done.created_at
    assert 1000 < simulated < 3600  # tens of simulated minutes ...
    assert 0.2 < elapsed < 5  # ... are a fraction of a real second at 3600x


def test_bad_settings_fail_when_the_simulator_is_built() -> None:
    with pytest.raises(ValueError, match="batch_time_scale"):
        Simulator(batch_time_scale=0)
    with pytest.raises(ValueError, match="batch_enqueued_tokens"):
        Simulator(batch_enqueued_tokens=-1)


def test_the_cli_takes_the_batch_settings() -> None:
    from course_simulator.__main__ import build_parser

    args = build_parser().parse_args(["--batch-time-scale", "7200", "--batch-enqueued-tokens", "9"])
    assert (args.batch_time_scale, args.batch_enqueued_tokens) == (7200.0, 9)
    assert build_parser().parse_args([]).batch_time_scale == 3600.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--batch-time-scale", "0"])
