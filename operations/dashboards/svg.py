"""Charts drawn on the server as inline SVG: a line chart and a bar chart (grouped or stacked).

Pure functions from series to markup, no JavaScript and no external library, so the admin's
Content-Security-Policy (no inline script or style) holds: colours are presentation attributes
(`fill`, `stroke`), never `style=""`. Every piece of text is escaped here. Each chart carries a
<title> and <desc> for screen readers, axis labels, and a <title> on every bar and point that a
pointer shows on hover; the page puts the same figures in a table beside it. The drawing scales
with the page (a viewBox and `width="100%"`), so one drawing serves a phone and a desktop: the
sizes below are in viewBox units, chosen so that text stays legible at a phone's width.

Coordinates are floats: they place ink, they are never money (the tables show the exact
figures)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil, floor, log10

WIDTH = 480
PLOT_HEIGHT = 220
MARGIN_LEFT = 66
MARGIN_RIGHT = 14
MARGIN_TOP = 14
FONT_SIZE = 14
# SVG cannot measure text on the server, so labels are laid out on an estimate of their width.
CHAR_WIDTH = 0.62 * FONT_SIZE
LINE_HEIGHT = 20
# Okabe and Ito's colours, told apart with the common colour-vision deficiencies; lines beyond
# the palette's length are dashed as well, so no two series look alike.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D31",
           "#7F7F7F")
DASHES = ("", "6 3", "2 3")


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None where there is no figure)."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None


@dataclass(frozen=True)
class Reference:
    """A horizontal line across the plot at `value`, e.g. a threshold."""

    value: float
    label: str


def percent(value: float) -> str:
    """0.125 -> '12.5%' (whole numbers lose their decimal)."""
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def compact(value: float) -> str:
    """1_250_000 -> '1.25M', 32_000 -> '32k', 7 -> '7'."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def plain(value: float) -> str:
    return f"{value:.3g}"


def line_chart(*, key: str, title: str, description: str, categories: Sequence[str],
               series: Sequence[Series], x_label: str, y_label: str,
               y_format: Callable[[float], str] = plain,
               references: Sequence[Reference] = ()) -> str:
    """A line per series across the categories, a point (with its figure on hover) at each
    value; a None leaves a gap in its line."""
    high = max([v for s in series for v in s.values if v is not None]
               + [r.value for r in references], default=0)
    frame = _Frame(categories, series, high, x_label, y_label, y_format)
    body = []
    for index, reference in enumerate(references):
        y = frame.y(reference.value)
        # Labels alternate between the right and the left end, so that two close lines'
        # labels do not overprint each other.
        x, anchor = (frame.right - 2, "end") if index % 2 == 0 else (frame.left + 2, "start")
        body.append(f'<line class="reference" x1="{frame.left}" x2="{frame.right}" '
                    f'y1="{y:.1f}" y2="{y:.1f}" stroke="#D55E00" stroke-dasharray="4 4"/>'
                    f'<text x="{x}" y="{y - 4:.1f}" text-anchor="{anchor}" '
                    f'fill="currentColor">{escape(reference.label)}</text>')
    for index, one in enumerate(series):
        colour, dash = _colour(one, index), DASHES[index // len(PALETTE) % len(DASHES)]
        path, points = [], []
        pen_down = False
        for position, value in enumerate(one.values):
            if value is None:
                pen_down = False
                continue
            x, y = frame.x_centre(position), frame.y(value)
            path.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
            pen_down = True
            points.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(one.name)}, {escape(categories[position])}: "
                f"{escape(y_format(value))}</title></circle>")
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<g class="series" data-series="{escape(one.name)}">'
                    f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash_attribute}/>{"".join(points)}</g>')
    return frame.svg(key, title, description, body, series, lines=True)


def bar_chart(*, key: str, title: str, description: str, categories: Sequence[str],
              series: Sequence[Series], x_label: str, y_label: str,
              y_format: Callable[[float], str] = plain, stacked: bool = False) -> str:
    """A bar per series in each category, side by side, or stacked into one bar per category
    (in the series' order from the bottom up). Values must not be negative."""
    if stacked:
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
        high = max(totals, default=0)
    else:
        high = max([v for s in series for v in s.values if v is not None], default=0)
    frame = _Frame(categories, series, high, x_label, y_label, y_format)
    band = frame.band
    width = band * 0.6 if stacked or len(series) == 1 else band * 0.8 / max(len(series), 1)
    body = []
    for position, category in enumerate(categories):
        base = 0.0
        for index, one in enumerate(series):
            value = one.values[position]
            if value is None:
                continue
            if stacked:
                x = frame.x_centre(position) - width / 2
                bottom, top = base, base + value
                base = top
            else:  # side by side, the group centred on its category
                x = frame.x_centre(position) - width * len(series) / 2 + index * width
                bottom, top = 0, value
            y_top, y_bottom = frame.y(top), frame.y(bottom)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{_colour(one, index)}">'
                f"<title>{escape(one.name)}, {escape(category)}: {escape(y_format(value))}"
                f"</title></rect>")
    return frame.svg(key, title, description, body, series, lines=False)


