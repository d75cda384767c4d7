"""Mail templates an admin edits per language (pure): placeholders, defaults, checks, filling.

A template is a subject and a plain-text body with ``${name}`` placeholders
(:class:`string.Template`: no expressions, no attribute access, nothing an admin can run).
Where an admin saved none for a kind of mail and a language, the server's catalogues write
the mail (:func:`server.mail.compose.render`); :func:`default` shows that text as a
template to start from. What threads the mail is not the template's to change: the
server puts ``[#number]`` into the subject when a template leaves it out, and the
Message-ID (with the signed reply token), In-Reply-To, References and Auto-Submitted
headers are set by :func:`server.mail.compose.message` whatever the template says.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

from server.i18n.catalogues import translator
from server.i18n.messages import N_, Message

KINDS: tuple[str, ...] = ("received", "reply", "resolved", "assigned", "requester_reply",
                          "sla")
SUBJECT_MAX = 300
BODY_MAX = 20_000

# Every ticket mail knows these; the kinds that quote a text also know ${text}.
COMMON: tuple[str, ...] = ("name", "number", "title", "link", "actor", "when", "product")
WITH_TEXT = frozenset({"received", "reply", "resolved", "requester_reply", "sla"})


def placeholders(kind: str) -> tuple[str, ...]:
    """Return the placeholders a template of ``kind`` may use."""
    return (*COMMON, "text") if kind in WITH_TEXT else COMMON


@dataclass(frozen=True)
class Template:
    """A subject and a body with ``${name}`` placeholders."""

    subject: str
    body: str


@dataclass(frozen=True)
class Problem:
    """What is wrong with a template, and in which field."""

    field: str  # subject | body
    message: Message  # English template and values (server catalogues)


# Sentinels for the default texts: the catalogue text is written with these in place of
# the values, then its own "$" are doubled and the sentinels become ${name}.
_MARK = "\x00{}\x00"
_MARKED = re.compile("\x00([a-z_]+)\x00")


def default(kind: str, language: str) -> Template:
    """Return the catalogue's text of ``kind`` in ``language`` as a template."""
    from server.mail import compose  # compose renders with templates; import late

    tr = translator(language)
    marks = {name: _MARK.format(name) for name in placeholders(kind)}
    ticket = compose.Ticket(id=0, number=marks["number"], title=marks["title"])
    text = marks.get("text")
    lines = compose.lines(tr, kind, ticket, actor=marks["actor"], text=text,  # type: ignore[arg-type]
                          when=marks["when"], quote=False)
    body = "\n\n".join(compose.frame(tr, name=marks["name"], lines=lines, url=marks["link"],
                                     product=marks["product"])) + "\n"
    return Template(subject=_as_template(f"[#{marks['number']}] {marks['title']}"),
                    body=_as_template(body))


def _as_template(text: str) -> str:
    return _MARKED.sub(r"${\1}", text.replace("$", "$$"))


def check(kind: str, template: Template) -> list[Problem]:
    """Return what is wrong with a template of ``kind`` (empty: it can be saved)."""
    problems: list[Problem] = []
    allowed = set(placeholders(kind))
    for name, text, limit in (("subject", template.subject, SUBJECT_MAX),
                              ("body", template.body, BODY_MAX)):
        if not text.strip():
            problems.append(Problem(name, N_("{field}: must not be empty", field=name)))
            continue
        if len(text) > limit:
            problems.append(Problem(name, N_("{field}: at most {limit} characters",
                                             field=name, limit=limit)))
            continue
        if name == "subject" and ("\n" in text or "\r" in text):
            problems.append(Problem(name, N_("{field}: must be one line", field=name)))
            continue
        parsed = string.Template(text)
        if not parsed.is_valid():
            bad = _bad_dollar(text)
            problems.append(Problem(name, N_(
                "{field}: {found!r} is not a placeholder; write ${{name}} for a value or $$ "
                "for a dollar sign", field=name, found=bad)))
            continue
        unknown = sorted(set(parsed.get_identifiers()) - allowed)
        if unknown:
            problems.append(Problem(name, N_(
                "{field}: unknown placeholder ${{{placeholder}}}; use one of {allowed}",
                field=name, placeholder=unknown[0], allowed=", ".join(placeholders(kind)))))
    return problems


def _bad_dollar(text: str) -> str:
    """Return the first ``$...`` that string.Template cannot read."""
    pattern = string.Template.pattern
    for match in pattern.finditer(text):
        if match.group("invalid") is not None:
            return text[match.start():].split(maxsplit=1)[0][:20]
    return "$"


def fill(template: Template, values: dict[str, str], *, number: str) -> Template:
    """Fill a template in; the subject is one line and always names the ticket.

    The ``[#number]`` tag is how a reply whose headers were lost still finds its
    ticket (server/mail/inbound/threads.py), so it is added when the template has none.
    """
    subject = " ".join(string.Template(template.subject).safe_substitute(values).split())
    tag = f"[#{number}]"
    if tag not in subject:
        subject = f"{tag} {subject}"
    body = string.Template(template.body).safe_substitute(values)
    return Template(subject=subject[:SUBJECT_MAX], body=body.rstrip("\n") + "\n")


def sample(kind: str, language: str, *, base_url: str = "https://desk.example.org",
           product: str = "Deskmate") -> dict[str, str]:
    """Return made-up values for a preview of ``kind`` in ``language``."""
    tr = translator(language)
    area = "portal" if kind in ("received", "reply", "resolved") else "desk"
    values = {"name": "Rina Wijaya", "number": "INC-000123",
              "title": tr.gettext("The printer on floor 2 does not print"),
              "link": f"{base_url.rstrip('/')}/#/{area}/tickets/123",
              "actor": "Budi Santoso", "when": "", "product": product}
    values["when"] = tr.datetime(dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC), "UTC")
    if kind in WITH_TEXT:
        said = tr.gettext("I restarted it, it still shows a paper jam.")
        values["text"] = said if kind == "sla" else f"  {said}"
    return values
