"""A generated incident history with planted recurring problems (for bench/problems.py and
the detector's tests): background noise from many unrelated topics, plus clusters of
reworded reports of one problem, health checks failing across devices, a category spike
and a software version over-represented on the devices of recent incidents."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from server.problems.detect import Incident

NOUNS = ("printer", "laptop", "monitor", "keyboard", "mouse", "badge", "phone", "headset",
         "docking", "scanner", "projector", "webcam", "charger", "tablet", "router",
         "license", "mailbox", "calendar", "folder", "password", "account", "invoice",
         "report", "spreadsheet", "browser", "update", "backup", "desk", "chair", "locker")
VERBS = ("broken", "missing", "slow", "flickers", "noisy", "locked", "expired", "lost",
         "overheats", "rejects", "crashes", "stuck", "blank", "disconnects", "beeps")
EXTRA = ("since", "morning", "after", "lunch", "meeting", "room", "floor", "building",
         "urgent", "again", "colleague", "office", "remote", "home", "weekend", "today")

PLANTED = (
    ("vpn", "VPN client disconnects every hour with error 809 on the corporate gateway",
     ("vpn", "disconnects", "hour", "error", "gateway", "corporate", "client", "tunnel")),
    ("outlook", "Outlook freezes when opening the shared team calendar",
     ("outlook", "freezes", "shared", "calendar", "team", "opening", "hangs", "mailbox")),
    ("sso", "Single sign-on loops back to the login page in the browser",
     ("single", "sign", "loops", "login", "page", "browser", "redirect", "portal")),
)


@dataclass
class History:
    """Incidents, device software and the truth about which incidents were planted."""

    incidents: list[Incident] = field(default_factory=list)
    software: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    fleet: int = 0
    truth: dict[str, set[int]] = field(default_factory=dict)  # planted cluster -> ids


def generate(*, seed: int = 7, weeks: int = 9, per_day: int = 40, devices: int = 300,
             planted: bool = True, now: dt.datetime) -> History:
    """Return a history of ``weeks`` weeks of incidents, with or without planted problems."""
    rnd = random.Random(seed)
    h = History(fleet=devices)
    for d in range(1, devices + 1):
        items = [("office", rnd.choice(["16.0.1", "16.0.2"])), ("browser", "120")]
        h.software[d] = items
    next_id = 1

    def add(title: str, text: str, at: dt.datetime, **kw: object) -> int:
        nonlocal next_id
        h.incidents.append(Incident(id=next_id, created_at=at, title=title, text=text,
                                    **kw))  # type: ignore[arg-type]
        next_id += 1
        return next_id - 1

    start = now - dt.timedelta(weeks=weeks)
    for day in range(weeks * 7):
        for _ in range(per_day):
            at = start + dt.timedelta(days=day, minutes=rnd.randrange(24 * 60))
            noun, verb = rnd.choice(NOUNS), rnd.choice(VERBS)
            extra = rnd.sample(EXTRA, 3)
            add(f"{noun} {verb}", f"My {noun} is {verb} {' '.join(extra)}.", at,
                category_id=rnd.randrange(1, 11),
                device_ids=(rnd.randrange(1, devices + 1),))
    if not planted:
        return h
    recent = now - dt.timedelta(days=5)
    for name, base, vocab in PLANTED:
        ids = set()
        for _n in range(rnd.randrange(6, 10)):
            words = list(vocab)
            rnd.shuffle(words)
            title = base if rnd.random() < 0.5 else " ".join(words[:6])
            ids.add(add(title, f"{base}. {' '.join(rnd.sample(EXTRA, 2))}",
                        recent + dt.timedelta(hours=rnd.randrange(96)),
                        device_ids=(rnd.randrange(1, devices + 1),)))
        h.truth[f"text:{name}"] = ids
    ids = set()
    for d in rnd.sample(range(1, devices + 1), 7):
        ids.add(add(f"Disk C: critical on PC-{d}", "Free space below 5%.",
                    recent + dt.timedelta(hours=rnd.randrange(96)), check_id=3,
                    check_name="Disk C:", device_ids=(d,)))
    h.truth["health:disk"] = ids
    ids = set()
    for _n in range(20):
        ids.add(add(f"{rnd.choice(NOUNS)} {rnd.choice(VERBS)}", "Badge reader at the door.",
                    recent + dt.timedelta(hours=rnd.randrange(96)), category_id=42,
                    device_ids=(rnd.randrange(1, devices + 1),)))
    h.truth["category:42"] = ids
    ids = set()
    bad = rnd.sample(range(1, devices + 1), 12)
    for d in bad:  # a crashing application: each of its devices reports twice
        h.software[d].append(("acrobat", "23.1.0-beta"))
        for _n in range(2):
            noun, verb = rnd.choice(NOUNS), rnd.choice(VERBS)
            ids.add(add(f"{noun} {verb}", f"My {noun} is {verb} {' '.join(rnd.sample(EXTRA, 3))}.",
                        recent + dt.timedelta(hours=rnd.randrange(96)), device_ids=(d,)))
    for d in rnd.sample([x for x in range(1, devices + 1) if x not in bad], 3):
        h.software[d].append(("acrobat", "23.1.0-beta"))
    h.truth["software:acrobat"] = ids
    return h
