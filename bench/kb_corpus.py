"""Generate realistic IT-help articles for the knowledge-base benchmark (deterministic).

Words follow a Zipf-like law (weight 1/rank), as in real text: function words and the
everyday IT vocabulary ("password", "windows", "error") are in most articles, product
names and error codes in a few. Each article has a topic of a few words that its title
and several sentences repeat, so term frequencies differ and ranking has work to do.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

FUNCTION = """the to a and of you your is in for on it this that with be if or are as
can not from by at an will when then click select open check make sure use do have more
than one all any new may after before into out up so""".split()

IT_WORDS = """password account windows error settings computer user network email
laptop printer file server access install update connection outlook device
screen application folder drive restart login office button menu system
printers wifi vpn browser team mailbox software profile version support ticket
problem issue message window reset disk memory service certificate backup
phone keyboard mouse monitor docking station cable port driver adapter battery
power display sound microphone camera meeting calendar share permission group
policy admin administrator domain directory sync cloud storage upload download
link page site portal web chrome firefox edge cache cookies history bookmark
security antivirus firewall encryption token authenticator code factor sign
manager license activation product key subscription renew expire expired expiry
slow freeze crash hang reboot shutdown startup boot bios uefi recovery restore
delete remove rename move copy paste save print scan fax toner paper tray jam
queue spooler job ink cartridge color black duplex network share mapped path
letter unc sharepoint onedrive teams zoom webex skype chat call headset audio
video bandwidth latency ping dns dhcp gateway router switch proxy address ip
subnet ethernet wireless signal strength channel ssid guest internal external
remote desktop session rdp citrix terminal virtual machine host cluster node
database query report export import excel word powerpoint pdf document template
macro addin plugin extension toolbar ribbon shortcut icon taskbar start search
notification alert reminder schedule task process cpu usage performance fan
temperature hardware component replace repair warranty vendor order request
approval form field value option choose enter type press wait minutes hours
again try first step steps following guide instructions note tip warning
""".split()


def _syllable_words(rng: random.Random, count: int) -> list[str]:
    parts = ["ka", "lo", "mi", "dex", "tor", "vin", "sa", "pro", "net", "zen", "qua",
             "rix", "bel", "mon", "ta", "fy", "gri", "lux", "cor", "den", "ver", "plex"]
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(parts) for _ in range(rng.randint(2, 4))))
    return sorted(words)


@dataclass(frozen=True)
class Article:
    """One generated article: title, summary, Markdown body and its plain text."""

    title: str
    summary: str
    body: str
    text: str  # what the search index holds for the body (Markdown stripped)
    category: int
    tags: tuple[str, ...]


class Corpus:
    """A vocabulary with Zipf weights and a generator of articles from it."""

    def __init__(self, seed: int = 6) -> None:
        rng = random.Random(seed)
        self.rng = rng
        rare = _syllable_words(rng, 12000)  # product names, hosts, jargon
        codes = [f"0x{rng.getrandbits(32):08x}" for _ in range(3000)]  # error codes
        it = list(dict.fromkeys(IT_WORDS))
        self.topic_words = it + rare[:3000]
        self.vocab = FUNCTION + it + rare + codes
        self.weights = list(itertools.accumulate(
            1.0 / (r + 1) ** 1.07 for r in range(len(self.vocab))))
        self.topic_weights = list(itertools.accumulate(
            1.0 / (r + 1) ** 0.7 for r in range(len(self.topic_words))))

    def words(self, n: int) -> list[str]:
        """Return ``n`` words drawn by their Zipf weights."""
        return self.rng.choices(self.vocab, cum_weights=self.weights, k=n)

    def sentence(self, topic: list[str]) -> str:
        """Return one sentence, sometimes about the topic."""
        words = self.words(self.rng.randint(7, 18))
        if self.rng.random() < 0.5:
            words[self.rng.randrange(len(words))] = self.rng.choice(topic)
        return " ".join(words).capitalize() + "."

    def article(self, target_bytes: int | None = None, serial: int | None = None) -> Article:
        """Return one article of roughly ``target_bytes`` (a few KB by default).

        With ``serial``, the article names the asset tag :func:`asset_tag` gives for it,
        a word no other article has (the rare words real tickets are full of).
        """
        rng = self.rng
        topic = rng.choices(self.topic_words, cum_weights=self.topic_weights,
                            k=rng.randint(2, 4))
        title_words = topic + self.words(rng.randint(1, 4))
        rng.shuffle(title_words)
        title = " ".join(title_words).capitalize()
        summary = self.sentence(topic)
        size = target_bytes or int(rng.lognormvariate(7.9, 0.45))  # median ~2.7 KB
        md: list[str] = []
        text: list[str] = []
        length = 0
        step = 0
        while length < size:
            kind = rng.random()
            if kind < 0.12:
                line = " ".join(self.words(rng.randint(2, 5))).capitalize()
                md.append(f"## {line}")
                text.append(line)
            elif kind < 0.45:
                step += 1
                line = self.sentence(topic)
                md.append(f"{step}. {line}")
                text.append(line)
            else:
                para = " ".join(self.sentence(topic) for _ in range(rng.randint(2, 5)))
                code = rng.choice(topic)
                md.append(para + f" Run `{code}` if asked.")
                text.append(para + f" Run {code} if asked.")
            length += len(md[-1]) + 2
        if serial is not None:
            line = f"Affected device: laptop {asset_tag(serial)}."
            md.append(line)
            text.append(line)
        tags = tuple(sorted({t.lower() for t in rng.sample(topic, k=min(2, len(topic)))}))
        return Article(title=title, summary=summary, body="\n\n".join(md),
                       text=" ".join(text), category=rng.randint(1, 40), tags=tags)

    def articles(self, count: int) -> Iterator[Article]:
        """Yield ``count`` articles."""
        for serial in range(1, count + 1):
            yield self.article(serial=serial)


def asset_tag(serial: int) -> str:
    """Return the asset tag article number ``serial`` mentions (unique per article)."""
    return f"lt{(serial * 7919) % 1_000_003:07d}"


if __name__ == "__main__":  # `make bench` runs every script here: show what kb.py indexes
    sample = Corpus().article(serial=1)
    print(f"# {sample.title}\n\n{sample.summary}\n\n{sample.body[:1500]}\n…")
