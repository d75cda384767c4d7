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

# Words too common to say what a ticket is about; suggestions skip them, since they
# match any word (see search_index.SearchIndex.search).
STOP_WORDS = frozenset("""a about after again all also am an and any are as at be been
before but by can cannot could did do does doesn don't dont for from get gets got had has
have having he her here how i i'm if in into is isn it it's its just me my no not now of
off on once only or our out please same she should since so some still such than that the
their them then there these they this those to too up us very was wasn we were what when
where which while who why will with won would you your doesn't didn't isn't
can't won't wasn't aren't haven't i've""".split())


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


def parse(text: str, analyze: Analyze, *, skip_stop_words: bool = False) -> list[Clause]:
    """Return the clauses of ``text``; an empty list when it has no words.

    With ``skip_stop_words``, bare words such as "the" or "does" are left out (phrases
    keep them): suggestions rank on the words that say what a problem is about.
    """
    stop = STOP_WORDS if skip_stop_words else frozenset()
    clauses: list[Clause] = []
    last_bare: int | None = None
    pos = 0
    for match in _PHRASE.finditer(text):
        last_bare = _words(text[pos:match.start()], analyze, clauses, last_bare, stop)
        tokens = tuple(analyze(match.group(1)))
        if tokens:
            clauses.append(Clause(tokens=tokens))
            last_bare = None
        pos = match.end()
    last_bare = _words(text[pos:], analyze, clauses, last_bare, stop)
    if last_bare is not None and not text[-1:].isspace():
        clause = clauses[last_bare]
        if len(clause.tokens[-1]) >= MIN_PREFIX and not clause.is_phrase:
            clauses[last_bare] = Clause(tokens=clause.tokens, prefix=clause.tokens[-1])
    return clauses[:MAX_CLAUSES]


def _words(text: str, analyze: Analyze, clauses: list[Clause], last_bare: int | None,
           stop: frozenset[str]) -> int | None:
    for word in re.findall(r"[\w']+", text):
        word = word.strip("'")
        if word.lower() in stop:
            continue
        tokens = tuple(analyze(word))
        if tokens:  # "wi_fi" analyzes to two tokens: they must be adjacent
            clauses.append(Clause(tokens=tokens))
            last_bare = len(clauses) - 1
    return last_bare
