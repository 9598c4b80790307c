"""Answers already written: the simulated model is deterministic, so a repeated request is
answered from memory instead of being written again.

Same model, same messages and same settings always give the same ``Answer``
(``model.generate``), and writing one is most of what a request costs the server (reading the
prompt, choosing facts, composing, counting its tokens). A class runs the same lesson cells and
a runner retries the same prompts, so the server keeps the newest ``MAX_ANSWERS`` answers.
What a reply carries beyond the answer (ids, timestamps, usage of the prompt cache, rate-limit
headers, faults) is made fresh for every request, as before.

A key is a 16-byte BLAKE2 digest of everything ``generate`` is given, written as JSON: a long
input costs the memo 16 bytes, and only JSON values (what a request body holds) are keyed; any
other value is simply not remembered.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

from .model import Answer

__all__ = ["MAX_ANSWERS", "AnswerMemo", "answer_key"]

MAX_ANSWERS = 2048  # answers kept (a few KB each at most); the least recently used goes first

_KEY_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def answer_key(*inputs: object) -> bytes | None:
    """The digest of ``inputs`` (JSON values only), or None for anything JSON cannot hold."""
    try:
        text = _KEY_JSON.encode(inputs)
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).digest()


class AnswerMemo:
    """A bounded, thread-safe memory of answers by ``answer_key``."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: bytes | None, make: Callable[[], Answer]) -> Answer:
        """The answer remembered under ``key``, else ``make()`` (remembered unless key is None)."""
        if key is None:
            return make()
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
                return found
        answer = make()  # outside the lock: two threads may write the same answer once each
        with self._lock:
            self._answers[key] = answer
            if len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer

    def __len__(self) -> int:
        return len(self._answers)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
