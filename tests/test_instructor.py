"""INSTRUCTOR.md stays true: its links, the sections it names, the commands and snippets it gives,
and the check messages it quotes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import urllib.request
from itertools import pairwise
from pathlib import Path

import pytest

from course_checks.authoring import EXERCISES
from course_simulator import Simulator, instructor
from course_simulator import __main__ as server_cli
from course_simulator.class_keys import ClassKeys, parse_keys
from course_simulator.classroom import attach

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
    sim = Simulator(rpm=20, tpm=10_000, clock=lambda: 1000.0).start()  # no refill mid-burst
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


# --- the class-server recipe: one, complete, and it runs as written ------------------------------


def section(title: str) -> str:
    start = TEXT.index(f"\n### {title}\n")
    end = TEXT.find("\n## ", start)
    return TEXT[start:end]


def option_strings(parser) -> set[str]:
    found = set()
    for action in parser._actions:
        found.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
        for sub in getattr(action, "choices", None) or {}:
            if hasattr(action.choices[sub], "_actions"):
                found |= option_strings(action.choices[sub])
    return found


def test_the_reference_lists_every_flag():
    reference = section("Reference")
    flags = option_strings(server_cli.build_parser()) | option_strings(instructor.build_parser())
    assert {"--max-connections", "--api-key-file", "--read-timeout-s", "--hold-max-s"} <= flags
    missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){f}(?![\w-])", reference))
    assert not missing, f"INSTRUCTOR.md's Reference does not list {missing}"
    for command in instructor.COMMANDS:
        assert f"course_simulator {command}" in reference


def recipe(name: str) -> str:
    found = re.search(rf"<!-- recipe: {name} -->\n```bash\n(.*?)```", TEXT, re.S)
    assert found, f"INSTRUCTOR.md has no recipe block {name!r}"
    return found.group(1)


def test_the_readme_gives_the_guides_recipe_not_another():
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("class server")
    blocks = re.findall(r"```bash\n(.*?)```", readme[start : readme.index("## Course map")], re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(lines) >= 6
    guide = "\n".join(recipe(n) for n in ("make-keys", "start", "learner")).splitlines()
    assert all(line in guide for line in lines), [x for x in lines if x not in guide]
    assert "OPENAI_API_KEY=class" not in readme  # no shared key: a key per learner


def as_here(script: str) -> str:
    """The guide's commands with this checkout's Python (the guide assumes the venv is active)."""
    return re.sub(r"(?<![\w/.-])python(?= )", sys.executable, script)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_class_server_recipe_runs_as_written(tmp_path):
    """Steps 1 to 4 and the admin commands, run as the guide gives them; only the address
    (loopback, a free port) and the final `make lab` (one call through get_client) differ."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "COURSE_BACKEND", "COURSE_SIM_"))}  # fmt: skip

    def bash(script: str, stdin: str = "", extra: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", as_here(script)], cwd=tmp_path, input=stdin,
            capture_output=True, text=True, timeout=120, env={**env, **(extra or {})},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    made = bash(recipe("make-keys"))
    keys = list(parse_keys((tmp_path / "class-keys.txt").read_text()))
    assert len(keys) == 30 and not any(key in made for key in keys)
    token = bash(recipe("admin-token") + 'printf %s "$COURSE_SIM_ADMIN_TOKEN"\n')
    admin_env = {"COURSE_SIM_ADMIN_TOKEN": token}

    port = free_port()
    start = recipe("start").strip()
    assert "--host 0.0.0.0 --port 8000" in start
    start = start.replace("--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port}")
    server = subprocess.Popen(
        ["bash", "-c", "exec " + as_here(start)], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**env, **admin_env},
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline() for _ in range(7)]
        learners = next(line for line in banner if line.startswith("Learners: "))
        url = learners.removeprefix("Learners: OPENAI_BASE_URL=").strip()
        assert url == f"http://127.0.0.1:{port}/v1"
        root = url.removesuffix("/v1")

        learner = recipe("learner")
        assert learner.rstrip().endswith("make lab")
        probe = (
            'python -c "from course_utils import DEFAULT_MODEL, get_client; '
            "print(get_client(max_retries=0).responses.create(model=DEFAULT_MODEL, "
            "input='Say hi.', max_output_tokens=16).object)\""
        )
        learner = learner.replace("http://192.168.1.20:8000/v1", url)
        learner = learner.replace("/tmp/class-spend.json", str(tmp_path / "spend.json"))
        answered = bash(learner.replace("make lab", probe), stdin=keys[0] + "\n")
        assert answered.splitlines()[-1] == "response"

        admin = recipe("admin").replace("http://127.0.0.1:8000", root)
        said = bash(admin, extra=admin_env)
        assert said.startswith("rpm=60 tpm=100000 fail_rate=0% latency_ms=0\n")
        assert "Now: rpm=20 tpm=10000" in said and "Saved to class-keys.state.json" in said
        with urllib.request.urlopen(root + "/live.json", timeout=10) as reply:
            live = json.load(reply)
        assert [r["status"] for r in live["learners"]] == ["fine"] + ["not_connected"] * 29
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert not any(key in out + err for key in keys) and token not in out + err
