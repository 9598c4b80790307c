"""How long an answer takes: the fixed latency plus a share of the model's catalogue profile.

The profile is a time to first token (more for a long input, much less for its cached part)
plus a time per output token. A request may add fixed latency (``X-Sim-Latency-Ms``) or set its
own share of the profile (``X-Sim-Latency-Scale``, 1 = the catalogue's full latency), so a
lesson can show realistic streaming on the shared simulator; the live API ignores both headers.
"""

from __future__ import annotations

from .error_replies import bad_request
from .model import profile
from .prompt_cache import CACHED_PREFILL_SHARE
from .protocol import Call

__all__ = ["MAX_EXTRA_LATENCY_MS", "MAX_LATENCY_SCALE", "latency_parts", "request_latency"]

MAX_EXTRA_LATENCY_MS = 30_000  # the largest X-Sim-Latency-Ms a request may ask for
MAX_LATENCY_SCALE = 10.0  # the largest X-Sim-Latency-Scale a request may ask for
# Processing one fresh input token takes this share of the time to write one output token (a
# teaching approximation): a long prompt delays the first token, a cached prefix much less.
PREFILL_SHARE_OF_OUTPUT_TOKEN = 0.04


def latency_parts(
    model: str | None, fixed_ms: float, scale: float, input_tokens: int, cached_tokens: int
) -> tuple[float, float]:
    """(seconds before the first output token, seconds per output token)."""
    first = fixed_ms / 1000
    if not scale or model is None:
        return first, 0.0
    p = profile(model)
    fresh = max(0, input_tokens - cached_tokens) + CACHED_PREFILL_SHARE * cached_tokens
    prefill_ms = PREFILL_SHARE_OF_OUTPUT_TOKEN * p.sim_ms_per_output_token * fresh
    first += scale * (p.sim_first_token_ms + prefill_ms) / 1000
    return first, scale * p.sim_ms_per_output_token / 1000


def _header_number(call: Call, name: str, most: float, unit: str) -> float | None:
    raw = call.headers.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= most:
        raise bad_request(f"{name} must be {unit} from 0 to {most:g}, got {raw!r}", name)
    return value


def request_latency(call: Call) -> tuple[float, float | None]:
    """(extra ms, own scale or None) the request asks for in its headers; a bad value is a 400."""
    extra = _header_number(
        call, "X-Sim-Latency-Ms", MAX_EXTRA_LATENCY_MS, "a number of milliseconds"
    )
    scale = _header_number(call, "X-Sim-Latency-Scale", MAX_LATENCY_SCALE, "a number")
    return extra or 0.0, scale
