"""Token helpers against raw tiktoken: prints ratios (lower is better), asserts nothing.

Targets: count_tokens / raw encode <= 1.1 (the encoding is cached, so the wrapper adds almost
nothing), and chunk_text / one raw encode of the same text <= 3 on every input class: prose,
CJK with no spaces or sentence ends, minified JSON, base64, and a long whitespace run (the
classes with no sentence or word breaks used to make chunk_text quadratic).
Run: python bench/tokens.py
"""

from __future__ import annotations

import base64
import json
import random
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

    print(f"\nchunk_text / one raw encode, by input class (budget {budget} tokens, target <= 3):")
    for name, text in input_classes(megabyte).items():
        raw_t = best_of(lambda text=text: enc.encode_ordinary(text), 3)
        chunk_t = best_of(lambda text=text: chunk_text(text, budget, MODEL), 3)
        print(
            f"  {name:<14} {len(text):>9,} chars  raw {raw_t * 1e3:7.1f} ms  "
            f"chunk_text {chunk_t * 1e3:7.1f} ms  ratio {chunk_t / raw_t:5.2f}"
        )


def input_classes(prose: str) -> dict[str, str]:
    """About 200k characters of each class the issue names, seeded."""
    rng = random.Random(16)
    records = [
        {"id": i, "name": f"item-{i}", "price": rng.randrange(100, 99_999) / 100, "ok": i % 3 == 0}
        for i in range(3500)
    ]
    return {
        "prose": prose[:200_000],
        "cjk": "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(200_000)),
        "minified_json": json.dumps(records, separators=(",", ":"))[:200_000],
        "base64": base64.b64encode(rng.randbytes(150_000)).decode()[:200_000],
        "whitespace": "start" + " " * 200_000 + "end",
    }


if __name__ == "__main__":
    main()
