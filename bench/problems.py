"""Measure recurring-problem detection on a generated history; print precision and recall.

Usage: ``python bench/problems.py [--weeks 9] [--per-day 40] [--seed 7]``

Generates (bench/problems_data.py) weeks of unrelated incidents with planted problems —
three clusters of reworded reports, a health check failing on seven devices, a category
spike and a software version over-represented on recent incidents' devices — runs
``server.problems.detect.detect`` and prints, per planted problem, whether a suggestion
found it, the precision and recall over incidents, then the same history without the
planted problems (which must raise nothing). A benchmark: it prints, it never fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.problems_data import generate
from server.problems.detect import detect


def main() -> None:
    """Run the detectors with and without planted problems and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=9)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    history = generate(seed=args.seed, weeks=args.weeks, per_day=args.per_day, now=now)
    started = time.perf_counter()
    found = detect(history.incidents, now=now, software=history.software,
                   fleet=history.fleet)
    took = time.perf_counter() - started
    print(f"{len(history.incidents)} incidents, {len(found)} suggestions in {took:.2f} s")
    planted_ids = set().union(*history.truth.values())
    suggested_ids = {t for f in found for t in f.ticket_ids}
    hits = 0
    for name, truth in history.truth.items():
        best = max(found, key=lambda f: len(truth & set(f.ticket_ids)), default=None)
        overlap = len(truth & set(best.ticket_ids)) if best else 0
        hits += overlap * 2 > len(truth)
        print(f"  {name:18} planted {len(truth):3}  best suggestion covers {overlap:3}"
              f"  ({best.source + ': ' + best.title if best else 'none'})")
    true_pos = len(suggested_ids & planted_ids)
    precision = true_pos / len(suggested_ids) if suggested_ids else 0.0
    recall = true_pos / len(planted_ids) if planted_ids else 0.0
    spurious = [f for f in found if not set(f.ticket_ids) & planted_ids]
    print(f"planted problems found: {hits}/{len(history.truth)}; incidents: precision "
          f"{precision:.3f}, recall {recall:.3f}; suggestions with no planted incident: "
          f"{len(spurious)}")
    quiet = generate(seed=args.seed, weeks=args.weeks, per_day=args.per_day, planted=False,
                     now=now)
    none = detect(quiet.incidents, now=now, software=quiet.software, fleet=quiet.fleet)
    print(f"history without planted problems: {len(none)} suggestions"
          + "".join(f"\n  {f.source}: {f.title}" for f in none))


if __name__ == "__main__":
    main()
