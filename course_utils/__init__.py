"""course_utils: the small package every notebook of the course imports.

Notebooks import from here (``from course_utils import count_tokens, get_client``). Names are
loaded on first use, so importing the package stays fast and a notebook that never draws a
widget never imports ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it: a course_utils module, or one of the two infrastructure
# packages beside it (course_simulator, course_checks) for the few names lessons use from them
_EXPORTS = {
    # tokens
    "count_tokens": "tokens",
    "count_message_tokens": "tokens",
    "encoding_for": "tokens",
    "chunk_text": "tokens",
    "truncate_to_tokens": "tokens",
    "count_request_input": "tokens",
    "estimate_request_tokens": "tokens",
    # pricing
    "DEFAULT_MODEL": "pricing",
    "estimate_cost": "pricing",
    "get_model": "pricing",
    "list_models": "pricing",
    # config
    "backend": "config",
    "budget_usd": "config",
    # client
    "get_client": "client",
    "get_async_client": "client",
    "get_simulator": "client",
    "backend_banner": "client",
    "prepare_browser": "browser",
    "BudgetExceeded": "client",
    "LiveRequestRefused": "spend",
    # spend (live mode: one total per learner)
    "spent_usd": "spend",
    "remaining_usd": "spend",
    "reset_spend": "spend",
    # simulator
    "Simulator": "course_simulator",
    # retries and backoff (lesson 03)
    "JITTERS": "backoff_extras",
    "SDK_RETRY": "backoff_extras",
    "RetryPolicy": "backoff",
    "decorrelated": "backoff_extras",
    "delays": "backoff",
    "equal_jitter": "backoff",
    "exponential": "backoff",
    "fixed": "backoff",
    "full_jitter": "backoff",
    "make_schedule": "backoff_extras",
    "no_jitter": "backoff",
    "parse_retry_after": "backoff",
    "retry_call": "backoff",
    "sdk_jitter": "backoff_extras",
    # client-side rate limiting (lesson 03)
    "RateLimitHeaders": "ratelimit_headers",
    "RateLimiter": "ratelimit",
    "AdaptiveRateLimiter": "ratelimit_extras",
    "ScaledClock": "ratelimit_extras",
    "parse_duration": "ratelimit_headers",
    "rate_limited": "ratelimit_extras",
    "OUTPUT_RESERVE_TOKENS": "ratelimit_extras",
    "read_rate_limit_headers": "ratelimit_headers",
    # timelines of requests and their figures (lesson 03)
    "ceiling": "timeline",
    "events_from_log": "timeline",
    "outcome_counts": "timeline",
    "requests_figure": "timeline",
    "retry_timeline_figure": "timeline",
    "simulate_retries": "timeline",
    "throughput_ratio": "timeline",
    "RetryTimeline": "widgets",
    # errors
    "CATEGORIES": "errors",
    "classify": "errors",
    "categories_markdown": "errors",
    "is_retriable": "errors",
    "CourseError": "errors",
    # results (one record schema: exercise 3, runner, batch)
    "Result": "results",
    "results_markdown": "results_table",
    "usage_dict": "usage",
    # logging
    "setup_logging": "logs",
    # the mini project: a prompt runner at the rate-limit ceiling (lesson 05)
    "run_prompts": "runner",
    "PromptRunner": "runner",
    "read_results": "runner",
    "RunSummary": "runner",
    "SAMPLE_PROMPTS": "runner",
    # the Batch API path (lesson 08): the same prompts through the provider's batch engine
    "run_batch": "runner",
    "batch_input_file": "runner",
    "results_cost_usd": "runner",
    "batch_decision_figure": "plots",
    # prompt efficiency
    "CONCISE_TECHNIQUES": "prompting",
    "TruncatedAnswerError": "prompting",
    "compare_runs": "prompting",
    "load_long_document": "prompting",
    "parse_json_answer": "prompting",
    "preflight_chunks": "prompting",
    "run_prompt": "prompting",
    # prompt caching and streaming (lesson 02 and 04, Going further)
    "CACHE_LAYOUTS": "prompting",
    "cache_layout_runs": "prompting",
    "cost_per_1000": "prompting",
    "cache_layouts_figure": "plots",
    "stream_timing_figure": "plots",
    "StreamRun": "streaming",
    "read_stream": "streaming",
    "stream_with_restart": "streaming",
    # figures and widgets (matplotlib / ipywidgets load only when one is used)
    "chunk_sizes_figure": "plots",
    "cost_per_1000_figure": "plots",
    "PromptComparer": "widgets",
    "show_tokens": "widgets",
    "Quiz": "widgets",
    "model_selection_figure": "plots",
    "benchmark_models": "model_selection",
    "load_reviews": "model_selection",
    "scores_markdown": "model_selection",
    "sweet_spot": "model_selection",
    "LabelledItem": "model_selection",
    "Checklist": "widgets",
    "QUESTIONS": "quiz",
    "CHECKLIST": "quiz",
    # exercises
    "check": "course_checks",
    "hint": "course_checks",
    "solution": "course_checks",
    # showing the code a lesson teaches (highlighted, collapsible)
    "show_source": "code_view",
    # notebook demo helpers
    "scripted_faults": "demo",
    "side_by_side": "demo",
    "try_it": "demo",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    qualified = module if module.startswith("course_") else f"{__name__}.{module}"
    value = getattr(importlib.import_module(qualified), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
