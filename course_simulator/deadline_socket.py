"""A connection's socket timeouts, as the socket server's threads can afford them.

Each connection's thread reads a request, asks the app, writes the reply. A Python socket
with a timeout (``settimeout``) waits in ``poll`` before every receive and every send: two
system calls where one would do, and each one a moment where the thread lets go of the GIL and
must win it back from the others (a fifth of the server's time per request at a thousand
requests a second). On Linux the kernel keeps the timeout itself instead (``SO_RCVTIMEO`` /
``SO_SNDTIMEO`` on a blocking socket): a receive or send that waits too long fails with
``EAGAIN``, which ``recv_into`` turns back into the ``TimeoutError`` a Python timeout raises.
Elsewhere the socket keeps Python's own timeout; either way the server sees the same errors.

``DeadlineSocket`` is the read side ``http`` reads requests through, with a deadline over the
whole request: each receive waits at most ``timeout_s``; once the first byte of a request has
arrived, every receive also stops at that request's deadline. A client that drips one byte at a
time therefore cannot hold the connection past it (a per-receive timeout alone never fires).
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import time
from typing import Any

__all__ = ["KERNEL_TIMEOUTS", "DeadlineSocket"]

KERNEL_TIMEOUTS = sys.platform.startswith("linux")  # the kernel's timeouts, not Python's poll


def _timeval(seconds: float) -> bytes:
    """``seconds`` as a ``struct timeval``; never all zero (that means "wait forever")."""
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)
    return struct.pack("@ll", whole, micros if whole or micros else 1)


class DeadlineSocket(io.RawIOBase):
    """The socket's read side (for an ``io.BufferedReader``) and its timeouts."""

    def __init__(self, sock: socket.socket, timeout_s: float) -> None:
        self._sock, self._timeout_s = sock, timeout_s
        self._timeout: float | None = None  # what the socket is set to now
        self.deadline: float | None = None  # set when a request's first byte arrives
        if KERNEL_TIMEOUTS:
            sock.settimeout(None)  # blocking: the kernel times receives and sends out
        self.set_timeout(timeout_s)

    def set_timeout(self, seconds: float) -> None:
        """How long one receive or send may wait (a system call only when it changes)."""
        if seconds == self._timeout:
            return
        self._timeout = seconds
        if KERNEL_TIMEOUTS:
            value = _timeval(seconds)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        else:
            self._sock.settimeout(seconds)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wait = self._timeout_s
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError("the request did not arrive in time")
        self.set_timeout(wait)
        try:
            n = self._sock.recv_into(buffer)
        except BlockingIOError:  # the kernel's receive timeout ran out (SO_RCVTIMEO)
            raise TimeoutError("the request did not arrive in time") from None
        if n and self.deadline is None:
            self.deadline = time.monotonic() + self._timeout_s
        return n