def _colour(one: Series, index: int) -> str:
    return one.colour or PALETTE[index % len(PALETTE)]


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `high`, about `count` steps of 1, 2, 2.5 or 5
    times a power of ten."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** floor(log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = ceil(high / step - 1e-9)
    return [i * step for i in range(steps + 1)]


class _Frame:
    """The plot's geometry, axes, grid and legend, shared by both kinds of chart."""

    def __init__(self, categories, series, high, x_label, y_label, y_format):
        self.categories, self.series = list(categories), list(series)
        self.x_label, self.y_label, self.y_format = x_label, y_label, y_format
        self.ticks = nice_ticks(high)
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, MARGIN_TOP + PLOT_HEIGHT
        self.band = (self.right - self.left) / max(len(self.categories), 1)

    def x_centre(self, position: int) -> float:
        return self.left + self.band * (position + 0.5)

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ticks[-1]

    def svg(self, key, title, description, body, series, *, lines: bool) -> str:
        legend_top = self.bottom + 3.2 * LINE_HEIGHT
        legend, legend_height = self._legend(series, lines, legend_top)
        height = legend_top - LINE_HEIGHT + legend_height + 8
        key = escape(key)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
            f'{height:.0f}" width="100%" role="img" aria-labelledby="{key}-title {key}-desc" '
            f'font-size="{FONT_SIZE}">'
            f'<title id="{key}-title">{escape(title)}</title>'
            f'<desc id="{key}-desc">{escape(description)}</desc>'
            f"{self._axes()}{''.join(body)}{legend}</svg>")

    def _axes(self) -> str:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="currentColor" stroke-opacity="0.15"/>'
                         f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                         f'fill="currentColor">{escape(self.y_format(tick))}</text>')
        # Every k-th category is labelled, so that the labels never overlap.
        widest = max((len(c) for c in self.categories), default=1) * CHAR_WIDTH + 6
        every = max(1, ceil(widest / self.band)) if self.categories else 1
        for position, category in enumerate(self.categories):
            if position % every == 0:
                parts.append(f'<text x="{self.x_centre(position):.1f}" '
                             f'y="{self.bottom + LINE_HEIGHT - 4}" text-anchor="middle" '
                             f'fill="currentColor">{escape(category)}</text>')
        parts.append(f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" '
                     f'y2="{self.bottom}" stroke="currentColor" stroke-opacity="0.6"/>')
        parts.append(f'<text class="axis-label" x="{(self.left + self.right) / 2:.1f}" '
                     f'y="{self.bottom + 2 * LINE_HEIGHT - 2}" text-anchor="middle" '
                     f'fill="currentColor">{escape(self.x_label)}</text>')
        middle = (self.top + self.bottom) / 2
        parts.append(f'<text class="axis-label" x="14" y="{middle:.1f}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {middle:.1f})" fill="currentColor">'
                     f"{escape(self.y_label)}</text>")
        return "".join(parts)

    def _legend(self, series, lines: bool, top: float) -> tuple[str, float]:
        """The series' names with their colour, wrapped into as many rows as they need."""
        if not series:
            return "", 0.0
        parts, x, row = [], float(self.left), 0
        for index, one in enumerate(series):
            width = 22 + len(one.name) * CHAR_WIDTH + 14
            if x + width > WIDTH and x > self.left:
                x, row = float(self.left), row + 1
            y = top + row * LINE_HEIGHT
            colour = _colour(one, index)
            if lines:
                dash = DASHES[index // len(PALETTE) % len(DASHES)]
                dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
                swatch = (f'<line x1="{x:.1f}" x2="{x + 16:.1f}" y1="{y - 4:.1f}" '
                          f'y2="{y - 4:.1f}" stroke="{colour}" stroke-width="3"'
                          f"{dash_attribute}/>")
            else:
                swatch = (f'<rect class="swatch" x="{x:.1f}" y="{y - 11:.1f}" width="12" '
                          f'height="12" fill="{colour}"/>')
            parts.append(f'{swatch}<text x="{x + 20:.1f}" y="{y:.1f}" fill="currentColor">'
                         f"{escape(one.name)}</text>")
            x += width
        return f'<g class="legend">{"".join(parts)}</g>', (row + 1) * LINE_HEIGHT
