"""INSTRUCTOR.md stays true: its links, the sections it names, the commands and snippets it gives,
and the check messages it quotes."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from itertools import pairwise
from pathlib import Path

import pytest

from course_checks.authoring import EXERCISES
from course_simulator import Simulator, instructor
from course_simulator import __main__ as server_cli
from course_simulator.classroom import ClassKeys, attach

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "INSTRUCTOR.md"
TEXT = GUIDE.read_text("utf-8")
# Files the guide may name before they land on main (a branch holds them). Delete an entry once
# its file has landed; the test then insists it exists like every other link.
PENDING: set[str] = set()
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_PATH = re.compile(r"`((?:notebooks|exercises|solutions|course_utils|tests)/[^`\s]+)`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


ANCHORS = {slug(h) for h in re.findall(r"^#+ (.+)$", TEXT, flags=re.M)}


def test_every_link_and_named_file_exists():
    targets = set(LINK.findall(TEXT)) | set(CODE_PATH.findall(TEXT))
    assert len(targets) > 20
    missing = []
    for target in sorted(targets):
        path, _, anchor = target.partition("#")
        if not path:
            if anchor not in ANCHORS:
                missing.append(f"#{anchor} (no such heading)")
            continue
        if path.startswith(("http://", "https://")):
            continue
        if not (ROOT / path).exists() and path not in PENDING:
            missing.append(path)
    assert not missing, f"INSTRUCTOR.md names what does not exist: {missing}"


def test_lessons_06_and_07_are_named_exactly():
    for name in ("notebooks/06_model_selection.ipynb", "notebooks/07_wrap_up.ipynb"):
        assert f"({name})" in TEXT


def test_the_run_sheet_covers_45_minutes_without_a_gap():
    rows = re.findall(r"^\| (\d+)–(\d+) \| \[", TEXT, flags=re.M)
    spans = [(int(a), int(b)) for a, b in rows]
    assert spans[0][0] == 0 and spans[-1][1] == 45
    assert all(prev[1] == nxt[0] for prev, nxt in pairwise(spans)), spans


def headings(notebook: Path) -> list[str]:
    """The notebook's markdown headings, without their '(min 8–9)' / '(2 min)' suffixes."""
    cells = json.loads(notebook.read_text("utf-8"))["cells"]
    found = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("#"):
                title = re.sub(r"\s*\((?:min [\d–-]+|[\d.]+ min)\)\s*$", "", line.lstrip("# "))
                found.append(title.strip())
    return found


def test_the_sections_the_run_sheet_names_are_in_their_lessons():
    """Each quoted section title in a run-sheet row is a heading of that row's notebook."""
    rows = re.findall(r"^\| [\d–]+ \| \[[^\]]+\]\(([^)]+)\) \|(.*)$", TEXT, flags=re.M)
    checked = 0
    for notebook, rest in rows:
        path = ROOT / notebook
        if not path.exists():
            assert notebook in PENDING
            continue
        titles = headings(path)
        for quoted in re.findall(r'"([^"]+)"', rest):
            assert quoted in titles, f"{notebook} has no section {quoted!r}: {titles}"
            checked += 1
        for number in re.findall(r"§(\d+)", rest):
            assert any(t.startswith(f"{number}. ") for t in titles), (notebook, number)
    assert checked >= 10


def test_quoted_check_messages_name_real_rules():
    """Every '❌ FAIL (rule n: title)' quoted names a rule the exercise really states."""
    quoted = re.findall(r"❌ FAIL \(rule (\d+): ([^)…]+?)\) — `(\w+)", TEXT)
    assert len(quoted) >= 12
    for number, title, function in quoted:
        rules = EXERCISES[function].rules
        assert rules[int(number) - 1] == title, (function, number, title)
    for number, function in re.findall(r"❌ FAIL \(rule (\d+): …\) — `(\w+)", TEXT):
        assert 1 <= int(number) <= len(EXERCISES[function].rules)


def commands() -> list[list[str]]:
    """Every `python -m course_simulator ...` line of the guide's shell blocks."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", TEXT, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("python -m course_simulator"):
                found.append(shlex.split(line)[3:])
    return found


def test_every_simulator_command_in_the_guide_parses():
    argvs = commands()
    assert len(argvs) >= 6
    assert any(a and a[0] == "admin" for a in argvs) and any(a[:1] == ["make-keys"] for a in argvs)
    for argv in argvs:
        if argv and argv[0] in instructor.COMMANDS:
            instructor.build_parser().parse_args(argv)
        else:
            args = server_cli.build_parser().parse_args(argv)
            assert args.keys_file and args.rpm and args.tpm


def snippet(name: str) -> str:
    found = re.search(rf"<!-- instructor-snippet: {name} -->\n```python\n(.*?)```", TEXT, re.S)
    assert found, name
    return found.group(1)


@pytest.fixture
def class_server(monkeypatch, tmp_path):
    """A class server with the run sheet's 18–28 limits, and a learner's exported variables."""
    sim = Simulator(rpm=20, tpm=10_000).start()
    attach(sim, keys=ClassKeys({"class-ada-k3v9q2m8x1": "Ada"}, prefix="class-"))
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "class-ada-k3v9q2m8x1")
    monkeypatch.setenv("COURSE_SPEND_LEDGER", str(tmp_path / "class-spend.json"))
    try:
        yield sim
    finally:
        sim.stop()
    assert not sim.server_errors


def run_snippet(name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet(name), f"INSTRUCTOR.md:{name}", "exec"), {})
    return out.getvalue()


def test_the_own_key_snippet_meets_the_limit_through_get_client(class_server):
    printed = run_snippet("own-key")
    assert printed.splitlines()[-1] == "20 answered, 10 refused with 429"
    labels = {r.key_hint for r in class_server.requests}
    assert len(labels) == 1 and len(class_server.requests) == 30


def test_the_one_key_snippet_uses_the_shared_key(class_server):
    class_server.limiter.set_limits(600, None)  # one learner alone: no herd, no real waits
    printed = run_snippet("one-key")
    assert printed.splitlines()[-1] == "5 answered, 0 lost after the SDK's retries"
    assert "class-ada" not in {r.key_hint for r in class_server.requests}
