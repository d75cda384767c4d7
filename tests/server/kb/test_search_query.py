"""Parsing what a user typed into search clauses (pure)."""

from __future__ import annotations

from server.kb.search_index import analyzer
from server.kb.search_query import MAX_CLAUSES, Clause, parse


def _analyze(text: str) -> list[str]:
    return list(analyzer().analyze(text))


def test_words_are_stemmed_and_the_last_is_a_prefix() -> None:
    """Every word is a stemmed clause; the word being typed also matches as a prefix."""
    assert parse("Resetting passw", _analyze) == [
        Clause(tokens=("reset",)), Clause(tokens=("passw",), prefix="passw")]


def test_a_trailing_space_ends_the_word() -> None:
    """After a space the last word is complete: no prefix."""
    assert parse("printer ", _analyze) == [Clause(tokens=("printer",))]


def test_quoted_text_is_a_phrase() -> None:
    """Double quotes make a phrase clause; an unclosed quote runs to the end."""
    assert parse('"reset the password" outlook', _analyze) == [
        Clause(tokens=("reset", "the", "password")),
        Clause(tokens=("outlook",), prefix="outlook")]
    assert parse('vpn "token expired', _analyze) == [
        Clause(tokens=("vpn",)), Clause(tokens=("token", "expir"))]


def test_query_syntax_is_plain_words() -> None:
    """Operators, field names and wildcards are words; punctuation alone is nothing."""
    assert [c.tokens for c in parse("title:vpn OR NEAR(x*", _analyze)] == [
        ("titl",), ("vpn",), ("or",), ("near",), ("x",)]
    assert parse('* - ^ ""', _analyze) == []


def test_one_letter_is_no_prefix_and_clauses_are_bounded() -> None:
    """A one-letter last word matches whole; a long query keeps its first clauses."""
    assert parse("disk d", _analyze)[-1] == Clause(tokens=("d",))
    assert len(parse(" ".join(f"w{i}" for i in range(40)), _analyze)) == MAX_CLAUSES


def test_suggestions_skip_common_words() -> None:
    """For suggestions, words like "the" and "does" are left out; phrases keep them."""
    assert [c.tokens for c in parse("The printer doesn't print", _analyze,
                                    skip_stop_words=True)] == [("printer",), ("print",)]
    assert [c.tokens for c in parse('"the printer" is', _analyze, skip_stop_words=True)] == [
        ("the", "printer")]
