"""Server-side SVG charts: the skills profile as horizontal bars, readable without JavaScript.

Each chart is a self-contained ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that
states every value in words, so screen readers get the whole chart; every bar also carries
its own ``<title>`` (a tooltip on hover). Numbers are formatted by ``app.i18n.format_number``
(decimal comma in Kazakh and Russian), so a chart is built inside a request or app context.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 340  # viewBox width; the SVG scales to its container, about 1:1 on a phone
TRACK = 226  # length of a full (100 %) bar; the marks are written to its right
LABEL_SIZE = 14
VALUE_SIZE = 13
LINE = 18
BAR = 14
GAP = 12
LABEL_CHARS = 40  # characters per label line before wrapping
LABEL_LINES = 2

INK = "#1b2430"
MUTED = "#5b6675"
FILL = "#0b5cad"
TRACK_FILL = "#e3e8ef"


@dataclass(frozen=True)
class Bar:
    """One bar: a label, the exact mark and the maximum it is measured against."""

    label: str
    value: Fraction
    maximum: Fraction

    @property
    def share(self) -> Fraction:
        """The bar's length as a share 0–1 of the track (0 when the maximum is 0)."""
        if self.maximum <= 0:
            return Fraction(0)
        return min(max(self.value / self.maximum, Fraction(0)), Fraction(1))


def _wrap(label: str) -> list[str]:
    lines = textwrap.wrap(label, LABEL_CHARS, break_long_words=True) or [""]
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_CHARS - 1].rstrip() + "…"
    return lines


def _number(value: Fraction) -> str:
    from app.i18n import format_number

    return format_number(value)


def bar_text(bar: Bar, fmt: Callable[[Fraction], str] = _number) -> str:
    """Say one bar in words, e.g. "A. Layout: 12,50 of 30,00 (41,67 %)"."""
    return _(
        "%(label)s: %(value)s of %(maximum)s (%(percent)s %%)",
        label=bar.label,
        value=fmt(bar.value),
        maximum=fmt(bar.maximum),
        percent=fmt(bar.share * 100),
    )


def profile_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    chart_id: str,
    fmt: Callable[[Fraction], str] = _number,
) -> Markup:
    """Draw a horizontal bar chart of marks against their maxima as inline SVG.

    Rule: a bar's length is value ÷ maximum of the full track (so criteria of different
    weights compare as shares); the text beside it gives the marks themselves.
    """
    ident = escape(chart_id)
    parts: list[str] = []
    y = 0
    for bar in bars:
        lines = _wrap(bar.label)
        group = [f"<g><title>{escape(bar_text(bar, fmt))}</title>"]
        for line in lines:
            y += LINE
            group.append(
                f'<text x="0" y="{y - 4}" font-size="{LABEL_SIZE}" fill="{INK}">'
                f"{escape(line)}</text>"
            )
        top = y + 2
        length = float(bar.share * TRACK)
        group.append(
            f'<rect x="0" y="{top}" width="{TRACK}" height="{BAR}" rx="3" fill="{TRACK_FILL}"/>'
        )
        if length > 0:
            group.append(
                f'<rect x="0" y="{top}" width="{length:.2f}" height="{BAR}" rx="3" fill="{FILL}"/>'
            )
        value = f"{fmt(bar.value)} / {fmt(bar.maximum)}"
        group.append(
            f'<text x="{TRACK + 8}" y="{top + BAR - 2}" font-size="{VALUE_SIZE}" '
            f'fill="{MUTED}">{escape(value)}</text>'
        )
        group.append("</g>")
        parts.append("".join(group))
        y = top + BAR + GAP
    height = max(y, LINE)
    description = "; ".join(bar_text(bar, fmt) for bar in bars) or _("No marks.")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'style="max-width:{WIDTH * 1.3:.0f}px" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text above is escaped
