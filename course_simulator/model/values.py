"""JSON answers: values for a JSON schema's fields, and the keys a prompt names ("a JSON object
with keys 'term' and 'definition'"), each filled from the subject by the key's name."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from .knowledge import fill_model_ids, forms
from .prompt import MAX_ITEMS
from .writing import Writer

__all__ = ["json_answer", "value"]


def _schema_number(schema: Mapping, key: str, default: float) -> float:
    """A numeric JSON-schema keyword, or ``default`` when it is missing or not a finite number."""
    value = schema.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return value


def value(schema: object, name: str, w: Writer, depth: int = 0) -> object:
    """A plausible value for a JSON-schema node (objects, arrays, enums, scalars)."""
    w.values_left -= 1
    if not isinstance(schema, Mapping) or depth > 6:
        return w.c.title
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return w.rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [
                s for s in schema[key] if not (isinstance(s, Mapping) and s.get("type") == "null")
            ]
            return value((options or schema[key])[0], name, w, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    lname = name.lower()
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return {}
        return {k: value(v, k, w, depth + 1) for k, v in props.items()}
    if kind == "array":
        lo = int(_schema_number(schema, "minItems", 0))
        hi = int(_schema_number(schema, "maxItems", 3))
        n = min(max(lo, min(3, hi), 0), MAX_ITEMS)
        singular = lname[:-1] if lname.endswith("s") else lname
        if texts := _role_texts(singular, w):  # "tips": as many as the subject has
            n = max(lo, min(n, len(texts)))
        items: list[object] = []
        while len(items) < n and (not items or w.values_left > 0):
            items.append(value(schema.get("items", {}), singular, w, depth + 1))
        return items
    if kind == "integer":
        lo = int(_schema_number(schema, "minimum", 1))
        hi = int(_schema_number(schema, "maximum", max(lo, 10)))
        return w.rng.randint(lo, max(lo, hi))
    if kind == "number":
        low = float(_schema_number(schema, "minimum", 0.0))
        high = float(_schema_number(schema, "maximum", max(low, 1.0)))
        return round(w.rng.uniform(low, max(low, high)), 2)
    if kind == "boolean":
        return w.rng.random() < 0.7
    if kind == "null":
        return None
    if any(k in lname for k in ("title", "topic", "name", "subject", "keyword", "tag")):
        return w.c.title
    if _words_of(lname) & _TERM:
        return w.ask.named_word or w.c.title
    if "sentiment" in lname:
        return w.rng.choice(["positive", "neutral", "negative"])
    if "email" in lname:
        return "learner@example.com"
    if "url" in lname or "link" in lname:
        return "https://example.com/course"
    if "date" in lname:
        return "2026-01-15"
    if any(k in lname for k in ("language", "lang")):
        return "en"
    if ("code" in lname or "example" in lname) and w.c.subjects:
        return fill_model_ids(w.c.subjects[0].one_liner)
    return _about(lname, w)


def _words_of(name: str) -> set[str]:
    """The words of a key ("keyPoints", "key_points" -> {"key", "point"}), singular."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower()
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z]+", spaced)}


_TERM = frozenset(("term", "word", "concept", "phrase", "keyword", "label"))
_ROLES = (  # a key's words -> which sentences of the subject its value comes from
    ("what", frozenset(("definition", "meaning", "description", "summary", "explanation",
                        "what", "overview", "answer", "define", "gist"))),
    ("why", frozenset(("why", "importance", "reason", "benefit", "purpose", "matter",
                       "motivation", "advantage", "value"))),
    ("tips", frozenset(("tip", "advice", "practice", "recommendation", "suggestion", "do"))),
    ("facts", frozenset(("fact", "point", "detail", "note", "step", "how", "feature",
                         "characteristic", "property", "idea", "takeaway"))),
)  # fmt: skip


def _role(name: str) -> str | None:
    keys = _words_of(name)
    return next((role for role, vocab in _ROLES if keys & vocab), None)


def _role_texts(name: str, w: Writer) -> tuple[str, ...]:
    """The subject's sentences a field named ``name`` takes its values from (() if none)."""
    role = _role(name)
    if not w.c.subjects or role not in ("tips", "facts"):
        return ()
    return tuple(getattr(w.c.subjects[0], role))


def _about(name: str, w: Writer) -> str:
    """A sentence about the subject for a string field, chosen by the field's name."""
    if not w.c.subjects:
        return w.sentence()
    role = _role(name)
    if role in ("what", "why"):
        return forms(getattr(w.c.subjects[0], role)).full
    if texts := _role_texts(name, w):
        i = w.used.get(role or "", 0)
        w.used[role or ""] = i + 1
        return forms(texts[i % len(texts)]).full
    return w.sentence()


def json_answer(w: Writer, n: int, short: bool) -> str:
    """The JSON a prompt asks for: the keys it names, else topic, summary and key points."""
    if w.ask.keys:
        return json.dumps({k: value({"type": "string"}, k, w) for k in w.ask.keys}, indent=2)
    pool = w.c.pool if w.c.asks_back else w.pool(n + 1)
    pick = [p.short if short else p.full for p in pool]
    return json.dumps(
        {"topic": w.c.title, "summary": pick[0], "key_points": pick[1 : n + 1]}, indent=2
    )
