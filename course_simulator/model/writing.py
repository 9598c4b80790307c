"""Writing an answer in the shape a prompt asks for: N bullets, N sentences, under N words
(together: N shorter bullets), a code block, or the long, padded answer a verbose prompt gets.

Every random choice comes from the request's seed, so the same request gets the same text."""

from __future__ import annotations

import random

from .content import Content, decap, extend
from .knowledge import Sentence, fill_model_ids, forms, phrases, subject_by_key, words
from .prompt import Ask

__all__ = ["Writer", "block", "count_words", "trim"]

MIN_WORDS_PER_ITEM = 7  # a word limit leaves at least this much per sentence beside a code block
MAX_SCHEMA_VALUES = 500  # a JSON-schema answer holds about this many values at most


def count_words(text: str) -> int:
    return len(text.split())


DANGLING = frozenset(words()["dangling"])  # a trimmed sentence never ends on these


def trim(words: list[str]) -> str:
    """A sentence cut to ``words``, ending cleanly: no dangling "and", no open code span."""
    words = list(words)
    first = words[0] if words else "Yes"
    while words and (words[-1].lower().strip(",;:") in DANGLING or words[-1].count("`") % 2):
        words.pop()
    text = " ".join(words).rstrip(",;:-—(")
    if text.count("`") % 2:
        text = text[: text.rfind("`")].rstrip()
    return (text or first.strip("`,;:.")).rstrip(".") + "."


def _choose(pool: list[Sentence], n: int, budget: int | None, per_item: int) -> list[Sentence]:
    """``n`` sentences from ``pool``: the first ``n``, unless even their short forms overflow
    ``budget`` -- then the first one and the shortest of the rest, kept in order."""
    first = pool[:n]
    if budget is None or sum(count_words(s.short) + per_item for s in first) <= budget or n < 2:
        return first
    seen, unique = {pool[0]}, []
    for i in range(1, len(pool)):
        if pool[i] not in seen:
            seen.add(pool[i])
            unique.append(i)
    if len(unique) < n - 1:  # a small pool repeats: keep the order it came in
        return first
    rest = sorted(unique, key=lambda i: (count_words(pool[i].short), i))[: n - 1]
    return [pool[0], *(pool[i] for i in sorted(rest))]


def _fit_counted(
    sents: list[Sentence], budget: int | None, short: bool, per_item: int
) -> list[str]:
    """Exactly ``len(sents)`` parts, shortened (short forms, then trimming) to fit ``budget``."""
    chosen = [s.short if short else s.full for s in sents]
    if budget is None:
        return chosen

    def total() -> int:
        return sum(count_words(c) + per_item for c in chosen)

    while total() > budget:
        longer = [i for i, s in enumerate(sents) if chosen[i] == s.full and s.short != s.full]
        if not longer:
            break
        i = max(longer, key=lambda i: count_words(chosen[i]))
        chosen[i] = sents[i].short
    while total() > budget:
        i = max(range(len(chosen)), key=lambda i: (count_words(chosen[i]), -i))
        words = chosen[i].split()
        if len(words) <= 3:
            break
        chosen[i] = trim(words[:-1])
    while total() > budget and len(chosen) > 1:
        chosen.pop()
    return chosen


def _fit_flexible(sents: list[Sentence], budget: int | None, most: int, short: bool) -> list[str]:
    """As many sentences (up to ``most``) as fit ``budget``, full forms where they fit."""
    out: list[str] = []
    used = 0
    for s in sents[:most]:
        forms = [s.short] if short else [s.full, s.short]
        fitting = [f for f in forms if budget is None or used + count_words(f) <= budget]
        if not fitting:
            break
        out.append(fitting[0])
        used += count_words(fitting[0])
    if not out and sents:
        out = [trim(sents[0].short.split()[: max(1, budget or 1)])]
    return out


def block(code: str) -> str:
    """A fenced Python block, with catalogue model ids filled in."""
    return "```python\n" + fill_model_ids(code).rstrip("\n") + "\n```"


