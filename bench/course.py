"""Wall time of executing every course notebook top to bottom; the lessons against 60 s.

The target (issue 27): lessons 00-08 together in at most 60 s, no core-path cell over 5 s. The
slowest cell of each notebook is printed so a slow demo is easy to find.

Run: ``COURSE_BACKEND=simulator python bench/course.py`` (``make bench`` sets the environment).
Notebooks run one after another in fresh kernels, as nbval does; the figure includes kernel
start-up. Prints figures only: a slow notebook is a reason to shorten a demo, not a test failure.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["FOLDERS", "TARGET_S", "main", "run_notebook"]

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions", "exercises")
TARGET_S = 60.0
CELL_TIMEOUT_S = 60


def run_notebook(path: Path) -> tuple[float, str]:
    """Execute one notebook in a fresh kernel; (seconds, "ok" or the error, its slowest cell)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={
        "metadata": {"path": str(path.parent)}
    }, record_timing=True)  # fmt: skip
    started = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except Exception as exc:  # report and keep timing the others
        status = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:80]}"
    return time.perf_counter() - started, f"{status}; {_slowest_cell(nb)}"


def _slowest_cell(nb: nbformat.NotebookNode) -> str:
    """'slowest cell <id> 1.2 s', from the execution timestamps nbclient records."""
    from datetime import datetime

    slowest, where = 0.0, "none"
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
            if seconds > slowest:
                slowest, where = seconds, str(cell.get("id"))
    return f"slowest cell {where} {slowest:.1f} s"


def main() -> int:
    """Time each notebook, then the total against ``TARGET_S``."""
    os.environ.setdefault("COURSE_BACKEND", "simulator")
    os.environ.setdefault("MPLBACKEND", "Agg")
    paths = [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]
    if not paths:
        print("no notebooks found under " + ", ".join(FOLDERS))
        return 0
    print(f"Executing {len(paths)} notebooks (backend {os.environ['COURSE_BACKEND']}), serially")
    total = lessons = 0.0
    for path in paths:
        seconds, status = run_notebook(path)
        total += seconds
        lessons += seconds if path.parent.name == "notebooks" else 0.0
        print(f"{seconds:7.2f} s  {path.relative_to(ROOT)}  {status}", flush=True)
    verdict = "within" if lessons <= TARGET_S else "OVER"
    print(f"{lessons:7.2f} s  lessons (notebooks/), serial ({verdict} the {TARGET_S:.0f} s target)")
    print(f"{total:7.2f} s  total, serial")
    print(f"{total / 2:7.2f} s  estimate with `pytest -n 2 --dist loadfile` (2 workers, ideal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
