"""The articles' search index: a tantivy index in the data directory (files, no SQL).

Why tantivy and not SQLite FTS5: FTS5 ranks by computing bm25 for every matching row
and sorting, so a common word over 100,000 articles costs ~50-150 ms; tantivy (Lucene's
design in Rust) stores per-block score bounds and skips blocks that cannot reach the
top 20 (block-max WAND), which answers the same query in about a millisecond. The
index is derived data: the database stays the source of truth, and
:mod:`server.kb.search` feeds the index from a queue written in the same transaction as
each edit, so a crash between the two loses nothing (see docs/kb.md).

All methods block (file I/O, CPU): call them from a thread, never on the event loop.
"""

from __future__ import annotations

import itertools
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import tantivy

from server.db.names import fold
from server.kb.render import MARK_END, MARK_START
from server.kb.search_query import Clause

# Bump when the schema or the analyzer changes: the index is then rebuilt from the
# database on the next start.
SCHEMA_VERSION = "3"
ANALYZER = "kb_en"
# Field boosts: a title match outranks a summary match, which outranks a body match.
BOOSTS = (("title", 10.0), ("summary", 4.0), ("body", 1.0))
# Each text field has a twin holding its adjacent token pairs ("to_the" for "to the"),
# so a two-word phrase is one term lookup that block-max WAND can skip through, and a
# longer phrase checks positions on pair lists rather than on the lists of common words
# (a phrase of common words otherwise reads positions in every article holding them).
PAIRS = "_pairs"
PAIR_JOIN = "_"  # never inside a token: the tokenizer splits on anything not alphanumeric
PREFIX_BOOST = 0.5  # a prefix match scores a constant; below a whole-word match
PREFIX_EXPANSIONS = 20  # terms a prefix is widened to when highlighting
FUZZY_BOOST = 0.3  # a word one typo away counts, well below the word itself
FUZZY_MIN_LENGTH = 5  # shorter words have too many neighbours one edit away
SNIPPET_CHARS = 160
WRITER_HEAP = 15_000_000  # tantivy's minimum; edits come one at a time


@dataclass(frozen=True)
class Doc:
    """What the index holds for one article."""

    article_id: int
    title: str
    summary: str
    text: str  # the body as plain text
    visibility: str
    status: str
    category_id: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    """Conditions a hit must meet besides the words."""

    public_only: bool = False  # only published public articles (requesters)
    status: str | None = None
    category_id: int | None = None
    tag: str | None = None


