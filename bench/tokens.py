"""Token helpers against raw tiktoken: prints ratios (lower is better), asserts nothing.

Targets: count_tokens / raw encode <= 1.1 (the encoding is cached, so the wrapper adds almost
nothing), and chunk_text on 1 MB / one raw encode of it <= 3.
Run: python bench/tokens.py
"""

from __future__ import annotations

import statistics
import time
from importlib import resources

from course_utils.tokens import chunk_text, count_tokens, encoding_for

MODEL = "gpt-5.4-mini"


def best_of(fn, repeat: int) -> float:
    """Fastest of ``repeat`` runs in seconds (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    doc = resources.files("course_utils").joinpath("data/long_document.txt")
    base = doc.read_text("utf-8") if doc.is_file() else ""
    if not base:  # the lesson's document is not there yet: any prose of many sentences will do
        base = "Rate limits protect a shared service. Tokens measure text! Do retries help? " * 40
    enc = encoding_for(MODEL)
    count_tokens("warm up", MODEL)

    paragraph = base[:2000]
    loops = 2000
    wrapped, raw = float("inf"), float("inf")
    for _ in range(9):  # interleaved, so a busy moment of the machine hits both sides alike
        wrapped = min(
            wrapped, best_of(lambda: [count_tokens(paragraph, MODEL) for _ in range(loops)], 1)
        )
        raw = min(
            raw, best_of(lambda: [len(enc.encode_ordinary(paragraph)) for _ in range(loops)], 1)
        )
    print(f"count_tokens on {len(paragraph):,} chars x {loops}: {wrapped * 1e3:.1f} ms")
    print(f"len(raw tiktoken encode), same work:  {raw * 1e3:.1f} ms")
    print(f"ratio count_tokens / raw encode: {wrapped / raw:.3f}  (target <= 1.1)")

    megabyte = (base * (1_000_000 // len(base) + 1))[:1_000_000]
    budget = 500
    raw_big = best_of(lambda: enc.encode_ordinary(megabyte), 3)
    chunk_times = []
    for _ in range(3):
        start = time.perf_counter()
        chunks = chunk_text(megabyte, budget, MODEL)
        chunk_times.append(time.perf_counter() - start)
    sizes = [count_tokens(c, MODEL) for c in chunks]
    print(
        f"\nchunk_text on {len(megabyte):,} chars, budget {budget} tokens: "
        f"{min(chunk_times) * 1e3:.0f} ms -> {len(chunks):,} chunks "
        f"(median {statistics.median(sizes):.0f}, max {max(sizes)} tokens)"
    )
    print(f"one raw encode of the same text:       {raw_big * 1e3:.0f} ms")
    print(f"ratio chunk_text / raw encode: {min(chunk_times) / raw_big:.2f}  (target <= 3)")


if __name__ == "__main__":
    main()
