"""pytest plugin for `make notebooks`: nbval's kernels listen on Unix sockets, not TCP ports.

Beside the unit suite, an exercise's kernel died before its first reply: jupyter_client picks a
kernel's ports by binding port 0 and letting go, the kernel binds them a moment later, and
meanwhile the unit tests' loopback connections can take one (see notebook_kernel.py).
"""

from __future__ import annotations

from typing import Any

import nbval.kernel
from jupyter_client.manager import KernelManager

from tests.notebook_kernel import ipc_address


class IpcKernelManager(KernelManager):
    """nbval's kernel manager, its kernel on Unix sockets in a folder of its own."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(transport="ipc", ip=ipc_address(), **kwargs)


nbval.kernel.KernelManager = IpcKernelManager
