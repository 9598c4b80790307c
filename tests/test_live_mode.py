"""Live mode at the default spend cap: the lessons run without a refusal or an error.

A learner who sets ``COURSE_BACKEND=openai`` keeps the default cap (0.50 USD, one total across
notebooks). The spend guard prices a request at its input plus its output cap, and an uncapped
request at the model's maximum output, so one forgotten ``max_output_tokens`` in a lesson is
refused for every learner (lesson 02's "Five ways" was). Here the lessons run in a real kernel
in live mode against an OpenAI-compatible server (the course simulator, started by the test,
reached over HTTP exactly as the live API would be) with a fresh spend ledger, in class order,
sharing the ledger as a learner does.

A group's lessons share one kernel, each starting from an empty namespace (``%reset -f``): a
name a lesson forgot to define is still an error, while the interpreter, its imports and the
spend guard are set up once per group, not once per lesson. That a lesson runs in a fresh kernel
of its own is proven by test_learner_view.py (twice per lesson); the spend guard keeps its total
in the ledger file, not in the kernel, so sharing a kernel changes nothing it decides.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from notebook_kernel import kernel_env, run_cells, running_kernel, text_of

from course_simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {
    # the 45 minutes in class order, one ledger: the default cap covers the whole class
    "class": [
        "00_start_here",
        "01_tokens",
        "02_prompt_efficiency",
        "03_rate_limits_backoff",
        "04_error_handling",
        "05_mini_project",
    ],
    "after-class": ["06_model_selection", "07_wrap_up", "08_batch_at_scale"],
}
# the spend guard's words (lesson 05's runner says "Not sent:" too, for its own token budget)
REFUSED = (
    "BudgetExceeded",
    "LiveRequestRefused",
    "Not sent: this request could cost",
    "spend guard cannot bound",
)
DEFAULT_CAP_USD = 0.50
EXPECTED_ERROR = "raises-exception"  # a cell that fails on purpose (lesson 04), never refused
# run before each lesson: the names the previous lesson defined are gone, as in a new kernel
FRESH_NAMESPACE = "%reset -f"


@pytest.mark.slow
@pytest.mark.timeout(1200)  # up to six lessons, one after another, on a shared machine
@pytest.mark.parametrize("group", GROUPS, ids=str)
def test_lessons_run_live_at_the_default_cap(group: str, tmp_path: Path) -> None:
    ledger = tmp_path / "spend.json"
    with Simulator(latency_scale=0.02, api_key="sk-live-mode-test") as server:
        env = kernel_env(
            COURSE_BACKEND="openai",
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="sk-live-mode-test",
            COURSE_SPEND_LEDGER=str(ledger),
            PYTHONHASHSEED="0",
        )
        env.pop("COURSE_BUDGET_USD", None)  # the default cap, as a learner has it
        paths = [ROOT / "notebooks" / f"{stem}.ipynb" for stem in GROUPS[group]]
        with running_kernel(paths[0], env) as client:
            for path in paths:
                stem = path.stem
                lesson = nbformat.read(path, as_version=4)
                lesson.cells.insert(0, nbformat.v4.new_code_cell(FRESH_NAMESPACE))
                client.nb = lesson
                reset, *cells = run_cells(client)
                assert not reset.outputs, reset.outputs  # the namespace was emptied
                check_no_error_and_no_refusal(stem, cells)
        served = [r for r in server.requests if r.path == "/v1/responses"]
    assert served, "no lesson request reached the live server"
    spent = json.loads(ledger.read_text("utf-8"))
    assert 0 < spent["spent_usd"] <= DEFAULT_CAP_USD, spent


def check_no_error_and_no_refusal(stem: str, cells: list[nbformat.NotebookNode]) -> None:
    for cell in cells:
        expected_error = EXPECTED_ERROR in cell.metadata.get("tags", [])
        for output in cell.get("outputs", []):
            text = text_of(output)
            if not expected_error:
                assert output.output_type != "error", f"{stem} {cell.id}: {text}"
            assert not any(word in text for word in REFUSED), f"{stem} {cell.id}: {text}"
