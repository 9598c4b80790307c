"""What each lesson costs to execute: wall time, the kernel's CPU, and the cells that take it.

Every CPU second a lesson costs is paid three or four times by ``make test`` (Run All twice in
tests/test_learner_view.py, once in live mode, parts in tests/test_lessons.py, the browser suite),
so this is the figure to watch when a lesson gets slower. Each notebook runs in a real kernel as
tests/notebook_kernel.py starts it (JupyterLab's environment: no ``MPLBACKEND``, no key), and
before the kernel exits its CPU is read from the operating system: the kernel process itself
(its threads, e.g. the lesson's simulator) and its children (CLI runs, simulator processes;
ended ones as the kernel reaped them, running ones as they are).

    python bench/lessons.py [--runs 2] [--top 5] [03 05 notebooks/08_batch_at_scale.ipynb ...]

With no names it runs every lesson (notebooks/) and solution (solutions/); a name can be a
path, or a prefix of a file name or of its path (``03``, ``02_retry``, ``notebooks/``).
``--runs 2`` is Run All twice in one kernel, as the learner-view test does. Prints figures
only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from notebook_kernel import kernel_env, running_kernel  # noqa: E402  (the tests' own kernel)

__all__ = ["Cost", "main", "measure"]

FOLDERS = ("notebooks", "solutions")
# What make does not set for a learner (tests/test_learner_view.py's environment, minus the key)
MAKEFILE_ONLY = ("COURSE_BACKEND", "PYTHONHASHSEED", "OPENAI_API_KEY", "OPENAI_BASE_URL")


@dataclass
class Cost:
    """One notebook's figures: seconds of wall time and of CPU, per cell and in all."""

    wall_s: float = 0.0
    startup_cpu_s: float = 0.0  # the kernel's own start (ipykernel's imports) before cell 1
    kernel_cpu_s: float = 0.0  # the kernel process: its main thread and every thread it started
    children_cpu_s: float = 0.0  # processes the kernel started (reaped or still running)
    runs_cpu_s: list[float] = field(default_factory=list)  # per Run All (the first pays imports)
    errors: list[str] = field(default_factory=list)
    cells: dict[str, list[float]] = field(default_factory=dict)  # id -> [wall s, cpu s]

    @property
    def cpu_s(self) -> float:
        return self.kernel_cpu_s + self.children_cpu_s


def _cpu(process: psutil.Process) -> tuple[float, float]:
    """(own CPU, children's CPU) of the kernel: reaped children plus the ones still running."""
    times = process.cpu_times()
    children = times.children_user + times.children_system
    for child in process.children(recursive=True):
        try:
            live = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        children += live.user + live.system
    return times.user + times.system, children


def measure(path: Path, runs: int) -> Cost:
    """Execute ``path`` ``runs`` times in one kernel and read what it cost."""
    cost = Cost()
    env = {k: v for k, v in kernel_env().items() if k not in MAKEFILE_ONLY}
    started = time.perf_counter()
    with running_kernel(path, env) as client:
        kernel = psutil.Process(client.km.provisioner.pid)  # type: ignore[union-attr]
        cost.startup_cpu_s = sum(_cpu(kernel))
        for _ in range(runs):
            run_started = sum(_cpu(kernel))
            for index, cell in enumerate(client.nb.cells):
                if cell.cell_type != "code":
                    continue
                fresh = nbformat.from_dict({**cell, "outputs": []})
                client.nb.cells[index] = fresh
                cell_started, cpu_before = time.perf_counter(), sum(_cpu(kernel))
                client.execute_cell(fresh, index)
                spent = cost.cells.setdefault(str(fresh.get("id")), [0.0, 0.0])
                spent[0] += time.perf_counter() - cell_started
                spent[1] += sum(_cpu(kernel)) - cpu_before
                cost.errors += [
                    f"{fresh.get('id')}: {out.ename}"
                    for out in fresh.outputs
                    if out.output_type == "error"
                    and "raises-exception" not in fresh.get("metadata", {}).get("tags", [])
                ]
            cost.runs_cpu_s.append(sum(_cpu(kernel)) - run_started)
        cost.kernel_cpu_s, cost.children_cpu_s = _cpu(kernel)
    cost.wall_s = time.perf_counter() - started
    return cost


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _paths(names: list[str]) -> list[Path]:
    every = [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]
    if not names:
        return every
    chosen = []
    for name in names:
        if Path(name).is_file():
            chosen.append(Path(name).resolve())
            continue
        matches = [p for p in every if p.name.startswith(name) or _relative(p).startswith(name)]
        if not matches:
            raise SystemExit(f"no notebook in {', '.join(FOLDERS)} starts with {name!r}")
        chosen += matches
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook paths or file-name prefixes")
    parser.add_argument("--runs", type=int, default=1, help="Run All this many times per kernel")
    parser.add_argument("--top", type=int, default=4, help="cells to list per notebook")
    args = parser.parse_args()
    os.environ.pop("COURSE_BACKEND", None)  # the simulator, as a learner gets it by default
    paths = _paths(args.names)
    load = os.getloadavg()[0]
    print(f"{len(paths)} notebook(s), Run All x{args.runs} per kernel; load {load:.2f}")
    print(f"{'wall s':>7} {'CPU s':>6} {'kernel':>6} {'child':>6} {'start':>5}  notebook")
    total = 0.0
    for path in paths:
        cost = measure(path, args.runs)
        total += cost.cpu_s
        name = _relative(path)
        print(f"{cost.wall_s:7.1f} {cost.cpu_s:6.1f} {cost.kernel_cpu_s:6.1f} "
              f"{cost.children_cpu_s:6.1f} {cost.startup_cpu_s:5.1f}  {name}")  # fmt: skip
        slowest = sorted(cost.cells.items(), key=lambda item: -item[1][0])[: args.top]
        print("        top cells (wall s / CPU s): "
              + ", ".join(f"{cid} {w:.1f}/{c:.1f}" for cid, (w, c) in slowest))  # fmt: skip
        if args.runs > 1:
            print("        CPU s per Run All: " + ", ".join(f"{c:.1f}" for c in cost.runs_cpu_s))
        if cost.errors:
            print("        error outputs: " + ", ".join(cost.errors))
        sys.stdout.flush()
    print(f"{'':7} {total:6.1f}  CPU s in all; load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
