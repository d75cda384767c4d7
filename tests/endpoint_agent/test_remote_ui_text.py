"""Fitting the consent dialog's and indicator's texts into their widths (pure)."""

from __future__ import annotations

from endpoint_agent.remote import ui


def measure(text: str) -> int:
    """A monospaced font: 7 pixels a character."""
    return 7 * len(text)


def test_elide_keeps_the_suffix_and_cuts_the_start() -> None:
    """A text that fits stays whole; a long one loses its end to an ellipsis, never the suffix."""
    assert ui.elide("Tina", 200, measure, suffix=" sees (INC-1)") == "Tina sees (INC-1)"
    cut = ui.elide("Maximiliane Alexandra", 140, measure, suffix=" sees (INC-1)")
    assert cut.endswith("\u2026 sees (INC-1)") and measure(cut) <= 140
    assert cut.startswith("Maxi")
    # Not even one letter fits: the suffix still does.
    assert ui.elide("Tina", 14 * 7, measure, suffix=" sees (INC-1)") == "\u2026 sees (INC-1)"


def test_wrap_fills_lines_by_words_and_marks_what_is_left_out() -> None:
    """Words fill at most the given lines; a word wider than a line is cut; leftovers end in an ellipsis."""  # noqa: E501
    assert ui.wrap("one two three", 70, measure, lines=2) == ["one two", "three"]
    lines = ui.wrap("Reason: " + "word " * 40, 140, measure, lines=2)
    assert len(lines) == 2 and lines[-1].endswith("\u2026")
    assert all(measure(line) <= 140 for line in lines)
    long = ui.wrap("x" * 50, 70, measure, lines=2)
    assert all(measure(line) <= 70 for line in long) and long[-1].endswith("\u2026")


def test_indicator_widens_for_the_text_within_the_screen() -> None:
    """The indicator keeps its least width, grows for a long name and stays on small screens."""
    assert ui.indicator_width("Tina", "INC-1", 1920, measure) == ui.INDICATOR_SIZE[0]
    assert ui.indicator_width("T" * 200, "INC-1", 1920, measure) == ui.INDICATOR_MAX_WIDTH
    assert ui.indicator_width("T" * 200, "INC-1", 640, measure) == 640 - 2 * ui.INDICATOR_MARGIN
    text = ui.indicator_text("T" * 200, "control", "INC-000042", 300, measure)
    assert text.endswith(" controls your screen (INC-000042)") and measure(text) <= 300
