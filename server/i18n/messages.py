"""Messages as templates with named parameters, translated where they are shown.

Code that raises an error or writes a text names the English template and its values
(``N_("no user with id {user_id}", user_id=7)``); the edge that shows it to a person
looks the template up in that person's catalogue and fills it in. The template is the
catalogue's msgid, so a translator sees the English text with its placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Gettext = Callable[[str], str]


class Message(NamedTuple):
    """An English template with ``{name}`` placeholders and the values to fill in."""

    template: str
    params: Mapping[str, Any]

    def __str__(self) -> str:
        """Return the message in English (logs, the command line)."""
        return render(self.template, self.params)


def N_(template: str, /, **params: Any) -> Message:
    """Mark ``template`` for the catalogues and keep its values for later translation."""
    return Message(template, params)


def _identity(text: str) -> str:
    return text


def render(template: str, params: Mapping[str, Any], gettext: Gettext = _identity) -> str:
    """Translate ``template`` with ``gettext`` and fill in ``params``.

    A parameter that is itself a :class:`Message` is translated the same way. A
    translation whose placeholders do not fit falls back to the English template.
    """
    values = {name: render(value.template, value.params, gettext)
              if isinstance(value, Message) else value for name, value in params.items()}
    for text in (gettext(template), template):
        try:
            return text.format_map(values)
        except (KeyError, IndexError, ValueError, AttributeError):
            continue
    return template
