"""Write ``exercises/*.ipynb`` from ``solutions/*.ipynb``: one source per exercise (nbgrader style).

``python -m course_utils.build_exercises [--check]``. Each notebook goes through a short ordered
pipeline of one-job steps (``PIPELINE``): drop cells tagged ``solution-only``, replace every
``### BEGIN SOLUTION`` … ``### END SOLUTION`` region with a stub, clear outputs, give solution
and check cells nbgrader's metadata, and open with a word to the learner and the course map.
The solution notebooks get the same nbgrader metadata (they are nbgrader's source notebooks),
and the course map's blocks in the README, INSTRUCTOR.md and lesson 00 are re-rendered.
A stub keeps the region's indentation; inside a function
it raises ``NotImplementedError`` (which ``check()`` reports as "not started yet"), at top level
it assigns ``...`` to the names the region assigned, so an untouched exercise runs top to bottom.
An optional ``### TODO: <text>`` line right after BEGIN says what the learner should write.
``--check`` writes nothing and exits 1 listing the files that are stale.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import course_map

__all__ = [
    "BEGIN",
    "END",
    "HEADER_CELL_ID",
    "MARKDOWN_STUB",
    "PIPELINE",
    "SOLUTION_ONLY_TAG",
    "TODO_PREFIX",
    "MarkerError",
    "build_notebook",
    "main",
    "render",
    "stale_files",
    "write_all",
]

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
TODO_PREFIX = "### TODO:"
SOLUTION_ONLY_TAG = "solution-only"
MARKDOWN_STUB = "_Write your answer here._"
HEADER_CELL_ID = "generated-notice"
GENERIC_FUNCTION_TODO = "write the body of this function"
GENERIC_TOPLEVEL_TODO = "write your code here"
LINE_LENGTH = 100  # the project's ruff line length
CHECK_POINTS = 1  # what one check cell is worth under nbgrader
STUB_MARK = "# TODO:"  # the first line of every stub the build leaves (a solution cell's mark)


class MarkerError(ValueError):
    """A solution notebook's BEGIN/END SOLUTION markers do not pair up."""


Step = Callable[[NotebookNode, str], NotebookNode]


# --- steps ------------------------------------------------------------------------------------


