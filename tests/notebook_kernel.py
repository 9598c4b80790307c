"""Run a notebook the way JupyterLab does, for the tests that judge what a learner sees.

A real ipykernel through nbclient, started with the caller's environment minus
``MPLBACKEND``: the kernel then picks matplotlib's inline backend itself, as it does in
JupyterLab, so a figure that would print as ``<Figure size ...>`` there prints so here too
(nbval and ``make notebooks`` set ``MPLBACKEND=Agg`` and cannot see it).

The kernel listens on Unix sockets, not TCP ports (``ipc_address``): jupyter_client
picks five free ports, lets go of them, and the kernel binds them a moment later; with the rest
of ``make test`` opening loopback connections meanwhile, a port was taken in between once and
the kernel died before its first reply. A socket file in a folder of its own cannot be taken.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

__all__ = ["kernel_env", "run_cells", "running_kernel", "text_of", "unescaped_dollars"]

CELL_TIMEOUT_S = 60


def kernel_env(**overrides: str) -> dict[str, str]:
    """The environment a JupyterLab kernel would get: ours, without ``MPLBACKEND``."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(overrides)
    return env


def ipc_address() -> str:
    """A kernel's Unix-socket address: a new folder of its own, removed when this process ends."""
    folder = tempfile.mkdtemp(prefix="kernel-")  # short: a socket path has at most 107 bytes
    atexit.register(shutil.rmtree, folder, True)
    return os.path.join(folder, "ipc")


@contextmanager
def running_kernel(path: Path, env: Mapping[str, str]) -> Iterator[NotebookClient]:
    """One kernel for ``path``'s notebook, started in its folder, shut down on exit."""
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=ipc_address())
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=True,  # record the error output; the test says which cell failed
        resources={"metadata": {"path": str(path.parent)}},
        # Killed when the test is done with it: what a lesson showed is judged already, and a
        # graceful shutdown only waits for its atexit work (its simulator's threads stopping).
        shutdown_kernel="immediate",
    )
    with client.setup_kernel(env=dict(env), cwd=str(path.parent)):
        yield client


def run_cells(client: NotebookClient) -> list[nbformat.NotebookNode]:
    """Execute every cell once more in the client's kernel (Run All); the executed cells."""
    cells = []
    for index, cell in enumerate(client.nb.cells):
        fresh = nbformat.from_dict({**cell, "outputs": []} if cell.cell_type == "code" else cell)
        client.nb.cells[index] = fresh
        if fresh.cell_type == "code":
            client.execute_cell(fresh, index)
        cells.append(fresh)
    return cells


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def text_of(output: Any) -> str:
    """Everything an output shows as text: a stream, an error, its Markdown, HTML and plain text."""
    if output.output_type == "stream":
        return output.get("text", "")
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}"
    data = output.get("data", {})
    # JupyterLab draws a widget, not its text/plain fallback (a repr with object addresses).
    kinds = ("text/markdown", "text/html")
    if WIDGET_VIEW in data:
        return "\n".join([*(str(data[k]) for k in kinds if k in data), "[a widget]"])
    return "\n".join(str(data[kind]) for kind in (*kinds, "text/plain") if kind in data)


_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)
_DOLLAR = re.compile(r"(?<!\\)\$")


def unescaped_dollars(markdown: str) -> list[str]:
    """Lines holding a ``$`` that JupyterLab would read as math (code spans and fences excepted).

    JupyterLab pairs ``$`` signs, across table rows too, and typesets the text between them, so
    every dollar the course writes in Markdown is ``\\$``.
    """
    prose = _CODE.sub(lambda m: " " * len(m.group()), markdown)
    return [line.strip() for line in prose.splitlines() if _DOLLAR.search(line)]
