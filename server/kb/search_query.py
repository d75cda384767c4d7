"""Turn what a user typed into search clauses (pure: no index, no database).

Every clause must match (AND). Double-quoted text is a phrase; the last bare word is
also matched as a prefix, because suggestions run while the user is still typing it.
Words are stemmed by the same analyzer the index uses, so "resetting" finds "reset".
Nothing the user types is query syntax: operators, field names and wildcards are words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_CLAUSES = 12  # a bound on the work one query can ask for
MIN_PREFIX = 2  # a one-letter prefix expands to too much to be useful

Analyze = Callable[[str], list[str]]


@dataclass(frozen=True)
class Clause:
    """One required part of a query: a term, a phrase, or a term being typed."""

    tokens: tuple[str, ...]  # analyzed (lower-cased, stemmed) tokens
    prefix: str | None = None  # set on the word being typed: its stem as a prefix

    @property
    def is_phrase(self) -> bool:
        """Tell whether the clause needs its tokens in order and adjacent."""
        return len(self.tokens) > 1


_PHRASE = re.compile(r'"([^"]*)"?')


def parse(text: str, analyze: Analyze) -> list[Clause]:
    """Return the clauses of ``text``; an empty list when it has no words."""
    clauses: list[Clause] = []
    last_bare: int | None = None
    pos = 0
    for match in _PHRASE.finditer(text):
        last_bare = _words(text[pos:match.start()], analyze, clauses, last_bare)
        tokens = tuple(analyze(match.group(1)))
        if tokens:
            clauses.append(Clause(tokens=tokens))
            last_bare = None
        pos = match.end()
    last_bare = _words(text[pos:], analyze, clauses, last_bare)
    if last_bare is not None and not text[-1:].isspace():
        clause = clauses[last_bare]
        if len(clause.tokens[-1]) >= MIN_PREFIX and not clause.is_phrase:
            clauses[last_bare] = Clause(tokens=clause.tokens, prefix=clause.tokens[-1])
    return clauses[:MAX_CLAUSES]


def _words(text: str, analyze: Analyze, clauses: list[Clause],
           last_bare: int | None) -> int | None:
    for word in re.findall(r"\w+", text):
        tokens = tuple(analyze(word))
        if tokens:  # "wi_fi" analyzes to two tokens: they must be adjacent
            clauses.append(Clause(tokens=tokens))
            last_bare = len(clauses) - 1
    return last_bare