def drop_solution_only(nb: NotebookNode, source: str) -> NotebookNode:
    """Remove cells tagged ``solution-only`` (demos that would give the answer away)."""
    nb.cells = [
        c for c in nb.cells if SOLUTION_ONLY_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    return nb


def clear_solutions(nb: NotebookNode, source: str) -> NotebookNode:
    """Replace each marked region with a stub (code) or an answer prompt (markdown)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        where = f"{source}, cell {index}"
        regions = find_regions(cell.source, where)
        if not regions:
            continue
        lines = cell.source.splitlines()
        out: list[str] = []
        pos = 0
        for start, end in regions:
            out.extend(lines[pos:start])
            body = lines[start + 1 : end]
            if cell.cell_type == "markdown":
                out.append(MARKDOWN_STUB)
            else:
                out.extend(_code_stub(lines[start], body, where))
            pos = end + 1
        out.extend(lines[pos:])
        cell.source = "\n".join(out)
    return nb


def clear_outputs(nb: NotebookNode, source: str) -> NotebookNode:
    """Empty outputs and execution counts, and drop saved widget state."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


def add_header(nb: NotebookNode, source: str) -> NotebookNode:
    """Open with a word to the learner and the course map, this exercise's row marked.

    (The note for authors, that the file is built from its solution, comes last and small: the
    learner is the one who opens this file.)
    """
    here = "exercises/" + Path(source).name
    header = nbformat.v4.new_markdown_cell(
        "**This notebook is yours to edit:** fill in each `# TODO`, run the cells, and the "
        "`check(...)` cells tell you when you are done.\n\n"
        f"{course_map.render('exercises', covers=False, here=here)}\n\n"
        f"<small>(Authors: this file is built from `{source}` by `make exercises`.)</small>",
        id=HEADER_CELL_ID,
    )
    nb.cells.insert(0, header)
    return nb


def mark_for_nbgrader(nb: NotebookNode, source: str) -> NotebookNode:
    """Give solution and check cells nbgrader's metadata, so nbgrader can grade the exercise.

    A cell with a solution region is a solution cell (nbgrader's ClearSolutions refuses a region
    anywhere else); a cell that calls ``check(...)`` is a locked autograder test cell worth
    ``CHECK_POINTS`` (under nbgrader, a check that does not pass raises, so the cell loses them).
    """
    for cell in nb.cells:
        kind = _nbgrader_kind(cell)
        if kind is None:
            cell.metadata.pop("nbgrader", None)
            continue
        meta = {
            "grade": kind == "check",
            "grade_id": cell.get("id") or f"cell-{nb.cells.index(cell)}",
            "locked": kind == "check",
            "schema_version": 3,
            "solution": kind == "solution",
            "task": False,
        }
        if kind == "check":
            meta["points"] = CHECK_POINTS
        cell.metadata["nbgrader"] = meta
    return nb


def _nbgrader_kind(cell: NotebookNode) -> str | None:
    if cell.cell_type != "code":
        return None
    lines = [line.strip() for line in cell.source.splitlines()]
    if BEGIN in lines or any(line.startswith(STUB_MARK) for line in lines):
        return "solution"
    if any(line.startswith("check(") for line in lines):
        return "check"
    return None


PIPELINE: tuple[Step, ...] = (
    drop_solution_only,
    clear_solutions,
    clear_outputs,
    mark_for_nbgrader,
    add_header,
)


# --- markers and stubs ------------------------------------------------------------------------


def find_regions(text: str, where: str) -> list[tuple[int, int]]:
    """(BEGIN line, END line) index pairs of a cell; a MarkerError names the cell otherwise."""
    regions: list[tuple[int, int]] = []
    start: int | None = None
    for number, line in enumerate(text.splitlines()):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise MarkerError(
                    f"{where}: nested {BEGIN} on line {number + 1} (the region opened on line "
                    f"{start + 1} is not closed); close it with {END} first"
                )
            start = number
        elif marker == END:
            if start is None:
                raise MarkerError(f"{where}: {END} on line {number + 1} has no {BEGIN} before it")
            regions.append((start, number))
            start = None
    if start is not None:
        raise MarkerError(f"{where}: {BEGIN} on line {start + 1} has no {END} after it")
    return regions


def _code_stub(begin_line: str, body: list[str], where: str) -> list[str]:
    indent = begin_line[: len(begin_line) - len(begin_line.lstrip())]
    todo = None
    if body and body[0].strip().startswith(TODO_PREFIX):
        todo = body[0].strip()[len(TODO_PREFIX) :].strip()
        body = body[1:]
    if indent:
        text = todo or GENERIC_FUNCTION_TODO
        message = text.replace("\\", "\\\\").replace('"', '\\"')
        raise_line = f'{indent}raise NotImplementedError("{message}")'
        if len(raise_line) > LINE_LENGTH:  # wrapped as ruff format would, so lint stays clean
            raise_line = f'{indent}raise NotImplementedError(\n{indent}    "{message}"\n{indent})'
        return [f"{indent}# TODO: {text}", raise_line]
    stub = [f"# TODO: {todo or GENERIC_TOPLEVEL_TODO}"]
    stub += [f"{name} = ..." for name in _assigned_names("\n".join(body), where)]
    return stub


def _assigned_names(code: str, where: str) -> list[str]:
    """Top-level names a region binds (assignments and defs), in order, each once."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise MarkerError(f"{where}: the solution region is not valid Python ({err.msg})") from None
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                add(element)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            add(node.target)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            add(ast.Name(node.name))
    return names


# --- notebooks and files ----------------------------------------------------------------------


def build_notebook(nb: NotebookNode, source: str) -> NotebookNode:
    """Run every step of ``PIPELINE`` over a copy of a solution notebook."""
    result = nbformat.from_dict(nb)
    for step in PIPELINE:
        result = step(result, source)
    return result


def render(solution_path: Path) -> str:
    """The exercise notebook's exact file text for one solution notebook (stable JSON)."""
    nb = nbformat.read(solution_path, as_version=4)
    built = build_notebook(nb, f"solutions/{solution_path.name}")
    text = nbformat.writes(built)
    return text if text.endswith("\n") else text + "\n"


def marked_source(solution_path: Path) -> str:
    """The solution notebook's own text with nbgrader's metadata on its solution and check
    cells (nbgrader's source notebook), otherwise unchanged."""
    nb = nbformat.read(solution_path, as_version=4)
    text = nbformat.writes(mark_for_nbgrader(nb, f"solutions/{solution_path.name}"))
    return text if text.endswith("\n") else text + "\n"


def _plan(solutions: Path, exercises: Path) -> dict[Path, str]:
    plan = {}
    for path in sorted(solutions.glob("*.ipynb")):
        plan[path] = marked_source(path)
        plan[exercises / path.name] = render(path)
    return plan


def stale_files(solutions: Path, exercises: Path) -> list[Path]:
    """Exercise files that are missing, differ from a fresh build, or have no solution source."""
    plan = _plan(solutions, exercises)
    stale = [
        path
        for path, text in plan.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    stale += [p for p in sorted(exercises.glob("*.ipynb")) if p not in plan]
    if solutions.resolve() == (ROOT / "solutions").resolve():  # the course's own documents
        stale += [ROOT / t for t in course_map.stale_targets(ROOT)]
    return stale


def write_all(solutions: Path, exercises: Path) -> list[Path]:
    """Regenerate every exercise notebook; returns the files whose content changed."""
    exercises.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in _plan(solutions, exercises).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    if solutions.resolve() == (ROOT / "solutions").resolve():
        changed += [ROOT / t for t in course_map.sync(ROOT)]
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build (default) or ``--check`` for staleness."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.build_exercises",
        description="Write exercises/*.ipynb from solutions/*.ipynb (never edit exercises/), "
        "nbgrader's metadata into both, and the course map into the documents that show it.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if exercises/ is stale")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"error: no solutions folder at {args.solutions}", file=sys.stderr)
        return 2
    try:
        if args.check:
            stale = stale_files(args.solutions, args.exercises)
            for path in stale:
                print(f"stale: {path}", file=sys.stderr)
            if stale:
                print("exercises/ is out of date: run `make exercises`", file=sys.stderr)
                return 1
            print("exercises/ is up to date")
            return 0
        changed = write_all(args.solutions, args.exercises)
    except (MarkerError, course_map.MapError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    orphans = [
        p for p in sorted(args.exercises.glob("*.ipynb")) if not (args.solutions / p.name).exists()
    ]
    for path in orphans:
        print(f"warning: {path} has no solutions/{path.name}; delete it by hand", file=sys.stderr)
    print(f"wrote {len(changed)} exercise notebook(s); {len(orphans)} orphan(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
