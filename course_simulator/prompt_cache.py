"""Prompt caching as the service describes it: repeated prefixes are served from a cache.

The rules (OpenAI's prompt-caching guide, and the installed SDK's parameter docs):

- automatic for an input of ``MIN_CACHED_TOKENS`` (1,024) tokens or more; shorter inputs never
  report cached tokens;
- a hit needs an **exact prefix match** with a recent request of the same API key and model,
  and the same ``prompt_cache_key`` when one is sent (a request without a key only meets others
  without one); one changed token early on and nothing after it can match;
- cached tokens come in steps: 1,024, then 1,024 + 128·k, never more than the shared prefix;
- an entry expires after ``DEFAULT_TTL_S`` of inactivity (each hit or write renews it);
  ``prompt_cache_retention="24h"`` or ``prompt_cache_options={"ttl": "12h"}`` keep it longer.

``PromptCache`` keeps, for every request of 1,024 tokens or more, one fingerprint per step
boundary (a hash chained over the tokens up to it), so a lookup is one pass over the input and
memory grows with the number of 128-token blocks, not with their text. Reported in
``usage.input_tokens_details.cached_tokens`` (Responses) and
``usage.prompt_tokens_details.cached_tokens`` (Chat). Cache *writes* are reported as 0: models
before gpt-5.6 (every model in the course catalogue) do not bill them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from course_utils.tokens import content_text, encoding_for

from .error_replies import bad_request

__all__ = [
    "CACHED_PREFILL_SHARE",
    "CACHE_STEP_TOKENS",
    "DEFAULT_TTL_S",
    "MAX_BLOCKS",
    "MIN_CACHED_TOKENS",
    "OPTIONS_TTL_S",
    "RETENTION_TTL_S",
    "CacheSettings",
    "PromptCache",
    "cache_settings",
    "cacheable_tokens",
    "prompt_token_ids",
]

MIN_CACHED_TOKENS = 1024  # the shortest input (and shortest prefix) that can be cached
CACHE_STEP_TOKENS = 128  # cached prefixes grow in blocks of this many tokens after the first
DEFAULT_TTL_S = 10 * 60.0  # in-memory retention: gone after minutes without a request using it
RETENTION_TTL_S = {"in_memory": DEFAULT_TTL_S, "24h": 24 * 3600.0}  # prompt_cache_retention
OPTIONS_TTL_S = {"30m": 30 * 60.0, "12h": 12 * 3600.0}  # prompt_cache_options.ttl
MAX_BLOCKS = 200_000  # fingerprints kept in all (about 25M tokens of prefixes); oldest go first
# Reading a cached token costs this share of the time it takes to process a fresh one: the
# simulated time to first token drops with the cached prefix (live: "up to 80% lower latency").
CACHED_PREFILL_SHARE = 0.1

# The chat wrapper's special tokens (counted by tokens.count_message_tokens) as ids no real
# token has, so the sequence is exactly as long as the input is billed.
_START, _SEP, _END, _NAME = -1, -2, -3, -4
_PRIMER = (-5, -6, -7)


def cacheable_tokens(shared_prefix_tokens: int) -> int:
    """How many tokens of a shared prefix the cache serves: 0 below 1,024, else 1,024 + 128·k."""
    if shared_prefix_tokens < MIN_CACHED_TOKENS:
        return 0
    blocks = (shared_prefix_tokens - MIN_CACHED_TOKENS) // CACHE_STEP_TOKENS
    return MIN_CACHED_TOKENS + blocks * CACHE_STEP_TOKENS


def prompt_token_ids(messages: Sequence[Mapping[str, object]], model: str) -> list[int]:
    """The token sequence of chat ``messages`` as the model reads it, wrapper tokens included.

    Its length equals ``tokens.count_message_tokens(messages, model)``: the same count the
    request is billed, so cached tokens can never exceed the input.
    """
    enc = encoding_for(model)
    ids: list[int] = []
    for message in messages:
        ids.append(_START)
        ids.extend(enc.encode_ordinary(str(message["role"])))
        name = message.get("name")
        if name:
            ids.append(_NAME)
            ids.extend(enc.encode_ordinary(str(name)))
        ids.append(_SEP)
        ids.extend(enc.encode_ordinary(content_text(message.get("content"))))
        ids.append(_END)
    ids.extend(_PRIMER)
    return ids


# --- the request's caching parameters -------------------------------------------------------


@dataclass(frozen=True)
class CacheSettings:
    """What a request asks of the cache: its ``prompt_cache_key`` and how long entries live."""

    key: str | None = None
    ttl_s: float = DEFAULT_TTL_S
    enabled: bool = True  # False: prompt_cache_options.mode "explicit" with no breakpoints


def _choice(value: object, allowed: Mapping[str, float], param: str) -> float:
    if value not in allowed:
        choices = ", ".join(repr(v) for v in allowed)
        raise bad_request(
            f"Invalid value for '{param}': expected one of {choices}, but got {value!r}.",
            param,
            "invalid_value",
        )
    return allowed[str(value)]


def cache_settings(body: Mapping[str, object]) -> CacheSettings:
    """The request's caching parameters, checked as the service checks them (400s).

    ``prompt_cache_key`` (a string), ``prompt_cache_retention`` (``"in_memory"`` or ``"24h"``;
    deprecated in the SDK for ``prompt_cache_options.ttl``) and ``prompt_cache_options``
    (``mode`` implicit/explicit, ``ttl`` 30m/12h, ``comparison_response_id``, ``prewarm``).
    """
    key = body.get("prompt_cache_key")
    if key is not None and not isinstance(key, str):
        raise bad_request(
            f"Invalid type for 'prompt_cache_key': expected a string, but got "
            f"{type(key).__name__} instead.",
            "prompt_cache_key",
            "invalid_type",
        )
    ttl_s = DEFAULT_TTL_S
    retention = body.get("prompt_cache_retention")
    if retention is not None:
        ttl_s = _choice(retention, RETENTION_TTL_S, "prompt_cache_retention")
    options = body.get("prompt_cache_options")
    enabled = True
    if options is not None:
        if not isinstance(options, Mapping):
            raise bad_request(
                f"Invalid type for 'prompt_cache_options': expected an object, but got "
                f"{type(options).__name__} instead.",
                "prompt_cache_options",
                "invalid_type",
            )
        if options.get("ttl") is not None:
            ttl_s = max(ttl_s, _choice(options["ttl"], OPTIONS_TTL_S, "prompt_cache_options.ttl"))
        mode = options.get("mode")
        if mode is not None:
            _choice(mode, {"implicit": 0, "explicit": 0}, "prompt_cache_options.mode")
            # Explicit mode caches only at prompt_cache_breakpoint markers, which the simulator
            # does not read: such a request uses no cache, as one with no breakpoints would.
            enabled = mode == "implicit"
        if options.get("prewarm"):
            raise bad_request(
                "The course simulator does not simulate 'prompt_cache_options.prewarm' (a "
                "request that only fills the cache). Send the request without it: its first "
                "call fills the cache anyway.",
                "prompt_cache_options.prewarm",
                "unsupported_value",
            )
    return CacheSettings(key or None, ttl_s, enabled)


# --- the cache -----------------------------------------------------------------------------


class PromptCache:
    """Fingerprints of recently seen prompt prefixes, per scope, expiring after inactivity.

    ``serve(scope, ids)`` is one request: it returns the cached tokens (the longest stored
    prefix, on the 1,024 + 128·k grid) and then stores the request's own prefixes. ``scope``
    holds what must match besides the tokens (API key, model, ``prompt_cache_key``). The clock
    is injectable (the simulator's own), so tests move time instead of waiting.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_blocks: int = MAX_BLOCKS,
    ) -> None:
        if isinstance(max_blocks, bool) or not isinstance(max_blocks, int) or max_blocks < 1:
            raise ValueError(f"max_blocks must be a whole number >= 1, got {max_blocks!r}")
        self._clock = clock
        self.max_blocks = max_blocks
        # fingerprint -> (last used on the clock, seconds of inactivity it survives)
        self._blocks: OrderedDict[bytes, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many prefix fingerprints are stored (expired ones included until looked up)."""
        return len(self._blocks)

    def __repr__(self) -> str:
        return f"<PromptCache {len(self):,} blocks (at most {self.max_blocks:,})>"

    def clear(self) -> None:
        """Forget every entry (``Simulator.reset()`` calls this)."""
        with self._lock:
            self._blocks.clear()

    @staticmethod
    def _fingerprints(scope: tuple[object, ...], ids: Sequence[int]) -> list[bytes]:
        """One chained hash per step boundary (1,024, 1,152, ...) of ``ids``, in order."""
        h = hashlib.blake2b(repr(scope).encode("utf-8"), digest_size=16)
        prints: list[bytes] = []
        start = 0
        end = MIN_CACHED_TOKENS
        while end <= len(ids):
            h.update(array("q", ids[start:end]).tobytes())
            prints.append(h.copy().digest())
            start, end = end, end + CACHE_STEP_TOKENS
        return prints

    def serve(
        self, scope: tuple[object, ...], ids: Sequence[int], ttl_s: float = DEFAULT_TTL_S
    ) -> int:
        """Cached tokens for a request with token ``ids`` in ``scope``; then remember its prefixes.

        A stored prefix counts only while it is fresh (used within its ``ttl_s``); each hit and
        each write renews it, and the oldest fingerprints go once ``max_blocks`` are stored.
        """
        prints = self._fingerprints(scope, ids)
        if not prints:
            return 0
        now = self._clock()
        hits = 0
        with self._lock:
            for fp in prints:
                entry = self._blocks.get(fp)
                if entry is None:
                    break
                used, life = entry
                if now - used > life:
                    del self._blocks[fp]
                    break
                hits += 1
            for fp in prints:
                old = self._blocks.pop(fp, None)
                life = max(ttl_s, old[1]) if old is not None and now - old[0] <= old[1] else ttl_s
                self._blocks[fp] = (now, life)
            while len(self._blocks) > self.max_blocks:
                self._blocks.popitem(last=False)
        return 0 if hits == 0 else MIN_CACHED_TOKENS + (hits - 1) * CACHE_STEP_TOKENS
