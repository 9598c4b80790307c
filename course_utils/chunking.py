"""Cutting text to a token budget: ``chunk_text`` (pieces in order) and ``truncate_to_tokens``.

Both count with the model's real tiktoken vocabulary and never split a character. ``chunk_text``
prefers to cut between sentences, then between words, and cuts inside a word only when that word
alone is over the budget.
"""

from __future__ import annotations

import re

import tiktoken

from .pricing import DEFAULT_MODEL
from .vocab import encoding_for

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
