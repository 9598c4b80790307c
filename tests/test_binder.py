"""Binder / JupyterHub: the course works from `pip install -r requirements.txt`, with no `make`.

repo2docker reads `runtime.txt` for the Python version (without it, it picks the newest one that
`requires-python` allows, not the 3.11 the course is tested on) and `requirements.txt` for the
rest. These tests hold both. The lessons run the way a Binder user's kernel runs them (no
Makefile environment: no COURSE_BACKEND, MPLBACKEND or PYTHONHASHSEED, no key) in
tests/test_learner_view.py, every lesson and solution, once for both purposes.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "notebooks/00_start_here.ipynb"


def test_runtime_txt_pins_the_python_the_course_is_tested_on():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert sys.version_info[:2] == (3, 11), "CI runs the Python that runtime.txt names"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"


def test_make_binder_link_opens_the_start_page(tmp_path: Path):
    """The launch link (README, "Run it on Binder") for a GitHub copy of the course."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "remote",
            "add",
            "origin",
            "git@github.com:a-school/llm-course.git",
        ],
        check=True,
    )
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "binder-link", f"REPO_DIR={repo}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ("https://mybinder.org/v2/gh/a-school/llm-course/HEAD?urlpath=lab/tree/" + START) in out
    assert "https://mybinder.org/badge_logo.svg" in out  # the badge's Markdown, ready to paste


def test_make_binder_link_says_what_is_missing_without_a_github_remote(tmp_path: Path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    run = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-C",
            str(ROOT),
            "binder-link",
            f"REPO_DIR={tmp_path}",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "no GitHub remote" in run.stdout + run.stderr