class Writer:
    """Builds one answer from its content; every random choice comes from the request's seed."""

    def __init__(self, seed: int, content: Content, ask: Ask) -> None:
        self.rng = random.Random(seed)
        self.c = content
        self.ask = ask
        self.values_left = MAX_SCHEMA_VALUES  # nested large arrays stop growing past this
        self.next_sentence = 0
        self.used: dict[str, int] = {}  # per kind of sentence, how many a JSON answer took

    # -- pieces
    def code(self, items: int = 1) -> str | None:
        """The code example asked for, if any: the one-liner when a word limit leaves too little
        room beside it for ``items`` readable sentences, and none if even that does not fit."""
        subjects = self.c.subjects
        if not self.ask.code or not subjects or not self.c.code_ok:
            return None
        s = subjects[0]
        options = [s.one_liner] if self.ask.code == "line" else [s.code, s.one_liner]
        if self.ask.max_words is None:
            return options[0]
        for code in options:
            if self.ask.max_words - count_words(block(code)) - 1 >= MIN_WORDS_PER_ITEM * items:
                return code
        return None

    def sentence(self) -> str:
        """The next sentence of the pool, for JSON-schema fields (cycling when it runs out)."""
        pool = self.c.pool
        s = pool[self.next_sentence % len(pool)]
        self.next_sentence += 1
        return s.full

    def pool(self, n: int) -> list[Sentence]:
        """``n`` sentences to choose from (grown from related subjects when short)."""
        if self.c.asks_back or not self.c.subjects:
            return self.c.pool[:n]
        return extend(self.c.pool, self.c.subjects, n)

    # -- shapes
    def listed(self, n: int, short: bool) -> str:
        """N bullets (from the subject's items when it has them and the prompt names some)."""
        if self.c.asks_back:
            n = min(n, 3)
            sents = [s for i, s in enumerate(self.c.pool[:4]) if i != 1][:n]
        elif self.ask.items and self.c.items:
            items = self.c.items[:n] if n > 1 else [self.rng.choice(self.c.items[:7])]
            sents = [Sentence(t, t.split(":")[0] + ".") for t in items]
        else:
            sents = self.pool(n)
        code = self.code(n)
        budget = self._prose_budget(code)
        if not self.c.asks_back and not (self.ask.items and self.c.items):
            sents = _choose(self.pool(3 * n), n, budget, 1)
        parts = _fit_counted(sents, budget, short or code is not None, per_item=1)
        bulleted = n > 1 or self.ask.bullets
        text = "\n".join(f"- {p}" for p in parts) if bulleted else parts[0]
        return self._with_code(text, code, budget)

    def sentences(self, n: int, short: bool) -> str:
        """Exactly ``n`` sentences of prose (plus the code asked for, if it fits)."""
        if self.c.asks_back:
            pool = self.c.pool
            sents = [pool[1]] if n == 1 else [p for i, p in enumerate(pool) if i != 1][: min(n, 3)]
        else:
            sents = _choose(self.pool(3 * n), n, self._prose_budget(self.code(n)), 0)
        code = self.code(n)
        budget = self._prose_budget(code)
        return self._with_code(" ".join(_fit_counted(sents, budget, short, 0)), code, budget)

    def flexible(self, most: int, short: bool) -> str:
        """Up to ``most`` sentences: as many as a word limit leaves room for."""
        if self.c.asks_back:
            most = min(most, 2 if most <= 2 else 3)
            sents = [p for i, p in enumerate(self.c.pool) if i != 1]
        else:
            sents = self.pool(max(most, 1))
        code = self.code()
        budget = self._prose_budget(code)
        return self._with_code(" ".join(_fit_flexible(sents, budget, most, short)), code, budget)

    def code_answer(self) -> str:
        """A request for code: one line saying what it is, the code, then what it does."""
        s = self.c.subjects[0]
        intro = forms(s.what).short
        if self.ask.code == "line":
            return f"{intro}\n\n{block(s.one_liner)}"
        return f"{intro}\n\n{block(s.code)}\n\n{forms(s.code_says).full}"

    def _prose_budget(self, code: str | None) -> int | None:
        if self.ask.max_words is None:
            return None
        used = count_words(block(code)) + 1 if code else 0
        return max(self.ask.max_words - used, 1)

    def _with_code(self, text: str, code: str | None, budget: int | None) -> str:
        if not code:
            return text
        if budget is not None and self.ask.max_words is not None:
            room = self.ask.max_words - count_words(text) - 1
            if count_words(block(code)) > room:
                return text
        return f"{text}\n\nExample:\n{block(code)}"

    def long(self, extra: bool) -> str:
        """A long, padded answer: what verbose, open prompts get from a real model too."""
        if self.c.asks_back:
            return " ".join(p.full for i, p in enumerate(self.c.pool) if i != 1)
        if not self.c.subjects:
            return " ".join(p.full for p in self.c.pool[: 8 if extra else 6])
        said = phrases()
        hedges = self.rng.sample(said.hedges, 3)
        subjects = self.c.subjects
        s = subjects[0]
        paras = []
        opening = [p.full for p in self.c.pool[:2]]
        if len(subjects) > 1:
            opening = [p.full for p in self.c.pool[:3]]
        paras.append(" ".join([*opening, hedges[0]]))
        used = set(opening)
        for subject in subjects:
            facts = [f.full for f in map(forms, subject.facts) if f.full not in used]
            paras.append(" ".join([self.rng.choice(said.transitions), *facts]))
            used.update(facts)
        want_code = self.ask.code is not None or "example" in self.ask.text or s.python
        if want_code:
            code = s.one_liner if self.ask.code == "line" else s.code
            paras.append(f"{forms(s.code_says).full}\n\n{block(code)}")
        tips = [forms(t).full for subject in subjects for t in subject.tips]
        paras.append(" ".join([self.rng.choice(said.tips_intros), *tips, hedges[1]]))
        related = [subject_by_key()[k] for k in s.related if k in subject_by_key()][
            : 2 if extra else 1
        ]
        related = [r for r in related if r not in subjects]
        for rel in related:
            paras.append(
                " ".join(
                    ["A closely related idea is worth knowing too.", forms(rel.what).full,
                     forms(rel.why).full]
                )
            )  # fmt: skip
        if extra:
            paras.append(" ".join([hedges[2], *(forms(t).full for t in s.tips[:1])]))
        summary = decap(forms(s.what).short)
        paras.append(f"{said.closer.format(summary=summary)} {self.rng.choice(said.closers)}")
        return "\n\n".join(paras)