def analyzer() -> tantivy.TextAnalyzer:
    """Return the analyzer for article text: words, lower-cased, English stems."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stemmer("english"))
            .build())


def pairs(tokens: list[str]) -> str:
    """Return the adjacent pairs of ``tokens`` as the text of a pairs field."""
    return " ".join(f"{a}{PAIR_JOIN}{b}" for a, b in itertools.pairwise(tokens))


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", tokenizer_name=ANALYZER)
    sb.add_text_field("summary", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("body", stored=True, tokenizer_name=ANALYZER)
    for field, _ in BOOSTS:
        sb.add_text_field(field + PAIRS, tokenizer_name="whitespace")
    sb.add_text_field("status", tokenizer_name="raw")
    # "public" for published public articles: what requesters may see, as one term, so
    # their searches intersect one posting list rather than two.
    sb.add_text_field("audience", tokenizer_name="raw")
    sb.add_integer_field("category", indexed=True)
    sb.add_text_field("tags", tokenizer_name="raw")
    return sb.build()


class SearchIndex:
    """An on-disk tantivy index of articles with one writer (this process)."""

    def __init__(self, path: Path) -> None:
        """Open the index at ``path``, creating it (empty) if missing or outdated."""
        self.path = path
        self._analyzer = analyzer()
        self.schema = _schema()
        marker = path / "deskmate-schema"
        self.created = not (marker.exists() and marker.read_text() == SCHEMA_VERSION
                            and tantivy.Index.exists(str(path)))
        if self.created:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            self._index = tantivy.Index(self.schema, path=str(path))
            marker.write_text(SCHEMA_VERSION)
        else:
            self._index = tantivy.Index.open(str(path))
        self._index.register_tokenizer(ANALYZER, self._analyzer)
        # One writer per index directory; it holds tantivy's lock file while open.
        self._writer: tantivy.IndexWriter | None = self._index.writer(
            heap_size=WRITER_HEAP, num_threads=1)
        self._lock = threading.Lock()

    def _writing(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("the search index is closed")
        return self._writer

    def analyze(self, text: str) -> list[str]:
        """Return the index's tokens for ``text``."""
        return list(self._analyzer.analyze(text))

    def apply(self, upserts: list[Doc], deletes: list[int]) -> None:
        """Replace the given articles' entries, remove others, and make it visible."""
        with self._lock:
            writer = self._writing()
            for article_id in deletes:
                writer.delete_documents_by_term("id", article_id)
            for doc in upserts:
                writer.delete_documents_by_term("id", doc.article_id)
                fields: dict[str, object] = {
                    "id": doc.article_id, "title": doc.title, "summary": doc.summary,
                    "body": doc.text, "status": doc.status,
                    "title" + PAIRS: pairs(self.analyze(doc.title)),
                    "summary" + PAIRS: pairs(self.analyze(doc.summary)),
                    "body" + PAIRS: pairs(self.analyze(doc.text)),
                    "audience": "public" if (doc.visibility, doc.status) == (
                        "public", "published") else "staff",
                    "tags": list(doc.tags)}
                if doc.category_id is not None:
                    fields["category"] = doc.category_id
                writer.add_document(tantivy.Document(**fields))
            writer.commit()
            self._index.reload()

    def close(self) -> None:
        """Let merges finish and release the writer's lock (dropping the writer)."""
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()  # consumes the writer
                self._writer = None

    def _words(self, clause: Clause, *, fuzzy: bool = False) -> tantivy.Query:
        """Return a query matching ``clause`` in any field, weighted by field
        (with ``fuzzy``, also words one typo away from a single word)."""
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for field, boost in BOOSTS:
            if len(clause.tokens) == 2:
                q = tantivy.Query.term_query(self.schema, field + PAIRS,
                                             pairs(list(clause.tokens)))
            elif clause.is_phrase:
                runs: list[str | tuple[int, str]] = [*pairs(list(clause.tokens)).split()]
                q = tantivy.Query.phrase_query(self.schema, field + PAIRS, runs)
            else:
                q = tantivy.Query.term_query(self.schema, field, clause.tokens[0])
            parts.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, boost)))
            if clause.prefix is not None:
                p = tantivy.Query.phrase_prefix_query(self.schema, field, [clause.prefix])
                parts.append((tantivy.Occur.Should,
                              tantivy.Query.boost_query(p, boost * PREFIX_BOOST)))
            if (fuzzy and not clause.is_phrase and field != "summary"
                    and len(clause.tokens[0]) >= FUZZY_MIN_LENGTH):
                f = tantivy.Query.fuzzy_term_query(self.schema, field, clause.tokens[0],
                                                   distance=1, transposition_cost_one=True)
                parts.append((tantivy.Occur.Should,
                              tantivy.Query.boost_query(f, boost * FUZZY_BOOST)))
        return tantivy.Query.boolean_query(parts)

    def _filter(self, field: str, value: str | int) -> tuple[tantivy.Occur, tantivy.Query]:
        term = tantivy.Query.term_query(self.schema, field, value)
        return tantivy.Occur.Must, tantivy.Query.const_score_query(term, 0.0)

    def query(self, clauses: list[Clause], filters: Filters, *,
              any_clause: bool = False) -> tantivy.Query:
        """Return the query for ``clauses`` (all of them, or any) under ``filters``."""
        if any_clause:  # ranked by how many clauses match and how well; typos forgiven
            words = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._words(c, fuzzy=True)) for c in clauses])
            parts = [(tantivy.Occur.Must, words)]
        else:
            parts = [(tantivy.Occur.Must, self._words(c)) for c in clauses]
        if filters.public_only:
            parts.append(self._filter("audience", "public"))
        if filters.status is not None:
            parts.append(self._filter("status", filters.status))
        if filters.category_id is not None:
            parts.append(self._filter("category", filters.category_id))
        if filters.tag is not None:
            parts.append(self._filter("tags", fold(filters.tag)))
        return tantivy.Query.boolean_query(parts)

    def search(self, clauses: list[Clause], filters: Filters, *, offset: int, limit: int,
               any_clause: bool = False,
               snippet_limit: int | None = None) -> list[tuple[int, float, dict[str, str]]]:
        """Return (article id, score, snippets by field) of the best hits, best first.

        Only the first ``snippet_limit`` hits (default: all) get snippets.
        """
        if snippet_limit is None:
            snippet_limit = limit
        if not clauses:
            return []
        query = self.query(clauses, filters, any_clause=any_clause)
        searcher = self._index.searcher()
        hits = searcher.search(query, limit, count=False, offset=offset).hits
        if not hits:
            return []
        marks = self._highlight_query(searcher, clauses)
        makers = {}
        for field in ("body", "summary"):
            gen = tantivy.SnippetGenerator.create(searcher, marks, self.schema, field)
            gen.set_max_num_chars(SNIPPET_CHARS)
            makers[field] = gen
        out = []
        for n, (score, address) in enumerate(hits):
            doc = searcher.doc(address)
            snips = {}
            # A snippet costs a pass over the field's text: none for the look-ahead hit,
            # and the summary only when the body has no match (a title-only match).
            for field, gen in makers.items() if n < snippet_limit else ():
                snip = _marked(gen.snippet_from_doc(doc), doc.get_first(field) or "")
                if snip:
                    snips[field] = snip
                    break
            out.append((int(doc.get_first("id") or 0), float(score), snips))
        return out

    def _highlight_query(self, searcher: tantivy.Searcher,
                         clauses: list[Clause]) -> tantivy.Query:
        """Return a query naming every term to highlight (prefixes widened to terms)."""
        terms = {t for c in clauses for t in c.tokens}
        for c in clauses:
            if c.prefix is not None:
                terms.update(t for t, _ in searcher.terms_with_prefix(
                    "body", c.prefix, limit=PREFIX_EXPANSIONS))
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, field, t))
            for t in sorted(terms) for field in ("body", "summary")])


def _marked(snippet: tantivy.Snippet, text: str) -> str:
    """Return the snippet's text with matches between the highlight marks, or ''."""
    ranges = [(r.start, r.end) for r in snippet.highlighted()]
    if not ranges:
        return ""
    raw = snippet.fragment().encode()
    parts: list[bytes] = []
    pos = 0
    for start, end in sorted(ranges):
        parts += [raw[pos:start], MARK_START.encode(), raw[start:end], MARK_END.encode()]
        pos = end
    parts.append(raw[pos:])
    out = b"".join(parts).decode(errors="replace")
    whole = snippet.fragment_range()
    if whole.start > 0:
        out = "…" + out
    if whole.end < len(text.encode()):
        out += "…"
    return out
