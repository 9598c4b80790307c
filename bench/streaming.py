"""Streaming and prompt caching through the real SDK: prints figures, asserts nothing.

1. Time to first token vs total time for a long answer, streamed and not, on a simulator at
   the catalogue's full latency (what lesson 02 measures with ``X-Sim-Latency-Scale: 1``).
2. Cost per 1,000 requests of lesson 02's caching example (a 2,000-token handbook and six
   questions) in each layout: with cache hits (stable first) and without (dynamic first,
   timestamp first), for every model in the catalogue.

Run: PYTHONPATH=$PWD python bench/streaming.py
"""

from __future__ import annotations

import statistics

from course_simulator import Simulator
from course_utils.pricing import DEFAULT_MODEL, list_models
from course_utils.prompting import cache_layout_runs, cost_per_1000, load_long_document, run_prompt
from course_utils.tokens import truncate_to_tokens

LONG_ASK = "Write a comprehensive, detailed explanation of how tokens work in language models."
QUESTIONS = [  # lesson 02's
    "How do we roll back a bad deploy?",
    "Who is on call at weekends?",
    "What counts as a severity-1 incident?",
    "How long do we keep logs?",
    "When should we page the database team?",
    "What does a 429 mean?",
]


def streaming(repeat: int = 3) -> None:
    print(f"1. Time to first token vs total ({DEFAULT_MODEL}, catalogue latency, best of {repeat})")
    with Simulator(latency_scale=1.0) as sim:
        client = sim.client(max_retries=0)
        plain = [run_prompt(client, LONG_ASK) for _ in range(repeat)]
        streamed = [run_prompt(client, LONG_ASK, stream=True) for _ in range(repeat)]
        client.close()
    p_total = min(r.latency_s for r in plain)
    s_first = min(r.first_token_s or 0.0 for r in streamed)
    s_total = min(r.latency_s for r in streamed)
    tokens = plain[0].output_tokens
    print(f"   answer: {plain[0].input_tokens} input + {tokens} output tokens, "
          f"same in both: {all(r.output_tokens == tokens for r in streamed)}")  # fmt: skip
    print(
        f"   not streamed: first text {p_total * 1000:6,.0f} ms = total {p_total * 1000:6,.0f} ms"
    )
    sooner, longer = p_total / s_first, s_total / p_total
    print(
        f"   streamed:     first text {s_first * 1000:6,.0f} ms,  total {s_total * 1000:6,.0f} ms"
    )
    print(f"   first text {sooner:.1f}x sooner when streamed; total time x{longer:.2f}")
    spread = statistics.pstdev(r.latency_s for r in streamed) * 1000
    print(f"   streamed totals spread: {spread:.0f} ms over {repeat} runs")


def caching() -> None:
    print("\n2. Cost per 1,000 requests, lesson 02's example (2,000-token handbook, 6 questions)")
    handbook = truncate_to_tokens(load_long_document(), 2_000)
    header = f"   {'model':14} {'every hit':>10} {'stable first':>13} {'dynamic first':>14}"
    print(header + f" {'timestamp first':>16}  cached tokens (stable first)")
    for model in list_models():
        with Simulator() as sim:
            client = sim.client(max_retries=0)
            runs = cache_layout_runs(client, handbook, QUESTIONS, model=model.id,
                                     max_output_tokens=100)  # fmt: skip
            client.close()
        costs = [cost_per_1000(r) for r in runs.values()]
        hits = cost_per_1000(runs["stable first"][1:])  # once the cache is warm
        cached = [r.cached_tokens for r in runs["stable first"]]
        print(f"   {model.id:14} ${hits:9.3f} ${costs[0]:12.3f} ${costs[1]:13.3f} "
              f"${costs[2]:15.3f}  {cached}")  # fmt: skip
    print("   every hit: stable first once the cache is warm; the other columns are the mean of")
    print("   the six measured requests, whose first one is a cache miss in every layout")


if __name__ == "__main__":
    streaming()
    caching()
