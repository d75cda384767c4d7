"""Find recurring problems in a history of incidents (pure: plain values in, findings out).

Three detectors, each with its own evidence:

- **health**: the same health check failing on many devices within the window;
- **text**: incidents whose words say the same thing, grouped by MinHash over word
  shingles (locality-sensitive hashing finds the candidate pairs, the exact Jaccard
  similarity of the shingle sets confirms them, and linked pairs form clusters);
- **spike**: one category with far more incidents in the last week than its weekly
  baseline, or one installed software version far more common on the devices of recent
  incidents than on the fleet as a whole.

Incidents already linked to a problem are not evidence again. Each finding has a stable
``key`` so that the same cluster found tomorrow updates one suggestion (and a dismissed
one stays dismissed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset("""
the and for with not but are was were has have had this that from when what which who
its it's our your you they them their there here been being into onto over under again
after before then than also just only very can cannot could would should will shall may
might must does did doing done get gets got any all some each every other more most such
yes nah please thanks thank hello help today yesterday now still keeps keep since
yang dan di ke dari untuk dengan ini itu tidak ada saya kami tolong
""".split())


@dataclass(frozen=True)
class Incident:
    """What the detectors read of one incident."""

    id: int
    created_at: dt.datetime
    title: str
    text: str = ""
    category_id: int | None = None
    check_id: int | None = None  # the failing health check, for monitoring incidents
    check_name: str | None = None
    device_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Params:
    """Thresholds (the defaults suit a desk of tens to thousands of tickets a week)."""

    window_days: int = 14  # how far back the health, text and software detectors look
    min_devices: int = 4  # health: distinct devices failing the same check
    min_cluster: int = 4  # text: incidents in one cluster
    similarity: float = 0.4  # text: Jaccard similarity of two incidents' shingles
    min_words: int = 3  # text: informative words an incident needs to be compared
    common_share: float = 0.1  # text: words in more than this share of incidents ...
    common_min: int = 10  # ... (and more than this many) are too common to count
    permutations: int = 64  # MinHash size
    bands: int = 16  # LSH bands (permutations / bands rows each)
    spike_min: int = 6  # category: incidents in the last week at least
    spike_factor: float = 3.0  # ... and this many times the weekly baseline (+1)
    baseline_weeks: int = 8
    software_min: int = 6  # software: incidents beyond the fleet's rate on a version's devices
    software_factor: float = 2.0  # ... and its devices' rate over the rest of the fleet's


@dataclass(frozen=True)
class Finding:
    """One suggested problem: why, and which incidents."""

    source: str  # health, text, category or software
    key: str
    title: str
    ticket_ids: tuple[int, ...]
    detail: dict[str, object] = field(default_factory=dict)


def words(text: str) -> list[str]:
    """Return the meaningful words of a text, lower-case, in order."""
    return [w for w in (m.group(0).casefold() for m in WORD.finditer(text))
            if w not in STOPWORDS]


def shingles(text: str) -> set[str]:
    """Return the shingles of a text: its distinct words (people reword the same report,
    so word order says little; pairs of words made reworded reports look unrelated)."""
    return set(words(text))


_PRIME = (1 << 61) - 1


def _signatures(sets: list[set[str]], permutations: int) -> np.ndarray:
    """Return the MinHash signature (one row per set) of each shingle set."""
    rng = np.random.default_rng(1729)  # fixed: signatures are comparable across runs
    a = rng.integers(1, _PRIME, size=permutations, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=permutations, dtype=np.uint64)
    out = np.full((len(sets), permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, s in enumerate(sets):
        if not s:
            continue
        x = np.array([zlib.crc32(t.encode()) for t in s], dtype=np.uint64)[:, None]
        # (a*x + b) mod p in uint64: x < 2^32 and a < 2^61 may overflow, which only
        # permutes differently; MinHash needs a fixed family of hashes, not exactness.
        out[i] = ((a * x + b) % np.uint64(_PRIME)).min(axis=0)
    return out


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def text_clusters(incidents: list[Incident], params: Params) -> list[list[Incident]]:
    """Return the groups of incidents with similar text (each at least ``min_cluster``)."""
    sets = [shingles(f"{i.title} {i.text}") for i in incidents]
    if len(incidents) < params.min_cluster:
        return []
    # Words in many of the window's incidents ("slow", "office", "morning") say nothing
    # about which problem one is; with them, every report chains to every other.
    df: Counter[str] = Counter(w for s in sets for w in s)
    common = {w for w, n in df.items() if n > max(params.common_min, params.common_share
                                                  * len(incidents))}
    sets = [s - common if len(s - common) >= params.min_words else set() for s in sets]
    sig = _signatures(sets, params.permutations)
    rows = params.permutations // params.bands
    parent = list(range(len(incidents)))
    checked: set[tuple[int, int]] = set()
    for band in range(params.bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        part = sig[:, band * rows:(band + 1) * rows]
        for i in range(len(incidents)):
            if sets[i]:
                buckets[part[i].tobytes()].append(i)
        for members in buckets.values():
            if len(members) < 2:
                continue
            for j in members[1:]:
                pair = (members[0], j)
                if pair in checked:
                    continue
                checked.add(pair)
                x, y = sets[pair[0]], sets[pair[1]]
                if len(x & y) / len(x | y) >= params.similarity:
                    ra, rb = _find(parent, pair[0]), _find(parent, pair[1])
                    if ra != rb:
                        parent[rb] = ra
            # members[0] anchors a bucket; compare the rest pairwise too when the bucket
            # is small, so a chain through a dissimilar anchor still links.
            if len(members) <= 12:
                for p in range(1, len(members)):
                    for q in range(p + 1, len(members)):
                        pair = (members[p], members[q])
                        if pair in checked:
                            continue
                        checked.add(pair)
                        x, y = sets[pair[0]], sets[pair[1]]
                        if len(x & y) / len(x | y) >= params.similarity:
                            ra, rb = _find(parent, pair[0]), _find(parent, pair[1])
                            if ra != rb:
                                parent[rb] = ra
    groups: dict[int, list[Incident]] = defaultdict(list)
    for i, incident in enumerate(incidents):
        groups[_find(parent, i)].append(incident)
    return [g for g in groups.values() if len(g) >= params.min_cluster]


def _common_words(group: list[Incident], limit: int = 4) -> list[str]:
    counts: Counter[str] = Counter()
    for i in group:
        counts.update(set(words(i.title)))
    return [w for w, n in counts.most_common(limit) if n * 2 >= len(group)] or \
        [w for w, _n in counts.most_common(2)]


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def detect(incidents: Iterable[Incident], *, now: dt.datetime,
           software: Mapping[int, Iterable[tuple[str, str]]] | None = None,
           fleet: int = 0, params: Params | None = None) -> list[Finding]:
    """Return the recurring problems the incidents show (none when there are none).

    ``software`` maps device ids to their installed (name, version) pairs and ``fleet``
    is the number of devices; both only matter to the software detector.
    """
    p = params or Params()
    every = sorted(incidents, key=lambda i: i.id)
    recent = [i for i in every if i.created_at >= now - dt.timedelta(days=p.window_days)]
    found: list[Finding] = []
    found += _health(recent, p)
    found += _text(recent, p)
    found += _category(every, now, p)
    if software is not None and fleet:
        week = [i for i in every if i.created_at >= now - dt.timedelta(days=7)]
        found += _software(week, software, fleet, p)
    return found


def _health(recent: list[Incident], p: Params) -> list[Finding]:
    by_check: dict[int, list[Incident]] = defaultdict(list)
    for i in recent:
        if i.check_id is not None:
            by_check[i.check_id].append(i)
    out = []
    for check_id, group in sorted(by_check.items()):
        devices = {d for i in group for d in i.device_ids}
        if len(devices) >= p.min_devices:
            name = group[0].check_name or f"#{check_id}"
            first = min(i.created_at for i in group)
            out.append(Finding(
                source="health", key=_key("health", check_id, first.date().isocalendar()[:2]),
                title=f"Health check {name} failing on {len(devices)} devices"[:200],
                ticket_ids=tuple(i.id for i in group),
                detail={"check_id": check_id, "check": name, "devices": len(devices)}))
    return out


def _text(recent: list[Incident], p: Params) -> list[Finding]:
    candidates = [i for i in recent if i.check_id is None]
    out = []
    for group in text_clusters(candidates, p):
        common = _common_words(group)
        anchor = min(i.id for i in group)
        out.append(Finding(
            source="text", key=_key("text", anchor),
            title=f"{len(group)} similar incidents: {' '.join(common)}"[:200],
            ticket_ids=tuple(sorted(i.id for i in group)), detail={"words": common}))
    return out


def _category(every: list[Incident], now: dt.datetime, p: Params) -> list[Finding]:
    week = dt.timedelta(days=7)
    start = now - week
    base_start = start - p.baseline_weeks * week
    recent: dict[int, list[Incident]] = defaultdict(list)
    base: Counter[int] = Counter()
    for i in every:
        if i.category_id is None:
            continue
        if i.created_at >= start:
            recent[i.category_id].append(i)
        elif i.created_at >= base_start:
            base[i.category_id] += 1
    out = []
    for category_id, group in sorted(recent.items()):
        weekly = base[category_id] / p.baseline_weeks
        if len(group) >= p.spike_min and len(group) >= p.spike_factor * (weekly + 1):
            out.append(Finding(
                source="category", key=_key("category", category_id, now.isocalendar()[:2]),
                title=f"Spike in category #{category_id}: {len(group)} incidents this week"
                      f" (usually {weekly:.1f})"[:200],
                ticket_ids=tuple(i.id for i in group),
                detail={"category_id": category_id, "count": len(group),
                        "baseline": round(weekly, 2)}))
    return out


def _software(recent: list[Incident], software: Mapping[int, Iterable[tuple[str, str]]],
              fleet: int, p: Params) -> list[Finding]:
    """Versions whose devices raised incidents in the last week at ``software_factor``
    times the rate of the rest of the fleet (incidents per device)."""
    per_device: Counter[int] = Counter(d for i in recent for d in set(i.device_ids))
    total = sum(per_device.values())
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for d, items in software.items():
        for item in set(items):
            holders[item].add(d)
    out = []
    for (name, version), with_it in sorted(holders.items()):
        if len(with_it) >= fleet:
            continue
        inside = sum(per_device[d] for d in with_it)
        rate = inside / len(with_it)
        rest = (total - inside) / (fleet - len(with_it))
        excess = inside - rest * len(with_it)
        if excess >= p.software_min and rate >= p.software_factor * max(rest, 1e-9):
            ids = tuple(i.id for i in recent if set(i.device_ids) & with_it)
            out.append(Finding(
                source="software", key=_key("software", name, version),
                title=f"Incidents on devices with {name} {version}"[:200], ticket_ids=ids,
                detail={"software": name, "version": version, "devices": len(with_it),
                        "rate": round(rate, 3), "fleet_rate": round(rest, 3)}))
    return out
