"""Learner values as the checks read them: exact built-in copies, compared by type and value.

A check must never let learner code decide its verdict. An object whose ``__eq__`` is always True
"equals" every expected value, a ``str`` subclass can make ``.strip()`` raise, and a thread the
learner left running can change a returned dict after the check read it. So a returned value is
copied, once, into exact built-in types (``dict``, ``list``, ``tuple``, ``str``, ``int``,
``float``, ``bool``, ``None``) through the built-in types' own methods, which never call the
learner's overrides; anything else (a response object, a ``Result``) is kept as it is and is
never ``plain``. ``same`` compares only plain values, type for type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_COPY_DEPTH", "MAX_COPY_ITEMS", "is_plain", "plain_copy", "same"]

MAX_COPY_DEPTH = 20  # nesting a check will copy; deeper values are kept as they are
MAX_COPY_ITEMS = 100_000  # elements a check will copy; larger values are kept as they are


class _NotCopied(Exception):
    """The value is too big or too deep to copy."""


def plain_copy(value: Any) -> Any:
    """``value`` rebuilt from exact built-in types: subclasses of the built-ins become the
    built-in (their overridden methods are never called), containers are new exact containers,
    and any other object is kept, as it is, where it was (it is never ``plain``). A value too
    big or deep to copy is returned unchanged."""
    try:
        return _copy_or_raise(value, 0, [MAX_COPY_ITEMS])
    except (_NotCopied, RecursionError):
        return value


def _copy_or_raise(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_COPY_DEPTH:
        return value  # any other object: kept as it is, never plain
    kind = type(value)
    if value is None or kind is bool:  # bool cannot be subclassed
        return value
    if isinstance(value, str):
        return value if kind is str else str.__str__(value)
    if isinstance(value, int):
        return value if kind is int else int.__int__(value)
    if isinstance(value, float):
        return value if kind is float else float.__float__(value)
    if isinstance(value, dict):
        items = list(dict.items(value))
        return {
            _copy_or_raise(k, depth + 1, budget): _copy_or_raise(v, depth + 1, budget)
            for k, v in items
        }
    if isinstance(value, list):
        return [_copy_or_raise(v, depth + 1, budget) for v in list.copy(value)]
    if isinstance(value, tuple):
        size = tuple.__len__(value)
        return tuple(
            _copy_or_raise(tuple.__getitem__(value, i), depth + 1, budget) for i in range(size)
        )
    return value  # any other object: kept as it is, never plain


def is_plain(value: Any) -> bool:
    """True when ``value`` is made only of exact built-in types (as ``plain_copy`` returns)."""
    kind = type(value)
    if value is None or kind in (bool, str, int, float):
        return True
    if kind is dict:
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    if kind in (list, tuple):
        return all(is_plain(v) for v in value)
    return False


def same(value: Any, expected: Any) -> bool:
    """True when ``value`` equals ``expected`` type for type (``1`` is not ``True`` or ``1.0``).

    ``value`` must be plain (see ``plain_copy``): an object of any other type is never equal,
    whatever its ``__eq__`` says.
    """
    if type(value) is not type(expected) or not is_plain(value):
        return False
    if type(value) is dict:
        return value.keys() == expected.keys() and all(same(value[k], expected[k]) for k in value)
    if type(value) in (list, tuple):
        return len(value) == len(expected) and all(map(same, value, expected))
    return bool(value == expected)
