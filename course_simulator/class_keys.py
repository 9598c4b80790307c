"""The class server's keys: which keys it accepts, and keys a learner can type from a slip.

``ClassKeys`` accepts the keys of a keys file (one key a line, an optional name after it,
``parse_keys``) and/or any key that starts with a prefix. Its ``check`` is the server's key
rule: a refused key gets a 401 that says which group of it is mistyped, never the key itself.
``make_keys`` writes keys with no look-alike characters, in short groups (``bafu-4827-seda``).
``ClassroomError`` lives here, the lowest of the class server's modules, so every one of them
raises the same error for a bad setting.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .error_replies import SimError

__all__ = [
    "ClassKeys",
    "ClassroomError",
    "make_keys",
    "new_key",
    "parse_keys",
]

MAX_KEY_CHARS = 200


class ClassroomError(ValueError):
    """A bad class-server setting; the message says which one and how to fix it."""


def _check_key_text(text: str, what: str) -> None:
    """A key (or prefix) must be printable ASCII without spaces: it travels in an HTTP header."""
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise ClassroomError(f"{what} must be printable ASCII without spaces")
    if len(text) > MAX_KEY_CHARS:
        raise ClassroomError(f"{what} is longer than {MAX_KEY_CHARS} characters")


def parse_keys(text: str, source: str = "keys file") -> dict[str, str | None]:
    """``{key: name or None}`` from a keys file's text.

    One key a line, optionally followed by whitespace and a name (the rest of the line, shown on
    the live view instead of the masked key). Blank lines and lines starting with ``#`` are
    skipped. A repeated key or name is an error naming both lines (never the key itself).
    """
    keys: dict[str, str | None] = {}
    key_line: dict[str, int] = {}
    name_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ") if " " in line else line.partition("\t")
        key, name = key.strip(), " ".join(rest.split()) or None
        _check_key_text(key, f"{source}, line {number}: the key")
        if key in key_line:
            raise ClassroomError(
                f"{source}, line {number} repeats the key of line {key_line[key]}: give each "
                "learner their own key (so each gets their own rate-limit bucket)"
            )
        if name is not None:
            if len(name) > 60:
                raise ClassroomError(f"{source}, line {number}: the name is over 60 characters")
            if name in name_line:
                raise ClassroomError(
                    f"{source}, line {number} repeats the name {name!r} of line "
                    f"{name_line[name]}: the live view needs one name per row"
                )
            name_line[name] = number
        key_line[key] = number
        keys[key] = name
    if not keys:
        raise ClassroomError(
            f"{source} holds no keys: write one key a line (optionally followed by a name), "
            "or make one with `python -m course_simulator make-keys 30 -o keys.txt`"
        )
    return keys


@dataclass(frozen=True)
class ClassKeys:
    """Which keys the class server accepts, and the label each one gets on the live view."""

    names: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    prefix: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.prefix is not None:
            if not self.prefix:
                raise ClassroomError("--key-prefix must not be empty (that would accept any key)")
            _check_key_text(self.prefix, "--key-prefix")
        if not self.names and not self.prefix:
            raise ClassroomError("a key rule needs a keys file, a prefix, or both")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], prefix: str | None = None) -> ClassKeys:
        """The keys of a keys file (see ``parse_keys``), plus ``prefix`` if given."""
        where = Path(path)
        try:
            text = where.read_text("utf-8")
        except FileNotFoundError:
            raise ClassroomError(
                f"keys file {str(where)!r} does not exist: make one with `python -m "
                "course_simulator make-keys 30 -o keys.txt`, or use --key-prefix"
            ) from None
        except (OSError, UnicodeDecodeError) as err:
            raise ClassroomError(f"cannot read keys file {str(where)!r}: {err}") from None
        return cls(parse_keys(text, f"keys file {where.name}"), prefix, where.name)

    def accepts(self, key: str) -> bool:
        """True for a listed key, or one that starts with the prefix (and has more after it)."""
        if key in self.names:
            return True
        return (
            bool(self.prefix)
            and len(key) > len(self.prefix or "")
            and key.startswith(self.prefix or "")
        )

    def check(self, key: str) -> bool:
        """``accepts``, or the 401 that tells a learner which part of their key is mistyped.

        The server calls it as its key rule (``Simulator.accept_key``). The message never holds
        a key, typed or listed: it names the group that differs (only when every other group
        matches one listed key of three groups or more, so a guess learns nothing about a key
        it does not already nearly hold), a key in the wrong case, or the wrong number of groups.
        """
        if self.accepts(key):
            return True
        raise SimError(
            401, self._typo_hint(key), "invalid_request_error", code="invalid_api_key",
            outcome="auth",
        )  # fmt: skip

    def _typo_hint(self, key: str) -> str:
        start = "Incorrect API key provided: this class server has no such key. "
        end = " Check OPENAI_API_KEY against your slip, set it again, and restart JupyterLab."
        if key.lower() != key and self.accepts(key.lower()):
            return start + "Your key has capital letters; the keys here are all lower case." + end
        near = self._near(key)
        if near is not None:
            _, group, groups = near
            return (
                start + f"The {_ordinal(group)} of its {groups} groups (separated by "
                f"'{KEY_GROUP_SEPARATOR}') is mistyped; the other groups match." + end
            )
        sizes = {len(k.split(KEY_GROUP_SEPARATOR)) for k in self.names}
        typed = len(key.split(KEY_GROUP_SEPARATOR))
        if len(sizes) == 1 and typed not in sizes:
            (size,) = sizes
            return (
                start + f"Your key has {typed} group(s) separated by '{KEY_GROUP_SEPARATOR}'; "
                f"the keys here have {size}." + end
            )
        return start + "Check every group." + end

    def _near(self, key: str) -> tuple[str, int, int] | None:
        """(listed key, 1-based group, groups) when ``key`` differs from exactly one listed key
        of 3+ groups in exactly one group; None otherwise."""
        typed = key.split(KEY_GROUP_SEPARATOR)
        if len(typed) < 3:
            return None
        found = None
        for listed in self.names:
            groups = listed.split(KEY_GROUP_SEPARATOR)
            if len(groups) != len(typed):
                continue
            differ = [i for i, (a, b) in enumerate(zip(groups, typed, strict=True)) if a != b]
            if len(differ) == 1:
                if found is not None:
                    return None  # two keys are one group away: naming a group would mislead
                found = (listed, differ[0] + 1, len(groups))
        return found

    def owner(self, key: str | None) -> str | None:
        """The listed key a request belongs to: the key itself, or the listed key it is one
        mistyped group away from (so the live view shows *that* learner's setup error)."""
        if not key:
            return None
        if key in self.names:
            return key
        if key.lower() in self.names:
            return key.lower()
        near = self._near(key)
        return near[0] if near is not None else None

    def describe(self) -> str:
        """One line for the start-up banner (no key in it)."""
        parts = []
        if self.names:
            parts.append(f"{len(self.names)} keys from {self.source or 'a keys file'}")
        if self.prefix:
            parts.append(f"any key starting with {self.prefix!r}")
        return "accepted keys: " + " and ".join(parts)


# Keys are read off a slip and typed, often blind: no character that looks like another (no
# l/1/i, no o/0), lower case only, in short groups. A group is a syllable pair or four digits.
CONSONANTS = "bdfghjkmnprstvwz"
VOWELS = "aeu"
DIGITS = "23456789"
KEY_GROUP_SEPARATOR = "-"


def _word() -> str:
    pick = secrets.choice
    return pick(CONSONANTS) + pick(VOWELS) + pick(CONSONANTS) + pick(VOWELS)


def new_key(prefix: str = "") -> str:
    """One fresh key such as ``bafu-4827-seda`` (about 34 bits: plenty for a room's simulator)."""
    digits = "".join(secrets.choice(DIGITS) for _ in range(4))
    return f"{prefix}{_word()}-{digits}-{_word()}"


def make_keys(
    count: int, prefix: str = "", *, name: str = "learner-{n:02d}"
) -> list[tuple[str, str]]:
    """``count`` fresh keys (``new_key``), each with a placeholder name to edit (``learner-01``)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ClassroomError(f"the number of keys must be from 1 to 1000, got {count!r}")
    if prefix:
        _check_key_text(prefix, "the key prefix")
    keys: list[str] = []
    while len(keys) < count:
        key = new_key(prefix)
        if key not in keys:
            keys.append(key)
    return [(key, name.format(n=n)) for n, key in enumerate(keys, start=1)]


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
